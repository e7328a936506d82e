//! Quantized Burgers PINN: what FP16, INT8 and INT4 cost in accuracy (against the `f32` model
//! and the exact solution), in PDE residual, and what they buy in weight memory and latency.
//!
//! Trains the Burgers PINN briefly (about a minute; `--long` for the full schedule), then
//! quantizes it every way `pinn_jit::quant` offers and prints a table and the summary line
//! `quantize: fp16_delta=… int8_delta=… int4_delta=… int8_mem_ratio=… int4_mem_ratio=…`.
//! The summary's INT8 is the dynamic W8A8 model (INT8 per-tensor weights, activations
//! quantized per row at run time, the first layer's coordinate inputs kept `f32`) after
//! quantization-aware fine-tuning; its INT4 is the per-tensor INT4 model after fine-tuning.
//! The table also shows the post-training variants without fine-tuning.
//!
//! The weights the errors are measured on matter: a briefly trained PINN has smooth features
//! that survive quantization, a well-trained one a sharp shock that does not. To measure a
//! well-trained model, train once and reuse it:
//!
//! ```text
//! quantize --long --save-model burgers.params          # 540 s budget
//! quantize --load-model burgers.params --continue --adam-steps 0 --lbfgs-iters 4000 \
//!          --time-limit 900 --save-model burgers2.params
//! quantize --load-model burgers2.params
//! ```
//!
//! `cargo run --release --example quantize -- --help`

use std::time::Instant;

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::tensor::{Tensor, TensorData};
use pinn_jit::PinnJitBackend;
use pinn_jit::inference::{CompileOptions, CompiledModel, Tracer, WeightPrecision};
use pinn_jit::pinn::problems::Burgers;
use pinn_jit::pinn::{
    AnsatzBatch, PinnMlp, PinnMlpConfig, PinnProblem, Points, Rng, Sampling, TrainConfig, Trainer,
    flatten_params, load_params, predict, rel_l2,
};
use pinn_jit::quant::{
    ActQuant, Granularity, LayerPlan, QatConfig, QuantError, QuantizedMlp, WeightFormat, build,
    choose_mixed_by, fp32_plan, qat_finetune, uniform_plan,
};

type B = PinnJitBackend;
type AD = Autodiff<PinnJitBackend>;

const HELP: &str = "\
Usage: cargo run --release --example quantize -- [options]

  --hidden W,W,...      hidden widths [32,32,32,32]
  --n-f N               collocation points [2048]
  --adam-steps N        Adam steps [1000]
  --lbfgs-iters N       L-BFGS iterations [1000]
  --time-limit S        training time budget in seconds [60]
  --long                the full schedule of the burgers example (1500 Adam, 3000 L-BFGS,
                        540 s budget)
  --qat-steps N         INT4 quantization-aware fine-tuning steps [300]
  --int8-qat-steps N    fine-tuning steps of the INT8 weights of the W8A8 model [300]
  --int8-qat-lr LR      their initial learning rate [0.0003]
  --qat-points N        collocation points of the fine-tuning [1024]
  --qat-lr LR           initial learning rate of the INT4 fine-tuning [0.001]
  --qat-distill W       weight of the match-the-f32-output term of the fine-tuning [1000]
  --int8 G              INT8 weight scales of the W8A8 rows: tensor|channel|blockN [tensor]
  --int4 G              INT4 weight scales of the QAT row: tensor|channel|blockN [tensor]
  --mixed-budget E      mixed precision: largest rel. L2 error of u (vs f32, on the
                        calibration points) allowed [0.01]
  --portable            run the host kernels' portable build instead of the AVX2 one
  --fd-step H           finite-difference step of the FD residual [0.001953125]
  --seed N              seed [0]
  --save-model PATH     write the trained f32 parameters (text, one per line)
  --load-model PATH     skip training: load parameters written by --save-model (same --hidden)
  --continue            with --load-model: train the loaded model further (e.g. --adam-steps 0)
  --help                this text
";

struct Opts {
    hidden: Vec<usize>,
    n_f: usize,
    adam_steps: usize,
    lbfgs_iters: usize,
    time_limit: f64,
    qat_steps: usize,
    qat_points: usize,
    int8_qat_steps: usize,
    qat_lr: f64,
    int8_qat_lr: f64,
    qat_distill: f64,
    portable: bool,
    int8: Granularity,
    int4: Granularity,
    mixed_budget: f64,
    fd_step: f64,
    seed: u64,
    save_model: Option<String>,
    load_model: Option<String>,
    continue_training: bool,
}

fn parse_granularity(v: &str) -> Result<Granularity, String> {
    match v {
        "tensor" => Ok(Granularity::PerTensor),
        "channel" => Ok(Granularity::PerChannel),
        b if b.starts_with("block") => b[5..]
            .parse()
            .map(Granularity::PerBlock)
            .map_err(|_| format!("cannot parse the block size in '{v}' (e.g. block16)")),
        _ => Err(format!(
            "unknown granularity '{v}' (tensor, channel, blockN)"
        )),
    }
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        hidden: vec![32, 32, 32, 32],
        n_f: 2048,
        adam_steps: 1000,
        lbfgs_iters: 1000,
        time_limit: 60.0,
        qat_steps: 300,
        qat_points: 1024,
        int8_qat_steps: 300,
        int8_qat_lr: 3e-4,
        qat_lr: 1e-3,
        qat_distill: 1000.0,
        portable: false,
        int8: Granularity::PerTensor,
        int4: Granularity::PerTensor,
        mixed_budget: 0.01,
        fd_step: 1.0 / 512.0,
        seed: 0,
        save_model: None,
        load_model: None,
        continue_training: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            print!("{HELP}");
            std::process::exit(0);
        }
        if flag == "--continue" {
            o.continue_training = true;
            continue;
        }
        if flag == "--portable" {
            o.portable = true;
            continue;
        }
        if flag == "--long" {
            o.adam_steps = 1500;
            o.lbfgs_iters = 3000;
            o.time_limit = 540.0;
            continue;
        }
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = |what: &str| format!("{flag}: cannot parse '{v}' as {what}");
        match flag.as_str() {
            "--hidden" => {
                o.hidden = v
                    .split(',')
                    .map(|w| w.parse().map_err(|_| num("widths")))
                    .collect::<Result<_, _>>()?
            }
            "--n-f" => o.n_f = v.parse().map_err(|_| num("a count"))?,
            "--adam-steps" => o.adam_steps = v.parse().map_err(|_| num("a count"))?,
            "--lbfgs-iters" => o.lbfgs_iters = v.parse().map_err(|_| num("a count"))?,
            "--time-limit" => o.time_limit = v.parse().map_err(|_| num("seconds"))?,
            "--qat-steps" => o.qat_steps = v.parse().map_err(|_| num("a count"))?,
            "--qat-points" => o.qat_points = v.parse().map_err(|_| num("a count"))?,
            "--int8-qat-lr" => o.int8_qat_lr = v.parse().map_err(|_| num("a number"))?,
            "--qat-lr" => o.qat_lr = v.parse().map_err(|_| num("a number"))?,
            "--qat-distill" => o.qat_distill = v.parse().map_err(|_| num("a number"))?,
            "--int8-qat-steps" => o.int8_qat_steps = v.parse().map_err(|_| num("a count"))?,
            "--int8" => o.int8 = parse_granularity(&v)?,
            "--int4" => o.int4 = parse_granularity(&v)?,
            "--mixed-budget" => o.mixed_budget = v.parse().map_err(|_| num("a number"))?,
            "--fd-step" => o.fd_step = v.parse().map_err(|_| num("a number"))?,
            "--seed" => o.seed = v.parse().map_err(|_| num("a number"))?,
            "--save-model" => o.save_model = Some(v),
            "--load-model" => o.load_model = Some(v),
            _ => return Err(format!("unknown option '{flag}'")),
        }
    }
    Ok(o)
}

/// The host-side pieces of `u = A + G · (N(x, t) − N(−x, t))` at a set of points.
struct Ansatz {
    /// Points as `f32`, `[n, 2]`.
    x: Vec<f32>,
    /// The same points with `x` negated.
    x_reflected: Vec<f32>,
    a: Vec<f64>,
    g: Vec<f64>,
}

/// A network forward on `rows` rows of `(x, t)`: the host kernels of `pinn_jit::quant` or a
/// compiled model of `pinn_jit::inference`.
trait Net {
    fn run(&self, x: &[f32], rows: usize) -> Result<Vec<f32>, QuantError>;
}

impl Net for QuantizedMlp {
    fn run(&self, x: &[f32], rows: usize) -> Result<Vec<f32>, QuantError> {
        self.forward(x, rows)
    }
}

impl Net for CompiledModel {
    fn run(&self, x: &[f32], _rows: usize) -> Result<Vec<f32>, QuantError> {
        self.infer(x)
            .map_err(|e| QuantError::InvalidConfig(format!("compiled model: {e}")))
    }
}

fn host(t: Tensor<B, 2>) -> Vec<f64> {
    t.into_data().convert::<f64>().to_vec::<f64>().expect("f64")
}

impl Ansatz {
    fn new(problem: &Burgers, points: &Points) -> Result<Self, QuantError> {
        let device = Default::default();
        let batch = AnsatzBatch::<B>::new(problem, points, &device)?;
        let x: Vec<f32> = points.as_slice().iter().map(|&v| v as f32).collect();
        let x_reflected = x
            .chunks_exact(2)
            .flat_map(|p| [-p[0], p[1]])
            .collect::<Vec<f32>>();
        Ok(Self {
            x,
            x_reflected,
            a: host(batch.a.value()),
            g: host(batch.g.value()),
        })
    }

    fn len(&self) -> usize {
        self.a.len()
    }

    /// `(u, N)` of the quantized model: the Burgers ansatz with the odd network part.
    fn eval(&self, q: &impl Net) -> Result<(Vec<f64>, Vec<f64>), QuantError> {
        let n = self.len();
        let plus = q.run(&self.x, n)?;
        let minus = q.run(&self.x_reflected, n)?;
        let net: Vec<f64> = plus
            .iter()
            .zip(&minus)
            .map(|(&p, &m)| f64::from(p) - f64::from(m))
            .collect();
        let u = (0..n).map(|i| self.a[i] + self.g[i] * net[i]).collect();
        Ok((u, net))
    }
}

/// Central finite differences of the quantized forward on a 5-point stencil around each point.
struct FdStencil {
    h: f64,
    centre: Ansatz,
    xp: Ansatz,
    xm: Ansatz,
    tp: Ansatz,
    tm: Ansatz,
}

impl FdStencil {
    fn new(problem: &Burgers, points: &Points, h: f64) -> Result<Self, QuantError> {
        let shifted = |dx: f64, dt: f64| {
            let d: Vec<f64> = points
                .as_slice()
                .chunks_exact(2)
                .flat_map(|p| [p[0] + dx, p[1] + dt])
                .collect();
            Points::new(d, 2).map_err(QuantError::from)
        };
        Ok(Self {
            h,
            centre: Ansatz::new(problem, points)?,
            xp: Ansatz::new(problem, &shifted(h, 0.0)?)?,
            xm: Ansatz::new(problem, &shifted(-h, 0.0)?)?,
            tp: Ansatz::new(problem, &shifted(0.0, h)?)?,
            tm: Ansatz::new(problem, &shifted(0.0, -h)?)?,
        })
    }

    /// RMS of `u_t + u u_x − ν u_xx` with every derivative a central difference of `u`.
    fn residual_rms(&self, q: &impl Net, nu: f64) -> Result<f64, QuantError> {
        let (u, _) = self.centre.eval(q)?;
        let (uxp, _) = self.xp.eval(q)?;
        let (uxm, _) = self.xm.eval(q)?;
        let (utp, _) = self.tp.eval(q)?;
        let (utm, _) = self.tm.eval(q)?;
        let h = self.h;
        let ss: f64 = (0..u.len())
            .map(|i| {
                let ux = (uxp[i] - uxm[i]) / (2.0 * h);
                let uxx = (uxp[i] - 2.0 * u[i] + uxm[i]) / (h * h);
                let ut = (utp[i] - utm[i]) / (2.0 * h);
                (ut + u[i] * ux - nu * uxx).powi(2)
            })
            .sum();
        Ok((ss / u.len() as f64).sqrt())
    }
}

/// RMS of the PDE residual with exact derivatives from the jet machinery, on the `f32`
/// network whose weights are the ones the quantized kernels multiply by.
fn jet_residual_rms(
    problem: &Burgers,
    q: &QuantizedMlp,
    points: &Points,
) -> Result<f64, QuantError> {
    let device = Default::default();
    let model: PinnMlp<B> = q.to_pinn_mlp(&device);
    let mut ss = 0.0;
    let chunk = 8192;
    for s in (0..points.len()).step_by(chunk) {
        let e = (s + chunk).min(points.len());
        let sub = Points::new(points.as_slice()[2 * s..2 * e].to_vec(), 2)?;
        let batch = AnsatzBatch::<B>::new(problem, &sub, &device)?;
        ss += host(batch.residual(problem, &model)?)
            .iter()
            .map(|r| r * r)
            .sum::<f64>();
    }
    Ok((ss / points.len() as f64).sqrt())
}

/// Median of `reps` timings of `f`, each averaged over enough calls to take ~20 ms.
fn time_us(mut f: impl FnMut(), reps: usize) -> f64 {
    let t = Instant::now();
    f();
    let once = t.elapsed().as_secs_f64().max(1e-7);
    let calls = ((0.02 / once) as usize).clamp(1, 100_000);
    let mut v: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                f();
            }
            1e6 * t.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[reps / 2]
}

struct Row {
    name: String,
    delta_u: f64,
    delta_n: f64,
    err: f64,
    res_jet: f64,
    res_fd: f64,
    bytes: usize,
    ratio: f64,
    lat1_us: f64,
    lat_batch_us: f64,
}

struct Eval<'a> {
    problem: &'a Burgers,
    grid: &'a Points,
    reference: &'a [f64],
    test: Ansatz,
    fd: FdStencil,
    u_ref32: Vec<f64>,
    n_ref32: Vec<f64>,
    batch: Vec<f32>,
}

const BATCH: usize = 4096;

impl Eval<'_> {
    /// A row for a compiled model: its own Δ, error, FD residual and latency (one thread);
    /// `res_jet` and `bytes` come from the host-kernel model with the same weights.
    fn compiled_row(
        &self,
        name: &str,
        m: &CompiledModel,
        res_jet: f64,
        bytes: usize,
        ratio: f64,
    ) -> Result<Row, QuantError> {
        let (u, net) = self.test.eval(m)?;
        let one = [0.25f32, 0.5];
        let mut y1 = [0.0f32];
        let mut yb = vec![0.0f32; BATCH];
        let lat1_us = time_us(|| m.infer_into(&one, &mut y1).expect("sizes match"), 7);
        let lat_batch_us = time_us(
            || m.infer_into(&self.batch, &mut yb).expect("sizes match"),
            5,
        );
        std::hint::black_box((y1, &yb));
        Ok(Row {
            name: name.into(),
            delta_u: rel_l2(&u, &self.u_ref32),
            delta_n: rel_l2(&net, &self.n_ref32),
            err: rel_l2(&u, self.reference),
            res_jet,
            res_fd: self.fd.residual_rms(m, self.problem.nu())?,
            bytes,
            ratio,
            lat1_us,
            lat_batch_us,
        })
    }

    fn row(&self, name: &str, q: &QuantizedMlp) -> Result<Row, QuantError> {
        let (u, net) = self.test.eval(q)?;
        let one = [0.25f32, 0.5];
        let mut sink = 0.0f32;
        let lat1_us = time_us(|| sink += q.forward(&one, 1).expect("forward")[0], 7);
        let lat_batch_us = time_us(
            || sink += q.forward(&self.batch, BATCH).expect("forward")[0],
            5,
        );
        std::hint::black_box(sink);
        Ok(Row {
            name: name.into(),
            delta_u: rel_l2(&u, &self.u_ref32),
            delta_n: rel_l2(&net, &self.n_ref32),
            err: rel_l2(&u, self.reference),
            res_jet: jet_residual_rms(self.problem, q, self.grid)?,
            res_fd: self.fd.residual_rms(q, self.problem.nu())?,
            bytes: q.weight_bytes(),
            ratio: q.fp32_weight_bytes() as f64 / q.weight_bytes() as f64,
            lat1_us,
            lat_batch_us,
        })
    }
}

fn main() {
    let opts = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}\n\n{HELP}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&opts) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(o: &Opts) -> Result<(), QuantError> {
    let problem = Burgers::default();
    let device = Default::default();
    pinn_jit::quant::kernels::force_portable(o.portable);
    let dom = problem.domain();

    // 1. Train the f32 PINN.
    let cfg = PinnMlpConfig::new(2, 1, o.hidden.clone())
        .with_input_bounds(Some((dom.lower().to_vec(), dom.upper().to_vec())));
    let model = cfg.init::<AD>(o.seed, &device)?;
    let mut model = model;
    if let Some(path) = &o.load_model {
        let text = std::fs::read_to_string(path).map_err(|e| {
            QuantError::InvalidConfig(format!("cannot read --load-model {path}: {e}"))
        })?;
        let theta = text
            .lines()
            .map(|l| l.trim().parse::<f64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| QuantError::InvalidConfig(format!("{path}: {e}")))?;
        println!("quantize: loaded {} parameters from {path}", theta.len());
        model = load_params(model, &theta)?;
    }
    if o.load_model.is_none() || o.continue_training {
        println!(
            "quantize: training the Burgers PINN (f32, pinn-jit, hidden {:?}, N_f {}, adam {}, \
             lbfgs <= {}, {} s budget)",
            o.hidden, o.n_f, o.adam_steps, o.lbfgs_iters, o.time_limit
        );
        let tcfg = TrainConfig::new()
            .with_n_collocation(o.n_f)
            .with_adam_steps(o.adam_steps)
            .with_lr(2e-3)
            .with_lr_final_factor(0.05)
            .with_resample_every(500)
            .with_lbfgs_iters(o.lbfgs_iters)
            .with_time_limit_s(Some(o.time_limit))
            .with_seed(o.seed)
            .with_log_every(500);
        let (trained, report) = Trainer::new(&problem, tcfg).train(model, &device)?;
        println!(
            "trained: {} Adam steps + {} L-BFGS iterations in {:.1} s, loss {:.3e}",
            report.adam_steps, report.lbfgs_iters, report.train_s, report.final_loss
        );
        model = trained;
    }
    if let Some(path) = &o.save_model {
        let text: String = flatten_params(&model)
            .iter()
            .map(|v| format!("{v}\n"))
            .collect();
        std::fs::write(path, text).map_err(|e| {
            QuantError::InvalidConfig(format!("cannot write --save-model {path}: {e}"))
        })?;
        println!("quantize: parameters written to {path}");
    }
    let fp: PinnMlp<B> = model.valid();
    let n_layers = fp.layers.len();

    // 2. Evaluation data.
    let grid = problem.test_grid();
    let reference = problem.reference(&grid);
    let mut rng = Rng::new(o.seed + 1);
    let calib = dom.sample(2048, Sampling::LatinHypercube, &mut rng);
    let calib32: Vec<f32> = calib.as_slice().iter().map(|&v| v as f32).collect();
    let batch_pts = dom.sample(BATCH, Sampling::Uniform, &mut rng);
    let test = Ansatz::new(&problem, &grid)?;
    let q32 = QuantizedMlp::from_pinn_mlp(&fp, &fp32_plan(n_layers))?;
    let (u_ref32, n_ref32) = test.eval(&q32)?;
    let burn_pred = predict(&problem, &fp, &grid, &device)?;
    println!(
        "check: host f32 kernels vs Burn forward on the test grid: rel. diff {:.2e}",
        rel_l2(&u_ref32, &burn_pred)
    );
    let ev = Eval {
        problem: &problem,
        grid: &grid,
        reference: &reference,
        fd: FdStencil::new(&problem, &grid, o.fd_step)?,
        test,
        u_ref32,
        n_ref32,
        batch: batch_pts.as_slice().iter().map(|&v| v as f32).collect(),
    };

    // 3. The variants.
    let w = LayerPlan::weight_only;
    let int8c = WeightFormat::Int8(Granularity::PerChannel);
    let int8 = WeightFormat::Int8(o.int8);
    let int4 = WeightFormat::Int4(o.int4);
    let w8a8 = |act| LayerPlan {
        weights: int8,
        activations: act,
    };
    let mut rows = Vec::new();
    let mut add = |name: &str, plan: &[LayerPlan], model: &PinnMlp<B>| -> Result<(), QuantError> {
        let q = build(model, plan, &calib32, calib.len())?;
        rows.push(ev.row(name, &q)?);
        Ok(())
    };
    add("fp32", &fp32_plan(n_layers), &fp)?;
    add("fp16", &vec![w(WeightFormat::F16); n_layers], &fp)?;
    add(
        "int8/tensor w-only",
        &vec![w(WeightFormat::Int8(Granularity::PerTensor)); n_layers],
        &fp,
    )?;
    add("int8/channel w-only", &vec![w(int8c); n_layers], &fp)?;
    let dyn_name = format!("{} dynamic W8A8", int8.name());
    add(
        &dyn_name,
        &uniform_plan(n_layers, w8a8(ActQuant::Dynamic), true),
        &fp,
    )?;
    let static_name = format!("{} static W8A8", int8.name());
    add(
        &static_name,
        &uniform_plan(n_layers, w8a8(ActQuant::Static), true),
        &fp,
    )?;
    let int4_plan = vec![w(int4); n_layers];
    for g in [
        Granularity::PerTensor,
        Granularity::PerChannel,
        Granularity::PerBlock(16),
    ] {
        let f = WeightFormat::Int4(g);
        add(&format!("{} w-only", f.name()), &vec![w(f); n_layers], &fp)?;
    }

    // Quantization-aware fine-tuning (on copies of the f32 weights): INT4 weight-only, and
    // the INT8 weights of the dynamic W8A8 model.
    let qat =
        |plan: &[LayerPlan], steps: usize, lr: f64, what: &str| -> Result<PinnMlp<B>, QuantError> {
            let qcfg = QatConfig::new()
                .with_steps(steps)
                .with_n_points(o.qat_points)
                .with_lr(lr)
                .with_distill_weight(o.qat_distill)
                .with_seed(o.seed + 2);
            let (tuned, rep) = qat_finetune(&problem, model.clone(), plan, &qcfg, &device)?;
            println!(
                "qat {what}: {} steps in {:.1} s, loss {:.3e} -> {:.3e}",
                rep.steps, rep.seconds, rep.initial_loss, rep.final_loss
            );
            Ok(tuned.valid())
        };
    let qat4 = qat(&int4_plan, o.qat_steps, o.qat_lr, &int4.name())?;
    let qat4_name = format!("{} QAT", int4.name());
    add(&qat4_name, &int4_plan, &qat4)?;
    let dyn_plan = uniform_plan(n_layers, w8a8(ActQuant::Dynamic), true);
    let qat8 = qat(&dyn_plan, o.int8_qat_steps, o.int8_qat_lr, &int8.name())?;
    let qat8_name = format!("{} dynamic W8A8 + QAT", int8.name());
    add(&qat8_name, &dyn_plan, &qat8)?;

    // Mixed precision chosen by per-layer sensitivity.
    // The error is that of u on the calibration points, the quantity Δu measures on the grid.
    let ladder = [
        w(int4),
        w(WeightFormat::Int8(Granularity::PerTensor)),
        w(int8c),
        w(WeightFormat::F16),
    ];
    let calib_ansatz = Ansatz::new(&problem, &calib)?;
    let u_calib32 = calib_ansatz.eval(&q32)?.0;
    let u_error = |q: &QuantizedMlp| Ok(rel_l2(&calib_ansatz.eval(q)?.0, &u_calib32));
    let mixed = choose_mixed_by(
        &fp,
        &ladder,
        o.mixed_budget,
        &calib32,
        calib.len(),
        &u_error,
    )?;
    let mixed_name = format!(
        "mixed [{}]",
        mixed
            .plan
            .iter()
            .map(|p| p.weights.name())
            .collect::<Vec<_>>()
            .join(",")
    );
    add(&mixed_name, &mixed.plan, &fp)?;
    for (rung, s) in ladder.iter().zip(&mixed.sensitivity) {
        let s: Vec<String> = s.iter().map(|v| format!("{v:.2e}")).collect();
        println!(
            "sensitivity {:>14}: [{}]",
            rung.weights.name(),
            s.join(", ")
        );
    }

    // The compiled inference path (`pinn_jit::inference`, one thread): the f32 network, and the
    // same network with INT8 weight codes per output column — the codes of the
    // "int8/channel w-only" row — times 16-bit activation codes per row (i32 sums).
    let compiled_err = |e: pinn_jit::inference::InferenceError| {
        QuantError::InvalidConfig(format!("compiled model: {e}"))
    };
    let traced = CompiledModel::from_module(
        &fp,
        |d| {
            cfg.init::<Tracer>(o.seed, d)
                .expect("the same config initialised once already")
        },
        2,
        |m, x| m.forward(x),
    )
    .map_err(compiled_err)?;
    let compile = |weights| {
        let options = CompileOptions {
            weights,
            parallel_min_rows: usize::MAX,
            ..CompileOptions::default()
        };
        CompiledModel::compile_with(traced.graph().clone(), &options).map_err(compiled_err)
    };
    let (c32, c8) = (
        compile(WeightPrecision::F32)?,
        compile(WeightPrecision::Int8)?,
    );
    let res_of = |name: &str| rows.iter().find(|r| r.name == name).map(|r| r.res_jet);
    let (jet32, jet8) = (
        res_of("fp32").unwrap_or(f64::NAN),
        res_of("int8/channel w-only").unwrap_or(f64::NAN),
    );
    // Weight bytes as the table counts them: without the f32 biases.
    let fp32_bytes = c32.weight_bytes() - q32.bias_bytes();
    let int8_bytes = c8.weight_bytes() - q32.bias_bytes();
    let c32_row = ev.compiled_row("compiled fp32", &c32, jet32, fp32_bytes, 1.0)?;
    let ratio = fp32_bytes as f64 / int8_bytes as f64;
    let c8_row = ev.compiled_row(
        "compiled int8 (channel w, 16-bit act.)",
        &c8,
        jet8,
        int8_bytes,
        ratio,
    )?;
    let compiled_line = format!(
        "compiled: int8 vs fp32 weights: Δu {:.3e}, {:.2}× smaller, 1-sample {:.3} vs {:.3} µs \
         ({:.2}×), {BATCH}-batch {:.0} vs {:.0} µs ({:.2}×)",
        c8_row.delta_u,
        ratio,
        c8_row.lat1_us,
        c32_row.lat1_us,
        c32_row.lat1_us / c8_row.lat1_us,
        c8_row.lat_batch_us,
        c32_row.lat_batch_us,
        c32_row.lat_batch_us / c8_row.lat_batch_us
    );
    rows.push(c32_row);
    rows.push(c8_row);

    // Burn f32 forward of the same network, for scale.
    let one = Tensor::<B, 2>::from_data(TensorData::new(vec![0.25f32, 0.5], [1, 2]), &device);
    let many = Tensor::<B, 2>::from_data(TensorData::new(ev.batch.clone(), [BATCH, 2]), &device);
    let burn1 = time_us(
        || {
            std::hint::black_box(fp.forward(one.clone()).into_data());
        },
        7,
    );
    let burnb = time_us(
        || {
            std::hint::black_box(fp.forward(many.clone()).into_data());
        },
        5,
    );

    // 4. Report.
    println!();
    println!(
        "| variant | Δu vs f32 | ΔN vs f32 | L2 err vs exact | residual RMS (jet) | residual RMS (FD) | weight bytes | ratio | 1-sample µs | {BATCH}-batch µs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.2e} | {:.2e} | {:.3e} | {:.3e} | {:.3e} | {} | {:.2}× | {:.2} | {:.0} |",
            r.name,
            r.delta_u,
            r.delta_n,
            r.err,
            r.res_jet,
            r.res_fd,
            r.bytes,
            r.ratio,
            r.lat1_us,
            r.lat_batch_us
        );
    }
    println!("| Burn f32 forward (PinnJitBackend) | | | | | | | | {burn1:.2} | {burnb:.0} |");
    println!();
    println!(
        "Δu: rel. L2 difference of u = A + G·N on the {}-point test grid; ΔN: of the network \
         part N(x,t) − N(−x,t). Residual RMS (jet): exact derivatives (pinn::Jet) of the network \
         with the dequantized weights the kernels use — the quantized model itself for weight-only \
         rows, activation rounding not included for W8A8 rows. Residual RMS (FD): central \
         differences (h = {}) of the real quantized forward, activation rounding included. \
         Weight bytes: weight matrices plus f32 scales; biases ({} bytes, f32) excluded. \
         Latency: one network forward N(x), median, one thread; compiled rows: \
         pinn_jit::inference (Cranelift), residual RMS (jet) of the host model with the same \
         weights.",
        grid.len(),
        o.fd_step,
        q32.bias_bytes()
    );
    println!("{compiled_line}");
    let find = |name: &str| rows.iter().find(|r| r.name == name).expect("row");
    let (f16r, i8r, i4r) = (find("fp16"), find(&qat8_name), find(&qat4_name));
    println!("summary rows: fp16 = fp16, int8 = {qat8_name}, int4 = {qat4_name} (deltas: Δu)");
    println!(
        "quantize: fp16_delta={:.3e} int8_delta={:.3e} int4_delta={:.3e} int8_mem_ratio={:.2} \
         int4_mem_ratio={:.2}",
        f16r.delta_u, i8r.delta_u, i4r.delta_u, i8r.ratio, i4r.ratio
    );
    Ok(())
}
