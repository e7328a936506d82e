//! BoolTensorOps: not/and/or/xor/equal/not_equal (fused on pinn-jit), casts to int and float,
//! any/all, argwhere, mask_where on bools, and data movement (cat, flip, transpose, select,
//! slice, expand, repeat, gather), with broadcasting.

use backend_tests::*;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor, TensorData};
use proptest::prelude::*;

const CASES: u32 = 24;

fn bool_pair() -> BoxedStrategy<(Data, Data)> {
    broadcast_shapes::<3>()
        .prop_flat_map(|(a, b)| (bool_tensor_of(a), bool_tensor_of(b)))
        .boxed()
}

/// Non-zero sizes: zero-size bool tensors are in `zero_size_bool_ops`.
fn bools3() -> BoxedStrategy<Data> {
    shape::<3>(false)
        .prop_flat_map(|s| bool_tensor_of(s.to_vec()))
        .boxed()
}

macro_rules! bool_binary {
    ($name:ident, |$a:ident, $b:ident| $body:expr) => {
        #[test]
        fn $name() {
            fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
                let $a: Tensor<B, 3, Bool> = bt::<B, 3>(a);
                let $b: Tensor<B, 3, Bool> = bt::<B, 3>(b);
                ($body).into_data()
            }
            run(CASES, bool_pair(), |(a, b)| {
                triple!(prog, Tol::EXACT, &a, &b)
            });
        }
    };
}

macro_rules! bool_unary {
    ($name:ident, |$x:ident| $body:expr) => {
        #[test]
        fn $name() {
            fn prog<B: Backend>(d: &TensorData) -> TensorData {
                let $x: Tensor<B, 3, Bool> = bt::<B, 3>(d);
                ($body).into_data()
            }
            run(CASES, bools3(), |d| triple!(prog, Tol::EXACT, &d));
        }
    };
}

bool_binary!(and, |a, b| a.bool_and(b));
bool_binary!(or, |a, b| a.bool_or(b));
bool_binary!(xor, |a, b| a.bool_xor(b));
bool_binary!(equal, |a, b| a.equal(b));
bool_binary!(not_equal, |a, b| a.not_equal(b));
bool_binary!(mixed_chain, |a, b| a
    .clone()
    .bool_and(b.clone().bool_not())
    .bool_or(a.equal(b.clone()))
    .bool_xor(b));
bool_binary!(mask_where_bool, |a, b| {
    let m = a.clone().bool_xor(b.clone());
    a.mask_where(m, b)
});
bool_binary!(to_float_arith, |a, b| a.float() * 2.0 - b.float());

bool_unary!(not, |x| x.bool_not());
bool_unary!(not_not, |x| x.bool_not().bool_not());
bool_unary!(into_int, |x| x.int());
bool_unary!(into_float, |x| x.float());
bool_unary!(int_sum, |x| x.int().sum_dim(1));
bool_unary!(any_all, |x| x.clone().any().bool_or(x.all()));
bool_unary!(any_dim, |x| x.any_dim(0));
bool_unary!(all_dim, |x| x.all_dim(2));
bool_unary!(equal_elem, |x| x.equal_elem(true));
bool_unary!(flip_transpose, |x| x.flip([0, 1]).transpose().bool_not());
bool_unary!(cat_repeat, |x| Tensor::cat(
    vec![x.clone(), x.repeat_dim(2, 2)],
    2
));
bool_unary!(swap_permute, |x| x.permute([1, 2, 0]).swap_dims(0, 2));

#[test]
fn argwhere_and_nonzero() {
    fn prog<B: Backend>(d: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 3, Bool> = bt(d);
        let mut out = vec![x.clone().argwhere().into_data()];
        out.extend(x.nonzero().into_iter().map(|t| t.into_data()));
        out
    }
    run(CASES, bools3(), |d| triple!(prog, Tol::EXACT, &d));
}

#[test]
fn bool_indexing() {
    fn prog<B: Backend>(d: &TensorData, idx: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 2, Bool> = bt(d);
        let idx: Tensor<B, 1, Int> = it(idx);
        let [m, n] = x.dims();
        let g_idx: Tensor<B, 2, Int> = idx.clone().reshape([1, 3]).repeat_dim(0, m);
        vec![
            x.clone().select(1, idx).into_data(),
            x.clone().gather(1, g_idx).into_data(),
            x.clone().slice([0..m, 0..n.min(2)]).into_data(),
            x.clone()
                .slice_assign(
                    [0..1, 0..1],
                    Tensor::<B, 2, Bool>::from_data([[true]], &dev::<B>()),
                )
                .into_data(),
            x.clone().reshape([1, m * n]).expand([3, m * n]).into_data(),
        ]
    }
    let strat = shape::<2>(false).prop_flat_map(|s| {
        (
            bool_tensor_of(s.to_vec()),
            int_tensor_of(vec![3], 0, s[1] as i64 - 1),
        )
    });
    run(CASES, strat, |(d, idx)| triple!(prog, Tol::EXACT, &d, &idx));
}

/// Bool masks from float comparisons, combined and used to select (a fused chain crossing
/// float → bool → float).
#[test]
fn comparison_masks_combined() {
    fn prog<B: Backend>(a: &TensorData, b: &TensorData) -> TensorData {
        let a: Tensor<B, 3> = ft(a);
        let b: Tensor<B, 3> = ft(b);
        let m1 = a.clone().greater_elem(0.0);
        let m2 = b.clone().lower_equal(a.clone());
        let m = m1
            .clone()
            .bool_and(m2.bool_not())
            .bool_or(m1.equal(b.clone().is_nan()));
        (a.mask_where(m.clone(), b) + m.float()).into_data()
    }
    run(
        CASES,
        broadcast_pair::<3>(float_no_nan(5.0), float_no_nan(5.0)),
        |(a, b)| triple!(prog, Tol::EXACT, &a, &b),
    );
}

/// Zero-size bool tensors: `equal_elem` panics on PinnJitBackend (fusion server `CallError`)
/// where PinnCpu returns an empty tensor; `any_dim`/`all_dim` panic on PinnCpu (burn-flex).
#[test]
fn zero_size_bool_ops() {
    fn prog<B: Backend>(d: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 3, Bool> = bt(d);
        vec![
            x.clone().equal_elem(true).into_data(),
            x.clone().any_dim(0).into_data(),
            x.all_dim(2).into_data(),
        ]
    }
    let d = TensorData::new(Vec::<bool>::new(), [0, 0, 0]);
    triple!(prog, Tol::EXACT, &d).unwrap();
}
