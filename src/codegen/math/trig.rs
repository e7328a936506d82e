//! `sin` and `cos` for `f32` lanes, computed in `f64` (musl's `sinf`/`cosf` kernels).
//!
//! The argument is reduced by `π/2` in `f64` with a two-part constant (exact product, 78 bits of
//! `π/2`), which keeps the result within 1 ULP of std for `|x| ≤` [`TRIG_REDUCTION_LIMIT_F32`]
//! (`2^28 · π/2 ≈ 4.2e8`). Beyond that the emitted value is unspecified (finite or NaN): callers
//! test `|x| > TRIG_REDUCTION_LIMIT_F32` and fall back, as the kernel lowering does by calling
//! Rust's std for such vectors.

use cranelift_codegen::ir::{ConstantData, InstBuilder, Value, condcodes::FloatCC, types};
use cranelift_frontend::FunctionBuilder;

use super::{Em, MathCx, lane_is_f32, le};

/// Largest `|x|` for which [`emit_sin`] and [`emit_cos`] are accurate (`0x1.921fb6p+28`).
pub const TRIG_REDUCTION_LIMIT_F32: f64 = 421_657_440.0;

const INV_PIO2: f64 = std::f64::consts::FRAC_2_PI;
/// First 25 bits of `π/2`: `k * PIO2_1` is exact for `|k| < 2^28`.
const PIO2_1: f64 = 1.570_796_310_901_641_8;
/// `π/2 - PIO2_1`.
const PIO2_1T: f64 = 1.589_325_477_352_819_7e-8;

#[allow(clippy::excessive_precision)] // musl's k_sinf.c / k_cosf.c digits, verbatim
/// `sin(y) ≈ y + s (S1 + z S2) + s z² (S3 + z S4)` on `|y| ≤ π/4` (`z = y²`, `s = z y`).
const S: [f64; 4] = [
    -0.166_666_666_416_265_235_595,
    0.008_333_329_385_889_463_175_6,
    -0.000_198_393_348_360_966_317_347,
    0.000_002_718_311_493_989_821_906_4,
];
#[allow(clippy::excessive_precision)]
/// `cos(y) ≈ 1 + z C0 + z² C1 + z³ (C2 + z C3)` on `|y| ≤ π/4`.
const C: [f64; 4] = [
    -0.499_999_997_251_031_003_120,
    0.041_666_623_323_739_063_189_4,
    -0.001_388_676_377_460_992_946_92,
    0.000_024_390_448_796_277_409_065_4,
];

/// `sin(x)` for `f32`/`f32x4` values (max error 1 ULP vs std for `|x| ≤`
/// [`TRIG_REDUCTION_LIMIT_F32`]; keeps `-0.0`; NaN for ±inf and NaN).
pub fn emit_sin(b: &mut FunctionBuilder, cx: MathCx, x: Value) -> Value {
    let mut e = Em::new(b, cx);
    let r = via_f64(&mut e, x, |e, x| sincos_f64(e, x, false));
    let zero = e.c(x, 0.0);
    let is_zero = e.cmp(FloatCC::Equal, x, zero);
    e.select(is_zero, x, r)
}

/// `cos(x)` for `f32`/`f32x4` values (max error 1 ULP vs std for `|x| ≤`
/// [`TRIG_REDUCTION_LIMIT_F32`]; NaN for ±inf and NaN).
pub fn emit_cos(b: &mut FunctionBuilder, cx: MathCx, x: Value) -> Value {
    let mut e = Em::new(b, cx);
    via_f64(&mut e, x, |e, x| sincos_f64(e, x, true))
}

/// Evaluate `f` on `x`'s lanes widened to `f64` and round the results back to `f32`.
pub(crate) fn via_f64(e: &mut Em, x: Value, f: impl Fn(&mut Em, Value) -> Value) -> Value {
    let ty = e.ty(x);
    assert!(lane_is_f32(ty), "f32 lanes expected, got {ty}");
    if !ty.is_vector() {
        let xd = e.b.ins().fpromote(types::F64, x);
        let r = f(e, xd);
        return e.b.ins().fdemote(types::F32, r);
    }
    assert_eq!(ty, types::F32X4, "f32x4 expected");
    let lo = e.b.ins().fvpromote_low(x);
    let xb = e.b.ins().bitcast(types::I8X16, le(), x);
    let swap: Vec<u8> = (8..16).chain(0..8).collect();
    let swap = e.b.func.dfg.immediates.push(ConstantData::from(swap));
    let hb = e.b.ins().shuffle(xb, xb, swap);
    let h = e.b.ins().bitcast(types::F32X4, le(), hb);
    let hi = e.b.ins().fvpromote_low(h);
    let rlo = f(e, lo);
    let rhi = f(e, hi);
    let dlo = e.b.ins().fvdemote(rlo);
    let dhi = e.b.ins().fvdemote(rhi);
    let blo = e.b.ins().bitcast(types::I8X16, le(), dlo);
    let bhi = e.b.ins().bitcast(types::I8X16, le(), dhi);
    let join: Vec<u8> = (0..8).chain(16..24).collect();
    let join = e.b.func.dfg.immediates.push(ConstantData::from(join));
    let r = e.b.ins().shuffle(blo, bhi, join);
    e.b.ins().bitcast(types::F32X4, le(), r)
}

/// `sin(x)` (or `cos(x)`) for `f64` lanes holding `f32` values, accurate to about `2^-33`.
fn sincos_f64(e: &mut Em, x: Value, cos: bool) -> Value {
    // x = k π/2 + y, |y| ≲ π/4.
    let inv = e.c(x, INV_PIO2);
    let t = e.mul(inv, x);
    let k = e.b.ins().nearest(t);
    let nk = e.neg(k);
    let y = e.fma_k(nk, PIO2_1, x);
    let y = e.fma_k(nk, PIO2_1T, y);
    let z = e.mul(y, y);
    let w = e.mul(z, z);
    // sin(y)
    let s = e.mul(z, y);
    let s2 = e.c(x, S[2]);
    let r = e.fma_k(z, S[3], s2);
    let s0 = e.c(x, S[0]);
    let a = e.fma_k(z, S[1], s0);
    let sin_y = e.fma(s, a, y);
    let sw = e.mul(s, w);
    let sin_y = e.fma(sw, r, sin_y);
    // cos(y)
    let c2 = e.c(x, C[2]);
    let r = e.fma_k(z, C[3], c2);
    let one = e.c(x, 1.0);
    let c0 = e.fma_k(z, C[0], one);
    let c1 = e.fma_k(w, C[1], c0);
    let wz = e.mul(w, z);
    let cos_y = e.fma(wz, r, c1);
    // Quadrant q = k mod 4 ∈ {0, 1, 2, 3}.
    let quarter = e.c(x, 0.25);
    let k4 = e.mul(k, quarter);
    let k4 = e.b.ins().floor(k4);
    let q = e.fma_k(k4, -4.0, k);
    let half = e.c(x, 0.5);
    let h = e.mul(q, half);
    let fh = e.b.ins().floor(h);
    let odd = e.cmp(FloatCC::NotEqual, fh, h);
    let (base, neg) = if cos {
        let base = e.select(odd, sin_y, cos_y);
        let ge1 = e.cmp_k(FloatCC::GreaterThanOrEqual, q, 1.0);
        let le2 = e.cmp_k(FloatCC::LessThanOrEqual, q, 2.0);
        (base, e.b.ins().band(ge1, le2))
    } else {
        let base = e.select(odd, cos_y, sin_y);
        (base, e.cmp_k(FloatCC::GreaterThanOrEqual, q, 2.0))
    };
    let nbase = e.neg(base);
    e.select(neg, nbase, base)
}
