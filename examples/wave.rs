//! 1D wave equation `u_tt = u_xx` on `[0, 1] × [0, 1]`, plucked string
//! `u(x, 0) = sin(πx) + ½ sin(3πx)`, `u_t(x, 0) = 0`, fixed ends, against d'Alembert's
//! solution on a 101 × 101 grid.
//!
//! `cargo run --release --example wave -- --help`
//!
//! Defaults: MLP 2→48→48→48→1 tanh, ansatz `u = u(x, 0) + s·t²·x(1 − x)·N` with output scale
//! `s = 3` (`--ansatz-scale S`), f64, 2048 collocation points, 300 Adam steps, then L-BFGS for
//! the rest of the 540 s budget. With `s = 1` and 4096 points the same budget reached only
//! rel. L2 7.0e-1 on a loaded machine: `(u − u(x, 0)) / (t² x(1 − x))` is about −225 near
//! `(0, 0)`, far from the network's O(1) initial output; 60 s sweeps measured 1.9e-2 (`s = 1`),
//! 1.1e-3 (`s = 3`), 2.1e-3 (`s = 10`), 4.1e-3 (`s = 30`), 1.1e-2 (`s = 100`) with 2048 points.
//! Measured with the defaults: rel. L2 9.4e-5 after 300 Adam + 7350 L-BFGS iterations in 540 s
//! (2-core AMD EPYC (Zen 4) VM, load average 1.7–4.8, 2026-11-25).
//!
//! What it does: builds the reference solution on the test grid, trains a hard-constrained
//! PINN (`u = A + G · N`, the initial/boundary conditions hold exactly) with full-batch Adam
//! (exponentially decaying learning rate) and then L-BFGS with a strong-Wolfe line search,
//! prints a progress line every `--log-every` steps, the relative L2 error on the test grid,
//! writes a PNG (prediction, reference, |error|; `--plot`, default `wave.png`) and, with
//! `--save-predictions PATH`, a CSV of the prediction (header = the input names, then `u`).
//! `--time-limit S` bounds the training: Adam stops at 90 % of it, L-BFGS at 100 %.
//! `--backend pinn-jit|flex|ndarray` picks the Burn backend (default pinn-jit),
//! `--precision f32|f64` the float type (default f64). `--help` lists every option with its
//! default. The last line is machine-readable:
//! `wave: rel_l2=<x> steps=<adam>+<lbfgs> train_s=<s> step_ms=<ms per Adam step> backend=<name>`.
//!
//! On glibc the example raises malloc's mmap/trim thresholds at start-up so that the
//! multi-megabyte tensor buffers freed every step stay mapped (2× faster steps measured
//! here); set `PINN_MALLOC_DEFAULTS=1` to keep glibc's defaults. Errors (bad options, a
//! non-finite loss) are printed as `error: …` with exit status 1 (2 for command-line errors).

mod common;

use burn::tensor::backend::AutodiffBackend;
use common::{Args, BackendRun, Defaults, Precision, dispatch, parse_args, solve};
use pinn_jit::pinn::problems::Wave;
use pinn_jit::pinn::{Activation, PinnError};

struct Job;

impl BackendRun for Job {
    fn run<B: AutodiffBackend>(&self, args: &Args, device: B::Device) -> Result<(), PinnError> {
        let mut problem = Wave::default();
        if let Some(v) = args.extra("--ansatz-scale") {
            problem.scale = v.parse().map_err(|_| {
                PinnError::InvalidConfig(format!("--ansatz-scale takes a number, got '{v}'"))
            })?;
        }
        solve::<B, _>(&problem, args, device).map(|_| ())
    }
}

fn main() {
    let defaults = Defaults {
        hidden: vec![48, 48, 48],
        activation: Activation::Tanh,
        fourier: None,
        precision: Precision::F64,
        n_f: 2048,
        adam_steps: 300,
        lr: 2e-3,
        lr_final: 0.05,
        resample_every: 0,
        lbfgs_iters: 20000,
        lbfgs_resample_every: 0,
        time_limit_s: 540.0,
    };
    let help = format!(
        "  --ansatz-scale S            output scale s of u = f + s·t²·x(1 − x)·N [{}]\n",
        Wave::DEFAULT_SCALE
    );
    let args = parse_args("wave", &defaults, &["--ansatz-scale"], &help);
    if let Err(e) = dispatch(&args, &Job) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
