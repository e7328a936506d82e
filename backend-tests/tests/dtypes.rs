//! Every dtype the backend supports: f32 (default), f64, f16, bf16 floats; i8..i64 and
//! u8..u64 ints; bool. Chains in each float dtype, casts between dtypes (float↔float,
//! float↔int, bool→float/int), and dtype preservation through ops. ndarray has no f16/bf16:
//! those are checked against the eager path exactly and against an f32 host computation
//! rounded to the dtype.

use backend_tests::*;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, FloatDType, IntDType, Tensor, TensorData};
use proptest::prelude::*;

const CASES: u32 = 16;

fn chain<B: Backend>(d: &TensorData) -> TensorData {
    let x: Tensor<B, 2> = ft(d);
    let dtype = x.dtype();
    let y = ((x.clone() * 2.0 + 1.0).abs().sqrt() - x.clone()).clamp(-4.0, 4.0) * x.clone();
    let y = y.mask_fill(x.lower_elem(-1.0), 0.25);
    assert_eq!(y.dtype(), dtype, "chain changed the dtype");
    y.into_data()
}

fn chain_host(v: f32) -> f32 {
    let y = ((v * 2.0 + 1.0).abs().sqrt() - v).clamp(-4.0, 4.0) * v;
    if v < -1.0 { 0.25 } else { y }
}

#[test]
fn f64_chain() {
    run(CASES, tensor::<2>(true, float_any(10.0)), |d| {
        triple!(chain, Tol::ulps(4, 0.0), &to_dtype(&d, DType::F64))
    });
}

/// f16 and bf16: jit equals the eager path, and both are within a couple of ULPs of the f32
/// host computation on the same (rounded) inputs.
#[test]
fn half_precision_chains() {
    for (dtype, tol) in [
        (DType::F16, Tol::new(4e-3, 1e-2)),
        (DType::BF16, Tol::new(3e-2, 6e-2)),
    ] {
        run(CASES, tensor::<2>(true, float_in(-4.0, 4.0)), |d| {
            let h = to_dtype(&d, dtype);
            pair!(chain, Jit, Eager, Tol::EXACT, &h)?;
            let host: Vec<f32> = h.iter::<f32>().map(chain_host).collect();
            let host = TensorData::new(host, h.shape.clone()).convert_dtype(dtype);
            compare("jit vs host", vec![chain::<Jit>(&h)], vec![host], tol)
        });
    }
}

/// Transcendentals in f16/bf16 against the f32 host result rounded to the dtype.
#[test]
fn half_precision_transcendentals() {
    fn prog<B: Backend>(d: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 1> = ft(d);
        vec![
            x.clone().exp().into_data(),
            x.clone().tanh().into_data(),
            x.clone().sin().into_data(),
            x.abs().log1p().into_data(),
        ]
    }
    for (dtype, tol) in [
        (DType::F16, Tol::new(4e-3, 1e-3)),
        (DType::BF16, Tol::new(3e-2, 1e-2)),
    ] {
        run(CASES, tensor::<1>(true, float_in(-3.0, 3.0)), |d| {
            let h = to_dtype(&d, dtype);
            pair!(prog, Jit, Eager, Tol::EXACT, &h)?;
            let v: Vec<f32> = h.iter::<f32>().collect();
            let mk = |f: fn(f32) -> f32| {
                TensorData::new(v.iter().map(|&x| f(x)).collect::<Vec<_>>(), h.shape.clone())
                    .convert_dtype(dtype)
            };
            let host = vec![
                mk(f32::exp),
                mk(f32::tanh),
                mk(f32::sin),
                mk(|x| x.abs().ln_1p()),
            ];
            compare("jit vs host", prog::<Jit>(&h), host, tol)
        });
    }
}

/// Float ↔ float casts, with specials (NaN, inf, subnormals, overflow to inf in f16).
#[test]
fn float_casts() {
    fn prog<B: Backend>(d: &TensorData, to: FloatDType) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft(d);
        let y = x.clone().cast(to);
        vec![
            y.clone().into_data(),
            (y.clone() * 2.0).into_data(),
            y.cast(FloatDType::F32).into_data(),
        ]
    }
    for to in [
        FloatDType::F64,
        FloatDType::F32,
        FloatDType::F16,
        FloatDType::BF16,
    ] {
        run(CASES, tensor::<2>(true, float_any(1e5)), |d| {
            // ndarray cannot hold f16/bf16 (it panics): checked against the eager path then.
            triple!(prog, Tol::EXACT, &d, to)
        });
    }
}

/// Float → int casts truncate toward zero (finite, in-range values), int → float is exact.
#[test]
fn float_int_casts() {
    fn prog<B: Backend>(d: &TensorData, to: IntDType) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft(d);
        let i = x.clone().int();
        let c = x.cast(to);
        vec![
            i.clone().into_data(),
            c.clone().into_data(),
            i.float().into_data(),
            c.float().into_data(),
        ]
    }
    for to in [IntDType::I64, IntDType::I32, IntDType::I16, IntDType::I8] {
        run(CASES, tensor::<2>(true, float_in(-100.0, 100.0)), |d| {
            triple!(prog, Tol::EXACT, &d, to)
        });
    }
    for to in [IntDType::U8, IntDType::U16, IntDType::U32, IntDType::U64] {
        run(CASES, tensor::<2>(true, float_in(0.0, 200.0)), |d| {
            triple!(prog, Tol::EXACT, &d, to)
        });
    }
}

/// Bool → float in each float dtype (fused on pinn-jit for f32/f64), bool → int dtypes.
#[test]
fn bool_casts() {
    fn prog<B: Backend>(d: &TensorData, f: FloatDType, i: IntDType) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft(d);
        let m = x.greater_elem(0.0);
        vec![
            m.clone().cast(f).into_data(),
            (m.clone().cast(f) * 3.0).into_data(),
            m.cast(i).into_data(),
        ]
    }
    for (f, i) in [
        (FloatDType::F32, IntDType::I32),
        (FloatDType::F64, IntDType::I64),
        (FloatDType::F16, IntDType::I8),
        (FloatDType::BF16, IntDType::U8),
    ] {
        run(CASES, tensor::<2>(true, float_in(-1.0, 1.0)), |d| {
            triple!(prog, Tol::EXACT, &d, f, i)
        });
    }
}

/// f64 data keeps full precision through chains of exact ops (no silent f32 round trip).
#[test]
fn f64_precision_preserved() {
    fn prog<B: Backend>(d: &TensorData) -> TensorData {
        let x: Tensor<B, 1> = ft(d);
        ((x.clone() + 1e-12) * 3.0 - x * 2.0).into_data()
    }
    let d = TensorData::new(
        vec![1.0f64 + 1e-15, 0.1, 1e300, -1e-300, 123_456_789.123_456_78],
        [5],
    );
    triple!(prog, Tol::EXACT, &d).unwrap();
    let host = map_float(&d, |v| v, |w| (w + 1e-12) * 3.0 - w * 2.0);
    assert_close(&prog::<Jit>(&d), &host, Tol::EXACT);
}

/// Mixed-dtype chains: an f64 chain and an f32 chain interleaved (separate kernels per dtype),
/// joined by a cast.
#[test]
fn mixed_dtype_chains() {
    fn prog<B: Backend>(d: &TensorData) -> Vec<TensorData> {
        let x: Tensor<B, 2> = ft(d);
        let x64 = x.clone().cast(FloatDType::F64);
        let a = (x64.clone() * 1.5 + 0.25).tanh();
        let b = (x.clone() * 1.5 + 0.25).tanh();
        let joined = a.clone().cast(FloatDType::F32) - b.clone();
        vec![a.into_data(), b.into_data(), joined.into_data()]
    }
    run(CASES, tensor::<2>(true, float_in(-3.0, 3.0)), |d| {
        triple!(prog, Tol::ulps(16, 1e-6), &d)
    });
}

/// Tensors created directly in each dtype (zeros/ones/full/from_data with dtype).
#[test]
fn creation_in_each_dtype() {
    fn prog<B: Backend>(dtype: DType) -> Vec<TensorData> {
        let dev = dev::<B>();
        vec![
            Tensor::<B, 2>::zeros([2, 3], (&dev, dtype)).into_data(),
            Tensor::<B, 2>::ones([2, 3], (&dev, dtype)).into_data(),
            Tensor::<B, 2>::full([3, 1], -2.5, (&dev, dtype)).into_data(),
            (Tensor::<B, 2>::ones([2, 2], (&dev, dtype)) * 3.0 + 0.5).into_data(),
        ]
    }
    for dtype in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        triple!(prog, Tol::EXACT, dtype).unwrap();
    }
}

/// Randomised value ranges for half-precision overflow: f16 saturates to inf above 65504.
#[test]
fn f16_overflow_to_inf() {
    fn prog<B: Backend>(d: &TensorData) -> TensorData {
        let x: Tensor<B, 1> = ft(d);
        (x * 100.0).into_data()
    }
    run(CASES, tensor::<1>(false, float_in(-2000.0, 2000.0)), |d| {
        let h = to_dtype(&d, DType::F16);
        pair!(prog, Jit, Eager, Tol::EXACT, &h)?;
        let host: Vec<f32> = h.iter::<f32>().map(|v| v * 100.0).collect();
        let host = TensorData::new(host, h.shape.clone()).convert_dtype(DType::F16);
        compare(
            "jit vs host",
            vec![prog::<Jit>(&h)],
            vec![host],
            Tol::new(1e-3, 0.0),
        )
    });
    let _ = any::<u8>();
}
