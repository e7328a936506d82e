//! Pacing the user's thread so that it sleeps, instead of spinning, while the fusion server works.
//!
//! burn-fusion 0.21 hands every operation to its server thread through cubecl-common's device
//! channel: a double buffer of 32 tasks. When the user's thread has filled the free buffer while
//! the server is still executing the other one, `enqueue` busy-waits — up to ~0.5M
//! `spin_loop`s before it yields — and a training step issues operations far faster than the
//! server runs them. On a machine with few cores that spinning thread takes a core away from the
//! kernels and GEMMs the server is running on the rayon pool: under `perf`, 45 % of a PINN
//! training step's CPU samples were the spin, and the step ran no faster with two rayon threads
//! than with one.
//!
//! `PinnJitBackend` therefore counts the operations it forwards and, every [`MARK_EVERY`]
//! operations, enqueues a *marker* on the same channel (a task of our own [`DeviceService`] on
//! the fusion server's runner thread, so it runs in order with the operations). When more than
//! [`MAX_AHEAD`] operations have been forwarded past the last marker the server has run, the
//! user's thread flushes the channel (so the server takes the buffer at once) and sleeps on a
//! condition variable until the server has caught up to within [`RESUME_AHEAD`] operations. The
//! operations and their order are unchanged — only when the user's thread submits them — so
//! results are identical; the fusers still see the whole stream (fusion happens behind the
//! channel, in burn-fusion's own queue).
//!
//! The counts are operations, not channel tasks (dropping a tensor is a task too), so the
//! bounds are conservative: the channel may still fill now and then, and then cubecl-common's own
//! back-off applies as before. `PINN_JIT_PACE=0` turns pacing off (for comparisons).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use burn_std::DeviceHandle;
use burn_std::device::{DeviceId, DeviceService, DeviceServiceStage, ServerUtilitiesHandle};

/// Operations between two markers.
pub const MARK_EVERY: u64 = 4;
/// Operations the user's thread may run ahead of the last marker the server has executed.
pub const MAX_AHEAD: u64 = 16;
/// How far ahead the user's thread is allowed to be when it wakes up again.
pub const RESUME_AHEAD: u64 = 8;

/// The service whose tasks are the markers: it has no state of its own.
struct Marker;

impl DeviceService for Marker {
    fn init(_device_id: DeviceId) -> Self {
        Marker
    }

    fn utilities(&self) -> ServerUtilitiesHandle {
        std::sync::Arc::new(())
    }

    /// The fusion server's stage: one runner thread (and one channel) per device and stage.
    fn stage() -> DeviceServiceStage {
        DeviceServiceStage::Upstream
    }
}

/// Pacing state of one device.
struct Pace {
    handle: DeviceHandle<Marker>,
    /// Operations forwarded (all threads).
    submitted: AtomicU64,
    /// The highest operation count whose marker the server has executed.
    done: AtomicU64,
    /// Threads sleeping on `caught_up` (markers only notify when there are some).
    sleepers: AtomicU32,
    lock: Mutex<()>,
    caught_up: Condvar,
}

fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var("PINN_JIT_PACE").map_or(true, |v| v != "0"))
}

/// The pacing state of the CPU device (the only device today), created on first use.
fn cpu(device: DeviceId) -> &'static Pace {
    static CPU: OnceLock<Pace> = OnceLock::new();
    CPU.get_or_init(|| {
        let handle = DeviceHandle::new(device);
        // The marker service runs on the fusion server's thread: make that thread worker 0
        // of a pool of its own before the operations that follow (see `runtime::pool`).
        handle.submit(|_: &mut Marker| {
            super::pool::adopt(super::pool::SERVER_POOL);
        });
        Pace {
            handle,
            submitted: AtomicU64::new(0),
            done: AtomicU64::new(0),
            sleepers: AtomicU32::new(0),
            lock: Mutex::new(()),
            caught_up: Condvar::new(),
        }
    })
}

/// How many times a user's thread has waited for the server (all devices), for tests and
/// diagnostics.
static WAITS: AtomicU64 = AtomicU64::new(0);

/// How many times a user's thread has waited for the fusion server so far.
pub fn waits() -> u64 {
    WAITS.load(Ordering::Relaxed)
}

/// Spins (each a `spin_loop` hint) before the user's thread goes to sleep: a server that is
/// about to reach the marker answers within a few microseconds, cheaper than a futex round trip.
///
/// Tuned with `pinn_step_bench --jit-only N_F` on the 2-core machine (2026-11-25): 2000 spins
/// cost the Burgers step at N_f = 8192 about 5 % of all CPU samples (the spinning thread takes
/// a core from the server's pool); 200 spins were ~1.5 ms faster, 20 no better. Bounds of
/// 12/4 operations made the N_f = 1024 step slower than no pacing at all (8.4 vs 5.8 ms: the
/// server ran dry between wake-ups); 16/8 gave 6.1 ms there and 24–25 ms at 8192 (37 ms
/// unpaced).
const SPINS_BEFORE_SLEEP: u32 = 200;

/// Called by `PinnJitBackend` after forwarding one operation on the device `device`.
pub fn after_op(device: DeviceId) {
    let pace = cpu(device);
    if !enabled() {
        return;
    }
    let n = pace.submitted.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_multiple_of(MARK_EVERY) {
        pace.handle.submit(move |_: &mut Marker| {
            // SeqCst here and in the sleeper: either the sleeper sees this marker's count or
            // this marker sees the sleeper (and notifies it under the lock).
            pace.done.fetch_max(n, Ordering::SeqCst);
            if pace.sleepers.load(Ordering::SeqCst) > 0 {
                let _guard = pace.lock.lock().unwrap_or_else(|e| e.into_inner());
                pace.caught_up.notify_all();
            }
        });
    }
    if n.saturating_sub(pace.done.load(Ordering::Acquire)) <= MAX_AHEAD {
        return;
    }
    // The marker of `target` (a multiple of MARK_EVERY, at most `n`) is in the channel already.
    let target = (n - RESUME_AHEAD) / MARK_EVERY * MARK_EVERY;
    let caught_up = || pace.done.load(Ordering::SeqCst) >= target;
    // Hand the server the partly filled buffer now rather than when 32 tasks have gathered.
    pace.handle.flush_queue();
    WAITS.fetch_add(1, Ordering::Relaxed);
    for _ in 0..SPINS_BEFORE_SLEEP {
        if caught_up() {
            return;
        }
        std::hint::spin_loop();
    }
    let mut guard = pace.lock.lock().unwrap_or_else(|e| e.into_inner());
    pace.sleepers.fetch_add(1, Ordering::SeqCst);
    while !caught_up() {
        // The marker always runs (it was enqueued before the flush), and notifies under the
        // lock; the timeout is a second line of defence, not the mechanism.
        guard = pace
            .caught_up
            .wait_timeout(guard, Duration::from_millis(1))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    pace.sleepers.fetch_sub(1, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData};

    use super::*;
    use crate::PinnJitBackend;

    type B = PinnJitBackend;

    /// A chain of operations on a large tensor: the server needs far longer per operation than
    /// the user's thread needs to submit it, so the user's thread gets ahead and must wait.
    fn chain(len: usize, steps: usize) -> Vec<f32> {
        let device = Default::default();
        let mut x = Tensor::<B, 1>::from_data(TensorData::new(vec![1.0f32; len], [len]), &device);
        for i in 0..steps {
            // A reduction between element-wise ops ends each fused chain, so every step costs
            // the server a full pass over the tensor.
            let m = x.clone().max().reshape([1]);
            x = (x * 1.5 - m * 0.5).sqrt() + (i as f32) * 1e-3;
        }
        x.into_data().to_vec::<f32>().expect("f32 data")
    }

    fn expected(steps: usize) -> f32 {
        let mut v = 1.0f32;
        for i in 0..steps {
            v = (v * 1.5 - v * 0.5).sqrt() + (i as f32) * 1e-3;
        }
        v
    }

    #[test]
    fn a_thread_far_ahead_of_the_server_waits_and_results_are_unchanged() {
        let before = waits();
        let out = chain(1 << 20, 60);
        let want = expected(60);
        assert!(
            out.iter().all(|&v| (v - want).abs() <= 1e-5 * want),
            "{} vs {want}",
            out[0]
        );
        if enabled() {
            assert!(
                waits() > before,
                "the user's thread never waited for the server"
            );
        }
    }

    #[test]
    fn several_threads_submitting_at_once_all_finish() {
        let handles: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| chain(1 << 16, 200)))
            .collect();
        let want = expected(200);
        for h in handles {
            let out = h.join().expect("thread finished");
            assert!(out.iter().all(|&v| (v - want).abs() <= 1e-5 * want));
        }
    }
}
