//! 1-D heat equation `u_t = κ u_xx` on `[0, 1] × [0, 1]`.

use burn::tensor::{Tensor, backend::Backend};

use crate::pinn::error::PinnError;
use crate::pinn::jet::{Jet, JetSpec};
use crate::pinn::problem::PinnProblem;
use crate::pinn::reference::HeatSeries;
use crate::pinn::sampling::{BoxDomain, Points, linspace};

/// Diffusion with `u(x, 0) = x(1 − x)` and `u(0, t) = u(1, t) = 0`; exact Fourier-series
/// reference ([`HeatSeries`]). Ansatz `u = x(1 − x) + t · x(1 − x) · N(x, t)`.
#[derive(Clone, Copy, Debug)]
pub struct Heat {
    /// The exact solution (holds `κ`).
    pub exact: HeatSeries,
}

impl Default for Heat {
    fn default() -> Self {
        Self {
            exact: HeatSeries::new(0.1),
        }
    }
}

impl PinnProblem for Heat {
    fn name(&self) -> &'static str {
        "heat"
    }

    fn input_names(&self) -> &'static [&'static str] {
        &["x", "t"]
    }

    fn domain(&self) -> BoxDomain {
        BoxDomain::new(vec![0.0, 0.0], vec![1.0, 1.0]).expect("valid box")
    }

    fn spec(&self) -> JetSpec {
        JetSpec::new(2).with_second(&[(0, 0)])
    }

    fn ansatz<B: Backend>(&self, c: &[Jet<B>]) -> (Jet<B>, Jet<B>) {
        let (x, t) = (c[0].clone(), c[1].clone());
        let bump = x.clone() * x.mul_scalar(-1.0).add_scalar(1.0);
        (bump.clone(), t * bump)
    }

    fn residual<B: Backend>(
        &self,
        u: &Jet<B>,
        _q: Tensor<B, 2>,
    ) -> Result<Tensor<B, 2>, PinnError> {
        Ok(u.d(1) - u.d2(0, 0)?.mul_scalar(self.exact.kappa))
    }

    fn reference(&self, grid: &Points) -> Vec<f64> {
        grid.map(|p| self.exact.u(p[0], p[1]))
    }

    fn test_axes(&self) -> (Vec<f64>, Vec<f64>) {
        (linspace(0.0, 1.0, 101), linspace(0.0, 1.0, 101))
    }
}
