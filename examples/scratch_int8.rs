use pinn_jit::inference::{CompileOptions, CompiledModel, Graph, Node, Operand, WeightPrecision};
use pinn_jit::kernel::{ElemType, Inst, KernelSpec, Output, UnaryOp, ValueId};
use std::time::Instant;
fn main() {
    let which = std::env::args().nth(1).unwrap_or("both".into());
    let widths: Vec<usize> = std::env::var("W")
        .map(|w| w.split(",").map(|v| v.parse().unwrap()).collect())
        .unwrap_or(vec![2, 64, 64, 64, 1]);
    let mut nodes = vec![Node::Input];
    let mut seed = 1u32;
    let mut r = || {
        seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
        (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    for (i, w) in widths.windows(2).enumerate() {
        let (k, n) = (w[0], w[1]);
        nodes.push(Node::Dense {
            x: nodes.len() as u32 - 1,
            weight: (0..k * n).map(|_| r() * 0.4).collect(),
            n: n as u32,
            bias: Some((0..n).map(|_| r() * 0.1).collect()),
        });
        if i + 2 < widths.len() {
            nodes.push(Node::Map {
                operands: vec![Operand::Node(nodes.len() as u32 - 1)],
                spec: KernelSpec {
                    float: ElemType::F32,
                    inputs: vec![ElemType::F32],
                    num_scalars: 0,
                    body: vec![Inst::Input(0), Inst::Unary(UnaryOp::Tanh, ValueId(0))],
                    outputs: vec![Output {
                        value: ValueId(1),
                        ty: ElemType::F32,
                    }],
                },
            });
        }
    }
    let g = Graph {
        input_width: 2,
        output: nodes.len() as u32 - 1,
        nodes,
    };
    let x: Vec<f32> = (0..8192).map(|_| r()).collect();
    let mut y = vec![0f32; 4096];
    for (name, w) in [
        ("f32", WeightPrecision::F32),
        ("int8", WeightPrecision::Int8),
    ] {
        if which != "both" && which != name {
            continue;
        }
        for min_rows in [Some(1)] {
            let m = CompiledModel::compile_with(
                g.clone(),
                &CompileOptions {
                    weights: w,
                    parallel_min_rows: usize::MAX,
                    avx2_dense_min_rows: min_rows,
                    ..Default::default()
                },
            )
            .unwrap();
            let t = Instant::now();
            let reps = if std::env::var("B1").is_ok() { 1 } else { 2000 };
            for _ in 0..reps {
                m.infer_into(&x, &mut y).unwrap();
            }
            let tp = 4096.0 * reps as f64 / t.elapsed().as_secs_f64();
            let t = Instant::now();
            let mut y1 = [0f32];
            for i in 0..1_000_000 {
                let a = 2 * (i % 4096);
                m.infer_into(std::hint::black_box(&x[a..a + 2]), &mut y1)
                    .unwrap();
            }
            let b1 = t.elapsed().as_secs_f64() / 1e6 * 1e6;
            println!(
                "{name} callout={min_rows:?}: b4096 1 thread {:.2} M/s, b1 {:.3} us",
                tp / 1e6,
                b1
            );
        }
    }
}
