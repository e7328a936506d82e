//! The model file: round trips, and typed errors (never a panic) for truncation at every byte,
//! random corruption, wrong headers and arbitrary payloads.

use proptest::prelude::*;

use super::Rng;
use crate::inference::file::{decode, encode};
use crate::inference::{
    CompiledModel, FORMAT_VERSION, FileError, Graph, InferenceError, Node, Operand,
    graph_from_bytes, graph_to_bytes,
};
use crate::kernel::{BinaryOp, ElemType, Inst, KernelSpec, Output, UnaryOp, ValueId};

/// A small graph using every node kind and several instruction kinds.
fn small_graph() -> Graph {
    let mut rng = Rng::new(17);
    Graph {
        input_width: 2,
        nodes: vec![
            Node::Input,
            Node::Dense {
                x: 0,
                weight: rng.vec(6, -1.0, 1.0),
                n: 3,
                bias: Some(rng.vec(3, -1.0, 1.0)),
            },
            Node::Map {
                operands: vec![Operand::Node(1), Operand::Row(vec![0.5, -0.25, 2.0])],
                spec: KernelSpec {
                    float: ElemType::F32,
                    inputs: vec![ElemType::F32; 2],
                    num_scalars: 0,
                    body: vec![
                        Inst::Input(0),
                        Inst::Input(1),
                        Inst::Binary(BinaryOp::Mul, ValueId(0), ValueId(1)),
                        Inst::Unary(UnaryOp::Tanh, ValueId(2)),
                        Inst::Const(0.125),
                        Inst::Clamp {
                            x: ValueId(3),
                            lo: ValueId(4),
                            hi: ValueId(0),
                        },
                    ],
                    outputs: vec![Output {
                        value: ValueId(5),
                        ty: ElemType::F32,
                    }],
                },
            },
            Node::Concat { parts: vec![2, 0] },
            Node::Slice {
                x: 3,
                start: 1,
                len: 3,
            },
            Node::Dense {
                x: 4,
                weight: rng.vec(6, -1.0, 1.0),
                n: 2,
                bias: None,
            },
        ],
        output: 5,
    }
}

#[test]
fn save_and_load_round_trip() {
    let g = small_graph();
    let m = CompiledModel::compile(g.clone()).unwrap();
    let path = std::env::temp_dir().join(format!("pinn_jit_model_{}.pjm", std::process::id()));
    m.save(&path).unwrap();
    let back = CompiledModel::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(back.graph(), m.graph());
    let x = Rng::new(1).vec(2 * 9, -1.0, 1.0);
    assert_eq!(back.infer(&x).unwrap(), m.infer(&x).unwrap());
    assert_eq!(graph_from_bytes(&m.to_bytes()).unwrap(), g);
    let e = CompiledModel::load("/nonexistent/dir/model.pjm").unwrap_err();
    assert!(matches!(e, InferenceError::Io { .. }), "{e}");
}

#[test]
fn every_truncation_is_a_typed_error() {
    let bytes = graph_to_bytes(&small_graph());
    for len in 0..bytes.len() {
        let e = graph_from_bytes(&bytes[..len]).unwrap_err();
        let InferenceError::File(f) = e else {
            panic!("truncation at {len}: {e:?}")
        };
        match f {
            FileError::BadMagic if len < 8 => {}
            FileError::Truncated { found, .. } => assert_eq!(found, len as u64),
            other => panic!("truncation at {len}: {other:?}"),
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        graph_from_bytes(&longer),
        Err(InferenceError::File(FileError::TrailingBytes { .. }))
    ));
}

#[test]
fn random_corruption_is_detected() {
    let bytes = graph_to_bytes(&small_graph());
    let mut rng = Rng::new(5);
    for _ in 0..2000 {
        let mut b = bytes.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(b.len());
            b[i] ^= 1 + rng.below(255) as u8;
        }
        if b == bytes {
            continue;
        }
        assert!(
            matches!(graph_from_bytes(&b), Err(InferenceError::File(_))),
            "corruption went unnoticed"
        );
    }
    let mut v = bytes.clone();
    v[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert_eq!(
        graph_from_bytes(&v).unwrap_err(),
        InferenceError::File(FileError::UnsupportedVersion {
            found: FORMAT_VERSION + 1,
            supported: FORMAT_VERSION
        })
    );
}

#[test]
fn corrupt_payloads_with_valid_checksums_are_rejected_by_validation() {
    // A payload can be well-formed bytes and still an invalid graph: the decoder validates.
    let mut g = small_graph();
    if let Node::Slice { len, .. } = &mut g.nodes[4] {
        *len = 9;
    }
    let e = graph_from_bytes(&graph_to_bytes(&g)).unwrap_err();
    assert!(
        matches!(e, InferenceError::File(FileError::Malformed { .. })),
        "{e:?}"
    );
    assert!(e.to_string().contains("slice"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Arbitrary payload bytes never panic the decoder.
    #[test]
    fn decoding_arbitrary_payloads_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes);
    }

    /// Mutated valid payloads never panic the decoder, and whatever decodes is a valid graph.
    #[test]
    fn decoding_mutated_payloads_never_panics(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)
    ) {
        let mut p = encode(&small_graph());
        for (i, v) in edits {
            let i = i % p.len();
            p[i] = v;
        }
        if let Ok(g) = decode(&p) {
            prop_assert!(g.validate().is_ok());
        }
    }
}
