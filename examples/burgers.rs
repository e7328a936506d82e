//! Viscous Burgers PINN: `u_t + u u_x = (0.01/π) u_xx`, `x ∈ [−1, 1]`, `t ∈ [0, 1]`,
//! `u(x, 0) = −sin(πx)`, `u(±1, t) = 0`, against the exact Cole–Hopf solution.
//!
//! `cargo run --release --example burgers -- --help`

mod common;

use burn::tensor::backend::AutodiffBackend;
use common::{Args, BackendRun, Defaults, Precision, dispatch, parse_args, solve};
use pinn_jit::pinn::problems::Burgers;
use pinn_jit::pinn::{Activation, PinnError};

struct Job;

impl BackendRun for Job {
    fn run<B: AutodiffBackend>(&self, args: &Args, device: B::Device) -> Result<(), PinnError> {
        solve::<B, _>(&Burgers::default(), args, device).map(|_| ())
    }
}

fn main() {
    let defaults = Defaults {
        hidden: vec![32, 32, 32, 32],
        activation: Activation::Tanh,
        fourier: None,
        precision: Precision::F64,
        n_f: 4096,
        adam_steps: 3000,
        lr: 2e-3,
        lr_final: 0.05,
        resample_every: 500,
        lbfgs_iters: 3000,
        time_limit_s: 540.0,
    };
    let args = parse_args("burgers", &defaults, &["--check-peers"], "");
    if let Err(e) = dispatch(&args, &Job) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
