//! Issue #2's benchmark, in one process: the same workloads on PinnJitBackend, burn-flex and
//! burn-ndarray, with medians, ratios, achieved memory bandwidth and peak memory.
//!
//! ```text
//! cargo run --release --example fusion_bench
//! ```
//!
//! Workloads: (a) a 10-op element-wise chain on 1M f32; (b) a tanh MLP 2→64→64→64→1 forward at
//! batch 8192; (c) one Autodiff forward+backward of that MLP with an MSE loss.
//!
//! Like the PINN examples, it first calls `pinn_jit::runtime::memory::keep_freed_memory()` (glibc
//! keeps freed multi-megabyte buffers mapped; the same setting for every backend in the run);
//! `PINN_MALLOC_DEFAULTS=1` keeps glibc's defaults. The header line says which.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
#[path = "../benches/workloads.rs"]
mod workloads;

use std::time::{Duration, Instant};

use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor};
use burn_flex::Flex;
use burn_ndarray::NdArray;
use counting_alloc::peak_of;
use pinn_jit::PinnJitBackend;
use workloads::{CHAIN_LEN, MLP_BATCH, Mlp};

/// Median wall time of `f` over `reps` runs after `warmup` runs.
fn median_time(warmup: usize, reps: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..warmup {
        f();
    }
    let mut times: Vec<Duration> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[reps / 2]
}

struct Row {
    backend: &'static str,
    chain: Duration,
    mlp_fwd: Duration,
    mlp_train: Duration,
    train_peak_bytes: usize,
}

fn measure<B: Backend>(name: &'static str, reps: usize) -> Row {
    let device = B::Device::default();
    let x = workloads::chain_input::<B>(&device);
    let chain = median_time(3, reps, || {
        let y = workloads::chain(x.clone());
        let _ = y.slice(0..1).into_scalar().elem::<f32>();
    });

    let mlp = Mlp::<B>::new(&device);
    let input = workloads::mlp_input::<B>(&device);
    let mlp_fwd = median_time(3, reps, || {
        let y = mlp.forward(input.clone());
        let _ = y.slice([0..1, 0..1]).into_scalar().elem::<f32>();
    });

    let ad_device = device.clone();
    let mlp_ad = Mlp::<Autodiff<B>>::new(&ad_device);
    let input_ad: Tensor<Autodiff<B>, 2> = workloads::mlp_input(&ad_device);
    let target: Tensor<Autodiff<B>, 2> = (input_ad.clone().slice([0..MLP_BATCH, 0..1]) * 3.0).sin();
    // Warm up (kernel compilation, caches), then measure the peak of one step.
    for _ in 0..3 {
        workloads::train_step(&mlp_ad, input_ad.clone(), target.clone());
    }
    let (_, train_peak_bytes) =
        peak_of(|| workloads::train_step(&mlp_ad, input_ad.clone(), target.clone()));
    let mlp_train = median_time(0, reps, || {
        workloads::train_step(&mlp_ad, input_ad.clone(), target.clone());
    });
    Row {
        backend: name,
        chain,
        mlp_fwd,
        mlp_train,
        train_peak_bytes,
    }
}

/// Plain copy bandwidth of this machine for the chain's buffer size (read + write bytes / s),
/// single-threaded, measured now so the chain's figure can be put in proportion.
fn copy_bandwidth() -> f64 {
    let src = vec![1.0f32; CHAIN_LEN];
    let mut dst = vec![0.0f32; CHAIN_LEN];
    let t = median_time(5, 51, || {
        dst.copy_from_slice(std::hint::black_box(&src));
        std::hint::black_box(&mut dst);
    });
    (2 * CHAIN_LEN * 4) as f64 / t.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(21);
    let kept = std::env::var_os("PINN_MALLOC_DEFAULTS").is_none()
        && pinn_jit::runtime::memory::keep_freed_memory();
    println!(
        "fusion_bench: {} reps per cell (median), {} threads, {}, allocator: {}",
        reps,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::env::consts::ARCH,
        if kept {
            "freed buffers kept (keep_freed_memory)"
        } else {
            "glibc defaults"
        }
    );
    let before = pinn_jit::stats();
    let jit = measure::<PinnJitBackend>("pinn-jit", reps);
    let jit_stats = pinn_jit::stats().since(&before);
    let flex = measure::<Flex>("burn-flex", reps);
    let nd = measure::<NdArray>("burn-ndarray", reps);
    let bw_copy = copy_bandwidth();

    println!();
    println!(
        "| backend | (a) 10-op chain, 1M f32 | (b) MLP fwd, batch {MLP_BATCH} | (c) MLP fwd+bwd | (c) peak memory |"
    );
    println!("|---|---|---|---|---|");
    for row in [&jit, &flex, &nd] {
        println!(
            "| {} | {:.3} ms ({:.1}x) | {:.3} ms ({:.1}x) | {:.3} ms ({:.1}x) | {:.1} MiB |",
            row.backend,
            ms(row.chain),
            ms(flex.chain) / ms(row.chain),
            ms(row.mlp_fwd),
            ms(flex.mlp_fwd) / ms(row.mlp_fwd),
            ms(row.mlp_train),
            ms(flex.mlp_train) / ms(row.mlp_train),
            row.train_peak_bytes as f64 / (1 << 20) as f64,
        );
    }
    println!("(ratios are burn-flex time / backend time: higher is faster)");
    // The chain reads its input once and writes its output once when fully fused.
    let bw_chain = (2 * CHAIN_LEN * 4) as f64 / jit.chain.as_secs_f64();
    println!();
    println!(
        "chain memory bandwidth (pinn-jit): {:.1} GB/s = {:.0}% of this machine's single-thread copy bandwidth ({:.1} GB/s)",
        bw_chain / 1e9,
        100.0 * bw_chain / bw_copy,
        bw_copy / 1e9
    );
    println!("pinn-jit stats over its runs: {jit_stats}");
    println!(
        "fusion_bench: chain_speedup_vs_flex={:.2} mlp_fwd_speedup_vs_flex={:.2} mlp_train_speedup_vs_flex={:.2}",
        ms(flex.chain) / ms(jit.chain),
        ms(flex.mlp_fwd) / ms(jit.mlp_fwd),
        ms(flex.mlp_train) / ms(jit.mlp_train),
    );
}
