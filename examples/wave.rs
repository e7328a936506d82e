//! 1D wave equation u_tt = u_xx on [0,1]x[0,1], plucked string with fixed ends, against d'Alembert's solution.
//!
//! `cargo run --release --example wave -- --help`

mod common;

use burn::tensor::backend::AutodiffBackend;
use common::{Args, BackendRun, Defaults, Precision, dispatch, parse_args, solve};
use pinn_jit::pinn::problems::Wave;
use pinn_jit::pinn::{Activation, PinnError};

struct Job;

impl BackendRun for Job {
    fn run<B: AutodiffBackend>(&self, args: &Args, device: B::Device) -> Result<(), PinnError> {
        solve::<B, _>(&Wave::default(), args, device).map(|_| ())
    }
}

fn main() {
    let defaults = Defaults {
        hidden: vec![48, 48, 48],
        activation: Activation::Tanh,
        fourier: None,
        precision: Precision::F64,
        n_f: 4096,
        adam_steps: 2000,
        lr: 2e-3,
        lr_final: 0.05,
        resample_every: 0,
        lbfgs_iters: 1500,
        lbfgs_resample_every: 0,
        time_limit_s: 540.0,
    };
    let args = parse_args("wave", &defaults, &[], "");
    if let Err(e) = dispatch(&args, &Job) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
