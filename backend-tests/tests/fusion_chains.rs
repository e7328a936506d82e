//! Long fused chains (50+ element-wise ops), randomly generated chains, in-place reuse of
//! buffers (`x = x * 2.0 + 1.0` in a loop, clones held while mutating), chains that mix
//! element-wise ops with reductions, matmul, reshapes and views, and fallback equality:
//! PinnJitBackend (fusion) against the same ops run eagerly on PinnCpu (burn-flex).

use backend_tests::*;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};
use proptest::prelude::*;

const CASES: u32 = 16;

/// One element-wise step of a random chain: `x` is the running value, `y` a second input.
fn step<B: Backend>(op: u8, x: Tensor<B, 2>, y: &Tensor<B, 2>, c: f32) -> Tensor<B, 2> {
    match op % 24 {
        0 => x + y.clone(),
        1 => x - c,
        2 => x * y.clone(),
        3 => x * c,
        4 => x / (y.clone().abs() + 1.0),
        5 => x.tanh(),
        6 => x.sin(),
        7 => x.cos(),
        8 => (x.clamp(-10.0, 10.0)).exp(),
        9 => (x.abs() + 1.0).log(),
        10 => x.abs().sqrt(),
        11 => x.abs().log1p(),
        12 => x.erf(),
        13 => x.clamp(-c.abs() - 0.5, c.abs() + 0.5),
        14 => {
            let m = x.clone().greater(y.clone());
            x.mask_where(m, y.clone())
        }
        15 => {
            let m = x.clone().lower_elem(c);
            x.mask_fill(m, c)
        }
        16 => x.clone().greater_elem(0.0).float().cast(x.dtype()) + x,
        17 => x.neg(),
        18 => (x * 10.0).round() / 10.0,
        19 => x.floor() + 0.5,
        20 => x.recip().clamp(-100.0, 100.0),
        21 => (x.abs() + 0.5).powf_scalar(c.abs().min(3.0)),
        22 => x.clone().max_pair(y.clone()),
        _ => x.remainder_scalar(c.abs() + 1.0),
    }
}

fn chain<B: Backend>(x: &TensorData, y: &TensorData, ops: &[(u8, f32)]) -> TensorData {
    let mut acc: Tensor<B, 2> = ft(x);
    let y: Tensor<B, 2> = ft(y);
    for &(op, c) in ops {
        acc = step(op, acc, &y, c);
    }
    acc.into_data()
}

fn chain_inputs(
    min_ops: usize,
    max_ops: usize,
) -> impl Strategy<Value = (Data, Data, Vec<(u8, f32)>)> {
    (
        tensor_pair::<2>(true, float_in(-3.0, 3.0), float_in(-3.0, 3.0)),
        proptest::collection::vec((any::<u8>(), float_in(-2.0, 2.0)), min_ops..=max_ops),
    )
        .prop_map(|((x, y), ops)| (x, y, ops))
}

/// Random chains of 1..=12 element-wise ops, f32 and f64.
#[test]
fn random_short_chains() {
    run(CASES * 2, chain_inputs(1, 12), |(x, y, ops)| {
        // Errors compound along a chain of approximations: relative-plus-absolute tolerance.
        triple!(chain, Tol::new(1e-4, 1e-4), &x, &y, &ops)?;
        triple!(
            chain,
            Tol::new(1e-9, 1e-9),
            &to_dtype(&x, DType::F64),
            &to_dtype(&y, DType::F64),
            &ops
        )
    });
}

/// Random chains of 50..=80 element-wise ops: one kernel (or a few) on pinn-jit.
#[test]
fn random_long_chains() {
    run(CASES, chain_inputs(50, 80), |(x, y, ops)| {
        triple!(chain, Tol::new(1e-3, 1e-3), &x, &y, &ops)
    });
}

/// A fixed 60-op chain of exact operations: bit-exact on every backend. No NaN inputs:
/// burn-ndarray's `clamp` maps NaN to the upper bound where PinnJitBackend (fused or not) and
/// PyTorch keep NaN; clamp's NaN behaviour is tested in `float_unary.rs`.
#[test]
fn long_exact_chain() {
    fn prog<B: Backend>(x: &TensorData, y: &TensorData) -> TensorData {
        let mut a: Tensor<B, 3> = ft(x);
        let b: Tensor<B, 3> = ft(y);
        for i in 0..15 {
            a = a * 0.5 + b.clone();
            a = a - (i as f32);
            a = a.abs().neg();
            a = a.clamp(-1e3, 1e3);
        }
        a.into_data()
    }
    run(
        CASES,
        broadcast_pair::<3>(float_no_nan(100.0), float_no_nan(100.0)),
        |(x, y)| triple!(prog, Tol::EXACT, &x, &y),
    );
}

/// `x = x * 2.0 + 1.0` in a loop with clones of intermediate values held and read later: the
/// kernels must not write into buffers that a live clone still sees.
#[test]
fn in_place_reuse_with_held_clones() {
    fn prog<B: Backend>(x: &TensorData) -> Vec<TensorData> {
        let mut x: Tensor<B, 2> = ft(x);
        let mut held = Vec::new();
        for i in 0..12 {
            if i % 3 == 0 {
                held.push(x.clone());
            }
            x = x * 2.0 + 1.0;
            if i % 4 == 1 {
                // Read a held clone mid-loop (forces execution with the clone alive).
                let _ = held[0].clone().sum().into_data();
            }
        }
        let mut out = vec![x.clone().into_data()];
        out.extend(held.into_iter().map(|t| t.into_data()));
        // The consumed-and-rebuilt value is still usable afterwards.
        out.push((x.clone() - x).into_data());
        out
    }
    run(CASES, tensor::<2>(true, float_any(10.0)), |x| {
        triple!(prog, Tol::EXACT, &x)
    });
}

/// `Tensor::inplace` and repeated `+=`-style updates through the same binding, with the
/// original tensor cloned before any mutation.
#[test]
fn inplace_api_and_original_preserved() {
    fn prog<B: Backend>(x: &TensorData, y: &TensorData) -> Vec<TensorData> {
        let original: Tensor<B, 2> = ft(x);
        let y: Tensor<B, 2> = ft(y);
        let mut t = original.clone();
        for _ in 0..5 {
            t.inplace(|t| (t + y.clone()) * 0.5);
        }
        let mut u = y.clone();
        for k in 0..5 {
            u = u.clone() * u.clone() - k as f32 * 0.01;
            u = u.clamp(-2.0, 2.0);
        }
        vec![
            t.into_data(),
            original.into_data(),
            u.into_data(),
            y.into_data(),
        ]
    }
    run(
        CASES,
        tensor_pair::<2>(true, float_any(10.0), float_in(-1.0, 1.0)),
        |(x, y)| triple!(prog, Tol::EXACT, &x, &y),
    );
}

/// Element-wise chains interleaved with non-fusible ops (reductions, matmul, cat, transpose,
/// reshape, slice): each segment boundary forces a kernel to end and the next to start.
#[test]
fn chains_mixed_with_eager_ops() {
    fn prog<B: Backend>(x: &TensorData, w: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft(x);
        let w: Tensor<B, 2> = ft(w);
        let h = (x.clone() * 0.3 + 0.1).tanh();
        let h = h.matmul(w.clone()).sin() * 2.0 - 1.0;
        let s = h.clone().sum_dim(1).exp().log1p();
        let t = h.clone().transpose().abs().sqrt() + 1.0;
        let c = Tensor::cat(vec![t.clone(), t.clone() * -1.0], 0).clamp(-1.5, 1.5);
        let [r, k] = c.dims();
        let z = c.reshape([k, r]).slice([0..k, 0..r.min(2)]).cos();
        vec![s.into_data(), z.into_data(), h.mean().into_data()]
    }
    let strat = (1usize..6, 1usize..6, 1usize..6).prop_flat_map(|(m, k, n)| {
        (
            tensor_of(vec![m, k], float_in(-2.0, 2.0)),
            tensor_of(vec![k, n], float_in(-1.0, 1.0)),
        )
    });
    run(CASES, strat, |(x, w)| {
        triple!(prog, Tol::new(1e-4, 1e-4), &x, &w)
    });
}

/// One chain, several outputs read at different times; intermediate results that escape the
/// chain (read later) must be materialised correctly.
#[test]
fn multiple_escaping_outputs() {
    fn prog<B: Backend>(x: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft(x);
        let a = x.clone() * 3.0;
        let b = a.clone().exp().clamp_max(1e6);
        let c = b.clone() - a.clone();
        let d = c.clone().greater_elem(1.0);
        let e = c.clone().mask_fill(d.clone(), 0.0);
        vec![
            e.into_data(),
            a.into_data(),
            d.into_data(),
            c.into_data(),
            b.into_data(),
        ]
    }
    run(CASES, tensor::<2>(true, float_in(-3.0, 3.0)), |x| {
        triple!(prog, Tol::new(1e-5, 1e-5), &x)
    });
}

/// The same chain executed many times on fresh inputs of different shapes (kernel cache hits
/// with different sizes and layouts must not confuse results).
#[test]
fn repeated_chain_across_shapes() {
    fn prog<B: Backend>(x: &TensorData) -> TensorData {
        let x: Tensor<B, 3> = ft(x);
        ((x.clone() * 1.5 - 0.25).tanh() * x.clone() + x.abs().sqrt()).into_data()
    }
    run(CASES * 3, tensor::<3>(true, float_in(-5.0, 5.0)), |x| {
        triple!(prog, Tol::TRANS, &x)
    });
}
