//! Viscous Burgers PINN: `u_t + u u_x = (0.01/π) u_xx`, `x ∈ [−1, 1]`, `t ∈ [0, 1]`,
//! `u(x, 0) = −sin(πx)`, `u(±1, t) = 0`, against the exact Cole–Hopf solution on the
//! 256 × 100 grid of Raissi et al. (x = linspace(−1, 1, 256), t = 0.00 … 0.99), the grid of
//! `burgers_reference.csv`, so `--save-predictions` output can be checked independently.
//!
//! `cargo run --release --example burgers -- --help`
//!
//! Defaults: MLP 2→32→32→32→32→1 tanh, inputs normalised to `[−1, 1]²`, ansatz
//! `u = −sin(πx) + t(1 − x²)(N(x, t) − N(−x, t))` (odd in `x` like the solution, so the shock
//! stays at `x = 0`; `--odd false` uses `N` alone), f64, 2048 collocation points, 300 Adam
//! steps, then L-BFGS (history 50) for the rest of the 540 s budget on collocation points
//! redrawn once by residual-based adaptive distribution (RAD) before L-BFGS
//! (`--lbfgs-resample-every N` also redraws them every N L-BFGS iterations, restarting the
//! curvature history). Extra modes: `--check-reference CSV`
//! compares the Cole–Hopf reference with an `x,t,u` CSV and prints the largest difference;
//! `--check-peers DIR` prints the loss at the peer benchmarks' shared initial weights;
//! `--measure-cost N` times one training step (plain / jet / finite differences).
//!
//! What it does: builds the reference solution on the test grid, trains a hard-constrained
//! PINN (`u = A + G · N`, the initial/boundary conditions hold exactly) with full-batch Adam
//! (exponentially decaying learning rate) and then L-BFGS with a strong-Wolfe line search,
//! prints a progress line every `--log-every` steps, the relative L2 error on the test grid,
//! writes a PNG (prediction, reference, |error|; `--plot`, default `burgers.png`) and, with
//! `--save-predictions PATH`, a CSV of the prediction (header = the input names, then `u`).
//! `--time-limit S` bounds the training: Adam stops at 90 % of it, L-BFGS at 100 %.
//! `--backend pinn-jit|flex|ndarray` picks the Burn backend (default pinn-jit),
//! `--precision f32|f64` the float type (default f64). `--help` lists every option with its
//! default. The last line is machine-readable:
//! `burgers: rel_l2=<x> steps=<adam>+<lbfgs> train_s=<s> step_ms=<ms per Adam step> backend=<name>`.
//!
//! On glibc the example raises malloc's mmap/trim thresholds at start-up so that the
//! multi-megabyte tensor buffers freed every step stay mapped (2× faster steps measured
//! here); set `PINN_MALLOC_DEFAULTS=1` to keep glibc's defaults. Errors (bad options, a
//! non-finite loss) are printed as `error: …` with exit status 1 (2 for command-line errors).

mod common;
#[path = "common/peers.rs"]
mod peers;

use std::path::Path;

use burn::tensor::backend::AutodiffBackend;
use common::{Args, BackendRun, Defaults, Precision, dispatch, parse_args, solve};
use pinn_jit::pinn::problems::Burgers;
use pinn_jit::pinn::{Activation, PinnError, measure_step_cost};

struct Job;

impl BackendRun for Job {
    fn run<B: AutodiffBackend>(&self, args: &Args, device: B::Device) -> Result<(), PinnError> {
        let mut problem = Burgers::default();
        problem.odd = args.extra("--odd") != Some("false");
        if let Some(dir) = args.extra("--check-peers") {
            let (loss, terms) = peers::check_peers::<B>(Path::new(dir), problem.nu(), &device)?;
            println!("peers check: terms {terms:?}");
            println!(
                "burgers: peers_loss0={loss:.7} expected=0.8843147 (float32) / 0.88431459 (float64) \
                 backend={}",
                args.backend_name()
            );
            return Ok(());
        }
        if let Some(path) = args.extra("--check-reference") {
            let (rows, max_abs, rel) = peers::check_reference(Path::new(path), problem.exact())?;
            println!(
                "burgers: reference_check rows={rows} max_abs_diff={max_abs:.3e} \
                 rel_l2_diff={rel:.3e} file={path}"
            );
            return Ok(());
        }
        if let Some(n) = args.extra("--measure-cost") {
            let n: usize = n.parse().map_err(|_| {
                PinnError::InvalidConfig("--measure-cost takes a number of points".into())
            })?;
            let model = common::model_config(&problem, args).init::<B>(args.seed, &device)?;
            let c = measure_step_cost(&model, n, 15, &device)?;
            println!(
                "burgers: cost n={n} plain_ms={:.3} jet_ms={:.3} fd_ms={:.3} jet_ratio={:.2} \
                 fd_ratio={:.2} backend={}",
                c.plain_ms,
                c.jet_ms,
                c.finite_difference_ms,
                c.jet_ratio(),
                c.finite_difference_ratio(),
                args.backend_name()
            );
            return Ok(());
        }
        solve::<B, _>(&problem, args, device).map(|_| ())
    }
}

fn main() {
    let defaults = Defaults {
        hidden: vec![32, 32, 32, 32],
        activation: Activation::Tanh,
        fourier: None,
        precision: Precision::F64,
        n_f: 2048,
        adam_steps: 300,
        lr: 2e-3,
        lr_final: 0.05,
        resample_every: 500,
        lbfgs_iters: 20000,
        lbfgs_resample_every: 0,
        time_limit_s: 540.0,
    };
    let args = parse_args(
        "burgers",
        &defaults,
        &[
            "--check-peers",
            "--check-reference",
            "--measure-cost",
            "--odd",
        ],
        "  --odd true|false            build u(-x,t) = -u(x,t) into the network [true]\n  --check-peers DIR           only print the loss at the shared initial weights/points of\n                              DIR (e.g. /work/shared/peers) and exit\n  --check-reference CSV       only compare the Cole–Hopf reference with an x,t,u CSV\n                              (e.g. burgers_reference.csv): max |difference|, and exit\n  --measure-cost N            only time one training step (plain / jet / finite\n                              differences) on N points and exit\n",
    );
    if let Err(e) = dispatch(&args, &Job) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
