//! Issue 3's step-time benchmark: the peers' Burgers training step on PinnJitBackend,
//! burn-flex and burn-ndarray in one process, beside the peers' JAX and PyTorch numbers.
//!
//! ```text
//! cargo run --release --example pinn_step_bench -- --peers ../shared/peers
//! ```
//!
//! Workload (the peers' `bench_train.py`, float32): MLP 2→64→64→64→1 tanh with the shared
//! initial weights (`DIR/weights/train_init_weights.json`), the shared points
//! (`DIR/weights/burgers_points_nf{1024,8192}.csv`: N_f collocation, 256 initial, 256 boundary),
//! loss `mean(f²) + mean((u(x, 0) − u0)²) + mean(u(±1, t)²)` with the Burgers residual
//! `f = u_t + u u_x − (0.01/π) u_xx` from exact jets, one Adam update (lr 1e-3, ε 1e-8) per
//! step, the loss read back every step. Each backend runs 10 warm-up steps, then the median
//! of `--steps` timed steps (default 30) is reported. `loss0` (at the shared weights; the
//! peers' is 0.8843147) and `loss10` (after 10 Adam updates; the peers' is 0.4899597) check
//! that the workload is the same.
//!
//! Also measured: the plain step (the same network, points and Adam update, loss
//! `mean(u²)` on the collocation points without derivatives, plus the same IC/BC terms), and
//! the ratio of the derivative step to it; the peak heap of one step per backend; and the
//! peak heap of a short run of the default `burgers` recipe (f64, hard-constrained odd ansatz,
//! 4×32 tanh, 2048 points; `--default-adam` Adam steps and `--default-lbfgs` L-BFGS iterations)
//! per backend, counted by a global allocator.
//!
//! The last line is machine-readable:
//! `pinn_step: jit_8192_ms=<x> flex_8192_ms=<x> ndarray_8192_ms=<x> jit_1024_ms=<x> … peak_mem_ratio_vs_flex=<x>`.

#[allow(dead_code)]
mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
#[allow(dead_code)]
#[path = "common/peers.rs"]
mod peers;

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::backend::Autodiff;
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{DType, ElementConversion, FloatDType, IntDType, Tensor, TensorData};
use burn_flex::Flex;
use burn_ndarray::NdArray;
use pinn_jit::PinnJitBackend;
use pinn_jit::pinn::problems::Burgers;
use pinn_jit::pinn::{
    Activation, Jet, JetSpec, LossTerms, PinnError, PinnMlpConfig, PinnProblem, TrainConfig,
    Trainer, linear_stack_jet,
};

use counting_alloc::peak_of;

/// The peers' points: collocation, initial (with targets) and boundary.
struct Workload<B: Backend> {
    xf: Tensor<B, 2>,
    xi: Tensor<B, 2>,
    ui: Tensor<B, 2>,
    xb: Tensor<B, 2>,
}

fn load_workload<B: Backend>(
    dir: &Path,
    nf: usize,
    device: &B::Device,
) -> Result<Workload<B>, PinnError> {
    let [(xf, _), (xi, ui), (xb, _)] =
        peers::load_points(&dir.join(format!("weights/burgers_points_nf{nf}.csv")))?;
    let tensor = |v: &Vec<f64>, cols: usize| {
        Tensor::<B, 2>::from_data(TensorData::new(v.clone(), [v.len() / cols, cols]), device)
    };
    if xf.len() != 2 * nf {
        return Err(PinnError::Io(format!(
            "burgers_points_nf{nf}.csv holds {} collocation points, expected {nf}; regenerate \
             the peers' weights directory",
            xf.len() / 2
        )));
    }
    Ok(Workload {
        xf: tensor(&xf, 2),
        xi: tensor(&xi, 2),
        ui: tensor(&ui, 1),
        xb: tensor(&xb, 2),
    })
}

fn forward<B: Backend>(layers: &[Linear<B>], x: Tensor<B, 2>) -> Tensor<B, 2> {
    let (last, hidden) = layers.split_last().expect("at least one layer");
    let h = hidden
        .iter()
        .fold(x, |h, l| Activation::Tanh.forward(l.forward(h)));
    last.forward(h)
}

/// The peers' loss: Burgers residual from jets on the collocation points plus IC and BC.
fn pinn_loss<B: Backend>(layers: &[Linear<B>], w: &Workload<B>) -> Result<Tensor<B, 1>, PinnError> {
    let nu = 0.01 / core::f64::consts::PI;
    let spec = JetSpec::new(2).with_second(&[(0, 0)]);
    let u = linear_stack_jet(layers, Activation::Tanh, Jet::seed(w.xf.clone(), &spec)?);
    let f = u.d(1) + u.value() * u.d(0) - u.d2(0, 0)?.mul_scalar(nu);
    Ok(boundary_terms(layers, w).mse("pde", 1.0, f).total())
}

/// The same network, points and IC/BC terms, with `mean(u²)` instead of the PDE residual.
fn plain_loss<B: Backend>(layers: &[Linear<B>], w: &Workload<B>) -> Tensor<B, 1> {
    let u = forward(layers, w.xf.clone());
    boundary_terms(layers, w).mse("u", 1.0, u).total()
}

fn boundary_terms<B: Backend>(layers: &[Linear<B>], w: &Workload<B>) -> LossTerms<B> {
    LossTerms::new()
        .mse("ic", 1.0, forward(layers, w.xi.clone()) - w.ui.clone())
        .mse("bc", 1.0, forward(layers, w.xb.clone()))
}

/// Timings of one backend at one N_f.
struct StepTimes {
    jet_ms: f64,
    plain_ms: f64,
    loss0: f64,
    loss10: f64,
    step_peak: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A loss of the layers on the workload.
type LossFn<B> = dyn Fn(&[Linear<B>], &Workload<B>) -> Result<Tensor<B, 1>, PinnError>;

/// 10 warm-up steps then `steps` timed steps of `loss_fn` + Adam; returns the median step
/// milliseconds, the loss at the start and after 10 updates, and the peak heap of one step.
fn time_steps<B: AutodiffBackend>(
    layers: Vec<Linear<B>>,
    w: &Workload<B>,
    steps: usize,
    loss_fn: &LossFn<B>,
) -> Result<(f64, f64, f64, usize), PinnError> {
    let mut opt = AdamConfig::new()
        .with_epsilon(1e-8)
        .init::<B, Vec<Linear<B>>>();
    let mut layers = layers;
    let mut step = |layers: Vec<Linear<B>>| -> Result<(Vec<Linear<B>>, f64), PinnError> {
        let loss = loss_fn(&layers, w)?;
        let grads = GradientsParams::from_grads(loss.backward(), &layers);
        let layers = opt.step(1e-3, layers, grads);
        Ok((layers, loss.into_scalar().elem::<f64>()))
    };
    let mut loss0 = f64::NAN;
    for i in 0..10 {
        let (l, v) = step(layers)?;
        layers = l;
        if i == 0 {
            loss0 = v;
        }
    }
    let (res, step_peak) = peak_of(|| step(layers));
    let (l, loss10) = res?;
    layers = l;
    let mut times = Vec::with_capacity(steps);
    for _ in 0..steps {
        let t = Instant::now();
        let (l, v) = step(layers)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        layers = l;
        if !v.is_finite() {
            return Err(PinnError::NonFinite(format!("benchmark loss {v}")));
        }
    }
    Ok((median(times), loss0, loss10, step_peak))
}

fn measure_steps<B: AutodiffBackend>(
    dir: &Path,
    nf: usize,
    steps: usize,
) -> Result<StepTimes, PinnError> {
    let device = B::Device::default();
    let w = load_workload::<B>(dir, nf, &device)?;
    let layers = peers::load_layers::<B>(&dir.join("weights/train_init_weights.json"), &device)?;
    let (jet_ms, loss0, loss10, step_peak) = time_steps(layers.clone(), &w, steps, &pinn_loss)?;
    let (plain_ms, ..) = time_steps(layers, &w, steps, &|l, w| Ok(plain_loss(l, w)))?;
    Ok(StepTimes {
        jet_ms,
        plain_ms,
        loss0,
        loss10,
        step_peak,
    })
}

/// Peak heap (bytes) of a short run of the default `burgers` recipe, and its final loss.
fn default_run_peak<B: AutodiffBackend>(
    device: B::Device,
    adam: usize,
    lbfgs: usize,
) -> Result<(usize, f64), PinnError> {
    let problem = Burgers::default();
    let dom = problem.domain();
    let model = PinnMlpConfig::new(2, 1, vec![32, 32, 32, 32])
        .with_activation(Activation::Tanh)
        .with_input_bounds(Some((dom.lower().to_vec(), dom.upper().to_vec())))
        .init::<B>(0, &device)?;
    let cfg = TrainConfig::new()
        .with_n_collocation(2048)
        .with_adam_steps(adam)
        .with_lr(2e-3)
        .with_lr_final_factor(0.05)
        .with_resample_every(500)
        .with_lbfgs_iters(lbfgs)
        .with_quiet(true);
    let (out, peak) = peak_of(|| Trainer::new(&problem, cfg).train(model, &device));
    let (_, report) = out?;
    Ok((peak, report.final_loss))
}

struct Options {
    dir: PathBuf,
    steps: usize,
    default_adam: usize,
    default_lbfgs: usize,
    default_run_only: bool,
    jit_only: usize,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        dir: PathBuf::from("../shared/peers"),
        steps: 30,
        default_adam: 20,
        default_lbfgs: 10,
        default_run_only: false,
        jit_only: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" {
            return Err(String::new());
        }
        let v = args.next().ok_or(format!("{flag} needs a value"))?;
        let num = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{flag} takes a number"))
        };
        match flag.as_str() {
            "--peers" => o.dir = PathBuf::from(v),
            "--steps" => o.steps = num(&v)?.max(1),
            "--default-adam" => o.default_adam = num(&v)?,
            "--default-lbfgs" => o.default_lbfgs = num(&v)?,
            "--default-run-only" => o.default_run_only = v == "1",
            "--jit-only" => o.jit_only = num(&v)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
}

const USAGE: &str = "usage: pinn_step_bench [--peers DIR] [--steps N] [--default-adam N] \
                     [--default-lbfgs N]\n  --peers DIR         the peers' directory with weights/ \
                     [../shared/peers]\n  --steps N           timed steps per measurement [30]\n  \
                     --default-adam N    Adam steps of the default-recipe memory run [20]\n  \
                     --default-lbfgs N   L-BFGS iterations of that run [10]\n  \
                     --default-run-only 1  only the default-recipe memory run (one line)\n  \
                     --jit-only N_F      only PinnJitBackend's step at N_f = N_F (for a profiler)\n";

fn mib(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// The child process: the default-recipe runs in f64 on every backend, one line of output.
fn default_runs(o: &Options) -> Result<(), PinnError> {
    let jit_dev = Default::default();
    burn::tensor::set_default_dtypes::<PinnJitBackend>(&jit_dev, FloatDType::F64, IntDType::I32)
        .map_err(|e| PinnError::InvalidConfig(format!("cannot switch pinn-jit to f64: {e:?}")))?;
    let flex_dev = Default::default();
    burn::tensor::set_default_dtypes::<Flex>(&flex_dev, FloatDType::F64, IntDType::I32)
        .map_err(|e| PinnError::InvalidConfig(format!("cannot switch Flex to f64: {e:?}")))?;
    let probe = Tensor::<PinnJitBackend, 1>::zeros([1], &jit_dev);
    if probe.dtype() != DType::F64 {
        return Err(PinnError::InvalidConfig(
            "pinn-jit did not switch to f64 for the default-recipe run".into(),
        ));
    }
    let (jit, jit_loss) =
        default_run_peak::<Autodiff<PinnJitBackend>>(jit_dev, o.default_adam, o.default_lbfgs)?;
    let (flex, flex_loss) =
        default_run_peak::<Autodiff<Flex>>(flex_dev, o.default_adam, o.default_lbfgs)?;
    let (nd, nd_loss) = default_run_peak::<Autodiff<NdArray<f64>>>(
        Default::default(),
        o.default_adam,
        o.default_lbfgs,
    )?;
    println!(
        "default_run: jit_peak_mib={:.2} flex_peak_mib={:.2} ndarray_peak_mib={:.2} \
         jit_loss={jit_loss:.4e} flex_loss={flex_loss:.4e} ndarray_loss={nd_loss:.4e}",
        mib(jit),
        mib(flex),
        mib(nd)
    );
    Ok(())
}

fn run(o: &Options) -> Result<(), PinnError> {
    pinn_jit::runtime::memory::keep_freed_memory();
    type Jit = Autodiff<PinnJitBackend>;
    type Fx = Autodiff<Flex>;
    type Nd = Autodiff<NdArray<f32>>;
    let names = ["jit", "flex", "ndarray"];
    let mut rows: Vec<(usize, [StepTimes; 3])> = Vec::new();
    for nf in [8192, 1024] {
        println!("N_f = {nf}: timing {} steps per backend …", o.steps);
        let r = [
            measure_steps::<Jit>(&o.dir, nf, o.steps)?,
            measure_steps::<Fx>(&o.dir, nf, o.steps)?,
            measure_steps::<Nd>(&o.dir, nf, o.steps)?,
        ];
        rows.push((nf, r));
    }
    println!();
    println!(
        "| impl | N_f | step ms | plain step ms | step / plain | loss0 | loss10 | step peak heap MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (nf, r) in &rows {
        for (name, t) in names.iter().zip(r) {
            println!(
                "| {name} | {nf} | {:.2} | {:.2} | {:.2} | {:.7} | {:.7} | {:.1} |",
                t.jet_ms,
                t.plain_ms,
                t.jet_ms / t.plain_ms,
                t.loss0,
                t.loss10,
                mib(t.step_peak)
            );
        }
    }
    println!("| JAX jit (jvp), peers | 8192 / 1024 | 50.20 / 5.78 | | | 0.8843145 | 0.4899607 | |");
    println!("| PyTorch eager, peers | 8192 / 1024 | 47.46 / 8.30 | | | 0.8843147 | 0.4899597 | |");
    println!(
        "targets on PinnJitBackend: N_f = 8192 <= 25 ms, N_f = 1024 <= 4 ms, step / plain <= 3"
    );

    // The default Burgers recipe runs in f64, and the default float type of a backend's
    // device can only be set before its first tensor: measure it in a child process.
    println!();
    println!(
        "default burgers recipe (f64, {} Adam + {} L-BFGS), peak heap per backend …",
        o.default_adam, o.default_lbfgs
    );
    let exe = std::env::current_exe()?;
    let child = std::process::Command::new(exe)
        .args([
            "--default-run-only",
            "1",
            "--default-adam",
            &o.default_adam.to_string(),
            "--default-lbfgs",
            &o.default_lbfgs.to_string(),
        ])
        .output()?;
    let text = String::from_utf8_lossy(&child.stdout);
    if !child.status.success() {
        return Err(PinnError::Io(format!(
            "the default-recipe memory run failed: {}{}",
            text,
            String::from_utf8_lossy(&child.stderr)
        )));
    }
    let field = |key: &str| -> Result<f64, PinnError> {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(key).and_then(|v| v.parse().ok()))
            .ok_or_else(|| PinnError::Io(format!("no {key} in the memory run's output: {text}")))
    };
    let (jit_peak, flex_peak, nd_peak) = (
        field("jit_peak_mib=")?,
        field("flex_peak_mib=")?,
        field("ndarray_peak_mib=")?,
    );
    print!("{text}");
    println!(
        "peak heap of the default burgers recipe: jit / flex = {:.2} (target <= 0.5)",
        jit_peak / flex_peak
    );

    let mut last = String::from("pinn_step:");
    for (nf, r) in &rows {
        for (name, t) in names.iter().zip(r) {
            last.push_str(&format!(" {name}_{nf}_ms={:.2}", t.jet_ms));
        }
    }
    for (nf, r) in &rows {
        last.push_str(&format!(
            " jit_{nf}_step_over_plain={:.2}",
            r[0].jet_ms / r[0].plain_ms
        ));
    }
    last.push_str(&format!(
        " jit_peak_mib={jit_peak:.1} flex_peak_mib={flex_peak:.1} ndarray_peak_mib={nd_peak:.1} \
         peak_mem_ratio_vs_flex={:.2}",
        jit_peak / flex_peak
    ));
    println!("{last}");
    Ok(())
}

/// Only PinnJitBackend's derivative step at N_f = `o.jit_only`, for a profiler: one line.
fn jit_only(o: &Options) -> Result<(), PinnError> {
    pinn_jit::runtime::memory::keep_freed_memory();
    let t = measure_steps::<Autodiff<PinnJitBackend>>(&o.dir, o.jit_only, o.steps)?;
    println!(
        "jit_only: step_ms={:.2} plain_ms={:.2} loss10={:.7}",
        t.jet_ms, t.plain_ms, t.loss10
    );
    Ok(())
}

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let result = if o.jit_only > 0 {
        jit_only(&o)
    } else if o.default_run_only {
        default_runs(&o)
    } else {
        run(&o)
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
