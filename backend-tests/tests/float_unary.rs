//! Float unary operations (element-wise), f32 and f64, on random rank-3 tensors (zero-size
//! dims included) whose values mix a uniform range with NaN, ±inf, ±0, subnormals, extremes
//! and rounding ties. Every op runs on pinn-jit (fused), burn-flex (eager) and ndarray.

use backend_tests::*;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};

const CASES: u32 = 24;

/// Tolerance of f64 transcendentals: the f64 kernels must be f64-accurate (a few f64 ULP).
const TRANS64: Tol = Tol::ulps(16, 1e-15);

/// `unary!(name, values, tol32, tol64, |x| expr)`: `x` is a rank-3 float tensor.
macro_rules! unary {
    ($(#[$meta:meta])* $name:ident, $values:expr, $tol:expr, $tol64:expr, |$x:ident| $body:expr) => {
        #[test]
        $(#[$meta])*
        fn $name() {
            fn prog<B: Backend>(d: &TensorData) -> TensorData {
                let $x: Tensor<B, 3> = ft::<B, 3>(d);
                ($body).into_data()
            }
            run(CASES, tensor::<3>(true, $values), |d| {
                triple!(prog, $tol, &d)?;
                let d64 = to_dtype(&d, DType::F64);
                triple!(prog, $tol64, &d64)
            });
        }
    };
}

/// `host!(name, values, tol, |x| tensor_expr, |v| f32_expr, |v| f64_expr)`: checks pinn-jit
/// against the Rust standard library (host oracle) and against the eager path, in f32 and
/// f64. Used where ndarray 0.21 is a poor reference (documented at each use).
macro_rules! host {
    ($name:ident, $values:expr, $tol:expr, $tol64:expr, |$x:ident| $body:expr, |$v:ident| $f32e:expr, |$w:ident| $f64e:expr) => {
        #[test]
        fn $name() {
            fn prog<B: Backend>(d: &TensorData) -> TensorData {
                let $x: Tensor<B, 3> = ft::<B, 3>(d);
                ($body).into_data()
            }
            run(CASES, tensor::<3>(true, $values), |d| {
                let oracle = map_float(&d, |$v: f32| $f32e, |$w: f64| $f64e);
                compare("jit vs host", vec![prog::<Jit>(&d)], vec![oracle], $tol)?;
                pair!(prog, Jit, Eager, $tol, &d)?;
                let d64 = to_dtype(&d, DType::F64);
                let oracle = map_float(&d64, |$v: f32| $f32e, |$w: f64| $f64e);
                compare("jit vs host", vec![prog::<Jit>(&d64)], vec![oracle], $tol64)?;
                pair!(prog, Jit, Eager, $tol64, &d64)
            });
        }
    };
}

/// `predicate!(name, |x| tensor_expr, |v| bool_expr)`: bool-valued tests against the host
/// oracle and the eager path. ndarray 0.21's `is_nan`/`is_inf` miss some NaN/inf elements
/// (e.g. the NaN of `[0.0; 34] ++ [NaN] ++ [0.0; 5]` in shape [2, 4, 5] reads `false`), a
/// reference-backend bug, so ndarray is not consulted.
macro_rules! predicate {
    ($name:ident, |$x:ident| $body:expr, |$v:ident| $pred:expr) => {
        #[test]
        fn $name() {
            fn prog<B: Backend>(d: &TensorData) -> TensorData {
                let $x: Tensor<B, 3> = ft::<B, 3>(d);
                ($body).into_data()
            }
            run(CASES, tensor::<3>(true, float_any(1e3)), |d| {
                for d in [d.0.clone(), to_dtype(&d, DType::F64)] {
                    let oracle = map_bool(&d, |$v: f64| $pred);
                    compare(
                        "jit vs host",
                        vec![prog::<Jit>(&d)],
                        vec![oracle],
                        Tol::EXACT,
                    )?;
                    pair!(prog, Jit, Eager, Tol::EXACT, &d)?;
                }
                Ok(())
            });
        }
    };
}

// Exact ops: the result is fully determined by IEEE 754.
unary!(neg, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x.neg());
unary!(abs, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x.abs());
unary!(sqrt, float_any(1e6), Tol::EXACT, Tol::EXACT, |x| x.sqrt());
unary!(floor, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x.floor());
unary!(ceil, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x.ceil());
unary!(trunc, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x.trunc());
unary!(square, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x
    .square());
unary!(mul_self, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x
    .clone()
    * x);
unary!(sign, float_no_nan(1e3), Tol::VALUE, Tol::VALUE, |x| x
    .sign());
unary!(add_scalar, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x
    + 1.25);
unary!(sub_scalar, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x
    - 0.75);
unary!(mul_scalar, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x
    * -3.5);
unary!(div_scalar, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x
    / 7.0);
unary!(
    div_scalar_zero,
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |x| x / 0.0
);
// NaN through clamp is tested separately below.
unary!(clamp, float_no_nan(1e3), Tol::EXACT, Tol::EXACT, |x| x
    .clamp(-2.5, 10.0));
unary!(clamp_min, float_no_nan(1e3), Tol::EXACT, Tol::EXACT, |x| x
    .clamp_min(-1.0));
unary!(clamp_max, float_no_nan(1e3), Tol::EXACT, Tol::EXACT, |x| x
    .clamp_max(1.0));
unary!(deg2rad, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x
    .deg2rad());
unary!(rad2deg, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x
    .rad2deg());
unary!(powi_scalar_2, float_any(1e3), Tol::EXACT, Tol::EXACT, |x| x
    .powi_scalar(2));
predicate!(is_nan, |x| x.is_nan(), |v| v.is_nan());
predicate!(is_inf, |x| x.is_inf(), |v| v.is_infinite());
predicate!(is_finite, |x| x.is_finite(), |v| v.is_finite());
predicate!(nan_mask_then_not, |x| x.is_nan().bool_not(), |v| !v
    .is_nan());
host!(
    nan_to_zero_mask,
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |x| {
        let m = x.clone().is_nan();
        x.mask_fill(m, 0.0)
    },
    |v| if v.is_nan() { 0.0 } else { v },
    |w| if w.is_nan() { 0.0 } else { w }
);
// ndarray 0.21 computes `recip` (and `powf`/`powi` with negative exponents, through it) with
// an approximate SIMD reciprocal (~12 bits: 1/2.25 gives 0.4443359 instead of 0.44444445), a
// reference-backend discrepancy: checked against the host instead.
host!(
    recip,
    float_any(1e3),
    Tol::EXACT,
    Tol::EXACT,
    |x| x.recip(),
    |v| 1.0 / v,
    |w| 1.0 / w
);
host!(
    powf_scalar_neg,
    float_any(10.0),
    Tol::TRANS,
    TRANS64,
    |x| x.powf_scalar(-2.0),
    |v| v.powf(-2.0),
    |w| w.powf(-2.0)
);
host!(
    powi_scalar_neg,
    float_any(10.0),
    Tol::TRANS,
    TRANS64,
    |x| x.powi_scalar(-2),
    |v| v.powi(-2),
    |w| w.powi(-2)
);

// Round: Burn specifies round-half-to-even; ties (±0.5, ±1.5, ±2.5) are in the value mix.
// The sign of a zero result is not compared: burn-flex returns +0.0 for round(-0.5) where
// ndarray (and IEEE roundTiesToEven) give -0.0; pinn-jit follows flex (reference discrepancy).
unary!(round, float_any(1e3), Tol::VALUE, Tol::VALUE, |x| x.round());
unary!(
    round_ties,
    float_in(-8.0, 8.0),
    Tol::VALUE,
    Tol::VALUE,
    |x| (x * 2.0).round().div_scalar(2.0).round()
);

// Transcendentals: approximations in kernels.
unary!(exp, float_any(90.0), Tol::TRANS, TRANS64, |x| x.exp());
unary!(exp_small, float_in(-10.0, 10.0), Tol::TRANS, TRANS64, |x| x
    .exp());
unary!(log, float_any(1e6), Tol::TRANS, TRANS64, |x| x.log());
unary!(log_near_one, float_in(0.5, 2.0), Tol::TRANS, TRANS64, |x| x
    .log());
unary!(log1p, float_any(1e3), Tol::TRANS, TRANS64, |x| x.log1p());
unary!(
    log1p_small,
    float_in(-0.01, 0.01),
    Tol::TRANS,
    TRANS64,
    |x| x.log1p()
);
unary!(sin, float_any(20.0), Tol::TRANS, TRANS64, |x| x.sin());
unary!(cos, float_any(20.0), Tol::TRANS, TRANS64, |x| x.cos());
unary!(tan, float_in(-1.5, 1.5), Tol::TRANS, TRANS64, |x| x.tan());
unary!(
    tan_specials,
    float_any(20.0),
    Tol::ulps(64, 1e-5),
    Tol::ulps(64, 1e-12),
    |x| x.tan()
);
unary!(sinh, float_any(80.0), Tol::TRANS, TRANS64, |x| x.sinh());
unary!(cosh, float_any(80.0), Tol::TRANS, TRANS64, |x| x.cosh());
unary!(tanh, float_any(20.0), Tol::TRANS, TRANS64, |x| x.tanh());
unary!(erf, float_any(6.0), Tol::TRANS, TRANS64, |x| x.erf());
unary!(powf_scalar_half, float_any(1e3), Tol::TRANS, TRANS64, |x| x
    .powf_scalar(0.5));
// The exponent is exactly representable in f32: ndarray rounds the scalar to f32 even for f64
// tensors (x^1.7 in f64 uses 1.70000004768), a reference discrepancy avoided here.
unary!(
    powf_scalar_frac,
    float_in(0.0, 100.0),
    Tol::TRANS,
    TRANS64,
    |x| x.powf_scalar(1.75)
);
unary!(
    powf_scalar_three,
    float_any(10.0),
    Tol::TRANS,
    TRANS64,
    |x| x.powf_scalar(3.0)
);
unary!(powi_scalar_3, float_any(100.0), Tol::TRANS, TRANS64, |x| x
    .powi_scalar(3));
// Not fused: eager on burn-flex, checked against ndarray.
unary!(asin, float_any(1.0), Tol::TRANS, TRANS64, |x| x.asin());
unary!(acos, float_any(1.0), Tol::TRANS, TRANS64, |x| x.acos());
unary!(atan, float_any(100.0), Tol::TRANS, TRANS64, |x| x.atan());
unary!(asinh, float_moderate(100.0), Tol::TRANS, TRANS64, |x| x
    .asinh());
unary!(acosh, float_in(1.0, 100.0), Tol::TRANS, TRANS64, |x| x
    .acosh());
unary!(atanh, float_in(-0.9, 0.9), Tol::TRANS, TRANS64, |x| x
    .atanh());

/// Large arguments of sin/cos: argument reduction must hold beyond a few periods.
#[test]
fn sin_cos_large_arguments() {
    fn prog<B: Backend>(d: &TensorData) -> (TensorData, TensorData) {
        let x: Tensor<B, 1> = ft(d);
        (x.clone().sin().into_data(), x.cos().into_data())
    }
    run(CASES, tensor::<1>(false, float_in(-1e4, 1e4)), |d| {
        triple!(prog, Tol::ulps(8, 1e-5), &d)
    });
}

/// Subnormal inputs and outputs: no flush-to-zero in kernels.
#[test]
fn subnormals_are_preserved() {
    fn prog<B: Backend>(d: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 1> = ft(d);
        vec![
            (x.clone() * 0.5).into_data(),
            (x.clone() + 0.0).into_data(),
            x.clone().abs().into_data(),
            (x.clone() * 1e-30).into_data(),
            x.clone().neg().into_data(),
            x.sqrt().into_data(),
        ]
    }
    let d = TensorData::new(
        vec![
            1e-40f32,
            -1e-40,
            f32::MIN_POSITIVE,
            1.4e-45,
            -1.4e-45,
            1e-10,
        ],
        [6],
    );
    triple!(prog, Tol::EXACT, &d).unwrap();
}

/// Special values through every fused unary op at once (one chain, many outputs).
#[test]
fn specials_through_all_unary() {
    fn prog<B: Backend>(d: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 1> = ft(d);
        let ops: Vec<Tensor<B, 1>> = vec![
            x.clone().exp(),
            x.clone().log(),
            x.clone().log1p(),
            x.clone().sqrt(),
            x.clone().sin(),
            x.clone().cos(),
            x.clone().tanh(),
            x.clone().sinh(),
            x.clone().cosh(),
            x.clone().erf(),
            x.clone().recip(),
            x.clone().round(),
            x.clone().floor(),
            x.clone().ceil(),
            x.clone().trunc(),
            x.clone().abs(),
            x.clone().powf_scalar(2.0),
            x.clone().powf_scalar(0.5),
        ];
        ops.into_iter().map(|t| t.into_data()).collect()
    }
    let d = TensorData::new(SPECIALS.to_vec(), [SPECIALS.len()]);
    triple!(prog, Tol::TRANS, &d).unwrap();
    triple!(prog, TRANS64, &to_dtype(&d, DType::F64)).unwrap();
}

/// Signs of zero: `-0.0` results where IEEE 754 requires them.
#[test]
fn signed_zero_results() {
    fn exact<B: Backend>(d: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 1> = ft(d);
        vec![
            x.clone().neg().into_data(),
            (x.clone() * -1.0).into_data(),
            x.clone().sqrt().into_data(),
            x.clone().trunc().into_data(),
            x.clone().ceil().into_data(),
            x.clone().abs().into_data(),
            x.recip().into_data(),
        ]
    }
    fn transcendental<B: Backend>(d: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 1> = ft(d);
        vec![
            x.clone().sin().into_data(),
            x.clone().tanh().into_data(),
            x.clone().erf().into_data(),
            x.clone().sinh().into_data(),
            x.log1p().into_data(),
        ]
    }
    let d = TensorData::new(vec![0.0f32, -0.0, -0.3, 0.3, -0.5, 0.5], [6]);
    // recip through ndarray is approximate (see `recip`): eager only.
    pair!(exact, Jit, Eager, Tol::EXACT, &d).unwrap();
    let zeros = TensorData::new(vec![0.0f32, -0.0], [2]);
    triple!(exact, Tol::EXACT, &zeros).unwrap();
    triple!(transcendental, Tol::TRANS, &d).unwrap();
    // Odd functions keep the sign of zero exactly.
    triple!(transcendental, Tol::EXACT, &zeros).unwrap();
}

/// NaN through `clamp`: burn-flex propagates NaN (as IEEE min/max-free code and PyTorch do);
/// ndarray 0.21 maps NaN to the upper bound, a reference discrepancy: checked against flex
/// and the host.
#[test]
fn clamp_nan_propagates() {
    fn prog<B: Backend>(d: &TensorData) -> TensorData {
        ft::<B, 1>(d).clamp(-1.0, 1.0).into_data()
    }
    let d = TensorData::new(vec![f32::NAN, 0.5, -3.0, 3.0], [4]);
    let oracle = map_float(&d, |v| v.clamp(-1.0, 1.0), |w| w.clamp(-1.0, 1.0));
    assert_close(&prog::<Jit>(&d), &oracle, Tol::EXACT);
    pair!(prog, Jit, Eager, Tol::EXACT, &d).unwrap();
}

/// NaN through `clamp_min`/`clamp_max`: under fusion they are burn-fusion's default
/// decomposition (`mask_fill(x, x < min, min)`), which keeps NaN, like ndarray.
#[test]
fn clamp_min_max_nan_propagates() {
    fn prog<B: Backend>(d: &TensorData) -> (TensorData, TensorData) {
        let x = ft::<B, 1>(d);
        (
            x.clone().clamp_min(-1.0).into_data(),
            x.clamp_max(1.0).into_data(),
        )
    }
    let d = TensorData::new(vec![f32::NAN, 0.5, -3.0, 3.0], [4]);
    pair!(prog, Jit, Ref, Tol::EXACT, &d).unwrap();
}

/// Fallback equality for `clamp_min`/`clamp_max` on NaN: the eager PinnCpu propagates NaN like
/// the compiled kernels (burn-flex itself returns the bound).
#[test]
fn clamp_min_max_nan_matches_eager() {
    fn prog<B: Backend>(d: &TensorData) -> (TensorData, TensorData) {
        let x = ft::<B, 1>(d);
        (
            x.clone().clamp_min(-1.0).into_data(),
            x.clamp_max(1.0).into_data(),
        )
    }
    let d = TensorData::new(vec![f32::NAN, 0.5, -3.0, 3.0], [4]);
    pair!(prog, Jit, Eager, Tol::EXACT, &d).unwrap();
}

/// `sign(NaN)`: burn-flex gives NaN (like PyTorch), ndarray 1.0, and PinnJitBackend 0.0
/// (burn-fusion's default decomposition `mask_fill(mask_fill(0, x < 0, -1), x > 0, 1)`).
#[test]
fn sign_nan_matches_eager() {
    fn prog<B: Backend>(d: &TensorData) -> TensorData {
        ft::<B, 1>(d).sign().into_data()
    }
    let d = TensorData::new(vec![f32::NAN, -2.0, 0.0, 2.0], [4]);
    pair!(prog, Jit, Eager, Tol::VALUE, &d).unwrap();
}

/// `asinh` of huge arguments (asinh(f32::MAX) = 89.416): burn-flex evaluates
/// `ln(x + sqrt(x² + 1))`, which overflows to inf for |x| > ~1.8e19; PinnCpu does not use it.
#[test]
fn asinh_huge() {
    fn prog<B: Backend>(d: &TensorData) -> TensorData {
        ft::<B, 1>(d).asinh().into_data()
    }
    let d = TensorData::new(vec![1e20f32, -1e25, f32::MAX], [3]);
    // In f64: Rust's own `f32::asinh` overflows at f32::MAX (it computes `2·x` on the way).
    let oracle = map_float(&d, |v| (v as f64).asinh() as f32, f64::asinh);
    assert_close(&prog::<Jit>(&d), &oracle, Tol::TRANS);
    pair!(prog, Jit, Ref, Tol::TRANS, &d).unwrap();
}

/// `atanh` near ±1: burn-flex loses ~17 ULP (atanh(-0.99605918) = -3.1137745 instead of
/// -3.1137705); PinnCpu does not use it.
#[test]
fn atanh_near_one() {
    fn prog<B: Backend>(d: &TensorData) -> TensorData {
        ft::<B, 1>(d).atanh().into_data()
    }
    let d = TensorData::new(vec![-0.996_059_2f32, 0.999, 0.9999, -0.99999], [4]);
    let oracle = map_float(&d, |v| (v as f64).atanh() as f32, f64::atanh);
    assert_close(&prog::<Jit>(&d), &oracle, Tol::TRANS);
}
