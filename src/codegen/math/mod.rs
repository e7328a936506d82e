//! Inline, branch-free math for Cranelift: reusable emitters of transcendental functions.
//!
//! Every `emit_*` function appends straight-line IR (no blocks, no calls) to the current block of
//! a [`FunctionBuilder`] and works on scalar or vector float values alike: the type is taken from
//! the argument (`f32`, `f32x4`, and for the functions noted `f64`, `f64x2`). Specials (NaN,
//! ±inf, ±0, subnormals, overflow and underflow) are handled with selects, so every lane is
//! computed independently and no input traps. Another code generator can therefore call, e.g.,
//! [`emit_tanh`] on the output of its own matrix product.
//!
//! Accuracy against Rust's std (glibc's libm on Linux) over all `f32` inputs, measured by the
//! sweep tests in `codegen::tests::ulp` (every 97th bit pattern with FMA, every 389th without,
//! plus specials and their neighbours):
//!
//! | function         | max error | notes                                                           |
//! |------------------|-----------|-----------------------------------------------------------------|
//! | [`emit_exp`]     | 1 ULP     | `+inf` exactly above 88.72283935546875; subnormals rounded once |
//! | [`emit_log`]     | 1 ULP     | subnormal inputs normalised; `-inf` at ±0, NaN below 0          |
//! | [`emit_log1p`]   | 1 ULP     | exact for `|x| < 2^-24`, keeps `-0.0`                           |
//! | [`emit_tanh`]    | 6 ULP     | rational (5 ULP with FMA); exactly ±1 from `|x| ≈ 9.01`, odd    |
//! | [`emit_sigmoid`] | 4 ULP     | vs std's own `1 / (1 + exp(-x))` in `f32`                       |
//! | [`emit_sin`]     | 1 ULP     | for `|x| ≤ 4.2e8` ([`TRIG_REDUCTION_LIMIT_F32`]); in `f64`      |
//! | [`emit_cos`]     | 1 ULP     | same; kernels call std for vectors with larger arguments        |
//!
//! (The table is checked by the tests: each bound is the constant the sweep asserts.)

mod exp_log;
mod tanh;
mod trig;

pub use exp_log::{emit_exp, emit_log, emit_log1p};
pub(crate) use tanh::{TANH_CLAMP, TANH_P, TANH_Q, TANH_TINY, TanhConsts, rational_tanh};
pub use tanh::{emit_sigmoid, emit_tanh};
pub use trig::{TRIG_REDUCTION_LIMIT_F32, emit_cos, emit_sin};

use cranelift_codegen::ir::{
    ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, condcodes::FloatCC, types,
};
use cranelift_frontend::FunctionBuilder;

/// Target facts the math emitters need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MathCx {
    /// Whether `fma` is a native instruction (x86 FMA3, aarch64). When false, polynomials use a
    /// separate multiply and add: Cranelift would otherwise lower `fma` to a libm call.
    pub fma: bool,
}

/// Memory flags for bitcasts between vector types: explicit little-endian lane order.
pub(crate) fn le() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// A thin helper over a [`FunctionBuilder`] that makes constant splats, fused multiply-adds and
/// lane-wise selects read like the math they implement.
pub(crate) struct Em<'a, 'f> {
    pub b: &'a mut FunctionBuilder<'f>,
    pub cx: MathCx,
}

impl<'a, 'f> Em<'a, 'f> {
    pub fn new(b: &'a mut FunctionBuilder<'f>, cx: MathCx) -> Self {
        Em { b, cx }
    }

    /// The type of `v`.
    pub fn ty(&self, v: Value) -> Type {
        self.b.func.dfg.value_type(v)
    }

    /// The float constant `v` in type `ty` (splatted for vector types).
    pub fn fc(&mut self, ty: Type, v: f64) -> Value {
        let lane = ty.lane_type();
        if ty.is_vector() {
            let mut bytes = Vec::with_capacity(16);
            for _ in 0..ty.lane_count() {
                if lane == types::F32 {
                    bytes.extend_from_slice(&(v as f32).to_le_bytes());
                } else {
                    bytes.extend_from_slice(&v.to_le_bytes());
                }
            }
            let c = self.b.func.dfg.constants.insert(ConstantData::from(bytes));
            self.b.ins().vconst(ty, c)
        } else if lane == types::F32 {
            self.b.ins().f32const(v as f32)
        } else {
            self.b.ins().f64const(v)
        }
    }

    /// The integer constant `v` in integer type `ty` (splatted for vector types).
    pub fn ic(&mut self, ty: Type, v: i64) -> Value {
        if ty.is_vector() {
            let lane = ty.lane_type();
            let mut bytes = Vec::with_capacity(16);
            for _ in 0..ty.lane_count() {
                bytes.extend_from_slice(&v.to_le_bytes()[..lane.bytes() as usize]);
            }
            let c = self.b.func.dfg.constants.insert(ConstantData::from(bytes));
            self.b.ins().vconst(ty, c)
        } else {
            self.b.ins().iconst(ty, v)
        }
    }

    /// The constant `v` in the type of `like`.
    pub fn c(&mut self, like: Value, v: f64) -> Value {
        let ty = self.ty(like);
        self.fc(ty, v)
    }

    pub fn add(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().fadd(a, b)
    }
    pub fn sub(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().fsub(a, b)
    }
    pub fn mul(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().fmul(a, b)
    }
    pub fn div(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().fdiv(a, b)
    }
    pub fn abs(&mut self, a: Value) -> Value {
        self.b.ins().fabs(a)
    }
    pub fn neg(&mut self, a: Value) -> Value {
        self.b.ins().fneg(a)
    }

    /// `a * b + c`, fused when the target has FMA.
    pub fn fma(&mut self, a: Value, b: Value, c: Value) -> Value {
        if self.cx.fma {
            self.b.ins().fma(a, b, c)
        } else {
            let p = self.b.ins().fmul(a, b);
            self.b.ins().fadd(p, c)
        }
    }

    /// `a * k + c` for a constant `k`.
    pub fn fma_k(&mut self, a: Value, k: f64, c: Value) -> Value {
        let k = self.c(a, k);
        self.fma(a, k, c)
    }

    /// Horner evaluation of `coeffs[0] x^n + coeffs[1] x^(n-1) + … + coeffs[n]` (highest
    /// degree first).
    pub fn poly(&mut self, x: Value, coeffs: &[f64]) -> Value {
        let mut acc = self.c(x, coeffs[0]);
        for &k in &coeffs[1..] {
            let k = self.c(x, k);
            acc = self.fma(acc, x, k);
        }
        acc
    }

    /// Lane-wise comparison; gives a lane mask (vectors) or an `i8` truth value (scalars).
    pub fn cmp(&mut self, cc: FloatCC, a: Value, b: Value) -> Value {
        self.b.ins().fcmp(cc, a, b)
    }

    /// Lane-wise comparison against a constant.
    pub fn cmp_k(&mut self, cc: FloatCC, a: Value, k: f64) -> Value {
        let k = self.c(a, k);
        self.cmp(cc, a, k)
    }

    /// Lane-wise `if mask { a } else { b }` for a mask made by [`Em::cmp`] (or any all-ones /
    /// all-zeros lane mask).
    pub fn select(&mut self, mask: Value, a: Value, b: Value) -> Value {
        let ty = self.ty(a);
        if ty.is_vector() {
            let m = if self.ty(mask) == ty {
                mask
            } else {
                self.b.ins().bitcast(ty, le(), mask)
            };
            self.b.ins().bitselect(m, a, b)
        } else {
            self.b.ins().select(mask, a, b)
        }
    }

    /// The bits of a float value as the same-sized integer type.
    pub fn bits(&mut self, x: Value) -> Value {
        let ty = self.ty(x).as_int();
        self.b.ins().bitcast(ty, le(), x)
    }

    /// Reinterpret integer bits as the float type `ty`.
    pub fn float_of_bits(&mut self, ty: Type, i: Value) -> Value {
        self.b.ins().bitcast(ty, le(), i)
    }

    /// `x` with the sign of `s` (`s`'s sign bit, also for NaN and zeros).
    pub fn copysign(&mut self, x: Value, s: Value) -> Value {
        let ty = self.ty(x);
        if !ty.is_vector() {
            return self.b.ins().fcopysign(x, s);
        }
        // x64 has no vector `fcopysign` lowering: combine the bits by hand.
        let ity = ty.as_int();
        let sign = self.ic(ity, 1i64 << (ty.lane_bits() - 1));
        let xb = self.bits(x);
        let sb = self.bits(s);
        let mag = self.b.ins().band_not(xb, sign);
        let sgn = self.b.ins().band(sb, sign);
        let r = self.b.ins().bor(mag, sgn);
        self.float_of_bits(ty, r)
    }
}

/// Checks the float type an emitter is given; they support `f32`/`f32x4` and, where documented,
/// `f64`/`f64x2`.
pub(crate) fn lane_is_f32(ty: Type) -> bool {
    ty.lane_type() == types::F32
}
