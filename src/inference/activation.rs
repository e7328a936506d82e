//! The inference compiler's `tanh`: a rational approximation cheap enough to run on every
//! hidden unit of every sample, emitted identically by Cranelift (`f32x4`, [`emit_tanh`]) and
//! by the AVX2 dense kernel's epilogue (`f32x8`, in [`super::callout`]), so a model gives the
//! same bits whichever path a tile takes.
//!
//! The function is [`crate::codegen::math::rational_tanh`] (Eigen's degree-13/6 rational
//! approximation, max error 5 ULP vs std with FMA, 6 without), with its constants read from a
//! table in the model's data; the element-wise kernels' `tanh` is the same function with inline
//! constants, plus exact saturation to ±1. The sweep test below checks [`tanh_ref`], the Rust
//! transcription the AVX2 epilogue is compared with.

use cranelift_codegen::ir::Value;
use cranelift_frontend::FunctionBuilder;

use crate::codegen::math::{Em, MathCx, TanhConsts, rational_tanh};
pub(crate) use crate::codegen::math::{TANH_CLAMP, TANH_P, TANH_Q, TANH_TINY};

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
    rational_tanh(&mut Em::new(b, cx), x, TanhConsts::Table(table))
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
