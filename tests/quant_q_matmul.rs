//! `PinnJitBackend`'s `q_matmul` of two INT8 per-tensor matrices (integer accumulation)
//! against burn-ndarray (dequantize, then an `f32` matmul) and against the exact product of
//! the codes; the cases it forwards to burn-flex (batched, float × quantized) still agree.

use burn::tensor::quantization::{QuantScheme, QuantStore, QuantValue};
use burn::tensor::{Tensor, TensorData};
use burn_ndarray::NdArray;
use pinn_jit::PinnJitBackend as P;
use proptest::prelude::*;

type N = NdArray<f32>;

fn scheme() -> QuantScheme {
    QuantScheme::default()
        .with_value(QuantValue::Q8S)
        .with_store(QuantStore::Native)
}

fn codes(seed: u64, n: usize) -> Vec<i8> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s % 255) as i32 - 127) as i8
        })
        .collect()
}

fn run<const D: usize>(a: &TensorData, b: &TensorData) -> (Vec<f32>, Vec<f32>) {
    let pa = Tensor::<P, D>::from_data(a.clone(), &Default::default());
    let pb = Tensor::<P, D>::from_data(b.clone(), &Default::default());
    let na = Tensor::<N, D>::from_data(a.clone(), &Default::default());
    let nb = Tensor::<N, D>::from_data(b.clone(), &Default::default());
    (
        pa.matmul(pb).into_data().to_vec::<f32>().unwrap(),
        na.matmul(nb).into_data().to_vec::<f32>().unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn int8_matmul_matches_ndarray_and_the_exact_product(
        m in 1usize..20, k in 1usize..70, n in 1usize..20, seed in 0u64..1000,
        sa in 1e-3f32..1.0, sb in 1e-3f32..1.0,
    ) {
        let ca = codes(seed, m * k);
        let cb = codes(seed + 7, k * n);
        let a = TensorData::quantized(ca.clone(), [m, k], scheme(), &[sa]);
        let b = TensorData::quantized(cb.clone(), [k, n], scheme(), &[sb]);
        let (ours, nd) = run::<2>(&a, &b);
        for i in 0..m {
            for j in 0..n {
                let exact: i64 = (0..k)
                    .map(|c| i64::from(ca[i * k + c]) * i64::from(cb[c * n + j]))
                    .sum();
                let exact = exact as f64 * f64::from(sa) * f64::from(sb);
                let mag: f64 = (0..k)
                    .map(|c| (f64::from(ca[i * k + c]) * f64::from(cb[c * n + j])).abs())
                    .sum::<f64>() * f64::from(sa) * f64::from(sb);
                let o = f64::from(ours[i * n + j]);
                let d = f64::from(nd[i * n + j]);
                // ours: one rounding of an exact integer sum and one of the scale product
                prop_assert!((o - exact).abs() <= 3e-7 * exact.abs() + 1e-30 + 1e-7 * mag,
                    "({i},{j}) ours {o} exact {exact}");
                prop_assert!((o - d).abs() <= 1e-5 * mag + 1e-30, "({i},{j}) ours {o} ndarray {d}");
            }
        }
    }
}

#[test]
fn batched_and_mixed_operands_are_forwarded_and_agree() {
    let a = TensorData::quantized(codes(1, 2 * 3 * 4), [2, 3, 4], scheme(), &[0.02]);
    let b = TensorData::quantized(codes(2, 2 * 4 * 5), [2, 4, 5], scheme(), &[0.03]);
    let (ours, nd) = run::<3>(&a, &b);
    for (o, d) in ours.iter().zip(&nd) {
        assert!((o - d).abs() <= 1e-5 * (1.0 + d.abs()), "{o} vs {d}");
    }
    // float × quantized
    let device = Default::default();
    let f: Vec<f32> = (0..12).map(|i| i as f32 * 0.1 - 0.5).collect();
    let q = TensorData::quantized(codes(3, 4 * 2), [4, 2], scheme(), &[0.05]);
    let ours = Tensor::<P, 2>::from_data(TensorData::new(f.clone(), [3, 4]), &device)
        .matmul(Tensor::<P, 2>::from_data(q.clone(), &device))
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let nd = Tensor::<N, 2>::from_data(TensorData::new(f, [3, 4]), &Default::default())
        .matmul(Tensor::<N, 2>::from_data(q, &Default::default()))
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    for (o, d) in ours.iter().zip(&nd) {
        assert!((o - d).abs() <= 1e-5 * (1.0 + d.abs()), "{o} vs {d}");
    }
}

#[test]
fn zero_scales_and_extreme_codes() {
    let a = TensorData::quantized(vec![-127i8, 127, 0, 5], [2, 2], scheme(), &[0.0]);
    let b = TensorData::quantized(vec![127i8, -127, 127, 1], [2, 2], scheme(), &[0.5]);
    // (burn-ndarray is not compared here: it does not return zeros for a zero scale)
    let (ours, _) = run::<2>(&a, &b);
    assert_eq!(ours, vec![0.0; 4]);
    let a = TensorData::quantized(vec![-127i8; 6], [2, 3], scheme(), &[1.0]);
    let b = TensorData::quantized(vec![-127i8; 3], [3, 1], scheme(), &[1.0]);
    let (ours, _) = run::<2>(&a, &b);
    assert_eq!(ours, vec![3.0 * 127.0 * 127.0; 2]);
}
