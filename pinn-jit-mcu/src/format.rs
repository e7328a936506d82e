//! The byte format of an exported model: the single definition shared by the runtime (which
//! reads it) and `pinn_jit`'s serializer (which writes it).
//!
//! A model is a sequence of little-endian `u32` *words* followed by a data section:
//!
//! | words            | contents                                                         |
//! |------------------|------------------------------------------------------------------|
//! | `0`              | [`MAGIC`] (`"PJMC"`)                                             |
//! | `1`              | [`VERSION`]                                                      |
//! | `2`              | total length of the model in bytes                               |
//! | `3`              | [`checksum`] of every byte after the first [`CHECKSUMMED_FROM`]  |
//! | `4`, `5`         | input width, output width (floats per sample)                    |
//! | `6`              | buffer length in floats (what [`crate::Model::buffer_len`] says) |
//! | `7`              | registers: floats at the start of the buffer used by maps        |
//! | `8`              | number of operations                                             |
//! | `9`, `10`        | buffer offset of the input value, of the output value            |
//! | `11`             | length of the code section in words                              |
//! | `12 ..`          | the code section: the operations, one after the other            |
//! | then             | the data section: weights, biases, scales, constant rows         |
//!
//! Every operation starts with two words, its opcode (`OP_*`) and its length in words
//! (header included); every *buffer offset* counts floats from the start of the caller's
//! buffer, every *data offset* counts bytes from the start of the data section (f32 values
//! are 4-byte aligned there). Absent optional data is [`NONE`].
//!
//! - [`OP_DENSE_F32`], [`OP_DENSE_I8`]: `x, k, n, out, weights, bias, scales, n_scales`:
//!   `out[0..n] = x[0..k] · W + bias`, `W` a `k × n` row-major matrix of `f32` (or of `i8`
//!   codes, column `j` scaled by `scales[j]`, or by `scales[0]` when `n_scales == 1`).
//! - [`OP_MAP`]: `width, out, n_operands, n_insts, result`, then `n_operands` operands of three
//!   words (`kind` [`OPERAND_BUFFER`] or [`OPERAND_DATA`], offset, `stride` 0 or 1: stride 0
//!   broadcasts one value along the row), then `n_insts` instructions of four words
//!   (`kind | sub << 8`, three arguments). Instruction `i` writes register `i`; arguments name
//!   earlier registers. For every column `c < width` the program runs once and register
//!   `result` is stored to `out[c]`. Booleans are registers holding `0.0` or `1.0`.
//! - [`OP_COPY`]: `src, len, dst`: a slice or one part of a concatenation.

/// The first four bytes of every model.
pub const MAGIC: [u8; 4] = *b"PJMC";
/// The format version this runtime reads.
pub const VERSION: u32 = 1;
/// Words in the header (before the code section).
pub const HEADER_WORDS: usize = 12;
/// Bytes in the header.
pub const HEADER_BYTES: usize = HEADER_WORDS * 4;
/// The checksum covers every byte from this offset to the end of the model.
pub const CHECKSUMMED_FROM: usize = 16;
/// "No such data" in an optional data offset.
pub const NONE: u32 = u32::MAX;

/// Dense layer with `f32` weights.
pub const OP_DENSE_F32: u32 = 1;
/// Dense layer with `i8` weights and `f32` scales.
pub const OP_DENSE_I8: u32 = 2;
/// An element-wise program over one row.
pub const OP_MAP: u32 = 3;
/// A copy between buffer ranges.
pub const OP_COPY: u32 = 4;
/// Words of a dense operation.
pub const DENSE_WORDS: usize = 10;
/// Words of a copy operation.
pub const COPY_WORDS: usize = 5;
/// Words of a map's fixed part (before its operands).
pub const MAP_HEAD_WORDS: usize = 7;
/// Words of one map operand.
pub const OPERAND_WORDS: usize = 3;
/// Words of one map instruction.
pub const INST_WORDS: usize = 4;

/// A map operand read from the buffer.
pub const OPERAND_BUFFER: u32 = 0;
/// A map operand read from the data section (a constant row of `f32`).
pub const OPERAND_DATA: u32 = 1;

/// Instruction: register = operand `a` at the current column.
pub const INST_INPUT: u32 = 0;
/// Instruction: register = `f32::from_bits(a)`.
pub const INST_CONST: u32 = 1;
/// Instruction: register = unary op `sub` (a [`UNARY`] code) of register `a`.
pub const INST_UNARY: u32 = 2;
/// Instruction: register = binary op `sub` (a [`BINARY`] code) of registers `a`, `b`.
pub const INST_BINARY: u32 = 3;
/// Instruction: register = comparison `sub` (a [`COMPARE`] code) of `a`, `b`, as `0`/`1`.
pub const INST_COMPARE: u32 = 4;
/// Instruction: register = test `sub` (0 is-NaN, 1 is-infinite) of `a`, as `0`/`1`.
pub const INST_TEST: u32 = 5;
/// Instruction: register = boolean op `sub` (a [`BOOL`] code) of `a`, `b`.
pub const INST_BOOL: u32 = 6;
/// Instruction: register = `if a != 0 { b } else { c }`.
pub const INST_SELECT: u32 = 7;
/// Instruction: register = `a` clamped to `[b, c]` (NaN stays NaN).
pub const INST_CLAMP: u32 = 8;
/// Instruction: register = `1.0` if `a != 0` (NaN included) else `0.0` (a float → bool cast).
pub const INST_TO_BOOL: u32 = 9;
/// Instruction: register = register `a` (an identity cast).
pub const INST_COPY: u32 = 10;
/// One past the largest instruction kind.
pub const INST_KINDS: u32 = 11;

/// The unary operations, by code: the codes are `pinn_jit::kernel::UnaryOp::code()`'s. `None`
/// marks a code the runtime does not implement (the serializer refuses it).
pub const UNARY: [Option<&str>; 20] = [
    Some("neg"),
    Some("abs"),
    Some("recip"),
    Some("sqrt"),
    Some("exp"),
    Some("log"),
    Some("log1p"),
    Some("tanh"),
    Some("sigmoid"),
    Some("sin"),
    Some("cos"),
    Some("tan"),
    Some("sinh"),
    Some("cosh"),
    Some("erf"),
    Some("floor"),
    Some("ceil"),
    Some("trunc"),
    Some("round"),
    Some("sign"),
];

/// The binary operations, by code (`pinn_jit::kernel::BinaryOp::code()`); `None`: not
/// implemented here.
pub const BINARY: [Option<&str>; 9] = [
    Some("add"),
    Some("sub"),
    Some("mul"),
    Some("div"),
    Some("rem_floor"),
    None, // pow
    Some("max"),
    Some("min"),
    None, // atan2
];

/// The comparisons, by code: `==, !=, >, >=, <, <=`.
pub const COMPARE: usize = 6;
/// The boolean operations, by code: and, or, not (of `a`), `==`.
pub const BOOL: usize = 4;
/// The float tests, by code: is-NaN, is-infinite.
pub const TEST: usize = 2;

/// FNV-1a (32 bit) of `bytes`: what word 3 of the header holds for the bytes after
/// [`CHECKSUMMED_FROM`]. Catches every single-byte change and almost all others; it is an
/// integrity check against truncation and corruption, not a signature.
pub fn checksum(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}
