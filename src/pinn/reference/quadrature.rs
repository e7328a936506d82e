//! Gauss–Hermite quadrature nodes and weights.

use crate::pinn::error::PinnError;

/// Nodes and weights of the `n`-point Gauss–Hermite rule,
/// `∫ g(z) e^{−z²} dz ≈ Σ w_i g(z_i)`, found by Newton's method on the orthonormal Hermite
/// recurrence (exact for polynomials of degree `< 2n`). Nodes come in ascending order.
///
/// `n` is limited to `1..=400` so the recurrence stays inside the `f64` range.
///
/// ```
/// use pinn_jit::pinn::reference::gauss_hermite;
/// let (z, w) = gauss_hermite(20).unwrap();
/// // ∫ z² e^{−z²} dz = √π / 2
/// let m2: f64 = z.iter().zip(&w).map(|(z, w)| w * z * z).sum();
/// assert!((m2 - std::f64::consts::PI.sqrt() / 2.0).abs() < 1e-13);
/// ```
pub fn gauss_hermite(n: usize) -> Result<(Vec<f64>, Vec<f64>), PinnError> {
    if !(1..=400).contains(&n) {
        return Err(PinnError::InvalidConfig(format!(
            "gauss_hermite supports 1..=400 nodes, got {n}; 100–200 nodes already converge the \
             Burgers reference to 1e-14"
        )));
    }
    const PIM4: f64 = 0.751_125_544_464_942_5; // π^(−1/4)
    let nf = n as f64;
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    let m = n.div_ceil(2);
    let mut z = 0.0f64;
    for i in 0..m {
        z = match i {
            0 => (2.0 * nf + 1.0).sqrt() - 1.85575 * (2.0 * nf + 1.0).powf(-0.16667),
            1 => z - 1.14 * nf.powf(0.426) / z,
            2 => 1.86 * z - 0.86 * x[0],
            3 => 1.91 * z - 0.91 * x[1],
            _ => 2.0 * z - x[i - 2],
        };
        let mut pp = 1.0;
        for _ in 0..100 {
            let mut p1 = PIM4;
            let mut p2 = 0.0;
            for j in 0..n {
                let p3 = p2;
                p2 = p1;
                let jf = j as f64;
                p1 = z * (2.0 / (jf + 1.0)).sqrt() * p2 - (jf / (jf + 1.0)).sqrt() * p3;
            }
            pp = (2.0 * nf).sqrt() * p2;
            let z1 = z;
            z = z1 - p1 / pp;
            if (z - z1).abs() <= 1e-15 * z1.abs().max(1.0) {
                break;
            }
        }
        x[i] = z;
        x[n - 1 - i] = -z;
        w[i] = 2.0 / (pp * pp);
        w[n - 1 - i] = w[i];
    }
    x.reverse();
    w.reverse();
    Ok((x, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_exact() {
        let sqrt_pi = std::f64::consts::PI.sqrt();
        for n in [1, 2, 5, 30, 101, 200, 400] {
            let (z, w) = gauss_hermite(n).unwrap();
            let m0: f64 = w.iter().sum();
            assert!((m0 - sqrt_pi).abs() < 1e-12, "n = {n}: {m0}");
            if n >= 3 {
                // ∫ z⁴ e^{−z²} = 3√π/4
                let m4: f64 = z.iter().zip(&w).map(|(z, w)| w * z.powi(4)).sum();
                assert!((m4 - 0.75 * sqrt_pi).abs() < 1e-11, "n = {n}: {m4}");
            }
            assert!(
                z.windows(2).all(|p| p[0] < p[1]),
                "n = {n}: nodes not ascending"
            );
        }
        // two-point rule: ±1/√2, weights √π/2
        let (z, w) = gauss_hermite(2).unwrap();
        assert!((z[1] - 0.5f64.sqrt()).abs() < 1e-14 && (w[0] - sqrt_pi / 2.0).abs() < 1e-14);
        assert!(gauss_hermite(0).is_err() && gauss_hermite(401).is_err());
    }
}
