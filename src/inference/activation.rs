//! The inference compiler's `tanh`: a rational approximation cheap enough to run on every
//! hidden unit of every sample, emitted identically by Cranelift (`f32x4`, [`emit_tanh`]) and
//! by the AVX2 dense kernel's epilogue (`f32x8`, in [`super::callout`]), so a model gives the
//! same bits whichever path a tile takes.
//!
//! `tanh(x) ≈ x·P(x²) / Q(x²)` on `x` clamped to `±TANH_CLAMP` (Eigen's
//! `generic_fast_tanh_float` coefficients, degree 13/6; `x` itself below `|x| = 4e-4`): 10 fused
//! multiply-adds, 3 compares and selects and one division per vector, against about 45 operations for the exp-based
//! [`crate::codegen::math::emit_tanh`]. Max error vs std over all `f32`: 5 ULP with FMA, 6 without
//! (4.4 vs the exact value; odd, keeps `-0.0`, ±inf → ±(1 − 3 ULP), NaN → NaN), checked by the sweep test below.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, condcodes::FloatCC, types};
use cranelift_frontend::FunctionBuilder;

use crate::codegen::math::{Em, MathCx};

/// Inputs are clamped to `±TANH_CLAMP` (where the rational function is within 3 ULP of 1).
pub(crate) const TANH_CLAMP: f32 = 7.998_811_7;
/// Below this `|x|`, `tanh(x)` is `x` to within 1 ULP (`x³/3` is below half an ULP of `x`); the
/// rational function would lose bits to subnormal intermediates near `f32::MIN_POSITIVE`.
pub(crate) const TANH_TINY: f32 = 4e-4;
/// Numerator coefficients (of `x²`, highest degree first); the result is `x · P(x²)`.
#[allow(clippy::excessive_precision)] // Eigen's digits, verbatim
pub(crate) const TANH_P: [f32; 7] = [
    -2.760_768_477_423_55e-16,
    2.000_187_904_824_77e-13,
    -8.604_671_522_137_35e-11,
    5.122_297_090_371_14e-8,
    1.485_722_357_179_79e-5,
    6.372_619_288_754_36e-4,
    4.893_524_558_917_86e-3,
];
/// Denominator coefficients (of `x²`, highest degree first).
#[allow(clippy::excessive_precision)]
pub(crate) const TANH_Q: [f32; 4] = [
    1.198_258_394_667_02e-6,
    1.185_347_056_866_54e-4,
    2.268_434_632_439_00e-3,
    4.893_525_185_543_85e-3,
];

/// The constants [`emit_tanh`] reads, each repeated for the 4 lanes of an `f32x4`: the clamp
/// bounds `+c, -c`, [`TANH_TINY`], then [`TANH_P`], then [`TANH_Q`].
pub(crate) fn tanh_table() -> Vec<f32> {
    [TANH_CLAMP, -TANH_CLAMP, TANH_TINY]
        .iter()
        .chain(&TANH_P)
        .chain(&TANH_Q)
        .flat_map(|&c| [c; 4])
        .collect()
}

/// `tanh(x)` for an `f32x4` (max error 5 ULP vs std with FMA, 6 without). `table` points to [`tanh_table`]; the
/// constants are loaded where they are used (x86 folds them into the arithmetic as memory
/// operands), so they never occupy registers across the caller's loops.
pub(crate) fn emit_tanh(b: &mut FunctionBuilder, cx: MathCx, x: Value, table: Value) -> Value {
    let mut k = 0;
    let mut next = |b: &mut FunctionBuilder| {
        let flags = MemFlagsData::trusted().with_readonly();
        let v = b.ins().load(types::F32X4, flags, table, 16 * k);
        k += 1;
        v
    };
    let hi = next(b);
    let lo = next(b);
    let tiny = next(b);
    let x0 = x;
    let mut e = Em::new(b, cx);
    let ax = e.abs(x0);
    let is_tiny = e.cmp(FloatCC::LessThan, ax, tiny);
    // Clamp with compares, so that NaN passes through both selects.
    let above = e.cmp(FloatCC::GreaterThan, x, hi);
    let x = e.select(above, hi, x);
    let below = e.cmp(FloatCC::LessThan, x, lo);
    let x = e.select(below, lo, x);
    let x2 = e.mul(x, x);
    // Horner, highest degree first, as `Em::poly` (and the AVX2 epilogue) evaluate it.
    let mut p = next(b);
    for _ in 1..TANH_P.len() {
        let c = next(b);
        p = Em::new(b, cx).fma(p, x2, c);
    }
    let mut q = next(b);
    for _ in 1..TANH_Q.len() {
        let c = next(b);
        q = Em::new(b, cx).fma(q, x2, c);
    }
    let mut e = Em::new(b, cx);
    let p = e.mul(p, x);
    let r = e.div(p, q);
    e.select(is_tiny, x0, r)
}

/// The same computation in Rust, one `f32` at a time (reference for the tests; `fma` as the
/// generated code uses it when the host has FMA).
#[cfg(test)]
pub(crate) fn tanh_ref(x: f32, fma: bool) -> f32 {
    let madd = |a: f32, b: f32, c: f32| if fma { a.mul_add(b, c) } else { a * b + c };
    if x.abs() < TANH_TINY {
        return x;
    }
    let x = if x > TANH_CLAMP { TANH_CLAMP } else { x };
    let x = if x < -TANH_CLAMP { -TANH_CLAMP } else { x };
    let x2 = x * x;
    let p = TANH_P[1..]
        .iter()
        .fold(TANH_P[0], |acc, &c| madd(acc, x2, c))
        * x;
    let q = TANH_Q[1..]
        .iter()
        .fold(TANH_Q[0], |acc, &c| madd(acc, x2, c));
    p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f32) -> u32 {
        let key = |v: f32| {
            let i = v.to_bits() as i32;
            if i < 0 { i32::MIN - i } else { i }
        };
        key(a).abs_diff(key(b))
    }

    #[test]
    fn rational_tanh_is_within_5_ulp_of_std_everywhere() {
        for fma in [true, false] {
            let mut worst = 0;
            let mut bits = 0u32;
            while bits < u32::MAX - 211 {
                let x = f32::from_bits(bits);
                bits += 211;
                let (got, want) = (tanh_ref(x, fma), x.tanh());
                if want.is_nan() {
                    assert!(got.is_nan(), "tanh({x}) = {got}");
                    continue;
                }
                let u = ulps(got, want);
                // Subnormal results differ from std by rounding of x·P/Q only.
                if want.abs() >= f32::MIN_POSITIVE {
                    worst = worst.max(u);
                    assert!(
                        u <= if fma { 5 } else { 6 },
                        "tanh({x:e}) = {got:e}, std {want:e}, {u} ulp (fma {fma})"
                    );
                }
            }
            assert!(worst >= 2, "the sweep exercised the approximation");
        }
        assert_eq!(tanh_ref(-0.0, true).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh_ref(f32::INFINITY, true), tanh_ref(100.0, true));
        assert!(tanh_ref(f32::NEG_INFINITY, true) < -0.9999997);
    }
}
