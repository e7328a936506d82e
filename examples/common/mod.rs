//! Shared plumbing of the PINN example solvers: command line, backend dispatch, training,
//! evaluation, CSV / PNG output and the machine-readable summary line.

use std::path::PathBuf;
use std::time::Instant;

use burn::backend::Autodiff;
use burn::tensor::backend::AutodiffBackend;
use burn_backend::{FloatDType, IntDType};
use burn_flex::Flex;
use burn_ndarray::NdArray;
use pinn_jit::PinnJitBackend;
use pinn_jit::pinn::plot::{HeatMap, save_panels};
use pinn_jit::pinn::{
    Activation, FourierConfig, PinnError, PinnMlp, PinnMlpConfig, PinnProblem, TrainConfig,
    TrainReport, Trainer, predict, rel_l2,
};

/// Which Burn backend runs the example.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// `pinn_jit::PinnJitBackend` (default): element-wise chains compiled by Cranelift.
    PinnJit,
    /// `burn_flex::Flex`.
    Flex,
    /// `burn_ndarray::NdArray`.
    NdArray,
}

/// Floating-point precision of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

/// Per-example defaults; every field can be overridden on the command line.
#[derive(Clone, Debug)]
pub struct Defaults {
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub fourier: Option<(usize, f64)>,
    pub precision: Precision,
    pub n_f: usize,
    pub adam_steps: usize,
    pub lr: f64,
    pub lr_final: f64,
    pub resample_every: usize,
    pub lbfgs_iters: usize,
    pub lbfgs_resample_every: usize,
    pub time_limit_s: f64,
}

/// Parsed command line.
#[derive(Clone, Debug)]
pub struct Args {
    pub backend: BackendKind,
    pub precision: Precision,
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub fourier: Option<(usize, f64)>,
    pub n_f: usize,
    pub adam_steps: usize,
    pub lr: f64,
    pub lr_final: f64,
    pub resample_every: usize,
    pub lbfgs_iters: usize,
    pub lbfgs_resample_every: usize,
    pub time_limit_s: f64,
    pub seed: u64,
    pub log_every: usize,
    pub plot: PathBuf,
    pub save_predictions: Option<PathBuf>,
    pub extra: Vec<(String, String)>,
}

fn usage(name: &str, d: &Defaults, extra_help: &str) -> String {
    format!(
        "Usage: cargo run --release --example {name} -- [options]\n\n\
         Options (defaults in brackets):\n\
         \x20 --backend pinn-jit|flex|ndarray  Burn backend [pinn-jit]\n\
         \x20 --precision f32|f64        float type of the network [{prec}]\n\
         \x20 --hidden W,W,...           hidden layer widths [{hidden}]\n\
         \x20 --activation NAME          tanh|sin|sigmoid|softplus|silu|gelu [{act}]\n\
         \x20 --fourier N,SIGMA|none     Fourier-feature embedding [{fourier}]\n\
         \x20 --n-f N                    collocation points [{nf}]\n\
         \x20 --adam-steps N             Adam steps [{adam}]\n\
         \x20 --lr LR                    initial Adam learning rate [{lr}]\n\
         \x20 --lr-final F               final / initial learning rate (exponential decay) [{lrf}]\n\
         \x20 --resample-every N         RAD resampling period in Adam steps, 0 = off [{rs}]\n\
         \x20 --lbfgs-iters N            L-BFGS iterations after Adam [{lb}]\n\
         \x20 --lbfgs-resample-every N   RAD resampling period in L-BFGS iterations, 0 = off [{lrs}]\n\
         \x20 --time-limit S             training time budget: Adam stops at 90 %, L-BFGS at 100 % [{tl}]\n\
         \x20 --seed N                   seed of weights and samplers [0]\n\
         \x20 --log-every N              progress line period [500]\n\
         \x20 --plot PATH                PNG of prediction, reference and error [{name}.png]\n\
         \x20 --save-predictions PATH    CSV of the prediction on the test grid\n\
         {extra_help}\
         \x20 --help                     this text\n",
        prec = match d.precision {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        },
        hidden = d
            .hidden
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        act = d.activation,
        fourier = d.fourier.map_or("none".into(), |(n, s)| format!("{n},{s}")),
        nf = d.n_f,
        adam = d.adam_steps,
        lr = d.lr,
        lrf = d.lr_final,
        rs = d.resample_every,
        lb = d.lbfgs_iters,
        lrs = d.lbfgs_resample_every,
        tl = d.time_limit_s,
    )
}

fn parse_num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{flag}: cannot parse '{v}' as a number"))
}

/// Parses `std::env::args`; `extra_flags` are example-specific `--flag VALUE` options kept
/// in `Args::extra`. Prints the usage and exits on `--help` or an error.
pub fn parse_args(name: &str, d: &Defaults, extra_flags: &[&str], extra_help: &str) -> Args {
    match try_parse(name, d, extra_flags, std::env::args().skip(1).collect()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{}", usage(name, d, extra_help));
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{}", usage(name, d, extra_help));
            std::process::exit(2);
        }
    }
}

fn try_parse(
    name: &str,
    d: &Defaults,
    extra_flags: &[&str],
    argv: Vec<String>,
) -> Result<Option<Args>, String> {
    let mut a = Args {
        backend: BackendKind::PinnJit,
        precision: d.precision,
        hidden: d.hidden.clone(),
        activation: d.activation,
        fourier: d.fourier,
        n_f: d.n_f,
        adam_steps: d.adam_steps,
        lr: d.lr,
        lr_final: d.lr_final,
        resample_every: d.resample_every,
        lbfgs_iters: d.lbfgs_iters,
        lbfgs_resample_every: d.lbfgs_resample_every,
        time_limit_s: d.time_limit_s,
        seed: 0,
        log_every: 500,
        plot: PathBuf::from(format!("{name}.png")),
        save_predictions: None,
        extra: Vec::new(),
    };
    let mut it = argv.into_iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--backend" => {
                a.backend = match v.as_str() {
                    "flex" => BackendKind::Flex,
                    "ndarray" => BackendKind::NdArray,
                    "pinn-jit" => BackendKind::PinnJit,
                    _ => return Err(format!("unknown backend '{v}' (pinn-jit, flex, ndarray)")),
                }
            }
            "--precision" => {
                a.precision = match v.as_str() {
                    "f32" => Precision::F32,
                    "f64" => Precision::F64,
                    _ => return Err(format!("unknown precision '{v}' (f32, f64)")),
                }
            }
            "--hidden" => {
                a.hidden = v
                    .split(',')
                    .map(|w| parse_num("--hidden", w))
                    .collect::<Result<_, _>>()?;
            }
            "--activation" => a.activation = v.parse().map_err(|e: PinnError| e.to_string())?,
            "--fourier" => {
                a.fourier = if v == "none" {
                    None
                } else {
                    let (n, s) = v.split_once(',').ok_or("--fourier takes N,SIGMA or none")?;
                    Some((parse_num("--fourier", n)?, parse_num("--fourier", s)?))
                }
            }
            "--n-f" => a.n_f = parse_num(&flag, &v)?,
            "--adam-steps" => a.adam_steps = parse_num(&flag, &v)?,
            "--lr" => a.lr = parse_num(&flag, &v)?,
            "--lr-final" => a.lr_final = parse_num(&flag, &v)?,
            "--resample-every" => a.resample_every = parse_num(&flag, &v)?,
            "--lbfgs-iters" => a.lbfgs_iters = parse_num(&flag, &v)?,
            "--lbfgs-resample-every" => a.lbfgs_resample_every = parse_num(&flag, &v)?,
            "--time-limit" => a.time_limit_s = parse_num(&flag, &v)?,
            "--seed" => a.seed = parse_num(&flag, &v)?,
            "--log-every" => a.log_every = parse_num(&flag, &v)?,
            "--plot" => a.plot = PathBuf::from(v),
            "--save-predictions" => a.save_predictions = Some(PathBuf::from(v)),
            f if extra_flags.contains(&f) => a.extra.push((flag.clone(), v)),
            _ => return Err(format!("unknown option '{flag}'")),
        }
    }
    Ok(Some(a))
}

impl Args {
    /// The value of an example-specific flag.
    #[allow(dead_code)] // only the examples with extra flags (burgers) call it
    pub fn extra(&self, flag: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(f, _)| f == flag)
            .map(|(_, v)| v.as_str())
    }

    /// The name printed in the summary line.
    pub fn backend_name(&self) -> String {
        let b = match self.backend {
            BackendKind::PinnJit => "pinn-jit",
            BackendKind::Flex => "flex",
            BackendKind::NdArray => "ndarray",
        };
        let p = match self.precision {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        };
        format!("{b}-{p}")
    }
}

/// Something to run once the backend type is chosen.
pub trait BackendRun {
    /// Runs with the autodiff backend `B`.
    fn run<B: AutodiffBackend>(&self, args: &Args, device: B::Device) -> Result<(), PinnError>;
}

/// Calls `job.run::<B>` with the backend and precision of `args`. Adding a backend is one
/// match arm here.
pub fn dispatch<J: BackendRun>(args: &Args, job: &J) -> Result<(), PinnError> {
    if std::env::var_os("PINN_MALLOC_DEFAULTS").is_none() {
        pinn_jit::runtime::memory::keep_freed_memory();
    }
    match (args.backend, args.precision) {
        (BackendKind::PinnJit, Precision::F32) => {
            job.run::<Autodiff<PinnJitBackend>>(args, Default::default())
        }
        (BackendKind::PinnJit, Precision::F64) => {
            let device = Default::default();
            burn::tensor::set_default_dtypes::<PinnJitBackend>(
                &device,
                FloatDType::F64,
                IntDType::I32,
            )
            .map_err(|e| {
                PinnError::InvalidConfig(format!("cannot switch pinn-jit to f64: {e:?}"))
            })?;
            job.run::<Autodiff<PinnJitBackend>>(args, device)
        }
        (BackendKind::Flex, Precision::F32) => job.run::<Autodiff<Flex>>(args, Default::default()),
        (BackendKind::Flex, Precision::F64) => {
            // Flex picks its float type at run time: make f64 the device default before any
            // tensor exists.
            let device = Default::default();
            burn::tensor::set_default_dtypes::<Flex>(&device, FloatDType::F64, IntDType::I32)
                .map_err(|e| {
                    PinnError::InvalidConfig(format!("cannot switch Flex to f64: {e:?}"))
                })?;
            job.run::<Autodiff<Flex>>(args, device)
        }
        (BackendKind::NdArray, Precision::F32) => {
            job.run::<Autodiff<NdArray<f32>>>(args, Default::default())
        }
        (BackendKind::NdArray, Precision::F64) => {
            job.run::<Autodiff<NdArray<f64>>>(args, Default::default())
        }
    }
}

/// The network configuration from the command line, normalising inputs to the problem box.
pub fn model_config<P: PinnProblem>(problem: &P, args: &Args) -> PinnMlpConfig {
    let dom = problem.domain();
    PinnMlpConfig::new(dom.dim(), 1, args.hidden.clone())
        .with_activation(args.activation)
        .with_fourier(
            args.fourier
                .map(|(n, s)| FourierConfig::new(n).with_sigma(s)),
        )
        .with_input_bounds(Some((dom.lower().to_vec(), dom.upper().to_vec())))
}

/// The training configuration from the command line.
pub fn train_config(args: &Args) -> TrainConfig {
    TrainConfig::new()
        .with_n_collocation(args.n_f)
        .with_adam_steps(args.adam_steps)
        .with_lr(args.lr)
        .with_lr_final_factor(args.lr_final)
        .with_resample_every(args.resample_every)
        .with_lbfgs_iters(args.lbfgs_iters)
        .with_lbfgs_resample_every(args.lbfgs_resample_every)
        .with_time_limit_s(Some(args.time_limit_s))
        .with_seed(args.seed)
        .with_log_every(args.log_every)
}

/// Trains `problem` with the command-line settings, evaluates on the test grid, writes the
/// plot and optional CSV, and prints the summary lines (the last one machine-readable).
pub fn solve<B: AutodiffBackend, P: PinnProblem>(
    problem: &P,
    args: &Args,
    device: B::Device,
) -> Result<(PinnMlp<B>, TrainReport), PinnError> {
    let cfg = model_config(problem, args);
    let model: PinnMlp<B> = cfg.init(args.seed, &device)?;
    println!(
        "{}: backend={} hidden={:?} activation={} fourier={:?} N_f={} adam={} lr={} lbfgs<={}",
        problem.name(),
        args.backend_name(),
        args.hidden,
        args.activation,
        args.fourier,
        args.n_f,
        args.adam_steps,
        args.lr,
        args.lbfgs_iters
    );
    let t_ref = Instant::now();
    let grid = problem.test_grid();
    let reference = problem.reference(&grid);
    println!(
        "reference solution on {} points in {:.2} s",
        grid.len(),
        t_ref.elapsed().as_secs_f64()
    );
    let (model, report) = Trainer::new(problem, train_config(args)).train(model, &device)?;
    if let Some(why) = &report.non_finite {
        println!("warning: {why}");
    }
    let pred = predict(
        problem,
        &burn::module::AutodiffModule::valid(&model),
        &grid,
        &device,
    )?;
    let err = rel_l2(&pred, &reference);
    let (xs, ys) = problem.test_axes();
    let names = problem.input_names();
    if let Some(path) = &args.save_predictions {
        let mut csv = format!("{},{},u\n", names[0], names[1]);
        for (i, u) in pred.iter().enumerate() {
            let p = grid.row(i);
            csv.push_str(&format!("{},{},{u}\n", p[0], p[1]));
        }
        std::fs::write(path, csv)?;
        println!("predictions written to {}", path.display());
    }
    let abs_err: Vec<f64> = pred
        .iter()
        .zip(&reference)
        .map(|(p, r)| (p - r).abs())
        .collect();
    let (nx, ny) = (xs.len(), ys.len());
    let panels = [
        HeatMap::new("prediction", nx, ny, pred.clone()),
        HeatMap::new("reference", nx, ny, reference.clone()),
        HeatMap::new("|error|", nx, ny, abs_err),
    ];
    save_panels(&args.plot, &panels, names)?;
    println!(
        "adam: {} steps in {:.1} s ({:.2} ms/step); lbfgs: {} iterations / {} evaluations in {:.1} s",
        report.adam_steps,
        report.adam_s,
        report.adam_step_ms(),
        report.lbfgs_iters,
        report.lbfgs_evals,
        report.lbfgs_s
    );
    println!("relative L2 error on the test grid: {err:.3e}");
    println!("plot written to {}", args.plot.display());
    println!(
        "{}: rel_l2={:.4e} steps={}+{} train_s={:.1} step_ms={:.2} backend={}",
        problem.name(),
        err,
        report.adam_steps,
        report.lbfgs_iters,
        report.train_s,
        report.adam_step_ms(),
        args.backend_name()
    );
    Ok((model, report))
}
