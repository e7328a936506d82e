//! Ahead-of-time export: a [`CompiledModel`] written as a relocatable ELF object for another
//! machine, with a C header, so that a board runs the trained network with no Rust, Burn or
//! JIT on it.
//!
//! ```no_run
//! use burn::nn::{Linear, LinearConfig};
//! use pinn_jit::export::{ExportOptions, Target};
//! use pinn_jit::inference::{CompiledModel, Tracer};
//!
//! let device = Default::default();
//! let l1: Linear<Tracer> = LinearConfig::new(2, 16).init(&device);
//! let l2: Linear<Tracer> = LinearConfig::new(16, 1).init(&device);
//! let model = CompiledModel::trace(2, |x| l2.forward(l1.forward(x).tanh())).unwrap();
//! let exported = model
//!     .export(&ExportOptions::new("burgers", Target::Aarch64Linux))
//!     .unwrap();
//! exported.write_to("out").unwrap(); // out/burgers.o and out/burgers.h
//! ```
//!
//! The object defines one global function, `void <name>_infer(const float *in, float *out,
//! size_t batch)` (row-major `batch × inputs` in, `batch × outputs` out), plus the model's local
//! functions and its weights in read-only data. It references no symbol outside itself (no libm,
//! no allocator, no Rust runtime): the scratch for intermediate values lives in the entry's stack
//! frame, whose size the header states. It keeps no state, so any number of threads may call it.
//!
//! Targets and the instruction sets they assume:
//! - `x86_64-unknown-linux-gnu`: x86-64-v2 (SSE4.2), no FMA (separate multiply and add);
//! - `aarch64-unknown-linux-gnu`: ARMv8-A with NEON and FMA (every 64-bit ARM board: Raspberry
//!   Pi 3/4/5, Jetson);
//! - `riscv64gc-unknown-linux-gnu`: RV64GC **with the V extension** (RVV 1.0, VLEN ≥ 128):
//!   Cranelift's RISC-V backend lowers the model's 128-bit vectors to RVV, so boards without it
//!   (e.g. StarFive VisionFive 2) cannot run the object.
//!
//! Not yet: FP16/INT8 weights in the object (the weights are f32), and models whose element-wise
//! operations have no inline lowering (`sin`/`cos` and thus Fourier features, `tan`, `sinh`,
//! `cosh`, `erf`, `powf`, `%`, `atan2`), which give [`ExportError::Inference`] naming the op.
//!
//! For microcontrollers that Cranelift cannot generate code for (Cortex-M, riscv32, Xtensa),
//! [`mcu`] writes the same model as a byte format that the `no_std`, allocation-free
//! interpreter crate `pinn-jit-mcu` executes, f32 or INT8 weights.

mod header;
pub mod mcu;
mod verify;

pub use verify::{Verification, verify_on_target};

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use cranelift_codegen::isa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_module::default_libcall_names;
use cranelift_object::{ObjectBuilder, ObjectModule};

use crate::inference::{CompiledModel, InferenceError, WeightPrecision, define_standalone};

/// A machine an exported object runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `x86_64-unknown-linux-gnu` (x86-64-v2).
    X86_64Linux,
    /// `aarch64-unknown-linux-gnu` (ARMv8-A, NEON).
    Aarch64Linux,
    /// `riscv64gc-unknown-linux-gnu` with the V extension (VLEN ≥ 128).
    Riscv64Linux,
}

impl Target {
    /// Every supported target.
    pub const ALL: [Target; 3] = [
        Target::X86_64Linux,
        Target::Aarch64Linux,
        Target::Riscv64Linux,
    ];

    /// The target triple.
    pub fn triple(self) -> &'static str {
        match self {
            Target::X86_64Linux => "x86_64-unknown-linux-gnu",
            Target::Aarch64Linux => "aarch64-unknown-linux-gnu",
            Target::Riscv64Linux => "riscv64gc-unknown-linux-gnu",
        }
    }

    /// The architecture's short name (`x86_64`, `aarch64`, `riscv64`).
    pub fn arch(self) -> &'static str {
        match self {
            Target::X86_64Linux => "x86_64",
            Target::Aarch64Linux => "aarch64",
            Target::Riscv64Linux => "riscv64",
        }
    }

    /// Whether the generated code uses fused multiply-adds.
    fn fma(self) -> bool {
        !matches!(self, Target::X86_64Linux)
    }

    /// The ISA flags beyond the triple's defaults.
    fn isa_flags(self, b: &mut isa::Builder) -> Result<(), ExportError> {
        let names: &[&str] = match self {
            Target::X86_64Linux => &[
                "has_sse3",
                "has_ssse3",
                "has_sse41",
                "has_sse42",
                "has_popcnt",
            ],
            Target::Aarch64Linux => &[],
            Target::Riscv64Linux => &["has_v", "zvl128b"],
        };
        for name in names {
            b.enable(name)
                .map_err(|e| ExportError::Codegen(format!("{self}: {name}: {e}")))?;
        }
        Ok(())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.triple())
    }
}

impl FromStr for Target {
    type Err = ExportError;

    /// A triple (`aarch64-unknown-linux-gnu`) or an architecture name (`aarch64`, `arm64`,
    /// `x86_64`, `riscv64`, `riscv64gc`).
    fn from_str(s: &str) -> Result<Self, ExportError> {
        let t = match s {
            "x86_64" | "x86_64-unknown-linux-gnu" => Target::X86_64Linux,
            "aarch64" | "arm64" | "aarch64-unknown-linux-gnu" => Target::Aarch64Linux,
            "riscv64" | "riscv64gc" | "riscv64gc-unknown-linux-gnu" => Target::Riscv64Linux,
            other => return Err(ExportError::UnsupportedTarget(other.to_string())),
        };
        Ok(t)
    }
}

/// What to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// The C name prefix: the object defines `<name>_infer`. A C identifier.
    pub name: String,
    /// The machine.
    pub target: Target,
    /// Format of the dense weights in the object (default `F32`;
    /// [`WeightPrecision::Int8`] stores `i8` codes, about 4× smaller).
    pub weights: WeightPrecision,
}

impl ExportOptions {
    /// Export as `<name>_infer` for `target`, with `f32` weights.
    pub fn new(name: impl Into<String>, target: Target) -> Self {
        Self {
            name: name.into(),
            target,
            weights: WeightPrecision::F32,
        }
    }

    /// The same, with dense weights in `weights`.
    pub fn with_weights(mut self, weights: WeightPrecision) -> Self {
        self.weights = weights;
        self
    }
}

/// An exported model: the object file's bytes and its C header.
#[derive(Clone, Debug)]
pub struct ExportedModel {
    /// The options it was exported with.
    pub options: ExportOptions,
    /// The relocatable ELF object.
    pub object: Vec<u8>,
    /// The C header declaring `<name>_infer` and the widths.
    pub header: String,
    /// Bytes of machine code in the object.
    pub code_bytes: usize,
    /// Bytes of weights and constants in the object.
    pub data_bytes: usize,
    /// Bytes of stack the entry reserves for intermediate values and the deepest step's own
    /// buffer (an `i8` layer's quantized input row), plus a few hundred for saved registers.
    pub stack_bytes: usize,
    /// Floats per input row.
    pub inputs: usize,
    /// Floats per output row.
    pub outputs: usize,
}

impl ExportedModel {
    /// Write `<dir>/<name>.o` and `<dir>/<name>.h` (creating `dir`); returns both paths.
    ///
    /// # Errors
    /// [`ExportError::Io`] naming the path that could not be written.
    pub fn write_to(&self, dir: impl AsRef<Path>) -> Result<(PathBuf, PathBuf), ExportError> {
        let dir = dir.as_ref();
        let io = |path: &Path, e: std::io::Error| ExportError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let obj = dir.join(format!("{}.o", self.options.name));
        let hdr = dir.join(format!("{}.h", self.options.name));
        std::fs::write(&obj, &self.object).map_err(|e| io(&obj, e))?;
        std::fs::write(&hdr, &self.header).map_err(|e| io(&hdr, e))?;
        Ok((obj, hdr))
    }
}

/// Why a model could not be exported.
#[derive(Debug)]
pub enum ExportError {
    /// The target is not one of [`Target::ALL`].
    UnsupportedTarget(String),
    /// The name is not a C identifier.
    InvalidName(String),
    /// The model cannot be compiled standalone (e.g. an operation without inline lowering).
    Inference(InferenceError),
    /// Cranelift or the object writer failed.
    Codegen(String),
    /// Writing a file failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The system's message.
        message: String,
    },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::UnsupportedTarget(t) => write!(
                f,
                "unsupported export target `{t}`: use x86_64-unknown-linux-gnu, \
                 aarch64-unknown-linux-gnu or riscv64gc-unknown-linux-gnu"
            ),
            ExportError::InvalidName(n) => write!(
                f,
                "`{n}` is not a C identifier: use letters, digits and `_`, not starting with a digit"
            ),
            ExportError::Inference(e) => write!(f, "the model cannot be exported: {e}"),
            ExportError::Codegen(m) => write!(f, "code generation for export failed: {m}"),
            ExportError::Io { path, message } => {
                write!(f, "cannot write {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExportError::Inference(e) => Some(e),
            _ => None,
        }
    }
}

impl From<InferenceError> for ExportError {
    fn from(e: InferenceError) -> Self {
        ExportError::Inference(e)
    }
}

fn is_c_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl CompiledModel {
    /// This model as a relocatable object for `options.target` with a C header (see
    /// [`crate::export`]).
    ///
    /// # Errors
    /// [`ExportError::InvalidName`], [`ExportError::Inference`] for an operation exported code
    /// cannot contain, [`ExportError::Codegen`].
    pub fn export(&self, options: &ExportOptions) -> Result<ExportedModel, ExportError> {
        if !is_c_identifier(&options.name) {
            return Err(ExportError::InvalidName(options.name.clone()));
        }
        let target = options.target;
        let cg = |e: &dyn fmt::Display| ExportError::Codegen(format!("{target}: {e}"));
        let mut isa_builder = isa::lookup_by_name(target.triple()).map_err(|e| cg(&e))?;
        target.isa_flags(&mut isa_builder)?;
        let mut flags = settings::builder();
        for (k, v) in [
            ("opt_level", "speed"),
            ("is_pic", "true"),
            ("enable_probestack", "true"),
            ("probestack_strategy", "inline"),
        ] {
            flags.set(k, v).map_err(|e| cg(&e))?;
        }
        let isa = isa_builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| cg(&e))?;
        let builder = ObjectBuilder::new(
            isa,
            options.name.as_bytes().to_vec(),
            default_libcall_names(),
        )
        .map_err(|e| cg(&e))?;
        let mut module = ObjectModule::new(builder);
        let standalone = define_standalone(
            &mut module,
            self.graph(),
            &options.name,
            target.fma(),
            options.weights,
        )?;
        let object = module.finish().emit().map_err(|e| cg(&e))?;
        let data_bytes = standalone.data_bytes;
        let (inputs, outputs) = (self.input_width(), self.output_width());
        let header = header::c_header(
            &options.name,
            target,
            inputs,
            outputs,
            standalone.scratch_bytes,
        );
        Ok(ExportedModel {
            options: options.clone(),
            object,
            header,
            code_bytes: standalone.code_bytes,
            data_bytes,
            stack_bytes: standalone.scratch_bytes + standalone.step_stack_bytes,
            inputs,
            outputs,
        })
    }
}

#[cfg(test)]
mod tests;
