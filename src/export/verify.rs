//! Running an exported object on its target — natively for x86-64, under QEMU user mode for
//! aarch64 and riscv64 — to compare it with the host's compiled model.
//!
//! Needs the target's C cross compiler and `nm` (Debian: `gcc-aarch64-linux-gnu`,
//! `gcc-riscv64-linux-gnu`) and `qemu-aarch64`/`qemu-riscv64` (Debian: `qemu-user`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::{ExportError, ExportOptions, Target};
use crate::inference::CompiledModel;

/// The outcome of [`verify_on_target`].
#[derive(Clone, Debug)]
pub enum Verification {
    /// The object ran; `max_rel` is max |target − host| / max |host output|.
    Ran {
        /// The deviation from the host's compiled model.
        max_rel: f64,
        /// Bytes of the object file.
        object_bytes: usize,
    },
    /// A tool is not installed (named).
    Skipped(String),
}

/// (C compiler, nm, runner and its arguments) for `target`.
fn tools(target: Target) -> (&'static str, &'static str, &'static [&'static str]) {
    match target {
        Target::X86_64Linux => ("cc", "nm", &[]),
        Target::Aarch64Linux => (
            "aarch64-linux-gnu-gcc",
            "aarch64-linux-gnu-nm",
            &["qemu-aarch64"],
        ),
        Target::Riscv64Linux => (
            "riscv64-linux-gnu-gcc",
            "riscv64-linux-gnu-nm",
            &[
                "qemu-riscv64",
                "-cpu",
                "rv64,v=true,vlen=128,vext_spec=v1.0",
            ],
        ),
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A C program that runs `<name>_infer` on `inputs` and prints every output.
fn harness(name: &str, inputs: &[f32], rows: usize) -> String {
    let up = name.to_ascii_uppercase();
    let mut c = format!("#include <stdio.h>\n#include \"{name}.h\"\nstatic const float in[] = {{");
    for v in inputs {
        let _ = write!(c, "{v:e}f,");
    }
    let _ = writeln!(c, "0.0f}};\nstatic float out[{rows} * {up}_OUTPUTS + 1];");
    let _ = writeln!(
        c,
        "int main(void) {{\n  {name}_infer(in, out, {rows});\n  for (int i = 0; i < {rows} * \
         {up}_OUTPUTS; i++) printf(\"%.9e\\n\", out[i]);\n  return 0;\n}}"
    );
    c
}

fn failed(what: &str, out: &std::process::Output) -> ExportError {
    ExportError::Codegen(format!(
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

fn run(cmd: &mut Command, what: &str) -> Result<std::process::Output, ExportError> {
    let out = cmd
        .output()
        .map_err(|e| ExportError::Codegen(format!("{what}: {e}")))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(failed(what, &out))
    }
}

/// Export `model` for `target` into `dir`, check that the object has no undefined symbols,
/// link it with a C harness, run it on `inputs` (`rows × model.input_width()` floats) and
/// compare with [`CompiledModel::infer`] on the host. The object's weights have the precision
/// `model` was compiled with.
///
/// # Errors
/// The export's errors; [`ExportError::Codegen`] when a tool fails or the object has undefined
/// symbols. A missing tool is not an error: [`Verification::Skipped`].
pub fn verify_on_target(
    model: &CompiledModel,
    target: Target,
    dir: &Path,
    inputs: &[f32],
) -> Result<Verification, ExportError> {
    let (cc, nm, runner) = tools(target);
    let needed = [cc, nm].into_iter().chain(runner.first().copied());
    if let Some(missing) = needed.into_iter().find(|t| !have(t)) {
        return Ok(Verification::Skipped(missing.to_string()));
    }
    let name = format!("pinn_{}", target.arch());
    let options = ExportOptions::new(&name, target).with_weights(model.weight_precision());
    let exported = model.export(&options)?;
    let (obj, _) = exported.write_to(dir)?;
    let syms = run(Command::new(nm).arg("-u").arg(&obj), nm)?;
    let undefined = String::from_utf8_lossy(&syms.stdout).trim().to_string();
    if !undefined.is_empty() {
        return Err(ExportError::Codegen(format!(
            "{target}: the object references symbols outside itself: {undefined}"
        )));
    }
    let rows = inputs.len() / model.input_width().max(1);
    let src = dir.join(format!("{name}_main.c"));
    std::fs::write(&src, harness(&name, inputs, rows)).map_err(|e| ExportError::Io {
        path: src.clone(),
        message: e.to_string(),
    })?;
    let exe = dir.join(format!("{name}_main"));
    run(
        Command::new(cc)
            .args(["-O1", "-static", "-o"])
            .arg(&exe)
            .arg(&src)
            .arg(&obj)
            .arg("-I")
            .arg(dir),
        cc,
    )?;
    let ran = match runner.split_first() {
        None => run(&mut Command::new(&exe), "the harness")?,
        Some((qemu, args)) => match run(Command::new(qemu).args(args).arg(&exe), qemu) {
            // QEMU 8 dropped `vext_spec` (RVV 1.0 is its only version): retry without it.
            Err(_) if target == Target::Riscv64Linux => run(
                Command::new(qemu)
                    .args(["-cpu", "rv64,v=true,vlen=128"])
                    .arg(&exe),
                qemu,
            )?,
            other => other?,
        },
    };
    let got: Vec<f32> = String::from_utf8_lossy(&ran.stdout)
        .lines()
        .map(|l| l.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|e| ExportError::Codegen(format!("{target}: harness output: {e}")))?;
    let want = model.infer(inputs)?;
    if got.len() != want.len() {
        return Err(ExportError::Codegen(format!(
            "{target}: {} outputs, expected {}",
            got.len(),
            want.len()
        )));
    }
    let scale = want.iter().fold(0f64, |m, v| m.max(v.abs() as f64));
    let max_rel = got
        .iter()
        .zip(&want)
        .map(|(&g, &w)| (g as f64 - w as f64).abs() / scale.max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max);
    Ok(Verification::Ran {
        max_rel,
        object_bytes: exported.object.len(),
    })
}
