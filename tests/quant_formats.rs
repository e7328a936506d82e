//! `pinn_jit::quant` weight formats against a straightforward reference quantizer: codes,
//! scales, INT4 packing, edge values (all-zero, constant, single huge outlier, NaN), odd sizes
//! that fill neither a byte nor a block, and the typed errors.

use burn::tensor::quantization::{QuantLevel, QuantParam, QuantScheme, QuantValue};
use pinn_jit::quant::{
    Granularity, QuantError, QuantMatrix, Storage, WeightFormat, pack_int4, unpack_int4_row,
};
use proptest::prelude::*;

/// The reference: for every element, the group it belongs to is found from its index alone,
/// the scale is `max |group| / qmax`, the code `round_ties_even(x / scale)` clamped (0 for a
/// zero scale).
fn reference(w: &[f32], rows: usize, cols: usize, format: WeightFormat) -> (Vec<i8>, Vec<f32>) {
    let (qmax, g) = match format {
        WeightFormat::Int8(g) => (127.0f32, g),
        WeightFormat::Int4(g) => (7.0f32, g),
        _ => unreachable!(),
    };
    let group = |r: usize, c: usize| -> (usize, usize) {
        match g {
            Granularity::PerTensor => (0, 0),
            Granularity::PerChannel => (r, 0),
            Granularity::PerBlock(n) => (r, c / n.min(cols)),
        }
    };
    let mut codes = Vec::new();
    let mut scales = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let me = group(r, c);
            let mut amax = 0.0f32;
            for r2 in 0..rows {
                for c2 in 0..cols {
                    if group(r2, c2) == me {
                        amax = amax.max(w[r2 * cols + c2].abs());
                    }
                }
            }
            let s = amax / qmax;
            let q = if s == 0.0 {
                0
            } else {
                (w[r * cols + c] / s).round_ties_even().clamp(-qmax, qmax) as i8
            };
            codes.push(q);
            scales.push(s);
        }
    }
    (codes, scales)
}

fn codes_of(m: &QuantMatrix) -> Vec<i8> {
    let mut out = vec![0i8; m.rows() * m.cols()];
    for r in 0..m.rows() {
        m.row_codes_into(r, &mut out[r * m.cols()..(r + 1) * m.cols()]);
    }
    out
}

fn check_against_reference(w: &[f32], rows: usize, cols: usize, format: WeightFormat) {
    let m = QuantMatrix::quantize(w, rows, cols, format, "test").unwrap();
    let (codes, scales) = reference(w, rows, cols, format);
    assert_eq!(codes_of(&m), codes, "codes, {format:?} {rows}x{cols}");
    let deq = m.dequantize();
    for i in 0..w.len() {
        let expect = f32::from(codes[i]) * scales[i];
        assert_eq!(deq[i], expect, "dequantized element {i}, {format:?}");
        // the rounding error is at most half a step
        assert!(
            (deq[i] - w[i]).abs() <= 0.5 * scales[i] * (1.0 + 1e-6),
            "error bound at {i}"
        );
    }
}

fn format_strategy() -> impl Strategy<Value = WeightFormat> {
    let g = prop_oneof![
        Just(Granularity::PerTensor),
        Just(Granularity::PerChannel),
        (1usize..40).prop_map(Granularity::PerBlock),
    ];
    (g, any::<bool>()).prop_map(|(g, eight)| {
        if eight {
            WeightFormat::Int8(g)
        } else {
            WeightFormat::Int4(g)
        }
    })
}

fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        6 => -3.0f32..3.0,
        1 => Just(0.0f32),
        1 => -1e6f32..1e6,
        1 => -1e-6f32..1e-6,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn matches_the_reference_quantizer(
        (rows, cols, w) in (1usize..7, 1usize..37).prop_flat_map(|(r, c)| {
            (Just(r), Just(c), proptest::collection::vec(value(), r * c))
        }),
        format in format_strategy(),
    ) {
        check_against_reference(&w, rows, cols, format);
    }

    #[test]
    fn int4_packing_round_trips(
        (rows, cols, codes) in (1usize..5, 1usize..20).prop_flat_map(|(r, c)| {
            (Just(r), Just(c), proptest::collection::vec(-8i8..=7, r * c))
        }),
    ) {
        let packed = pack_int4(&codes, rows, cols);
        prop_assert_eq!(packed.len(), rows * cols.div_ceil(2));
        let stride = cols.div_ceil(2);
        let mut row = vec![0i8; cols];
        for r in 0..rows {
            unpack_int4_row(&packed[r * stride..(r + 1) * stride], &mut row);
            prop_assert_eq!(&row[..], &codes[r * cols..(r + 1) * cols]);
        }
    }

    #[test]
    fn linear_weight_layout_is_transposed(d_in in 1usize..9, d_out in 1usize..9) {
        let w: Vec<f32> = (0..d_in * d_out).map(|i| i as f32 - 7.0).collect();
        let m = QuantMatrix::from_linear_weight(&w, d_in, d_out, WeightFormat::F32, "t").unwrap();
        prop_assert_eq!((m.rows(), m.cols()), (d_out, d_in));
        prop_assert_eq!(m.dequantize_linear_weight(), w);
    }
}

#[test]
fn all_zero_matrix_has_zero_scales_and_codes() {
    for f in [
        WeightFormat::Int8(Granularity::PerTensor),
        WeightFormat::Int4(Granularity::PerBlock(3)),
    ] {
        let m = QuantMatrix::quantize(&[0.0; 10], 2, 5, f, "zeros").unwrap();
        assert!(m.scales().iter().all(|&s| s == 0.0));
        assert!(m.dequantize().iter().all(|&v| v == 0.0));
    }
}

#[test]
fn constant_matrix_is_exact() {
    let w = [0.3f32; 15];
    for f in [
        WeightFormat::Int8(Granularity::PerChannel),
        WeightFormat::Int4(Granularity::PerTensor),
    ] {
        let m = QuantMatrix::quantize(&w, 3, 5, f, "const").unwrap();
        for v in m.dequantize() {
            assert!((v - 0.3).abs() <= 0.3 * 1e-6, "{v}");
        }
    }
}

#[test]
fn single_huge_outlier_only_hurts_its_own_group() {
    let mut w: Vec<f32> = (0..64).map(|i| ((i as f32) * 0.37).sin()).collect();
    w[5] = 1e30;
    check_against_reference(&w, 4, 16, WeightFormat::Int8(Granularity::PerTensor));
    check_against_reference(&w, 4, 16, WeightFormat::Int8(Granularity::PerBlock(4)));
    let per_block =
        QuantMatrix::quantize(&w, 4, 16, WeightFormat::Int8(Granularity::PerBlock(4)), "o")
            .unwrap()
            .dequantize();
    // rows 1..4 do not share a block with the outlier
    for i in 16..64 {
        assert!((per_block[i] - w[i]).abs() < 0.01, "element {i}");
    }
    assert!((per_block[5] / 1e30 - 1.0).abs() < 1e-6);
}

#[test]
fn odd_sizes_fill_neither_bytes_nor_blocks() {
    let w: Vec<f32> = (0..3 * 7).map(|i| (i as f32 * 0.7).cos()).collect();
    let m = QuantMatrix::quantize(
        &w,
        3,
        7,
        WeightFormat::Int4(Granularity::PerBlock(3)),
        "odd",
    )
    .unwrap();
    match m.storage() {
        Storage::Int4(p) => assert_eq!(p.len(), 3 * 4),
        other => panic!("{other:?}"),
    }
    assert_eq!(m.scales().len(), 3 * 3);
    assert_eq!(m.memory_bytes(), 12 + 4 * 9);
    check_against_reference(&w, 3, 7, WeightFormat::Int4(Granularity::PerBlock(3)));
    // a block larger than the row is one block per row
    check_against_reference(&w, 3, 7, WeightFormat::Int8(Granularity::PerBlock(100)));
}

#[test]
fn memory_of_each_format() {
    let w = vec![0.5f32; 32 * 32];
    let bytes = |f| {
        QuantMatrix::quantize(&w, 32, 32, f, "m")
            .unwrap()
            .memory_bytes()
    };
    assert_eq!(bytes(WeightFormat::F32), 4096);
    assert_eq!(bytes(WeightFormat::F16), 2048);
    assert_eq!(bytes(WeightFormat::Int8(Granularity::PerTensor)), 1024 + 4);
    assert_eq!(
        bytes(WeightFormat::Int8(Granularity::PerChannel)),
        1024 + 128
    );
    assert_eq!(bytes(WeightFormat::Int4(Granularity::PerTensor)), 512 + 4);
}

#[test]
fn f16_storage_rounds_to_nearest_half() {
    let w = [1.0f32 / 3.0, -65504.0, 1e-8, 0.1];
    let m = QuantMatrix::quantize(&w, 1, 4, WeightFormat::F16, "h").unwrap();
    let d = m.dequantize();
    for (a, b) in d.iter().zip(&w) {
        assert_eq!(*a, burn_std::f16::from_f32(*b).to_f32());
    }
    assert!((d[0] - w[0]).abs() / w[0] < 1e-3);
}

#[test]
fn bad_input_is_a_typed_error() {
    let f = WeightFormat::Int8(Granularity::PerChannel);
    let e = QuantMatrix::quantize(&[], 0, 4, f, "empty").unwrap_err();
    assert!(matches!(e, QuantError::Empty { .. }), "{e}");
    let e = QuantMatrix::quantize(&[1.0, f32::NAN, 2.0], 1, 3, f, "nan").unwrap_err();
    assert!(matches!(e, QuantError::NonFinite { index: 1, .. }), "{e}");
    assert!(e.to_string().contains("before quantizing"));
    let e = QuantMatrix::quantize(&[1.0, f32::INFINITY], 1, 2, f, "inf").unwrap_err();
    assert!(matches!(e, QuantError::NonFinite { index: 1, .. }), "{e}");
    let e = QuantMatrix::quantize(
        &[1.0; 4],
        2,
        2,
        WeightFormat::Int4(Granularity::PerBlock(0)),
        "b0",
    )
    .unwrap_err();
    assert!(matches!(e, QuantError::InvalidConfig(_)), "{e}");
    assert!(e.to_string().contains("try 32"));
    let e = QuantMatrix::quantize(&[1.0; 5], 2, 2, f, "shape").unwrap_err();
    assert!(matches!(e, QuantError::ShapeMismatch { .. }), "{e}");
}

#[test]
fn burn_schemes_map_or_are_refused_by_name() {
    let s = QuantScheme::default().with_value(QuantValue::Q8S);
    assert_eq!(
        WeightFormat::try_from(&s).unwrap(),
        WeightFormat::Int8(Granularity::PerTensor)
    );
    let s = QuantScheme::default()
        .with_value(QuantValue::Q4S)
        .with_level(QuantLevel::block([16]));
    assert_eq!(
        WeightFormat::try_from(&s).unwrap(),
        WeightFormat::Int4(Granularity::PerBlock(16))
    );
    for (s, name) in [
        (QuantScheme::default(), "Q8F"),
        (QuantScheme::default().with_value(QuantValue::E4M3), "E4M3"),
        (QuantScheme::default().with_value(QuantValue::Q2S), "Q2S"),
        (
            QuantScheme::default()
                .with_value(QuantValue::Q8S)
                .with_level(QuantLevel::block([4, 4])),
            "[4, 4]",
        ),
        (
            QuantScheme::default()
                .with_value(QuantValue::Q8S)
                .with_param(QuantParam::F16),
            "F16",
        ),
    ] {
        let e = WeightFormat::try_from(&s).unwrap_err();
        assert!(matches!(e, QuantError::UnsupportedScheme(_)));
        let msg = e.to_string();
        assert!(msg.contains(name), "{msg}");
        assert!(msg.contains("pick one of those"), "{msg}");
    }
}

#[test]
fn rounding_is_ties_to_even_and_saturating() {
    use pinn_jit::quant::quantize_value;
    for (x, q) in [
        (2.5f32, 2i8),
        (3.5, 4),
        (-2.5, -2),
        (-0.5, 0),
        (0.49999997, 0),
        (126.5, 126),
        (127.5, 127),
        (1e30, 127),
        (-1e30, -127),
        (f32::INFINITY, 127),
        (f32::NAN, 0),
    ] {
        assert_eq!(quantize_value(x, 1.0, 127), q, "{x}");
        let r = x.round_ties_even().clamp(-127.0, 127.0) as i8;
        assert_eq!(r, q, "reference {x}");
    }
    assert_eq!(quantize_value(7.5, 1.0, 7), 7);
    assert_eq!(quantize_value(-6.5, 1.0, 7), -6);
    assert_eq!(quantize_value(5.0, 0.0, 7), 0);
}
