//! 2-D Helmholtz equation `Δu + k² u = q` on `[−1, 1]²`.

use burn::tensor::{Tensor, backend::Backend};

use crate::pinn::error::PinnError;
use crate::pinn::jet::{Jet, JetSpec};
use crate::pinn::problem::PinnProblem;
use crate::pinn::reference::HelmholtzExact;
use crate::pinn::sampling::{BoxDomain, Points, linspace};

/// The manufactured-solution benchmark `u = sin(a₁πx) sin(a₂πy)` with `a₁ = 1`, `a₂ = 4`,
/// `k = 1` and `u = 0` on the boundary ([`HelmholtzExact`]). Ansatz
/// `u = (1 − x²)(1 − y²) · N(x, y)`.
#[derive(Clone, Copy, Debug)]
pub struct Helmholtz {
    /// The exact solution and its parameters.
    pub exact: HelmholtzExact,
}

impl Default for Helmholtz {
    fn default() -> Self {
        Self {
            exact: HelmholtzExact::new(1.0, 4.0, 1.0),
        }
    }
}

impl PinnProblem for Helmholtz {
    fn name(&self) -> &'static str {
        "helmholtz"
    }

    fn input_names(&self) -> &'static [&'static str] {
        &["x", "y"]
    }

    fn domain(&self) -> BoxDomain {
        BoxDomain::new(vec![-1.0, -1.0], vec![1.0, 1.0]).expect("valid box")
    }

    fn spec(&self) -> JetSpec {
        JetSpec::new(2).with_laplacian()
    }

    fn ansatz<B: Backend>(&self, c: &[Jet<B>]) -> (Jet<B>, Jet<B>) {
        let (x, y) = (c[0].clone(), c[1].clone());
        let gx = x.square().mul_scalar(-1.0).add_scalar(1.0);
        let gy = y.square().mul_scalar(-1.0).add_scalar(1.0);
        let g = gx * gy;
        (g.clone().mul_scalar(0.0), g)
    }

    fn forcing(&self, p: &[f64]) -> f64 {
        self.exact.q(p[0], p[1])
    }

    fn residual<B: Backend>(&self, u: &Jet<B>, q: Tensor<B, 2>) -> Result<Tensor<B, 2>, PinnError> {
        let k2 = self.exact.k * self.exact.k;
        Ok(u.d2(0, 0)? + u.d2(1, 1)? + u.value().mul_scalar(k2) - q)
    }

    fn reference(&self, grid: &Points) -> Vec<f64> {
        grid.map(|p| self.exact.u(p[0], p[1]))
    }

    fn test_axes(&self) -> (Vec<f64>, Vec<f64>) {
        (linspace(-1.0, 1.0, 101), linspace(-1.0, 1.0, 101))
    }
}
