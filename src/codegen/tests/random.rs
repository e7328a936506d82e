//! Random well-typed kernels (proptest): compiled vs interpreted on random shapes and layouts.
//!
//! A program is generated as a list of instruction "recipes" whose operand indices are taken
//! modulo the values of the right type defined so far, so every list is a valid spec and
//! shrinking a failing list shrinks the program.

use proptest::prelude::*;

use super::harness::{Case, check};
use crate::kernel::{
    BinaryOp, BoolOp, CmpOp, ElemType, FloatTest, Inst, KernelSpec, LayoutClass, Output, UnaryOp,
    ValueId,
};

const CONSTS: [f64; 8] = [0.5, -2.0, 0.0, -0.0, 1e-3, 3.0, f64::INFINITY, f64::NAN];

type Recipe = (u8, u32, u32, u32);

fn build(
    float: ElemType,
    bool_inputs: &[bool],
    num_scalars: u32,
    recipes: &[Recipe],
    outs: &[u32],
) -> KernelSpec {
    let mut body = Vec::new();
    let mut floats: Vec<u32> = Vec::new();
    let mut bools: Vec<u32> = Vec::new();
    let push = |body: &mut Vec<Inst>,
                inst: Inst,
                is_bool: bool,
                floats: &mut Vec<u32>,
                bools: &mut Vec<u32>| {
        let id = body.len() as u32;
        body.push(inst);
        if is_bool {
            bools.push(id)
        } else {
            floats.push(id)
        }
    };
    let inputs: Vec<ElemType> = bool_inputs
        .iter()
        .map(|&b| if b { ElemType::Bool } else { float })
        .collect();
    for (n, &b) in bool_inputs.iter().enumerate() {
        push(&mut body, Inst::Input(n as u32), b, &mut floats, &mut bools);
    }
    for n in 0..num_scalars {
        push(&mut body, Inst::Scalar(n), false, &mut floats, &mut bools);
    }
    if floats.is_empty() {
        push(&mut body, Inst::Const(1.5), false, &mut floats, &mut bools);
    }
    for &(kind, a, b, c) in recipes {
        let f = |i: u32| ValueId(floats[i as usize % floats.len()]);
        let has_bool = !bools.is_empty();
        let bl = |i: u32| ValueId(bools[i as usize % bools.len()]);
        let (inst, is_bool) = match kind % 12 {
            0 => (Inst::Const(CONSTS[a as usize % CONSTS.len()]), false),
            1 | 11 => (
                Inst::Unary(UnaryOp::ALL[a as usize % UnaryOp::ALL.len()], f(b)),
                false,
            ),
            2 => (
                Inst::Binary(BinaryOp::ALL[a as usize % BinaryOp::ALL.len()], f(b), f(c)),
                false,
            ),
            4 => (
                Inst::Test(
                    if a % 2 == 0 {
                        FloatTest::IsNan
                    } else {
                        FloatTest::IsInf
                    },
                    f(b),
                ),
                true,
            ),
            5 if has_bool => {
                let op = BoolOp::ALL[a as usize % BoolOp::ALL.len()];
                let y = if op == BoolOp::Not { bl(b) } else { bl(c) };
                (Inst::Bool(op, bl(b), y), true)
            }
            6 if has_bool => (
                Inst::Select {
                    cond: bl(a),
                    then: f(b),
                    otherwise: f(c),
                },
                false,
            ),
            7 if has_bool => (
                Inst::Select {
                    cond: bl(a),
                    then: bl(b),
                    otherwise: bl(c),
                },
                true,
            ),
            8 => (
                Inst::Clamp {
                    x: f(a),
                    lo: f(b),
                    hi: f(c),
                },
                false,
            ),
            9 => (Inst::Cast(f(a), ElemType::Bool), true),
            10 if has_bool => (Inst::Cast(bl(a), float), false),
            _ => (
                Inst::Compare(CmpOp::ALL[a as usize % CmpOp::ALL.len()], f(b), f(c)),
                true,
            ),
        };
        push(&mut body, inst, is_bool, &mut floats, &mut bools);
    }
    let last = body.len() as u32 - 1;
    let mut outputs = vec![last];
    outputs.extend(outs.iter().map(|&o| o % (last + 1)));
    let spec = KernelSpec {
        float,
        inputs,
        num_scalars,
        body,
        outputs: vec![],
    };
    let types = spec.value_types();
    KernelSpec {
        outputs: outputs
            .iter()
            .map(|&v| Output {
                value: ValueId(v),
                ty: types[v as usize],
            })
            .collect(),
        ..spec
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_kernels_match_interpreter(
        f64_kernel in any::<bool>(),
        bool_inputs in prop::collection::vec(prop::bool::weighted(0.25), 1..4),
        num_scalars in 0u32..3,
        recipes in prop::collection::vec((any::<u8>(), any::<u32>(), any::<u32>(), any::<u32>()), 1..30),
        outs in prop::collection::vec(any::<u32>(), 0..3),
        classes in prop::collection::vec(0u8..4, 8),
        strides in prop::collection::vec(prop::sample::select(vec![-3isize, -1, 2, 5]), 8),
        rows in prop::sample::select(vec![0usize, 1, 2, 3, 5]),
        cols in prop::sample::select(vec![0usize, 1, 3, 4, 5, 17, 33]),
        fma in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let float = if f64_kernel { ElemType::F64 } else { ElemType::F32 };
        let spec = build(float, &bool_inputs, num_scalars, &recipes, &outs);
        let layout: Vec<LayoutClass> = (0..spec.num_bindings())
            .map(|b| match classes[b % classes.len()] {
                1 => LayoutClass::Broadcast,
                2 => LayoutClass::Strided,
                _ => LayoutClass::Contiguous,
            })
            .collect();
        let strides: Vec<isize> = (0..spec.num_bindings()).map(|b| strides[b % strides.len()]).collect();
        let scalars = [0.25, -3.5, f64::NAN];
        check(&Case {
            spec: &spec,
            layout: &layout,
            rows,
            cols,
            strides: &strides,
            alias: None,
            scalars: &scalars[..num_scalars as usize],
            seed,
            fma: fma && crate::codegen::CompileOptions::default().fma,
        });
    }
}
