//! The PINN activations on host `f32` slices (the quantized models' non-linearities).

use crate::pinn::Activation;

/// Applies `activation` in place.
pub fn apply_activation(activation: Activation, z: &mut [f32]) {
    match activation {
        Activation::Tanh => z.iter_mut().for_each(|v| *v = tanh(*v)),
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

/// `tanh` as a branch-free rational function (the `[13/6]` minimax fit Eigen uses for
/// `float`), so loops over slices vectorise; inputs are clamped to `[-9, 9]`, beyond which
/// `tanh` rounds to ±1 in `f32`. NaN propagates. Measured error against `f64::tanh`: see the
/// test `tanh_is_accurate`.
#[inline]
// The coefficients are written as published; the compiler rounds them to `f32`.
#[allow(clippy::excessive_precision)]
pub fn tanh(x: f32) -> f32 {
    const A: [f32; 7] = [
        4.893_524_558_917_86e-3,
        6.372_619_288_754_36e-4,
        1.485_722_357_179_79e-5,
        5.122_297_090_371_14e-8,
        -8.604_671_522_137_35e-11,
        2.000_187_904_824_77e-13,
        -2.760_768_477_423_55e-16,
    ];
    const B: [f32; 4] = [
        4.893_525_185_543_85e-3,
        2.268_434_632_439e-3,
        1.185_347_056_866_54e-4,
        1.198_258_394_667_02e-6,
    ];
    let x = x.clamp(-9.0, 9.0);
    let x2 = x * x;
    let mut p = A[6];
    for &a in A[..6].iter().rev() {
        p = p * x2 + a;
    }
    let mut q = B[3];
    for &b in B[..3].iter().rev() {
        q = q * x2 + b;
    }
    x * p / q
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
    fn tanh_is_accurate() {
        let mut worst = 0.0f64;
        for i in -200_000..=200_000 {
            let x = i as f32 * 5e-5;
            let e = f64::from(x).tanh();
            let err = (f64::from(tanh(x)) - e).abs() / e.abs().max(1e-30);
            worst = worst.max(if x == 0.0 { 0.0 } else { err });
        }
        assert!(worst < 6e-7, "relative error {worst}");
        for x in [-1e30f32, -20.0, 9.5, 1e30, f32::INFINITY, f32::NEG_INFINITY] {
            assert_eq!(tanh(x), x.signum(), "{x}");
        }
        assert_eq!(tanh(0.0), 0.0);
        assert!(tanh(f32::NAN).is_nan());
        assert!((tanh(1e-30) - 1e-30).abs() < 1e-36);
    }

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
