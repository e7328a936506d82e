//! TransactionOps (reading several tensors of different kinds at once, some produced by
//! pending fused chains), QTensorOps basics (dynamic int8 quantization round trip, quantized
//! data movement), creation ops, and device / backend metadata.

use backend_tests::*;
use burn::tensor::backend::Backend;
use burn::tensor::quantization::QuantScheme;
use burn::tensor::{Bool, DType, Int, Tensor, TensorData, Transaction};
use proptest::prelude::*;

const CASES: u32 = 16;

/// A transaction over float, int and bool tensors, some still pending inside fused chains.
#[test]
fn transaction_reads_pending_chains() {
    fn prog<B: Backend>(x: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft(x);
        let y = (x.clone() * 2.0 + 1.0).tanh();
        let m: Tensor<B, 2, Bool> = y.clone().greater_elem(0.0);
        let i: Tensor<B, 2, Int> = m.clone().int() * 3;
        let z = y.clone() - x.clone();
        Transaction::default()
            .register(y)
            .register(m)
            .register(i)
            .register(z)
            .register(x)
            .execute()
    }
    run(CASES, tensor::<2>(true, float_in(-3.0, 3.0)), |x| {
        triple!(prog, Tol::TRANS, &x)
    });
}

/// Dynamic quantization (int8, symmetric, per tensor) then dequantization: values agree with
/// ndarray within one quantization step.
#[test]
fn quantize_dequantize_round_trip() {
    fn prog<B: Backend>(x: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft(x);
        let scheme = QuantScheme::default();
        let q = x.clone().quantize_dynamic(&scheme);
        let qt = q.clone().transpose();
        vec![q.dequantize().into_data(), qt.dequantize().into_data()]
    }
    run(CASES, tensor::<2>(false, float_in(-4.0, 4.0)), |x| {
        // One int8 step of a [-4, 4] range is 4 / 127.
        triple!(prog, Tol::new(0.0, 4.0 / 127.0 + 1e-6), &x)
    });
}

/// Creation ops: zeros/ones/full/empty shapes, arange floats, eye, linspace-like chains.
#[test]
fn creation_ops() {
    fn prog<B: Backend>(n: usize, v: f32) -> Vec<TensorData> {
        let dev = dev::<B>();
        vec![
            Tensor::<B, 2>::zeros([n, 3], &dev).into_data(),
            Tensor::<B, 2>::ones([2, n], &dev).into_data(),
            Tensor::<B, 3>::full([n, 1, 2], v, &dev).into_data(),
            Tensor::<B, 2>::eye(n, &dev).into_data(),
            (Tensor::<B, 1, Int>::arange(0..n as i64, &dev).float() * v).into_data(),
            Tensor::<B, 2>::zeros([n, 2], &dev).ones_like().into_data(),
            Tensor::<B, 2>::ones([n, 2], &dev).full_like(v).into_data(),
            Tensor::<B, 1>::empty([n], &dev)
                .shape()
                .dims::<1>()
                .iter()
                .map(|&d| d as i64)
                .sum::<i64>()
                .pipe(|s| TensorData::new(vec![s], [1])),
        ]
    }
    run(CASES, (1usize..6, float_any(100.0)), |(n, v)| {
        triple!(prog, Tol::EXACT, n, v)
    });
}

/// Small extension so that the `empty` shape can be reported inline.
trait Pipe: Sized {
    fn pipe<R>(self, f: impl FnOnce(Self) -> R) -> R {
        f(self)
    }
}
impl<T> Pipe for T {}

/// Random tensors: same distribution properties (range) on every backend; values are
/// backend-specific, so only bounds and shapes are compared.
#[test]
fn random_tensors_within_bounds() {
    fn prog<B: Backend>() -> Vec<TensorData> {
        let dev = dev::<B>();
        let u = Tensor::<B, 2>::random(
            [16, 16],
            burn::tensor::Distribution::Uniform(-2.0, 3.0),
            &dev,
        );
        let inside = u
            .clone()
            .greater_equal_elem(-2.0)
            .bool_and(u.lower_elem(3.0))
            .all();
        vec![inside.into_data()]
    }
    triple!(prog, Tol::EXACT).unwrap();
}

/// Device and dtype metadata of pinn-jit tensors.
#[test]
fn device_and_dtype_metadata() {
    let dev = dev::<Jit>();
    let x = Tensor::<Jit, 2>::zeros([2, 2], &dev);
    assert_eq!(x.device(), pinn_jit::PinnJitDevice::Cpu);
    assert_eq!(x.dtype(), DType::F32);
    assert_eq!(Tensor::<Jit, 1, Int>::zeros([1], &dev).dtype(), DType::I32);
    assert_eq!(
        x.clone().to_device(&dev).into_data(),
        TensorData::zeros::<f32, _>([2, 2])
    );
    let _ = any::<u8>();
}
