//! Inline `sin`/`cos` for `f32x4` lanes (Cephes `sinf`/`cosf` coefficients, the branch-free
//! vector formulation of Pommier's `sse_mathfun`), for arguments `|x| ≤ SINCOS_MAX`.
//!
//! The caller routes any vector with a lane outside that range (or NaN/±inf) to the exact
//! callout, so the inline path only ever sees arguments whose Cody–Waite reduction is accurate.
//! Like [`crate::codegen::math`]'s emitters, these append straight-line IR and compute every
//! lane independently.

use cranelift_codegen::ir::{InstBuilder, Value, types};

use crate::codegen::math::{Em, MathCx};

/// Largest `|x|` the inline path handles (Cephes' `sinf` bound).
pub(crate) const SINCOS_MAX: f64 = 8192.0;

const FOPI: f64 = 1.273_239_544_735_162_7; // 4 / π
const DP1: f64 = 0.785_156_25;
const DP2: f64 = 2.418_756_484_985_351_562_5e-4;
const DP3: f64 = 3.774_894_977_445_941_08e-8;
const SIN_P: [f64; 3] = [-1.951_529_589_1e-4, 8.332_160_873_6e-3, -1.666_665_461_1e-1];
const COS_P: [f64; 3] = [
    2.443_315_711_809_948e-5,
    -1.388_731_625_493_765e-3,
    4.166_664_568_298_827e-2,
];

/// `sin(x)` (`cos = false`) or `cos(x)` (`cos = true`) of an `f32x4` whose lanes satisfy
/// `|x| ≤ SINCOS_MAX`.
pub(crate) fn emit_sincos(
    b: &mut cranelift_frontend::FunctionBuilder,
    cx: MathCx,
    x: Value,
    cos: bool,
) -> Value {
    let mut e = Em::new(b, cx);
    let f = types::F32X4;
    let i = types::I32X4;
    let ax = e.abs(x);
    // j = nearest even integer to |x| / (π/4), computed as in sse_mathfun.
    let fopi = e.fc(f, FOPI);
    let y = e.mul(ax, fopi);
    let j = e.b.ins().fcvt_to_sint_sat(i, y);
    let one = e.ic(i, 1);
    let not_one = e.ic(i, !1);
    let j = e.b.ins().iadd(j, one);
    let j = e.b.ins().band(j, not_one);
    let yf = e.b.ins().fcvt_from_sint(f, j);
    // Which quadrant: for cos, shift by two octants.
    let q = if cos {
        let two = e.ic(i, 2);
        e.b.ins().isub(j, two)
    } else {
        j
    };
    let four = e.ic(i, 4);
    let two = e.ic(i, 2);
    let zero = e.ic(i, 0);
    // Sign: sin takes x's sign and flips in octants 4..7; cos flips where (q & 4) == 0.
    let q4 = e.b.ins().band(q, four);
    let flip = if cos {
        let m =
            e.b.ins()
                .icmp(cranelift_codegen::ir::condcodes::IntCC::Equal, q4, zero);
        let sign = e.ic(i, i64::from(i32::MIN));
        e.b.ins().band(m, sign)
    } else {
        {
            let sh = e.b.ins().iconst(types::I32, 29);
            e.b.ins().ishl(q4, sh)
        }
    };
    let sign = if cos {
        flip
    } else {
        let xb = e.bits(x);
        let sm = e.ic(i, i64::from(i32::MIN));
        let xs = e.b.ins().band(xb, sm);
        e.b.ins().bxor(xs, flip)
    };
    let q2 = e.b.ins().band(q, two);
    let use_sin_poly =
        e.b.ins()
            .icmp(cranelift_codegen::ir::condcodes::IntCC::Equal, q2, zero);
    // Cody–Waite reduction: z = |x| - j·π/4 in three parts.
    let ny = e.neg(yf);
    let z = e.fma_k(ny, DP1, ax);
    let z = e.fma_k(ny, DP2, z);
    let z = e.fma_k(ny, DP3, z);
    let zz = e.mul(z, z);
    // cos polynomial: 1 - z²/2 + z⁴ P(z²).
    let pc = e.poly(zz, &COS_P);
    let zz2 = e.mul(zz, zz);
    let half = e.fc(f, -0.5);
    let one_f = e.fc(f, 1.0);
    let t = e.fma(zz, half, one_f);
    let yc = e.fma(pc, zz2, t);
    // sin polynomial: z + z³ P(z²).
    let ps = e.poly(zz, &SIN_P);
    let zz_z = e.mul(zz, z);
    let ys = e.fma(ps, zz_z, z);
    let r = e.select(use_sin_poly, ys, yc);
    let rb = e.bits(r);
    let rb = e.b.ins().bxor(rb, sign);
    e.float_of_bits(f, rb)
}
