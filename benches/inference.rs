//! Criterion benchmarks of `pinn_jit::inference` (issue #4's cases): the 2 → 64 → 64 → 64 → 1
//! tanh MLP compiled into one native function (with `f32` weights, and with INT8 weights for
//! issue #5) against eager burn-flex, burn-ndarray and PinnJitBackend, at batch 1, 32 and 4096.
//!
//! `cargo bench --bench inference`

mod workloads;

use std::hint::black_box;

use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor, TensorData};
use burn_flex::Flex;
use burn_ndarray::NdArray;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use pinn_jit::PinnJitBackend;
use pinn_jit::inference::{CompileOptions, CompiledModel, Tracer, WeightPrecision};
use workloads::Mlp;

const BATCHES: [usize; 3] = [1, 32, 4096];

fn eager<B: Backend>(c: &mut Criterion, name: &str) {
    let device = B::Device::default();
    let mlp = Mlp::<B>::new(&device);
    let mut group = c.benchmark_group(format!("eager_{name}"));
    group.sample_size(20);
    for batch in BATCHES {
        let x = Tensor::<B, 2>::random([batch, 2], Distribution::Uniform(-1.0, 1.0), &device);
        group.bench_with_input(BenchmarkId::from_parameter(batch), &x, |b, x| {
            b.iter(|| mlp.forward(x.clone()).into_data())
        });
    }
    group.finish();
}

fn compiled(c: &mut Criterion, weights: WeightPrecision) {
    let device = Default::default();
    let mlp = Mlp::<PinnJitBackend>::new(&device);
    let traced = CompiledModel::from_module(&mlp, Mlp::<Tracer>::new, 2, |m, x| m.forward(x))
        .expect("the benchmark MLP compiles");
    let options = CompileOptions {
        weights,
        ..CompileOptions::default()
    };
    let model = CompiledModel::compile_with(traced.graph().clone(), &options)
        .expect("the benchmark MLP compiles");
    let name = match weights {
        WeightPrecision::F32 => "compiled",
        WeightPrecision::Int8 => "compiled_int8",
    };
    let mut group = c.benchmark_group(name);
    group.sample_size(20);
    for batch in BATCHES {
        let data = Tensor::<Flex, 2>::random(
            [batch, 2],
            Distribution::Uniform(-1.0, 1.0),
            &Default::default(),
        )
        .into_data();
        let input: Vec<f32> = TensorData::to_vec(&data).expect("f32 input");
        let mut output = vec![0.0f32; batch];
        group.bench_function(BenchmarkId::from_parameter(batch), |b| {
            b.iter(|| {
                model
                    .infer_into(black_box(&input), &mut output)
                    .expect("input has the model's width");
                black_box(output[0])
            })
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    compiled(c, WeightPrecision::F32);
    compiled(c, WeightPrecision::Int8);
    eager::<Flex>(c, "flex");
    eager::<NdArray>(c, "ndarray");
    eager::<PinnJitBackend>(c, "pinn_jit");
}

criterion_group!(group, benches);
criterion_main!(group);
