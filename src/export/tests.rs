use burn::nn::{Linear, LinearConfig};

use super::*;
use crate::inference::Tracer;

fn small_model(sin: bool) -> CompiledModel {
    let device = Default::default();
    let l1: Linear<Tracer> = LinearConfig::new(3, 8).init(&device);
    let l2: Linear<Tracer> = LinearConfig::new(8, 2).init(&device);
    CompiledModel::trace(3, |x| {
        let h = l1.forward(x);
        let h = if sin { h.sin() } else { h.tanh() };
        l2.forward(h)
    })
    .unwrap()
}

#[test]
fn targets_parse_from_triples_and_names_and_reject_others() {
    for t in Target::ALL {
        assert_eq!(t.triple().parse::<Target>().unwrap(), t);
        assert_eq!(t.arch().parse::<Target>().unwrap(), t);
    }
    let err = "armv7-unknown-linux-gnueabihf"
        .parse::<Target>()
        .unwrap_err();
    assert!(matches!(err, ExportError::UnsupportedTarget(_)));
    assert!(
        err.to_string().contains("aarch64-unknown-linux-gnu"),
        "{err}"
    );
}

#[test]
fn names_must_be_c_identifiers() {
    let m = small_model(false);
    for bad in ["", "1model", "my-model", "m odel", "ünï"] {
        let err = m
            .export(&ExportOptions::new(bad, Target::X86_64Linux))
            .unwrap_err();
        assert!(matches!(err, ExportError::InvalidName(_)), "{bad}: {err}");
    }
    assert!(
        m.export(&ExportOptions::new("_ok9", Target::X86_64Linux))
            .is_ok()
    );
}

#[test]
fn an_op_without_inline_lowering_is_a_typed_error_naming_it() {
    let err = small_model(true)
        .export(&ExportOptions::new("m", Target::Aarch64Linux))
        .unwrap_err();
    match &err {
        ExportError::Inference(InferenceError::UnsupportedOp { op, .. }) => assert_eq!(op, "Sin"),
        other => panic!("expected UnsupportedOp, got {other:?}"),
    }
}

#[test]
fn every_target_gives_an_elf_object_and_a_header() {
    let m = small_model(false);
    for t in Target::ALL {
        let e = m.export(&ExportOptions::new("pinn_small", t)).unwrap();
        assert_eq!(&e.object[..4], b"\x7fELF", "{t}");
        // e_machine at offset 18: x86-64 62, AArch64 183, RISC-V 243.
        let machine = u16::from_le_bytes([e.object[18], e.object[19]]);
        let expected = match t {
            Target::X86_64Linux => 62,
            Target::Aarch64Linux => 183,
            Target::Riscv64Linux => 243,
        };
        assert_eq!(machine, expected, "{t}");
        assert!(
            e.header
                .contains("void pinn_small_infer(const float *in, float *out, size_t batch);")
        );
        assert!(e.header.contains("#define PINN_SMALL_INPUTS 3"));
        assert!(e.header.contains("#define PINN_SMALL_OUTPUTS 2"));
        assert_eq!((e.inputs, e.outputs), (3, 2));
        assert_eq!(e.data_bytes % 4, 0);
        assert!(e.code_bytes > 0 && e.stack_bytes >= 16);
    }
}

#[test]
fn write_to_creates_both_files_and_reports_io_errors() {
    let e = small_model(false)
        .export(&ExportOptions::new("w", Target::X86_64Linux))
        .unwrap();
    let dir = std::env::temp_dir().join(format!("pinn-jit-export-unit-{}", std::process::id()));
    let (o, h) = e.write_to(&dir).unwrap();
    assert_eq!(std::fs::read(&o).unwrap(), e.object);
    assert_eq!(std::fs::read_to_string(&h).unwrap(), e.header);
    // A directory path that is a file cannot be created.
    let err = e.write_to(&o).unwrap_err();
    assert!(matches!(err, ExportError::Io { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
