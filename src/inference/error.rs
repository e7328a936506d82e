//! The errors of [`crate::inference`]: one enum for compiling, running and loading a model.

use core::fmt;

/// Why a model could not be traced, compiled, run, saved or loaded.
///
/// Every message says what went wrong and what to do about it.
#[derive(Clone, Debug, PartialEq)]
pub enum InferenceError {
    /// The traced forward pass uses an operation the whole-model compiler does not support
    /// (or uses a supported one in an unsupported way, e.g. reducing over the batch).
    UnsupportedOp {
        /// The operation, as Burn names it (e.g. `"float_sum_dim"`).
        op: String,
        /// Why it cannot be compiled.
        detail: String,
    },
    /// Tracing the forward pass failed (it panicked, or its output does not depend on its input).
    Trace(String),
    /// A graph breaks one of [`super::Graph`]'s invariants.
    InvalidGraph(String),
    /// Cranelift rejected the generated code, or the host ISA is unusable.
    Codegen(String),
    /// The compiled model disagrees with the eager execution it was traced from (a compiler bug:
    /// please report it with the model).
    SelfCheck {
        /// Flat index of the first element that differs.
        index: usize,
        /// The eager value.
        expected: f32,
        /// The compiled value.
        found: f32,
    },
    /// The input slice is not a whole number of rows of the model's input width.
    InputLength {
        /// `input.len()`.
        len: usize,
        /// The model's input width.
        width: usize,
    },
    /// The output slice does not have `rows × output width` elements.
    OutputLength {
        /// `rows × output width`.
        expected: usize,
        /// `output.len()`.
        found: usize,
    },
    /// Moving a module's record onto the tracing backend failed.
    Record(String),
    /// Reading or writing a model file failed at the OS level.
    Io {
        /// The file.
        path: String,
        /// The OS error.
        message: String,
    },
    /// A model file (or byte buffer) is not a valid compiled-model file.
    File(FileError),
}

/// What is wrong with a model file. Loading never trusts the file: every error is one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileError {
    /// The file does not start with the model-file magic bytes.
    BadMagic,
    /// The file was written by an incompatible version of the format.
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The file ends before the length its header announces.
    Truncated {
        /// Bytes the header announces (header included).
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The file has bytes past the length its header announces.
    TrailingBytes {
        /// Bytes the header announces (header included).
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The payload's checksum does not match: the file was corrupted.
    Checksum {
        /// The checksum in the header.
        stored: u64,
        /// The checksum of the payload as read.
        computed: u64,
    },
    /// The payload decodes to something that is not a valid graph.
    Malformed {
        /// Byte offset in the payload where decoding failed.
        offset: usize,
        /// What was expected there.
        what: String,
    },
}

impl fmt::Display for InferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InferenceError::UnsupportedOp { op, detail } => write!(
                f,
                "the model uses `{op}`, which the inference compiler does not support ({detail}); \
                 run this model eagerly on PinnJitBackend, or express it with dense layers and \
                 element-wise operations"
            ),
            InferenceError::Trace(m) => write!(f, "tracing the forward pass failed: {m}"),
            InferenceError::InvalidGraph(m) => write!(
                f,
                "invalid inference graph: {m}; build graphs by tracing a model or fix the \
                 offending node"
            ),
            InferenceError::Codegen(m) => write!(
                f,
                "code generation failed: {m}; this is a bug in pinn-jit, please report it"
            ),
            InferenceError::SelfCheck {
                index,
                expected,
                found,
            } => write!(
                f,
                "the compiled model disagrees with eager execution at element {index} \
                 (eager {expected}, compiled {found}); this is a bug in pinn-jit, please report \
                 it with the model"
            ),
            InferenceError::InputLength { len, width } => write!(
                f,
                "input has {len} values, which is not a whole number of rows of width {width}; \
                 pass rows × {width} values, row-major"
            ),
            InferenceError::OutputLength { expected, found } => write!(
                f,
                "output slice has {found} values but the batch needs {expected}; size it as \
                 rows × output_width()"
            ),
            InferenceError::Record(m) => write!(
                f,
                "could not move the module onto the tracing backend: {m}; the `init` closure \
                 must build a module of the same structure and sizes"
            ),
            InferenceError::Io { path, message } => write!(f, "{path}: {message}"),
            InferenceError::File(e) => write!(f, "not a valid compiled-model file: {e}"),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::BadMagic => write!(
                f,
                "wrong magic bytes (this is not a file written by CompiledModel::save)"
            ),
            FileError::UnsupportedVersion { found, supported } => write!(
                f,
                "format version {found}, this build reads version {supported}; re-export the \
                 model with this version of pinn-jit"
            ),
            FileError::Truncated { expected, found } => write!(
                f,
                "truncated: the header announces {expected} bytes but only {found} are present; \
                 copy the file again"
            ),
            FileError::TrailingBytes { expected, found } => write!(
                f,
                "{found} bytes where the header announces {expected}; the file was appended to \
                 or is not one model"
            ),
            FileError::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:#018x}, computed {computed:#018x}): the file \
                 is corrupted; copy it again or re-export the model"
            ),
            FileError::Malformed { offset, what } => {
                write!(f, "malformed payload at byte {offset}: expected {what}")
            }
        }
    }
}

impl std::error::Error for InferenceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InferenceError::File(e) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for FileError {}

impl From<FileError> for InferenceError {
    fn from(e: FileError) -> Self {
        InferenceError::File(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem_and_the_remedy() {
        let e = InferenceError::UnsupportedOp {
            op: "float_sum_dim".into(),
            detail: "reduces over the batch".into(),
        };
        let m = e.to_string();
        assert!(m.contains("float_sum_dim") && m.contains("eagerly"), "{m}");
        let e = InferenceError::InputLength { len: 7, width: 2 };
        assert!(e.to_string().contains("rows × 2"));
        let e = InferenceError::from(FileError::Checksum {
            stored: 1,
            computed: 2,
        });
        assert!(e.to_string().contains("corrupted"));
        assert!(std::error::Error::source(&e).is_some());
    }
}
