//! Typed errors of the PINN toolkit.

use core::fmt;

/// Everything that can go wrong when using the PINN toolkit.
///
/// Every variant's message says what was wrong and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum PinnError {
    /// A second derivative was requested that the [`JetSpec`](super::JetSpec) does not carry.
    MissingSecondDerivative {
        /// First input index of the requested derivative.
        i: usize,
        /// Second input index of the requested derivative.
        j: usize,
    },
    /// An input index is outside the number of inputs.
    InputOutOfRange {
        /// The index asked for.
        index: usize,
        /// The number of inputs the jet was seeded with.
        n_inputs: usize,
    },
    /// Two tensors or jets do not have compatible shapes.
    ShapeMismatch {
        /// What was being done.
        context: &'static str,
        /// The expected shape.
        expected: Vec<usize>,
        /// The shape that was given.
        got: Vec<usize>,
    },
    /// A configuration value is invalid.
    InvalidConfig(String),
    /// The L-BFGS optimizer met a non-finite loss or gradient.
    NonFinite(String),
    /// Reading or writing a file failed.
    Io(String),
}

impl fmt::Display for PinnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinnError::MissingSecondDerivative { i, j } => write!(
                f,
                "the second derivative d2/dx{i}dx{j} was not requested: add ({i}, {j}) to the \
                 JetSpec with `JetSpec::new(n).with_second(&[({i}, {j})])`"
            ),
            PinnError::InputOutOfRange { index, n_inputs } => write!(
                f,
                "input index {index} is out of range: the jet has {n_inputs} input(s), \
                 use an index below {n_inputs}"
            ),
            PinnError::ShapeMismatch {
                context,
                expected,
                got,
            } => write!(
                f,
                "{context}: expected shape {expected:?}, got {got:?}; reshape the input or fix \
                 the configuration so the sizes agree"
            ),
            PinnError::InvalidConfig(msg) => write!(f, "invalid configuration: {msg}"),
            PinnError::NonFinite(msg) => write!(
                f,
                "non-finite value: {msg}; lower the learning rate, use f64, or check the loss"
            ),
            PinnError::Io(msg) => write!(f, "I/O error: {msg}"),
        }
    }
}

impl std::error::Error for PinnError {}

impl From<std::io::Error> for PinnError {
    fn from(e: std::io::Error) -> Self {
        PinnError::Io(e.to_string())
    }
}
