//! Typed errors of the quantization toolkit.

use core::fmt;

use crate::pinn::PinnError;

/// Everything that can go wrong when quantizing a model or running a quantized one.
///
/// Every variant's message says what was wrong and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum QuantError {
    /// A Burn `QuantScheme` (or a combination of settings) this toolkit does not implement.
    UnsupportedScheme(String),
    /// A tensor with no elements was given to quantize.
    Empty {
        /// What was being quantized.
        context: String,
    },
    /// A tensor to quantize holds NaN or ±inf.
    NonFinite {
        /// What was being quantized.
        context: String,
        /// Flat index of the first non-finite value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A configuration value is invalid (block size 0, empty plan, …).
    InvalidConfig(String),
    /// Shapes do not fit together.
    ShapeMismatch {
        /// What was being done.
        context: String,
        /// The expected shape.
        expected: Vec<usize>,
        /// The shape that was given.
        got: Vec<usize>,
    },
    /// A static-quantized layer was run before its activation range was calibrated.
    NotCalibrated {
        /// The layer index.
        layer: usize,
    },
    /// An error of the PINN toolkit (training, jets) during calibration or fine-tuning.
    Pinn(PinnError),
}

impl fmt::Display for QuantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantError::UnsupportedScheme(what) => write!(
                f,
                "unsupported quantization scheme: {what}; pinn_jit::quant implements symmetric \
                 INT8 (Q8S) and INT4 (Q4S) with per-tensor, per-channel or per-block (1-D block \
                 along the input dimension) f32 scales, and FP16 — pick one of those"
            ),
            QuantError::Empty { context } => write!(
                f,
                "{context}: the tensor has no elements; quantization needs at least one value \
                 (check the layer widths)"
            ),
            QuantError::NonFinite {
                context,
                index,
                value,
            } => write!(
                f,
                "{context}: element {index} is {value}; quantization scales are undefined for \
                 non-finite weights — fix the model (e.g. retrain or clip) before quantizing"
            ),
            QuantError::InvalidConfig(msg) => write!(f, "{msg}"),
            QuantError::ShapeMismatch {
                context,
                expected,
                got,
            } => write!(f, "{context}: expected shape {expected:?}, got {got:?}"),
            QuantError::NotCalibrated { layer } => write!(
                f,
                "layer {layer} uses static activation quantization but has no calibrated range: \
                 call `QuantizedMlp::calibrate` with sample inputs first (or use dynamic \
                 activation quantization)"
            ),
            QuantError::Pinn(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for QuantError {}

impl From<PinnError> for QuantError {
    fn from(e: PinnError) -> Self {
        QuantError::Pinn(e)
    }
}
