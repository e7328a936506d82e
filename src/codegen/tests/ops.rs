//! Every instruction, every layout class, awkward shapes: compiled vs interpreted, bit for bit.

use super::harness::{Case, check, unary_spec};
use crate::codegen::{CodegenError, compile};
use crate::kernel::{
    BinaryOp, BoolOp, CmpOp, ElemType, FloatTest, Inst, KernelSpec, LayoutClass, Output, UnaryOp,
    ValueId,
};

const SHAPES: [(usize, usize); 9] = [
    (0, 5),
    (3, 0),
    (1, 1),
    (1, 3),
    (2, 4),
    (3, 5),
    (2, 17),
    (5, 2),
    (1, 64),
];

fn v(i: u32) -> ValueId {
    ValueId(i)
}

fn out(value: u32, ty: ElemType) -> Output {
    Output {
        value: ValueId(value),
        ty,
    }
}

fn check_all_layouts(spec: &KernelSpec, seed: u64) {
    use LayoutClass::*;
    let nb = spec.num_bindings();
    let classes = [Contiguous, Broadcast, Strided];
    for (si, &(rows, cols)) in SHAPES.iter().enumerate() {
        for variant in 0..4usize {
            let layout: Vec<LayoutClass> = (0..nb)
                .map(|b| {
                    if b >= spec.inputs.len() && variant < 3 {
                        Contiguous
                    } else {
                        classes[(b + variant) % 3]
                    }
                })
                .collect();
            let strides: Vec<isize> = (0..nb).map(|b| [2, -1, -3, 5][(b + variant) % 4]).collect();
            for fma in [true, false] {
                check(&Case {
                    spec,
                    layout: &layout,
                    rows,
                    cols,
                    strides: &strides,
                    alias: None,
                    scalars: &[0.75, -2.0],
                    seed: seed ^ (si as u64 * 31 + variant as u64),
                    fma,
                });
            }
        }
    }
}

#[test]
fn every_unary_op_matches_interpreter_on_all_layouts() {
    for float in [ElemType::F32, ElemType::F64] {
        for (i, &op) in UnaryOp::ALL.iter().enumerate() {
            check_all_layouts(&unary_spec(float, op), i as u64);
        }
    }
}

#[test]
fn every_binary_op_matches_interpreter_on_all_layouts() {
    for float in [ElemType::F32, ElemType::F64] {
        for (i, &op) in BinaryOp::ALL.iter().enumerate() {
            let spec = KernelSpec {
                float,
                inputs: vec![float, float],
                num_scalars: 0,
                body: vec![Inst::Input(0), Inst::Input(1), Inst::Binary(op, v(0), v(1))],
                outputs: vec![out(2, float)],
            };
            check_all_layouts(&spec, 100 + i as u64);
        }
    }
}

#[test]
fn bools_compares_selects_clamps_casts_match_interpreter() {
    use ElemType::*;
    for float in [F32, F64] {
        let spec = KernelSpec {
            float,
            inputs: vec![float, Bool, float],
            num_scalars: 2,
            body: vec![
                Inst::Input(0),                       // %0 x
                Inst::Input(1),                       // %1 m
                Inst::Input(2),                       // %2 y
                Inst::Scalar(0),                      // %3
                Inst::Scalar(1),                      // %4
                Inst::Compare(CmpOp::Gt, v(0), v(2)), // %5
                Inst::Compare(CmpOp::Ne, v(0), v(3)), // %6
                Inst::Bool(BoolOp::Eq, v(5), v(1)),   // %7
                Inst::Bool(BoolOp::Not, v(7), v(7)),  // %8
                Inst::Bool(BoolOp::Or, v(8), v(6)),   // %9
                Inst::Test(FloatTest::IsNan, v(2)),   // %10
                Inst::Test(FloatTest::IsInf, v(0)),   // %11
                Inst::Bool(BoolOp::And, v(10), v(9)), // %12
                Inst::Select {
                    cond: v(9),
                    then: v(0),
                    otherwise: v(2),
                }, // %13
                Inst::Clamp {
                    x: v(13),
                    lo: v(4),
                    hi: v(3),
                }, // %14
                Inst::Cast(v(12), float),             // %15
                Inst::Cast(v(14), Bool),              // %16
                Inst::Select {
                    cond: v(11),
                    then: v(16),
                    otherwise: v(1),
                }, // %17
                Inst::Compare(CmpOp::Le, v(2), v(4)), // %18
                Inst::Compare(CmpOp::Lt, v(0), v(4)), // %19
                Inst::Compare(CmpOp::Ge, v(0), v(2)), // %20
                Inst::Compare(CmpOp::Eq, v(0), v(2)), // %21
                Inst::Bool(BoolOp::Or, v(18), v(19)), // %22
                Inst::Bool(BoolOp::Or, v(20), v(21)), // %23
                Inst::Bool(BoolOp::Eq, v(22), v(23)), // %24
                Inst::Cast(v(1), Bool),               // %25
                Inst::Cast(v(0), float),              // %26
            ],
            outputs: vec![
                out(14, float),
                out(15, float),
                out(17, Bool),
                out(24, Bool),
                out(25, Bool),
                out(26, float),
            ],
        };
        check_all_layouts(&spec, 7);
    }
}

#[test]
fn output_written_in_place_over_its_input() {
    use ElemType::*;
    let spec = KernelSpec {
        float: F32,
        inputs: vec![F32, F32],
        num_scalars: 0,
        body: vec![
            Inst::Input(0),
            Inst::Input(1),
            Inst::Unary(UnaryOp::Tanh, v(0)),
            Inst::Binary(BinaryOp::Mul, v(2), v(1)),
        ],
        outputs: vec![out(3, F32)],
    };
    for (rows, cols) in [(1, 1), (3, 5), (2, 17), (4, 64)] {
        for class in [LayoutClass::Contiguous, LayoutClass::Strided] {
            check(&Case {
                spec: &spec,
                layout: &[class, LayoutClass::Contiguous, class],
                rows,
                cols,
                strides: &[-2, 1, -2],
                alias: Some((0, 0)),
                scalars: &[],
                seed: 5,
                fma: true,
            });
        }
    }
}

#[test]
fn long_chain_of_sixty_ops_matches_interpreter() {
    use ElemType::*;
    let mut body = vec![Inst::Input(0), Inst::Input(1), Inst::Const(0.5)];
    let ops = [
        Inst::Unary(UnaryOp::Tanh, v(0)),
        Inst::Binary(BinaryOp::Mul, v(0), v(0)),
        Inst::Binary(BinaryOp::Add, v(0), v(0)),
        Inst::Unary(UnaryOp::Sigmoid, v(0)),
        Inst::Binary(BinaryOp::Sub, v(0), v(0)),
        Inst::Unary(UnaryOp::Exp, v(0)),
        Inst::Binary(BinaryOp::Max, v(0), v(0)),
        Inst::Unary(UnaryOp::Log1p, v(0)),
        Inst::Unary(UnaryOp::Abs, v(0)),
        Inst::Unary(UnaryOp::Log, v(0)),
    ];
    for i in 0..60u32 {
        let n = body.len() as u32;
        let prev = v(n - 1);
        let other = v((i * 7) % n);
        body.push(match ops[i as usize % ops.len()] {
            Inst::Unary(op, _) => Inst::Unary(op, prev),
            Inst::Binary(op, ..) => Inst::Binary(op, prev, other),
            _ => unreachable!(),
        });
    }
    let last = body.len() as u32 - 1;
    let spec = KernelSpec {
        float: F32,
        inputs: vec![F32, F32],
        num_scalars: 0,
        body,
        outputs: vec![out(last, F32), out(last / 2, F32)],
    };
    check_all_layouts(&spec, 60);
}

#[test]
fn invalid_spec_and_layout_are_errors_not_panics() {
    use ElemType::*;
    let bad = KernelSpec {
        float: F32,
        inputs: vec![F32],
        num_scalars: 0,
        body: vec![Inst::Input(0), Inst::Unary(UnaryOp::Exp, v(5))],
        outputs: vec![out(1, F32)],
    };
    assert!(matches!(
        compile(&bad, &[LayoutClass::Contiguous; 2]),
        Err(CodegenError::InvalidSpec(_))
    ));
    let bool_float = KernelSpec {
        float: Bool,
        ..bad.clone()
    };
    assert!(compile(&bool_float, &[LayoutClass::Contiguous; 2]).is_err());
    let good = unary_spec(F32, UnaryOp::Exp);
    assert_eq!(
        compile(&good, &[LayoutClass::Contiguous]).unwrap_err(),
        CodegenError::LayoutMismatch {
            expected: 2,
            found: 1
        }
    );
    assert!(crate::codegen::supports(&good));
    assert!(!crate::codegen::supports(&bad));
}
