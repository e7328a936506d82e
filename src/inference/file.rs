//! Saving and loading compiled models: the graph and its weights in a versioned, checksummed
//! binary file; loading recompiles for the host.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "PJITMODL"
//!      8     4  format version (u32 LE), currently 1
//!     12     4  reserved, 0
//!     16     8  payload length in bytes (u64 LE)
//!     24     8  FNV-1a 64 checksum of the payload (u64 LE)
//!     32     …  payload: the graph (little-endian; see `encode`)
//! ```
//!
//! Loading trusts nothing: the header is checked first (magic, version, exact length,
//! checksum), then the payload is decoded with bounds checks on every read (a count is never
//! believed before the bytes it announces are there), then the graph is validated before any
//! code is generated. Every failure is an [`InferenceError::File`].

use std::path::Path;

use super::graph::{Graph, Node, Operand};
use super::model::{CompileOptions, CompiledModel};
use super::{FileError, InferenceError};
use crate::kernel::{
    BinaryOp, BoolOp, CmpOp, ElemType, FloatTest, Inst, KernelSpec, Output, UnaryOp, ValueId,
};

/// The magic bytes a model file starts with.
pub const MAGIC: [u8; 8] = *b"PJITMODL";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const HEADER: usize = 32;
/// Most instructions a map may have in a file (bounds the code a file can make us generate).
const MAX_MAP_INSTS: usize = 1 << 16;

const TEST: [FloatTest; 2] = [FloatTest::IsNan, FloatTest::IsInf];
const ELEM: [ElemType; 3] = [ElemType::F32, ElemType::F64, ElemType::Bool];

/// The code of `x` in the file: its index in `table`, one of the append-only `ALL` tables of
/// [`crate::kernel`] (so reordering the enums cannot change the format).
fn code<T: PartialEq>(table: &[T], x: &T) -> u8 {
    table
        .iter()
        .position(|t| t == x)
        .expect("every variant is in its table") as u8
}

/// FNV-1a, 64 bit.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn floats(&mut self, v: &[f32]) {
        self.u64(v.len() as u64);
        for x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }
}

/// The payload bytes of a graph.
pub(crate) fn encode(g: &Graph) -> Vec<u8> {
    let mut w = W(Vec::new());
    w.u32(g.input_width as u32);
    w.u32(g.output);
    w.u32(g.nodes.len() as u32);
    for node in &g.nodes {
        match node {
            Node::Input => w.u8(0),
            Node::Dense { x, weight, n, bias } => {
                w.u8(1);
                w.u32(*x);
                w.u32(*n);
                w.floats(weight);
                match bias {
                    None => w.u8(0),
                    Some(b) => {
                        w.u8(1);
                        w.floats(b);
                    }
                }
            }
            Node::Map { operands, spec } => {
                w.u8(2);
                w.u32(operands.len() as u32);
                for o in operands {
                    match o {
                        Operand::Node(n) => {
                            w.u8(0);
                            w.u32(*n);
                        }
                        Operand::Row(r) => {
                            w.u8(1);
                            w.floats(r);
                        }
                    }
                }
                w.u32(spec.body.len() as u32);
                for inst in &spec.body {
                    encode_inst(&mut w, inst);
                }
                w.u32(spec.outputs[0].value.0);
            }
            Node::Concat { parts } => {
                w.u8(3);
                w.u32(parts.len() as u32);
                for p in parts {
                    w.u32(*p);
                }
            }
            Node::Slice { x, start, len } => {
                w.u8(4);
                w.u32(*x);
                w.u32(*start);
                w.u32(*len);
            }
        }
    }
    w.0
}

fn encode_inst(w: &mut W, inst: &Inst) {
    match *inst {
        Inst::Input(n) => {
            w.u8(0);
            w.u32(n);
        }
        Inst::Scalar(_) => unreachable!("validated graphs have no runtime scalars"),
        Inst::Const(c) => {
            w.u8(1);
            w.u64(c.to_bits());
        }
        Inst::Unary(op, a) => {
            w.u8(2);
            w.u8(code(&UnaryOp::ALL, &op));
            w.u32(a.0);
        }
        Inst::Binary(op, a, b) => {
            w.u8(3);
            w.u8(code(&BinaryOp::ALL, &op));
            w.u32(a.0);
            w.u32(b.0);
        }
        Inst::Compare(op, a, b) => {
            w.u8(4);
            w.u8(code(&CmpOp::ALL, &op));
            w.u32(a.0);
            w.u32(b.0);
        }
        Inst::Test(op, a) => {
            w.u8(5);
            w.u8(code(&TEST, &op));
            w.u32(a.0);
        }
        Inst::Bool(op, a, b) => {
            w.u8(6);
            w.u8(code(&BoolOp::ALL, &op));
            w.u32(a.0);
            w.u32(b.0);
        }
        Inst::Select {
            cond,
            then,
            otherwise,
        } => {
            w.u8(7);
            w.u32(cond.0);
            w.u32(then.0);
            w.u32(otherwise.0);
        }
        Inst::Clamp { x, lo, hi } => {
            w.u8(8);
            w.u32(x.0);
            w.u32(lo.0);
            w.u32(hi.0);
        }
        Inst::Cast(a, ty) => {
            w.u8(9);
            w.u32(a.0);
            w.u8(code(&ELEM, &ty));
        }
    }
}

/// A bounds-checked little-endian reader.
struct R<'a> {
    b: &'a [u8],
    pos: usize,
}

impl R<'_> {
    fn bad(&self, what: &str) -> FileError {
        FileError::Malformed {
            offset: self.pos,
            what: what.into(),
        }
    }
    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], FileError> {
        if self.b.len() - self.pos < n {
            return Err(self.bad(what));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, FileError> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32, FileError> {
        let s = self.take(4, what)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self, what: &str) -> Result<u64, FileError> {
        let s = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    /// A count of items of `size` bytes each, believed only if that many bytes remain.
    fn count(&mut self, wide: bool, size: usize, what: &str) -> Result<usize, FileError> {
        let at = self.pos;
        let n = if wide {
            self.u64(what)?
        } else {
            u64::from(self.u32(what)?)
        };
        let left = (self.b.len() - self.pos) as u64;
        if n.checked_mul(size as u64).is_none_or(|bytes| bytes > left) {
            return Err(FileError::Malformed {
                offset: at,
                what: format!("{what} (count {n} exceeds the remaining {left} bytes)"),
            });
        }
        Ok(n as usize)
    }
    fn floats(&mut self, what: &str) -> Result<Vec<f32>, FileError> {
        let n = self.count(true, 4, what)?;
        let s = self.take(4 * n, what)?;
        Ok(s.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    fn op<T: Copy>(&mut self, table: &[T], what: &str) -> Result<T, FileError> {
        let at = self.pos;
        let c = self.u8(what)?;
        table.get(c as usize).copied().ok_or(FileError::Malformed {
            offset: at,
            what: format!("{what} (unknown code {c})"),
        })
    }
    fn v(&mut self) -> Result<ValueId, FileError> {
        Ok(ValueId(self.u32("a value id")?))
    }
}

fn decode_inst(r: &mut R) -> Result<Inst, FileError> {
    let at = r.pos;
    Ok(match r.u8("an instruction tag")? {
        0 => Inst::Input(r.u32("an input index")?),
        1 => Inst::Const(f64::from_bits(r.u64("a constant")?)),
        2 => Inst::Unary(r.op(&UnaryOp::ALL, "a unary op")?, r.v()?),
        3 => Inst::Binary(r.op(&BinaryOp::ALL, "a binary op")?, r.v()?, r.v()?),
        4 => Inst::Compare(r.op(&CmpOp::ALL, "a comparison")?, r.v()?, r.v()?),
        5 => Inst::Test(r.op(&TEST, "a float test")?, r.v()?),
        6 => Inst::Bool(r.op(&BoolOp::ALL, "a bool op")?, r.v()?, r.v()?),
        7 => Inst::Select {
            cond: r.v()?,
            then: r.v()?,
            otherwise: r.v()?,
        },
        8 => Inst::Clamp {
            x: r.v()?,
            lo: r.v()?,
            hi: r.v()?,
        },
        9 => Inst::Cast(r.v()?, r.op(&ELEM, "an element type")?),
        t => {
            return Err(FileError::Malformed {
                offset: at,
                what: format!("an instruction tag (found {t})"),
            });
        }
    })
}

/// Decode a payload into a validated graph.
pub(crate) fn decode(payload: &[u8]) -> Result<Graph, FileError> {
    let mut r = R { b: payload, pos: 0 };
    let input_width = r.u32("the input width")? as usize;
    let output = r.u32("the output node")?;
    let count = r.count(false, 1, "the node count")?;
    let mut nodes = Vec::with_capacity(count);
    for _ in 0..count {
        let at = r.pos;
        let node = match r.u8("a node tag")? {
            0 => Node::Input,
            1 => Node::Dense {
                x: r.u32("a dense input")?,
                n: r.u32("a dense width")?,
                weight: r.floats("dense weights")?,
                bias: match r.u8("a bias flag")? {
                    0 => None,
                    1 => Some(r.floats("a bias")?),
                    f => {
                        return Err(FileError::Malformed {
                            offset: r.pos - 1,
                            what: format!("a bias flag 0 or 1 (found {f})"),
                        });
                    }
                },
            },
            2 => {
                let k = r.count(false, 5, "the operand count")?;
                let mut operands = Vec::with_capacity(k);
                for _ in 0..k {
                    let at = r.pos;
                    operands.push(match r.u8("an operand tag")? {
                        0 => Operand::Node(r.u32("an operand node")?),
                        1 => Operand::Row(r.floats("a constant row")?),
                        t => {
                            return Err(FileError::Malformed {
                                offset: at,
                                what: format!("an operand tag 0 or 1 (found {t})"),
                            });
                        }
                    });
                }
                let len = r.count(false, 5, "the instruction count")?;
                if len > MAX_MAP_INSTS {
                    return Err(r.bad("at most 65536 instructions per map"));
                }
                let mut body = Vec::with_capacity(len);
                for _ in 0..len {
                    body.push(decode_inst(&mut r)?);
                }
                let value = r.v()?;
                Node::Map {
                    spec: KernelSpec {
                        float: ElemType::F32,
                        inputs: vec![ElemType::F32; operands.len()],
                        num_scalars: 0,
                        body,
                        outputs: vec![Output {
                            value,
                            ty: ElemType::F32,
                        }],
                    },
                    operands,
                }
            }
            3 => {
                let k = r.count(false, 4, "the part count")?;
                let mut parts = Vec::with_capacity(k);
                for _ in 0..k {
                    parts.push(r.u32("a part")?);
                }
                Node::Concat { parts }
            }
            4 => Node::Slice {
                x: r.u32("a slice source")?,
                start: r.u32("a slice start")?,
                len: r.u32("a slice length")?,
            },
            t => {
                return Err(FileError::Malformed {
                    offset: at,
                    what: format!("a node tag 0..=4 (found {t})"),
                });
            }
        };
        nodes.push(node);
    }
    if r.pos != payload.len() {
        return Err(r.bad("the end of the payload"));
    }
    let g = Graph {
        input_width,
        nodes,
        output,
    };
    g.validate().map_err(|e| FileError::Malformed {
        offset: payload.len(),
        what: format!("a valid graph ({e})"),
    })?;
    Ok(g)
}

/// The graph stored in a model file's bytes (header checked, payload decoded and validated).
///
/// # Errors
/// [`InferenceError::File`] saying what is wrong.
pub fn graph_from_bytes(bytes: &[u8]) -> Result<Graph, InferenceError> {
    if bytes.len() < 8 || bytes[..8] != MAGIC {
        return Err(FileError::BadMagic.into());
    }
    if bytes.len() < HEADER {
        return Err(FileError::Truncated {
            expected: HEADER as u64,
            found: bytes.len() as u64,
        }
        .into());
    }
    let u32_at =
        |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    let u64_at = |o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&bytes[o..o + 8]);
        u64::from_le_bytes(a)
    };
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(FileError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        }
        .into());
    }
    if u32_at(12) != 0 {
        return Err(FileError::Malformed {
            offset: 12,
            what: "reserved header field 0".into(),
        }
        .into());
    }
    let len = u64_at(16);
    let expected = len.saturating_add(HEADER as u64);
    let found = bytes.len() as u64;
    if found < expected {
        return Err(FileError::Truncated { expected, found }.into());
    }
    if found > expected {
        return Err(FileError::TrailingBytes { expected, found }.into());
    }
    let payload = &bytes[HEADER..];
    let stored = u64_at(24);
    let computed = fnv1a(payload);
    if stored != computed {
        return Err(FileError::Checksum { stored, computed }.into());
    }
    Ok(decode(payload)?)
}

/// The file bytes of a graph.
pub fn graph_to_bytes(g: &Graph) -> Vec<u8> {
    let payload = encode(g);
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

impl CompiledModel {
    /// The model as file bytes (see [`CompiledModel::save`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        graph_to_bytes(self.graph())
    }

    /// Load a model from file bytes and compile it for this host.
    ///
    /// # Errors
    /// [`InferenceError::File`] for anything wrong with the bytes, or a compile error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InferenceError> {
        Self::compile_with(graph_from_bytes(bytes)?, &CompileOptions::default())
    }

    /// Save the model's graph and weights to `path` (a versioned, checksummed file; the machine
    /// code is not stored, [`CompiledModel::load`] recompiles it for the host).
    ///
    /// ```
    /// # use pinn_jit::inference::{CompiledModel, Graph, Node};
    /// let g = Graph { input_width: 1, nodes: vec![Node::Input, Node::Dense {
    ///     x: 0, weight: vec![2.0], n: 1, bias: None }], output: 1 };
    /// let m = CompiledModel::compile(g).unwrap();
    /// let path = std::env::temp_dir().join(format!("pinn_jit_doc_{}.pjm", std::process::id()));
    /// m.save(&path).unwrap();
    /// let back = CompiledModel::load(&path).unwrap();
    /// assert_eq!(back.infer(&[1.5]).unwrap(), vec![3.0]);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`InferenceError::Io`] if the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), InferenceError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_bytes()).map_err(|e| InferenceError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Load a model saved by [`CompiledModel::save`] and compile it for this host.
    ///
    /// # Errors
    /// [`InferenceError::Io`] if the file cannot be read, [`InferenceError::File`] if it is not
    /// a valid model file (wrong magic, other version, truncated, corrupted, malformed).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, InferenceError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| InferenceError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_bytes(&bytes)
    }
}
