//! 1-D wave equation `u_tt = c² u_xx` on `[0, 1] × [0, 1]`.

use burn::tensor::{Tensor, backend::Backend};

use crate::pinn::error::PinnError;
use crate::pinn::jet::{Jet, JetSpec};
use crate::pinn::problem::PinnProblem;
use crate::pinn::reference::WaveDAlembert;
use crate::pinn::sampling::{BoxDomain, Points, linspace};

/// A plucked string: `u(x, 0) = sin(πx) + ½ sin(3πx)`, `u_t(x, 0) = 0`, fixed ends; exact
/// d'Alembert reference ([`WaveDAlembert`]). Ansatz `u = f(x) + s · t² · x(1 − x) · N(x, t)`,
/// which satisfies both initial conditions and the boundary conditions exactly; `s` is
/// [`Wave::correction_scale`].
#[derive(Clone, Copy, Debug)]
pub struct Wave {
    /// The exact solution (holds `c`).
    pub exact: WaveDAlembert,
}

impl Default for Wave {
    fn default() -> Self {
        Self {
            exact: WaveDAlembert::new(1.0),
        }
    }
}

impl Wave {
    /// The factor on the network's correction: `ω²` for the highest angular frequency of the
    /// initial data, `ω = 3πc`. The correction must supply `u_tt ≈ c² f''(x)` (up to ~50 for
    /// this string) through `∂²_t(t²·x(1 − x)·N) = 2x(1 − x)·N`; without the factor `N` would
    /// have to reach ~100, which a freshly initialised network's last layer needs hundreds of
    /// optimizer steps to grow to (the loss stayed ~1e2 and the error ~70 %).
    pub fn correction_scale(&self) -> f64 {
        let omega = 3.0 * core::f64::consts::PI * self.exact.c;
        omega * omega
    }
}

impl PinnProblem for Wave {
    fn name(&self) -> &'static str {
        "wave"
    }

    fn input_names(&self) -> &'static [&'static str] {
        &["x", "t"]
    }

    fn domain(&self) -> BoxDomain {
        BoxDomain::new(vec![0.0, 0.0], vec![1.0, 1.0]).expect("valid box")
    }

    fn spec(&self) -> JetSpec {
        JetSpec::new(2).with_laplacian()
    }

    fn ansatz<B: Backend>(&self, c: &[Jet<B>]) -> (Jet<B>, Jet<B>) {
        let (x, t) = (c[0].clone(), c[1].clone());
        let pi = core::f64::consts::PI;
        let f =
            x.clone().mul_scalar(pi).sin() + x.clone().mul_scalar(3.0 * pi).sin().mul_scalar(0.5);
        let bump = x.clone() * x.mul_scalar(-1.0).add_scalar(1.0);
        (f, t.square() * bump.mul_scalar(self.correction_scale()))
    }

    fn residual<B: Backend>(
        &self,
        u: &Jet<B>,
        _q: Tensor<B, 2>,
    ) -> Result<Tensor<B, 2>, PinnError> {
        let c2 = self.exact.c * self.exact.c;
        Ok(u.d2(1, 1)? - u.d2(0, 0)?.mul_scalar(c2))
    }

    fn reference(&self, grid: &Points) -> Vec<f64> {
        grid.map(|p| self.exact.u(p[0], p[1]))
    }

    fn test_axes(&self) -> (Vec<f64>, Vec<f64>) {
        (linspace(0.0, 1.0, 101), linspace(0.0, 1.0, 101))
    }
}
