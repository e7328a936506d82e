//! Non-contiguous inputs to fused element-wise chains: transposed, permuted, sliced (with
//! steps and negative steps), expanded (stride 0), flipped, swapped and narrowed views, alone
//! and combined with broadcasting, plus views of chain outputs and views that alias the same
//! buffer on both sides of a binary op.

use backend_tests::*;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData, s};
use proptest::prelude::*;

const CASES: u32 = 24;

/// Apply view number `v` to a rank-3 tensor, keeping the rank.
fn view<B: Backend>(v: u8, x: Tensor<B, 3>) -> Tensor<B, 3> {
    match v % 8 {
        0 => x,
        1 => x.transpose(),
        2 => x.permute([2, 0, 1]),
        3 => x.flip([0, 2]),
        4 => x.swap_dims(0, 1),
        5 => x.slice(s![.., ..;2, ..]),
        6 => x.slice(s![..;-1, .., ..;-2]),
        _ => {
            let [a, b, c] = x.dims();
            x.slice([0..a, 0..b, 0..c.min(2)])
        }
    }
}

#[test]
fn unary_chain_on_views() {
    fn prog<B: Backend>(x: &TensorData, v: u8) -> TensorData {
        let x = view(v, ft::<B, 3>(x));
        ((x.clone() * 2.0 + 1.0).tanh() - x.abs()).into_data()
    }
    run(
        CASES * 2,
        (tensor::<3>(true, float_any(10.0)), any::<u8>()),
        |(x, v)| {
            triple!(prog, Tol::TRANS, &x, v)?;
            triple!(prog, Tol::ulps(16, 1e-14), &to_dtype(&x, DType::F64), v)
        },
    );
}

/// Binary ops where each operand is a different view of a different tensor of the same base
/// shape `[n, n, n]` (all views keep the shape), and where both operands view one buffer.
#[test]
fn binary_on_two_views() {
    fn prog<B: Backend>(a: &TensorData, b: &TensorData, va: u8, vb: u8) -> Vec<TensorData> {
        let a = ft::<B, 3>(a);
        let b = ft::<B, 3>(b);
        let (x, y) = (view(va % 5, a.clone()), view(vb % 5, b));
        let z = view(vb % 5, a.clone());
        vec![
            (x.clone() * y.clone() - y.clone()).into_data(),
            x.clone().greater(y.clone()).into_data(),
            (x.clone() + z.clone()).into_data(),
            x.mask_where(z.lower_elem(0.0), y).into_data(),
        ]
    }
    let strat = (1usize..5).prop_flat_map(|n| {
        (
            tensor_of(vec![n, n, n], float_any(10.0)),
            tensor_of(vec![n, n, n], float_any(10.0)),
            any::<u8>(),
            any::<u8>(),
        )
    });
    run(CASES * 2, strat, |(a, b, va, vb)| {
        triple!(prog, Tol::EXACT, &a, &b, va, vb)
    });
}

/// Expanded operands (stride-0 dims) in chains, and a chain whose output is expanded again.
#[test]
fn expand_in_chains() {
    fn prog<B: Backend>(row: &TensorData, col: &TensorData) -> Vec<TensorData> {
        let row: Tensor<B, 2> = ft(row);
        let col: Tensor<B, 2> = ft(col);
        let [_, n] = row.dims();
        let [m, _] = col.dims();
        let r = row.clone().expand([m, n]);
        let c = col.clone().expand([m, n]);
        let y = (r.clone() * c.clone() + r).exp().clamp_max(1e6);
        let z: Tensor<B, 3> = (row * 2.0).unsqueeze_dim::<3>(0).expand([2, m, n]);
        vec![y.into_data(), (z.clone() - 1.0).into_data(), c.into_data()]
    }
    // `expand` to a 0 size is rejected by Burn's API on every backend.
    let strat = (1usize..5, 1usize..5).prop_flat_map(|(m, n)| {
        (
            tensor_of(vec![1, n], float_in(-3.0, 3.0)),
            tensor_of(vec![m, 1], float_in(-3.0, 3.0)),
        )
    });
    run(CASES, strat, |(r, c)| triple!(prog, Tol::TRANS, &r, &c));
}

/// Views taken of chain outputs, then fed to a second chain; the first chain's output stays
/// readable.
#[test]
fn views_of_chain_outputs() {
    fn prog<B: Backend>(x: &TensorData, v: u8) -> Vec<TensorData> {
        let x: Tensor<B, 3> = ft(x);
        let y = x.clone() * 3.0 - 1.0;
        let w = view(v, y.clone());
        let z = (w.clone() + 0.5).abs().neg();
        vec![z.into_data(), w.into_data(), y.into_data(), x.into_data()]
    }
    run(
        CASES,
        (tensor::<3>(true, float_any(10.0)), any::<u8>()),
        |(x, v)| triple!(prog, Tol::EXACT, &x, v),
    );
}

/// Broadcasting combined with a transposed operand: `[a, b] + [b, 1]^T`.
#[test]
fn broadcast_with_transposed_operand() {
    fn prog<B: Backend>(x: &TensorData, y: &TensorData) -> TensorData {
        let x: Tensor<B, 2> = ft(x);
        let y: Tensor<B, 2> = ft(y);
        (x * y.clone().transpose() + y.transpose().exp()).into_data()
    }
    let strat = (0usize..5, 0usize..5).prop_flat_map(|(a, b)| {
        (
            tensor_of(vec![a, b], float_in(-3.0, 3.0)),
            tensor_of(vec![b, 1], float_in(-3.0, 3.0)),
        )
    });
    run(CASES, strat, |(x, y)| triple!(prog, Tol::TRANS, &x, &y));
}

/// Zero-size tensors through chains, views and broadcasts.
#[test]
fn zero_size_chains() {
    fn prog<B: Backend>(x: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 3> = ft(x);
        let y = (x.clone().exp() * 2.0 + 1.0).greater_elem(0.0);
        let z = x.clone().transpose().sqrt();
        vec![y.into_data(), z.into_data(), (x.clone() + x).into_data()]
    }
    let strat = shape::<3>(true)
        .prop_filter("zero-size", |s| s.contains(&0))
        .prop_flat_map(|s| tensor_of(s.to_vec(), float_any(1.0)));
    run(CASES, strat, |x| triple!(prog, Tol::EXACT, &x));
}
