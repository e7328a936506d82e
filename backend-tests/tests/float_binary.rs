//! Float binary operations: tensor⊗tensor with broadcasting (rank 3, every dim either equal,
//! or 1 on one side, zero-size dims included) and tensor⊗scalar, f32 and f64, on values that
//! include NaN, ±inf, ±0 and subnormals.

use backend_tests::*;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};
use proptest::prelude::*;

const CASES: u32 = 24;
const TRANS64: Tol = Tol::ulps(16, 1e-15);

/// `binary!(name, a_values, b_values, tol32, tol64, |a, b| expr)`: `a` and `b` are rank-3
/// float tensors of broadcast-compatible shapes.
macro_rules! binary {
    ($(#[$meta:meta])* $name:ident, $va:expr, $vb:expr, $tol:expr, $tol64:expr, |$a:ident, $b:ident| $body:expr) => {
        #[test]
        $(#[$meta])*
        fn $name() {
            fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
                let $a: Tensor<B, 3> = ft::<B, 3>(a);
                let $b: Tensor<B, 3> = ft::<B, 3>(b);
                ($body).into_data()
            }
            run(CASES, broadcast_pair::<3>($va, $vb), |(a, b)| {
                triple!(prog, $tol, &a, &b)?;
                let (a64, b64) = (to_dtype(&a, DType::F64), to_dtype(&b, DType::F64));
                triple!(prog, $tol64, &a64, &b64)
            });
        }
    };
}

/// `scalar!(name, values, scalars, tol32, tol64, |x, s| expr)`: `s` is an `f32` scalar.
macro_rules! scalar {
    ($name:ident, $v:expr, $s:expr, $tol:expr, $tol64:expr, |$x:ident, $sc:ident| $body:expr) => {
        #[test]
        fn $name() {
            fn prog<B: Backend>(d: &TensorData, $sc: f32) -> TensorData {
                let $x: Tensor<B, 3> = ft::<B, 3>(d);
                ($body).into_data()
            }
            run(CASES, (tensor::<3>(true, $v), $s), |(d, s)| {
                triple!(prog, $tol, &d, s)?;
                triple!(prog, $tol64, &to_dtype(&d, DType::F64), s)
            });
        }
    };
}

binary!(
    add,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |a, b| a + b
);
binary!(
    sub,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |a, b| a - b
);
binary!(
    mul,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |a, b| a * b
);
binary!(
    div,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |a, b| a / b
);
binary!(
    rhs_first,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |a, b| b - a
);
binary!(
    remainder,
    float_in(-100.0, 100.0),
    float_in(-10.0, 10.0),
    Tol::new(0.0, 1e-4),
    Tol::new(0.0, 1e-12),
    |a, b| a.remainder(b)
);
/// Remainder with specials and subnormals: burn-flex (and pinn-jit) return 0 for
/// `remainder(-1e-40, 2.2962563)` where ndarray returns 2.2962563 (the exact Python-style
/// result rounds to 2.2962563): a reference discrepancy on subnormal dividends, so checked
/// against the eager path only.
#[test]
fn remainder_specials() {
    fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
        ft::<B, 3>(a).remainder(ft::<B, 3>(b)).into_data()
    }
    run(
        CASES,
        broadcast_pair::<3>(float_any(100.0), float_any(10.0)),
        |(a, b)| pair!(prog, Jit, Eager, Tol::new(0.0, 1e-4), &a, &b),
    );
}
// `fmod` is Tensor-API composite (div, trunc, mul, sub, masks) fused into one kernel.
// (It went wrong while trunc was fused; `fmod_fused_minimal` pins the case.)
binary!(
    fmod,
    float_in(-100.0, 100.0),
    float_in(-10.0, 10.0),
    Tol::new(0.0, 1e-4),
    Tol::new(0.0, 1e-12),
    |a, b| a.fmod(b)
);
binary!(
    powf,
    float_in(0.0, 10.0),
    float_in(-3.0, 3.0),
    Tol::TRANS,
    TRANS64,
    |a, b| a.powf(b)
);
binary!(
    powf_specials,
    float_any(10.0),
    float_any(3.0),
    Tol::TRANS,
    TRANS64,
    |a, b| a.powf(b)
);
binary!(
    powf_negative_base_integer_exponent,
    float_in(-10.0, 10.0),
    float_in(-3.0, 3.0),
    Tol::TRANS,
    TRANS64,
    |a, b| a.powf(b.round())
);
binary!(
    atan2,
    float_any(10.0),
    float_any(10.0),
    Tol::TRANS,
    TRANS64,
    |a, b| a.atan2(b)
);
binary!(
    max_pair_finite,
    float_in(-10.0, 10.0),
    float_in(-10.0, 10.0),
    Tol::VALUE,
    Tol::VALUE,
    |a, b| a.max_pair(b)
);
binary!(
    min_pair_finite,
    float_in(-10.0, 10.0),
    float_in(-10.0, 10.0),
    Tol::VALUE,
    Tol::VALUE,
    |a, b| a.min_pair(b)
);
binary!(
    fused_affine,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |a, b| (a.clone() * b.clone() + a) / 2.0 - b
);
binary!(
    mask_where_by_comparison,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |a, b| {
        let m = a.clone().greater(b.clone());
        a.mask_where(m, b)
    }
);

scalar!(
    add_s,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |x, s| x.add_scalar(s)
);
scalar!(
    sub_s,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |x, s| x.sub_scalar(s)
);
scalar!(
    mul_s,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |x, s| x.mul_scalar(s)
);
scalar!(
    div_s,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |x, s| x.div_scalar(s)
);
scalar!(
    remainder_s,
    float_in(-100.0, 100.0),
    prop_oneof![-7.0f32..-0.5, 0.5f32..7.0],
    Tol::new(0.0, 1e-4),
    Tol::new(0.0, 1e-12),
    |x, s| x.remainder_scalar(s)
);
scalar!(
    remainder_s_specials,
    float_any(100.0),
    float_any(10.0),
    Tol::new(0.0, 1e-4),
    Tol::new(0.0, 1e-12),
    |x, s| x.remainder_scalar(s)
);
scalar!(
    powf_s,
    float_in(0.0, 100.0),
    float_in(-3.0, 3.0),
    Tol::TRANS,
    TRANS64,
    |x, s| x.powf_scalar(s)
);
// Exponents: finite or NaN. An infinite or huge exponent panics in Burn's own
// `Scalar::try_as_integer` (`to_i64().unwrap()`) on every backend, before reaching one.
scalar!(
    powf_s_specials,
    float_any(100.0),
    prop_oneof![4 => float_in(-4.0, 4.0), 1 => Just(f32::NAN)],
    Tol::TRANS,
    TRANS64,
    |x, s| x.powf_scalar(s)
);
/// clamp with random bounds (no NaN: see float_unary's clamp NaN tests).
#[test]
fn clamp_s() {
    fn prog<B: Backend>(d: &TensorData, lo: f32, hi: f32) -> TensorData {
        ft::<B, 3>(d).clamp(lo, hi).into_data()
    }
    run(
        CASES,
        (
            tensor::<3>(true, float_no_nan(1e3)),
            float_in(-10.0, 0.0),
            float_in(0.0, 10.0),
        ),
        |(d, lo, hi)| {
            // Sign of zero unspecified when a bound is ±0 and x is ∓0 (flex and ndarray differ).
            triple!(prog, Tol::VALUE, &d, lo, hi)?;
            triple!(prog, Tol::VALUE, &to_dtype(&d, DType::F64), lo, hi)
        },
    );
}

scalar!(
    mask_fill_s,
    float_any(1e3),
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |x, s| {
        let m = x.clone().lower_elem(0.0);
        x.mask_fill(m, s)
    }
);

/// Broadcasting between ranks via unsqueeze: `[n] + [m, 1]` → `[m, n]`.
#[test]
fn outer_sum_broadcast() {
    fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
        let a: Tensor<B, 1> = ft(a);
        let b: Tensor<B, 1> = ft(b);
        let col: Tensor<B, 2> = b.unsqueeze_dim(1);
        let row: Tensor<B, 2> = a.unsqueeze_dim(0);
        ((col.clone() * row.clone() - row) * col).into_data()
    }
    run(
        CASES,
        (
            // Zero-size 1-D inputs make `unsqueeze_dim` panic on every backend (Burn API).
            tensor::<1>(false, float_any(100.0)),
            tensor::<1>(false, float_any(100.0)),
        ),
        |(a, b)| triple!(prog, Tol::EXACT, &a, &b),
    );
}

/// The same tensor on both sides (aliasing of kernel inputs).
#[test]
fn same_tensor_both_operands() {
    fn prog<B: Backend>(a: &TensorData) -> Vec<TensorData> {
        let a: Tensor<B, 2> = ft(a);
        vec![
            (a.clone() + a.clone()).into_data(),
            (a.clone() - a.clone()).into_data(),
            (a.clone() / a.clone()).into_data(),
            a.clone().powf(a.clone()).into_data(),
            a.clone().equal(a).into_data(),
        ]
    }
    run(CASES, tensor::<2>(true, float_any(10.0)), |a| {
        triple!(prog, Tol::TRANS, &a)
    });
}

/// Minimal reproduction of the fused `fmod` bug: fmod(-28.276688, -1.7684207) must be
/// -1.7503777 (x - y * trunc(x / y), trunc(15.9899) = 15); pinn-jit returns 0.018043518,
/// i.e. it used 16 for the truncated quotient. Eager burn-flex and ndarray agree.
#[test]
fn fmod_fused_minimal() {
    fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
        ft::<B, 1>(a).fmod(ft::<B, 1>(b)).into_data()
    }
    let a = TensorData::new(vec![-28.276_688f32, 56.786_9], [2]);
    let b = TensorData::new(vec![-1.768_420_7f32, 8.964_011], [2]);
    let host = TensorData::new(
        vec![-28.276_688f32 % -1.768_420_7, 56.786_9 % 8.964_011],
        [2],
    );
    assert_close(&prog::<Jit>(&a, &b), &host, Tol::new(0.0, 1e-4));
    triple!(prog, Tol::new(0.0, 1e-4), &a, &b).unwrap();
}
