//! IntTensorOps: arithmetic (with broadcasting, scalars, division and remainder of mixed
//! signs), comparisons, reductions and scans, sorting, matmul, bitwise ops and shifts, casts
//! between int dtypes and to float, creation (arange, full), and data movement. pinn-jit's
//! default int is i32 and ndarray's i64: values stay within i32 so results are comparable.

use backend_tests::*;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, ElementConversion, Int, Tensor, TensorData};
use proptest::prelude::*;

const CASES: u32 = 24;

fn ints() -> BoxedStrategy<Data> {
    int_tensor::<3>(true, -1000, 1000)
}

/// Two int tensors of broadcast-compatible rank-3 shapes; `nonzero_rhs` keeps `b != 0`.
fn int_pair(nonzero_rhs: bool) -> BoxedStrategy<(Data, Data)> {
    broadcast_shapes::<3>()
        .prop_flat_map(move |(sa, sb)| {
            let b = if nonzero_rhs {
                let n = numel(&sb);
                proptest::collection::vec(prop_oneof![-50i64..=-1, 1i64..=50], n)
                    .prop_map(move |v| Data(TensorData::new(v, sb.clone())))
                    .boxed()
            } else {
                int_tensor_of(sb, -1000, 1000)
            };
            (int_tensor_of(sa, -1000, 1000), b)
        })
        .boxed()
}

macro_rules! int_binary {
    ($name:ident, $nonzero:expr, |$a:ident, $b:ident| $body:expr) => {
        #[test]
        fn $name() {
            fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
                let $a: Tensor<B, 3, Int> = it::<B, 3>(a);
                let $b: Tensor<B, 3, Int> = it::<B, 3>(b);
                ($body).into_data()
            }
            run(CASES, int_pair($nonzero), |(a, b)| {
                triple!(prog, Tol::EXACT, &a, &b)
            });
        }
    };
}

macro_rules! int_unary {
    ($name:ident, $values:expr, |$x:ident| $body:expr) => {
        #[test]
        fn $name() {
            fn prog<B: Backend>(d: &TensorData) -> TensorData {
                let $x: Tensor<B, 3, Int> = it::<B, 3>(d);
                ($body).into_data()
            }
            run(CASES, $values, |d| triple!(prog, Tol::EXACT, &d));
        }
    };
}

int_binary!(add, false, |a, b| a + b);
int_binary!(sub, false, |a, b| a - b);
int_binary!(mul, false, |a, b| a * b);
int_binary!(div, true, |a, b| a / b);
int_binary!(remainder, true, |a, b| a.remainder(b));
int_binary!(equal, false, |a, b| a.equal(b));
int_binary!(greater, false, |a, b| a.greater(b));
int_binary!(lower_equal, false, |a, b| a.lower_equal(b));
int_binary!(max_pair, false, |a, b| a.max_pair(b));
int_binary!(min_pair, false, |a, b| a.min_pair(b));
int_binary!(bitwise_and, false, |a, b| a.bitwise_and(b));
int_binary!(bitwise_or, false, |a, b| a.bitwise_or(b));
int_binary!(bitwise_xor, false, |a, b| a.bitwise_xor(b));
int_binary!(mask_where, false, |a, b| {
    let m = a.clone().greater(b.clone());
    a.mask_where(m, b)
});

int_unary!(neg, ints(), |x| x.neg());
int_unary!(abs, ints(), |x| x.abs());
int_unary!(sign, ints(), |x| x.sign());
int_unary!(add_scalar, ints(), |x| x + 7);
int_unary!(sub_scalar, ints(), |x| x - 7);
int_unary!(mul_scalar, ints(), |x| x * -3);
int_unary!(div_scalar_pos, ints(), |x| x / 7);
int_unary!(div_scalar_neg, ints(), |x| x / -7);
int_unary!(remainder_scalar_pos, ints(), |x| x.remainder_scalar(7));
int_unary!(remainder_scalar_neg, ints(), |x| x.remainder_scalar(-7));
int_unary!(powi_scalar, int_tensor::<3>(true, -30, 30), |x| x
    .powi_scalar(3));
int_unary!(clamp, ints(), |x| x.clamp(-100, 250));
int_unary!(clamp_min, ints(), |x| x.clamp_min(0));
int_unary!(equal_elem, int_tensor::<3>(true, -3, 3), |x| x
    .equal_elem(1));
int_unary!(greater_elem, ints(), |x| x.greater_elem(0));
int_unary!(lower_elem, ints(), |x| x.lower_elem(10));
int_unary!(mask_fill, ints(), |x| {
    let m = x.clone().lower_elem(0);
    x.mask_fill(m, 42)
});
int_unary!(into_float, ints(), |x| x.float());
int_unary!(float_roundtrip, ints(), |x| (x.float() * 0.5).int());
int_unary!(bitwise_not, ints(), |x| x.bitwise_not());
int_unary!(bitwise_scalar, ints(), |x| x
    .clone()
    .bitwise_and_scalar(0x5a.elem())
    .bitwise_or_scalar(3.elem())
    .bitwise_xor_scalar((-1).elem()));
int_unary!(shift_left, int_tensor::<3>(true, -1000, 1000), |x| x
    .bitwise_left_shift_scalar(3.elem()));
int_unary!(shift_right, int_tensor::<3>(true, 0, 100000), |x| x
    .bitwise_right_shift_scalar(2.elem()));
int_unary!(sum_dims, ints(), |x| x.sum_dim(1));
int_unary!(sum, ints(), |x| x.sum());
int_unary!(prod_dim, int_tensor::<3>(true, -4, 4), |x| x.prod_dim(2));
int_unary!(cumsum, ints(), |x| x.cumsum(0));
int_unary!(cumprod, int_tensor::<3>(true, -3, 3), |x| x.cumprod(2));
int_unary!(cummax, ints(), |x| x.cummax(1));
int_unary!(cummin, ints(), |x| x.cummin(1));
int_unary!(max_dim, int_tensor::<3>(false, -1000, 1000), |x| x
    .max_dim(1));
int_unary!(min_dim, int_tensor::<3>(false, -1000, 1000), |x| x
    .min_dim(0));
int_unary!(argmax_ties, int_tensor::<3>(false, -2, 2), |x| x.argmax(2));
int_unary!(argmin_ties, int_tensor::<3>(false, -2, 2), |x| x.argmin(1));
int_unary!(sort, int_tensor::<3>(true, -5, 5), |x| x.sort(2));
int_unary!(argsort_stable, int_tensor::<3>(true, -2, 2), |x| x
    .argsort(1));
// Zero-size: see reduce.rs `any_all_dim_zero_size_eager`.
int_unary!(any_all, int_tensor::<3>(false, -1, 1), |x| x
    .clone()
    .any_dim(0)
    .bool_and(x.all_dim(0)));
int_unary!(flip_transpose, ints(), |x| x
    .flip([0, 2])
    .transpose()
    .swap_dims(0, 1));
int_unary!(repeat_cat, ints(), |x| Tensor::cat(
    vec![x.clone(), x.repeat_dim(1, 2)],
    1
));

/// `mean` of ints: integer division of the sum (truncating) on every backend.
#[test]
fn mean_and_mean_dim() {
    fn prog<B: Backend>(d: &TensorData) -> (TensorData, TensorData) {
        let x: Tensor<B, 3, Int> = it(d);
        (x.clone().mean().into_data(), x.mean_dim(1).into_data())
    }
    run(CASES, int_tensor::<3>(false, 0, 1000), |d| {
        triple!(prog, Tol::EXACT, &d)
    });
}

#[test]
fn int_matmul() {
    fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
        it::<B, 2>(a).matmul(it::<B, 2>(b)).into_data()
    }
    let strat = (1usize..5, 1usize..6, 1usize..5).prop_flat_map(|(m, k, n)| {
        (
            int_tensor_of(vec![m, k], -20, 20),
            int_tensor_of(vec![k, n], -20, 20),
        )
    });
    run(CASES, strat, |(a, b)| triple!(prog, Tol::EXACT, &a, &b));
}

#[test]
fn arange_and_full() {
    fn prog<B: Backend>(start: i64, end: i64, step: usize) -> Vec<TensorData> {
        let dev = dev::<B>();
        vec![
            Tensor::<B, 1, Int>::arange(start..end, &dev).into_data(),
            Tensor::<B, 1, Int>::arange_step(start..end, step, &dev).into_data(),
            Tensor::<B, 2, Int>::full([2, 3], start, &dev).into_data(),
            Tensor::<B, 2, Int>::zeros([2, 0], &dev).into_data(),
            Tensor::<B, 2, Int>::ones([3, 1], &dev).into_data(),
        ]
    }
    run(
        CASES,
        (-20i64..20, 0i64..30, 1usize..4),
        |(s, len, step)| triple!(prog, Tol::EXACT, s, s + len, step),
    );
}

/// Casts between integer dtypes (values within the target range; unsigned from non-negative).
#[test]
fn int_dtype_casts() {
    fn prog<B: Backend>(d: &TensorData, to: DType) -> TensorData {
        let x: Tensor<B, 3, Int> = it(d);
        let y = x.cast(to);
        // Arithmetic in the narrow type, then back to the default.
        (y.clone() + y).cast(DType::I64).into_data()
    }
    for (to, lo, hi) in [
        (DType::I8, -60, 60),
        (DType::I16, -16000, 16000),
        (DType::I32, -100000, 100000),
        (DType::I64, -100000, 100000),
        (DType::U8, 0, 120),
        (DType::U16, 0, 30000),
        (DType::U32, 0, 100000),
        (DType::U64, 0, 100000),
    ] {
        run(CASES / 3, int_tensor::<3>(true, lo, hi), |d| {
            triple!(prog, Tol::EXACT, &d, to)
        });
    }
}

/// Integer data of a non-default dtype created directly (i8 / u8 / i64 values).
#[test]
fn int_from_typed_data() {
    fn prog<B: Backend>(d: &TensorData) -> TensorData {
        let x: Tensor<B, 1, Int> = Tensor::from_data(d.clone(), (&dev::<B>(), d.dtype));
        let dtype = x.dtype();
        let y = x.clone() * 2 + x;
        assert_eq!(y.dtype(), dtype, "int arithmetic changed the dtype");
        y.into_data()
    }
    let i8s = TensorData::new(vec![-40i8, -1, 0, 1, 40], [5]);
    let u8s = TensorData::new(vec![0u8, 1, 2, 40, 80], [5]);
    let i64s = TensorData::new(vec![-(1i64 << 40), -1, 0, 1, 1 << 40], [5]);
    triple!(prog, Tol::EXACT, &i8s).unwrap();
    triple!(prog, Tol::EXACT, &u8s).unwrap();
    triple!(prog, Tol::EXACT, &i64s).unwrap();
}

/// gather / select / slice_assign / scatter on int tensors.
#[test]
fn int_indexing() {
    fn prog<B: Backend>(x: &TensorData, idx: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 2, Int> = it(x);
        let idx: Tensor<B, 1, Int> = it(idx);
        let sel = x.clone().select(1, idx.clone());
        let n = idx.dims()[0];
        let g_idx: Tensor<B, 2, Int> = idx.reshape([1, n]).repeat_dim(0, x.dims()[0]);
        let g = x.clone().gather(1, g_idx.clone());
        let sc = x
            .clone()
            .scatter(1, g_idx, g.clone(), burn::tensor::IndexingUpdateOp::Add);
        let sa = x
            .clone()
            .slice_assign([0..1, 0..1], Tensor::full([1, 1], 9, &dev::<B>()));
        vec![
            sel.into_data(),
            g.into_data(),
            sc.into_data(),
            sa.into_data(),
        ]
    }
    let strat = shape::<2>(false).prop_flat_map(|s| {
        (
            int_tensor_of(s.to_vec(), -100, 100),
            int_tensor_of(vec![3], 0, s[1] as i64 - 1),
        )
    });
    run(CASES, strat, |(x, idx)| triple!(prog, Tol::EXACT, &x, &idx));
}
