//! Proof that exported objects run on foreign architectures: each object is linked with a small
//! C harness by the target's cross compiler, run (natively for x86-64, under QEMU user mode for
//! aarch64 and riscv64) and compared with the host's compiled model: max |difference| ≤ 1e-5 ·
//! max |output| (1e-4 with `i8` weights).
//!
//! Needs `cc`, `aarch64-linux-gnu-gcc`, `riscv64-linux-gnu-gcc`, their `nm`, `qemu-aarch64`,
//! `qemu-riscv64` (Debian: gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu qemu-user; `.ci/run`
//! installs them). A missing tool skips that target with a message on stderr, unless
//! `PINN_JIT_REQUIRE_CROSS=1` (set by `.ci/run`), which makes it a failure.

#[path = "../benches/workloads.rs"]
mod workloads;

use pinn_jit::export::{Target, Verification, verify_on_target};
use pinn_jit::inference::{CompileOptions, CompiledModel, Tracer, WeightPrecision};
use workloads::Mlp;

fn burgers_shaped_model(weights: WeightPrecision) -> CompiledModel {
    let mlp = Mlp::<Tracer>::new(&Default::default());
    let options = CompileOptions {
        weights,
        ..CompileOptions::default()
    };
    CompiledModel::trace_with(2, |x| mlp.forward(x), &options).expect("the MLP compiles")
}

#[test]
fn exported_objects_match_the_host_on_every_target() {
    check_every_target(WeightPrecision::F32);
}

/// `i8` weights: the inline integer code (16-bit pair products) on every target agrees with
/// the host's kernel.
#[test]
fn exported_int8_objects_match_the_host_on_every_target() {
    check_every_target(WeightPrecision::Int8);
}

fn check_every_target(weights: WeightPrecision) {
    let model = burgers_shaped_model(weights);
    let dir = std::env::temp_dir().join(format!(
        "pinn-jit-export-{}-{weights:?}",
        std::process::id()
    ));
    // 37 rows: full tiles and a remainder; zeros, a tiny and a saturating input.
    let mut inputs: Vec<f32> = (0..70)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    inputs.extend([0.0, -0.0, 1e-30, 30.0]);
    let require = std::env::var("PINN_JIT_REQUIRE_CROSS").as_deref() == Ok("1");
    for target in Target::ALL {
        match verify_on_target(&model, target, &dir, &inputs).expect("export and run") {
            Verification::Ran { max_rel, .. } => {
                eprintln!(
                    "export_cross: {target} {weights:?}: max relative deviation {max_rel:.2e}"
                );
                // With i8 weights a 1-ulp difference of an intermediate (x86-64-v2 has no FMA,
                // the host's tanh does) may move one 16-bit input code by a step, 1/32767 of
                // its row's largest value.
                let tolerance = match weights {
                    WeightPrecision::F32 => 1e-5,
                    WeightPrecision::Int8 => 1e-4,
                };
                assert!(
                    max_rel <= tolerance,
                    "{target}: max relative deviation {max_rel:e}"
                );
            }
            Verification::Skipped(tool) => {
                let msg = format!("export_cross: {target}: skipped, `{tool}` not found");
                assert!(!require, "{msg}");
                eprintln!("{msg}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
