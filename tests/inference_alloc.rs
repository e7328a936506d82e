//! `CompiledModel::infer_into` allocates nothing: a counting global allocator around
//! thousands of calls at batch 1, 32 and 4096 (the last split across rayon's threads, called
//! from a rayon thread).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use burn::nn::{Linear, LinearConfig};
use burn::tensor::Tensor;
use pinn_jit::inference::{CompiledModel, Tracer};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread takes part in the measured calls (the test thread and rayon's
    /// workers); the test harness's own threads are not counted.
    static MEASURED: Cell<bool> = const { Cell::new(false) };
}

fn counted() -> bool {
    COUNTING.load(SeqCst) && MEASURED.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counted() {
            ALLOCS.fetch_add(1, SeqCst);
        }
        // SAFETY: same contract as `System.alloc`, upheld by the caller.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counted() {
            ALLOCS.fetch_add(1, SeqCst);
        }
        // SAFETY: same contract as `System.realloc`, upheld by the caller.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static A: Counting = Counting;

#[test]
fn infer_into_allocates_nothing() {
    MEASURED.with(|m| m.set(true));
    rayon::broadcast(|_| MEASURED.with(|m| m.set(true)));
    let device = Default::default();
    let layers: Vec<Linear<Tracer>> = [2, 64, 64, 64, 1]
        .windows(2)
        .map(|w| LinearConfig::new(w[0], w[1]).init(&device))
        .collect();
    let model = CompiledModel::trace(2, |x: Tensor<Tracer, 2>| {
        let mut h = x;
        for (i, l) in layers.iter().enumerate() {
            h = l.forward(h);
            if i + 1 < layers.len() {
                h = h.tanh();
            }
        }
        h
    })
    .unwrap();
    for rows in [1usize, 32, 4096] {
        let x: Vec<f32> = (0..rows * 2).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut y = vec![0.0f32; rows];
        // Warm-up: rayon's pool and thread-locals are created on first use.
        for _ in 0..3 {
            model.infer_into(&x, &mut y).unwrap();
        }
        let calls = if rows == 4096 { 200 } else { 5000 };
        let mut run = || {
            ALLOCS.store(0, SeqCst);
            COUNTING.store(true, SeqCst);
            for _ in 0..calls {
                model.infer_into(&x, &mut y).unwrap();
            }
            COUNTING.store(false, SeqCst);
        };
        if rows >= 1024 {
            // Split across rayon's threads: called from a pool thread, the work goes to its
            // local queue (called from elsewhere, rayon's injector queue allocates a block
            // about every 60 calls).
            rayon::scope(|_| run());
        } else {
            run();
        }
        let n = ALLOCS.load(SeqCst);
        assert_eq!(n, 0, "{n} allocations in {calls} calls at batch {rows}");
        // And the counter works.
        COUNTING.store(true, SeqCst);
        let v = model.infer(&x).unwrap();
        COUNTING.store(false, SeqCst);
        assert!(ALLOCS.load(SeqCst) > 0, "infer allocates its result");
        assert_eq!(v, y);
    }
}
