//! The [`PinnProblem`] trait: a PDE on a box with a hard-constrained ansatz
//! `u = A(x) + G(x) · N(x)`, where `A` satisfies the initial/boundary conditions, `G`
//! vanishes where they are imposed, and `N` is the network.

use burn::tensor::{Tensor, backend::Backend};

use super::error::PinnError;
use super::jet::{Jet, JetSpec};
use super::mlp::PinnMlp;
use super::sampling::{BoxDomain, Points};

/// A PDE problem solved with a hard-constrained PINN ansatz `u = A + G · N`.
///
/// Implementors describe the physics; the [`Trainer`](super::Trainer) does the rest (sampling,
/// the derivative jets, Adam, L-BFGS, evaluation). The ansatz removes the initial- and
/// boundary-condition loss terms entirely, which is what makes PINNs reach 1e-3-level errors
/// quickly on the classic benchmarks.
pub trait PinnProblem {
    /// Short lower-case name (`burgers`, …).
    fn name(&self) -> &'static str;

    /// Names of the inputs in order (`["x", "t"]`).
    fn input_names(&self) -> &'static [&'static str];

    /// The space(-time) box.
    fn domain(&self) -> BoxDomain;

    /// The derivatives the residual needs.
    fn spec(&self) -> JetSpec;

    /// The ansatz jets `(A, G)`, built from the coordinate jets (one `[N, 1]` jet per input)
    /// with [`Jet`] arithmetic. They do not depend on the weights, so the trainer computes
    /// them once per collocation set.
    fn ansatz<B: Backend>(&self, coords: &[Jet<B>]) -> (Jet<B>, Jet<B>);

    /// The network part `N` of the ansatz as a jet; by default the network itself. Override
    /// to build symmetry into `N` (e.g. `N(x) − N(−x)`), together with
    /// [`network_value`](Self::network_value).
    fn network_jet<B: Backend>(
        &self,
        model: &PinnMlp<B>,
        x: Tensor<B, 2>,
        spec: &JetSpec,
    ) -> Result<Jet<B>, PinnError> {
        model.forward_jet(x, spec)
    }

    /// The value of [`network_jet`](Self::network_jet) without derivatives (inference).
    fn network_value<B: Backend>(&self, model: &PinnMlp<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
        model.forward(x)
    }

    /// A source term `q(x)` entering the residual (zero by default).
    fn forcing(&self, _p: &[f64]) -> f64 {
        0.0
    }

    /// The PDE residual `[N, 1]` from the jet of `u` and the forcing `[N, 1]`.
    fn residual<B: Backend>(
        &self,
        u: &Jet<B>,
        forcing: Tensor<B, 2>,
    ) -> Result<Tensor<B, 2>, PinnError>;

    /// The exact (or reference) solution on the test grid, in the grid's row order.
    fn reference(&self, grid: &Points) -> Vec<f64>;

    /// The test grid axes: `(first-input values, second-input values)`; the grid is their
    /// tensor product with the *second* input outer and the first inner (row
    /// `i2 * n1 + i1`), e.g. `t` outer and `x` inner.
    fn test_axes(&self) -> (Vec<f64>, Vec<f64>);

    /// The test grid built from [`test_axes`](Self::test_axes).
    fn test_grid(&self) -> Points {
        let (a, b) = self.test_axes();
        let mut data = Vec::with_capacity(a.len() * b.len() * 2);
        for &vb in &b {
            for &va in &a {
                data.push(va);
                data.push(vb);
            }
        }
        Points::new(data, 2).expect("two columns")
    }
}

/// The coordinate jets of every input at the points `x` (`[N, d]`).
pub fn coordinate_jets<B: Backend>(
    x: &Tensor<B, 2>,
    spec: &JetSpec,
) -> Result<Vec<Jet<B>>, PinnError> {
    (0..spec.n_inputs())
        .map(|i| Jet::coordinate(x.clone(), spec, i))
        .collect()
}

/// The constant parts of the ansatz at a set of points, ready for repeated loss evaluation.
#[derive(Clone, Debug)]
pub struct AnsatzBatch<B: Backend> {
    /// The points `[N, d]`.
    pub x: Tensor<B, 2>,
    /// `A` with its derivatives.
    pub a: Jet<B>,
    /// `G` with its derivatives.
    pub g: Jet<B>,
    /// The forcing `[N, 1]`.
    pub forcing: Tensor<B, 2>,
}

impl<B: Backend> AnsatzBatch<B> {
    /// Evaluates the constant ansatz parts of `problem` at `points`.
    pub fn new<P: PinnProblem>(
        problem: &P,
        points: &Points,
        device: &B::Device,
    ) -> Result<Self, PinnError> {
        let spec = problem.spec();
        let x = points.to_tensor::<B>(device);
        let coords = coordinate_jets(&x, &spec)?;
        let (a, g) = problem.ansatz(&coords);
        let q = points.map(|p| problem.forcing(p));
        let forcing = Points::new(q, 1)?.to_tensor::<B>(device);
        Ok(Self { x, a, g, forcing })
    }

    /// The jet of `u = A + G · N` for the network `model`.
    pub fn u_jet<P: PinnProblem>(
        &self,
        problem: &P,
        model: &PinnMlp<B>,
    ) -> Result<Jet<B>, PinnError> {
        let n = problem.network_jet(model, self.x.clone(), self.a.spec())?;
        Ok(self.a.clone() + self.g.clone() * n)
    }

    /// The PDE residual of `model` at these points.
    pub fn residual<P: PinnProblem>(
        &self,
        problem: &P,
        model: &PinnMlp<B>,
    ) -> Result<Tensor<B, 2>, PinnError> {
        problem.residual(&self.u_jet(problem, model)?, self.forcing.clone())
    }
}

/// `u = A + G · N` at `points` without derivatives (inference), as host `f64`.
pub fn predict<B: Backend, P: PinnProblem>(
    problem: &P,
    model: &PinnMlp<B>,
    points: &Points,
    device: &B::Device,
) -> Result<Vec<f64>, PinnError> {
    let spec = JetSpec::new(points.dim());
    let mut out = Vec::with_capacity(points.len());
    let chunk = 8192;
    for start in (0..points.len()).step_by(chunk) {
        let end = (start + chunk).min(points.len());
        let sub = Points::new(
            points.as_slice()[start * points.dim()..end * points.dim()].to_vec(),
            points.dim(),
        )?;
        let x = sub.to_tensor::<B>(device);
        let coords = coordinate_jets(&x, &spec)?;
        let (a, g) = problem.ansatz(&coords);
        let u = a.into_value() + g.into_value() * problem.network_value(model, x);
        let data = u.into_data().convert::<f64>();
        out.extend_from_slice(data.as_slice::<f64>().expect("converted to f64"));
    }
    Ok(out)
}

/// Relative L2 error `‖pred − exact‖ / ‖exact‖`.
pub fn rel_l2(pred: &[f64], exact: &[f64]) -> f64 {
    let num: f64 = pred.iter().zip(exact).map(|(p, e)| (p - e).powi(2)).sum();
    let den: f64 = exact.iter().map(|e| e * e).sum();
    (num / den).sqrt()
}
