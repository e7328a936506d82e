//! The interpreter: [`Model::infer`] and [`Model::infer_batch`].
//!
//! One sample at a time: the input is copied into its slot of the caller's buffer, every
//! operation reads and writes slots at the offsets fixed at export time, and the output slot is
//! copied out. Dense layers stream their weights from the model bytes row by row
//! (`y += x[k] · W[k, ..]`, summing over `k` in order, as `pinn_jit`'s reference
//! `Graph::eval` does); maps run their small program once per column.
//!
//! Every slice access is checked (`get`, `split_at_mut_checked`): the model was validated by
//! [`Model::parse`], so the checks never fail, but a logic error here would be a typed error
//! rather than a panic.

use crate::McuError;
use crate::format::*;
use crate::math;
use crate::model::Model;
use crate::ops::{Op, f32_at, inst, operand};

/// An inconsistency `parse` should have caught (unreachable for a parsed model).
fn broken(what: &'static str) -> McuError {
    McuError::Corrupt {
        at: HEADER_BYTES,
        what,
    }
}

impl Model<'_> {
    /// Run the model on one sample: `input` holds [`Model::input_width`] floats, `output`
    /// receives [`Model::output_width`], `buffer` is scratch of at least [`Model::buffer_len`]
    /// floats (its contents on entry do not matter; on return they are unspecified).
    ///
    /// ```
    /// # fn run(bytes: &[u8]) -> Result<(), pinn_jit_mcu::McuError> {
    /// use pinn_jit_mcu::Model;
    /// let model = Model::parse(bytes)?;
    /// let mut buffer = [0.0f32; 1024]; // at least model.buffer_len()
    /// let mut y = [0.0f32; 1];
    /// model.infer(&[0.5, -0.25], &mut y, &mut buffer)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`McuError::InputLength`], [`McuError::OutputLength`] or [`McuError::BufferTooSmall`].
    pub fn infer(
        &self,
        input: &[f32],
        output: &mut [f32],
        buffer: &mut [f32],
    ) -> Result<(), McuError> {
        if input.len() != self.input_width {
            return Err(McuError::InputLength {
                expected: self.input_width,
                got: input.len(),
            });
        }
        if output.len() != self.output_width {
            return Err(McuError::OutputLength {
                expected: self.output_width,
                got: output.len(),
            });
        }
        self.run(input, output, buffer)
    }

    /// Run the model on `input.len() / input_width` samples (row-major) into `output`; returns
    /// the number of samples. The same buffer serves every sample.
    ///
    /// # Errors
    /// As [`Model::infer`]; `input` must hold a whole number of samples and `output` room for
    /// exactly as many.
    pub fn infer_batch(
        &self,
        input: &[f32],
        output: &mut [f32],
        buffer: &mut [f32],
    ) -> Result<usize, McuError> {
        let (iw, ow) = (self.input_width, self.output_width);
        if iw == 0 || !input.len().is_multiple_of(iw) {
            return Err(McuError::InputLength {
                expected: iw,
                got: input.len(),
            });
        }
        let rows = input.len() / iw;
        if rows.checked_mul(ow) != Some(output.len()) {
            return Err(McuError::OutputLength {
                expected: rows.saturating_mul(ow),
                got: output.len(),
            });
        }
        for (x, y) in input.chunks_exact(iw).zip(output.chunks_exact_mut(ow)) {
            self.run(x, y, buffer)?;
        }
        Ok(rows)
    }

    fn run(&self, input: &[f32], output: &mut [f32], buffer: &mut [f32]) -> Result<(), McuError> {
        let got = buffer.len();
        let buf = buffer
            .get_mut(..self.buffer_len)
            .ok_or(McuError::BufferTooSmall {
                needed: self.buffer_len,
                got,
            })?;
        let (regs, slots) = buf
            .split_at_mut_checked(self.regs)
            .ok_or_else(|| broken("registers"))?;
        let slot = |off: usize, len: usize| {
            let start = off.checked_sub(self.regs)?;
            Some(start..start.checked_add(len)?)
        };
        slots
            .get_mut(slot(self.input_off, input.len()).ok_or_else(|| broken("input"))?)
            .ok_or_else(|| broken("input"))?
            .copy_from_slice(input);
        let bounds = self.bounds();
        let mut pos = 0;
        for _ in 0..self.n_ops {
            let (op, next) = bounds.op(pos)?;
            match op {
                Op::Dense {
                    x,
                    k,
                    n,
                    out,
                    weights,
                    bias,
                    scales,
                } => dense(slots, (x, k), (out, n), weights, bias, scales)?,
                Op::Map {
                    width,
                    out,
                    operands,
                    insts,
                    n_insts,
                    result,
                } => {
                    let prog = Program {
                        operands,
                        insts,
                        n_insts,
                        result,
                        data: self.data,
                        regs: self.regs,
                    };
                    map(regs, slots, width, out, &prog)?
                }
                Op::Copy { src, len, dst } => {
                    let (from, to) = split_two(slots, (src, len), (dst, len))?;
                    for (t, f) in to.iter_mut().zip(from) {
                        *t = *f;
                    }
                }
            }
            pos = next;
        }
        let out = slot(self.output_off, output.len()).ok_or_else(|| broken("output"))?;
        output.copy_from_slice(slots.get(out).ok_or_else(|| broken("output"))?);
        Ok(())
    }
}

/// `(&slots[x], &mut slots[y])` for two disjoint ranges `(start, len)`.
fn split_two(
    slots: &mut [f32],
    (x, xl): (usize, usize),
    (y, yl): (usize, usize),
) -> Result<(&[f32], &mut [f32]), McuError> {
    let end = |a: usize, l: usize| a.checked_add(l).ok_or_else(|| broken("range"));
    let (xe, ye) = (end(x, xl)?, end(y, yl)?);
    let pair = if xe <= y {
        let (lo, hi) = slots
            .split_at_mut_checked(y)
            .ok_or_else(|| broken("range"))?;
        (lo.get(x..xe), hi.get_mut(..yl))
    } else if ye <= x {
        let (lo, hi) = slots
            .split_at_mut_checked(x)
            .ok_or_else(|| broken("range"))?;
        (hi.get(..xl), lo.get_mut(y..ye))
    } else {
        (None, None)
    };
    match pair {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(broken("overlapping ranges")),
    }
}

/// `out[0..n] = x[0..k] · W + bias` (f32 `W`), or `(x · Q) ⊙ scales + bias` (i8 `Q`).
fn dense(
    slots: &mut [f32],
    x: (usize, usize),
    out: (usize, usize),
    weights: &[u8],
    bias: Option<&[u8]>,
    scales: Option<&[u8]>,
) -> Result<(), McuError> {
    let n = out.1;
    if n == 0 {
        return Err(broken("dense width"));
    }
    let (xs, ys) = split_two(slots, x, out)?;
    let set_bias = |ys: &mut [f32]| match bias {
        Some(b) => {
            for (y, c) in ys.iter_mut().zip(b.as_chunks::<4>().0) {
                *y = f32::from_le_bytes(*c);
            }
        }
        None => ys.fill(0.0),
    };
    match scales {
        None => {
            set_bias(ys);
            let (w, _) = weights.as_chunks::<4>();
            for (&xk, row) in xs.iter().zip(w.chunks_exact(n)) {
                axpy_f32(ys, xk, row);
            }
        }
        Some(s) => {
            ys.fill(0.0);
            for (&xk, row) in xs.iter().zip(weights.chunks_exact(n)) {
                axpy_i8(ys, xk, row);
            }
            let (s, _) = s.as_chunks::<4>();
            let per_tensor = s.len() == 1;
            let s0 = s.first().map_or(0.0, |c| f32::from_le_bytes(*c));
            let b = bias.map(|b| b.as_chunks::<4>().0);
            for (j, y) in ys.iter_mut().enumerate() {
                let sj = if per_tensor {
                    s0
                } else {
                    s.get(j).map_or(0.0, |c| f32::from_le_bytes(*c))
                };
                let bj = b
                    .and_then(|b| b.get(j))
                    .map_or(0.0, |c| f32::from_le_bytes(*c));
                *y = *y * sj + bj;
            }
        }
    }
    Ok(())
}

/// `y += x · w` with `f32` weights. A function of its own so that the compiler knows `y` and
/// `w` do not alias (both are parameters) and vectorizes the loop.
#[inline(never)]
fn axpy_f32(y: &mut [f32], x: f32, w: &[[u8; 4]]) {
    for (y, c) in y.iter_mut().zip(w) {
        *y += x * f32::from_le_bytes(*c);
    }
}

/// `y += x · q` with `i8` codes (as [`axpy_f32`]).
#[inline(never)]
fn axpy_i8(y: &mut [f32], x: f32, q: &[u8]) {
    for (y, &q) in y.iter_mut().zip(q) {
        *y += x * f32::from(q as i8);
    }
}

/// A map's program and where its operands come from.
struct Program<'a> {
    operands: &'a [u8],
    insts: &'a [u8],
    n_insts: usize,
    result: usize,
    data: &'a [u8],
    regs: usize,
}

fn reg(regs: &[f32], r: u32) -> Result<f32, McuError> {
    regs.get(r as usize)
        .copied()
        .ok_or_else(|| broken("register"))
}

fn flag(b: bool) -> f32 {
    if b { 1.0 } else { 0.0 }
}

fn map(
    regs: &mut [f32],
    slots: &mut [f32],
    width: usize,
    out: usize,
    p: &Program<'_>,
) -> Result<(), McuError> {
    // The common case — one unary operation of one full-width operand (`tanh`, `sin`, …) —
    // runs as a plain loop.
    if let (2, 1, Some(a), Some(i0), Some(i1)) = (
        p.n_insts,
        p.result,
        operand(p.operands, 0),
        inst(p.insts, 0),
        inst(p.insts, 1),
    ) && p.operands.len() == OPERAND_WORDS * 4
        && a.kind == OPERAND_BUFFER
        && a.stride == 1
        && i0.kind == INST_INPUT
        && i0.a == 0
        && i1.kind == INST_UNARY
        && i1.a == 0
    {
        let src = a.off.checked_sub(p.regs).ok_or_else(|| broken("operand"))?;
        let (xs, ys) = split_two(slots, (src, width), (out, width))?;
        // tanh, the PINN default, gets a loop of its own (the compiler vectorizes it).
        match i1.sub {
            7 => apply(ys, xs, math::tanh),
            code => apply(ys, xs, |x| unary(code, x)),
        }
        return Ok(());
    }
    let regs = regs
        .get_mut(..p.n_insts)
        .ok_or_else(|| broken("registers"))?;
    for c in 0..width {
        for i in 0..p.n_insts {
            let ins = inst(p.insts, i).ok_or_else(|| broken("instruction"))?;
            let v = match ins.kind {
                INST_INPUT => read_operand(p, slots, ins.a as usize, c)?,
                INST_CONST => f32::from_bits(ins.a),
                INST_UNARY => unary(ins.sub, reg(regs, ins.a)?),
                INST_BINARY => binary(ins.sub, reg(regs, ins.a)?, reg(regs, ins.b)?),
                INST_COMPARE => {
                    let (a, b) = (reg(regs, ins.a)?, reg(regs, ins.b)?);
                    flag(match ins.sub {
                        0 => a == b,
                        1 => a != b,
                        2 => a > b,
                        3 => a >= b,
                        4 => a < b,
                        _ => a <= b,
                    })
                }
                INST_TEST => {
                    let a = reg(regs, ins.a)?;
                    flag(if ins.sub == 0 {
                        a.is_nan()
                    } else {
                        a.is_infinite()
                    })
                }
                INST_BOOL => {
                    let (a, b) = (reg(regs, ins.a)? != 0.0, reg(regs, ins.b)? != 0.0);
                    flag(match ins.sub {
                        0 => a && b,
                        1 => a || b,
                        2 => !a,
                        _ => a == b,
                    })
                }
                INST_SELECT => {
                    if reg(regs, ins.a)? != 0.0 {
                        reg(regs, ins.b)?
                    } else {
                        reg(regs, ins.c)?
                    }
                }
                INST_CLAMP => {
                    // `f32::clamp` without its panic on `lo > hi`; NaN stays NaN.
                    let (mut x, lo, hi) = (reg(regs, ins.a)?, reg(regs, ins.b)?, reg(regs, ins.c)?);
                    if x < lo {
                        x = lo;
                    }
                    if x > hi {
                        x = hi;
                    }
                    x
                }
                INST_TO_BOOL => flag(reg(regs, ins.a)? != 0.0), // NaN != 0: true
                INST_COPY => reg(regs, ins.a)?,
                _ => return Err(broken("instruction kind")),
            };
            *regs.get_mut(i).ok_or_else(|| broken("register"))? = v;
        }
        let y = slots
            .get_mut(out.checked_add(c).ok_or_else(|| broken("map output"))?)
            .ok_or_else(|| broken("map output"))?;
        *y = reg(regs, p.result as u32)?;
    }
    Ok(())
}

/// `y = f(x)` element-wise.
#[inline(always)]
fn apply(ys: &mut [f32], xs: &[f32], f: impl Fn(f32) -> f32) {
    for (y, &x) in ys.iter_mut().zip(xs) {
        *y = f(x);
    }
}

/// Operand `j` of a map at column `c`.
fn read_operand(p: &Program<'_>, slots: &[f32], j: usize, c: usize) -> Result<f32, McuError> {
    let o = operand(p.operands, j).ok_or_else(|| broken("operand"))?;
    let col = c.saturating_mul(o.stride);
    let v = if o.kind == OPERAND_BUFFER {
        o.off
            .checked_sub(p.regs)
            .and_then(|s| slots.get(s.checked_add(col)?).copied())
    } else {
        f32_at(p.data, o.off.saturating_add(col.saturating_mul(4)))
    };
    v.ok_or_else(|| broken("operand"))
}

/// Unary operation `code` (`pinn_jit::kernel::UnaryOp::code()`); NaN for codes `parse`
/// rejects.
fn unary(code: u32, x: f32) -> f32 {
    match code {
        0 => -x,
        1 => math::abs(x),
        2 => 1.0 / x,
        3 => math::sqrt(x),
        4 => math::exp(x),
        5 => math::ln(x),
        6 => math::log1p(x),
        7 => math::tanh(x),
        8 => math::sigmoid(x),
        9 => math::sin(x),
        10 => math::cos(x),
        11 => math::tan(x),
        12 => math::sinh(x),
        13 => math::cosh(x),
        14 => math::erf(x),
        15 => math::floor(x),
        16 => math::ceil(x),
        17 => math::trunc(x),
        18 => math::round_ties_even(x),
        19 => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x
            }
        }
        _ => f32::NAN,
    }
}

/// Binary operation `code` (`pinn_jit::kernel::BinaryOp::code()`), with the reference
/// interpreter's semantics (`max`/`min` order `-0 < +0`, NaN loses); NaN for codes `parse`
/// rejects.
fn binary(code: u32, a: f32, b: f32) -> f32 {
    match code {
        0 => a + b,
        1 => a - b,
        2 => a * b,
        3 => a / b,
        4 => ((a % b) + b) % b,
        6 => {
            if a.is_nan() || b > a || (a == b && a.is_sign_negative()) {
                b
            } else {
                a
            }
        }
        7 => {
            if a.is_nan() || b < a || (a == b && a.is_sign_positive()) {
                b
            } else {
                a
            }
        }
        _ => f32::NAN,
    }
}
