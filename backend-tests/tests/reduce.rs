//! Reductions, scans, sorting and matrix products (the operations that run eagerly on burn-flex
//! and sit between fused chains): sums, means, products, extrema and their indices, cumulative
//! ops, variance, any/all, sort/argsort/topk, matmul (2-D, batched with broadcast, transposed
//! operands). Summation order may differ between backends: compared within [`Tol::REDUCE`].

use backend_tests::*;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};
use proptest::prelude::*;

const CASES: u32 = 24;

/// Small integers as floats: many ties, exact sums.
fn ints_as_floats() -> BoxedStrategy<f32> {
    (-4i32..=4).prop_map(|v| v as f32).boxed()
}

/// `reduce!(name, allow_zero, values, tol, |x, dim| expr)`: `x` is rank 3, `dim` in 0..3.
macro_rules! reduce {
    ($name:ident, $zero:expr, $values:expr, $tol:expr, |$x:ident, $d:ident| $body:expr) => {
        #[test]
        fn $name() {
            fn prog<B: Backend>(data: &TensorData, $d: usize) -> TensorData {
                let $x: Tensor<B, 3> = ft::<B, 3>(data);
                ($body).into_data()
            }
            run(CASES, (tensor::<3>($zero, $values), 0usize..3), |(x, d)| {
                triple!(prog, $tol, &x, d)?;
                triple!(prog, $tol, &to_dtype(&x, DType::F64), d)
            });
        }
    };
}

reduce!(sum, true, float_in(-10.0, 10.0), Tol::REDUCE, |x, _d| x
    .sum());
reduce!(sum_dim, true, float_in(-10.0, 10.0), Tol::REDUCE, |x, d| x
    .sum_dim(d));
reduce!(mean, false, float_in(-10.0, 10.0), Tol::REDUCE, |x, _d| x
    .mean());
reduce!(
    mean_dim,
    false,
    float_in(-10.0, 10.0),
    Tol::REDUCE,
    |x, d| x.mean_dim(d)
);
reduce!(prod, true, float_in(-2.0, 2.0), Tol::REDUCE, |x, _d| x
    .prod());
reduce!(prod_dim, true, float_in(-2.0, 2.0), Tol::REDUCE, |x, d| x
    .prod_dim(d));
reduce!(max, false, float_no_nan(10.0), Tol::EXACT, |x, _d| x.max());
reduce!(min, false, float_no_nan(10.0), Tol::EXACT, |x, _d| x.min());
reduce!(max_dim, false, float_no_nan(10.0), Tol::EXACT, |x, d| x
    .max_dim(d));
reduce!(min_dim, false, float_no_nan(10.0), Tol::EXACT, |x, d| x
    .min_dim(d));
reduce!(max_abs, false, float_no_nan(10.0), Tol::EXACT, |x, _d| x
    .max_abs());
reduce!(
    max_abs_dim,
    false,
    float_no_nan(10.0),
    Tol::EXACT,
    |x, d| x.max_abs_dim(d)
);
reduce!(argmax_ties, false, ints_as_floats(), Tol::EXACT, |x, d| x
    .argmax(d));
reduce!(argmin_ties, false, ints_as_floats(), Tol::EXACT, |x, d| x
    .argmin(d));
reduce!(argmax, false, float_in(-10.0, 10.0), Tol::EXACT, |x, d| x
    .argmax(d));
reduce!(argmin, false, float_in(-10.0, 10.0), Tol::EXACT, |x, d| x
    .argmin(d));
reduce!(cumsum, true, float_in(-10.0, 10.0), Tol::REDUCE, |x, d| x
    .cumsum(d));
reduce!(cumprod, true, float_in(-2.0, 2.0), Tol::REDUCE, |x, d| x
    .cumprod(d));
reduce!(cummax, true, float_no_nan(10.0), Tol::EXACT, |x, d| x
    .cummax(d));
reduce!(cummin, true, float_no_nan(10.0), Tol::EXACT, |x, d| x
    .cummin(d));
reduce!(var, false, float_in(-10.0, 10.0), Tol::REDUCE, |x, d| x
    .var(d));
reduce!(
    var_bias,
    false,
    float_in(-10.0, 10.0),
    Tol::REDUCE,
    |x, d| x.var_bias(d)
);
reduce!(sort, true, float_no_nan(10.0), Tol::EXACT, |x, d| x.sort(d));
reduce!(
    sort_descending,
    true,
    float_no_nan(10.0),
    Tol::EXACT,
    |x, d| x.sort_descending(d)
);
reduce!(
    argsort_distinct,
    true,
    float_in(-10.0, 10.0),
    Tol::EXACT,
    |x, d| x.argsort(d)
);
reduce!(any_dim, false, ints_as_floats(), Tol::EXACT, |x, d| x
    .bool()
    .any_dim(d));
reduce!(all_dim, false, ints_as_floats(), Tol::EXACT, |x, d| x
    .bool()
    .all_dim(d));
reduce!(any, true, ints_as_floats(), Tol::EXACT, |x, _d| x
    .bool()
    .any());
reduce!(all, true, ints_as_floats(), Tol::EXACT, |x, _d| x
    .bool()
    .all());
// ndarray 0.21 treats some NaN as zero in `all_dim` (reference bug): NaN-free here, NaN
// through the eager path in `float_any_all_nan`.
reduce!(
    float_any_dim,
    true,
    float_no_nan(10.0),
    Tol::EXACT,
    |x, d| x.any_dim(d)
);
reduce!(
    float_all_dim,
    true,
    float_no_nan(10.0),
    Tol::EXACT,
    |x, d| x.all_dim(d)
);

#[test]
fn float_any_all_nan() {
    fn prog<B: Backend>(x: &TensorData, d: usize) -> (TensorData, TensorData) {
        let x: Tensor<B, 3> = ft(x);
        (x.clone().any_dim(d).into_data(), x.all_dim(d).into_data())
    }
    run(
        CASES,
        (tensor::<3>(false, float_any(10.0)), 0usize..3),
        |(x, d)| pair!(prog, Jit, Eager, Tol::EXACT, &x, d),
    );
}
reduce!(
    softmax_like,
    false,
    float_in(-20.0, 20.0),
    Tol::new(1e-5, 1e-6),
    |x, d| {
        let m = x.clone().max_dim(d);
        let e = (x - m).exp();
        e.clone() / e.sum_dim(d)
    }
);
reduce!(
    logsumexp,
    false,
    float_in(-20.0, 20.0),
    Tol::new(1e-5, 1e-5),
    |x, d| {
        let m = x.clone().max_dim(d);
        (x - m.clone()).exp().sum_dim(d).log() + m
    }
);

/// Stable argsort on ties: burn-flex and ndarray both keep equal keys in index order.
#[test]
fn argsort_ties() {
    fn prog<B: Backend>(x: &TensorData, d: usize) -> (TensorData, TensorData) {
        let x: Tensor<B, 3> = ft(x);
        (
            x.clone().argsort(d).into_data(),
            x.sort_with_indices(d).1.into_data(),
        )
    }
    run(
        CASES,
        (tensor::<3>(false, ints_as_floats()), 0usize..3),
        |(x, d)| triple!(prog, Tol::EXACT, &x, d),
    );
}

/// max/min with their indices; topk and its indices (distinct values, so indices are unique).
#[test]
fn with_indices_and_topk() {
    fn prog<B: Backend>(x: &TensorData, d: usize) -> Vec<TensorData> {
        let x: Tensor<B, 3> = ft(x);
        let (mx, imx) = x.clone().max_dim_with_indices(d);
        let (mn, imn) = x.clone().min_dim_with_indices(d);
        let k = x.dims()[d] - 1;
        let (tk, itk) = x.clone().topk_with_indices(k, d);
        vec![
            mx.into_data(),
            imx.into_data(),
            mn.into_data(),
            imn.into_data(),
            tk.into_data(),
            itk.into_data(),
            x.topk(k, d).into_data(),
        ]
    }
    let shapes = shape::<3>(false).prop_filter("topk needs dim > 1", |s| s.iter().all(|&n| n > 1));
    run(
        CASES,
        shapes.prop_flat_map(|s| (tensor_of(s.to_vec(), float_in(-10.0, 10.0)), 0usize..3)),
        |(x, d)| triple!(prog, Tol::EXACT, &x, d),
    );
}

/// Reductions of results of fused chains, and chains on reduction results.
#[test]
fn chains_around_reductions() {
    fn prog<B: Backend>(x: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 3> = ft(x);
        let y = (x.clone() * 0.5 + 1.0).tanh();
        let s = y.clone().sum_dim(2);
        let z = (s.clone() * 2.0 - y.clone()).exp() / (s.clone().abs() + 1.0);
        vec![
            s.into_data(),
            z.clone().into_data(),
            z.mean_dim(1).sqrt().into_data(),
            (y.clone().max_dim(0) - y.min_dim(0)).into_data(),
        ]
    }
    run(CASES, tensor::<3>(false, float_in(-5.0, 5.0)), |x| {
        triple!(prog, Tol::new(1e-5, 1e-5), &x)
    });
}

/// Sums whose order matters (large cancellation) stay within a bound relative to the sum of
/// magnitudes.
#[test]
fn sum_cancellation_bound() {
    fn prog<B: Backend>(x: &TensorData) -> TensorData {
        ft::<B, 1>(x).sum().into_data()
    }
    run(CASES, tensor::<1>(false, float_in(-1e4, 1e4)), |x| {
        let mag: f64 = x.iter::<f64>().map(f64::abs).sum();
        let tol = Tol::new(0.0, 1e-6 * mag + 1e-6);
        triple!(prog, tol, &x)
    });
}

/// `matmul`: 2-D with random sizes (zero-size included), compared within a tolerance scaled by
/// the inner dimension.
#[test]
fn matmul_2d() {
    fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
        ft::<B, 2>(a).matmul(ft::<B, 2>(b)).into_data()
    }
    let dims = (0usize..7, 0usize..9, 0usize..7);
    run(
        CASES,
        dims.prop_flat_map(|(m, k, n)| {
            (
                tensor_of(vec![m, k], float_in(-2.0, 2.0)),
                tensor_of(vec![k, n], float_in(-2.0, 2.0)),
            )
        }),
        |(a, b)| {
            triple!(prog, Tol::REDUCE, &a, &b)?;
            triple!(
                prog,
                Tol::new(1e-10, 1e-10),
                &to_dtype(&a, DType::F64),
                &to_dtype(&b, DType::F64)
            )
        },
    );
}

/// `matmul`: batched rank 4 with broadcast batch dims, and transposed (non-contiguous) operands.
#[test]
fn matmul_batched_broadcast_transposed() {
    fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> Vec<TensorData> {
        let a: Tensor<B, 4> = ft(a);
        let b: Tensor<B, 4> = ft(b);
        let ab = a.clone().matmul(b.clone());
        // (B^T A^T)^T == A B, with transposed views as inputs.
        let bt_at = b.transpose().matmul(a.transpose()).transpose();
        vec![ab.into_data(), bt_at.into_data()]
    }
    // Batch dims are non-zero: see `matmul_zero_batch_broadcast` (segfault).
    let dims = (
        broadcast_shapes::<2>()
            .prop_filter("no zero batch", |(a, b)| !a.contains(&0) && !b.contains(&0)),
        1usize..5,
        1usize..6,
        1usize..5,
    );
    run(
        CASES,
        dims.prop_flat_map(|((ba, bb), m, k, n)| {
            (
                tensor_of(vec![ba[0], ba[1], m, k], float_in(-2.0, 2.0)),
                tensor_of(vec![bb[0], bb[1], k, n], float_in(-2.0, 2.0)),
            )
        }),
        |(a, b)| triple!(prog, Tol::REDUCE, &a, &b),
    );
}

/// Matmul with NaN/inf entries: propagation must match.
#[test]
fn matmul_specials() {
    fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
        ft::<B, 2>(a).matmul(ft::<B, 2>(b)).into_data()
    }
    run(
        CASES,
        (
            tensor_of(vec![3, 4], float_any(2.0)),
            tensor_of(vec![4, 2], float_in(-2.0, 2.0)),
        ),
        |(a, b)| {
            // f32::MAX products overflow differently depending on summation order: only
            // NaN/inf classes and finite values within tolerance are compared.
            triple!(prog, Tol::new(1e-3, 1e-3), &a, &b)
        },
    );
}

/// Reductions over NaN: sum/mean/prod propagate NaN.
#[test]
fn nan_propagation_in_sums() {
    fn prog<B: Backend>(x: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft(x);
        vec![
            x.clone().sum_dim(1).into_data(),
            x.clone().mean_dim(0).into_data(),
            x.clone().prod_dim(1).into_data(),
            x.cumsum(1).into_data(),
        ]
    }
    let d = TensorData::new(
        vec![
            1.0f32,
            f32::NAN,
            2.0,
            3.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            1.0,
            2.0,
        ],
        [3, 3],
    );
    triple!(prog, Tol::REDUCE, &d).unwrap();
}

/// `any_dim`/`all_dim` over tensors with a zero-size dim: ndarray and PinnJitBackend return
/// (empty or reduced) results, PinnCpu panics in burn-flex (`comparison.rs:995`, index out of
/// bounds). Minimal: `Tensor::<PinnCpu, 3>::zeros([0, 0, 1]).bool().any_dim(2)`.
#[test]
fn any_all_dim_zero_size_eager() {
    fn prog<B: Backend>(x: &TensorData, d: usize) -> (TensorData, TensorData) {
        let x: Tensor<B, 3> = ft(x);
        (
            x.clone().any_dim(d).into_data(),
            x.bool().all_dim(d).into_data(),
        )
    }
    for shape in [[0usize, 0, 1], [0, 1, 0], [2, 0, 3]] {
        let x = TensorData::new(Vec::<f32>::new(), shape);
        for d in 0..3 {
            triple!(prog, Tol::EXACT, &x, d).unwrap();
        }
    }
}

/// Batched matmul where a zero-size batch dim broadcasts against 1: `[0, 1, 1, 1] x [1, 1, 1,
/// 1]` segfaults in burn-flex's matmul, on PinnCpu and on PinnJitBackend (ndarray panics
/// cleanly). Run alone: a segfault kills the whole test binary.
#[test]
fn matmul_zero_batch_broadcast() {
    let dev = dev::<Jit>();
    let a = Tensor::<Jit, 4>::ones([0, 1, 1, 1], &dev);
    let b = Tensor::<Jit, 4>::ones([1, 1, 1, 1], &dev);
    assert_eq!(a.matmul(b).dims(), [0, 1, 1, 1]);
}
