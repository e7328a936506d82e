//! Exact solution of the viscous Burgers benchmark by the Cole–Hopf transform.

use core::f64::consts::PI;

use super::quadrature::gauss_hermite;
use crate::pinn::error::PinnError;
use crate::pinn::sampling::linspace;

/// The exact solution of `u_t + u u_x = ν u_xx` on `x ∈ ℝ` (equivalently `[−1, 1]` with
/// `u(±1, t) = 0`, by symmetry) with `u(x, 0) = −sin(πx)`, via the Cole–Hopf transform:
///
/// `u(x, t) = − ∫ sin(π(x − η)) f(x − η) G(η) dη / ∫ f(x − η) G(η) dη`,
/// `f(y) = exp(−cos(πy) / (2πν))`, `G` the heat kernel of variance `2νt`,
///
/// evaluated with Gauss–Hermite quadrature (`η = √(4νt) z`) and a log-sum-exp shift so the
/// `e^{±1/(2πν)}` factors never overflow. The standard PINN benchmark uses `ν = 0.01/π`
/// (Raissi et al. 2019), see [`BurgersColeHopf::raissi`].
///
/// ```
/// use pinn_jit::pinn::reference::BurgersColeHopf;
/// let exact = BurgersColeHopf::raissi();
/// assert!((exact.u(0.5, 0.0) + 1.0).abs() < 1e-15);
/// assert!(exact.u(1.0, 0.5).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct BurgersColeHopf {
    nu: f64,
    nodes: Vec<f64>,
    log_weights: Vec<f64>,
}

impl BurgersColeHopf {
    /// The solution for viscosity `nu > 0` with an `n_nodes`-point Gauss–Hermite rule.
    pub fn new(nu: f64, n_nodes: usize) -> Result<Self, PinnError> {
        if nu.is_nan() || nu <= 0.0 {
            return Err(PinnError::InvalidConfig(format!(
                "Burgers viscosity must be positive, got {nu}"
            )));
        }
        let (nodes, weights) = gauss_hermite(n_nodes)?;
        let log_weights = weights.iter().map(|w| w.ln()).collect();
        Ok(Self {
            nu,
            nodes,
            log_weights,
        })
    }

    /// `ν = 0.01/π` with 200 nodes (converged to about 1e-14 on the benchmark grid).
    pub fn raissi() -> Self {
        Self::new(0.01 / PI, 200).expect("valid constants")
    }

    /// The viscosity.
    pub fn nu(&self) -> f64 {
        self.nu
    }

    /// `(N, N', D)` sums with a common scale: `u = −N/D`, `u_x = −N'/D + (N/D)²/(2ν)`.
    fn sums(&self, x: f64, t: f64) -> (f64, f64, f64) {
        let c = (4.0 * self.nu * t).sqrt();
        let k = 1.0 / (2.0 * PI * self.nu);
        let a: Vec<f64> = self
            .nodes
            .iter()
            .zip(&self.log_weights)
            .map(|(z, lw)| lw - k * (PI * (x - c * z)).cos())
            .collect();
        let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut n, mut np, mut d) = (0.0, 0.0, 0.0);
        for (z, ai) in self.nodes.iter().zip(&a) {
            let e = (ai - m).exp();
            let (s, co) = (PI * (x - c * z)).sin_cos();
            n += e * s;
            np += e * (PI * co + s * s / (2.0 * self.nu));
            d += e;
        }
        (n, np, d)
    }

    /// `u(x, t)`.
    pub fn u(&self, x: f64, t: f64) -> f64 {
        if t <= 0.0 {
            return -(PI * x).sin();
        }
        let (n, _, d) = self.sums(x, t);
        -n / d
    }

    /// `∂u/∂x (x, t)`, differentiated analytically under the integral.
    pub fn u_x(&self, x: f64, t: f64) -> f64 {
        if t <= 0.0 {
            return -PI * (PI * x).cos();
        }
        let (n, np, d) = self.sums(x, t);
        -np / d + (n / d).powi(2) / (2.0 * self.nu)
    }

    /// The benchmark grid of Raissi et al.: `x = linspace(−1, 1, 256)`,
    /// `t = 0.00, 0.01, …, 0.99` (100 values).
    pub fn raissi_grid() -> (Vec<f64>, Vec<f64>) {
        let xs = linspace(-1.0, 1.0, 256);
        let ts = (0..100).map(|i| i as f64 / 100.0).collect();
        (xs, ts)
    }

    /// `u` on the grid `xs × ts`, `t` outer and `x` inner (row `it * xs.len() + ix`), the
    /// row order of `burgers_reference.csv`.
    pub fn on_grid(&self, xs: &[f64], ts: &[f64]) -> Vec<f64> {
        ts.iter()
            .flat_map(|&t| xs.iter().map(move |&x| self.u(x, t)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // the constants are the CSV's 17-digit values, kept verbatim
    #[allow(clippy::excessive_precision)]
    /// (x, t, u) rows of the shared exact reference (Cole–Hopf with 600 Gauss–Hermite nodes,
    /// converged to 4e-15), copied here because CI cannot read the shared folder.
    const REFERENCE: [(f64, f64, f64); 16] = [
        (0.37254901960784315, 0.06, -0.974_701_663_899_075_75),
        (-0.26274509803921564, 0.13, 0.929_387_788_374_955_06),
        (-0.89803921568627454, 0.20, 0.195_461_970_573_901_94),
        (0.47450980392156872, 0.26, -0.824_430_247_979_482_83),
        (-0.16078431372549018, 0.33, 0.988_263_997_912_257_83),
        (-0.79607843137254908, 0.40, 0.281_435_915_088_887_93),
        (0.57647058823529407, 0.46, -0.530_730_049_838_791_91),
        (-0.058823529411764719, 0.53, 0.963_956_360_758_979_39),
        (-0.69411764705882351, 0.60, 0.330_074_253_721_078_96),
        (0.67843137254901964, 0.66, -0.325_928_971_591_753_94),
        (0.043137254901960853, 0.73, -0.855_317_033_280_053_04),
        (-0.59215686274509804, 0.80, 0.361_470_690_493_423_29),
        (0.1450980392156862, 0.93, -0.666_615_440_094_180_72),
        (-0.0039215686274509665, 0.25, 0.049_965_797_472_769_309),
        (-0.0039215686274509665, 0.5, 0.532_002_887_069_849_77),
        (0.0039215686274509665, 0.99, -0.312_318_725_549_027_34),
    ];

    #[test]
    fn matches_shared_reference_values() {
        let exact = BurgersColeHopf::raissi();
        for (x, t, u) in REFERENCE {
            let got = exact.u(x, t);
            assert!((got - u).abs() < 1e-12, "u({x}, {t}) = {got}, expected {u}");
        }
    }

    #[test]
    fn steepest_slope_matches_literature() {
        // |u_x(0, 1.6037/π)| = 152.00516 (Basdevant et al. 1986)
        let exact = BurgersColeHopf::raissi();
        let slope = exact.u_x(0.0, 1.6037 / PI).abs();
        assert!((slope - 152.00516).abs() < 5e-5, "slope {slope}");
        // the analytic u_x agrees with a central difference
        let (x, t, h) = (0.3, 0.4, 1e-6);
        let fd = (exact.u(x + h, t) - exact.u(x - h, t)) / (2.0 * h);
        assert!((fd - exact.u_x(x, t)).abs() < 1e-6);
    }

    #[test]
    fn grid_layout_and_symmetry() {
        let exact = BurgersColeHopf::raissi();
        let (xs, ts) = BurgersColeHopf::raissi_grid();
        assert_eq!((xs.len(), ts.len()), (256, 100));
        let u = exact.on_grid(&xs, &ts[..3]);
        assert_eq!(u.len(), 3 * 256);
        // odd in x: u(−x, t) = −u(x, t)
        for ix in 0..256 {
            assert!((u[256 + ix] + u[256 + 255 - ix]).abs() < 1e-12);
        }
        assert!(BurgersColeHopf::new(0.0, 10).is_err());
    }
}
