//! Measuring what exact second derivatives cost: one training step (forward + backward) of a
//! Burgers residual loss built from jets, against a plain forward + backward of the same
//! network and against the finite-difference route.

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};

use super::error::PinnError;
use super::jet::JetSpec;
use super::mlp::PinnMlp;
use super::sampling::{BoxDomain, Points, Rng, Sampling};

/// Median milliseconds per training step of three ways to get a loss gradient.
#[derive(Clone, Copy, Debug)]
pub struct StepCost {
    /// `mean(u²)` of a plain forward pass, then backward.
    pub plain_ms: f64,
    /// Burgers residual `u_t + u u_x − ν u_xx` from a jet (4 channels), then backward.
    pub jet_ms: f64,
    /// The same residual from central finite differences (5 stencil points in one batch),
    /// then backward.
    pub finite_difference_ms: f64,
}

impl StepCost {
    /// `jet_ms / plain_ms`.
    pub fn jet_ratio(&self) -> f64 {
        self.jet_ms / self.plain_ms
    }

    /// `finite_difference_ms / plain_ms`.
    pub fn finite_difference_ratio(&self) -> f64 {
        self.finite_difference_ms / self.plain_ms
    }
}

fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Times the three step variants for `model` on `n` random points of `[−1, 1] × [0, 1]`
/// (`reps` timed repetitions each after one warm-up; the median is reported).
///
/// ```
/// use burn::backend::Autodiff;
/// use burn_flex::Flex;
/// use pinn_jit::pinn::{measure_step_cost, PinnMlpConfig};
///
/// let model = PinnMlpConfig::new(2, 1, vec![8]).init::<Autodiff<Flex>>(0, &Default::default()).unwrap();
/// let cost = measure_step_cost(&model, 64, 3, &Default::default()).unwrap();
/// assert!(cost.jet_ms > 0.0 && cost.plain_ms > 0.0);
/// ```
pub fn measure_step_cost<B: AutodiffBackend>(
    model: &PinnMlp<B>,
    n: usize,
    reps: usize,
    device: &B::Device,
) -> Result<StepCost, PinnError> {
    let dom = BoxDomain::new(vec![-1.0, 0.0], vec![1.0, 1.0])?;
    let pts = dom.sample(n, Sampling::Uniform, &mut Rng::new(0));
    let x = pts.to_tensor::<B>(device);
    let nu = 0.01 / core::f64::consts::PI;
    let sync = |l: Tensor<B, 1>| {
        let g = l.backward();
        let _ = l.into_scalar().elem::<f64>();
        drop(g);
    };
    let plain_ms = median_ms(reps, || sync(model.forward(x.clone()).square().mean()));
    let spec = JetSpec::new(2).with_second(&[(0, 0)]);
    let mut failure = None;
    let jet_ms = median_ms(reps, || match model.forward_jet(x.clone(), &spec) {
        Ok(u) => {
            let u_xx = u.d2(0, 0).expect("requested");
            let r = u.d(1) + u.value() * u.d(0) - u_xx.mul_scalar(nu);
            sync(r.square().mean());
        }
        Err(e) => failure = Some(e),
    });
    if let Some(e) = failure {
        return Err(e);
    }
    // finite differences: u at (x, t), (x ± h, t), (x, t ± h) in one batch of 5N points
    let h = 1e-2;
    let mut stencil = Vec::with_capacity(5 * n * 2);
    for (dx, dt) in [(0.0, 0.0), (h, 0.0), (-h, 0.0), (0.0, h), (0.0, -h)] {
        for i in 0..n {
            let p = pts.row(i);
            stencil.extend([p[0] + dx, p[1] + dt]);
        }
    }
    let xs = Points::new(stencil, 2)?.to_tensor::<B>(device);
    let finite_difference_ms = median_ms(reps, || {
        let u = model.forward(xs.clone()).split(n, 0);
        let (u0, xp, xm, tp, tm) = (&u[0], &u[1], &u[2], &u[3], &u[4]);
        let u_x = (xp.clone() - xm.clone()).mul_scalar(0.5 / h);
        let u_t = (tp.clone() - tm.clone()).mul_scalar(0.5 / h);
        let u_xx = (xp.clone() + xm.clone() - u0.clone().mul_scalar(2.0)).mul_scalar(1.0 / (h * h));
        let r = u_t + u0.clone() * u_x - u_xx.mul_scalar(nu);
        sync(r.square().mean());
    });
    Ok(StepCost {
        plain_ms,
        jet_ms,
        finite_difference_ms,
    })
}
