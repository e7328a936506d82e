//! Checks that the JIT actually fuses, through `pinn_jit::stats()` deltas.
//!
//! The counters are process-wide. Every test of this binary holds [`STATS_LOCK`] while it
//! measures, so no other test of the binary runs kernels meanwhile; the assertions are still
//! lower bounds (`>=`) on what the measured code must have added, and exact only for counters
//! that nothing else could raise (fallbacks, compilations of an already compiled chain).

use backend_tests::*;
use burn::tensor::{DType, Tensor, TensorData};
use pinn_jit::stats;

fn lock() -> std::sync::MutexGuard<'static, ()> {
    STATS_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A chain of `2 * n` element-wise ops: mul_scalar, add_scalar repeated; then tanh.
fn chain(x: Tensor<Jit, 2>, n: usize) -> Tensor<Jit, 2> {
    let mut x = x;
    for i in 0..n {
        x = x * 1.0001 + (i as f32) * 1e-3;
    }
    x.tanh()
}

fn input(rows: usize, cols: usize, dtype: DType) -> Tensor<Jit, 2> {
    let v: Vec<f32> = (0..rows * cols).map(|i| (i as f32 * 0.37).sin()).collect();
    Tensor::from_data(TensorData::new(v, [rows, cols]), (&dev::<Jit>(), dtype))
}

#[test]
fn elementwise_chain_runs_in_kernels() {
    let _g = lock();
    let x = input(7, 13, DType::F32);
    let before = stats();
    let y = chain(x, 25).into_data();
    let d = stats().since(&before);
    assert_eq!(y.shape.as_slice(), &[7, 13]);
    assert!(
        d.ops_in_kernels >= 51,
        "51 fusible ops, {} in kernels: {d}",
        d.ops_in_kernels
    );
    assert!(d.kernel_launches >= 1, "no kernel launched: {d}");
    assert_eq!(d.fallbacks, 0, "the chain fell back: {d}");
    // All 51 ops in at most a few kernels, not one launch per op.
    assert!(
        d.kernel_launches <= 4,
        "chain split into {} kernels: {d}",
        d.kernel_launches
    );
}

#[test]
fn f64_and_bool_chains_run_in_kernels() {
    let _g = lock();
    let x = input(5, 9, DType::F64);
    let before = stats();
    let y = chain(x.clone(), 10);
    let m = y
        .clone()
        .greater_elem(0.1)
        .bool_and(x.lower_elem(0.5))
        .bool_not();
    let z = m.float().cast(DType::F64) * 2.0 + y;
    let _ = z.into_data();
    let d = stats().since(&before);
    assert!(d.ops_in_kernels >= 21, "f64/bool chain: {d}");
    assert_eq!(d.fallbacks, 0, "fell back: {d}");
}

#[test]
fn second_run_of_a_chain_compiles_nothing() {
    let _g = lock();
    // Warm up: first run may compile.
    let _ = chain(input(6, 11, DType::F32), 8).into_data();
    let before = stats();
    for k in 0..3 {
        let _ = chain(input(6, 11 + k, DType::F32), 8).into_data();
    }
    let d = stats().since(&before);
    assert_eq!(d.kernels_compiled, 0, "recompiled an identical chain: {d}");
    assert!(d.kernel_launches >= 3, "{d}");
    assert!(d.ops_in_kernels >= 3 * 17, "{d}");
}

#[test]
fn non_fusible_ops_run_eagerly() {
    let _g = lock();
    let a = input(4, 6, DType::F32);
    let b = input(6, 3, DType::F32);
    let before = stats();
    let c = a.matmul(b).sum_dim(1).into_data();
    let d = stats().since(&before);
    assert_eq!(c.shape.as_slice(), &[4, 1]);
    assert!(d.ops_eager >= 2, "matmul and sum_dim must be eager: {d}");
}

#[test]
fn mlp_forward_is_mostly_fused() {
    let _g = lock();
    let x = input(32, 8, DType::F32);
    let w1 = input(8, 16, DType::F32);
    let w2 = input(16, 1, DType::F32);
    let before = stats();
    let h = burn::tensor::activation::tanh(x.matmul(w1) * 0.5 + 0.1);
    let h = (h.clone() * h.clone() + 1.0).sqrt() - h.exp() * 0.01;
    let out = h.matmul(w2).into_data();
    let d = stats().since(&before);
    assert_eq!(out.shape.as_slice(), &[32, 1]);
    assert!(d.ops_in_kernels >= 8, "element-wise parts of the MLP: {d}");
    assert!(d.ops_eager >= 2, "the two matmuls: {d}");
    assert_eq!(d.fallbacks, 0, "{d}");
}

/// Results computed with counters measured are also correct (guards against a kernel that
/// "runs" without writing).
#[test]
fn fused_results_are_correct() {
    let _g = lock();
    let x = input(3, 5, DType::F32);
    let before = stats();
    let y = (x.clone() * 2.0 + 1.0).exp().into_data();
    let d = stats().since(&before);
    let host = map_float(
        &x.into_data(),
        |v| (v * 2.0 + 1.0).exp(),
        |w| (w * 2.0 + 1.0).exp(),
    );
    assert_close(&y, &host, Tol::TRANS);
    assert!(d.ops_in_kernels >= 3, "{d}");
}
