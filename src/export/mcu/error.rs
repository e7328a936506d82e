//! The error type of the microcontroller exporter.

use std::fmt;

use crate::inference::InferenceError;

/// Why a model could not be written for `pinn-jit-mcu`. Every message says what to do.
#[derive(Clone, Debug, PartialEq)]
pub enum McuExportError {
    /// The graph breaks one of [`crate::inference::Graph`]'s invariants.
    InvalidGraph(InferenceError),
    /// An element-wise operation the microcontroller runtime does not implement.
    UnsupportedOp {
        /// The graph node holding it.
        node: usize,
        /// The operation (e.g. `Pow`).
        op: String,
    },
    /// Int8 quantization met a NaN or infinite weight.
    NonFiniteWeights {
        /// The dense node.
        node: usize,
    },
    /// A size or offset does not fit the format's 32-bit words.
    TooLarge {
        /// What overflowed.
        what: &'static str,
        /// Its value.
        value: usize,
    },
}

impl fmt::Display for McuExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            McuExportError::InvalidGraph(e) => {
                write!(f, "cannot export an invalid graph: {e}")
            }
            McuExportError::UnsupportedOp { node, op } => write!(
                f,
                "node {node} uses `{op}`, which the microcontroller runtime (pinn-jit-mcu) does not implement; \
                 rewrite that part of the forward pass with supported operations (e.g. x*x instead of powf)"
            ),
            McuExportError::NonFiniteWeights { node } => write!(
                f,
                "dense node {node} has NaN or infinite weights, which int8 cannot represent; \
                 export with McuWeights::Fp32 or fix the training"
            ),
            McuExportError::TooLarge { what, value } => write!(
                f,
                "{what} = {value} does not fit the microcontroller format's 32-bit fields; \
                 the model is far too large for a microcontroller"
            ),
        }
    }
}

impl std::error::Error for McuExportError {}

impl From<InferenceError> for McuExportError {
    fn from(e: InferenceError) -> Self {
        McuExportError::InvalidGraph(e)
    }
}
