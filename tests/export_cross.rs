//! Proof that exported objects run on foreign architectures: each object is linked with a small
//! C harness by the target's cross compiler, run (natively for x86-64, under QEMU user mode for
//! aarch64 and riscv64) and compared with the host's compiled model: max |difference| ≤ 1e-5 · max |output|.
//!
//! Needs `cc`, `aarch64-linux-gnu-gcc`, `riscv64-linux-gnu-gcc`, `qemu-aarch64`,
//! `qemu-riscv64` (Debian: gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu qemu-user; `.ci/run`
//! installs them). A missing tool skips that target with a message on stderr, unless
//! `PINN_JIT_REQUIRE_CROSS=1`, which makes it a failure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use burn::nn::{Linear, LinearConfig};
use pinn_jit::export::{ExportOptions, Target};
use pinn_jit::inference::{CompiledModel, Tracer};

fn burgers_shaped_model() -> CompiledModel {
    let device = Default::default();
    let widths = [2, 64, 64, 64, 1];
    let layers: Vec<Linear<Tracer>> = widths
        .windows(2)
        .map(|w| LinearConfig::new(w[0], w[1]).init(&device))
        .collect();
    CompiledModel::trace(2, |x| {
        let mut h = x;
        for (i, l) in layers.iter().enumerate() {
            h = l.forward(h);
            if i + 1 < layers.len() {
                h = h.tanh();
            }
        }
        h
    })
    .expect("the MLP compiles")
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// (compiler, nm, runner prefix) for a target.
fn tools(target: Target) -> (&'static str, &'static str, Vec<&'static str>) {
    match target {
        Target::X86_64Linux => ("cc", "nm", vec![]),
        Target::Aarch64Linux => (
            "aarch64-linux-gnu-gcc",
            "aarch64-linux-gnu-nm",
            vec!["qemu-aarch64"],
        ),
        Target::Riscv64Linux => (
            "riscv64-linux-gnu-gcc",
            "riscv64-linux-gnu-nm",
            vec![
                "qemu-riscv64",
                "-cpu",
                "rv64,v=true,vlen=128,vext_spec=v1.0",
            ],
        ),
    }
}

fn harness(name: &str, inputs: &[f32], rows: usize) -> String {
    let mut c = format!("#include <stdio.h>\n#include \"{name}.h\"\nstatic const float in[] = {{");
    for v in inputs {
        write!(c, "{v:e}f,").unwrap();
    }
    writeln!(
        c,
        "}};\nstatic float out[{rows} * {up}_OUTPUTS];",
        up = name.to_uppercase()
    )
    .unwrap();
    writeln!(
        c,
        "int main(void) {{ {name}_infer(in, out, {rows}); for (int i = 0; i < {rows} * {up}_OUTPUTS; i++) printf(\"%.9e\\n\", out[i]); return 0; }}",
        up = name.to_uppercase()
    )
    .unwrap();
    c
}

fn run_target(model: &CompiledModel, target: Target, dir: &Path, inputs: &[f32]) -> Option<f64> {
    let (cc, nm, runner) = tools(target);
    let needed: Vec<&str> = [cc, nm]
        .into_iter()
        .chain(runner.first().copied())
        .collect();
    if let Some(missing) = needed.iter().find(|t| !have(t)) {
        let msg = format!("export_cross: {target}: skipped, `{missing}` not found");
        assert!(
            std::env::var("PINN_JIT_REQUIRE_CROSS").as_deref() != Ok("1"),
            "{msg}"
        );
        eprintln!("{msg}");
        return None;
    }
    let name = format!("m_{}", target.arch());
    let exported = model
        .export(&ExportOptions::new(&name, target))
        .expect("export");
    let (obj, _) = exported.write_to(dir).expect("write");
    // Nothing undefined: the object calls nothing outside itself.
    let syms = Command::new(nm)
        .arg("-u")
        .arg(&obj)
        .output()
        .expect("nm runs");
    assert!(
        syms.status.success(),
        "{nm} failed: {}",
        String::from_utf8_lossy(&syms.stderr)
    );
    let undefined = String::from_utf8_lossy(&syms.stdout).trim().to_string();
    assert!(
        undefined.is_empty(),
        "{target}: undefined symbols in the object:\n{undefined}"
    );
    let rows = inputs.len() / 2;
    let src = dir.join(format!("{name}_main.c"));
    std::fs::write(&src, harness(&name, inputs, rows)).unwrap();
    let exe = dir.join(format!("{name}_main"));
    let built = Command::new(cc)
        .args(["-O1", "-static", "-o"])
        .arg(&exe)
        .arg(&src)
        .arg(&obj)
        .arg("-I")
        .arg(dir)
        .output()
        .expect("compiler runs");
    assert!(
        built.status.success(),
        "{cc}: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let ran = if runner.is_empty() {
        Command::new(&exe).output()
    } else {
        Command::new(runner[0])
            .args(&runner[1..])
            .arg(&exe)
            .output()
    }
    .expect("harness runs");
    assert!(
        ran.status.success(),
        "{target}: harness failed: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let got: Vec<f32> = String::from_utf8_lossy(&ran.stdout)
        .lines()
        .map(|l| l.trim().parse().expect("a float"))
        .collect();
    let want = model.infer(inputs).expect("host inference");
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
    // Relative to the output's magnitude (max |u|), so values near zero do not dominate.
    let max_rel = got
        .iter()
        .zip(&want)
        .map(|(&g, &w)| (g as f64 - w as f64).abs() / scale.max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max);
    assert!(
        max_rel <= 1e-5,
        "{target}: max relative deviation {max_rel:e}"
    );
    Some(max_rel)
}

#[test]
fn exported_objects_match_the_host_on_every_target() {
    let model = burgers_shaped_model();
    let dir: PathBuf = std::env::temp_dir().join(format!("pinn-jit-export-{}", std::process::id()));
    // 37 rows: full tiles and a remainder; edge values included.
    let mut inputs: Vec<f32> = (0..70)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    inputs.extend([0.0, -0.0, 1e-30, 30.0]);
    for target in Target::ALL {
        if let Some(dev) = run_target(&model, target, &dir, &inputs) {
            eprintln!("export_cross: {target}: max relative deviation {dev:.2e}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
