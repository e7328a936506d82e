//! Comparisons (tensor/tensor with broadcasting and tensor/scalar), with NaN, ±inf and ±0 in
//! the values, their use as masks (mask_where, mask_fill, bool→float casts), and the
//! closeness helpers built on them.

use backend_tests::*;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};
use proptest::prelude::*;

const CASES: u32 = 24;

/// Values drawn from a small set so that equal pairs are frequent, plus the specials.
fn clustered() -> BoxedStrategy<f32> {
    prop_oneof![
        3 => proptest::sample::select(vec![-2.0f32, -1.0, 0.0, -0.0, 1.0, 2.0]),
        1 => float_any(3.0),
    ]
    .boxed()
}

/// [`clustered`] without NaN.
///
/// ndarray 0.21's SIMD comparisons mis-handle NaN at some positions (`NaN == -1.0` reads
/// `true` for the NaN at index 29 of a [2, 4, 4] tensor), a reference-backend bug: with NaN in
/// the inputs pinn-jit is checked against the eager path and the host instead.
fn clustered_no_nan() -> BoxedStrategy<f32> {
    prop_oneof![
        3 => proptest::sample::select(vec![-2.0f32, -1.0, 0.0, -0.0, 1.0, 2.0]),
        1 => float_no_nan(3.0),
    ]
    .boxed()
}

macro_rules! cmp {
    ($name:ident, |$a:ident, $b:ident| $body:expr) => {
        #[test]
        fn $name() {
            fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
                let $a: Tensor<B, 3> = ft::<B, 3>(a);
                let $b: Tensor<B, 3> = ft::<B, 3>(b);
                ($body).into_data()
            }
            run(
                CASES,
                broadcast_pair::<3>(clustered_no_nan(), clustered_no_nan()),
                |(a, b)| {
                    triple!(prog, Tol::EXACT, &a, &b)?;
                    let (a64, b64) = (to_dtype(&a, DType::F64), to_dtype(&b, DType::F64));
                    triple!(prog, Tol::EXACT, &a64, &b64)
                },
            );
            run(
                CASES,
                broadcast_pair::<3>(clustered(), clustered()),
                |(a, b)| {
                    pair!(prog, Jit, Eager, Tol::EXACT, &a, &b)?;
                    let (a64, b64) = (to_dtype(&a, DType::F64), to_dtype(&b, DType::F64));
                    pair!(prog, Jit, Eager, Tol::EXACT, &a64, &b64)
                },
            );
        }
    };
}

macro_rules! cmp_scalar {
    ($name:ident, |$a:ident, $s:ident| $body:expr) => {
        #[test]
        fn $name() {
            fn prog<B: Backend>(a: &TensorData, $s: f32) -> TensorData {
                let $a: Tensor<B, 3> = ft::<B, 3>(a);
                ($body).into_data()
            }
            let scalars = proptest::sample::select(vec![
                -1.0f32,
                0.0,
                -0.0,
                1.0,
                2.0,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NAN,
            ]);
            let scalars_no_nan = scalars.clone().prop_filter("no NaN", |s| !s.is_nan());
            run(
                CASES,
                (tensor::<3>(true, clustered_no_nan()), scalars_no_nan),
                |(a, s)| {
                    triple!(prog, Tol::EXACT, &a, s)?;
                    triple!(prog, Tol::EXACT, &to_dtype(&a, DType::F64), s)
                },
            );
            run(
                CASES,
                (tensor::<3>(true, clustered()), scalars),
                |(a, s)| {
                    pair!(prog, Jit, Eager, Tol::EXACT, &a, s)?;
                    pair!(prog, Jit, Eager, Tol::EXACT, &to_dtype(&a, DType::F64), s)
                },
            );
        }
    };
}

cmp!(equal, |a, b| a.equal(b));
cmp!(not_equal, |a, b| a.not_equal(b));
cmp!(greater, |a, b| a.greater(b));
cmp!(greater_equal, |a, b| a.greater_equal(b));
cmp!(lower, |a, b| a.lower(b));
cmp!(lower_equal, |a, b| a.lower_equal(b));
cmp!(compare_then_float, |a, b| a.greater(b).float());
cmp!(compare_then_int, |a, b| a.lower_equal(b).int());
cmp!(compare_and_or, |a, b| {
    let g = a.clone().greater(b.clone());
    let e = a.clone().equal(b.clone());
    let l = a.lower(b);
    g.bool_and(e.clone()).bool_or(l.bool_not()).bool_xor(e)
});
cmp!(select_by_mask, |a, b| {
    let m = a.clone().greater_equal(b.clone());
    a.mask_where(m.bool_not(), b)
});
cmp!(max_pair_via_mask, |a, b| {
    // Tensor::max_pair is mask_where(lower(a, b), b): NaN comparisons are false, so a NaN in
    // `a` is kept and a NaN in `b` is dropped, on every backend.
    a.max_pair(b)
});
cmp!(min_pair_via_mask, |a, b| a.min_pair(b));
cmp!(is_close, |a, b| a.is_close(b, Some(1e-3), Some(1e-3)));
cmp!(mask_float_arith, |a, b| {
    let m = a.clone().lower(b.clone()).float().cast(a.dtype());
    m.clone() * a + (m.neg() + 1.0) * b
});

cmp_scalar!(equal_elem, |a, s| a.equal_elem(s));
cmp_scalar!(not_equal_elem, |a, s| a.not_equal_elem(s));
cmp_scalar!(greater_elem, |a, s| a.greater_elem(s));
cmp_scalar!(greater_equal_elem, |a, s| a.greater_equal_elem(s));
cmp_scalar!(lower_elem, |a, s| a.lower_elem(s));
cmp_scalar!(lower_equal_elem, |a, s| a.lower_equal_elem(s));
cmp_scalar!(mask_fill_scalar, |a, s| {
    let m = a.clone().greater_elem(0.5);
    a.mask_fill(m, s)
});
cmp_scalar!(mask_fill_nan_positions, |a, s| {
    let m = a.clone().is_nan();
    a.mask_fill(m, s)
});

/// `all_close` / `contains_nan` reduce the comparisons to a single boolean.
#[test]
fn all_close_and_contains_nan() {
    fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> Vec<TensorData> {
        let a: Tensor<B, 3> = ft(a);
        let b: Tensor<B, 3> = ft(b);
        let all_close = a.clone().all_close(b.clone(), Some(1e-2), Some(1e-2));
        vec![
            TensorData::new(vec![all_close], [1]),
            a.clone().contains_nan().into_data(),
            a.equal(b).all().into_data(),
        ]
    }
    run(
        CASES,
        tensor_pair::<3>(true, clustered(), clustered()),
        |(a, b)| triple!(prog, Tol::EXACT, &a, &b),
    );
}

/// Comparisons of the NaN/inf/zero grid against itself: every pair of specials.
#[test]
fn specials_grid() {
    fn prog<B: Backend>(a: &TensorData) -> Vec<TensorData> {
        let a: Tensor<B, 1> = ft(a);
        let n = a.dims()[0];
        let col: Tensor<B, 2> = a.clone().reshape([n, 1]);
        let row: Tensor<B, 2> = a.reshape([1, n]);
        vec![
            col.clone().equal(row.clone()).into_data(),
            col.clone().greater(row.clone()).into_data(),
            col.clone().greater_equal(row.clone()).into_data(),
            col.clone().lower(row.clone()).into_data(),
            col.clone().lower_equal(row.clone()).into_data(),
            col.not_equal(row).into_data(),
        ]
    }
    let d = TensorData::new(SPECIALS.to_vec(), [SPECIALS.len()]);
    let n = SPECIALS.len();
    let grid = |f: fn(f32, f32) -> bool| {
        let v: Vec<bool> = (0..n * n)
            .map(|k| f(SPECIALS[k / n], SPECIALS[k % n]))
            .collect();
        TensorData::new(v, [n, n])
    };
    let oracle = vec![
        grid(|a, b| a == b),
        grid(|a, b| a > b),
        grid(|a, b| a >= b),
        grid(|a, b| a < b),
        grid(|a, b| a <= b),
        grid(|a, b| a != b),
    ];
    compare("jit vs host", prog::<Jit>(&d), oracle.clone(), Tol::EXACT).unwrap();
    compare(
        "jit vs host",
        prog::<Jit>(&to_dtype(&d, DType::F64)),
        oracle,
        Tol::EXACT,
    )
    .unwrap();
    pair!(prog, Jit, Eager, Tol::EXACT, &d).unwrap();
}
