//! Bad bytes, buffers and slices given to the runtime: typed errors, never a panic.

use pinn_jit_mcu::format::{CHECKSUMMED_FROM, checksum};
use pinn_jit_mcu::{McuError, Model};
use proptest::prelude::*;

use super::{Rng, run_mcu};
use crate::export::mcu::{McuOptions, McuWeights, graph_to_mcu_bytes};
use crate::inference::{Graph, Node, Operand};
use crate::kernel::{ElemType, Inst, KernelSpec, Output, UnaryOp, ValueId};

/// A small model with every kind of operation: dense (f32 or int8), map with a constant row,
/// slice, concat.
fn small_model(weights: McuWeights) -> Vec<u8> {
    let mut rng = Rng::new(9);
    let g = Graph {
        input_width: 3,
        nodes: vec![
            Node::Input,
            Node::Dense {
                x: 0,
                weight: rng.vec(3 * 5, -1.0, 1.0),
                n: 5,
                bias: Some(rng.vec(5, -0.5, 0.5)),
            },
            Node::Map {
                operands: vec![Operand::Node(1), Operand::Row(vec![0.5; 5])],
                spec: KernelSpec {
                    float: ElemType::F32,
                    inputs: vec![ElemType::F32; 2],
                    num_scalars: 0,
                    body: vec![
                        Inst::Input(0),
                        Inst::Input(1),
                        Inst::Binary(crate::kernel::BinaryOp::Mul, ValueId(0), ValueId(1)),
                        Inst::Unary(UnaryOp::Sin, ValueId(2)),
                    ],
                    outputs: vec![Output {
                        value: ValueId(3),
                        ty: ElemType::F32,
                    }],
                },
            },
            Node::Slice {
                x: 0,
                start: 1,
                len: 2,
            },
            Node::Concat { parts: vec![2, 3] },
            Node::Dense {
                x: 4,
                weight: rng.vec(7 * 2, -1.0, 1.0),
                n: 2,
                bias: None,
            },
        ],
        output: 5,
    };
    graph_to_mcu_bytes(&g, &McuOptions { weights })
        .unwrap()
        .bytes
}

/// Re-seal `bytes` with a valid length and checksum, so that the structural checks are what is
/// tested.
fn reseal(bytes: &mut [u8]) {
    if bytes.len() >= CHECKSUMMED_FROM {
        let len = bytes.len() as u32;
        bytes[8..12].copy_from_slice(&len.to_le_bytes());
        let sum = checksum(&bytes[CHECKSUMMED_FROM..]);
        bytes[12..16].copy_from_slice(&sum.to_le_bytes());
    }
}

/// Parse and, if that succeeds, run: must not panic; returns whether both succeeded.
fn parse_and_run(bytes: &[u8]) -> bool {
    let Ok(m) = Model::parse(bytes) else {
        return false;
    };
    let input = vec![0.5f32; m.input_width()];
    let mut out = vec![0.0f32; m.output_width()];
    // Cap the buffer: a corrupted header may ask for gigabytes.
    let mut buffer = vec![0.0f32; m.buffer_len().min(1 << 16)];
    m.infer(&input, &mut out, &mut buffer).is_ok()
}

#[test]
fn every_truncation_is_a_typed_error() {
    for weights in [McuWeights::Fp32, McuWeights::Int8PerChannel] {
        let bytes = small_model(weights);
        assert!(parse_and_run(&bytes));
        for len in 0..bytes.len() {
            let e = Model::parse(&bytes[..len]).unwrap_err();
            assert!(
                matches!(e, McuError::Truncated { .. }),
                "{len} of {} bytes: {e}",
                bytes.len()
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            Model::parse(&longer),
            Err(McuError::TrailingBytes { .. })
        ));
    }
}

#[test]
fn every_flipped_byte_is_detected() {
    let bytes = small_model(McuWeights::Fp32);
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            assert!(
                Model::parse(&b).is_err(),
                "byte {i} ^ {mask:#x} went unnoticed"
            );
        }
    }
    let mut b = bytes.clone();
    b[0] = b'X';
    assert_eq!(Model::parse(&b).unwrap_err(), McuError::BadMagic);
    let mut b = bytes;
    b[4] = 9;
    assert!(matches!(
        Model::parse(&b).unwrap_err(),
        McuError::UnsupportedVersion { found: 9, .. }
    ));
}

#[test]
fn corrupt_fields_with_valid_checksums_are_rejected_by_validation() {
    // Every word of the header and code set to awkward values, checksum fixed up: parse must
    // refuse or run without panicking; a sample of them must be refused.
    for weights in [McuWeights::Fp32, McuWeights::Int8PerTensor] {
        let bytes = small_model(weights);
        let code_end = 48 + 4 * u32::from_le_bytes(bytes[44..48].try_into().unwrap()) as usize;
        let mut refused = 0;
        for at in (16..code_end).step_by(4) {
            for v in [0u32, 1, 2, 7, 0xffff, u32::MAX, u32::MAX / 4 + 1] {
                let mut b = bytes.clone();
                b[at..at + 4].copy_from_slice(&v.to_le_bytes());
                reseal(&mut b);
                if !parse_and_run(&b) {
                    refused += 1;
                }
            }
        }
        assert!(refused > (code_end - 16) / 4 * 3, "only {refused} refused");
    }
}

#[test]
fn buffers_and_slices_of_the_wrong_size_are_typed_errors() {
    let bytes = small_model(McuWeights::Fp32);
    let m = Model::parse(&bytes).unwrap();
    let n = m.buffer_len();
    let mut buffer = vec![0.0f32; n];
    let mut y = [0.0f32; 2];
    assert_eq!(
        m.infer(&[1.0, 2.0, 3.0], &mut y, &mut buffer[..n - 1]),
        Err(McuError::BufferTooSmall {
            needed: n,
            got: n - 1
        })
    );
    assert_eq!(
        m.infer(&[1.0, 2.0], &mut y, &mut buffer),
        Err(McuError::InputLength {
            expected: 3,
            got: 2
        })
    );
    assert_eq!(
        m.infer(&[1.0, 2.0, 3.0], &mut y[..1], &mut buffer),
        Err(McuError::OutputLength {
            expected: 2,
            got: 1
        })
    );
    let mut yy = [0.0f32; 4];
    assert!(matches!(
        m.infer_batch(&[1.0; 7], &mut yy, &mut buffer),
        Err(McuError::InputLength { .. })
    ));
    assert!(matches!(
        m.infer_batch(&[1.0; 6], &mut yy[..3], &mut buffer),
        Err(McuError::OutputLength { .. })
    ));
    assert_eq!(m.infer_batch(&[1.0; 6], &mut yy, &mut buffer), Ok(2));
    assert_eq!(m.infer_batch(&[], &mut [], &mut buffer), Ok(0));
    // A larger buffer is fine; messages say what to do.
    let mut big = vec![0.0f32; n + 100];
    assert!(m.infer(&[1.0, 2.0, 3.0], &mut y, &mut big).is_ok());
    let e = m.infer(&[1.0, 2.0, 3.0], &mut y, &mut []).unwrap_err();
    assert!(e.to_string().contains("buffer_len"), "{e}");
    let exported = graph_to_mcu_bytes(
        &Graph {
            input_width: 1,
            nodes: vec![Node::Input],
            output: 0,
        },
        &McuOptions::default(),
    )
    .unwrap();
    assert_eq!(run_mcu(&exported, &[4.0]), [4.0]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes never panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_and_run(&bytes);
    }

    /// Random edits of a valid model, with the checksum fixed up: never a panic.
    #[test]
    fn mutated_models_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        int8 in any::<bool>(),
        cut in any::<usize>(),
    ) {
        let weights = if int8 { McuWeights::Int8PerChannel } else { McuWeights::Fp32 };
        let mut bytes = small_model(weights);
        for (at, v) in edits {
            let i = at % bytes.len();
            bytes[i] = v;
        }
        if cut % 4 == 0 {
            bytes.truncate(cut % bytes.len());
        }
        reseal(&mut bytes);
        let _ = parse_and_run(&bytes);
    }
}
