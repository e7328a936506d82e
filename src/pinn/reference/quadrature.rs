//! Gauss–Hermite quadrature nodes and weights.

use crate::pinn::error::PinnError;

/// Nodes and weights of the `n`-point Gauss–Hermite rule,
/// `∫ g(z) e^{−z²} dz ≈ Σ w_i g(z_i)`, found by Newton's method on the orthonormal Hermite
/// recurrence (exact for polynomials of degree `< 2n`). Nodes come in ascending order.
///
/// `n` is limited to `1..=300` so the recurrence stays inside the `f64` range.
///
/// ```
/// use pinn_jit::pinn::reference::gauss_hermite;
/// let (z, w) = gauss_hermite(20).unwrap();
/// // ∫ z² e^{−z²} dz = √π / 2
/// let m2: f64 = z.iter().zip(&w).map(|(z, w)| w * z * z).sum();
/// assert!((m2 - std::f64::consts::PI.sqrt() / 2.0).abs() < 1e-13);
/// ```
pub fn gauss_hermite(n: usize) -> Result<(Vec<f64>, Vec<f64>), PinnError> {
    if !(1..=300).contains(&n) {
        return Err(PinnError::InvalidConfig(format!(
            "gauss_hermite supports 1..=300 nodes, got {n}; 100–200 nodes already converge the \
             Burgers reference to 1e-14"
        )));
    }
    const PIM4: f64 = 0.751_125_544_464_942_5; // π^(−1/4)
    let nf = n as f64;
    // Golub–Welsch: the nodes are the eigenvalues of the Jacobi matrix (zero diagonal,
    // off-diagonal sqrt(k/2)); they seed a Newton polish on the orthonormal recurrence, which
    // also gives every weight to full *relative* accuracy (even the 1e-80 ones in the tails,
    // which matter for integrands as large as the Cole–Hopf kernel).
    let mut nodes = vec![0.0; n];
    let mut off: Vec<f64> = (1..n).map(|k| (k as f64 / 2.0).sqrt()).collect();
    off.push(0.0);
    tridiagonal_eigenvalues(&mut nodes, &mut off)?;
    nodes.sort_by(f64::total_cmp);
    let mut weights = vec![0.0; n];
    for (z, w) in nodes.iter_mut().zip(weights.iter_mut()) {
        let mut pp = 1.0;
        for _ in 0..8 {
            let mut p1 = PIM4;
            let mut p2 = 0.0;
            for j in 0..n {
                let p3 = p2;
                p2 = p1;
                let jf = j as f64;
                p1 = *z * (2.0 / (jf + 1.0)).sqrt() * p2 - (jf / (jf + 1.0)).sqrt() * p3;
            }
            pp = (2.0 * nf).sqrt() * p2;
            let step = p1 / pp;
            *z -= step;
            if step.abs() <= 1e-15 * z.abs().max(1.0) {
                break;
            }
        }
        *w = 2.0 / (pp * pp);
    }
    Ok((nodes, weights))
}

/// Eigenvalues of a symmetric tridiagonal matrix (diagonal `d`, off-diagonal `e[..n-1]`,
/// `e[n-1] = 0`) by the implicit QL algorithm; `d` is overwritten with them.
fn tridiagonal_eigenvalues(d: &mut [f64], e: &mut [f64]) -> Result<(), PinnError> {
    let n = d.len();
    for l in 0..n {
        let mut iter = 0;
        loop {
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iter += 1;
            if iter > 60 {
                return Err(PinnError::InvalidConfig(
                    "Gauss–Hermite: the QL eigenvalue iteration did not converge; use fewer \
                     nodes"
                        .into(),
                ));
            }
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut underflow = false;
            let mut i = m;
            while i > l {
                i -= 1;
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
            }
            if underflow {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_exact() {
        let sqrt_pi = std::f64::consts::PI.sqrt();
        for n in [1, 2, 5, 30, 101, 200, 300] {
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
        assert!(gauss_hermite(0).is_err() && gauss_hermite(301).is_err());
    }
}
