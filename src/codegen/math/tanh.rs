//! `tanh` and the logistic sigmoid for `f32` lanes.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, condcodes::FloatCC, types};
use cranelift_frontend::FunctionBuilder;

use super::exp_log::exp_f32;
use super::{Em, MathCx, lane_is_f32};

// The rational `tanh`'s constants live in the dependency-free microcontroller runtime, whose
// interpreter must compute the same function bit for bit.
pub(crate) use pinn_jit_mcu::math::{TANH_CLAMP, TANH_P, TANH_Q, TANH_TINY};

/// Where [`rational_tanh`] takes its constants from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TanhConsts {
    /// Splatted immediates (the element-wise kernels).
    Inline,
    /// An `f32x4` table in memory, in the order of `inference::activation::tanh_table`: `+c`,
    /// `-c`, [`TANH_TINY`], [`TANH_P`], [`TANH_Q`], each repeated for the 4 lanes. x86 folds the
    /// loads into the arithmetic, so the constants occupy no registers across a caller's loops.
    Table(Value),
}

/// `tanh(x) ≈ x·P(x²) / Q(x²)` on `x` clamped to `±TANH_CLAMP`, and `x` itself below
/// [`TANH_TINY`] (Eigen's `generic_fast_tanh_float` coefficients, degree 13/6): 10 fused
/// multiply-adds, 3 compares and selects and one division per vector. Max error vs std over all
/// `f32`: 5 ULP with FMA, 6 without; odd, keeps `-0.0`, NaN → NaN, ±inf → ±(1 − 3 ULP).
pub(crate) fn rational_tanh(e: &mut Em, x: Value, consts: TanhConsts) -> Value {
    let ty = e.ty(x);
    assert!(lane_is_f32(ty), "tanh: f32 lanes expected, got {ty}");
    let mut k = 0;
    let mut next = |e: &mut Em, value: f32| {
        let v = match consts {
            TanhConsts::Inline => e.c(x, f64::from(value)),
            TanhConsts::Table(table) => {
                let flags = MemFlagsData::trusted().with_readonly();
                e.b.ins().load(types::F32X4, flags, table, 16 * k)
            }
        };
        k += 1;
        v
    };
    let hi = next(e, TANH_CLAMP);
    let lo = next(e, -TANH_CLAMP);
    let tiny = next(e, TANH_TINY);
    let x0 = x;
    let ax = e.abs(x0);
    let is_tiny = e.cmp(FloatCC::LessThan, ax, tiny);
    // Clamp with compares, so that NaN passes through both selects.
    let above = e.cmp(FloatCC::GreaterThan, x, hi);
    let x = e.select(above, hi, x);
    let below = e.cmp(FloatCC::LessThan, x, lo);
    let x = e.select(below, lo, x);
    let x2 = e.mul(x, x);
    // Horner, highest degree first, as `Em::poly` (and the AVX2 epilogue of the inference
    // compiler) evaluate it.
    let mut p = next(e, TANH_P[0]);
    for &c in &TANH_P[1..] {
        let c = next(e, c);
        p = e.fma(p, x2, c);
    }
    let mut q = next(e, TANH_Q[0]);
    for &c in &TANH_Q[1..] {
        let c = next(e, c);
        q = e.fma(q, x2, c);
    }
    let p = e.mul(p, x);
    let r = e.div(p, q);
    e.select(is_tiny, x0, r)
}

/// Above this `|x|`, `tanh(x)` rounds to ±1 in `f32` (`1 − tanh(x) < 2⁻²⁵`).
const TANH_ONE: f64 = 9.010_913_848_876_953;

/// `tanh(x)` for `f32`/`f32x4` values (max error 5 ULP vs std with FMA, 6 without).
///
/// `rational_tanh`, then exactly ±1 from `|x| ≈ 9.01` (where std's `tanh` is ±1), so that
/// saturated units have exactly zero derivative `1 − y²`; odd, `tanh(-0.0) = -0.0`, exact for
/// subnormals, NaN → NaN.
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
    let r = rational_tanh(e, x, TanhConsts::Inline);
    let ax = e.abs(x);
    let saturated = e.cmp_k(FloatCC::GreaterThanOrEqual, ax, TANH_ONE);
    let one = e.c(x, 1.0);
    let one = e.copysign(one, x);
    e.select(saturated, one, r)
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
