//! Quantization-aware fine-tuning: fake quantization of the weights in Burn ops with a
//! straight-through estimator, and a few hundred Adam steps on the PINN loss plus a term that
//! keeps the quantized model's output on the `f32` model's.

use std::time::Instant;

use burn::config::Config;
use burn::module::{AutodiffModule, Param, ParamId};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};

use super::error::QuantError;
use super::format::{Granularity, LayerPlan, WeightFormat};
use crate::pinn::{AnsatzBatch, PinnMlp, PinnProblem, Rng, Sampling};

/// `w + (q(w) − w).detach()`: the forward value is the quantized weight `q(w)` (the same
/// symmetric rounding as [`QuantMatrix`](super::QuantMatrix), scales from `max |w|` of each
/// group), the gradient passes straight through to `w`.
///
/// `w` is a Burn `Linear` weight `[d_in, d_out]`: a channel is a column, a block runs down a
/// column (along `d_in`); a last block shorter than the block size is handled by zero
/// padding. `F32` returns `w` unchanged; `F16` is an [`QuantError::UnsupportedScheme`] (half
/// precision needs no fine-tuning: its error is below `f32` training noise).
pub fn fake_quantize<B: Backend>(
    w: Tensor<B, 2>,
    format: WeightFormat,
) -> Result<Tensor<B, 2>, QuantError> {
    format.validate()?;
    let (qmax, g) = match format {
        WeightFormat::F32 => return Ok(w),
        WeightFormat::F16 => {
            return Err(QuantError::UnsupportedScheme(
                "fake quantization to f16 (only INT8 / INT4 are fine-tuned)".into(),
            ));
        }
        WeightFormat::Int8(g) => (127.0, g),
        WeightFormat::Int4(g) => (7.0, g),
    };
    let [d_in, d_out] = w.dims();
    if d_in * d_out == 0 {
        return Err(QuantError::Empty {
            context: "fake_quantize weight".into(),
        });
    }
    let wd = w.clone().detach();
    let q = match g {
        Granularity::PerTensor => {
            let s = wd.clone().abs().max().reshape([1, 1]).div_scalar(qmax);
            round_scaled(wd, s, qmax)
        }
        Granularity::PerChannel => {
            let s = wd.clone().abs().max_dim(0).div_scalar(qmax);
            round_scaled(wd, s, qmax)
        }
        Granularity::PerBlock(n) => {
            let n = n.min(d_in);
            let nb = d_in.div_ceil(n);
            let pad = nb * n - d_in;
            let device = wd.device();
            let padded = if pad > 0 {
                Tensor::cat(vec![wd, Tensor::zeros([pad, d_out], &device)], 0)
            } else {
                wd
            };
            let blocks = padded.reshape([nb, n, d_out]);
            let s = blocks.clone().abs().max_dim(1).div_scalar(qmax);
            let s = s.clamp_min(f32::MIN_POSITIVE);
            let q = blocks.div(s.clone()).round().clamp(-qmax, qmax).mul(s);
            q.reshape([nb * n, d_out]).slice([0..d_in, 0..d_out])
        }
    };
    Ok(w.clone() + (q - w).detach())
}

fn round_scaled<B: Backend>(w: Tensor<B, 2>, s: Tensor<B, 2>, qmax: f64) -> Tensor<B, 2> {
    // An all-zero group has scale 0; its codes are 0 whatever the clamped divisor.
    let s = s.clamp_min(f32::MIN_POSITIVE);
    w.div(s.clone()).round().clamp(-qmax, qmax).mul(s)
}

/// A copy of `model` whose layer weights are fake-quantized by `plan` (biases stay `f32`).
/// Under `Autodiff`, gradients flow to `model`'s own parameters.
pub fn fake_quant_mlp<B: Backend>(
    model: &PinnMlp<B>,
    plan: &[LayerPlan],
) -> Result<PinnMlp<B>, QuantError> {
    if plan.len() != model.layers.len() {
        return Err(QuantError::InvalidConfig(format!(
            "the quantization plan has {} entries for {} layers",
            plan.len(),
            model.layers.len()
        )));
    }
    let layers = model
        .layers
        .iter()
        .zip(plan)
        .map(|(l, p)| {
            Ok(Linear {
                // `Param::initialized` keeps the tensor as it is (`Param::from_tensor` would
                // make it a new autodiff leaf and cut the gradient to the real weight).
                weight: Param::initialized(
                    ParamId::new(),
                    fake_quantize(l.weight.val(), p.weights)?,
                ),
                bias: l.bias.clone(),
            })
        })
        .collect::<Result<Vec<_>, QuantError>>()?;
    Ok(PinnMlp {
        layers,
        fourier: model.fourier.clone(),
        activation: model.activation,
        scale: model.scale.clone(),
        shift: model.shift.clone(),
        residual: model.residual,
    })
}

/// Settings of [`qat_finetune`].
#[derive(Config, Debug)]
pub struct QatConfig {
    /// Adam steps.
    #[config(default = 300)]
    pub steps: usize,
    /// Initial learning rate (decays exponentially to a tenth).
    #[config(default = 1e-3)]
    pub lr: f64,
    /// Weight of the output-matching term `mean((u_q − u_f32)²)` next to the PDE loss. On the
    /// Burgers PINN, 1000 gave about half the deviation from the `f32` model of 10 (INT8 and
    /// INT4, `examples/quantize.rs`) with a similar PDE residual.
    #[config(default = 1000.0)]
    pub distill_weight: f64,
    /// Collocation points (Latin hypercube, fixed during fine-tuning).
    #[config(default = 2048)]
    pub n_points: usize,
    /// Seed of the sampler.
    #[config(default = 7)]
    pub seed: u64,
}

/// What [`qat_finetune`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QatReport {
    /// Adam steps done.
    pub steps: usize,
    /// Loss (PDE + output matching) of the fake-quantized model before fine-tuning.
    pub initial_loss: f64,
    /// The same loss after the last step.
    pub final_loss: f64,
    /// Seconds spent.
    pub seconds: f64,
}

/// Quantization-aware fine-tuning of a trained `model` for `plan` on `problem`: Adam on
/// `mean(r_q²) + distill_weight · mean((u_q − u_f32)²)` where `r_q` and `u_q` are the PDE
/// residual and solution of the fake-quantized model ([`fake_quant_mlp`]) and `u_f32` the
/// solution of the model as given. Returns the fine-tuned `f32` weights; quantize them with
/// the same `plan` (e.g. [`QuantizedMlp::from_pinn_mlp`](super::QuantizedMlp::from_pinn_mlp)).
pub fn qat_finetune<B: AutodiffBackend, P: PinnProblem>(
    problem: &P,
    mut model: PinnMlp<B>,
    plan: &[LayerPlan],
    cfg: &QatConfig,
    device: &B::Device,
) -> Result<(PinnMlp<B>, QatReport), QuantError> {
    if cfg.n_points == 0 {
        return Err(QuantError::InvalidConfig(
            "QatConfig::n_points must be >= 1 (try 2048)".into(),
        ));
    }
    let start = Instant::now();
    let mut rng = Rng::new(cfg.seed);
    let points = problem
        .domain()
        .sample(cfg.n_points, Sampling::LatinHypercube, &mut rng);
    let batch = AnsatzBatch::<B>::new(problem, &points, device)?;
    let teacher = {
        let inner = AnsatzBatch::<B::InnerBackend>::new(problem, &points, device)?;
        let u = inner.u_jet(problem, &model.valid())?.into_value();
        Tensor::<B, 2>::from_inner(u)
    };
    let mut adam = AdamConfig::new().init::<B, PinnMlp<B>>();
    let decay = if cfg.steps > 1 {
        0.1f64.ln() / (cfg.steps - 1) as f64
    } else {
        0.0
    };
    let mut report = QatReport::default();
    for step in 0..cfg.steps {
        let fq = fake_quant_mlp(&model, plan)?;
        let u = batch.u_jet(problem, &fq)?;
        let r = problem.residual(&u, batch.forcing.clone())?;
        let loss = r.square().mean()
            + (u.into_value() - teacher.clone())
                .square()
                .mean()
                .mul_scalar(cfg.distill_weight);
        if step == 0 || step + 1 == cfg.steps {
            let v = loss.clone().into_scalar().elem::<f64>();
            if !v.is_finite() {
                return Err(QuantError::Pinn(crate::pinn::PinnError::NonFinite(
                    format!("QAT loss at step {step}"),
                )));
            }
            if step == 0 {
                report.initial_loss = v;
            }
            report.final_loss = v;
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = adam.step(cfg.lr * (decay * step as f64).exp(), model, grads);
        report.steps = step + 1;
    }
    report.seconds = start.elapsed().as_secs_f64();
    Ok((model, report))
}
