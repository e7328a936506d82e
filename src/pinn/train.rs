//! The training driver: Adam with residual-based adaptive resampling, then L-BFGS, with
//! progress lines and timing.

use std::time::Instant;

use burn::config::Config;
use burn::module::{AutodiffModule, Module};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::ElementConversion;
use burn::tensor::backend::AutodiffBackend;

use super::error::PinnError;
use super::lbfgs::{Lbfgs, LbfgsConfig, LbfgsStatus};
use super::mlp::PinnMlp;
use super::params::{flatten_grads, flatten_params, load_params};
use super::problem::{AnsatzBatch, PinnProblem};
use super::progress::Progress;
use super::sampling::{Points, Rng, Sampling};

/// Hyper-parameters of [`Trainer`].
#[derive(Config, Debug)]
pub struct TrainConfig {
    /// Number of collocation points.
    #[config(default = 4096)]
    pub n_collocation: usize,
    /// Adam steps (full batch).
    #[config(default = 2000)]
    pub adam_steps: usize,
    /// Initial Adam learning rate.
    #[config(default = 1e-3)]
    pub lr: f64,
    /// The learning rate decays exponentially to `lr · lr_final_factor` at the last Adam step.
    #[config(default = 0.1)]
    pub lr_final_factor: f64,
    /// Resample the collocation points every this many Adam steps by residual-based adaptive
    /// distribution (RAD, Wu et al. 2023); 0 keeps the initial Latin-hypercube points.
    #[config(default = 0)]
    pub resample_every: usize,
    /// RAD candidate pool size as a multiple of `n_collocation`.
    #[config(default = 4)]
    pub resample_pool_factor: usize,
    /// RAD density `∝ |r|^k / mean(|r|^k) + c`: the exponent `k`.
    #[config(default = 1.0)]
    pub rad_k: f64,
    /// RAD density: the uniform share `c`.
    #[config(default = 1.0)]
    pub rad_c: f64,
    /// Resample by RAD once more right before L-BFGS.
    #[config(default = true)]
    pub resample_before_lbfgs: bool,
    /// Most L-BFGS iterations after Adam (0: none).
    #[config(default = 1000)]
    pub lbfgs_iters: usize,
    /// During L-BFGS, resample the collocation points by RAD every this many iterations
    /// (0: never), restarting the curvature history ([`Lbfgs::rebase`]); fresh points
    /// concentrated where the residual is large counter overfitting one point set.
    #[config(default = 0)]
    pub lbfgs_resample_every: usize,
    /// L-BFGS history size.
    #[config(default = 50)]
    pub lbfgs_history: usize,
    /// Seed of the samplers.
    #[config(default = 0)]
    pub seed: u64,
    /// Print a progress line every this many steps (0: never).
    #[config(default = 500)]
    pub log_every: usize,
    /// Time budget of the whole training (seconds): Adam stops at 90 % of it, L-BFGS at 100 %.
    #[config(default = "None")]
    pub time_limit_s: Option<f64>,
    /// Collect progress lines without printing them.
    #[config(default = false)]
    pub quiet: bool,
}

/// What a training run did, with timings.
#[derive(Clone, Debug, Default)]
pub struct TrainReport {
    /// Adam steps done.
    pub adam_steps: usize,
    /// L-BFGS iterations done.
    pub lbfgs_iters: usize,
    /// L-BFGS objective evaluations.
    pub lbfgs_evals: usize,
    /// Seconds in the Adam phase.
    pub adam_s: f64,
    /// Seconds in the L-BFGS phase.
    pub lbfgs_s: f64,
    /// Total training seconds.
    pub train_s: f64,
    /// Loss at the start (first Adam step).
    pub initial_loss: f64,
    /// Loss at the end.
    pub final_loss: f64,
    /// `(phase, step, loss)` at every progress line.
    pub history: Vec<(&'static str, usize, f64)>,
    /// The progress lines.
    pub lines: Vec<String>,
    /// Why training stopped early on a non-finite loss (`None`: it did not). The message
    /// names the phase, the step and the loss term; the returned model then holds the last
    /// parameters whose loss was finite.
    pub non_finite: Option<String>,
}

impl TrainReport {
    /// Mean milliseconds per Adam step.
    pub fn adam_step_ms(&self) -> f64 {
        if self.adam_steps == 0 {
            0.0
        } else {
            1e3 * self.adam_s / self.adam_steps as f64
        }
    }
}

/// What the L-BFGS phase returns.
struct LbfgsOutcome<B: AutodiffBackend> {
    model: PinnMlp<B>,
    iters: usize,
    evals: usize,
    lines: Vec<String>,
    history: Vec<(&'static str, usize, f64)>,
    final_loss: f64,
    non_finite: Option<String>,
}

/// The mean squared PDE residual of `model` on `batch`, on the host.
fn loss_value<B: AutodiffBackend, P: PinnProblem>(
    problem: &P,
    batch: &AnsatzBatch<B>,
    model: &PinnMlp<B>,
) -> Result<f64, PinnError> {
    // Without gradient tracking: a loss that is never differentiated must not leave its tape
    // behind (Burn's autodiff keeps an untraversed graph's saved tensors until a later
    // backward pass clears it, which doubled the peak heap of the first L-BFGS evaluation).
    let model = model.clone().no_grad();
    Ok(batch
        .residual(problem, &model)?
        .square()
        .mean()
        .into_scalar()
        .elem::<f64>())
}

/// Adam met a non-finite loss (`why`): the last parameters whose loss was finite, with the
/// message saying so, recorded in `report` (steps, loss, `non_finite`); an error if even the
/// initial parameters gave a non-finite loss.
fn keep_last_good<B: AutodiffBackend>(
    why: String,
    last_good: Option<(PinnMlp<B>, f64, usize)>,
    report: &mut TrainReport,
) -> Result<(PinnMlp<B>, String), PinnError> {
    let Some((good, good_loss, good_step)) = last_good else {
        return Err(PinnError::NonFinite(format!(
            "{why}; the initial parameters already give a non-finite loss"
        )));
    };
    let msg = format!(
        "{why}; training stopped, keeping the parameters after {good_step} Adam update(s) \
         (loss {good_loss:.4e})"
    );
    report.non_finite = Some(msg.clone());
    report.adam_steps = good_step;
    report.final_loss = good_loss;
    Ok((good, msg))
}

/// Names the phase, the step, the loss term and how many collocation points have a
/// non-finite residual.
fn non_finite_message<B: AutodiffBackend, P: PinnProblem>(
    problem: &P,
    batch: &AnsatzBatch<B>,
    model: &PinnMlp<B>,
    phase: &str,
    step: usize,
    value: f64,
) -> String {
    let bad = batch
        .residual(problem, &model.clone().no_grad())
        .map(|r| {
            let data = r.into_data().convert::<f64>();
            let v = data
                .as_slice::<f64>()
                .map(|s| s.to_vec())
                .unwrap_or_default();
            let n_bad = v.iter().filter(|x| !x.is_finite()).count();
            format!("{n_bad} of {} collocation points", v.len())
        })
        .unwrap_or_else(|e| format!("residual unavailable: {e}"));
    format!(
        "{phase} step {step} (the parameters after {} update(s)): the pde loss (mean squared \
         PDE residual) is {value} (non-finite residual at {bad})",
        step - 1
    )
}

/// Trains a [`PinnMlp`] on a [`PinnProblem`]: full-batch Adam on Latin-hypercube collocation
/// points (optionally resampled by RAD), then L-BFGS on the final points.
///
/// ```
/// use burn::backend::Autodiff;
/// use burn_flex::Flex;
/// use pinn_jit::pinn::problems::Burgers;
/// use pinn_jit::pinn::{PinnMlpConfig, TrainConfig, Trainer};
///
/// let device = Default::default();
/// let model = PinnMlpConfig::new(2, 1, vec![8]).init::<Autodiff<Flex>>(0, &device).unwrap();
/// let cfg = TrainConfig::new()
///     .with_n_collocation(64)
///     .with_adam_steps(5)
///     .with_lbfgs_iters(2)
///     .with_quiet(true);
/// let (_model, report) = Trainer::new(&Burgers::default(), cfg).train(model, &device).unwrap();
/// assert_eq!(report.adam_steps, 5);
/// ```
pub struct Trainer<'a, P: PinnProblem> {
    problem: &'a P,
    cfg: TrainConfig,
}

impl<'a, P: PinnProblem> Trainer<'a, P> {
    /// A trainer for `problem` with `cfg`.
    pub fn new(problem: &'a P, cfg: TrainConfig) -> Self {
        Self { problem, cfg }
    }

    /// Runs Adam then L-BFGS; returns the trained model and a report.
    pub fn train<B: AutodiffBackend>(
        &self,
        mut model: PinnMlp<B>,
        device: &B::Device,
    ) -> Result<(PinnMlp<B>, TrainReport), PinnError> {
        let cfg = &self.cfg;
        if cfg.n_collocation == 0 {
            return Err(PinnError::InvalidConfig(
                "n_collocation must be >= 1 (try 4096)".into(),
            ));
        }
        let start = Instant::now();
        let mut rng = Rng::new(cfg.seed);
        let domain = self.problem.domain();
        let mut points = domain.sample(cfg.n_collocation, Sampling::LatinHypercube, &mut rng);
        let mut batch = AnsatzBatch::<B>::new(self.problem, &points, device)?;
        let mut report = TrainReport::default();

        // Adam phase
        let mut adam = AdamConfig::new().init::<B, PinnMlp<B>>();
        let mut progress = Progress::new("adam", cfg.adam_steps, cfg.log_every).quiet(cfg.quiet);
        let decay = if cfg.adam_steps > 1 {
            cfg.lr_final_factor.ln() / (cfg.adam_steps - 1) as f64
        } else {
            0.0
        };
        // The last parameters whose loss was finite, with that loss and step; the model after
        // the last update is only known to be good once its loss has been evaluated.
        let mut last_good: Option<(PinnMlp<B>, f64, usize)> = None;
        for step in 1..=cfg.adam_steps {
            if cfg.resample_every > 0 && step > 1 && (step - 1) % cfg.resample_every == 0 {
                points = self.rad_points(&model.valid(), &mut rng)?;
                batch = AnsatzBatch::new(self.problem, &points, device)?;
            }
            let loss = batch.residual(self.problem, &model)?.square().mean();
            let value = loss.clone().into_scalar().elem::<f64>();
            if !value.is_finite() {
                let why = non_finite_message(self.problem, &batch, &model, "Adam", step, value);
                let (good, msg) = keep_last_good(why, last_good.take(), &mut report)?;
                progress.note(&msg);
                report.lines.extend_from_slice(progress.lines());
                report.adam_s = start.elapsed().as_secs_f64();
                report.train_s = report.adam_s;
                return Ok((good, report));
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let lr = cfg.lr * (decay * (step - 1) as f64).exp();
            if step == 1 {
                report.initial_loss = value;
            }
            if progress.due(step) {
                progress.report(step, &[("pde", value)]);
                report.history.push(("adam", step, value));
            }
            // `model` has loss `value`: the parameters before this update (step − 1 updates)
            last_good = Some((model.clone(), value, step - 1));
            model = adam.step(lr, model, grads);
            report.adam_steps = step;
            // leave at least a tenth of the budget to L-BFGS
            if cfg
                .time_limit_s
                .is_some_and(|lim| start.elapsed().as_secs_f64() > 0.9 * lim)
            {
                progress.note(&format!("time limit: Adam stopped after {step} steps"));
                break;
            }
        }
        report.adam_s = start.elapsed().as_secs_f64();
        report.lines.extend_from_slice(progress.lines());

        // L-BFGS phase
        let lbfgs_start = Instant::now();
        // The model after the last Adam update: fall back to the one before it when its loss
        // is not finite.
        let start_loss = loss_value(self.problem, &batch, &model)?;
        if !start_loss.is_finite() {
            let why = non_finite_message(
                self.problem,
                &batch,
                &model,
                "Adam",
                report.adam_steps + 1,
                start_loss,
            );
            let (good, msg) = keep_last_good(why, last_good, &mut report)?;
            report.lines.push(format!("adam: {msg}"));
            report.train_s = start.elapsed().as_secs_f64();
            return Ok((good, report));
        }
        if cfg.lbfgs_iters > 0 {
            if cfg.resample_before_lbfgs && cfg.resample_every > 0 {
                points = self.rad_points(&model.valid(), &mut rng)?;
                batch = AnsatzBatch::new(self.problem, &points, device)?;
            }
            let out = self.lbfgs(model, batch, &mut rng, start)?;
            model = out.model;
            report.lbfgs_iters = out.iters;
            report.lbfgs_evals = out.evals;
            report.lines.extend(out.lines);
            report.history.extend(out.history);
            report.final_loss = out.final_loss;
            report.non_finite = out.non_finite;
        } else {
            report.final_loss = start_loss;
        }
        report.lbfgs_s = lbfgs_start.elapsed().as_secs_f64();
        report.train_s = start.elapsed().as_secs_f64();
        Ok((model, report))
    }

    fn lbfgs<B: AutodiffBackend>(
        &self,
        model: PinnMlp<B>,
        batch: AnsatzBatch<B>,
        rng: &mut Rng,
        start: Instant,
    ) -> Result<LbfgsOutcome<B>, PinnError> {
        let cfg = &self.cfg;
        let device = model.devices().first().cloned().unwrap_or_default();
        let theta0 = flatten_params(&model);
        let mut slot = Some(model);
        let mut batch = batch;
        let objective = |slot: &mut Option<PinnMlp<B>>,
                         batch: &AnsatzBatch<B>,
                         theta: &[f64]|
         -> Result<(f64, Vec<f64>), PinnError> {
            let m = load_params(slot.take().expect("model present"), theta)?;
            let loss = batch.residual(self.problem, &m)?.square().mean();
            let grads = loss.backward();
            let g = flatten_grads(&m, &grads);
            let f = loss.into_scalar().elem::<f64>();
            *slot = Some(m);
            Ok((f, g))
        };
        let lcfg = LbfgsConfig::new().with_history(cfg.lbfgs_history);
        let mut opt = Lbfgs::new(lcfg, theta0, &mut |th: &[f64]| {
            objective(&mut slot, &batch, th)
        })?;
        let mut progress = Progress::new("lbfgs", cfg.lbfgs_iters, cfg.log_every).quiet(cfg.quiet);
        let mut history = Vec::new();
        let mut non_finite = None;
        for it in 1..=cfg.lbfgs_iters {
            if cfg.lbfgs_resample_every > 0 && it > 1 && (it - 1) % cfg.lbfgs_resample_every == 0 {
                let m = load_params(slot.take().expect("model present"), opt.x())?;
                let points = self.rad_points(&m.valid(), rng)?;
                slot = Some(m);
                batch = AnsatzBatch::new(self.problem, &points, &device)?;
                let kept = (opt.x().to_vec(), opt.loss());
                match opt.rebase(&mut |th: &[f64]| objective(&mut slot, &batch, th)) {
                    Ok(()) => {}
                    Err(PinnError::NonFinite(_)) => {
                        let msg = format!(
                            "L-BFGS iteration {it}: the pde loss (mean squared PDE residual) \
                             on the resampled collocation points is not finite; training \
                             stopped, keeping the parameters after L-BFGS iteration {} (loss \
                             {:.4e} on the previous points)",
                            it - 1,
                            kept.1
                        );
                        progress.note(&msg);
                        non_finite = Some(msg);
                        let model = load_params(slot.take().expect("model present"), &kept.0)?;
                        return Ok(LbfgsOutcome {
                            model,
                            iters: opt.iterations(),
                            evals: opt.evaluations(),
                            lines: progress.lines().to_vec(),
                            history,
                            final_loss: kept.1,
                            non_finite,
                        });
                    }
                    Err(e) => return Err(e),
                }
            }
            // A trial point with a non-finite loss never becomes the iterate (the line search
            // treats it as infinitely bad), so `opt.x()` always has a finite loss.
            let status = opt.step(&mut |th: &[f64]| objective(&mut slot, &batch, th))?;
            let over_time = cfg
                .time_limit_s
                .is_some_and(|lim| start.elapsed().as_secs_f64() > lim);
            let stop = status != LbfgsStatus::Running || over_time;
            if progress.due(it) || stop {
                progress.report(it, &[("pde", opt.loss())]);
                history.push(("lbfgs", it, opt.loss()));
            }
            if stop {
                let why = match status {
                    LbfgsStatus::GradientConverged => "gradient converged",
                    LbfgsStatus::Stalled => "no further progress",
                    LbfgsStatus::Running => "time limit reached",
                };
                progress.note(&format!(
                    "stopped after {it} iterations ({} evaluations): {why}",
                    opt.evaluations()
                ));
                break;
            }
        }
        if !opt.loss().is_finite() {
            non_finite = Some(format!(
                "L-BFGS ended on a non-finite pde loss ({})",
                opt.loss()
            ));
        }
        let model = load_params(slot.take().expect("model present"), opt.x())?;
        Ok(LbfgsOutcome {
            model,
            iters: opt.iterations(),
            evals: opt.evaluations(),
            lines: progress.lines().to_vec(),
            history,
            final_loss: opt.loss(),
            non_finite,
        })
    }

    /// Draws `n_collocation` points with density `∝ |r|^k / mean(|r|^k) + c` over a uniform
    /// candidate pool (residual-based adaptive distribution).
    fn rad_points<BI: burn::tensor::backend::Backend>(
        &self,
        model: &PinnMlp<BI>,
        rng: &mut Rng,
    ) -> Result<Points, PinnError> {
        let cfg = &self.cfg;
        let n = cfg.n_collocation;
        let domain = self.problem.domain();
        let pool = domain.sample(n * cfg.resample_pool_factor.max(1), Sampling::Uniform, rng);
        let device = model.devices().first().cloned().unwrap_or_default();
        let mut weights = Vec::with_capacity(pool.len());
        let chunk = 8192;
        for s in (0..pool.len()).step_by(chunk) {
            let e = (s + chunk).min(pool.len());
            let sub = Points::new(
                pool.as_slice()[s * pool.dim()..e * pool.dim()].to_vec(),
                pool.dim(),
            )?;
            let b = AnsatzBatch::<BI>::new(self.problem, &sub, &device)?;
            let r = b
                .residual(self.problem, model)?
                .abs()
                .into_data()
                .convert::<f64>();
            weights.extend(
                r.as_slice::<f64>()
                    .expect("f64")
                    .iter()
                    .map(|v| v.powf(cfg.rad_k)),
            );
        }
        let mean = weights.iter().sum::<f64>() / weights.len() as f64;
        let mut cum = Vec::with_capacity(weights.len());
        let mut acc = 0.0;
        for w in &weights {
            acc += if mean > 0.0 { w / mean } else { 0.0 } + cfg.rad_c;
            cum.push(acc);
        }
        let d = pool.dim();
        let mut data = Vec::with_capacity(n * d);
        for _ in 0..n {
            let u = rng.next_f64() * acc;
            let i = cum.partition_point(|&c| c < u).min(pool.len() - 1);
            data.extend_from_slice(pool.row(i));
        }
        Points::new(data, d)
    }
}
