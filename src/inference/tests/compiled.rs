//! Compiled graphs against [`Graph::eval`] (the interpreter): every dense shape and kernel,
//! every element-wise instruction with edge values, layouts (concat, slice, broadcast), random
//! graphs, batch sizes around every tile and block boundary, bad calls and threads.

use super::{Rng, assert_close, check_graph, option_sets, spec, two_column_map};
use crate::inference::{CompiledModel, Graph, InferenceError, Node, NodeId, Operand};
use crate::kernel::{BinaryOp, BoolOp, CmpOp, ElemType, FloatTest, Inst, UnaryOp, ValueId};

/// Batch sizes that cross the row blocks (3), the AVX2 blocks (6) and tiles.
const ROWS: [usize; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 13, 64, 65, 200];

fn unary(op: UnaryOp, x: NodeId) -> Node {
    Node::Map {
        operands: vec![Operand::Node(x)],
        spec: spec(1, vec![Inst::Input(0), Inst::Unary(op, ValueId(0))]),
    }
}

fn dense(rng: &mut Rng, x: NodeId, k: usize, n: usize, bias: bool) -> Node {
    let s = 1.0 / (k as f32).sqrt();
    Node::Dense {
        x,
        weight: rng.vec(k * n, -s, s),
        n: n as u32,
        bias: bias.then(|| rng.vec(n, -0.5, 0.5)),
    }
}

#[test]
fn dense_layers_of_every_shape_match_the_interpreter() {
    let mut rng = Rng::new(1);
    for &k in &[1, 2, 3, 4, 5, 8, 17, 64] {
        for &n in &[1, 2, 3, 4, 5, 8, 12, 15, 16, 17, 31, 33, 64] {
            let bias = rng.below(2) == 0;
            let g = Graph {
                input_width: k,
                nodes: vec![Node::Input, dense(&mut rng, 0, k, n, bias)],
                output: 1,
            };
            check_graph(&g, &ROWS, (k * 100 + n) as u64);
        }
    }
}

#[test]
fn the_benchmark_mlp_matches_the_interpreter() {
    let mut rng = Rng::new(2);
    let g = Graph {
        input_width: 2,
        nodes: vec![
            Node::Input,
            dense(&mut rng, 0, 2, 64, true),
            unary(UnaryOp::Tanh, 1),
            dense(&mut rng, 2, 64, 64, true),
            unary(UnaryOp::Tanh, 3),
            dense(&mut rng, 4, 64, 64, true),
            unary(UnaryOp::Tanh, 5),
            dense(&mut rng, 6, 64, 1, true),
        ],
        output: 7,
    };
    check_graph(&g, &[0, 1, 2, 31, 32, 33, 100, 1000, 4096], 3);
}

/// Values every element-wise test runs on: specials, their neighbours, and a spread.
fn edge_values() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        1.5,
        2.5,
        -2.5,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        1e-40,
        -1e-40,
        1e-10,
        88.7,
        89.0,
        -104.0,
        9.0,
        -9.5,
        0.625,
        8192.0,
        -8192.0,
        8192.5,
        1e5,
        -3e7,
        1e30,
        std::f32::consts::PI,
        -std::f32::consts::FRAC_PI_2,
    ];
    let mut rng = Rng::new(7);
    v.extend(rng.vec(64, -10.0, 10.0));
    v.extend(rng.vec(32, -1000.0, 1000.0));
    v
}

/// Max error of the inline approximations relative to the std result's magnitude (their ULP
/// bounds are tested in `codegen::math`; sin/cos near their zeros in `sincos_sweep`).
fn unary_tol(op: UnaryOp) -> f32 {
    match op {
        UnaryOp::Exp | UnaryOp::Log | UnaryOp::Log1p => 3e-7,
        // 5 ULP (the rational tanh of `activation`), 4 ULP (sigmoid).
        UnaryOp::Tanh | UnaryOp::Sigmoid => 6.5e-7,
        UnaryOp::Sin | UnaryOp::Cos => 2e-6,
        _ => 0.0,
    }
}

fn check_map(g: &Graph, rows: usize, x: &[f32], tol: f32, what: &str) {
    for opts in option_sets() {
        let m = CompiledModel::compile_with(g.clone(), &opts).unwrap();
        let want = g.eval(x).unwrap();
        let got = m.infer(x).unwrap();
        assert_eq!(got.len(), want.len());
        for (i, (&a, &b)) in got.iter().zip(&want).enumerate() {
            let ok = if a.is_nan() || b.is_nan() {
                a.is_nan() && b.is_nan()
            } else if tol == 0.0 || b.is_infinite() || a.is_infinite() {
                a.to_bits() == b.to_bits()
            } else {
                (a - b).abs() <= tol * b.abs().max(f32::MIN_POSITIVE) + 1e-38
            };
            assert!(
                ok,
                "{what}: x={} compiled {a:e} interpreter {b:e} (rows {rows})",
                x[i]
            );
        }
    }
}

#[test]
fn every_unary_op_matches_the_interpreter_on_edge_values() {
    use UnaryOp::*;
    let xs = edge_values();
    for op in UnaryOp::ALL {
        let g = Graph {
            input_width: 1,
            nodes: vec![Node::Input, unary(op, 0)],
            output: 1,
        };
        // Sin/cos are checked against the absolute error near their zeros below.
        if matches!(op, Sin | Cos) {
            continue;
        }
        check_map(&g, xs.len(), &xs, unary_tol(op), &format!("{op:?}"));
    }
}

#[test]
fn sincos_sweep_matches_std() {
    // Inline range, around its limit (callout beyond), and specials.
    let mut xs: Vec<f32> = (0..20000).map(|i| (i as f32 - 10000.0) * 0.8191).collect();
    xs.extend([4.2e8f32, 4.3e8, -4.3e8, 1e10, 3.0e38]);
    xs.extend(edge_values());
    for op in [UnaryOp::Sin, UnaryOp::Cos] {
        let g = Graph {
            input_width: 1,
            nodes: vec![Node::Input, unary(op, 0)],
            output: 1,
        };
        let m = CompiledModel::compile(g).unwrap();
        let got = m.infer(&xs).unwrap();
        for (&x, &y) in xs.iter().zip(&got) {
            let want = if op == UnaryOp::Sin {
                (x as f64).sin()
            } else {
                (x as f64).cos()
            };
            if want.is_nan() {
                assert!(y.is_nan(), "{op:?}({x}) = {y}");
                continue;
            }
            // 1 ULP of the result, or of 1 next to a zero of sin/cos.
            assert!(
                (y as f64 - want).abs() <= 6e-8_f64.max(want.abs() * 1.2e-7),
                "{op:?}({x}) = {y}, want {want}"
            );
            if x == 0.0 && op == UnaryOp::Sin {
                assert_eq!(y.to_bits(), x.to_bits(), "sin keeps the sign of zero");
            }
        }
    }
}

#[test]
fn binary_compare_select_clamp_and_casts_match_the_interpreter() {
    let xs = edge_values();
    let n = xs.len();
    // Pair every value with every 7th value (two inputs side by side).
    let mut x2 = Vec::with_capacity(2 * n * 5);
    for (i, &a) in xs.iter().enumerate() {
        for j in 0..5 {
            x2.push(a);
            x2.push(xs[(i * 7 + j * 13) % n]);
        }
    }
    let a = || [Inst::Input(0), Inst::Input(1)].to_vec();
    let mut bodies: Vec<(String, Vec<Inst>)> = Vec::new();
    for op in [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::RemFloor,
        BinaryOp::Pow,
        BinaryOp::Atan2,
    ] {
        let mut b = a();
        b.push(Inst::Binary(op, ValueId(0), ValueId(1)));
        bodies.push((format!("{op:?}"), b));
    }
    for op in [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Lt,
        CmpOp::Le,
    ] {
        let mut b = a();
        b.push(Inst::Compare(op, ValueId(0), ValueId(1)));
        b.push(Inst::Select {
            cond: ValueId(2),
            then: ValueId(0),
            otherwise: ValueId(1),
        });
        bodies.push((format!("{op:?}"), b));
    }
    // Bool logic, tests, casts and clamp in one program.
    let mut b = a();
    b.extend([
        Inst::Test(FloatTest::IsNan, ValueId(0)),        // 2
        Inst::Test(FloatTest::IsInf, ValueId(1)),        // 3
        Inst::Bool(BoolOp::Or, ValueId(2), ValueId(3)),  // 4
        Inst::Bool(BoolOp::Not, ValueId(4), ValueId(4)), // 5
        Inst::Cast(ValueId(0), ElemType::Bool),          // 6
        Inst::Bool(BoolOp::Eq, ValueId(5), ValueId(6)),  // 7
        Inst::Bool(BoolOp::And, ValueId(7), ValueId(5)), // 8
        Inst::Cast(ValueId(8), ElemType::F32),           // 9
        Inst::Const(-0.75),                              // 10
        Inst::Const(2.0),                                // 11
        Inst::Clamp {
            x: ValueId(1),
            lo: ValueId(10),
            hi: ValueId(11),
        }, // 12
        Inst::Binary(BinaryOp::Add, ValueId(9), ValueId(12)), // 13
    ]);
    bodies.push(("logic".into(), b));
    for (name, body) in bodies {
        let g = two_column_map(body);
        check_map(&g, x2.len() / 2, &x2, 0.0, &name);
    }
}

#[test]
fn broadcast_rows_and_columns_in_maps() {
    let mut rng = Rng::new(11);
    for &w in &[1usize, 3, 4, 7, 16, 37] {
        let row = rng.vec(w, -1.0, 1.0);
        // x (w wide) * row + col (1 wide, from a dense) - 0.5, then sin.
        let g = Graph {
            input_width: w,
            nodes: vec![
                Node::Input,
                dense(&mut rng, 0, w, 1, true),
                Node::Map {
                    operands: vec![
                        Operand::Node(0),
                        Operand::Row(row.clone()),
                        Operand::Node(1),
                        Operand::Row(vec![0.5]),
                    ],
                    spec: spec(
                        4,
                        vec![
                            Inst::Input(0),
                            Inst::Input(1),
                            Inst::Input(2),
                            Inst::Input(3),
                            Inst::Binary(BinaryOp::Mul, ValueId(0), ValueId(1)),
                            Inst::Binary(BinaryOp::Add, ValueId(4), ValueId(2)),
                            Inst::Binary(BinaryOp::Sub, ValueId(5), ValueId(3)),
                            Inst::Unary(UnaryOp::Sin, ValueId(6)),
                        ],
                    ),
                },
            ],
            output: 2,
        };
        check_graph(&g, &ROWS, w as u64);
    }
}

#[test]
fn fourier_features_residuals_slices_and_identity_outputs() {
    let mut rng = Rng::new(5);
    // x → x·B (2→8) → [sin, cos, x] → dense 18→16 → tanh → +residual → slice → dense.
    let g = Graph {
        input_width: 2,
        nodes: vec![
            Node::Input,                     // 0
            dense(&mut rng, 0, 2, 8, false), // 1
            unary(UnaryOp::Sin, 1),          // 2
            unary(UnaryOp::Cos, 1),          // 3
            Node::Concat {
                parts: vec![2, 3, 0],
            }, // 4
            dense(&mut rng, 4, 18, 16, true), // 5
            unary(UnaryOp::Tanh, 5),         // 6
            dense(&mut rng, 6, 16, 16, true), // 7
            Node::Map {
                operands: vec![Operand::Node(7), Operand::Node(6)],
                spec: spec(
                    2,
                    vec![
                        Inst::Input(0),
                        Inst::Input(1),
                        Inst::Binary(BinaryOp::Add, ValueId(0), ValueId(1)),
                    ],
                ),
            }, // 8
            Node::Slice {
                x: 8,
                start: 3,
                len: 9,
            }, // 9
            Node::Concat { parts: vec![9, 9] }, // 10 (a part used twice is copied)
            dense(&mut rng, 10, 18, 3, true), // 11
        ],
        output: 11,
    };
    check_graph(&g, &ROWS, 9);
    for out in [0, 4, 9, 10] {
        let h = Graph {
            output: out,
            ..g.clone()
        };
        check_graph(&h, &[0, 1, 5, 70], 10 + out as u64);
    }
}

/// A random graph of dense layers, maps, concatenations and slices.
fn random_graph(rng: &mut Rng) -> Graph {
    let input_width = 1 + rng.below(5);
    let mut nodes = vec![Node::Input];
    let mut widths = vec![input_width];
    for _ in 0..1 + rng.below(8) {
        let x = rng.below(nodes.len());
        let wx = widths[x];
        let (node, w) = match rng.below(6) {
            0 | 1 => {
                let n = rng.pick(&[1, 2, 3, 4, 6, 8, 16, 20, 32]);
                let bias = rng.below(3) > 0;
                (dense(rng, x as NodeId, wx, n, bias), n)
            }
            2 => {
                let op = rng.pick(&[
                    UnaryOp::Tanh,
                    UnaryOp::Sin,
                    UnaryOp::Cos,
                    UnaryOp::Sigmoid,
                    UnaryOp::Abs,
                    UnaryOp::Neg,
                    UnaryOp::Exp,
                    UnaryOp::Erf,
                ]);
                (unary(op, x as NodeId), wx)
            }
            3 => {
                // Binary with a same-width node, a width-1 node, or a constant row.
                let cands: Vec<usize> = (0..nodes.len())
                    .filter(|&i| widths[i] == wx || widths[i] == 1)
                    .collect();
                let other = if rng.below(3) == 0 {
                    Operand::Row(rng.vec(wx, -1.0, 1.0))
                } else {
                    Operand::Node(rng.pick(&cands) as NodeId)
                };
                let op = rng.pick(&[BinaryOp::Add, BinaryOp::Mul, BinaryOp::Sub, BinaryOp::Max]);
                let node = Node::Map {
                    operands: vec![Operand::Node(x as NodeId), other],
                    spec: spec(
                        2,
                        vec![
                            Inst::Input(0),
                            Inst::Input(1),
                            Inst::Binary(op, ValueId(0), ValueId(1)),
                        ],
                    ),
                };
                (node, wx)
            }
            4 => {
                let y = rng.below(nodes.len());
                (
                    Node::Concat {
                        parts: vec![x as NodeId, y as NodeId],
                    },
                    wx + widths[y],
                )
            }
            _ => {
                let start = rng.below(wx);
                let len = 1 + rng.below(wx - start);
                (
                    Node::Slice {
                        x: x as NodeId,
                        start: start as u32,
                        len: len as u32,
                    },
                    len,
                )
            }
        };
        nodes.push(node);
        widths.push(w);
    }
    let output = (nodes.len() - 1) as NodeId;
    Graph {
        input_width,
        nodes,
        output,
    }
}

#[test]
fn random_graphs_match_the_interpreter() {
    for seed in 0..150 {
        let mut rng = Rng::new(1000 + seed);
        let g = random_graph(&mut rng);
        g.validate().unwrap();
        check_graph(&g, &[0, 1, 3, 7, 66], seed);
    }
}

#[test]
fn nan_and_infinite_inputs_propagate_like_the_interpreter() {
    let mut rng = Rng::new(21);
    let g = Graph {
        input_width: 3,
        nodes: vec![
            Node::Input,
            dense(&mut rng, 0, 3, 32, true),
            unary(UnaryOp::Tanh, 1),
            dense(&mut rng, 2, 32, 2, true),
        ],
        output: 3,
    };
    let x = [
        f32::NAN,
        0.0,
        1.0,
        f32::INFINITY,
        0.5,
        0.5,
        f32::NEG_INFINITY,
        f32::INFINITY,
        0.0,
        1e30,
        -1e30,
        3.0,
        -0.0,
        1e-40,
        0.25,
    ];
    for opts in option_sets() {
        let m = CompiledModel::compile_with(g.clone(), &opts).unwrap();
        let y = m.infer(&x).unwrap();
        assert!(
            y[0].is_nan() && y[1].is_nan(),
            "NaN input gives NaN outputs: {y:?}"
        );
        assert_close(&y, &g.eval(&x).unwrap(), 2e-5, "edge rows");
    }
}

#[test]
fn wrong_lengths_are_typed_errors_and_empty_batches_work() {
    let mut rng = Rng::new(4);
    let g = Graph {
        input_width: 3,
        nodes: vec![Node::Input, dense(&mut rng, 0, 3, 2, true)],
        output: 1,
    };
    let m = CompiledModel::compile(g).unwrap();
    assert_eq!(
        m.infer(&[1.0; 4]).unwrap_err(),
        InferenceError::InputLength { len: 4, width: 3 }
    );
    let mut out = [0.0; 3];
    assert_eq!(
        m.infer_into(&[1.0; 6], &mut out).unwrap_err(),
        InferenceError::OutputLength {
            expected: 4,
            found: 3
        }
    );
    assert_eq!(m.infer(&[]).unwrap(), Vec::<f32>::new());
    assert!(m.infer_into(&[], &mut []).is_ok());
}

#[test]
fn invalid_graphs_do_not_compile() {
    let g = Graph {
        input_width: 2,
        nodes: vec![
            Node::Input,
            Node::Dense {
                x: 0,
                weight: vec![1.0; 3],
                n: 2,
                bias: None,
            },
        ],
        output: 1,
    };
    assert!(matches!(
        CompiledModel::compile(g).unwrap_err(),
        InferenceError::InvalidGraph(_)
    ));
}

#[test]
fn threads_share_one_model() {
    let mut rng = Rng::new(8);
    let g = Graph {
        input_width: 2,
        nodes: vec![
            Node::Input,
            dense(&mut rng, 0, 2, 32, true),
            unary(UnaryOp::Tanh, 1),
            dense(&mut rng, 2, 32, 1, true),
        ],
        output: 3,
    };
    let m = CompiledModel::compile(g.clone()).unwrap();
    let inputs: Vec<Vec<f32>> = (0..8)
        .map(|i| Rng::new(i).vec(2 * (1 + 37 * i as usize), -1.0, 1.0))
        .collect();
    let want: Vec<Vec<f32>> = inputs.iter().map(|x| m.infer(x).unwrap()).collect();
    std::thread::scope(|s| {
        for (x, w) in inputs.iter().zip(&want) {
            let m = &m;
            s.spawn(move || {
                for _ in 0..50 {
                    assert_eq!(&m.infer(x).unwrap(), w);
                }
            });
        }
    });
    // A large batch runs split across rayon's threads and gives the same rows.
    let big = Rng::new(99).vec(2 * 5000, -1.0, 1.0);
    let split = m.infer(&big).unwrap();
    let one_by_one: Vec<f32> = big.chunks(2).flat_map(|r| m.infer(r).unwrap()).collect();
    assert_close(&split, &one_by_one, 1e-6, "parallel batch");
    assert_close(
        &split,
        &g.eval(&big).unwrap(),
        2e-5,
        "parallel batch vs interpreter",
    );
}

#[test]
fn compile_time_and_code_size_are_reported() {
    let mut rng = Rng::new(12);
    let g = Graph {
        input_width: 2,
        nodes: vec![
            Node::Input,
            dense(&mut rng, 0, 2, 64, true),
            unary(UnaryOp::Tanh, 1),
            dense(&mut rng, 2, 64, 64, true),
            unary(UnaryOp::Tanh, 3),
            dense(&mut rng, 4, 64, 1, true),
        ],
        output: 5,
    };
    let m = CompiledModel::compile(g).unwrap();
    assert!(m.code_size() > 0);
    assert!(m.compile_time().as_nanos() > 0);
    assert_eq!((m.input_width(), m.output_width()), (2, 1));
}
