//! Criterion benchmarks of issue #2's workloads on PinnJitBackend, burn-flex and burn-ndarray:
//! a 10-op element-wise chain on 1M f32, a tanh MLP forward at batch 8192, and one Autodiff
//! forward+backward of that MLP.
//!
//! `cargo bench --bench elementwise`

mod workloads;

use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor};
use burn_flex::Flex;
use burn_ndarray::NdArray;
use criterion::{Criterion, criterion_group, criterion_main};
use pinn_jit::PinnJitBackend;
use workloads::{MLP_BATCH, Mlp};

fn bench_backend<B: Backend>(c: &mut Criterion, name: &str) {
    let device = B::Device::default();
    let mut group = c.benchmark_group(name);
    group.sample_size(20);

    let x = workloads::chain_input::<B>(&device);
    group.bench_function("chain_10op_1M", |b| {
        b.iter(|| {
            let y = workloads::chain(x.clone());
            y.slice(0..1).into_scalar().elem::<f32>()
        })
    });

    let mlp = Mlp::<B>::new(&device);
    let input = workloads::mlp_input::<B>(&device);
    group.bench_function("mlp_fwd_b8192", |b| {
        b.iter(|| {
            let y = mlp.forward(input.clone());
            y.slice([0..1, 0..1]).into_scalar().elem::<f32>()
        })
    });

    let mlp_ad = Mlp::<Autodiff<B>>::new(&device);
    let input_ad: Tensor<Autodiff<B>, 2> = workloads::mlp_input(&device);
    let target = (input_ad.clone().slice([0..MLP_BATCH, 0..1]) * 3.0).sin();
    group.bench_function("mlp_train_b8192", |b| {
        b.iter(|| workloads::train_step(&mlp_ad, input_ad.clone(), target.clone()))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_backend::<PinnJitBackend>(c, "pinn-jit");
    bench_backend::<Flex>(c, "burn-flex");
    bench_backend::<NdArray>(c, "burn-ndarray");
}

criterion_group!(elementwise, benches);
criterion_main!(elementwise);
