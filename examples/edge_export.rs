//! Export a Burgers-shaped PINN (2 → 64 → 64 → 64 → 1, tanh) as object files for x86-64,
//! aarch64 and riscv64 Linux, with `f32` weights and with `i8` ones
//! ([`WeightPrecision::Int8`]), run each one (natively or under QEMU user mode when the cross
//! tools are installed) and compare it with the host's compiled model of the same precision.
//!
//! ```text
//! cargo run --release --example edge_export                         # fresh network
//! cargo run --release --example edge_export -- --model burgers.pjm  # a saved CompiledModel
//! cargo run --release --example edge_export -- --out DIR            # where the files go
//! ```
//!
//! Without `--model` the weights are freshly initialised: object sizes and deviations do not
//! depend on training. Needs `gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu qemu-user` (Debian)
//! for the foreign checks, which are reported as skipped otherwise. The last line is
//! `edge: x86_64_max_rel=<x> aarch64_max_rel=<x> riscv64_max_rel=<x> object_bytes=<n>
//! mcu_buffer_bytes=<n>` (deviations and `object_bytes` of the `f32` objects; the line before
//! it gives the `i8` objects' sizes), the last being the scratch buffer the `no_std` microcontroller
//! runtime (`pinn-jit-mcu`, see `examples/mcu_export.rs`) needs for the same model.

#[path = "common/edge_model.rs"]
mod edge_model;
#[path = "../benches/workloads.rs"]
mod workloads;

use std::path::PathBuf;

use pinn_jit::export::mcu::{McuOptions, to_mcu_bytes};
use pinn_jit::export::{ExportOptions, Target, Verification, verify_on_target};
use pinn_jit::inference::{CompileOptions, CompiledModel, WeightPrecision};

fn main() {
    let options = edge_model::options("edge_export");
    let model = edge_model::model(options.model.as_deref());
    let model_path = options.model;
    let out = options.out.unwrap_or_else(|| PathBuf::from("edge_export"));
    println!(
        "model: {} inputs → {} outputs ({})",
        model.input_width(),
        model.output_width(),
        model_path.map_or("fresh 2→64→64→64→1 tanh".into(), |p| p
            .display()
            .to_string())
    );
    // A 41 × 25 grid of (x, t) on [-1, 1] × [0, 1] (for a 2-input model).
    let inputs: Vec<f32> = (0..41 * 25)
        .flat_map(|i| {
            let (xi, ti) = (i % 41, i / 41);
            [-1.0 + xi as f32 / 20.0, ti as f32 / 24.0]
        })
        .take(41 * 25 * model.input_width().min(2))
        .collect();
    println!(
        "| target | weights | object bytes | code bytes | weight bytes | stack bytes | max rel. deviation vs host |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut devs = Vec::new();
    let mut x86_bytes = 0;
    let mut int8_bytes = Vec::new();
    for weights in [WeightPrecision::F32, WeightPrecision::Int8] {
        let options = CompileOptions {
            weights,
            ..CompileOptions::default()
        };
        let model =
            CompiledModel::compile_with(model.graph().clone(), &options).unwrap_or_else(|e| {
                eprintln!("error: {e}");
                std::process::exit(1)
            });
        for target in Target::ALL {
            let e = model
                .export(&ExportOptions::new("pinn_burgers", target).with_weights(weights))
                .unwrap_or_else(|e| {
                    eprintln!("error: {e}");
                    std::process::exit(1)
                });
            let dir = out.join(format!("{}-{weights:?}", target.arch()).to_lowercase());
            let (obj, _) = e.write_to(&dir).unwrap_or_else(|e| {
                eprintln!("error: {e}");
                std::process::exit(1)
            });
            match weights {
                WeightPrecision::F32 if target == Target::X86_64Linux => x86_bytes = e.object.len(),
                WeightPrecision::Int8 => int8_bytes.push(e.object.len()),
                _ => {}
            }
            let dev = match verify_on_target(&model, target, &dir.join("check"), &inputs) {
                Ok(Verification::Ran { max_rel, .. }) => format!("{max_rel:.2e}"),
                Ok(Verification::Skipped(tool)) => format!("skipped ({tool} not found)"),
                Err(err) => format!("FAILED: {err}"),
            };
            println!(
                "| {target} | {weights:?} | {} | {} | {} | {} | {dev} |",
                e.object.len(),
                e.code_bytes,
                e.data_bytes,
                e.stack_bytes
            );
            println!("  wrote {}", obj.display());
            if weights == WeightPrecision::F32 {
                devs.push(dev.split(' ').next().unwrap_or("n/a").to_string());
            }
        }
    }
    let mcu_buffer = match to_mcu_bytes(&model, &McuOptions::default()) {
        Ok(m) => m.buffer_bytes.to_string(),
        Err(e) => {
            eprintln!("mcu export: {e}");
            "n/a".into()
        }
    };
    println!(
        "int8: x86_64_object_bytes={} aarch64_object_bytes={} riscv64_object_bytes={}",
        int8_bytes[0], int8_bytes[1], int8_bytes[2]
    );
    println!(
        "edge: x86_64_max_rel={} aarch64_max_rel={} riscv64_max_rel={} object_bytes={} mcu_buffer_bytes={mcu_buffer}",
        devs[0], devs[1], devs[2], x86_bytes
    );
}
