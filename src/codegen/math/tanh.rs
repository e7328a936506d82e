//! `tanh` and the logistic sigmoid for `f32` lanes.

use cranelift_codegen::ir::{Value, condcodes::FloatCC};
use cranelift_frontend::FunctionBuilder;

use super::exp_log::exp_f32;
use super::{Em, MathCx, lane_is_f32};

/// `tanh(x) = x + x³ P(x²)` on `|x| < 0.625` (Cephes `tanhf`).
const TANH_P: [f64; 5] = [
    -5.704_988_727_45e-3,
    2.063_908_879_54e-2,
    -5.373_971_555_31e-2,
    1.333_144_220_36e-1,
    -3.333_328_194_22e-1,
];

/// Below this `|x|` tanh uses the odd polynomial, above it `1 - 2 / (e^{2|x|} + 1)`.
const TANH_SPLIT: f64 = 0.625;

/// `tanh(x)` for `f32`/`f32x4` values (max error 2 ULP vs std).
///
/// Accurate near 0 (odd polynomial, `tanh(-0.0) = -0.0`, exact for subnormals) and saturating
/// to exactly ±1 for large `|x|` (the exponential overflows to `+inf`, `2 / inf = 0`).
pub fn emit_tanh(b: &mut FunctionBuilder, cx: MathCx, x: Value) -> Value {
    let mut e = Em::new(b, cx);
    tanh_f32(&mut e, x)
}

/// `1 / (1 + e^-x)` for `f32`/`f32x4` values (max error 4 ULP vs std's formula: exp's last-bit
/// differences are doubled by the reciprocal where `1 + e^-x` and the result sit at opposite ends
/// of their binades).
pub fn emit_sigmoid(b: &mut FunctionBuilder, cx: MathCx, x: Value) -> Value {
    let mut e = Em::new(b, cx);
    sigmoid_f32(&mut e, x)
}

pub(crate) fn tanh_f32(e: &mut Em, x: Value) -> Value {
    let ty = e.ty(x);
    assert!(lane_is_f32(ty), "tanh: f32 lanes expected, got {ty}");
    let a = e.abs(x);
    // Small |x|: odd polynomial.
    let z = e.mul(x, x);
    let p = e.poly(z, &TANH_P);
    let pz = e.mul(p, z);
    let small = e.fma(pz, x, x);
    // Large |x|: 1 - 2 / (e^{2|x|} + 1), with x's sign.
    let a2 = e.add(a, a);
    let ex = exp_f32(e, a2);
    let one = e.c(x, 1.0);
    let two = e.c(x, 2.0);
    let den = e.add(ex, one);
    let q = e.div(two, den);
    let large = e.sub(one, q);
    let is_small = e.cmp_k(FloatCC::LessThan, a, TANH_SPLIT);
    let r = e.select(is_small, small, large);
    // tanh is odd and |x³ P(x²)| < |x|, so x's sign is the result's (also for -0.0, where the
    // polynomial's `x + x·(…)` would give +0.0).
    e.copysign(r, x)
}

pub(crate) fn sigmoid_f32(e: &mut Em, x: Value) -> Value {
    let ty = e.ty(x);
    assert!(lane_is_f32(ty), "sigmoid: f32 lanes expected, got {ty}");
    let nx = e.neg(x);
    let ex = exp_f32(e, nx);
    let one = e.c(x, 1.0);
    let den = e.add(one, ex);
    e.div(one, den)
}
