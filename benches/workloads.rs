//! The workloads of issue #2's benchmark, generic over the backend, shared by
//! `benches/elementwise.rs` (criterion) and `examples/fusion_bench.rs` (a comparison table).

#![allow(dead_code)] // each includer uses a subset

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, ElementConversion, Tensor};

/// Elements in the element-wise chain workload.
pub const CHAIN_LEN: usize = 1 << 20;
/// Batch of the MLP workloads.
pub const MLP_BATCH: usize = 8192;

/// Ten element-wise operations, the kind a PINN residual is made of.
pub fn chain<B: Backend>(x: Tensor<B, 1>) -> Tensor<B, 1> {
    let y = x.clone() * 1.5 + 0.25; // 2
    let y = y.tanh() * x.clone(); // 4
    let y = y - 0.5; // 5
    let y = y.abs().sqrt(); // 7
    let y = y * x; // 8
    let y = y.exp(); // 9
    y.neg() // 10
}

/// The MLP of the benchmarks: 2 → 64 → 64 → 64 → 1 with tanh.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    layers: Vec<Linear<B>>,
}

impl<B: Backend> Mlp<B> {
    /// A freshly initialised MLP.
    pub fn new(device: &B::Device) -> Self {
        let widths = [2, 64, 64, 64, 1];
        let layers = widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Self { layers }
    }

    /// The forward pass.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if i < last {
                h = h.tanh();
            }
        }
        h
    }
}

/// Random input for the chain workload.
pub fn chain_input<B: Backend>(device: &B::Device) -> Tensor<B, 1> {
    Tensor::random([CHAIN_LEN], Distribution::Uniform(-2.0, 2.0), device)
}

/// Random input for the MLP workloads.
pub fn mlp_input<B: Backend>(device: &B::Device) -> Tensor<B, 2> {
    Tensor::random([MLP_BATCH, 2], Distribution::Uniform(-1.0, 1.0), device)
}

/// One forward + backward pass of the MLP with an MSE loss against `target`; returns the loss
/// value so the whole computation must run.
pub fn train_step<B: AutodiffBackend>(mlp: &Mlp<B>, x: Tensor<B, 2>, target: Tensor<B, 2>) -> f32 {
    let loss = (mlp.forward(x) - target).powf_scalar(2.0).mean();
    let grads = loss.backward();
    // Touch one gradient so that nothing is optimised away.
    let g = mlp.layers[0]
        .weight
        .grad(&grads)
        .expect("weight has a gradient");
    let _ = g.sum().into_scalar();
    loss.into_scalar().elem::<f32>()
}
