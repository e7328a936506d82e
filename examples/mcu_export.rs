//! Export a Burgers-shaped PINN (2 → 64 → 64 → 64 → 1, tanh) for the `no_std` microcontroller
//! runtime `pinn-jit-mcu` with f32, int8-per-channel and int8-per-tensor weights; run each
//! export with the runtime on this host and compare it with the compiled model: model size,
//! scratch buffer, deviation, time per sample.
//!
//! ```text
//! cargo run --release --example mcu_export                          # fresh network
//! cargo run --release --example mcu_export -- --model burgers.pjm   # a saved CompiledModel
//! cargo run --release --example mcu_export -- --out DIR             # also write DIR/*.pjmc
//! ```
//!
//! On the board: `include_bytes!("burgers_fp32.pjmc")`, `pinn_jit_mcu::Model::parse`, a
//! `[f32; N]` buffer with `N >= buffer floats`, `model.infer(&[x, t], &mut u, &mut buffer)`.
//! Times here are the host's (one thread), not a microcontroller's.

#[path = "common/edge_model.rs"]
mod edge_model;
#[path = "../benches/workloads.rs"]
mod workloads;

use std::hint::black_box;
use std::time::Instant;

use pinn_jit::export::mcu::{McuOptions, McuWeights, to_mcu_bytes};

/// Median over `reps` runs of `f`, in nanoseconds per sample (`f` runs `samples` samples).
fn ns_per_sample(reps: usize, samples: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as f64 / samples as f64
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[reps / 2]
}

fn main() {
    let options = edge_model::options("mcu_export");
    let model = edge_model::model(options.model.as_deref());
    let out = options.out;
    let (iw, ow) = (model.input_width(), model.output_width());
    // 4096 random samples in [-1, 1]^iw (a fixed LCG, so runs are comparable).
    let mut state = 0x2545_f491_u64;
    let n = 4096;
    let x: Vec<f32> = (0..n * iw)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    let want = model.infer(&x).expect("compiled inference");
    let range = want
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(f32::MIN_POSITIVE);

    let mut y1 = vec![0.0f32; ow];
    let compiled_b1 = ns_per_sample(21, n, || {
        for row in x.chunks(iw) {
            model.infer_into(black_box(row), &mut y1).unwrap();
        }
    });
    let mut yn = vec![0.0f32; n * ow];
    let compiled_bn = ns_per_sample(21, n, || model.infer_into(black_box(&x), &mut yn).unwrap());
    println!(
        "compiled model (Cranelift, this host): {compiled_b1:.0} ns/sample at batch 1, \
         {compiled_bn:.1} ns/sample at batch {n}"
    );
    println!(
        "| weights | model bytes | buffer bytes | max |mcu - compiled| / max |compiled| | mcu ns/sample | × compiled batch 1 |"
    );
    println!("|---|---|---|---|---|---|");
    for weights in [
        McuWeights::Fp32,
        McuWeights::Int8PerChannel,
        McuWeights::Int8PerTensor,
    ] {
        let exported = to_mcu_bytes(&model, &McuOptions { weights }).unwrap_or_else(|e| {
            eprintln!("error: {e}");
            std::process::exit(1)
        });
        let m = pinn_jit_mcu::Model::parse(&exported.bytes).expect("parses");
        let mut buffer = vec![0.0f32; m.buffer_len()];
        let mut got = vec![0.0f32; n * ow];
        m.infer_batch(&x, &mut got, &mut buffer).expect("runs");
        let dev = got
            .iter()
            .zip(&want)
            .fold(0.0f32, |d, (a, b)| d.max((a - b).abs()))
            / range;
        let t = ns_per_sample(21, n, || {
            for (row, y) in x.chunks(iw).zip(got.chunks_mut(ow)) {
                m.infer(black_box(row), y, &mut buffer).unwrap();
            }
        });
        let name = match weights {
            McuWeights::Fp32 => "fp32",
            McuWeights::Int8PerChannel => "int8_channel",
            McuWeights::Int8PerTensor => "int8_tensor",
        };
        println!(
            "| {name} | {} | {} | {dev:.2e} | {t:.0} | {:.1} |",
            exported.bytes.len(),
            exported.buffer_bytes,
            t / compiled_b1
        );
        if let Some(dir) = &out {
            std::fs::create_dir_all(dir)
                .and_then(|_| {
                    std::fs::write(dir.join(format!("burgers_{name}.pjmc")), &exported.bytes)
                })
                .unwrap_or_else(|e| {
                    eprintln!("error: writing to {}: {e}", dir.display());
                    std::process::exit(1)
                });
        }
    }
}
