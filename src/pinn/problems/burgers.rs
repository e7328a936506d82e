//! Viscous Burgers: `u_t + u u_x = (0.01/π) u_xx` on `[−1, 1] × [0, 1]`.

use core::f64::consts::PI;

use burn::tensor::{Tensor, backend::Backend};

use crate::pinn::error::PinnError;
use crate::pinn::jet::{Jet, JetSpec};
use crate::pinn::mlp::PinnMlp;
use crate::pinn::problem::PinnProblem;
use crate::pinn::reference::BurgersColeHopf;
use crate::pinn::sampling::{BoxDomain, Points};

/// The Burgers shock benchmark of Raissi et al. (2019): `u(x, 0) = −sin(πx)`,
/// `u(±1, t) = 0`, `ν = 0.01/π`. Hard-constrained ansatz `u = −sin(πx) + t(1 − x²) N(x, t)`
/// with, by default, `N` made odd in `x` (the solution is);
/// reference by Cole–Hopf ([`BurgersColeHopf`]) on the 256 × 100 grid of the benchmark.
#[derive(Clone, Debug)]
pub struct Burgers {
    exact: BurgersColeHopf,
    /// Build the odd symmetry `u(−x, t) = −u(x, t)` into the network part
    /// (`N(x, t) − N(−x, t)`); on by default.
    pub odd: bool,
}

impl Default for Burgers {
    fn default() -> Self {
        Self {
            exact: BurgersColeHopf::raissi(),
            odd: true,
        }
    }
}

impl Burgers {
    /// The viscosity `ν`.
    pub fn nu(&self) -> f64 {
        self.exact.nu()
    }

    /// The Cole–Hopf reference.
    pub fn exact(&self) -> &BurgersColeHopf {
        &self.exact
    }
}

impl PinnProblem for Burgers {
    fn name(&self) -> &'static str {
        "burgers"
    }

    fn input_names(&self) -> &'static [&'static str] {
        &["x", "t"]
    }

    fn domain(&self) -> BoxDomain {
        BoxDomain::new(vec![-1.0, 0.0], vec![1.0, 1.0]).expect("valid box")
    }

    fn spec(&self) -> JetSpec {
        JetSpec::new(2).with_second(&[(0, 0)])
    }

    fn ansatz<B: Backend>(&self, c: &[Jet<B>]) -> (Jet<B>, Jet<B>) {
        let (x, t) = (c[0].clone(), c[1].clone());
        let a = x.clone().mul_scalar(PI).sin().mul_scalar(-1.0);
        let g = t * x.square().mul_scalar(-1.0).add_scalar(1.0);
        (a, g)
    }

    /// `N(x, t) − N(−x, t)`: odd in `x` like the solution, so the shock stays at `x = 0`.
    fn network_jet<B: Backend>(
        &self,
        model: &PinnMlp<B>,
        x: Tensor<B, 2>,
        spec: &JetSpec,
    ) -> Result<Jet<B>, PinnError> {
        if !self.odd {
            return model.forward_jet(x, spec);
        }
        model.forward_jet_odd(x, spec, 0)
    }

    fn network_value<B: Backend>(&self, model: &PinnMlp<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
        if !self.odd {
            return model.forward(x);
        }
        model.forward(x.clone()) - model.forward_reflected(x, 0)
    }

    fn residual<B: Backend>(
        &self,
        u: &Jet<B>,
        _q: Tensor<B, 2>,
    ) -> Result<Tensor<B, 2>, PinnError> {
        let u_xx = u.d2(0, 0)?;
        Ok(u.d(1) + u.value() * u.d(0) - u_xx.mul_scalar(self.nu()))
    }

    fn reference(&self, grid: &Points) -> Vec<f64> {
        grid.map(|p| self.exact.u(p[0], p[1]))
    }

    fn test_axes(&self) -> (Vec<f64>, Vec<f64>) {
        BurgersColeHopf::raissi_grid()
    }
}
