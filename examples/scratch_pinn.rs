use pinn_jit::inference::{CompileOptions, CompiledModel, Tracer, WeightPrecision};
use pinn_jit::pinn::PinnMlpConfig;
use std::time::Instant;
fn main() {
    let cfg = PinnMlpConfig::new(2, 1, vec![32, 32, 32, 32])
        .with_input_bounds(Some((vec![-1.0, 0.0], vec![1.0, 1.0])));
    let m = cfg.init::<Tracer>(1, &Default::default()).unwrap();
    let traced = CompiledModel::trace(2, |x| m.forward(x)).unwrap();
    if let Some(n) = traced.graph().nodes.get(3) {
        println!("{n:?}");
    }
    let x: Vec<f32> = (0..8192).map(|i| (i % 97) as f32 / 97.0).collect();
    let mut y = vec![0f32; 4096];
    for w in [WeightPrecision::F32, WeightPrecision::Int8] {
        let c = CompiledModel::compile_with(
            traced.graph().clone(),
            &CompileOptions {
                weights: w,
                parallel_min_rows: usize::MAX,
                ..Default::default()
            },
        )
        .unwrap();
        let t = Instant::now();
        for _ in 0..1000 {
            c.infer_into(&x, &mut y).unwrap();
        }
        let tp = 4096.0 * 1000.0 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut y1 = [0f32];
        for i in 0..1_000_000 {
            let a = 2 * (i % 4096);
            c.infer_into(std::hint::black_box(&x[a..a + 2]), &mut y1)
                .unwrap();
        }
        println!(
            "{w:?}: {:.2} M/s, b1 {:.3} us",
            tp / 1e6,
            t.elapsed().as_secs_f64()
        );
    }
}
