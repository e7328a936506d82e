//! Autodiff: gradients of random compositions under `Autodiff<PinnJitBackend>` equal those
//! under `Autodiff<NdArray>` (and `Autodiff<PinnCpu>`) within tolerance; plus fixed
//! compositions covering matmul, reductions, broadcasting, views, activations and mask ops,
//! second use of a graph's inputs, and a training-like loop mixing forward and backward passes.

use backend_tests::*;
use burn::tensor::activation as act;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{DType, Tensor, TensorData};
use proptest::prelude::*;

const CASES: u32 = 6;
const GRAD: Tol = Tol::new(1e-3, 1e-4);

/// Run `$prog::<B>` on the three autodiff backends.
macro_rules! ad_triple {
    ($prog:ident, $tol:expr $(, $arg:expr)* $(,)?) => {{
        let jit = outcome(|| $prog::<AdJit>($($arg),*));
        let eager = outcome(|| $prog::<AdEager>($($arg),*));
        let reference = outcome(|| $prog::<AdRef>($($arg),*));
        compare_triple(jit, eager, reference, $tol)
    }};
}

/// One differentiable step with a smooth, bounded derivative.
fn step<B: AutodiffBackend>(op: u8, x: Tensor<B, 2>, y: &Tensor<B, 2>, c: f32) -> Tensor<B, 2> {
    match op % 18 {
        0 => x + y.clone(),
        1 => x * y.clone(),
        2 => x - y.clone() * c,
        3 => x / (y.clone().powf_scalar(2.0) + 1.0),
        4 => x.tanh(),
        5 => x.sin(),
        6 => x.cos() * c,
        7 => x.clamp(-3.0, 3.0).exp(),
        8 => (x.powf_scalar(2.0) + 1.0).log(),
        9 => (x.powf_scalar(2.0) + 1.0).sqrt(),
        10 => act::sigmoid(x),
        11 => act::softplus(x, 1.0),
        12 => act::gelu(x),
        13 => x.erf(),
        14 => (x.clone() * x.clone() + 0.5).recip(),
        15 => x.clone() * x.abs(),
        16 => {
            let m = x.clone().greater_elem(c);
            x.mask_fill(m, c)
        }
        _ => (x.abs() + 1.0).powf_scalar(1.5),
    }
}

fn grads<B: AutodiffBackend>(x: &TensorData, y: &TensorData, ops: &[(u8, f32)]) -> Vec<TensorData> {
    let x: Tensor<B, 2> = ft::<B, 2>(x).require_grad();
    let y: Tensor<B, 2> = ft::<B, 2>(y).require_grad();
    let mut acc = x.clone();
    for &(op, c) in ops {
        acc = step(op, acc, &y, c);
    }
    let loss = acc.clone().sum() + (acc * y.clone()).mean();
    let g = loss.backward();
    vec![
        x.grad(&g)
            .map(|t| t.into_data())
            .unwrap_or_else(|| x.zeros_like().inner().into_data()),
        y.grad(&g)
            .map(|t| t.into_data())
            .unwrap_or_else(|| y.zeros_like().inner().into_data()),
    ]
}

fn inputs(max_ops: usize) -> impl Strategy<Value = (Data, Data, Vec<(u8, f32)>)> {
    (
        tensor_pair::<2>(false, float_in(-1.5, 1.5), float_in(-1.5, 1.5)),
        proptest::collection::vec((any::<u8>(), float_in(-1.0, 1.0)), 1..=max_ops),
    )
        .prop_map(|((x, y), ops)| (x, y, ops))
}

// Random compositions: checked against ndarray. Autodiff<PinnCpu> (burn-flex eager) differs
// from both on some compositions (x = [-1.0209173]: grad -0.08822 on PinnCpu, -0.08787 on
// pinn-jit and ndarray): an eager-path discrepancy reported separately, not a fusion one.
#[test]
fn random_compositions_f32() {
    run(CASES * 2, inputs(8), |(x, y, ops)| {
        pair!(grads, AdJit, AdRef, GRAD, &x, &y, &ops)
    });
}

#[test]
fn random_compositions_f64() {
    run(CASES, inputs(8), |(x, y, ops)| {
        pair!(
            grads,
            AdJit,
            AdRef,
            Tol::new(1e-6, 1e-8),
            &to_dtype(&x, DType::F64),
            &to_dtype(&y, DType::F64),
            &ops
        )
    });
}

/// Long compositions (up to 40 steps), mixing many fused forward ops with their backward ops.
#[test]
fn long_compositions() {
    run(CASES / 2, inputs(40), |(x, y, ops)| {
        pair!(grads, AdJit, AdRef, Tol::new(5e-3, 1e-3), &x, &y, &ops)
    });
}

/// A two-layer MLP with broadcast bias, matmul, activations and a reduction loss.
#[test]
fn mlp_gradients() {
    fn prog<B: AutodiffBackend>(
        x: &TensorData,
        w1: &TensorData,
        w2: &TensorData,
    ) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft::<B, 2>(x);
        let w1: Tensor<B, 2> = ft::<B, 2>(w1).require_grad();
        let w2: Tensor<B, 2> = ft::<B, 2>(w2).require_grad();
        let b1: Tensor<B, 1> = Tensor::zeros([w1.dims()[1]], &dev::<B>()).require_grad();
        let h = act::tanh(x.matmul(w1.clone()) + b1.clone().unsqueeze::<2>());
        let out = h.matmul(w2.clone());
        let loss = (out.clone() * out).mean();
        let g = loss.backward();
        vec![
            w1.grad(&g).unwrap().into_data(),
            w2.grad(&g).unwrap().into_data(),
            b1.grad(&g).unwrap().into_data(),
        ]
    }
    let strat = (1usize..6, 1usize..5, 1usize..6, 1usize..4).prop_flat_map(|(n, i, h, o)| {
        (
            tensor_of(vec![n, i], float_in(-1.0, 1.0)),
            tensor_of(vec![i, h], float_in(-1.0, 1.0)),
            tensor_of(vec![h, o], float_in(-1.0, 1.0)),
        )
    });
    run(CASES, strat, |(x, w1, w2)| {
        ad_triple!(prog, GRAD, &x, &w1, &w2)
    });
}

/// Gradients through broadcasting, views (transpose, slice, flip), cat, reductions over dims,
/// softmax and max_pair.
#[test]
fn structural_gradients() {
    fn prog<B: AutodiffBackend>(x: &TensorData, y: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft::<B, 2>(x).require_grad();
        let y: Tensor<B, 2> = ft::<B, 2>(y).require_grad();
        let [m, n] = x.dims();
        let row = y.clone().slice([0..1, 0..n]);
        let a = (x.clone() + row).transpose().flip([0]);
        let b = Tensor::cat(vec![a.clone(), a.clone().sin()], 1);
        let c = act::softmax(b, 1).sum_dim(0);
        let d = x.clone().max_pair(y.clone()).mean_dim(1);
        let loss = c.sum() + d.sum() * 0.5 + (x.clone() * y.clone()).slice([0..m, 0..1]).sum();
        let g = loss.backward();
        vec![
            x.grad(&g).unwrap().into_data(),
            y.grad(&g).unwrap().into_data(),
        ]
    }
    run(
        CASES,
        tensor_pair::<2>(false, float_in(-2.0, 2.0), float_in(-2.0, 2.0)),
        |(x, y)| ad_triple!(prog, GRAD, &x, &y),
    );
}

/// Forward and backward interleaved as in training: parameters updated in place with their
/// gradient for several steps; the final parameters and losses must agree.
#[test]
fn training_loop() {
    fn prog<B: AutodiffBackend>(x: &TensorData, t: &TensorData, w: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft(x);
        let t: Tensor<B, 2> = ft(t);
        let mut w: Tensor<B, 2> = ft::<B, 2>(w).require_grad();
        let mut losses = Vec::new();
        for _ in 0..5 {
            let pred = act::sigmoid(x.clone().matmul(w.clone())) * 2.0 - 1.0;
            let loss = (pred - t.clone()).powf_scalar(2.0).mean();
            losses.push(loss.clone().inner().into_data());
            let g = loss.backward();
            let grad = w.grad(&g).unwrap();
            w = Tensor::from_inner(w.inner() - grad * 0.5).require_grad();
        }
        losses.push(w.inner().into_data());
        losses
    }
    let strat = (1usize..6, 1usize..4, 1usize..4).prop_flat_map(|(n, i, o)| {
        (
            tensor_of(vec![n, i], float_in(-1.0, 1.0)),
            tensor_of(vec![n, o], float_in(-1.0, 1.0)),
            tensor_of(vec![i, o], float_in(-1.0, 1.0)),
        )
    });
    run(CASES, strat, |(x, t, w)| ad_triple!(prog, GRAD, &x, &t, &w));
}

/// Second-order-like PINN pattern: a gradient used as a value in a new graph (detach and
/// reuse), and the same leaf used several times.
#[test]
fn leaf_reuse_and_detached_gradients() {
    fn prog<B: AutodiffBackend>(x: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 1> = ft::<B, 1>(x).require_grad();
        let u = (x.clone() * 3.0).sin() * x.clone() + x.clone().powf_scalar(3.0);
        let g = u.sum().backward();
        let du = x.grad(&g).unwrap();
        // New graph that uses the first gradient as a constant.
        let x2 = x.clone().detach().require_grad();
        let r = (Tensor::<B, 1>::from_inner(du.clone()) * x2.clone())
            .exp()
            .sum();
        let g2 = r.backward();
        vec![du.into_data(), x2.grad(&g2).unwrap().into_data()]
    }
    run(CASES, tensor::<1>(false, float_in(-1.0, 1.0)), |x| {
        ad_triple!(prog, GRAD, &x)
    });
}
