//! Export for microcontrollers: a [`CompiledModel`] written as the flat byte format that the
//! `no_std`, allocation-free interpreter [`pinn_jit_mcu`] runs on targets Cranelift has no
//! code generator for (ESP32-S3/Xtensa, Cortex-M, riscv32).
//!
//! ```
//! use burn::nn::{Linear, LinearConfig};
//! use pinn_jit::inference::{CompiledModel, Tracer};
//! use pinn_jit::export::mcu::{McuOptions, McuWeights, to_mcu_bytes};
//!
//! let device = Default::default();
//! let l1: Linear<Tracer> = LinearConfig::new(2, 16).init(&device);
//! let l2: Linear<Tracer> = LinearConfig::new(16, 1).init(&device);
//! let model = CompiledModel::trace(2, |x| l2.forward(l1.forward(x).tanh())).unwrap();
//! let exported = to_mcu_bytes(&model, &McuOptions { weights: McuWeights::Int8PerChannel }).unwrap();
//! // On the board (here: on the host), with a buffer of exported.buffer_len floats:
//! let m = pinn_jit_mcu::Model::parse(&exported.bytes).unwrap();
//! let mut buffer = vec![0.0f32; exported.buffer_len];
//! let mut u = [0.0f32];
//! m.infer(&[0.25, -0.5], &mut u, &mut buffer).unwrap();
//! ```
//!
//! The format ([`pinn_jit_mcu::format`]) pre-resolves everything the board would otherwise
//! have to work out: every value's offset in the scratch buffer (chosen by liveness, see
//! `layout`), every weight's offset in the data section, the element-wise programs as
//! fixed-size instructions. The scratch buffer's size is computed here, at export time.
//!
//! Int8 weights are symmetric codes in `[-127, 127]` with one `f32` scale per output channel
//! ([`McuWeights::Int8PerChannel`]) or per layer ([`McuWeights::Int8PerTensor`]), quantized
//! with [`crate::quant`]'s rules; activations stay `f32`. Each weight moves by at most half
//! its scale (`max |column| / 254`), so a dense output moves by at most
//! `Σ_k |x_k| · max_k |W[k, j]| / 254`.
//!
//! Not supported (a typed [`McuExportError::UnsupportedOp`]): `powf` and `atan2`. The
//! tracer already turns `x.powf_scalar(2.0)` and `powi` with exponents −2 … 2 into
//! multiplications and divisions, which are supported.

mod error;
mod layout;
#[cfg(test)]
mod tests;

pub use error::McuExportError;

use pinn_jit_mcu::format as f;

use crate::inference::{CompiledModel, Graph, Node, Operand};
use crate::kernel::{BoolOp, CmpOp, ElemType, FloatTest, Inst, KernelSpec};
use crate::quant::{abs_max, quantize_value, symmetric_scale};

/// How dense-layer weights are stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum McuWeights {
    /// `f32` weights: the same results as the compiled model (to about 1e-6 relative).
    #[default]
    Fp32,
    /// `i8` weights with one `f32` scale per output channel: 4× smaller.
    Int8PerChannel,
    /// `i8` weights with one `f32` scale per layer.
    Int8PerTensor,
}

/// Export options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct McuOptions {
    /// Weight storage.
    pub weights: McuWeights,
}

/// An exported model.
#[derive(Clone, Debug, PartialEq)]
pub struct McuModel {
    /// The bytes to flash (or `include_bytes!`) and hand to `pinn_jit_mcu::Model::parse`.
    pub bytes: Vec<u8>,
    /// Floats of scratch buffer `pinn_jit_mcu::Model::infer` needs.
    pub buffer_len: usize,
    /// The same in bytes (`4 · buffer_len`).
    pub buffer_bytes: usize,
}

/// Export `model` for [`pinn_jit_mcu`].
///
/// # Errors
/// [`McuExportError::UnsupportedOp`] naming an element-wise operation the runtime lacks,
/// [`McuExportError::NonFiniteWeights`] for int8 with NaN/inf weights,
/// [`McuExportError::TooLarge`] if a size does not fit 32 bits.
pub fn to_mcu_bytes(
    model: &CompiledModel,
    options: &McuOptions,
) -> Result<McuModel, McuExportError> {
    graph_to_mcu_bytes(model.graph(), options)
}

/// Export a graph (as [`to_mcu_bytes`] does with a compiled model's).
///
/// # Errors
/// As [`to_mcu_bytes`], and [`McuExportError::InvalidGraph`] if `graph` is invalid.
pub fn graph_to_mcu_bytes(graph: &Graph, options: &McuOptions) -> Result<McuModel, McuExportError> {
    graph.validate()?;
    let graph = graph.pruned();
    let widths = graph.widths()?;
    let mut regs = 0;
    for (i, node) in graph.nodes.iter().enumerate() {
        if let Node::Map { spec, .. } = node {
            check_spec(i, spec)?;
            regs = regs.max(spec.body.len());
        }
    }
    let (offsets, slots) = layout::allocate(&graph, &widths);
    let buffer_len = regs + slots;
    let at = |i: u32| regs + offsets[i as usize];
    let mut w = Writer::default();
    let mut n_ops = 0usize;
    for (i, node) in graph.nodes.iter().enumerate() {
        let out = regs + offsets[i];
        match node {
            Node::Input => {}
            Node::Dense { x, weight, n, bias } => {
                let (k, n) = (widths[*x as usize], *n as usize);
                let bias = bias.as_ref().map(|b| w.data_f32(b));
                let (op, weights, scales, n_scales) = match options.weights {
                    McuWeights::Fp32 => (f::OP_DENSE_F32, w.data_f32(weight), f::NONE as usize, 0),
                    McuWeights::Int8PerChannel | McuWeights::Int8PerTensor => {
                        let per_channel = options.weights == McuWeights::Int8PerChannel;
                        let (codes, scales) = quantize(weight, k, n, per_channel)
                            .ok_or(McuExportError::NonFiniteWeights { node: i })?;
                        let s = w.data_f32(&scales);
                        (f::OP_DENSE_I8, w.data_i8(&codes), s, scales.len())
                    }
                };
                w.op(
                    op,
                    &[
                        at(*x),
                        k,
                        n,
                        out,
                        weights,
                        bias.unwrap_or(f::NONE as usize),
                        scales,
                        n_scales,
                    ],
                );
                n_ops += 1;
            }
            Node::Map { operands, spec } => {
                let width = widths[i];
                let mut args = vec![width, out, operands.len(), spec.body.len()];
                args.push(spec.outputs[0].value.0 as usize);
                for o in operands {
                    let (kind, off, len) = match o {
                        Operand::Node(m) => (f::OPERAND_BUFFER, at(*m), widths[*m as usize]),
                        Operand::Row(r) => (f::OPERAND_DATA, w.data_f32(r), r.len()),
                    };
                    args.extend([kind as usize, off, usize::from(len == width)]);
                }
                encode_spec(spec, &mut args);
                w.op(f::OP_MAP, &args);
                n_ops += 1;
            }
            Node::Concat { parts } => {
                let mut dst = out;
                for p in parts {
                    let len = widths[*p as usize];
                    w.op(f::OP_COPY, &[at(*p), len, dst]);
                    dst += len;
                    n_ops += 1;
                }
            }
            Node::Slice { x, start, len } => {
                w.op(f::OP_COPY, &[at(*x) + *start as usize, *len as usize, out]);
                n_ops += 1;
            }
        }
    }
    let header = [
        graph.input_width,
        widths[graph.output as usize],
        buffer_len,
        regs,
        n_ops,
        at(0),
        at(graph.output),
    ];
    let bytes = w.finish(&header)?;
    Ok(McuModel {
        bytes,
        buffer_len,
        buffer_bytes: buffer_len * 4,
    })
}

/// The runtime implements every instruction kind; refuse the unary and binary operations it
/// lacks (the table in `pinn_jit_mcu::format` is the one place that says which).
fn check_spec(node: usize, spec: &KernelSpec) -> Result<(), McuExportError> {
    for inst in &spec.body {
        let missing = match *inst {
            Inst::Unary(op, _) => f::UNARY.get(op.code() as usize).is_none_or(Option::is_none),
            Inst::Binary(op, _, _) => f::BINARY
                .get(op.code() as usize)
                .is_none_or(Option::is_none),
            Inst::Scalar(_) => true, // graph validation already rejects runtime scalars
            _ => false,
        };
        if missing {
            let op = match *inst {
                Inst::Unary(op, _) => format!("{op:?}"),
                Inst::Binary(op, _, _) => format!("{op:?}"),
                other => format!("{other:?}"),
            };
            return Err(McuExportError::UnsupportedOp { node, op });
        }
    }
    Ok(())
}

/// Append a map's instructions (four words each) to `args`.
fn encode_spec(spec: &KernelSpec, args: &mut Vec<usize>) {
    let types = spec.value_types();
    let cmp = |op: CmpOp| CmpOp::ALL.iter().position(|o| *o == op).unwrap_or(0) as u32;
    let boolean = |op: BoolOp| BoolOp::ALL.iter().position(|o| *o == op).unwrap_or(0) as u32;
    for inst in &spec.body {
        let (kind, sub, a, b, c) = match *inst {
            Inst::Input(n) => (f::INST_INPUT, 0, n, 0, 0),
            Inst::Const(v) => (f::INST_CONST, 0, (v as f32).to_bits(), 0, 0),
            Inst::Scalar(n) => (f::INST_INPUT, 0, n, 0, 0), // rejected by check_spec
            Inst::Unary(op, a) => (f::INST_UNARY, op.code(), a.0, 0, 0),
            Inst::Binary(op, a, b) => (f::INST_BINARY, op.code(), a.0, b.0, 0),
            Inst::Compare(op, a, b) => (f::INST_COMPARE, cmp(op), a.0, b.0, 0),
            Inst::Test(t, a) => (f::INST_TEST, u32::from(t == FloatTest::IsInf), a.0, 0, 0),
            Inst::Bool(op, a, b) => (f::INST_BOOL, boolean(op), a.0, b.0, 0),
            Inst::Select {
                cond,
                then,
                otherwise,
            } => (f::INST_SELECT, 0, cond.0, then.0, otherwise.0),
            Inst::Clamp { x, lo, hi } => (f::INST_CLAMP, 0, x.0, lo.0, hi.0),
            Inst::Cast(a, to) => {
                let from = types[a.0 as usize];
                if to == ElemType::Bool && from != ElemType::Bool {
                    (f::INST_TO_BOOL, 0, a.0, 0, 0)
                } else {
                    // Identity, or bool → float: booleans are already 0.0 / 1.0.
                    (f::INST_COPY, 0, a.0, 0, 0)
                }
            }
        };
        args.extend([
            (kind | sub << 8) as usize,
            a as usize,
            b as usize,
            c as usize,
        ]);
    }
}

/// Symmetric int8 codes of a `k × n` row-major matrix and their scales (one per column `j`,
/// or one for all); `None` if a weight is NaN or infinite.
fn quantize(weight: &[f32], k: usize, n: usize, per_channel: bool) -> Option<(Vec<i8>, Vec<f32>)> {
    if weight.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let scales: Vec<f32> = if per_channel {
        (0..n)
            .map(|j| {
                let col: Vec<f32> = (0..k).map(|r| weight[r * n + j]).collect();
                symmetric_scale(abs_max(&col), 127)
            })
            .collect()
    } else {
        vec![symmetric_scale(abs_max(weight), 127)]
    };
    let codes = weight
        .iter()
        .enumerate()
        .map(|(i, &v)| quantize_value(v, scales[if per_channel { i % n } else { 0 }], 127))
        .collect();
    Some((codes, scales))
}

/// Builds the code and data sections.
#[derive(Default)]
struct Writer {
    code: Vec<usize>,
    data: Vec<u8>,
}

impl Writer {
    fn op(&mut self, opcode: u32, args: &[usize]) {
        self.code.push(opcode as usize);
        self.code.push(args.len() + 2);
        self.code.extend_from_slice(args);
    }

    /// Append `f32`s to the data section; their byte offset.
    fn data_f32(&mut self, values: &[f32]) -> usize {
        let at = self.data.len();
        for v in values {
            self.data.extend_from_slice(&v.to_le_bytes());
        }
        at
    }

    /// Append `i8`s (then pad to 4 bytes); their byte offset.
    fn data_i8(&mut self, values: &[i8]) -> usize {
        let at = self.data.len();
        self.data.extend(values.iter().map(|&v| v as u8));
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
        at
    }

    /// The whole model: `header` holds words 4..=10 of the format's header.
    fn finish(self, header: &[usize; 7]) -> Result<Vec<u8>, McuExportError> {
        let word = |what: &'static str, v: usize| {
            u32::try_from(v).map_err(|_| McuExportError::TooLarge { what, value: v })
        };
        let total = f::HEADER_BYTES + self.code.len() * 4 + self.data.len();
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&f::MAGIC);
        out.extend_from_slice(&f::VERSION.to_le_bytes());
        out.extend_from_slice(&word("model bytes", total)?.to_le_bytes());
        out.extend_from_slice(&[0; 4]); // checksum, below
        for &h in header {
            out.extend_from_slice(&word("header field", h)?.to_le_bytes());
        }
        out.extend_from_slice(&word("code words", self.code.len())?.to_le_bytes());
        for &c in &self.code {
            out.extend_from_slice(&word("operation field", c)?.to_le_bytes());
        }
        out.extend_from_slice(&self.data);
        let sum = f::checksum(&out[f::CHECKSUMMED_FROM..]);
        out[12..16].copy_from_slice(&sum.to_le_bytes());
        Ok(out)
    }
}
