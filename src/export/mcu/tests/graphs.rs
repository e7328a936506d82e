//! Hand-built graphs: every supported element-wise instruction against the graph interpreter
//! (std math), broadcasting operands and constant rows, slices and concatenations, and the
//! typed errors for what the runtime does not implement.

use super::{Rng, check_graph};
use crate::export::mcu::{McuExportError, McuOptions, graph_to_mcu_bytes};
use crate::inference::tests::{map, two_column_map};
use crate::inference::{Graph, Node, NodeId, Operand};
use crate::kernel::{BinaryOp, BoolOp, CmpOp, ElemType, FloatTest, Inst, UnaryOp, ValueId};

/// One map of `x` (node 0, `width` wide) to its output.
fn unary_graph(op: UnaryOp, width: usize) -> Graph {
    Graph {
        input_width: width,
        nodes: vec![
            Node::Input,
            map(
                vec![Operand::Node(0)],
                vec![Inst::Input(0), Inst::Unary(op, ValueId(0))],
            ),
        ],
        output: 1,
    }
}

/// Values spread over the ranges the math functions reduce differently, plus the edges.
fn test_values() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        1e-30,
        -3e-5,
        0.5,
        -0.5,
        1.0,
        2.5,
        -2.5,
        3.9,
        10.0,
        -20.0,
        88.0,
        -100.0,
        1000.5,
        -9000.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    v.extend(Rng::new(1).vec(45, -6.0, 6.0));
    v
}

#[test]
fn every_supported_unary_op_matches_std() {
    let x = test_values();
    for op in UnaryOp::ALL {
        let g = unary_graph(op, 1);
        // 2 ULP functions on values near 1 give about 2.4e-7 relative; tanh 6 ULP.
        check_graph(&g, &x, 1e-6, &format!("{op:?}"));
    }
}

#[test]
fn binary_compare_select_clamp_casts_and_tests_match() {
    let x = test_values();
    let pairs: Vec<f32> = x
        .iter()
        .zip(x.iter().rev())
        .flat_map(|(&a, &b)| [a, b])
        .collect();
    let v = ValueId;
    for op in BinaryOp::ALL {
        if op == BinaryOp::Pow || op == BinaryOp::Atan2 {
            continue;
        }
        let g = two_column_map(vec![
            Inst::Input(0),
            Inst::Input(1),
            Inst::Binary(op, v(0), v(1)),
        ]);
        check_graph(&g, &pairs, 0.0, &format!("{op:?}"));
    }
    // Every comparison, boolean op, test, select, clamp and cast in one program.
    let mut body = vec![Inst::Input(0), Inst::Input(1), Inst::Const(0.25)];
    let mut acc = v(2);
    for cmp in CmpOp::ALL {
        let c = v(body.len() as u32);
        body.push(Inst::Compare(cmp, v(0), v(1)));
        let mut last_bool = c;
        for bop in BoolOp::ALL {
            let other = if bop == BoolOp::Not { c } else { last_bool };
            last_bool = v(body.len() as u32);
            body.push(Inst::Bool(bop, c, other));
            let f = v(body.len() as u32);
            body.push(Inst::Cast(last_bool, ElemType::F32));
            body.push(Inst::Binary(BinaryOp::Mul, acc, f));
            body.push(Inst::Binary(BinaryOp::Add, v(body.len() as u32 - 1), f));
            acc = v(body.len() as u32 - 1);
        }
    }
    for t in [FloatTest::IsNan, FloatTest::IsInf] {
        let b = v(body.len() as u32);
        body.push(Inst::Test(t, v(0)));
        body.push(Inst::Select {
            cond: b,
            then: v(1),
            otherwise: acc,
        });
        acc = v(body.len() as u32 - 1);
    }
    let tb = v(body.len() as u32);
    body.push(Inst::Cast(v(0), ElemType::Bool));
    body.push(Inst::Cast(tb, ElemType::F32));
    body.push(Inst::Cast(v(body.len() as u32 - 1), ElemType::F32));
    let k = v(body.len() as u32 - 1);
    body.push(Inst::Binary(BinaryOp::Add, acc, k));
    let s = v(body.len() as u32 - 1);
    body.push(Inst::Const(-3.0));
    body.push(Inst::Const(3.0));
    body.push(Inst::Clamp {
        x: s,
        lo: v(s.0 + 1),
        hi: v(s.0 + 2),
    });
    let g = two_column_map(body);
    check_graph(&g, &pairs, 0.0, "logic program");
}

#[test]
fn broadcast_operands_rows_slices_and_concats() {
    let v = ValueId;
    // x (4 wide) * row + column 0 of x, then concat [x, that, slice] and a dense layer.
    let g = Graph {
        input_width: 4,
        nodes: vec![
            Node::Input,
            Node::Slice {
                x: 0,
                start: 0,
                len: 1,
            },
            map(
                vec![
                    Operand::Node(0),
                    Operand::Row(vec![0.5, -1.0, 2.0, 3.0]),
                    Operand::Node(1),
                    Operand::Row(vec![0.125]),
                ],
                vec![
                    Inst::Input(0),
                    Inst::Input(1),
                    Inst::Binary(BinaryOp::Mul, v(0), v(1)),
                    Inst::Input(2),
                    Inst::Binary(BinaryOp::Add, v(2), v(3)),
                    Inst::Input(3),
                    Inst::Binary(BinaryOp::Sub, v(4), v(5)),
                ],
            ),
            Node::Slice {
                x: 2,
                start: 1,
                len: 2,
            },
            Node::Concat {
                parts: vec![0, 2, 3, 1],
            },
            Node::Dense {
                x: 4,
                weight: Rng::new(4).vec(11 * 3, -1.0, 1.0),
                n: 3,
                bias: Some(vec![0.5, 0.0, -0.5]),
            },
            map(
                vec![Operand::Row(vec![1.0, 2.0, 3.0])],
                vec![Inst::Input(0)],
            ),
            Node::Concat {
                parts: vec![5, 6, 5],
            },
        ],
        output: 7,
    };
    let x = Rng::new(2).vec(4 * 5, -2.0, 2.0);
    check_graph(&g, &x, 0.0, "broadcasts");
    // The identity model (output = input) and a slice as the output.
    let id = Graph {
        input_width: 3,
        nodes: vec![Node::Input],
        output: 0,
    };
    check_graph(&id, &[1.0, 2.0, 3.0], 0.0, "identity");
}

#[test]
fn unsupported_ops_are_named_at_export() {
    for op in [BinaryOp::Pow, BinaryOp::Atan2] {
        let g = Graph {
            input_width: 1,
            nodes: vec![
                Node::Input,
                map(
                    vec![Operand::Node(0)],
                    vec![Inst::Input(0), Inst::Binary(op, ValueId(0), ValueId(0))],
                ),
            ],
            output: 1,
        };
        let e = graph_to_mcu_bytes(&g, &McuOptions::default()).unwrap_err();
        assert_eq!(
            e,
            McuExportError::UnsupportedOp {
                node: 1,
                op: format!("{op:?}")
            }
        );
        assert!(e.to_string().contains("pinn-jit-mcu"), "{e}");
    }
    let bad = Graph {
        input_width: 1,
        nodes: vec![Node::Input],
        output: 4,
    };
    assert!(matches!(
        graph_to_mcu_bytes(&bad, &McuOptions::default()),
        Err(McuExportError::InvalidGraph(_))
    ));
}

/// Dead nodes are pruned before export; their ops are not in the model.
#[test]
fn dead_nodes_cost_nothing() {
    let live = |n: NodeId| Node::Slice {
        x: n,
        start: 0,
        len: 1,
    };
    let g = Graph {
        input_width: 2,
        nodes: vec![
            Node::Input,
            live(0),
            unary_graph(UnaryOp::Exp, 2).nodes[1].clone(),
            live(0),
        ],
        output: 3,
    };
    let exported = graph_to_mcu_bytes(&g, &McuOptions::default()).unwrap();
    let m = pinn_jit_mcu::Model::parse(&exported.bytes).unwrap();
    assert_eq!(m.num_ops(), 1);
    check_graph(&g, &[1.0, 2.0], 0.0, "pruned");
}
