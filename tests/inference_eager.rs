//! `pinn_jit::inference` against eager Burn: random networks (widths, activations, seeds) and
//! random inputs with edge values, compiled and compared with eager PinnJitBackend, burn-flex
//! and burn-ndarray to 1e-5 relative (to each output's magnitude plus the batch's largest).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, activation};
use burn_flex::Flex;
use burn_ndarray::NdArray;
use pinn_jit::PinnJitBackend;
use pinn_jit::inference::{CompiledModel, Tracer};

#[derive(Module, Debug)]
struct Net<B: Backend> {
    layers: Vec<Linear<B>>,
}

#[derive(Clone, Copy, Debug)]
enum Act {
    Tanh,
    Sin,
    Sigmoid,
    Softplus,
    Silu,
    Gelu,
}

fn act<B: Backend>(a: Act, x: Tensor<B, 2>) -> Tensor<B, 2> {
    match a {
        Act::Tanh => x.tanh(),
        Act::Sin => x.sin(),
        Act::Sigmoid => activation::sigmoid(x),
        Act::Softplus => activation::softplus(x, 1.0),
        Act::Silu => activation::silu(x),
        Act::Gelu => activation::gelu(x),
    }
}

impl<B: Backend> Net<B> {
    fn new(widths: &[usize], device: &B::Device) -> Self {
        Net {
            layers: widths
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect(),
        }
    }

    fn forward(&self, x: Tensor<B, 2>, a: Act) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        let mut h = x;
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(h);
            if i < last {
                h = act(a, h);
            }
        }
        h
    }
}

/// The same network on another backend.
fn transfer<B1: Backend, B2: Backend>(m: &Net<B1>, widths: &[usize]) -> Net<B2> {
    let rec = BinBytesRecorder::<FullPrecisionSettings>::default();
    let bytes = Recorder::<B1>::record(&rec, m.clone().into_record(), ()).unwrap();
    let device = Default::default();
    let record = Recorder::<B2>::load(&rec, bytes, &device).unwrap();
    Net::<B2>::new(widths, &device).load_record(record)
}

fn eager<B: Backend>(m: &Net<B>, x: &[f32], width: usize, a: Act) -> Vec<f32> {
    let rows = x.len() / width;
    let t = Tensor::<B, 2>::from_data(
        TensorData::new(x.to_vec(), [rows, width]),
        &Default::default(),
    );
    m.forward(t, a)
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap()
}

fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    let scale = b
        .iter()
        .filter(|v| v.is_finite())
        .fold(1e-3f32, |m, v| m.max(v.abs()));
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let ok = if x.is_nan() || y.is_nan() {
            x.is_nan() && y.is_nan()
        } else if x.is_infinite() || y.is_infinite() {
            x == y
        } else {
            (x - y).abs() <= 1e-5 * (y.abs() + scale)
        };
        assert!(ok, "{what}: element {i}: compiled {x}, eager {y}");
    }
}

struct Lcg(u64);
impl Lcg {
    fn f32(&mut self, lo: f32, hi: f32) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (hi - lo) * ((self.0 >> 40) as f32 / (1u64 << 24) as f32)
    }
}

#[test]
fn random_networks_match_eager_backends() {
    let configs: [(&[usize], Act); 8] = [
        (&[2, 64, 64, 64, 1], Act::Tanh),
        (&[2, 32, 32, 2], Act::Sin),
        (&[3, 20, 1], Act::Sigmoid),
        (&[1, 17, 33, 4], Act::Softplus),
        (&[4, 16, 16, 3], Act::Silu),
        (&[2, 24, 24, 1], Act::Gelu),
        (&[5, 8, 40, 2], Act::Tanh),
        (&[2, 128, 1], Act::Tanh),
    ];
    for (seed, (widths, a)) in configs.iter().enumerate() {
        let device = Default::default();
        PinnJitBackend::seed(&device, seed as u64);
        let m = Net::<PinnJitBackend>::new(widths, &device);
        let w = widths[0];
        let compiled = CompiledModel::from_module(
            &m,
            |d| Net::<Tracer>::new(widths, d),
            w,
            |m, x| m.forward(x, *a),
        )
        .unwrap_or_else(|e| panic!("{widths:?} {a:?}: {e}"));
        let flex: Net<Flex> = transfer(&m, widths);
        let nd: Net<NdArray> = transfer(&m, widths);
        let mut rng = Lcg(seed as u64 + 1);
        for rows in [1usize, 3, 32, 257] {
            let mut x: Vec<f32> = (0..rows * w).map(|_| rng.f32(-2.0, 2.0)).collect();
            if rows >= 32 {
                // Edge values: NaN, ±inf, large magnitudes, signed zero, subnormals. A periodic
                // activation of a huge argument is ill-conditioned (sin(1e6·w) changes with the
                // last bit of the sum, so even the eager backends disagree): no large
                // magnitudes for `Sin`.
                let mut edges = vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 1e-40];
                if !matches!(a, Act::Sin) {
                    edges.extend([1e6, -3e7, 1e30]);
                }
                for (i, e) in edges.iter().enumerate() {
                    x[i * w] = *e;
                }
            }
            let got = compiled.infer(&x).unwrap();
            let what = format!("{widths:?} {a:?} rows={rows}");
            assert_close(
                &got,
                &eager(&m, &x, w, *a),
                &format!("{what} vs PinnJitBackend"),
            );
            assert_close(
                &got,
                &eager(&flex, &x, w, *a),
                &format!("{what} vs burn-flex"),
            );
            assert_close(
                &got,
                &eager(&nd, &x, w, *a),
                &format!("{what} vs burn-ndarray"),
            );
            if rows >= 32 {
                assert!(
                    got[..compiled.output_width()].iter().all(|v| v.is_nan()),
                    "NaN propagates"
                );
            }
        }
    }
}
