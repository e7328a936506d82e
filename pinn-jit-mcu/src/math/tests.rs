//! The error bounds of the module documentation, checked against `std` on the host.

extern crate std;

use super::*;

/// Distance in units in the last place (ordered bit patterns), `+0` and `-0` one apart.
fn ulps(a: f32, b: f32) -> u32 {
    let key = |v: f32| {
        let i = v.to_bits() as i32;
        if i < 0 { i32::MIN - i } else { i }
    };
    key(a).abs_diff(key(b))
}

/// Every `step`-th bit pattern (both signs), plus the special values.
fn sweep(step: u32) -> impl Iterator<Item = f32> {
    let specials = [
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
        1.0,
        -1.0,
        0.5,
        f32::MAX,
        f32::MIN,
    ];
    (0..u32::MAX / step)
        .map(move |i| f32::from_bits(i * step))
        .chain(specials)
}

/// Worst ULP error of `got` against `want` over `xs`, where both are finite and `want` is
/// normal (or where `abs_tol` does not already cover the difference); NaN-ness and infinities
/// must match exactly.
fn worst(
    name: &str,
    xs: impl Iterator<Item = f32>,
    got: impl Fn(f32) -> f32,
    want: impl Fn(f32) -> f32,
    abs_tol: f32,
) -> u32 {
    let mut worst = 0;
    for x in xs {
        let (g, w) = (got(x), want(x));
        if w.is_nan() || g.is_nan() {
            assert!(g.is_nan() && w.is_nan(), "{name}({x:e}) = {g:e}, std {w:e}");
            continue;
        }
        if w.is_infinite() || g.is_infinite() {
            assert_eq!(g, w, "{name}({x:e})");
            continue;
        }
        if (g - w).abs() <= abs_tol || w.abs() < f32::MIN_POSITIVE {
            assert!(
                (g - w).abs() <= abs_tol.max(f32::MIN_POSITIVE),
                "{name}({x:e}) = {g:e}, std {w:e}"
            );
            continue;
        }
        let u = ulps(g, w);
        if u > worst {
            worst = u;
        }
    }
    worst
}

fn check(name: &str, bound: u32, w: u32) {
    std::println!("{name}: worst {w} ulp (bound {bound})");
    assert!(w <= bound, "{name}: {w} ulp exceeds the documented {bound}");
}

const STEP: u32 = 4099;

#[test]
fn rounding_and_sqrt_are_exact() {
    for x in sweep(STEP) {
        let same = |a: f32, b: f32| (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits();
        assert!(same(trunc(x), x.trunc()), "trunc({x:e})");
        assert!(same(floor(x), x.floor()), "floor({x:e})");
        assert!(same(ceil(x), x.ceil()), "ceil({x:e})");
        assert!(
            same(round_ties_even(x), x.round_ties_even()),
            "round({x:e})"
        );
        assert!(same(sqrt(x), x.sqrt()), "sqrt({x:e}) = {:e}", sqrt(x));
        assert!(same(abs(x), x.abs()), "abs({x:e})");
    }
    for x in [0.5f32, 1.5, 2.5, -0.5, -2.5, 8_388_607.5, -0.49999997] {
        assert_eq!(
            round_ties_even(x).to_bits(),
            x.round_ties_even().to_bits(),
            "{x}"
        );
    }
}

#[test]
fn exp_ln_log1p_within_bounds() {
    check("exp", 2, worst("exp", sweep(STEP), exp, f32::exp, 0.0));
    check("ln", 2, worst("ln", sweep(STEP), ln, f32::ln, 0.0));
    check(
        "log1p",
        3,
        worst("log1p", sweep(STEP), log1p, f32::ln_1p, 0.0),
    );
    assert_eq!(exp(0.0), 1.0);
    assert_eq!(ln(1.0), 0.0);
    assert_eq!(log1p(-1.0), f32::NEG_INFINITY);
    // Subnormal results stay within one ULP of MIN_POSITIVE's scale.
    for x in [-88.0f32, -90.0, -100.0, -103.0] {
        assert!((exp(x) - x.exp()).abs() <= 1.5e-45, "exp({x})");
    }
}

#[test]
fn trigonometry_within_bounds() {
    let small = || sweep(STEP).filter(|x| x.abs() <= 8192.0);
    let tiny_abs = 5.96e-8; // 2^-24: absolute error allowed near zeros of sin/cos
    check("sin", 2, worst("sin", small(), sin, f32::sin, tiny_abs));
    check("cos", 2, worst("cos", small(), cos, f32::cos, tiny_abs));
    check("tan", 4, worst("tan", small(), tan, f32::tan, tiny_abs));
    // Large arguments: absolute error only.
    for x in sweep(STEP).filter(|x| x.abs() > 8192.0 && x.abs() <= 1_048_576.0) {
        assert!((sin(x) - x.sin()).abs() <= 4e-7, "sin({x:e})");
        assert!((cos(x) - x.cos()).abs() <= 4e-7, "cos({x:e})");
    }
    // Past 2^20 the error grows with |x|, but results stay in [-1, 1] (NaN for infinities).
    for x in sweep(STEP).filter(|x| x.abs() > 1_048_576.0) {
        if x.is_finite() {
            assert!(sin(x).abs() <= 1.0 && cos(x).abs() <= 1.0, "{x:e}");
        } else {
            assert!(sin(x).is_nan() && cos(x).is_nan());
        }
    }
    assert_eq!(sin(-0.0).to_bits(), (-0.0f32).to_bits());
}

#[test]
fn hyperbolic_and_sigmoid_within_bounds() {
    check("tanh", 6, worst("tanh", sweep(STEP), tanh, f32::tanh, 0.0));
    check("sinh", 4, worst("sinh", sweep(STEP), sinh, f32::sinh, 0.0));
    check("cosh", 4, worst("cosh", sweep(STEP), cosh, f32::cosh, 0.0));
    let sig = |x: f32| (1.0 / (1.0 + (-(x as f64)).exp())) as f32;
    check(
        "sigmoid",
        4,
        worst("sigmoid", sweep(STEP), sigmoid, sig, 0.0),
    );
    assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
}

/// `erf` by Simpson's rule in `f64` on 4000 intervals (error below 1e-12): an independent
/// reference, as `std` has no `erf`.
fn erf_simpson(x: f32) -> f32 {
    let a = x as f64;
    if a.is_nan() {
        return f32::NAN;
    }
    if a.abs() > 6.0 {
        return a.signum() as f32;
    }
    let n = 4000;
    let h = a / n as f64;
    let f = |t: f64| (-t * t).exp();
    let mut s = f(0.0) + f(a);
    for i in 1..n {
        s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    (s * h / 3.0 * core::f64::consts::FRAC_2_SQRT_PI) as f32
}

#[test]
fn erf_within_bounds() {
    let xs = (0..20_000).map(|i| -5.0 + i as f32 * 5e-4).chain([
        1e-20f32,
        -1e-38,
        1e-45,
        0.0,
        -0.0,
        3.91,
        3.93,
        f32::INFINITY,
        f32::NAN,
    ]);
    check("erf", 2, worst("erf", xs, erf, erf_simpson, 0.0));
    assert_eq!(erf(f32::NEG_INFINITY), -1.0);
    assert_eq!(erf(-0.0).to_bits(), (-0.0f32).to_bits());
}
