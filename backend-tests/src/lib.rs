//! Differential conformance suite for pinn-jit.
//!
//! Every test runs the same generic program on three backends and compares what they return:
//! - [`Jit`]: `pinn_jit::PinnJitBackend`, the backend under test (fusion + Cranelift kernels);
//! - [`Eager`]: `pinn_jit::PinnCpu`, the same operations run one by one on burn-flex, without
//!   fusion (the "fallback" path);
//! - [`Ref`]: `burn_ndarray::NdArray`, an independent reference implementation.
//!
//! The helpers here are shared by the test files under `tests/`: value and shape strategies
//! for proptest ([`float_finite`], [`shape`], [`tensor`], …), the comparison [`assert_close`] /
//! [`close`] with a [`Tol`], the [`run`] driver and the [`triple!`] / [`pair!`] macros that run
//! a program `fn prog<B: Backend>(..) -> impl Outputs` on the backends and compare.

use core::fmt::Debug;

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, DType, Int, Tensor, TensorData};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

pub use burn_ndarray::NdArray;
pub use pinn_jit::{PinnCpu, PinnJitBackend};

/// The backend under test.
pub type Jit = PinnJitBackend;
/// The eager path of the backend under test: burn-flex behind `PinnCpu`, no fusion.
pub type Eager = PinnCpu;
/// The independent reference backend.
pub type Ref = NdArray<f32, i64>;
/// Autodiff over the backend under test.
pub type AdJit = burn::backend::Autodiff<Jit>;
/// Autodiff over the reference.
pub type AdRef = burn::backend::Autodiff<Ref>;
/// Autodiff over the eager path.
pub type AdEager = burn::backend::Autodiff<Eager>;

// ---------------------------------------------------------------------------------------------
// Tolerances and comparison
// ---------------------------------------------------------------------------------------------

/// How close two results must be.
///
/// A finite pair passes when `|a - b| <= atol + rtol * |b|` **or** when `a` and `b` are at most
/// `ulps` units in the last place apart in `f32` (for `f32`/`f16`/`bf16` data) or `f64`.
/// NaN only matches NaN, an infinity only the same infinity. With [`Tol::EXACT`] values must be
/// bit-identical up to NaN payloads: `+0.0` and `-0.0` differ; with [`Tol::VALUE`] they must be
/// equal as numbers (`+0.0 == -0.0`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tol {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Allowed distance in units in the last place.
    pub ulps: u64,
    /// Compare bit patterns (signed zeros distinguished); only with zero tolerances.
    pub bitwise: bool,
}

impl Tol {
    /// Bit-exact (NaN == NaN, signed zeros distinguished).
    pub const EXACT: Tol = Tol {
        rtol: 0.0,
        atol: 0.0,
        ulps: 0,
        bitwise: true,
    };
    /// Equal values, but `+0.0 == -0.0` (for ops whose sign of zero is unspecified).
    pub const VALUE: Tol = Tol::new(0.0, 0.0);
    /// Transcendental functions in f32 kernels: "a few f32 ULP".
    pub const TRANS: Tol = Tol {
        rtol: 0.0,
        atol: 1e-6,
        ulps: 8,
        bitwise: false,
    };
    /// Reductions / matmul / convolutions whose summation order may differ.
    pub const REDUCE: Tol = Tol {
        rtol: 1e-4,
        atol: 1e-4,
        ulps: 0,
        bitwise: false,
    };
    /// Looser tolerance for compositions (autodiff, long chains).
    pub const LOOSE: Tol = Tol {
        rtol: 1e-3,
        atol: 1e-3,
        ulps: 0,
        bitwise: false,
    };
    /// Relative + absolute tolerance.
    pub const fn new(rtol: f64, atol: f64) -> Tol {
        Tol {
            rtol,
            atol,
            ulps: 0,
            bitwise: false,
        }
    }
    /// ULP tolerance (plus a small absolute one for results near zero).
    pub const fn ulps(ulps: u64, atol: f64) -> Tol {
        Tol {
            rtol: 0.0,
            atol,
            ulps,
            bitwise: false,
        }
    }
    fn is_exact(&self) -> bool {
        self.bitwise
    }
}

/// Which family a dtype belongs to, for comparisons across backends whose integer types
/// differ (pinn-jit's default int is `i32`, ndarray's `i64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Floating point.
    Float,
    /// Integer (signed or not).
    Int,
    /// Boolean.
    Bool,
}

/// The [`Kind`] of a dtype.
pub fn kind(dtype: DType) -> Kind {
    match dtype {
        DType::F64 | DType::F32 | DType::Flex32 | DType::F16 | DType::BF16 => Kind::Float,
        DType::Bool(_) => Kind::Bool,
        DType::QFloat(_) => Kind::Float,
        _ => Kind::Int,
    }
}

fn ulp_distance_f32(a: f32, b: f32) -> u64 {
    fn key(x: f32) -> i64 {
        let bits = x.to_bits() as i32;
        if bits < 0 {
            i64::from(i32::MIN) - i64::from(bits)
        } else {
            i64::from(bits)
        }
    }
    (key(a) - key(b)).unsigned_abs()
}

fn ulp_distance_f64(a: f64, b: f64) -> u64 {
    fn key(x: f64) -> i128 {
        let bits = x.to_bits() as i64;
        if bits < 0 {
            i128::from(i64::MIN) - i128::from(bits)
        } else {
            i128::from(bits)
        }
    }
    u64::try_from((key(a) - key(b)).unsigned_abs()).unwrap_or(u64::MAX)
}

/// Whether one pair of float values is close enough.
pub fn float_close(a: f64, b: f64, tol: Tol, dtype: DType) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if tol.is_exact() {
        return a.to_bits() == b.to_bits();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    if diff <= tol.atol + tol.rtol * b.abs() {
        return true;
    }
    if tol.ulps > 0 {
        // The distance is measured in the precision of the data (f16/bf16 results are
        // measured in f32 units: their tolerance must come from rtol/atol).
        let d = match dtype {
            DType::F64 => ulp_distance_f64(a, b),
            _ => ulp_distance_f32(a as f32, b as f32),
        };
        return d <= tol.ulps;
    }
    false
}

/// Compare two tensors' data; `Err` describes the first mismatches.
///
/// Shapes must be equal and kinds (float/int/bool) the same; float dtypes must be equal too.
/// Integers and booleans are always compared exactly.
pub fn close(actual: &TensorData, expected: &TensorData, tol: Tol) -> Result<(), String> {
    if actual.shape != expected.shape {
        return Err(format!(
            "shape mismatch: actual {:?}, expected {:?}",
            actual.shape, expected.shape
        ));
    }
    let (ka, ke) = (kind(actual.dtype), kind(expected.dtype));
    if ka != ke {
        return Err(format!(
            "kind mismatch: actual {:?} ({:?}), expected {:?} ({:?})",
            ka, actual.dtype, ke, expected.dtype
        ));
    }
    if ka == Kind::Float && actual.dtype != expected.dtype {
        return Err(format!(
            "float dtype mismatch: actual {:?}, expected {:?}",
            actual.dtype, expected.dtype
        ));
    }
    let mut bad = Vec::new();
    let mut count = 0usize;
    match ka {
        Kind::Float => {
            for (i, (a, b)) in actual.iter::<f64>().zip(expected.iter::<f64>()).enumerate() {
                if !float_close(a, b, tol, actual.dtype) {
                    count += 1;
                    if bad.len() < 8 {
                        bad.push(format!("  [{i}] actual {a:e} expected {b:e}"));
                    }
                }
            }
        }
        Kind::Int => {
            for (i, (a, b)) in actual.iter::<i64>().zip(expected.iter::<i64>()).enumerate() {
                if a != b {
                    count += 1;
                    if bad.len() < 8 {
                        bad.push(format!("  [{i}] actual {a} expected {b}"));
                    }
                }
            }
        }
        Kind::Bool => {
            for (i, (a, b)) in actual
                .iter::<bool>()
                .zip(expected.iter::<bool>())
                .enumerate()
            {
                if a != b {
                    count += 1;
                    if bad.len() < 8 {
                        bad.push(format!("  [{i}] actual {a} expected {b}"));
                    }
                }
            }
        }
    }
    if count == 0 {
        Ok(())
    } else {
        Err(format!(
            "{count} of {} elements differ (shape {:?}, {:?}, tol {tol:?}):\n{}",
            actual.num_elements(),
            actual.shape,
            actual.dtype,
            bad.join("\n")
        ))
    }
}

/// Panicking form of [`close`].
///
/// ```
/// use backend_tests::{assert_close, Tol};
/// use burn::tensor::TensorData;
/// let a = TensorData::new(vec![1.0f32, f32::NAN, -0.0], [3]);
/// assert_close(&a, &a.clone(), Tol::EXACT);
/// ```
#[track_caller]
pub fn assert_close(actual: &TensorData, expected: &TensorData, tol: Tol) {
    if let Err(msg) = close(actual, expected, tol) {
        panic!("{msg}");
    }
}

/// Results of a program: one or more tensors' data.
pub trait Outputs {
    /// The tensors, in order.
    fn outputs(self) -> Vec<TensorData>;
}

impl Outputs for TensorData {
    fn outputs(self) -> Vec<TensorData> {
        vec![self]
    }
}

impl Outputs for Vec<TensorData> {
    fn outputs(self) -> Vec<TensorData> {
        self
    }
}

impl Outputs for (TensorData, TensorData) {
    fn outputs(self) -> Vec<TensorData> {
        vec![self.0, self.1]
    }
}

impl Outputs for (TensorData, TensorData, TensorData) {
    fn outputs(self) -> Vec<TensorData> {
        vec![self.0, self.1, self.2]
    }
}

/// Compare two sets of outputs; `what` names the pair in the message.
pub fn compare(
    what: &str,
    actual: Vec<TensorData>,
    expected: Vec<TensorData>,
    tol: Tol,
) -> Result<(), TestCaseError> {
    if actual.len() != expected.len() {
        return Err(TestCaseError::fail(format!(
            "{what}: {} outputs vs {}",
            actual.len(),
            expected.len()
        )));
    }
    for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
        close(a, e, tol).map_err(|m| TestCaseError::fail(format!("{what}, output {i}: {m}")))?;
    }
    Ok(())
}

/// What one backend returned: its outputs, or the message of the panic it raised.
pub type Outcome = Result<Vec<TensorData>, String>;

/// Run a program on one backend, catching panics.
pub fn outcome<O: Outputs>(f: impl FnOnce() -> O) -> Outcome {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f().outputs())).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "<non-string panic>".into())
    })
}

/// Check the backend under test against the reference and the eager path.
///
/// - All three return: `jit` must match `reference` and `eager` within `tol`. On failure the
///   message lists every disagreeing pair, which classifies the mismatch: `jit != ndarray`
///   with `jit == eager` is a reference discrepancy (burn-flex semantics), `eager == ndarray`
///   with `jit` differing is a pinn-jit bug.
/// - Only the reference panics (ndarray 0.21 lacks broadcasting in several binary ops and
///   zero-size support in some kernels): `jit` must match `eager`.
/// - `jit` panics, or `eager` panics while `jit` does not, or all panic: failure.
pub fn compare_triple(
    jit: Outcome,
    eager: Outcome,
    reference: Outcome,
    tol: Tol,
) -> Result<(), TestCaseError> {
    let (jit, eager) = match (jit, eager) {
        (Ok(j), Ok(e)) => (j, e),
        (Err(j), Ok(_)) => {
            return Err(TestCaseError::fail(format!(
                "pinn-jit panicked where burn-flex (eager) did not: {j}"
            )));
        }
        (Ok(_), Err(e)) => {
            return Err(TestCaseError::fail(format!(
                "eager burn-flex panicked where pinn-jit did not: {e}"
            )));
        }
        (Err(j), Err(e)) => {
            let r = match &reference {
                Ok(_) => "ndarray returned",
                Err(_) => "ndarray panicked too",
            };
            return Err(TestCaseError::fail(format!(
                "pinn-jit and eager burn-flex panicked ({r}): jit: {j}; eager: {e}"
            )));
        }
    };
    let Ok(reference) = reference else {
        return compare("jit vs eager flex (ndarray panicked)", jit, eager, tol);
    };
    let vs_ref = compare("jit vs ndarray", jit.clone(), reference.clone(), tol);
    let vs_eager = compare("jit vs eager flex", jit, eager.clone(), tol);
    if vs_ref.is_ok() && vs_eager.is_ok() {
        return Ok(());
    }
    let eager_vs_ref = compare("eager flex vs ndarray", eager, reference, tol);
    let mut msg = String::new();
    for e in [vs_ref, vs_eager, eager_vs_ref]
        .into_iter()
        .filter_map(Result::err)
    {
        msg.push_str(&e.to_string());
        msg.push('\n');
    }
    Err(TestCaseError::fail(msg))
}

/// Run `$prog::<B>($args..)` on [`Jit`], [`Eager`] and [`Ref`] (catching panics) and check
/// with [`compare_triple`] within `$tol`. Evaluates to `Result<(), TestCaseError>`.
#[macro_export]
macro_rules! triple {
    ($prog:ident, $tol:expr $(, $arg:expr)* $(,)?) => {{
        let tol: $crate::Tol = $tol;
        let jit = $crate::outcome(|| $prog::<$crate::Jit>($($arg),*));
        let eager = $crate::outcome(|| $prog::<$crate::Eager>($($arg),*));
        let reference = $crate::outcome(|| $prog::<$crate::Ref>($($arg),*));
        $crate::compare_triple(jit, eager, reference, tol)
    }};
}

/// Run `$prog::<B>($args..)` on `$a` and `$b` and compare within `$tol`. Evaluates to
/// `Result<(), TestCaseError>`.
#[macro_export]
macro_rules! pair {
    ($prog:ident, $a:ty, $b:ty, $tol:expr $(, $arg:expr)* $(,)?) => {{
        let tol: $crate::Tol = $tol;
        let a = $crate::Outputs::outputs($prog::<$a>($($arg),*));
        let b = $crate::Outputs::outputs($prog::<$b>($($arg),*));
        $crate::compare(
            concat!(stringify!($a), " vs ", stringify!($b)),
            a,
            b,
            tol,
        )
    }};
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

/// The proptest seed of [`run`] unless `PROPTEST_RNG_SEED` is set.
pub const DEFAULT_SEED: u64 = 0x5049_4e4e_4a49_5400;

/// Run a property over `cases` random inputs (or `PROPTEST_CASES` if set); panics with the
/// shrunk failing input.
#[track_caller]
pub fn run<S>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    let default = Config::default();
    // A fixed seed keeps `cargo test` reproducible; `PROPTEST_RNG_SEED=<u64>` picks another
    // stream of cases (run the suite with a few seeds when changing the backend).
    let rng_seed = if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
        default.rng_seed
    } else {
        RngSeed::Fixed(DEFAULT_SEED)
    };
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 512,
        max_global_rejects: 4096,
        rng_seed,
        ..default
    };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Tensor construction
// ---------------------------------------------------------------------------------------------

/// The default device of a backend.
pub fn dev<B: Backend>() -> B::Device {
    Default::default()
}

/// A float tensor holding `data`, in `data`'s dtype.
pub fn ft<B: Backend, const D: usize>(data: &TensorData) -> Tensor<B, D> {
    Tensor::from_data(data.clone(), (&dev::<B>(), data.dtype))
}

/// An int tensor holding `data`, in the backend's default int dtype.
pub fn it<B: Backend, const D: usize>(data: &TensorData) -> Tensor<B, D, Int> {
    Tensor::from_data(data.clone(), &dev::<B>())
}

/// A bool tensor holding `data`.
pub fn bt<B: Backend, const D: usize>(data: &TensorData) -> Tensor<B, D, Bool> {
    Tensor::from_data(data.clone(), &dev::<B>())
}

/// Number of elements of a shape.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Tensor data produced by the strategies: a [`TensorData`] whose `Debug` lists the values
/// (proptest prints it for the shrunk failing input). Dereferences to [`TensorData`], so
/// `&Data` can be passed wherever `&TensorData` is expected.
#[derive(Clone, PartialEq)]
pub struct Data(pub TensorData);

impl core::ops::Deref for Data {
    type Target = TensorData;
    fn deref(&self) -> &TensorData {
        &self.0
    }
}

impl Debug for Data {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let d = &self.0;
        write!(f, "{:?} {:?} ", d.dtype, d.shape.as_slice())?;
        match kind(d.dtype) {
            Kind::Float => {
                let v: Vec<f64> = d.iter::<f64>().collect();
                write!(f, "{v:?}")
            }
            Kind::Int => {
                let v: Vec<i64> = d.iter::<i64>().collect();
                write!(f, "{v:?}")
            }
            Kind::Bool => {
                let v: Vec<u8> = d.iter::<bool>().map(u8::from).collect();
                write!(f, "{v:?}")
            }
        }
    }
}

/// Special f32 values: NaN, ±inf, ±0, subnormals, extremes, rounding ties.
pub const SPECIALS: [f32; 18] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    1e-40,
    -1e-40,
    f32::MIN_POSITIVE,
    f32::MAX,
    f32::MIN,
    1.0,
    -1.0,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    f32::EPSILON,
];

/// One float: mostly uniform in `[-range, range]`, with 1 in 8 chance of a [`SPECIALS`] value.
pub fn float_any(range: f32) -> BoxedStrategy<f32> {
    prop_oneof![
        7 => -range..=range,
        1 => proptest::sample::select(SPECIALS.to_vec()),
    ]
    .boxed()
}

/// Like [`float_any`] but never NaN (for ops whose NaN semantics are tested separately).
pub fn float_no_nan(range: f32) -> BoxedStrategy<f32> {
    let specials: Vec<f32> = SPECIALS.into_iter().filter(|v| !v.is_nan()).collect();
    prop_oneof![
        7 => -range..=range,
        1 => proptest::sample::select(specials),
    ]
    .boxed()
}

/// Like [`float_any`] but finite: no NaN, no infinity (subnormals, ±0 and extremes stay).
pub fn float_finite(range: f32) -> BoxedStrategy<f32> {
    let specials: Vec<f32> = SPECIALS.into_iter().filter(|v| v.is_finite()).collect();
    prop_oneof![
        7 => -range..=range,
        1 => proptest::sample::select(specials),
    ]
    .boxed()
}

/// One finite float in `[lo, hi]`, with occasional exact zeros and small integers/ties.
pub fn float_in(lo: f32, hi: f32) -> BoxedStrategy<f32> {
    let ties: Vec<f32> = [0.0f32, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 1.5, 3.0]
        .into_iter()
        .filter(|v| (lo..=hi).contains(v))
        .collect();
    if ties.is_empty() {
        (lo..=hi).boxed()
    } else {
        prop_oneof![8 => lo..=hi, 1 => proptest::sample::select(ties)].boxed()
    }
}

/// One dimension size: mostly 1..=5, sometimes 0 when `allow_zero`.
pub fn dim(allow_zero: bool) -> BoxedStrategy<usize> {
    if allow_zero {
        prop_oneof![1 => Just(0usize), 3 => Just(1usize), 8 => 2usize..=5].boxed()
    } else {
        prop_oneof![1 => Just(1usize), 3 => 2usize..=5].boxed()
    }
}

/// A shape of rank `D`.
pub fn shape<const D: usize>(allow_zero: bool) -> BoxedStrategy<[usize; D]> {
    proptest::collection::vec(dim(allow_zero), D)
        .prop_map(|v| <[usize; D]>::try_from(v).unwrap())
        .boxed()
}

/// Float data of `shape` with values from `values`.
pub fn tensor_of(shape: Vec<usize>, values: BoxedStrategy<f32>) -> BoxedStrategy<Data> {
    let n = numel(&shape);
    proptest::collection::vec(values, n)
        .prop_map(move |v| Data(TensorData::new(v, shape.clone())))
        .boxed()
}

/// Float data of a random rank-`D` shape with values from `values`.
pub fn tensor<const D: usize>(allow_zero: bool, values: BoxedStrategy<f32>) -> BoxedStrategy<Data> {
    shape::<D>(allow_zero)
        .prop_flat_map(move |s| tensor_of(s.to_vec(), values.clone()))
        .boxed()
}

/// Two float tensors of the same random rank-`D` shape.
pub fn tensor_pair<const D: usize>(
    allow_zero: bool,
    a: BoxedStrategy<f32>,
    b: BoxedStrategy<f32>,
) -> BoxedStrategy<(Data, Data)> {
    shape::<D>(allow_zero)
        .prop_flat_map(move |s| {
            (
                tensor_of(s.to_vec(), a.clone()),
                tensor_of(s.to_vec(), b.clone()),
            )
        })
        .boxed()
}

/// Two shapes of rank `D` that broadcast together: each dim pair is `(n, n)`, `(1, n)` or
/// `(n, 1)`.
pub fn broadcast_shapes<const D: usize>() -> BoxedStrategy<(Vec<usize>, Vec<usize>)> {
    proptest::collection::vec((dim(true), 0u8..4), D)
        .prop_map(|dims| {
            let mut a = Vec::new();
            let mut b = Vec::new();
            for (n, mode) in dims {
                match mode {
                    0 => {
                        a.push(1);
                        b.push(n);
                    }
                    1 => {
                        a.push(n);
                        b.push(1);
                    }
                    _ => {
                        a.push(n);
                        b.push(n);
                    }
                }
            }
            (a, b)
        })
        .boxed()
}

/// Two float tensors whose rank-`D` shapes broadcast together.
pub fn broadcast_pair<const D: usize>(
    a: BoxedStrategy<f32>,
    b: BoxedStrategy<f32>,
) -> BoxedStrategy<(Data, Data)> {
    broadcast_shapes::<D>()
        .prop_flat_map(move |(sa, sb)| (tensor_of(sa, a.clone()), tensor_of(sb, b.clone())))
        .boxed()
}

/// Bool data of `shape`.
pub fn bool_tensor_of(shape: Vec<usize>) -> BoxedStrategy<Data> {
    let n = numel(&shape);
    proptest::collection::vec(any::<bool>(), n)
        .prop_map(move |v| Data(TensorData::new(v, shape.clone())))
        .boxed()
}

/// Int data (`i64`) of `shape` with values in `[lo, hi]`.
pub fn int_tensor_of(shape: Vec<usize>, lo: i64, hi: i64) -> BoxedStrategy<Data> {
    let n = numel(&shape);
    proptest::collection::vec(lo..=hi, n)
        .prop_map(move |v| Data(TensorData::new(v, shape.clone())))
        .boxed()
}

/// Int data of a random rank-`D` shape.
pub fn int_tensor<const D: usize>(allow_zero: bool, lo: i64, hi: i64) -> BoxedStrategy<Data> {
    shape::<D>(allow_zero)
        .prop_flat_map(move |s| int_tensor_of(s.to_vec(), lo, hi))
        .boxed()
}

/// Float data converted to another float dtype (f64, f16, bf16).
pub fn to_dtype(data: &TensorData, dtype: DType) -> TensorData {
    data.clone().convert_dtype(dtype)
}

/// Host oracle for element-wise float ops: applies `f32f` to f32 data or `f64f` to f64 data,
/// keeping the shape and dtype (the Rust standard library as an independent reference).
pub fn map_float(
    d: &TensorData,
    f32f: impl Fn(f32) -> f32,
    f64f: impl Fn(f64) -> f64,
) -> TensorData {
    match d.dtype {
        DType::F64 => TensorData::new(d.iter::<f64>().map(f64f).collect(), d.shape.clone()),
        DType::F32 => TensorData::new(d.iter::<f32>().map(f32f).collect(), d.shape.clone()),
        other => panic!("map_float: unsupported dtype {other:?}"),
    }
}

/// Host oracle for float predicates: a bool tensor of `d`'s shape.
pub fn map_bool(d: &TensorData, f: impl Fn(f64) -> bool) -> TensorData {
    TensorData::new(d.iter::<f64>().map(f).collect(), d.shape.clone())
}

/// Like [`float_any`] but without the extremes `±f32::MAX` (NaN, ±inf, ±0 and subnormals
/// stay), for functions whose naive formulas overflow there.
pub fn float_moderate(range: f32) -> BoxedStrategy<f32> {
    let specials: Vec<f32> = SPECIALS
        .into_iter()
        .filter(|v| v.is_nan() || v.is_infinite() || v.abs() < 1e30)
        .collect();
    prop_oneof![
        7 => -range..=range,
        1 => proptest::sample::select(specials),
    ]
    .boxed()
}

/// Serialises tests that assert on the process-wide [`pinn_jit::stats`] counters of a test
/// binary. Other tests of the same binary may still run kernels in parallel, so assertions
/// must be lower bounds (`>=`) on the counters that only this test can raise that far.
pub static STATS_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: Vec<f32>) -> TensorData {
        let n = v.len();
        TensorData::new(v, [n])
    }

    #[test]
    fn exact_distinguishes_signed_zero_and_matches_nan() {
        assert!(close(&d(vec![f32::NAN]), &d(vec![f32::NAN]), Tol::EXACT).is_ok());
        assert!(close(&d(vec![0.0]), &d(vec![-0.0]), Tol::EXACT).is_err());
        assert!(close(&d(vec![0.0]), &d(vec![-0.0]), Tol::VALUE).is_ok());
        assert!(close(&d(vec![1.0]), &d(vec![f32::NAN]), Tol::LOOSE).is_err());
        assert!(close(&d(vec![f32::INFINITY]), &d(vec![f32::MAX]), Tol::LOOSE).is_err());
        assert!(
            close(
                &d(vec![f32::INFINITY]),
                &d(vec![f32::NEG_INFINITY]),
                Tol::VALUE
            )
            .is_err()
        );
    }

    #[test]
    fn tolerances() {
        let one_ulp = f32::from_bits(1.0f32.to_bits() + 1);
        assert!(close(&d(vec![one_ulp]), &d(vec![1.0]), Tol::EXACT).is_err());
        assert!(close(&d(vec![one_ulp]), &d(vec![1.0]), Tol::VALUE).is_err());
        assert!(close(&d(vec![one_ulp]), &d(vec![1.0]), Tol::TRANS).is_ok());
        assert!(close(&d(vec![1.01]), &d(vec![1.0]), Tol::TRANS).is_err());
        assert!(close(&d(vec![1.0001]), &d(vec![1.0]), Tol::LOOSE).is_ok());
        // ULPs across zero.
        assert_eq!(ulp_distance_f32(-0.0, 0.0), 0);
        assert_eq!(ulp_distance_f32(f32::from_bits(1), -f32::from_bits(1)), 2);
    }

    #[test]
    fn shape_and_kind_mismatches() {
        assert!(
            close(
                &d(vec![1.0, 2.0]),
                &TensorData::new(vec![1.0f32, 2.0], [2, 1]),
                Tol::LOOSE
            )
            .is_err()
        );
        let ints = TensorData::new(vec![1i64, 2], [2]);
        let ints32 = TensorData::new(vec![1i32, 2], [2]);
        assert!(close(&ints32, &ints, Tol::EXACT).is_ok());
        assert!(close(&d(vec![1.0, 2.0]), &ints, Tol::EXACT).is_err());
        let ints_bad = TensorData::new(vec![1i32, 3], [2]);
        assert!(close(&ints_bad, &ints, Tol::LOOSE).is_err());
    }
}
