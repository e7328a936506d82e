//! Burn's own quantization API on `PinnJitBackend`, unchanged: `Module::quantize_weights` with a
//! `Quantizer` (min-max calibration) and then the module's ordinary forward pass, for the
//! schemes Burn's CPU backends support — compared with burn-ndarray doing the same, and with
//! the `f32` module.

use burn::module::{Module, Param, Quantizer};
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::quantization::{Calibration, QuantLevel, QuantScheme, QuantStore, QuantValue};
use burn::tensor::{Tensor, TensorData};
use burn_ndarray::NdArray;
use pinn_jit::PinnJitBackend;

#[derive(Module, Debug)]
struct Net<B: Backend> {
    l1: Linear<B>,
    l2: Linear<B>,
}

impl<B: Backend> Net<B> {
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.l2.forward(self.l1.forward(x).tanh())
    }
}

/// Deterministic values in about [-1, 1].
fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n as u32)
        .map(|i| {
            let h = (i ^ seed).wrapping_mul(2_654_435_761).rotate_left(13);
            (h % 20_001) as f32 / 10_000.0 - 1.0
        })
        .collect()
}

fn linear<B: Backend>(k: usize, n: usize, seed: u32, device: &B::Device) -> Linear<B> {
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(values(k * n, seed), [k, n]),
            device,
        )),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(values(n, seed + 1), [n]),
            device,
        ))),
    }
}

fn net<B: Backend>(device: &B::Device) -> Net<B> {
    Net {
        l1: linear(8, 32, 1, device),
        l2: linear(32, 16, 7, device),
    }
}

/// `(quantized, f32)` outputs of the network on a fixed batch.
fn run<B: Backend>(scheme: &QuantScheme) -> (Vec<f32>, Vec<f32>) {
    let device = B::Device::default();
    let x = Tensor::<B, 2>::from_data(TensorData::new(values(5 * 8, 3), [5, 8]), &device);
    let plain = net::<B>(&device);
    let want = plain
        .forward(x.clone())
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let mut quantizer = Quantizer {
        calibration: Calibration::MinMax,
        scheme: *scheme,
    };
    let q = net::<B>(&device).quantize_weights(&mut quantizer);
    let got = q.forward(x).into_data().to_vec::<f32>().unwrap();
    (got, want)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn quantize_weights_agrees_with_ndarray() {
    let q8 = QuantScheme::default().with_value(QuantValue::Q8S);
    let block = QuantLevel::block([16]);
    // (burn-ndarray 0.21 has no Q4S block quantization; the next test covers it.)
    for (scheme, bound) in [(q8, 0.05), (q8.with_level(block), 0.05)] {
        // burn-ndarray stores codes natively (one per byte) only; PinnJitBackend takes both
        // Burn's default packed store and the native one.
        let native = scheme.with_store(QuantStore::Native);
        let (reference, ref_plain) = run::<NdArray>(&native);
        for s in [scheme, native] {
            let (got, plain) = run::<PinnJitBackend>(&s);
            assert!(max_abs_diff(&plain, &ref_plain) < 1e-5, "f32 models differ");
            let d = max_abs_diff(&got, &reference);
            assert!(
                d < 1e-4,
                "{s:?}: PinnJitBackend vs burn-ndarray differ by {d}"
            );
            close_but_quantized(&got, &plain, bound, &format!("{s:?}"));
        }
    }
}

/// Block schemes, checked against the weights themselves: every dequantized weight within half
/// a step of its block's scale of the original, and the forward pass close to the `f32` one.
/// (Burn 0.21's min-max calibration panics, on every backend, when the block size does not
/// divide a parameter's last dimension; the shapes here are multiples of 16.)
#[test]
fn quantize_weights_per_block_rounds_every_weight_to_its_blocks_grid() {
    for (value, qmax, bound) in [
        (QuantValue::Q8S, 127.0f32, 0.05),
        (QuantValue::Q4S, 7.0, 0.3),
    ] {
        let scheme = QuantScheme::default()
            .with_value(value)
            .with_level(QuantLevel::block([16]));
        let device = Default::default();
        let plain = net::<PinnJitBackend>(&device);
        let mut quantizer = Quantizer {
            calibration: Calibration::MinMax,
            scheme,
        };
        let q = net::<PinnJitBackend>(&device).quantize_weights(&mut quantizer);
        for (w, wq) in [
            (plain.l1.weight.val(), q.l1.weight.val()),
            (plain.l2.weight.val(), q.l2.weight.val()),
        ] {
            let w = w.into_data().to_vec::<f32>().unwrap();
            let wq = wq.dequantize().into_data().to_vec::<f32>().unwrap();
            for (b, (block, qblock)) in w.chunks(16).zip(wq.chunks(16)).enumerate() {
                let step = block.iter().fold(0.0f32, |m, v| m.max(v.abs())) / qmax;
                for (x, y) in block.iter().zip(qblock) {
                    assert!(
                        (x - y).abs() <= 0.5 * step * (1.0 + 1e-5) + 1e-7,
                        "{value:?} block {b}: {x} → {y} (step {step})"
                    );
                }
            }
        }
        let x = Tensor::<PinnJitBackend, 2>::from_data(
            TensorData::new(values(5 * 8, 3), [5, 8]),
            &device,
        );
        let want = plain
            .forward(x.clone())
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let got = q.forward(x).into_data().to_vec::<f32>().unwrap();
        close_but_quantized(&got, &want, bound, &format!("{value:?} block 16"));
    }
}

/// A quantized model, not the `f32` one or garbage: close to `f32` but not equal.
fn close_but_quantized(got: &[f32], plain: &[f32], bound: f32, what: &str) {
    assert!(got.iter().all(|v| v.is_finite()), "{what}: {got:?}");
    let scale = plain.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let q = max_abs_diff(got, plain);
    assert!(
        q > 0.0 && q < bound * scale,
        "{what}: |quantized − f32| = {q}"
    );
}
