//! Measurements, not checks: `cargo test --release --lib codegen::tests::bench -- --ignored
//! --nocapture` prints compile times and throughput.

use std::time::Instant;

use super::harness::{run_dense_f32, unary_spec};
use crate::codegen::compile;
use crate::kernel::{BinaryOp, ElemType, Inst, KernelSpec, LayoutClass, Output, UnaryOp, ValueId};

/// A typical 10-op element-wise chain of a PINN layer and its loss.
fn ten_op_chain() -> KernelSpec {
    let v = ValueId;
    KernelSpec {
        float: ElemType::F32,
        inputs: vec![ElemType::F32, ElemType::F32],
        num_scalars: 1,
        body: vec![
            Inst::Input(0),
            Inst::Input(1),
            Inst::Scalar(0),
            Inst::Binary(BinaryOp::Mul, v(0), v(2)),
            Inst::Binary(BinaryOp::Add, v(3), v(1)),
            Inst::Unary(UnaryOp::Tanh, v(4)),
            Inst::Binary(BinaryOp::Mul, v(5), v(5)),
            Inst::Binary(BinaryOp::Sub, v(2), v(6)),
            Inst::Unary(UnaryOp::Sigmoid, v(7)),
            Inst::Binary(BinaryOp::Max, v(8), v(0)),
            Inst::Binary(BinaryOp::Mul, v(9), v(1)),
            Inst::Unary(UnaryOp::Exp, v(10)),
            Inst::Binary(BinaryOp::Add, v(11), v(5)),
        ],
        outputs: vec![Output {
            value: v(12),
            ty: ElemType::F32,
        }],
    }
}

#[test]
#[ignore = "measurement; run explicitly with --ignored --nocapture"]
fn bench_compile_time_and_throughput() {
    let spec = ten_op_chain();
    let layout = [LayoutClass::Contiguous; 3];
    let mut times: Vec<f64> = (0..51)
        .map(|_| {
            let t = Instant::now();
            let k = compile(&spec, &layout).expect("compiles");
            let dt = t.elapsed().as_secs_f64() * 1e3;
            drop(k);
            dt
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let k = compile(&spec, &layout).expect("compiles");
    eprintln!(
        "10-op chain: compile median {:.3} ms (min {:.3}, max {:.3}), code {} bytes",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        k.code_size()
    );

    let n = 1 << 20;
    let xs: Vec<f32> = (0..n).map(|i| (i as f32 / n as f32 - 0.5) * 8.0).collect();
    let mut out = vec![0f32; n];
    for op in [
        UnaryOp::Tanh,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Sigmoid,
        UnaryOp::Sin,
        UnaryOp::Neg,
    ] {
        let k = compile(
            &unary_spec(ElemType::F32, op),
            &[LayoutClass::Contiguous; 2],
        )
        .expect("compiles");
        run_dense_f32(&k, &xs, &mut out);
        let reps = 20;
        let t = Instant::now();
        for _ in 0..reps {
            run_dense_f32(&k, &xs, &mut out);
        }
        let ns = t.elapsed().as_secs_f64() * 1e9 / (reps * n) as f64;
        let t = Instant::now();
        for (o, &x) in out.iter_mut().zip(&xs) {
            *o = crate::kernel::interp::unary_f32(op, x);
        }
        let std_ns = t.elapsed().as_secs_f64() * 1e9 / n as f64;
        eprintln!(
            "{op:?} f32, 1M elements, 1 thread: {ns:.3} ns/element (std scalar loop {std_ns:.2})"
        );
    }
}

/// The example of the module documentation: `y = max(x * s + b, 0)` with `x` contiguous, `b`
/// broadcast along rows and `s` a runtime scalar.
#[test]
#[ignore = "prints the IR quoted in the module documentation"]
fn print_module_doc_example_ir() {
    let v = ValueId;
    let spec = KernelSpec {
        float: ElemType::F32,
        inputs: vec![ElemType::F32, ElemType::F32],
        num_scalars: 1,
        body: vec![
            Inst::Input(0),
            Inst::Input(1),
            Inst::Scalar(0),
            Inst::Binary(BinaryOp::Mul, v(0), v(2)),
            Inst::Binary(BinaryOp::Add, v(3), v(1)),
            Inst::Const(0.0),
            Inst::Binary(BinaryOp::Max, v(4), v(5)),
        ],
        outputs: vec![Output {
            value: v(6),
            ty: ElemType::F32,
        }],
    };
    eprintln!("{spec}");
    let opts = crate::codegen::CompileOptions {
        print_ir: true,
        ..Default::default()
    };
    let layout = [
        LayoutClass::Contiguous,
        LayoutClass::Broadcast,
        LayoutClass::Contiguous,
    ];
    crate::codegen::compile_with(&spec, &layout, &opts).expect("compiles");
}
