//! The runtime's error type.

use core::fmt;

/// Why a model could not be parsed or run. Every message says what to do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum McuError {
    /// The byte slice is shorter than the model it claims to hold.
    Truncated {
        /// Bytes the model needs.
        needed: usize,
        /// Bytes given.
        len: usize,
    },
    /// The first four bytes are not [`crate::format::MAGIC`].
    BadMagic,
    /// The model was written for another version of the format.
    UnsupportedVersion {
        /// Version in the model.
        found: u32,
        /// Version this runtime reads.
        supported: u32,
    },
    /// The slice is longer than the model's recorded length (trailing bytes).
    TrailingBytes {
        /// The model's length.
        model: usize,
        /// Bytes given.
        len: usize,
    },
    /// The checksum does not match: the bytes were changed after export.
    ChecksumMismatch {
        /// Checksum recorded in the header.
        stored: u32,
        /// Checksum of the bytes given.
        computed: u32,
    },
    /// The checksum matched but the contents are inconsistent (an offset out of bounds, an
    /// unknown opcode, …).
    Corrupt {
        /// Byte offset in the model of the offending word.
        at: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// `input` does not hold one sample (or a whole number of samples for a batch).
    InputLength {
        /// Floats expected (per sample).
        expected: usize,
        /// Floats given.
        got: usize,
    },
    /// `output` does not match the input's number of samples.
    OutputLength {
        /// Floats expected.
        expected: usize,
        /// Floats given.
        got: usize,
    },
    /// The scratch buffer is shorter than [`crate::Model::buffer_len`].
    BufferTooSmall {
        /// Floats needed.
        needed: usize,
        /// Floats given.
        got: usize,
    },
}

impl fmt::Display for McuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            McuError::Truncated { needed, len } => write!(
                f,
                "model truncated: it needs {needed} bytes, {len} given; copy the whole exported file"
            ),
            McuError::BadMagic => write!(
                f,
                "not a pinn-jit microcontroller model (bad magic); export it with pinn_jit's to_mcu_bytes"
            ),
            McuError::UnsupportedVersion { found, supported } => write!(
                f,
                "model format version {found}, this runtime reads version {supported}; export the model again with the matching pinn-jit"
            ),
            McuError::TrailingBytes { model, len } => write!(
                f,
                "{len} bytes given for a {model}-byte model; pass exactly the exported bytes"
            ),
            McuError::ChecksumMismatch { stored, computed } => write!(
                f,
                "model checksum {computed:#010x} does not match the stored {stored:#010x}: the bytes are corrupt, flash the exported file again"
            ),
            McuError::Corrupt { at, what } => write!(
                f,
                "corrupt model at byte {at}: {what}; export the model again"
            ),
            McuError::InputLength { expected, got } => write!(
                f,
                "input has {got} floats, the model reads {expected} per sample"
            ),
            McuError::OutputLength { expected, got } => write!(
                f,
                "output has room for {got} floats, the model writes {expected}"
            ),
            McuError::BufferTooSmall { needed, got } => write!(
                f,
                "scratch buffer has {got} floats, the model needs {needed} (Model::buffer_len)"
            ),
        }
    }
}

impl core::error::Error for McuError {}
