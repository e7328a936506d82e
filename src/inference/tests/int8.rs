//! `i8` weights ([`WeightPrecision::Int8`]): compiled layers against a scalar reference of the
//! same quantization (bit for bit without activation), both kernels, odd sizes, edge values;
//! accuracy of a whole network against its `f32` compilation; memory; errors.

use super::{Rng, assert_close, map, option_sets};
use crate::inference::activation::tanh_ref;
use crate::inference::callout_int8::quantize_row_ref;
use crate::inference::pack::quantize_columns;
use crate::inference::{
    CompileOptions, CompiledModel, Graph, INT8_MAX_K, INT8_MIN_K, InferenceError, Node, Operand,
    WeightPrecision, int8_act_max,
};
use crate::kernel::{Inst, UnaryOp, ValueId};

fn int8(opts: CompileOptions) -> CompileOptions {
    CompileOptions {
        weights: WeightPrecision::Int8,
        ..opts
    }
}

fn tanh_of(x: u32) -> Node {
    map(
        vec![Operand::Node(x)],
        vec![Inst::Input(0), Inst::Unary(UnaryOp::Tanh, ValueId(0))],
    )
}

/// `x → dense(k → n) (→ tanh)`.
fn layer(weight: Vec<f32>, k: usize, n: usize, bias: Option<Vec<f32>>, tanh: bool) -> Graph {
    layer_after(false, weight, k, n, bias, tanh)
}

/// `x (→ tanh) → dense(k → n) (→ tanh)`: with `unit`, the dense layer's input is a `tanh`.
fn layer_after(
    unit: bool,
    weight: Vec<f32>,
    k: usize,
    n: usize,
    bias: Option<Vec<f32>>,
    tanh: bool,
) -> Graph {
    let mut nodes = vec![Node::Input];
    if unit {
        nodes.push(tanh_of(0));
    }
    nodes.push(Node::Dense {
        x: nodes.len() as u32 - 1,
        weight,
        n: n as u32,
        bias,
    });
    if tanh {
        nodes.push(tanh_of(nodes.len() as u32 - 1));
    }
    Graph {
        input_width: k,
        output: nodes.len() as u32 - 1,
        nodes,
    }
}

/// The quantized layer computed one scalar at a time (`unit`: rows quantized with range 1).
fn reference(
    unit: bool,
    x: &[f32],
    weight: &[f32],
    k: usize,
    n: usize,
    bias: Option<&[f32]>,
    tanh: bool,
) -> Vec<f32> {
    let (q, s) = quantize_columns(weight, k, n);
    let mut out = Vec::new();
    let mut codes = vec![0i16; 2 * k.div_ceil(2)];
    for row in x.chunks_exact(k) {
        let sx = quantize_row_ref(row, &mut codes, unit);
        for j in 0..n {
            let acc: i32 = (0..k)
                .map(|kk| i32::from(codes[kk]) * i32::from(q[kk * n + j]))
                .sum();
            let mut y = acc as f32 * (sx * s[j]);
            if let Some(b) = bias {
                y += b[j];
            }
            out.push(if tanh { tanh_ref(y, true) } else { y });
        }
    }
    out
}

fn check(x: &[f32], weight: &[f32], k: usize, n: usize, bias: Option<&[f32]>, tanh: bool) {
    check_after(false, x, weight, k, n, bias, tanh);
    check_after(true, x, weight, k, n, bias, tanh);
}

/// [`layer_after`] compiled with every option set against [`reference`]; with `unit` the
/// reference's input is the compiled `tanh` of `x`, so both see the same values.
fn check_after(
    unit: bool,
    x: &[f32],
    weight: &[f32],
    k: usize,
    n: usize,
    bias: Option<&[f32]>,
    tanh: bool,
) {
    let g = layer_after(unit, weight.to_vec(), k, n, bias.map(<[f32]>::to_vec), tanh);
    let input = if unit {
        let t = Graph {
            input_width: k,
            nodes: vec![Node::Input, tanh_of(0)],
            output: 1,
        };
        CompiledModel::compile(t).unwrap().infer(x).unwrap()
    } else {
        x.to_vec()
    };
    let want = reference(unit, &input, weight, k, n, bias, tanh);
    for opts in option_sets() {
        let m = CompiledModel::compile_with(g.clone(), &int8(opts.clone())).unwrap();
        let got = m.infer(x).unwrap();
        let what = format!(
            "k={k} n={n} rows={} unit={unit} tanh={tanh} {opts:?}",
            x.len() / k
        );
        if tanh {
            // The inline tanh and the AVX2 one follow the reference operation for operation,
            // but the host may contract differently without FMA.
            assert_close(&got, &want, 1e-6, &what);
        } else {
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "{what}: element {i}: got {g}, reference {w}"
                );
            }
        }
    }
}

#[test]
fn int8_layers_match_the_scalar_reference_for_odd_shapes_and_every_row_count() {
    let mut rng = Rng::new(81);
    for &(k, n) in &[
        (16, 4),
        (17, 20),
        (19, 5),
        (23, 33),
        (24, 16),
        (64, 64),
        (65, 17),
        (600, 24),
    ] {
        for rows in [0, 1, 2, 3, 5, 6, 7, 13, 61, 130] {
            let w = rng.vec(k * n, -1.5, 1.5);
            let b = rng.vec(n, -0.5, 0.5);
            let x = rng.vec(rows * k, -3.0, 3.0);
            let tanh = rows % 2 == 1;
            check(&x, &w, k, n, Some(&b), tanh);
            if rows == 7 {
                check(&x, &w, k, n, None, !tanh);
            }
        }
    }
}

#[test]
fn int8_edge_rows_zero_nan_inf_and_outliers() {
    let (k, n) = (18, 18);
    let mut rng = Rng::new(5);
    let mut w = rng.vec(k * n, -1.0, 1.0);
    for kk in 0..k {
        w[kk * n + 3] = 0.0; // an all-zero column: scale 0
    }
    w[4 * n + 7] = 1e6; // a huge weight: its column's other codes round to 0
    let b = rng.vec(n, -1.0, 1.0);
    let mut x = Vec::new();
    let mut row = |half: [f32; 9]| {
        x.extend(half);
        x.extend(half.map(|v| -v));
    };
    row([0.0; 9]); // all zero: outputs are the bias
    row([0.5, -0.0, 1e30, 0.25, -1.0, 2.0, 0.0, 3.0, -4.0]); // outlier
    row([0.5, f32::NAN, 1.0, 0.25, -1.0, 2.0, 0.0, 3.0, -4.0]); // NaN: row NaN
    row([0.5, f32::INFINITY, 1.0, 0.25, -1.0, 2.0, 0.0, 3.0, -4.0]);
    row([1e-40, -1e-39, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3e-45]); // subnormals
    let mut random = [0.0; 9];
    random.iter_mut().for_each(|v| *v = rng.f32(-1.0, 1.0));
    row(random);
    check(&x, &w, k, n, Some(&b), false);
    check(&x, &w, k, n, Some(&b), true);
    let g = layer(w.clone(), k, n, Some(b.clone()), false);
    let m = CompiledModel::compile_with(g, &int8(CompileOptions::default())).unwrap();
    let y = m.infer(&x).unwrap();
    assert_eq!(&y[..n], &b[..], "a zero row gives the bias");
    assert!(
        y[2 * n..3 * n].iter().all(|v| v.is_nan()),
        "a NaN row is NaN"
    );
    assert!(y[n..2 * n].iter().all(|v| v.is_finite()));
}

#[test]
fn int8_network_stays_within_a_percent_of_f32_and_is_four_times_smaller() {
    let mut rng = Rng::new(3);
    let widths = [2, 64, 64, 64, 1];
    let mut nodes = vec![Node::Input];
    for (i, w) in widths.windows(2).enumerate() {
        let (k, n) = (w[0], w[1]);
        let lim = (6.0 / (k + n) as f32).sqrt();
        nodes.push(Node::Dense {
            x: nodes.len() as u32 - 1,
            weight: rng.vec(k * n, -lim, lim),
            n: n as u32,
            bias: Some(rng.vec(n, -0.1, 0.1)),
        });
        if i + 2 < widths.len() {
            nodes.push(map(
                vec![Operand::Node(nodes.len() as u32 - 1)],
                vec![Inst::Input(0), Inst::Unary(UnaryOp::Tanh, ValueId(0))],
            ));
        }
    }
    let g = Graph {
        input_width: 2,
        output: nodes.len() as u32 - 1,
        nodes,
    };
    let x = rng.vec(2 * 1000, -1.0, 1.0);
    let f = CompiledModel::compile(g.clone()).unwrap();
    let want = f.infer(&x).unwrap();
    for opts in option_sets() {
        let q = CompiledModel::compile_with(g.clone(), &int8(opts)).unwrap();
        let got = q.infer(&x).unwrap();
        let num: f32 = got.iter().zip(&want).map(|(a, b)| (a - b) * (a - b)).sum();
        let den: f32 = want.iter().map(|b| b * b).sum();
        let rel = (num / den).sqrt();
        assert!(rel < 1e-2, "relative L2 difference {rel}");
        assert!(rel > 0.0, "int8 weights changed nothing");
        // Two int8 layers (the first, 2 → 64, and the last, 64 → 1, stay f32): 2·64·64
        // codes + 2·64 scales.
        let f32_bytes = f.weight_bytes();
        assert_eq!(f32_bytes, 4 * (2 * 64 + 2 * 64 * 64 + 64 + 3 * 64 + 1));
        assert_eq!(
            q.weight_bytes(),
            4 * 2 * 64 + 2 * 64 * 64 + 4 * (2 * 64 + 3 * 64) + 4 * (64 + 1)
        );
        assert!(f32_bytes as f32 / q.weight_bytes() as f32 > 3.3);
    }
}

#[test]
fn int8_bounds_activation_codes_so_sums_cannot_overflow() {
    assert_eq!(int8_act_max(64), 32767.0);
    assert_eq!(int8_act_max(516), 32767.0);
    for k in [517, 1000, INT8_MAX_K] {
        let a = int8_act_max(k) as i64;
        assert!(a < 32767 && a > 1000);
        assert!(127 * a * 2 * k.div_ceil(2) as i64 <= i64::from(i32::MAX));
    }
    // Worst case at the limit: every code and weight at its extreme, one sign.
    let k = INT8_MAX_K;
    let (n, rows) = (4, 2);
    let w = vec![-2.0f32; k * n];
    let x = vec![1.0f32; rows * k];
    check(&x, &w, k, n, None, false);
    let m = CompiledModel::compile_with(layer(w, k, n, None, false), &int8(Default::default()))
        .unwrap();
    let y = m.infer(&x).unwrap();
    let exact = -2.0 * k as f32;
    assert!(
        y.iter().all(|v| (v - exact).abs() <= 1e-3 * exact.abs()),
        "{y:?}"
    );
}

#[test]
fn int8_leaves_narrow_and_too_wide_layers_f32() {
    let mut rng = Rng::new(9);
    // n < 4: f32 dot products; k < INT8_MIN_K or k > INT8_MAX_K: f32 panels.
    for (k, n) in [(16, 3), (INT8_MIN_K - 1, 8), (INT8_MAX_K + 1, 4)] {
        let g = layer(rng.vec(k * n, -1.0, 1.0), k, n, None, false);
        let f = CompiledModel::compile(g.clone()).unwrap();
        let q = CompiledModel::compile_with(g, &int8(Default::default())).unwrap();
        assert_eq!(f.weight_bytes(), q.weight_bytes());
        let x = rng.vec(3 * k, -1.0, 1.0);
        assert_eq!(f.infer(&x).unwrap(), q.infer(&x).unwrap());
    }
}

#[test]
fn int8_rejects_non_finite_weights_with_a_typed_error() {
    let mut w = vec![0.5f32; 16 * 4];
    w[5] = f32::INFINITY;
    let g = layer(w, 16, 4, None, false);
    assert!(CompiledModel::compile(g.clone()).is_ok(), "f32 keeps them");
    match CompiledModel::compile_with(g, &int8(Default::default())) {
        Err(InferenceError::InvalidGraph(m)) => assert!(m.contains("finite"), "{m}"),
        other => panic!("{other:?}"),
    }
}
