//! `exp`, `log` and `log1p` for `f32` lanes (Cephes-style polynomials, Cody–Waite reduction).

use cranelift_codegen::ir::{InstBuilder, Value, condcodes::FloatCC};
use cranelift_frontend::FunctionBuilder;

use super::{Em, MathCx, lane_is_f32};

/// `ln 2` split for Cody–Waite reduction: `LN2_HI` has 9 significant bits, so `k * LN2_HI` is
/// exact for `|k| < 2^15`.
const LN2_HI: f64 = 0.693359375;
const LN2_LO: f64 = -2.121_944_4e-4;
/// `1.5 * 2^23`: adding it rounds an `f32` of magnitude below `2^22` to an integer, which then
/// sits in the low mantissa bits.
const SHIFTER: f64 = 12582912.0;
/// Largest `f32` whose `exp` is finite (`exp(next_up(X)) = +inf` in round-to-nearest).
pub(crate) const EXP_OVERFLOW_F32: f64 = 88.722_839_355_468_75;
/// Below this every `f32` `exp` rounds to `+0`.
const EXP_UNDERFLOW_F32: f64 = -104.0;

/// `e^r` on `|r| ≤ ln2/2` is `1 + r + r² P(r)` (Cephes `expf`).
const EXP_P: [f64; 6] = [
    1.987_569_15e-4,
    1.398_199_950_7e-3,
    8.333_451_907_3e-3,
    4.166_579_589_4e-2,
    1.666_666_545_9e-1,
    5.000_000_120_1e-1,
];

/// `ln(1+f) = f - f²/2 + f³ P(f)` on `√½ - 1 ≤ f < √2 - 1` (Cephes `logf`).
const LOG_P: [f64; 9] = [
    7.037_683_629_2e-2,
    -1.151_461_031_0e-1,
    1.167_699_874_0e-1,
    -1.242_014_084_6e-1,
    1.424_932_278_7e-1,
    -1.666_805_766_5e-1,
    2.000_071_476_5e-1,
    -2.499_999_399_3e-1,
    3.333_333_117_4e-1,
];

/// `e^x` for `f32`/`f32x4` values (max error 1 ULP vs std; exactly `+inf` above
/// 88.72283935546875 as std, `+0` below −104, NaN in → NaN out).
pub fn emit_exp(b: &mut FunctionBuilder, cx: MathCx, x: Value) -> Value {
    let mut e = Em::new(b, cx);
    exp_f32(&mut e, x)
}

/// `ln x` for `f32`/`f32x4` values (max error 1 ULP vs std; `-inf` at ±0, NaN below 0).
pub fn emit_log(b: &mut FunctionBuilder, cx: MathCx, x: Value) -> Value {
    let mut e = Em::new(b, cx);
    log_f32(&mut e, x)
}

/// `ln(1 + x)` for `f32`/`f32x4` values (max error 1 ULP vs std; exact for tiny `x`, keeps
/// `-0.0`, `-inf` at −1, NaN below −1).
pub fn emit_log1p(b: &mut FunctionBuilder, cx: MathCx, x: Value) -> Value {
    let mut e = Em::new(b, cx);
    log1p_f32(&mut e, x)
}

pub(crate) fn exp_f32(e: &mut Em, x: Value) -> Value {
    let ty = e.ty(x);
    assert!(lane_is_f32(ty), "exp: f32 lanes expected, got {ty}");
    let ity = ty.as_int();
    // k = round(x / ln2), computed as x * log2(e) + SHIFTER so k lands in the low mantissa bits.
    let log2e = e.c(x, std::f64::consts::LOG2_E);
    let shifter = e.c(x, SHIFTER);
    let j = e.fma(x, log2e, shifter);
    let k = e.sub(j, shifter);
    // r = x - k ln2, in two steps (exact first product).
    let nk = e.neg(k);
    let r = e.fma_k(nk, LN2_HI, x);
    let r = e.fma_k(nk, LN2_LO, r);
    let z = e.mul(r, r);
    let p = e.poly(r, &EXP_P);
    let y = e.fma(p, z, r);
    let one = e.c(x, 1.0);
    let y = e.add(y, one);
    // 2^k as two factors 2^k1 * 2^k2, each a normal float for k in [-150, 128], so results in
    // the subnormal range are rounded once, by the last multiplication.
    let jb = e.bits(j);
    let sb = e.bits(shifter);
    let ki = e.b.ins().isub(jb, sb);
    let k1 = e.b.ins().sshr_imm_u(ki, 1);
    let k2 = e.b.ins().isub(ki, k1);
    let bias = e.ic(ity, 127);
    let s1 = e.b.ins().iadd(k1, bias);
    let s1 = e.b.ins().ishl_imm_u(s1, 23);
    let s1 = e.float_of_bits(ty, s1);
    let s2 = e.b.ins().iadd(k2, bias);
    let s2 = e.b.ins().ishl_imm_u(s2, 23);
    let s2 = e.float_of_bits(ty, s2);
    let y = e.mul(y, s1);
    let y = e.mul(y, s2);
    // Out-of-range inputs (where k would be garbage) saturate; NaN fails both tests.
    let over = e.cmp_k(FloatCC::GreaterThan, x, EXP_OVERFLOW_F32);
    let inf = e.c(x, f64::INFINITY);
    let y = e.select(over, inf, y);
    let under = e.cmp_k(FloatCC::LessThan, x, EXP_UNDERFLOW_F32);
    let zero = e.c(x, 0.0);
    e.select(under, zero, y)
}

/// Splits a positive normal `v` into `e` (as a float) and `f = m - 1` with `v = 2^e · m`,
/// `m ∈ [√½, √2)`.
fn log_split(e: &mut Em, v: Value) -> (Value, Value) {
    let ty = e.ty(v);
    let ity = ty.as_int();
    let bits = e.bits(v);
    let ei = e.b.ins().ushr_imm_u(bits, 23);
    let bias = e.ic(ity, 126);
    let ei = e.b.ins().isub(ei, bias);
    let ef = e.b.ins().fcvt_from_sint(ty, ei);
    let mask = e.ic(ity, 0x007f_ffff);
    let half = e.ic(ity, 0x3f00_0000);
    let mb = e.b.ins().band(bits, mask);
    let mb = e.b.ins().bor(mb, half);
    let m = e.float_of_bits(ty, mb); // m ∈ [0.5, 1)
    let small = e.cmp_k(FloatCC::LessThan, m, std::f64::consts::FRAC_1_SQRT_2);
    let one = e.c(v, 1.0);
    let zero = e.c(v, 0.0);
    let dec = e.select(small, one, zero);
    let ef = e.sub(ef, dec);
    let m2 = e.add(m, m);
    let mm = e.select(small, m2, m);
    let f = e.sub(mm, one);
    (ef, f)
}

/// `e ln2 + ln(1 + f)` (+ `extra`, a small correction added before the last two roundings).
fn log_finish(e: &mut Em, ef: Value, f: Value, extra: Option<Value>) -> Value {
    let z = e.mul(f, f);
    let p = e.poly(f, &LOG_P);
    let y = e.mul(p, f);
    let y = e.mul(y, z);
    let y = match extra {
        Some(c) => e.add(y, c),
        None => y,
    };
    let y = e.fma_k(ef, LN2_LO, y);
    let y = e.fma_k(z, -0.5, y);
    let r = e.add(f, y);
    e.fma_k(ef, LN2_HI, r)
}

pub(crate) fn log_f32(e: &mut Em, x: Value) -> Value {
    let ty = e.ty(x);
    assert!(lane_is_f32(ty), "log: f32 lanes expected, got {ty}");
    // Subnormal inputs are scaled by 2^23 into the normal range first.
    let sub = e.cmp_k(FloatCC::LessThan, x, f32::MIN_POSITIVE as f64);
    let scale = e.c(x, 8388608.0);
    let xs = e.mul(x, scale);
    let v = e.select(sub, xs, x);
    let (ef, f) = log_split(e, v);
    let adj = e.c(x, 23.0);
    let zero = e.c(x, 0.0);
    let adj = e.select(sub, adj, zero);
    let ef = e.sub(ef, adj);
    let r = log_finish(e, ef, f, None);
    let inf = e.c(x, f64::INFINITY);
    let is_inf = e.cmp(FloatCC::Equal, x, inf);
    let r = e.select(is_inf, inf, r);
    let ninf = e.c(x, f64::NEG_INFINITY);
    let is_zero = e.cmp(FloatCC::Equal, x, zero);
    let r = e.select(is_zero, ninf, r);
    let nan = e.c(x, f64::NAN);
    let ok = e.cmp(FloatCC::GreaterThanOrEqual, x, zero);
    e.select(ok, r, nan)
}

pub(crate) fn log1p_f32(e: &mut Em, x: Value) -> Value {
    let ty = e.ty(x);
    assert!(lane_is_f32(ty), "log1p: f32 lanes expected, got {ty}");
    let one = e.c(x, 1.0);
    let u = e.add(one, x);
    let (ef, f) = log_split(e, u);
    // ln(1+x) = ln(u) + ln(1 + d/u) ≈ ln(u) + d/u, with d = (1 + x) - u computed exactly.
    let big = e.cmp_k(FloatCC::GreaterThanOrEqual, u, 2.0);
    let ux = e.sub(u, x);
    let d_big = e.sub(one, ux);
    let u1 = e.sub(u, one);
    let d_small = e.sub(x, u1);
    let d = e.select(big, d_big, d_small);
    let c = e.div(d, u);
    let r = log_finish(e, ef, f, Some(c));
    let inf = e.c(x, f64::INFINITY);
    let is_inf = e.cmp(FloatCC::Equal, x, inf);
    let r = e.select(is_inf, inf, r);
    let zero = e.c(x, 0.0);
    let is_zero = e.cmp(FloatCC::Equal, x, zero);
    let r = e.select(is_zero, x, r);
    let ninf = e.c(x, f64::NEG_INFINITY);
    let m1 = e.c(x, -1.0);
    let is_m1 = e.cmp(FloatCC::Equal, x, m1);
    let r = e.select(is_m1, ninf, r);
    let nan = e.c(x, f64::NAN);
    let ok = e.cmp(FloatCC::GreaterThanOrEqual, x, m1);
    e.select(ok, r, nan)
}
