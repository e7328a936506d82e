//! Reference interpreter for kernel specs.
//!
//! This module is the executable definition of what every [`Inst`] means. It evaluates a
//! [`KernelSpec`] one element at a time with Rust's standard library functions, computing in the
//! kernel's float type (`f32` math for `F32` kernels, `f64` math for `F64` kernels), exactly as
//! documented on [`UnaryOp`], [`BinaryOp`], [`CmpOp`], [`BoolOp`] and [`FloatTest`]. The code
//! generator is tested against it, and the runtime may use [`run`] as the uncompiled fallback.
//!
//! Two points that the std functions leave open are pinned down here:
//! - `Max`/`Min` of `+0.0` and `-0.0`: std may return either; this interpreter (and the compiled
//!   code) orders `-0.0 < +0.0`, so `max(-0.0, 0.0) == 0.0` and `min(-0.0, 0.0) == -0.0`;
//! - `Erf` has no std function: [`erf`] is the FreeBSD/musl `erf` in `f64` (error below 1 ULP);
//!   for `F32` kernels the result is that value rounded to `f32`.
//!
//! NaN payloads are not part of the semantics: any NaN stands for every NaN.

use super::{
    BinaryOp, BoolOp, CmpOp, ElemType, FloatTest, Inst, KernelArgs, KernelSpec, UnaryOp, ValueId,
};

/// One element of one value: what a kernel reads, computes and writes per element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// A 32-bit float.
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

impl Scalar {
    /// The element type of this scalar.
    pub fn ty(self) -> ElemType {
        match self {
            Scalar::F32(_) => ElemType::F32,
            Scalar::F64(_) => ElemType::F64,
            Scalar::Bool(_) => ElemType::Bool,
        }
    }

    /// The value as `f64` (bools as `0`/`1`), for diagnostics and tolerant comparisons.
    pub fn as_f64(self) -> f64 {
        match self {
            Scalar::F32(x) => x as f64,
            Scalar::F64(x) => x,
            Scalar::Bool(b) => b as u8 as f64,
        }
    }

    /// Bit-level equality that treats every NaN as equal to every other NaN (payloads are not
    /// part of the semantics) and distinguishes `+0.0` from `-0.0`.
    pub fn same(self, other: Scalar) -> bool {
        match (self, other) {
            (Scalar::F32(a), Scalar::F32(b)) => {
                (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
            }
            (Scalar::F64(a), Scalar::F64(b)) => {
                (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
            }
            (Scalar::Bool(a), Scalar::Bool(b)) => a == b,
            _ => false,
        }
    }

    /// Read one element of type `ty` at `ptr` (bools: any non-zero byte is `true`).
    ///
    /// # Safety
    /// `ptr` must be valid for reading one element of `ty` and aligned for it.
    pub unsafe fn read(ty: ElemType, ptr: *const u8) -> Scalar {
        // SAFETY: the caller guarantees `ptr` is valid and aligned for one element of `ty`.
        unsafe {
            match ty {
                ElemType::F32 => Scalar::F32(ptr.cast::<f32>().read()),
                ElemType::F64 => Scalar::F64(ptr.cast::<f64>().read()),
                ElemType::Bool => Scalar::Bool(ptr.read() != 0),
            }
        }
    }

    /// Write this element at `ptr` (bools as one byte `0`/`1`).
    ///
    /// # Safety
    /// `ptr` must be valid for writing one element of this scalar's type and aligned for it.
    pub unsafe fn write(self, ptr: *mut u8) {
        // SAFETY: the caller guarantees `ptr` is valid and aligned for one element of our type.
        unsafe {
            match self {
                Scalar::F32(x) => ptr.cast::<f32>().write(x),
                Scalar::F64(x) => ptr.cast::<f64>().write(x),
                Scalar::Bool(b) => ptr.write(b as u8),
            }
        }
    }
}

/// Float arithmetic the interpreter is generic over (`f32` and `f64`), each method being the
/// std function (or documented formula) that defines the corresponding instruction.
trait Real: Copy + PartialOrd + core::ops::Neg<Output = Self> {
    fn from_f64(x: f64) -> Self;
    fn wrap(self) -> Scalar;
    fn unwrap(s: Scalar) -> Self;
    fn unary(op: UnaryOp, x: Self) -> Self;
    fn binary(op: BinaryOp, a: Self, b: Self) -> Self;
    fn is_nan(self) -> bool;
    fn is_infinite(self) -> bool;
    fn zero() -> Self;
    fn one() -> Self;
}

macro_rules! real_impl {
    ($t:ty, $variant:ident, $unary:ident, $binary:ident, $erf:expr) => {
        /// Apply `op` to `x` with the semantics documented on [`UnaryOp`], in this float type.
        pub fn $unary(op: UnaryOp, x: $t) -> $t {
            match op {
                UnaryOp::Neg => -x,
                UnaryOp::Abs => x.abs(),
                UnaryOp::Recip => 1.0 / x,
                UnaryOp::Sqrt => x.sqrt(),
                UnaryOp::Exp => x.exp(),
                UnaryOp::Log => x.ln(),
                UnaryOp::Log1p => x.ln_1p(),
                UnaryOp::Tanh => x.tanh(),
                UnaryOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
                UnaryOp::Sin => x.sin(),
                UnaryOp::Cos => x.cos(),
                UnaryOp::Tan => x.tan(),
                UnaryOp::Sinh => x.sinh(),
                UnaryOp::Cosh => x.cosh(),
                UnaryOp::Erf => $erf(x),
                UnaryOp::Floor => x.floor(),
                UnaryOp::Ceil => x.ceil(),
                UnaryOp::Trunc => x.trunc(),
                UnaryOp::RoundHalfEven => x.round_ties_even(),
                UnaryOp::Sign => {
                    if x > 0.0 {
                        1.0
                    } else if x < 0.0 {
                        -1.0
                    } else {
                        x
                    }
                }
            }
        }

        /// Apply `op` to `(a, b)` with the semantics documented on [`BinaryOp`], in this float
        /// type (`Max`/`Min` order `-0.0 < +0.0`, see the module documentation).
        pub fn $binary(op: BinaryOp, a: $t, b: $t) -> $t {
            match op {
                BinaryOp::Add => a + b,
                BinaryOp::Sub => a - b,
                BinaryOp::Mul => a * b,
                BinaryOp::Div => a / b,
                BinaryOp::RemFloor => ((a % b) + b) % b,
                BinaryOp::Pow => a.powf(b),
                BinaryOp::Max => {
                    if a.is_nan() || b > a || (a == b && a.is_sign_negative()) {
                        b
                    } else {
                        a
                    }
                }
                BinaryOp::Min => {
                    if a.is_nan() || b < a || (a == b && a.is_sign_positive()) {
                        b
                    } else {
                        a
                    }
                }
                BinaryOp::Atan2 => a.atan2(b),
            }
        }

        impl Real for $t {
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn wrap(self) -> Scalar {
                Scalar::$variant(self)
            }
            fn unwrap(s: Scalar) -> Self {
                match s {
                    Scalar::$variant(x) => x,
                    other => panic!("expected {}, found {other:?}", stringify!($variant)),
                }
            }
            fn unary(op: UnaryOp, x: Self) -> Self {
                $unary(op, x)
            }
            fn binary(op: BinaryOp, a: Self, b: Self) -> Self {
                $binary(op, a, b)
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn is_infinite(self) -> bool {
                <$t>::is_infinite(self)
            }
            fn zero() -> Self {
                0.0
            }
            fn one() -> Self {
                1.0
            }
        }
    };
}

real_impl!(f32, F32, unary_f32, binary_f32, |x: f32| erf(x as f64)
    as f32);
real_impl!(f64, F64, unary_f64, binary_f64, erf);

/// Evaluate `spec` at one element: `inputs` holds one element per input (of the input's type),
/// `scalars` the runtime scalars. Returns one element per output.
///
/// # Panics
/// If the spec is invalid ([`KernelSpec::validate`]) or `inputs`/`scalars` do not match it.
pub fn eval(spec: &KernelSpec, inputs: &[Scalar], scalars: &[f64]) -> Vec<Scalar> {
    let values = eval_values(spec, inputs, scalars);
    spec.outputs
        .iter()
        .map(|out| values[out.value.0 as usize])
        .collect()
}

/// Like [`eval`], but returns every value of the body (instruction `i` at index `i`), which
/// helps locating where a compiled kernel and the interpreter part ways.
///
/// # Panics
/// If the spec is invalid ([`KernelSpec::validate`]) or `inputs`/`scalars` do not match it.
pub fn eval_values(spec: &KernelSpec, inputs: &[Scalar], scalars: &[f64]) -> Vec<Scalar> {
    eval_values_with(spec, inputs, scalars, &|_, _| None)
}

/// A substitute for some unary operations: given the op and its operand, `Some(result)`
/// replaces the std definition, `None` keeps it.
pub type UnaryOverride<'a> = &'a dyn Fn(UnaryOp, Scalar) -> Option<Scalar>;

/// Like [`eval_values`], with unary operations optionally computed by `unary`. Tests use this
/// to evaluate a spec with a compiled kernel's approximations in place of std's functions, so
/// the rest of the program can be compared bit for bit.
///
/// # Panics
/// If the spec is invalid ([`KernelSpec::validate`]) or `inputs`/`scalars` do not match it.
pub fn eval_values_with(
    spec: &KernelSpec,
    inputs: &[Scalar],
    scalars: &[f64],
    unary: UnaryOverride<'_>,
) -> Vec<Scalar> {
    if let Err(e) = spec.validate() {
        panic!("{e}");
    }
    assert_eq!(inputs.len(), spec.inputs.len(), "wrong number of inputs");
    assert_eq!(
        scalars.len(),
        spec.num_scalars as usize,
        "wrong number of scalars"
    );
    for (k, (x, ty)) in inputs.iter().zip(&spec.inputs).enumerate() {
        assert_eq!(x.ty(), *ty, "input {k} has the wrong type");
    }
    match spec.float {
        ElemType::F32 => eval_in::<f32>(spec, inputs, scalars, unary),
        _ => eval_in::<f64>(spec, inputs, scalars, unary),
    }
}

fn eval_in<T: Real>(
    spec: &KernelSpec,
    inputs: &[Scalar],
    scalars: &[f64],
    unary: UnaryOverride<'_>,
) -> Vec<Scalar> {
    let mut v: Vec<Scalar> = Vec::with_capacity(spec.body.len());
    let f = |v: &[Scalar], id: ValueId| T::unwrap(v[id.0 as usize]);
    let b = |v: &[Scalar], id: ValueId| match v[id.0 as usize] {
        Scalar::Bool(x) => x,
        other => panic!("expected Bool, found {other:?}"),
    };
    for inst in &spec.body {
        let r = match *inst {
            Inst::Input(n) => inputs[n as usize],
            Inst::Scalar(n) => T::from_f64(scalars[n as usize]).wrap(),
            Inst::Const(c) => T::from_f64(c).wrap(),
            Inst::Unary(op, a) => {
                let x = f(&v, a);
                match unary(op, x.wrap()) {
                    Some(r) => T::unwrap(r).wrap(),
                    None => T::unary(op, x).wrap(),
                }
            }
            Inst::Binary(op, a, c) => T::binary(op, f(&v, a), f(&v, c)).wrap(),
            Inst::Compare(op, a, c) => {
                let (x, y) = (f(&v, a), f(&v, c));
                Scalar::Bool(match op {
                    CmpOp::Eq => x == y,
                    CmpOp::Ne => x != y,
                    CmpOp::Gt => x > y,
                    CmpOp::Ge => x >= y,
                    CmpOp::Lt => x < y,
                    CmpOp::Le => x <= y,
                })
            }
            Inst::Test(op, a) => {
                let x = f(&v, a);
                Scalar::Bool(match op {
                    FloatTest::IsNan => x.is_nan(),
                    FloatTest::IsInf => x.is_infinite(),
                })
            }
            Inst::Bool(op, a, c) => {
                let (x, y) = (b(&v, a), b(&v, c));
                Scalar::Bool(match op {
                    BoolOp::And => x && y,
                    BoolOp::Or => x || y,
                    BoolOp::Not => !x,
                    BoolOp::Eq => x == y,
                })
            }
            Inst::Select {
                cond,
                then,
                otherwise,
            } => {
                if b(&v, cond) {
                    v[then.0 as usize]
                } else {
                    v[otherwise.0 as usize]
                }
            }
            Inst::Clamp { x, lo, hi } => {
                // `f32::clamp` without its panics on `lo > hi` or NaN bounds.
                let (mut x, lo, hi) = (f(&v, x), f(&v, lo), f(&v, hi));
                if x < lo {
                    x = lo;
                }
                if x > hi {
                    x = hi;
                }
                x.wrap()
            }
            Inst::Cast(a, to) => match (v[a.0 as usize], to) {
                (Scalar::Bool(x), ElemType::Bool) => Scalar::Bool(x),
                (Scalar::Bool(x), _) => if x { T::one() } else { T::zero() }.wrap(),
                (x, ElemType::Bool) => Scalar::Bool(T::unwrap(x) != T::zero()),
                (x, _) => x,
            },
        };
        v.push(r);
    }
    v
}

/// Run `spec` over the 2-D iteration space described by `args`, exactly as a compiled kernel
/// would: for each row, for each column in increasing order, read every input, evaluate, write
/// every output. This is the uncompiled fallback and the reference compiled kernels are tested
/// against.
///
/// # Safety
/// `args` must satisfy the [`KernelArgs`] safety contract for `spec` (which must be valid):
/// `spec.num_bindings()` pointers and strides, `spec.num_scalars` scalars, every addressed element
/// in bounds and aligned.
pub unsafe fn run(spec: &KernelSpec, args: &KernelArgs) {
    // SAFETY: forwarded from the caller.
    unsafe { run_with(spec, args, &|_, _| None) }
}

/// [`run`] with unary operations optionally computed by `unary` (see [`eval_values_with`]).
///
/// # Safety
/// As for [`run`].
pub unsafe fn run_with(spec: &KernelSpec, args: &KernelArgs, unary: UnaryOverride<'_>) {
    let nb = spec.num_bindings();
    let ni = spec.inputs.len();
    // SAFETY: the caller guarantees the arrays hold `nb` (resp. `num_scalars`) entries.
    let (ptrs, rs, cs, scalars) = unsafe {
        (
            core::slice::from_raw_parts(args.ptrs, nb),
            core::slice::from_raw_parts(args.row_strides, nb),
            core::slice::from_raw_parts(args.col_strides, nb),
            if spec.num_scalars == 0 {
                &[][..]
            } else {
                core::slice::from_raw_parts(args.scalars, spec.num_scalars as usize)
            },
        )
    };
    let types: Vec<ElemType> = spec
        .inputs
        .iter()
        .copied()
        .chain(spec.outputs.iter().map(|o| o.ty))
        .collect();
    let addr = |b: usize, r: usize, c: usize| -> *mut u8 {
        let off = (r as isize * rs[b] + c as isize * cs[b]) * types[b].size() as isize;
        ptrs[b].wrapping_offset(off)
    };
    let mut inputs = Vec::with_capacity(ni);
    for r in 0..args.rows {
        for c in 0..args.cols {
            inputs.clear();
            for (b, &ty) in spec.inputs.iter().enumerate() {
                // SAFETY: in bounds and aligned per the KernelArgs contract.
                inputs.push(unsafe { Scalar::read(ty, addr(b, r, c)) });
            }
            let values = eval_values_with(spec, &inputs, scalars, unary);
            for (k, out) in spec.outputs.iter().enumerate() {
                // SAFETY: in bounds and aligned per the KernelArgs contract.
                unsafe { values[out.value.0 as usize].write(addr(ni + k, r, c)) };
            }
        }
    }
}

// Coefficients of FreeBSD's s_erf.c (Sun Microsystems, freely distributable with this notice:
// "Developed at SunPro, a Sun Microsystems, Inc. business. Permission to use, copy, modify, and
// distribute this software is freely granted, provided that this notice is preserved.").
#[allow(clippy::excessive_precision)] // quoted digit for digit from s_erf.c
mod erf_coeffs {
    pub const ERX: f64 = 8.45062911510467529297e-01;
    pub const EFX8: f64 = 1.02703333676410069053e+00;
    pub const PP: [f64; 5] = [
        1.28379167095512558561e-01,
        -3.25042107247001499370e-01,
        -2.84817495755985104766e-02,
        -5.77027029648944159157e-03,
        -2.37630166566501626084e-05,
    ];
    pub const QQ: [f64; 6] = [
        1.0,
        3.97917223959155352819e-01,
        6.50222499887672944485e-02,
        5.08130628187576562776e-03,
        1.32494738004321644526e-04,
        -3.96022827877536812320e-06,
    ];
    pub const PA: [f64; 7] = [
        -2.36211856075265944077e-03,
        4.14856118683748331666e-01,
        -3.72207876035701323847e-01,
        3.18346619901161753674e-01,
        -1.10894694282396677476e-01,
        3.54783043256182359371e-02,
        -2.16637559486879084300e-03,
    ];
    pub const QA: [f64; 7] = [
        1.0,
        1.06420880400844228286e-01,
        5.40397917702171048937e-01,
        7.18286544141962662868e-02,
        1.26171219808761642112e-01,
        1.36370839120290507362e-02,
        1.19844998467991074170e-02,
    ];
    pub const RA: [f64; 8] = [
        -9.86494403484714822705e-03,
        -6.93858572707181764372e-01,
        -1.05586262253232909814e+01,
        -6.23753324503260060396e+01,
        -1.62396669462573470355e+02,
        -1.84605092906711035994e+02,
        -8.12874355063065934246e+01,
        -9.81432934416914548592e+00,
    ];
    pub const SA: [f64; 9] = [
        1.0,
        1.96512716674392571292e+01,
        1.37657754143519042600e+02,
        4.34565877475229228821e+02,
        6.45387271733267880336e+02,
        4.29008140027567833386e+02,
        1.08635005541779435134e+02,
        6.57024977031928170135e+00,
        -6.04244152148580987438e-02,
    ];
    pub const RB: [f64; 7] = [
        -9.86494292470009928597e-03,
        -7.99283237680523006574e-01,
        -1.77579549177547519889e+01,
        -1.60636384855821916062e+02,
        -6.37566443368389627722e+02,
        -1.02509513161107724954e+03,
        -4.83519191608651397019e+02,
    ];
    pub const SB: [f64; 8] = [
        1.0,
        3.03380607434824582924e+01,
        3.25792512996573918826e+02,
        1.53672958608443695994e+03,
        3.19985821950859553908e+03,
        2.55305040643316442583e+03,
        4.74528541206955367215e+02,
        -2.24409524465858183362e+01,
    ];
}
use erf_coeffs::*;

/// Horner evaluation of `c[0] + c[1] x + c[2] x² + …`.
fn horner(x: f64, c: &[f64]) -> f64 {
    c.iter().rev().fold(0.0, |acc, &k| acc * x + k)
}

/// The error function in `f64`, accurate to below 1 ULP (FreeBSD's `s_erf.c` algorithm).
///
/// `erf(±0) = ±0`, `erf(±inf) = ±1`, `erf(NaN)` is NaN.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    let y = if a < 0.84375 {
        if a < f64::from_bits(0x3e30_0000_0000_0000) {
            // |x| < 2^-28: erf(x) ≈ (2/√π) x, computed without underflow.
            return 0.125 * (8.0 * x + EFX8 * x);
        }
        let z = x * x;
        let y = horner(z, &PP) / horner(z, &QQ);
        return x + x * y;
    } else if a < 1.25 {
        let s = a - 1.0;
        ERX + horner(s, &PA) / horner(s, &QA)
    } else if a < 6.0 {
        let s = 1.0 / (a * a);
        let (r, q) = if a < 1.0 / 0.35 {
            (horner(s, &RA), horner(s, &SA))
        } else {
            (horner(s, &RB), horner(s, &SB))
        };
        // -a² = -z² + (z - a)(z + a) with z = a truncated to 32 bits, so z² is exact.
        let z = f64::from_bits(a.to_bits() & 0xffff_ffff_0000_0000);
        1.0 - (-z * z - 0.5625).exp() * ((z - a) * (z + a) + r / q).exp() / a
    } else {
        1.0
    };
    if x < 0.0 { -y } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Output;

    fn spec(float: ElemType, inputs: Vec<ElemType>, body: Vec<Inst>, outs: &[u32]) -> KernelSpec {
        let s = KernelSpec {
            float,
            inputs,
            num_scalars: 1,
            body,
            outputs: vec![],
        };
        let types = {
            let mut probe = s.clone();
            probe.outputs.clear();
            probe.value_types()
        };
        KernelSpec {
            outputs: outs
                .iter()
                .map(|&v| Output {
                    value: ValueId(v),
                    ty: types[v as usize],
                })
                .collect(),
            ..s
        }
    }

    #[test]
    fn erf_matches_known_values() {
        // Reference values computed with mpmath at 30 significant digits, rounded to f64.
        let cases = [
            (0.0, 0.0),
            (1e-30, 1.1283791670955126e-30),
            (0.1, 0.1124629160182849),
            (0.5, 0.5204998778130465),
            (0.84375, 0.7672256612323416),
            (1.0, 0.8427007929497149),
            (1.25, 0.9229001282564582),
            (2.0, 0.9953222650189527),
            (3.0, 0.9999779095030014),
            (5.0, 0.9999999999984626),
            (6.5, 1.0),
            (f64::INFINITY, 1.0),
        ];
        for (x, want) in cases {
            let got = erf(x);
            assert!(
                (got - want).abs() <= 2.0 * f64::EPSILON * want.abs().max(f64::MIN_POSITIVE),
                "erf({x}) = {got}, want {want}"
            );
            assert_eq!(erf(-x).to_bits(), (-got).to_bits(), "erf is odd at {x}");
        }
        assert!(erf(f64::NAN).is_nan());
    }

    #[test]
    fn max_min_order_signed_zeros_and_skip_nan() {
        assert_eq!(
            binary_f32(BinaryOp::Max, -0.0, 0.0).to_bits(),
            0.0f32.to_bits()
        );
        assert_eq!(
            binary_f32(BinaryOp::Max, 0.0, -0.0).to_bits(),
            0.0f32.to_bits()
        );
        assert_eq!(
            binary_f32(BinaryOp::Min, 0.0, -0.0).to_bits(),
            (-0.0f32).to_bits()
        );
        assert_eq!(
            binary_f32(BinaryOp::Min, -0.0, 0.0).to_bits(),
            (-0.0f32).to_bits()
        );
        assert_eq!(binary_f32(BinaryOp::Max, f32::NAN, 1.0), 1.0);
        assert_eq!(binary_f32(BinaryOp::Max, 1.0, f32::NAN), 1.0);
        assert_eq!(binary_f64(BinaryOp::Min, f64::NAN, -3.0), -3.0);
        assert!(binary_f64(BinaryOp::Min, f64::NAN, f64::NAN).is_nan());
        assert_eq!(binary_f64(BinaryOp::Max, 2.0, 3.0), 3.0);
        assert_eq!(binary_f64(BinaryOp::Min, 2.0, 3.0), 2.0);
    }

    #[test]
    fn sign_keeps_zero_sign_and_nan() {
        assert_eq!(
            unary_f32(UnaryOp::Sign, -0.0).to_bits(),
            (-0.0f32).to_bits()
        );
        assert_eq!(unary_f32(UnaryOp::Sign, 0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(unary_f32(UnaryOp::Sign, -7.5), -1.0);
        assert_eq!(unary_f64(UnaryOp::Sign, f64::INFINITY), 1.0);
        assert!(unary_f64(UnaryOp::Sign, f64::NAN).is_nan());
    }

    #[test]
    fn rem_floor_takes_divisor_sign() {
        assert_eq!(binary_f32(BinaryOp::RemFloor, -1.0, 3.0), 2.0);
        assert_eq!(binary_f32(BinaryOp::RemFloor, 1.0, -3.0), -2.0);
        assert_eq!(binary_f64(BinaryOp::RemFloor, 5.5, 2.0), 1.5);
        assert!(binary_f64(BinaryOp::RemFloor, 1.0, 0.0).is_nan());
    }

    #[test]
    fn round_half_even_and_sigmoid() {
        assert_eq!(unary_f32(UnaryOp::RoundHalfEven, 2.5), 2.0);
        assert_eq!(
            unary_f32(UnaryOp::RoundHalfEven, -0.5).to_bits(),
            (-0.0f32).to_bits()
        );
        assert_eq!(unary_f64(UnaryOp::Sigmoid, 0.0), 0.5);
        assert_eq!(unary_f32(UnaryOp::Sigmoid, -200.0), 0.0);
        assert_eq!(unary_f32(UnaryOp::Sigmoid, 200.0), 1.0);
    }

    #[test]
    fn eval_runs_every_instruction_kind() {
        use ElemType::*;
        let s = spec(
            F32,
            vec![F32, Bool],
            vec![
                Inst::Input(0),                                      // %0 x
                Inst::Input(1),                                      // %1 m
                Inst::Scalar(0),                                     // %2 s
                Inst::Const(2.0),                                    // %3
                Inst::Binary(BinaryOp::Mul, ValueId(0), ValueId(3)), // %4 2x
                Inst::Compare(CmpOp::Gt, ValueId(4), ValueId(2)),    // %5 2x > s
                Inst::Bool(BoolOp::And, ValueId(5), ValueId(1)),     // %6
                Inst::Select {
                    cond: ValueId(6),
                    then: ValueId(4),
                    otherwise: ValueId(2),
                }, // %7
                Inst::Clamp {
                    x: ValueId(7),
                    lo: ValueId(2),
                    hi: ValueId(3),
                }, // %8
                Inst::Cast(ValueId(6), F32),                         // %9
                Inst::Test(FloatTest::IsNan, ValueId(0)),            // %10
                Inst::Unary(UnaryOp::Neg, ValueId(9)),               // %11
            ],
            &[8, 9, 10, 11],
        );
        let out = eval(&s, &[Scalar::F32(0.75), Scalar::Bool(true)], &[1.0]);
        assert_eq!(
            out,
            vec![
                Scalar::F32(1.5),
                Scalar::F32(1.0),
                Scalar::Bool(false),
                Scalar::F32(-1.0)
            ]
        );
        let out = eval(&s, &[Scalar::F32(f32::NAN), Scalar::Bool(true)], &[1.0]);
        assert!(out[0].same(Scalar::F32(1.0)));
        assert_eq!(out[2], Scalar::Bool(true));
    }

    #[test]
    fn cast_float_to_bool_treats_nan_as_true() {
        use ElemType::*;
        let s = spec(
            F64,
            vec![F64],
            vec![Inst::Input(0), Inst::Cast(ValueId(0), Bool)],
            &[1],
        );
        let s = KernelSpec {
            num_scalars: 0,
            ..s
        };
        for (x, want) in [
            (0.0, false),
            (-0.0, false),
            (f64::NAN, true),
            (1e-300, true),
        ] {
            assert_eq!(eval(&s, &[Scalar::F64(x)], &[]), vec![Scalar::Bool(want)]);
        }
    }

    #[test]
    fn run_walks_strided_and_broadcast_buffers() {
        use ElemType::*;
        // out[r][c] = a[r][c] + b[r] with `a` read transposed (negative column stride).
        let s = KernelSpec {
            float: F64,
            inputs: vec![F64, F64],
            num_scalars: 0,
            body: vec![
                Inst::Input(0),
                Inst::Input(1),
                Inst::Binary(BinaryOp::Add, ValueId(0), ValueId(1)),
            ],
            outputs: vec![Output {
                value: ValueId(2),
                ty: F64,
            }],
        };
        let a: Vec<f64> = (0..6).map(|i| i as f64).collect(); // 2 rows × 3 cols
        let b = [10.0, 20.0];
        let mut out = [0.0f64; 6];
        let ptrs = [
            // Column 0 of row 0 is the last element of the row: stride -1 from index 2.
            a.as_ptr().wrapping_add(2) as *mut u8,
            b.as_ptr() as *mut u8,
            out.as_mut_ptr() as *mut u8,
        ];
        let rs = [3isize, 1, 3];
        let cs = [-1isize, 0, 1];
        let args = KernelArgs {
            ptrs: ptrs.as_ptr(),
            row_strides: rs.as_ptr(),
            col_strides: cs.as_ptr(),
            scalars: core::ptr::null(),
            rows: 2,
            cols: 3,
        };
        // SAFETY: every address stays inside `a`, `b` and `out` for r < 2, c < 3.
        unsafe { run(&s, &args) };
        assert_eq!(out, [12.0, 11.0, 10.0, 25.0, 24.0, 23.0]);
    }
}
