//! Mixed precision: per-layer sensitivity (the output error that quantizing one layer alone
//! causes) and a greedy choice of one format per layer under an error budget.

use burn::tensor::backend::Backend;

use super::error::QuantError;
use super::format::{ActQuant, LayerPlan};
use super::mlp::{QuantizedMlp, fp32_plan};
use crate::pinn::PinnMlp;

/// Relative L2 difference `‖a − b‖ / ‖b‖` in `f64` (0 when both are zero).
pub fn rel_l2_f32(a: &[f32], b: &[f32]) -> f64 {
    let num: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let den: f64 = b.iter().map(|&y| f64::from(y).powi(2)).sum();
    if num == 0.0 { 0.0 } else { (num / den).sqrt() }
}

/// Builds `model` quantized with `plan`, calibrating static layers on the sample inputs `x`.
pub fn build(
    model: &PinnMlp<impl Backend>,
    plan: &[LayerPlan],
    x: &[f32],
    n: usize,
) -> Result<QuantizedMlp, QuantError> {
    let mut q = QuantizedMlp::from_pinn_mlp(model, plan)?;
    if plan.iter().any(|p| p.activations == ActQuant::Static) {
        q.calibrate(x, n)?;
    }
    Ok(q)
}

/// The sensitivity of every layer to `candidate`: the relative L2 difference of the network
/// output on the `n` sample inputs `x` between the model with only that layer quantized
/// (the others `f32`) and the `f32` model.
pub fn layer_sensitivity<B: Backend>(
    model: &PinnMlp<B>,
    candidate: LayerPlan,
    x: &[f32],
    n: usize,
) -> Result<Vec<f64>, QuantError> {
    let nl = model.layers.len();
    let reference = build(model, &fp32_plan(nl), x, n)?.forward(x, n)?;
    let error = |q: &QuantizedMlp| Ok(rel_l2_f32(&q.forward(x, n)?, &reference));
    layer_sensitivity_by(model, candidate, x, n, &error)
}

/// [`layer_sensitivity`] with a caller-defined error of a quantized model (for instance the
/// error of a PINN's solution `u = A + G · N` rather than of `N`). `x` / `n` are the
/// calibration inputs of static layers.
pub fn layer_sensitivity_by<B: Backend>(
    model: &PinnMlp<B>,
    candidate: LayerPlan,
    x: &[f32],
    n: usize,
    error: &dyn Fn(&QuantizedMlp) -> Result<f64, QuantError>,
) -> Result<Vec<f64>, QuantError> {
    let nl = model.layers.len();
    (0..nl)
        .map(|l| {
            let mut plan = fp32_plan(nl);
            plan[l] = candidate;
            error(&build(model, &plan, x, n)?)
        })
        .collect()
}

/// The result of [`choose_mixed`].
#[derive(Clone, Debug, PartialEq)]
pub struct MixedPrecision {
    /// The chosen plan, one entry per layer.
    pub plan: Vec<LayerPlan>,
    /// `sensitivity[level][layer]` for every rung of the ladder.
    pub sensitivity: Vec<Vec<f64>>,
    /// The measured error of the chosen plan.
    pub error: f64,
}

/// Chooses one rung of `ladder` (cheapest first, e.g. INT4 → INT8 → FP16) per layer: starts
/// with every layer on the cheapest rung and, while the *measured* output error on the sample
/// inputs exceeds `budget`, moves the layer with the largest sensitivity at its current rung
/// one rung up. Ends within budget, or with every layer on the top rung. The error is the
/// relative L2 difference of the network output on `x` to the `f32` model's.
pub fn choose_mixed<B: Backend>(
    model: &PinnMlp<B>,
    ladder: &[LayerPlan],
    budget: f64,
    x: &[f32],
    n: usize,
) -> Result<MixedPrecision, QuantError> {
    let nl = model.layers.len();
    let reference = build(model, &fp32_plan(nl), x, n)?.forward(x, n)?;
    let error = |q: &QuantizedMlp| Ok(rel_l2_f32(&q.forward(x, n)?, &reference));
    choose_mixed_by(model, ladder, budget, x, n, &error)
}

/// [`choose_mixed`] with a caller-defined error of a quantized model (used both for the
/// per-layer sensitivities and for the budget). `x` / `n` calibrate static layers.
pub fn choose_mixed_by<B: Backend>(
    model: &PinnMlp<B>,
    ladder: &[LayerPlan],
    budget: f64,
    x: &[f32],
    n: usize,
    error: &dyn Fn(&QuantizedMlp) -> Result<f64, QuantError>,
) -> Result<MixedPrecision, QuantError> {
    if ladder.is_empty() {
        return Err(QuantError::InvalidConfig(
            "choose_mixed needs at least one rung in the ladder (e.g. [int4, int8, f16])".into(),
        ));
    }
    for p in ladder {
        p.validate()?;
    }
    let nl = model.layers.len();
    let sensitivity = ladder
        .iter()
        .map(|&p| layer_sensitivity_by(model, p, x, n, error))
        .collect::<Result<Vec<_>, _>>()?;
    let mut level = vec![0usize; nl];
    loop {
        let plan: Vec<LayerPlan> = level.iter().map(|&r| ladder[r]).collect();
        let err = error(&build(model, &plan, x, n)?)?;
        let candidate = (0..nl)
            .filter(|&l| level[l] + 1 < ladder.len())
            .max_by(|&a, &b| sensitivity[level[a]][a].total_cmp(&sensitivity[level[b]][b]));
        match candidate {
            Some(l) if err > budget => level[l] += 1,
            _ => {
                return Ok(MixedPrecision {
                    plan,
                    sensitivity,
                    error: err,
                });
            }
        }
    }
}
