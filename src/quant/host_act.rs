//! The PINN activations on host `f32` slices (the quantized models' non-linearities).

use crate::pinn::Activation;

/// Applies `activation` in place.
pub fn apply_activation(activation: Activation, z: &mut [f32]) {
    match activation {
        Activation::Tanh => z.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::Sin => z.iter_mut().for_each(|v| *v = v.sin()),
        Activation::Sigmoid => z.iter_mut().for_each(|v| *v = sigmoid(*v)),
        Activation::Softplus => z
            .iter_mut()
            .for_each(|v| *v = v.max(0.0) + (-v.abs()).exp().ln_1p()),
        Activation::Silu => z.iter_mut().for_each(|v| *v *= sigmoid(*v)),
        Activation::Gelu => z
            .iter_mut()
            .for_each(|v| *v *= 0.5 * (1.0 + erf(*v * core::f32::consts::FRAC_1_SQRT_2))),
    }
}

fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// `erf` by Abramowitz & Stegun 7.1.26 in `f64` (absolute error below 1.5e-7, the size of an
/// `f32` rounding step near 1).
fn erf(x: f32) -> f32 {
    let x = f64::from(x);
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    (if x < 0.0 { -y } else { y }) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        for (x, e) in [
            (0.0f32, 0.0f64),
            (0.5, 0.520_499_877_8),
            (1.0, 0.842_700_792_9),
            (-2.0, -0.995_322_265),
        ] {
            assert!((f64::from(erf(x)) - e).abs() < 3e-7, "erf({x})");
        }
    }
}
