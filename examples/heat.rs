//! 1D heat equation u_t = 0.1 u_xx on [0,1]x[0,1], u(x,0) = x(1-x), u(0,t) = u(1,t) = 0, against its exact Fourier series.
//!
//! `cargo run --release --example heat -- --help`

mod common;

use burn::tensor::backend::AutodiffBackend;
use common::{Args, BackendRun, Defaults, Precision, dispatch, parse_args, solve};
use pinn_jit::pinn::problems::Heat;
use pinn_jit::pinn::{Activation, PinnError};

struct Job;

impl BackendRun for Job {
    fn run<B: AutodiffBackend>(&self, args: &Args, device: B::Device) -> Result<(), PinnError> {
        solve::<B, _>(&Heat::default(), args, device).map(|_| ())
    }
}

fn main() {
    let defaults = Defaults {
        hidden: vec![32, 32, 32],
        activation: Activation::Tanh,
        fourier: None,
        precision: Precision::F64,
        n_f: 2048,
        adam_steps: 1500,
        lr: 2e-3,
        lr_final: 0.05,
        resample_every: 0,
        lbfgs_iters: 500,
        lbfgs_resample_every: 0,
        time_limit_s: 540.0,
    };
    let args = parse_args("heat", &defaults, &[], "");
    if let Err(e) = dispatch(&args, &Job) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
