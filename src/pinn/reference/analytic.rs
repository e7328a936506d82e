//! Closed-form reference solutions of the heat, wave and Helmholtz test problems.

use core::f64::consts::PI;

/// Heat equation `u_t = κ u_xx` on `[0, 1]` with `u(0, t) = u(1, t) = 0` and
/// `u(x, 0) = x (1 − x)`, solved by its Fourier sine series
/// `u = Σ_{n odd} 8 / (n π)³ · sin(nπx) · exp(−κ n² π² t)`.
///
/// ```
/// use pinn_jit::pinn::reference::HeatSeries;
/// let heat = HeatSeries::new(0.1);
/// assert!((heat.u(0.3, 0.0) - 0.3 * 0.7).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HeatSeries {
    /// Diffusivity `κ`.
    pub kappa: f64,
}

impl HeatSeries {
    /// The solution with diffusivity `kappa`.
    pub fn new(kappa: f64) -> Self {
        Self { kappa }
    }

    /// The initial condition `x (1 − x)`.
    pub fn initial(x: f64) -> f64 {
        x * (1.0 - x)
    }

    /// `u(x, t)` by the series, summed until terms fall below `1e-16` (at least to `n = 2001`
    /// at `t = 0`, where the tail is below 1e-9).
    pub fn u(&self, x: f64, t: f64) -> f64 {
        let mut sum = 0.0;
        let mut n = 1;
        while n <= 2001 {
            let nf = n as f64;
            let decay = (-self.kappa * nf * nf * PI * PI * t).exp();
            let term = 8.0 / (nf * PI).powi(3) * (nf * PI * x).sin() * decay;
            sum += term;
            if 8.0 / (nf * PI).powi(3) * decay < 1e-16 {
                break;
            }
            n += 2;
        }
        sum
    }
}

/// Wave equation `u_tt = c² u_xx` on `[0, 1]` with fixed ends, initial displacement
/// `f(x) = sin(πx) + ½ sin(3πx)` and zero initial velocity, solved by d'Alembert's formula
/// `u = ½ (F(x − ct) + F(x + ct))` with `F` the odd 2-periodic extension of `f`.
///
/// ```
/// use pinn_jit::pinn::reference::WaveDAlembert;
/// let wave = WaveDAlembert::new(1.0);
/// assert!((wave.u(0.25, 0.0) - WaveDAlembert::initial(0.25)).abs() < 1e-15);
/// assert!(wave.u(0.0, 0.7).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct WaveDAlembert {
    /// Wave speed `c`.
    pub c: f64,
}

impl WaveDAlembert {
    /// The solution with wave speed `c`.
    pub fn new(c: f64) -> Self {
        Self { c }
    }

    /// The initial displacement `f(x) = sin(πx) + ½ sin(3πx)` on `[0, 1]`.
    pub fn initial(x: f64) -> f64 {
        (PI * x).sin() + 0.5 * (3.0 * PI * x).sin()
    }

    /// The odd, 2-periodic extension of [`initial`](Self::initial) to all of `ℝ`.
    pub fn extended(y: f64) -> f64 {
        let r = y.rem_euclid(2.0);
        if r <= 1.0 {
            Self::initial(r)
        } else {
            -Self::initial(2.0 - r)
        }
    }

    /// `u(x, t)`.
    pub fn u(&self, x: f64, t: f64) -> f64 {
        0.5 * (Self::extended(x - self.c * t) + Self::extended(x + self.c * t))
    }
}

/// Helmholtz equation `Δu + k² u = q` on `[−1, 1]²` with the manufactured solution
/// `u = sin(a₁πx) sin(a₂πy)`, hence `q = (k² − (a₁² + a₂²) π²) u` and `u = 0` on the boundary.
///
/// ```
/// use pinn_jit::pinn::reference::HelmholtzExact;
/// let h = HelmholtzExact::new(1.0, 4.0, 1.0);
/// assert!(h.u(1.0, 0.3).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HelmholtzExact {
    /// Frequency `a₁` along `x`.
    pub a1: f64,
    /// Frequency `a₂` along `y`.
    pub a2: f64,
    /// Wavenumber `k`.
    pub k: f64,
}

impl HelmholtzExact {
    /// The manufactured solution with frequencies `a1`, `a2` and wavenumber `k`.
    pub fn new(a1: f64, a2: f64, k: f64) -> Self {
        Self { a1, a2, k }
    }

    /// `u(x, y)`.
    pub fn u(&self, x: f64, y: f64) -> f64 {
        (self.a1 * PI * x).sin() * (self.a2 * PI * y).sin()
    }

    /// The source `q(x, y)`.
    pub fn q(&self, x: f64, y: f64) -> f64 {
        let lap = -(self.a1 * self.a1 + self.a2 * self.a2) * PI * PI;
        (self.k * self.k + lap) * self.u(x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_series_solves_the_pde() {
        let heat = HeatSeries::new(0.1);
        let (h, ht) = (1e-4, 1e-5);
        for &(x, t) in &[(0.3, 0.2), (0.7, 0.5), (0.5, 0.05)] {
            let u_t = (heat.u(x, t + ht) - heat.u(x, t - ht)) / (2.0 * ht);
            let u_xx = (heat.u(x + h, t) - 2.0 * heat.u(x, t) + heat.u(x - h, t)) / (h * h);
            assert!(
                (u_t - 0.1 * u_xx).abs() < 1e-5,
                "({x}, {t}): {u_t} vs {u_xx}"
            );
        }
        for x in [0.1, 0.25, 0.5, 0.9] {
            assert!((heat.u(x, 0.0) - HeatSeries::initial(x)).abs() < 1e-9);
        }
        assert!(heat.u(0.0, 0.3).abs() < 1e-15 && heat.u(1.0, 0.3).abs() < 1e-12);
    }

    #[test]
    fn dalembert_is_the_standing_wave_sum() {
        let wave = WaveDAlembert::new(1.0);
        for &(x, t) in &[(0.2, 0.3), (0.8, 0.9), (0.5, 1.0), (0.33, 0.61)] {
            let standing =
                (PI * x).sin() * (PI * t).cos() + 0.5 * (3.0 * PI * x).sin() * (3.0 * PI * t).cos();
            assert!((wave.u(x, t) - standing).abs() < 1e-13);
        }
    }

    #[test]
    fn helmholtz_source_is_consistent() {
        let hz = HelmholtzExact::new(1.0, 4.0, 1.0);
        let (x, y, h) = (0.3, -0.4, 1e-4);
        let lap = (hz.u(x + h, y) + hz.u(x - h, y) + hz.u(x, y + h) + hz.u(x, y - h)
            - 4.0 * hz.u(x, y))
            / (h * h);
        assert!((lap + hz.k * hz.k * hz.u(x, y) - hz.q(x, y)).abs() < 1e-3 * hz.q(x, y).abs());
    }
}
