//! Decoding (and bounds-checking) operations of the code section, shared by
//! [`crate::Model::parse`], which checks every operation once, and the interpreter, which
//! decodes them again on every call (nothing is stored: the runtime allocates nothing).

use crate::McuError;
use crate::format::*;

/// Word `i` of `bytes` (little-endian), if it is in bounds.
pub(crate) fn word(bytes: &[u8], i: usize) -> Option<u32> {
    let at = i.checked_mul(4)?;
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// The `f32` at byte offset `at` of `bytes`, if it is in bounds.
pub(crate) fn f32_at(bytes: &[u8], at: usize) -> Option<f32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(f32::from_le_bytes(b))
}

/// Where the code section starts in the model, in bytes (for error positions).
const CODE_AT: usize = HEADER_BYTES;

/// One decoded operation. Buffer offsets are relative to the *slots* (the buffer after the
/// registers); every range has been checked against the slots' length and the data section.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op<'a> {
    Dense {
        x: usize,
        k: usize,
        n: usize,
        out: usize,
        /// `k × n` `f32` (4 bytes each) or `i8` codes.
        weights: &'a [u8],
        bias: Option<&'a [u8]>,
        /// `Some` for `i8` weights: one `f32` per column, or one for all.
        scales: Option<&'a [u8]>,
    },
    Map {
        width: usize,
        out: usize,
        /// `n_operands × OPERAND_WORDS` words.
        operands: &'a [u8],
        /// `n_insts × INST_WORDS` words.
        insts: &'a [u8],
        n_insts: usize,
        result: usize,
    },
    Copy {
        src: usize,
        len: usize,
        dst: usize,
    },
}

/// The geometry an operation is checked against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds<'a> {
    pub code: &'a [u8],
    pub data: &'a [u8],
    /// Registers at the start of the buffer.
    pub regs: usize,
    /// Floats in the buffer after the registers.
    pub slots: usize,
}

fn corrupt(word_index: usize, what: &'static str) -> McuError {
    McuError::Corrupt {
        at: CODE_AT.saturating_add(word_index.saturating_mul(4)),
        what,
    }
}

impl<'a> Bounds<'a> {
    /// Word `i` of the code section.
    fn w(&self, i: usize) -> Result<usize, McuError> {
        word(self.code, i)
            .map(|v| v as usize)
            .ok_or_else(|| corrupt(i, "operation runs past the code section"))
    }

    /// A buffer range `off .. off + len` (absolute offset), as a slot offset.
    fn slot_range(&self, at: usize, off: usize, len: usize) -> Result<usize, McuError> {
        let rel = off
            .checked_sub(self.regs)
            .ok_or_else(|| corrupt(at, "buffer offset inside the register area"))?;
        match rel.checked_add(len) {
            Some(end) if len > 0 && end <= self.slots => Ok(rel),
            _ => Err(corrupt(at, "buffer range out of bounds or empty")),
        }
    }

    /// `len` bytes of the data section at byte offset `off`.
    fn data_range(&self, at: usize, off: usize, len: usize) -> Result<&'a [u8], McuError> {
        off.checked_add(len)
            .and_then(|end| self.data.get(off..end))
            .ok_or_else(|| corrupt(at, "data range out of bounds"))
    }

    /// Decode the operation at word `pos`; returns it and the position of the next one.
    pub(crate) fn op(&self, pos: usize) -> Result<(Op<'a>, usize), McuError> {
        let code = self.w(pos)? as u32;
        let len = self.w(pos + 1)?;
        let next = pos
            .checked_add(len)
            .filter(|&e| len >= 2 && e.checked_mul(4).is_some_and(|b| b <= self.code.len()))
            .ok_or_else(|| corrupt(pos + 1, "operation length out of bounds"))?;
        let f = |i: usize| self.w(pos + 2 + i);
        let op = match code {
            OP_DENSE_F32 | OP_DENSE_I8 => {
                if len != DENSE_WORDS {
                    return Err(corrupt(pos + 1, "dense operation of the wrong length"));
                }
                let (x, k, n, out) = (f(0)?, f(1)?, f(2)?, f(3)?);
                let (w_off, b_off, s_off, n_scales) = (f(4)?, f(5)?, f(6)?, f(7)?);
                let x = self.slot_range(pos + 2, x, k)?;
                let out = self.slot_range(pos + 5, out, n)?;
                if x < out.saturating_add(n) && out < x.saturating_add(k) {
                    return Err(corrupt(pos + 5, "dense output overlaps its input"));
                }
                let kn = k
                    .checked_mul(n)
                    .ok_or_else(|| corrupt(pos + 3, "dense size overflows"))?;
                let int8 = code == OP_DENSE_I8;
                let w_bytes = if int8 { Some(kn) } else { kn.checked_mul(4) };
                let w_bytes = w_bytes.ok_or_else(|| corrupt(pos + 3, "dense size overflows"))?;
                let weights = self.data_range(pos + 6, w_off, w_bytes)?;
                let bias = if b_off == NONE as usize {
                    None
                } else {
                    let bytes = n.saturating_mul(4);
                    Some(self.data_range(pos + 7, b_off, bytes)?)
                };
                let scales = if int8 {
                    if n_scales != 1 && n_scales != n {
                        return Err(corrupt(pos + 9, "int8 dense needs 1 or n scales"));
                    }
                    let bytes = n_scales.saturating_mul(4);
                    Some(self.data_range(pos + 8, s_off, bytes)?)
                } else {
                    if s_off != NONE as usize || n_scales != 0 {
                        return Err(corrupt(pos + 8, "f32 dense with scales"));
                    }
                    None
                };
                Op::Dense {
                    x,
                    k,
                    n,
                    out,
                    weights,
                    bias,
                    scales,
                }
            }
            OP_MAP => {
                let (width, out, n_operands, n_insts, result) = (f(0)?, f(1)?, f(2)?, f(3)?, f(4)?);
                let out = self.slot_range(pos + 3, out, width)?;
                let words = n_operands
                    .checked_mul(OPERAND_WORDS)
                    .and_then(|a| Some((a, n_insts.checked_mul(INST_WORDS)?)))
                    .and_then(|(a, b)| {
                        Some((a, b, MAP_HEAD_WORDS.checked_add(a)?.checked_add(b)?))
                    });
                let Some((op_words, inst_words, _)) = words.filter(|w| w.2 == len) else {
                    return Err(corrupt(pos + 1, "map length does not match its contents"));
                };
                if n_insts == 0 || n_insts > self.regs || result >= n_insts {
                    return Err(corrupt(pos + 5, "map needs 1..=registers instructions"));
                }
                // In bounds: `next` checked `(pos + len) * 4 <= code.len()`, `len` = the map's words.
                let start = pos.saturating_add(MAP_HEAD_WORDS).saturating_mul(4);
                let mid = start.saturating_add(op_words.saturating_mul(4));
                let end = mid.saturating_add(inst_words.saturating_mul(4));
                let (Some(operands), Some(insts)) =
                    (self.code.get(start..mid), self.code.get(mid..end))
                else {
                    return Err(corrupt(pos + 1, "map runs past the code section"));
                };
                Op::Map {
                    width,
                    out,
                    operands,
                    insts,
                    n_insts,
                    result,
                }
            }
            OP_COPY => {
                if len != COPY_WORDS {
                    return Err(corrupt(pos + 1, "copy operation of the wrong length"));
                }
                let (src, count, dst) = (f(0)?, f(1)?, f(2)?);
                let (src, dst) = (
                    self.slot_range(pos + 2, src, count)?,
                    self.slot_range(pos + 4, dst, count)?,
                );
                if src < dst.saturating_add(count) && dst < src.saturating_add(count) {
                    return Err(corrupt(pos + 4, "copy source and destination overlap"));
                }
                Op::Copy {
                    src,
                    len: count,
                    dst,
                }
            }
            _ => return Err(corrupt(pos, "unknown opcode")),
        };
        Ok((op, next))
    }

    /// Check a map's operands and instructions (`pos`: the map's first word, for messages).
    pub(crate) fn check_map(&self, pos: usize, op: &Op<'a>) -> Result<(), McuError> {
        let Op::Map {
            width,
            out,
            operands,
            insts,
            n_insts,
            ..
        } = *op
        else {
            return Ok(());
        };
        let n_operands = operands.len() / (OPERAND_WORDS * 4);
        for j in 0..n_operands {
            let at = pos + MAP_HEAD_WORDS + j * OPERAND_WORDS;
            let o = operand(operands, j).ok_or_else(|| corrupt(at, "operand out of bounds"))?;
            let len = match o.stride {
                0 => 1,
                1 => width,
                _ => return Err(corrupt(at + 2, "operand stride must be 0 or 1")),
            };
            match o.kind {
                OPERAND_BUFFER => {
                    let rel = self.slot_range(at + 1, o.off, len)?;
                    if rel < out.saturating_add(width) && out < rel.saturating_add(len) {
                        return Err(corrupt(at + 1, "map operand overlaps its output"));
                    }
                }
                OPERAND_DATA => {
                    let bytes = len
                        .checked_mul(4)
                        .ok_or_else(|| corrupt(at, "operand too long"))?;
                    self.data_range(at + 1, o.off, bytes)?;
                }
                _ => return Err(corrupt(at, "unknown operand kind")),
            }
        }
        let first_inst = pos + MAP_HEAD_WORDS + n_operands * OPERAND_WORDS;
        for i in 0..n_insts {
            let at = first_inst + i * INST_WORDS;
            let inst = inst(insts, i).ok_or_else(|| corrupt(at, "instruction out of bounds"))?;
            let sub = inst.sub as usize;
            // How many register arguments the instruction reads, and whether `sub` is valid.
            let (args, sub_ok) = match inst.kind {
                INST_INPUT => (0, sub == 0 && (inst.a as usize) < n_operands),
                INST_CONST => (0, sub == 0),
                INST_UNARY => (1, UNARY.get(sub).is_some_and(Option::is_some)),
                INST_BINARY => (2, BINARY.get(sub).is_some_and(Option::is_some)),
                INST_COMPARE => (2, sub < COMPARE),
                INST_TEST => (1, sub < TEST),
                INST_BOOL => (2, sub < BOOL),
                INST_SELECT | INST_CLAMP => (3, sub == 0),
                INST_TO_BOOL | INST_COPY => (1, sub == 0),
                _ => return Err(corrupt(at, "unknown instruction")),
            };
            if !sub_ok {
                return Err(corrupt(at, "unknown operation or input in an instruction"));
            }
            for (k, r) in [inst.a, inst.b, inst.c].into_iter().enumerate().take(args) {
                if r as usize >= i {
                    return Err(corrupt(at + 1 + k, "instruction reads a later register"));
                }
            }
        }
        Ok(())
    }
}

/// One map operand.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Operand {
    pub kind: u32,
    pub off: usize,
    pub stride: usize,
}

/// Operand `j` of a map's operand words.
#[inline]
pub(crate) fn operand(words: &[u8], j: usize) -> Option<Operand> {
    let b = j.checked_mul(OPERAND_WORDS)?;
    Some(Operand {
        kind: word(words, b)?,
        off: word(words, b + 1)? as usize,
        stride: word(words, b + 2)? as usize,
    })
}

/// One map instruction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Inst {
    pub kind: u32,
    pub sub: u32,
    pub a: u32,
    pub b: u32,
    pub c: u32,
}

/// Instruction `i` of a map's instruction words.
#[inline]
pub(crate) fn inst(words: &[u8], i: usize) -> Option<Inst> {
    let at = i.checked_mul(INST_WORDS * 4)?;
    let (w, _) = words.get(at..at.checked_add(16)?)?.as_chunks::<4>();
    let w = |k: usize| w.get(k).map(|b| u32::from_le_bytes(*b));
    let head = w(0)?;
    Some(Inst {
        kind: head & 0xff,
        sub: head >> 8,
        a: w(1)?,
        b: w(2)?,
        c: w(3)?,
    })
}
