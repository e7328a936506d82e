//! [`Model`]: a parsed, fully validated view of an exported model's bytes.

use crate::McuError;
use crate::format::*;
use crate::ops::{Bounds, word};

/// An exported model, borrowed from its bytes (which may live in flash: nothing is copied).
///
/// [`Model::parse`] checks everything once — header, checksum, and every operation's opcode,
/// offsets and sizes against the buffer and the data section — so that
/// [`Model::infer`] cannot read or write out of bounds whatever the bytes were.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    pub(crate) code: &'a [u8],
    pub(crate) data: &'a [u8],
    pub(crate) input_width: usize,
    pub(crate) output_width: usize,
    pub(crate) buffer_len: usize,
    pub(crate) regs: usize,
    pub(crate) n_ops: usize,
    pub(crate) input_off: usize,
    pub(crate) output_off: usize,
}

impl<'a> Model<'a> {
    /// Parse and validate an exported model.
    ///
    /// # Errors
    /// [`McuError::Truncated`], [`McuError::BadMagic`], [`McuError::UnsupportedVersion`],
    /// [`McuError::TrailingBytes`], [`McuError::ChecksumMismatch`] or [`McuError::Corrupt`];
    /// never a panic, whatever `bytes` holds.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, McuError> {
        let truncated = |needed: usize| McuError::Truncated {
            needed,
            len: bytes.len(),
        };
        if bytes.len() < HEADER_BYTES {
            // A prefix of a valid model still shows its magic; anything else is not ours.
            if bytes.len() >= 4 && bytes.get(..4) != Some(&MAGIC[..]) {
                return Err(McuError::BadMagic);
            }
            return Err(truncated(HEADER_BYTES));
        }
        let h = |i: usize| word(bytes, i).map_or(0, |w| w as usize);
        if bytes.get(..4) != Some(&MAGIC[..]) {
            return Err(McuError::BadMagic);
        }
        if h(1) != VERSION as usize {
            return Err(McuError::UnsupportedVersion {
                found: h(1) as u32,
                supported: VERSION,
            });
        }
        let total = h(2);
        if total > bytes.len() {
            return Err(truncated(total));
        }
        if total < bytes.len() {
            return Err(McuError::TrailingBytes {
                model: total,
                len: bytes.len(),
            });
        }
        let stored = h(3) as u32;
        let computed = checksum(bytes.get(CHECKSUMMED_FROM..).unwrap_or(&[]));
        if stored != computed {
            return Err(McuError::ChecksumMismatch { stored, computed });
        }
        let corrupt = |word_index: usize, what| McuError::Corrupt {
            at: word_index * 4,
            what,
        };
        let (input_width, output_width) = (h(4), h(5));
        let (buffer_len, regs, n_ops) = (h(6), h(7), h(8));
        let (input_off, output_off, code_words) = (h(9), h(10), h(11));
        let code_end = code_words
            .checked_mul(4)
            .and_then(|b| b.checked_add(HEADER_BYTES))
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| corrupt(11, "code section runs past the end"))?;
        let code = bytes.get(HEADER_BYTES..code_end).unwrap_or(&[]);
        let data = bytes.get(code_end..).unwrap_or(&[]);
        if regs > buffer_len {
            return Err(corrupt(7, "more registers than buffer"));
        }
        let slots = buffer_len - regs;
        let in_slots = |off: usize, len: usize| {
            len > 0 && off >= regs && off.checked_add(len).is_some_and(|e| e <= buffer_len)
        };
        if !in_slots(input_off, input_width) {
            return Err(corrupt(9, "input range out of the buffer"));
        }
        if !in_slots(output_off, output_width) {
            return Err(corrupt(10, "output range out of the buffer"));
        }
        let bounds = Bounds {
            code,
            data,
            regs,
            slots,
        };
        let mut pos = 0;
        for _ in 0..n_ops {
            let (op, next) = bounds.op(pos)?;
            bounds.check_map(pos, &op)?;
            pos = next;
        }
        if pos != code_words {
            return Err(corrupt(
                8,
                "operation count does not match the code section",
            ));
        }
        Ok(Model {
            code,
            data,
            input_width,
            output_width,
            buffer_len,
            regs,
            n_ops,
            input_off,
            output_off,
        })
    }

    /// Floats per input sample.
    pub fn input_width(&self) -> usize {
        self.input_width
    }

    /// Floats per output sample.
    pub fn output_width(&self) -> usize {
        self.output_width
    }

    /// Length (in `f32`s) of the scratch buffer [`Model::infer`] needs; fixed at export time.
    pub fn buffer_len(&self) -> usize {
        self.buffer_len
    }

    /// [`Model::buffer_len`] in bytes.
    pub fn buffer_bytes(&self) -> usize {
        self.buffer_len.saturating_mul(4)
    }

    /// Number of operations (dense layers, maps, copies).
    pub fn num_ops(&self) -> usize {
        self.n_ops
    }

    /// The geometry the interpreter checks operations against.
    pub(crate) fn bounds(&self) -> Bounds<'a> {
        Bounds {
            code: self.code,
            data: self.data,
            regs: self.regs,
            slots: self.buffer_len.saturating_sub(self.regs),
        }
    }
}
