//! Traced Burn models (MLPs with every PINN activation, a `PinnMlp` with Fourier features):
//! exported with f32 weights they match the compiled model to 1e-5; with int8 weights they
//! match the dequantized model exactly and the f32 model within the measured bound.

use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Tensor, TensorData};

use super::{Rng, assert_close, check_fp32, run_mcu};
use crate::PinnJitDevice;
use crate::export::mcu::{
    McuExportError, McuOptions, McuWeights, graph_to_mcu_bytes, to_mcu_bytes,
};
use crate::inference::tests::element_wise_activations;
use crate::inference::{CompiledModel, Graph, Node, Tracer};
use crate::pinn::{Activation, FourierConfig, PinnMlpConfig};

type T2 = Tensor<Tracer, 2>;

fn lin(i: usize, o: usize) -> Linear<Tracer> {
    LinearConfig::new(i, o).init(&PinnJitDevice::Cpu)
}

/// A `sizes[0] → … → sizes[last]` MLP with `act` between layers.
fn mlp(sizes: &[usize], act: impl Fn(T2) -> T2) -> CompiledModel {
    let layers: Vec<Linear<Tracer>> = sizes.windows(2).map(|w| lin(w[0], w[1])).collect();
    CompiledModel::trace(sizes[0], |x| {
        let mut h = x;
        for (i, l) in layers.iter().enumerate() {
            h = l.forward(h);
            if i + 1 < layers.len() {
                h = act(h);
            }
        }
        h
    })
    .unwrap()
}

/// The Burgers network: 2 → 64 → 64 → 64 → 1, tanh.
fn burgers() -> CompiledModel {
    mlp(&[2, 64, 64, 64, 1], |h| h.tanh())
}

#[test]
fn the_burgers_mlp_fits_in_well_under_64_kib_and_matches() {
    let model = burgers();
    let exported = check_fp32(&model, 1.0, "burgers fp32");
    println!(
        "burgers fp32: {} model bytes, buffer {} floats = {} bytes",
        exported.bytes.len(),
        exported.buffer_len,
        exported.buffer_bytes
    );
    assert!(exported.buffer_bytes <= 64 * 1024);
    // Two 64-wide values in turn, the 2 inputs and the map's 2 registers.
    assert!(
        exported.buffer_len <= 2 + 2 + 2 * 64,
        "{}",
        exported.buffer_len
    );
    // The weights dominate the model: 8577 f32 parameters.
    assert!(exported.bytes.len() >= 8577 * 4 && exported.bytes.len() < 8577 * 4 + 1024);
}

#[test]
fn every_pinn_activation_and_more_match_the_compiled_model() {
    // The runtime has no general `powf` (only the square), so no cube.
    let acts: Vec<_> = element_wise_activations()
        .into_iter()
        .filter(|(name, _)| *name != "cube")
        .collect();
    for (sizes, range) in [(&[3usize, 24, 2][..], 2.0f32), (&[2, 16, 16, 1][..], 1.5)] {
        for (name, act) in &acts {
            let model = mlp(sizes, act);
            check_fp32(&model, range, &format!("{name} {sizes:?}"));
        }
    }
}

#[test]
fn pinn_mlps_with_fourier_features_bounds_and_residuals_match() {
    for (i, act) in Activation::ALL.into_iter().enumerate() {
        let cfg = PinnMlpConfig::new(2, 2, vec![32, 32])
            .with_activation(act)
            .with_fourier(Some(FourierConfig::new(8)))
            .with_input_bounds(Some((vec![-1.0, 0.0], vec![1.0, 1.0])))
            .with_residual(i % 2 == 0);
        let net = cfg.init::<Tracer>(i as u64, &PinnJitDevice::Cpu).unwrap();
        let model = CompiledModel::trace(2, |x| net.forward(x)).unwrap();
        let has_concat = model
            .graph()
            .nodes
            .iter()
            .any(|n| matches!(n, Node::Concat { .. }));
        assert!(has_concat, "Fourier features concatenate sin and cos");
        check_fp32(&model, 1.0, &format!("PinnMlp {}", act.name()));
    }
}

/// The same graph with every dense layer's weights replaced by what int8 stores.
fn dequantized(g: &Graph, per_channel: bool) -> Graph {
    let mut g = g.clone();
    for node in &mut g.nodes {
        if let Node::Dense { weight, n, .. } = node {
            let n = *n as usize;
            let (codes, scales) = super::super::quantize(weight, weight.len() / n, n, per_channel)
                .expect("finite weights");
            for (i, (w, q)) in weight.iter_mut().zip(codes).enumerate() {
                *w = q as f32 * scales[if per_channel { i % n } else { 0 }];
            }
        }
    }
    g
}

#[test]
fn int8_matches_the_dequantized_model_and_stays_near_fp32() {
    let model = burgers();
    let x = Rng::new(11).vec(2 * 256, -1.0, 1.0);
    let want_f32 = model.infer(&x).unwrap();
    let fp32 = to_mcu_bytes(&model, &McuOptions::default()).unwrap();
    for (weights, per_channel, bound) in [
        (McuWeights::Int8PerChannel, true, 2e-2f32),
        (McuWeights::Int8PerTensor, false, 4e-2),
    ] {
        let exported = to_mcu_bytes(&model, &McuOptions { weights }).unwrap();
        let got = run_mcu(&exported, &x);
        // Exactly what int8 stores: the dequantized f32 model (same sums, same order,
        // except that int8 scales after summing).
        let reference = dequantized(model.graph(), per_channel).eval(&x).unwrap();
        assert_close(
            &got,
            &reference,
            1e-5,
            &format!("{weights:?} vs dequantized"),
        );
        // Against the f32 model: the largest error relative to the output's range.
        let range = want_f32.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = got
            .iter()
            .zip(&want_f32)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        println!(
            "burgers {weights:?}: {} model bytes (fp32 {}), max |int8 - fp32| = {worst:.2e} \
             (output range {range:.2e}, {:.2e} relative)",
            exported.bytes.len(),
            fp32.bytes.len(),
            worst / range
        );
        assert!(
            worst <= bound * range,
            "{weights:?}: {worst} > {bound} · {range}"
        );
        assert!(
            exported.bytes.len() * 3 < fp32.bytes.len(),
            "int8 is about 4x smaller"
        );
        assert_eq!(exported.buffer_len, fp32.buffer_len);
    }
}

#[test]
fn int8_refuses_non_finite_weights() {
    let g = Graph {
        input_width: 2,
        nodes: vec![
            Node::Input,
            Node::Dense {
                x: 0,
                weight: vec![1.0, f32::NAN],
                n: 1,
                bias: None,
            },
        ],
        output: 1,
    };
    let e = graph_to_mcu_bytes(
        &g,
        &McuOptions {
            weights: McuWeights::Int8PerChannel,
        },
    )
    .unwrap_err();
    assert_eq!(e, McuExportError::NonFiniteWeights { node: 1 });
    assert!(e.to_string().contains("Fp32"), "{e}");
    // f32 keeps NaN weights as they are (and the runtime propagates them).
    let exported = graph_to_mcu_bytes(&g, &McuOptions::default()).unwrap();
    assert!(run_mcu(&exported, &[1.0, 1.0])[0].is_nan());
}

#[test]
fn nan_and_infinite_inputs_propagate_like_the_compiled_model() {
    let model = mlp(&[2, 8, 1], |h| h.tanh());
    let exported = to_mcu_bytes(&model, &McuOptions::default()).unwrap();
    let x = [f32::NAN, 0.5, f32::INFINITY, 0.0, f32::NEG_INFINITY, 1.0];
    let got = run_mcu(&exported, &x);
    let want = model.infer(&x).unwrap();
    assert_close(&got, &want, 1e-5, "edge inputs");
    assert!(got[0].is_nan());
}

#[test]
fn batches_equal_single_samples() {
    let model = burgers();
    let exported = to_mcu_bytes(&model, &McuOptions::default()).unwrap();
    let m = pinn_jit_mcu::Model::parse(&exported.bytes).unwrap();
    let x = Rng::new(5).vec(2 * 9, -1.0, 1.0);
    let batch = run_mcu(&exported, &x);
    let mut buffer = vec![0.0f32; m.buffer_len()];
    for (r, row) in x.chunks(2).enumerate() {
        let mut y = [0.0f32];
        m.infer(row, &mut y, &mut buffer).unwrap();
        assert_eq!(y[0].to_bits(), batch[r].to_bits());
    }
    // Fourier features in one more eager check: the traced data path.
    let b = T2::from_data(
        TensorData::new(Rng::new(3).vec(16, -2.0, 2.0), [2, 8]),
        &PinnJitDevice::Cpu,
    );
    let l = lin(16, 1);
    let ff = CompiledModel::trace(2, |x| {
        let p = x.matmul(b.clone());
        l.forward(Tensor::cat(vec![p.clone().sin(), p.cos()], 1))
    })
    .unwrap();
    check_fp32(&ff, 1.0, "fourier features");
}
