//! The quantized matrix products against a reference computed in `f64` from the same codes
//! and scales: `f32` activations × INT8 / INT4 / F16 / F32 weights, `i8 × i8 → i32` with
//! dynamic and static activation scales; odd sizes, tiles that do not divide the batch, large
//! (threaded) products, NaN rows.

use pinn_jit::quant::kernels::{
    dot_f32, dot_i8, f16_bits_to_f32, force_portable, linear_f32_act, linear_i8_act,
    quantize_rows_dynamic, quantize_rows_static,
};
use pinn_jit::quant::{Granularity, QuantMatrix, WeightFormat, quantize_value};
use proptest::prelude::*;

fn lcg(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// `Σ_k x[i,k] · Wdeq[j,k] + b[j]` in `f64`, and `Σ |x · W|` for the tolerance.
fn reference(x: &[f32], n: usize, w: &QuantMatrix, b: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let (m, k) = (w.rows(), w.cols());
    let wd = w.dequantize();
    let mut y = vec![0.0; n * m];
    let mut mag = vec![0.0; n * m];
    for i in 0..n {
        for j in 0..m {
            let mut acc = f64::from(b[j]);
            let mut a = f64::from(b[j]).abs();
            for c in 0..k {
                let p = f64::from(x[i * k + c]) * f64::from(wd[j * k + c]);
                acc += p;
                a += p.abs();
            }
            y[i * m + j] = acc;
            mag[i * m + j] = a;
        }
    }
    (y, mag)
}

fn formats() -> Vec<WeightFormat> {
    let mut v = vec![WeightFormat::F32, WeightFormat::F16];
    for g in [
        Granularity::PerTensor,
        Granularity::PerChannel,
        Granularity::PerBlock(5),
        Granularity::PerBlock(16),
    ] {
        v.push(WeightFormat::Int8(g));
        v.push(WeightFormat::Int4(g));
    }
    v
}

fn check_f32_act(n: usize, k: usize, m: usize, seed: u64) {
    let x = lcg(seed, n * k);
    let w = lcg(seed + 1, m * k);
    let b = lcg(seed + 2, m);
    for f in formats() {
        let q = QuantMatrix::quantize(&w, m, k, f, "w").unwrap();
        let mut y = vec![0.0f32; n * m];
        linear_f32_act(&q, Some(&b), &x, n, &mut y);
        let (r, mag) = reference(&x, n, &q, &b);
        for i in 0..n * m {
            let tol = 1e-6 * mag[i] * (k as f64).sqrt() + 1e-30;
            assert!(
                (f64::from(y[i]) - r[i]).abs() <= tol,
                "{f:?} n={n} k={k} m={m} [{i}]: {} vs {}",
                y[i],
                r[i]
            );
        }
    }
}

/// The exact reference of `linear_i8_act`: integer block sums, scaled in `f64`.
fn check_i8_act(n: usize, k: usize, m: usize, seed: u64, static_scale: Option<f32>) {
    let x = lcg(seed, n * k);
    let w = lcg(seed + 1, m * k);
    let b = lcg(seed + 2, m);
    let mut xq = vec![0i8; n * k];
    let mut xs = vec![0.0f32; n];
    match static_scale {
        None => quantize_rows_dynamic(&x, k, &mut xq, &mut xs),
        Some(s) => quantize_rows_static(&x, k, s, &mut xq, &mut xs),
    }
    // reference activation quantization
    for i in 0..n {
        let row = &x[i * k..(i + 1) * k];
        let s =
            static_scale.unwrap_or_else(|| row.iter().fold(0.0f32, |a, v| a.max(v.abs())) / 127.0);
        assert_eq!(xs[i], s);
        for c in 0..k {
            assert_eq!(xq[i * k + c], quantize_value(row[c], s, 127));
        }
    }
    for f in formats().into_iter().filter(|f| f.qmax().is_some()) {
        let q = QuantMatrix::quantize(&w, m, k, f, "w").unwrap();
        let mut y = vec![0.0f32; n * m];
        linear_i8_act(&q, Some(&b), &xq, &xs, n, &mut y);
        let block = q.block_len();
        let mut codes = vec![0i8; k];
        for j in 0..m {
            q.row_codes_into(j, &mut codes);
            let sc = q.row_scales(j);
            for i in 0..n {
                let mut acc = 0.0f64;
                for (bi, s) in sc.iter().enumerate() {
                    let lo = bi * block;
                    let hi = (lo + block).min(k);
                    let isum: i64 = (lo..hi)
                        .map(|c| i64::from(xq[i * k + c]) * i64::from(codes[c]))
                        .sum();
                    acc += isum as f64 * f64::from(*s);
                }
                let r = acc * f64::from(xs[i]) + f64::from(b[j]);
                let got = f64::from(y[i * m + j]);
                assert!(
                    (got - r).abs() <= 1e-5 * (r.abs() + 1.0),
                    "{f:?} n={n} k={k} m={m} ({i},{j}): {got} vs {r}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn f32_activation_products_match(n in 1usize..70, k in 1usize..41, m in 1usize..9, seed in 0u64..1000) {
        check_f32_act(n, k, m, seed);
    }

    #[test]
    fn integer_products_match(n in 1usize..70, k in 1usize..41, m in 1usize..9, seed in 0u64..1000) {
        check_i8_act(n, k, m, seed, None);
        check_i8_act(n, k, m, seed, Some(0.004));
    }

    #[test]
    fn dots_match(a in proptest::collection::vec(-100i8..=100, 0..70), seed in 0u64..100) {
        let b: Vec<i8> = lcg(seed, a.len()).iter().map(|v| (v * 127.0) as i8).collect();
        let r: i32 = a.iter().zip(&b).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum();
        prop_assert_eq!(dot_i8(&a, &b), r);
        let af: Vec<f32> = a.iter().map(|&v| f32::from(v)).collect();
        let bf: Vec<f32> = b.iter().map(|&v| f32::from(v)).collect();
        prop_assert_eq!(dot_f32(&af, &bf), r as f32);
    }
}

#[test]
fn portable_build_matches_too() {
    // The other tests run whichever build the CPU selects (AVX2 on x86-64 machines that have
    // it); this one pins the portable build. The switch is global, but both builds are
    // within the tolerances of every test, so tests running alongside are unaffected.
    force_portable(true);
    for (n, k, m, seed) in [(1, 1, 1, 1), (70, 37, 5, 2), (130, 64, 9, 3)] {
        check_f32_act(n, k, m, seed);
        check_i8_act(n, k, m, seed, None);
        check_i8_act(n, k, m, seed, Some(0.01));
    }
    force_portable(false);
}

#[test]
fn large_products_split_across_threads_and_match() {
    // 300 rows: several tiles and a partial last one, above the threading threshold
    check_f32_act(300, 64, 33, 5);
    check_i8_act(300, 64, 33, 6, None);
}

#[test]
fn nan_and_inf_rows_stay_in_their_rows() {
    let (n, k, m) = (3, 4, 2);
    let mut x = lcg(1, n * k);
    x[k + 2] = f32::NAN;
    x[2 * k] = f32::INFINITY;
    let w = lcg(2, m * k);
    let q =
        QuantMatrix::quantize(&w, m, k, WeightFormat::Int8(Granularity::PerChannel), "w").unwrap();
    let check = |y: &[f32]| {
        assert!(y[..m].iter().all(|v| v.is_finite()), "row 0: {y:?}");
        assert!(y[m..].iter().all(|v| !v.is_finite()), "rows 1, 2: {y:?}");
    };
    let mut y = vec![0.0f32; n * m];
    linear_f32_act(&q, None, &x, n, &mut y);
    check(&y);
    let mut xq = vec![0i8; n * k];
    let mut xs = vec![0.0f32; n];
    quantize_rows_dynamic(&x, k, &mut xq, &mut xs);
    linear_i8_act(&q, None, &xq, &xs, n, &mut y);
    check(&y);
    quantize_rows_static(&x, k, 0.01, &mut xq, &mut xs);
    linear_i8_act(&q, None, &xq, &xs, n, &mut y);
    check(&y);
}

#[test]
fn zero_rows_and_saturation() {
    let k = 5;
    let x = [0.0f32, 0.0, 0.0, 0.0, 0.0, 10.0, -10.0, 0.5, 0.0, 1.0];
    let mut xq = vec![0i8; 10];
    let mut xs = vec![0.0f32; 2];
    quantize_rows_dynamic(&x, k, &mut xq, &mut xs);
    assert_eq!(xs[0], 0.0);
    assert!(xq[..5].iter().all(|&q| q == 0));
    assert_eq!(&xq[5..7], &[127, -127]);
    // static: values beyond 127 · scale saturate
    quantize_rows_static(&x, k, 0.01, &mut xq, &mut xs);
    assert_eq!(&xq[5..8], &[127, -127, 50]);
}

#[test]
fn f16_conversion_is_exact_for_every_bit_pattern() {
    for bits in 0..=u16::MAX {
        let got = f16_bits_to_f32(bits);
        let want = burn_std::f16::from_bits(bits).to_f32();
        if want.is_nan() {
            assert!(got.is_nan(), "{bits:#06x}");
        } else {
            assert_eq!(got.to_bits(), want.to_bits(), "{bits:#06x}");
        }
    }
}
