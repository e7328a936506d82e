//! What `edge_export` and `mcu_export` share: their `[--model PATH] [--out DIR]` options and the
//! model they export (a saved `CompiledModel`, or a fresh Burgers-shaped MLP). Include it with
//! `#[path = "common/edge_model.rs"] mod edge_model;` beside
//! `#[path = "../benches/workloads.rs"] mod workloads;`.

use std::path::{Path, PathBuf};

use pinn_jit::inference::{CompiledModel, Tracer};

use crate::workloads::Mlp;

/// The command line: `--model PATH` (a file written by `CompiledModel::save`) and `--out DIR`.
pub struct Options {
    pub model: Option<PathBuf>,
    pub out: Option<PathBuf>,
}

/// Parses the command line of the example `name`; exits with a usage line on anything else.
pub fn options(name: &str) -> Options {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        model: None,
        out: None,
    };
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--model", Some(p)) => o.model = Some(PathBuf::from(p)),
            ("--out", Some(p)) => o.out = Some(PathBuf::from(p)),
            _ => {
                eprintln!("usage: {name} [--model PATH] [--out DIR]");
                std::process::exit(2);
            }
        }
    }
    o
}

/// The model at `path`, or a fresh Burgers-shaped MLP (2 → 64 → 64 → 64 → 1, tanh); exits with
/// the error if the file cannot be loaded.
pub fn model(path: Option<&Path>) -> CompiledModel {
    match path {
        Some(p) => CompiledModel::load(p).unwrap_or_else(|e| {
            eprintln!("error: {e}");
            std::process::exit(1)
        }),
        None => {
            let mlp = Mlp::<Tracer>::new(&Default::default());
            CompiledModel::trace(2, |x| mlp.forward(x)).expect("the MLP compiles")
        }
    }
}
