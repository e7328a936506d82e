//! The inference graph: a small, Burn-free, serialisable IR of a traced forward pass.
//!
//! Every value of the graph is a `rows × width` matrix of `f32` (row-major), one row per sample
//! of the batch; the batch size is not part of the graph. Node `i` defines value `i`; nodes only
//! refer to earlier nodes, so the node list is a topological order. Element-wise work is a
//! [`Node::Map`] holding a [`KernelSpec`] (the same IR the element-wise fuser compiles), so the
//! kernel interpreter ([`crate::kernel::interp`]) is also the reference for the graph
//! ([`Graph::eval`]).

use crate::kernel::{ElemType, Inst, KernelSpec, interp};

use super::InferenceError;

/// Index of a node in [`Graph::nodes`].
pub type NodeId = u32;

/// Widest value a graph may hold (features per sample); bounds the scratch memory a model needs.
pub const MAX_WIDTH: usize = 1 << 20;

/// One input of a [`Node::Map`].
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// The value of a node: its width equals the map's, or is 1 (then broadcast along the row).
    Node(NodeId),
    /// A constant row, the same for every sample: `len` equals the map's width, or is 1.
    Row(Vec<f32>),
}

/// One operation of the graph.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// The model's input, `rows × Graph::input_width`. Only node 0 may be the input.
    Input,
    /// `x · weight + bias`: a dense layer (Burn's `Linear`, or a matmul with a constant).
    Dense {
        /// The input, `rows × k`.
        x: NodeId,
        /// `k × n` weights, row-major (Burn's `[d_input, d_output]` layout).
        weight: Vec<f32>,
        /// Output width.
        n: u32,
        /// Optional bias of `n` values.
        bias: Option<Vec<f32>>,
    },
    /// An element-wise program evaluated at every `(row, column)` of its width.
    ///
    /// `spec` has one `F32` input per operand (in order), no runtime scalars, float type `F32`
    /// and exactly one `F32` output.
    Map {
        /// What `Inst::Input(i)` reads.
        operands: Vec<Operand>,
        /// The program.
        spec: KernelSpec,
    },
    /// The parts side by side: width is the sum of the parts' widths.
    Concat {
        /// The parts, left to right.
        parts: Vec<NodeId>,
    },
    /// Columns `start .. start + len` of `x`.
    Slice {
        /// The source.
        x: NodeId,
        /// First column.
        start: u32,
        /// Number of columns.
        len: u32,
    },
}

/// A whole forward pass: input, nodes, output.
///
/// ```
/// use pinn_jit::inference::{Graph, Node};
/// // y = x · [[2], [3]] + 1 on 2-wide inputs.
/// let g = Graph {
///     input_width: 2,
///     nodes: vec![
///         Node::Input,
///         Node::Dense { x: 0, weight: vec![2.0, 3.0], n: 1, bias: Some(vec![1.0]) },
///     ],
///     output: 1,
/// };
/// g.validate().unwrap();
/// assert_eq!(g.eval(&[1.0, 1.0, 0.5, 0.0]).unwrap(), vec![6.0, 2.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// Features per input sample.
    pub input_width: usize,
    /// The operations, in topological order.
    pub nodes: Vec<Node>,
    /// The node whose value is the model's output.
    pub output: NodeId,
}

fn invalid(msg: impl Into<String>) -> InferenceError {
    InferenceError::InvalidGraph(msg.into())
}

impl Node {
    /// The nodes this node reads.
    pub fn inputs(&self) -> Vec<NodeId> {
        match self {
            Node::Input => vec![],
            Node::Dense { x, .. } | Node::Slice { x, .. } => vec![*x],
            Node::Map { operands, .. } => operands
                .iter()
                .filter_map(|o| match o {
                    Operand::Node(n) => Some(*n),
                    Operand::Row(_) => None,
                })
                .collect(),
            Node::Concat { parts } => parts.clone(),
        }
    }

    /// A short name for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Input => "input",
            Node::Dense { .. } => "dense",
            Node::Map { .. } => "map",
            Node::Concat { .. } => "concat",
            Node::Slice { .. } => "slice",
        }
    }
}

/// The width of a map whose operands have the given widths (`None` if they do not broadcast).
pub(crate) fn map_width(widths: impl IntoIterator<Item = usize>) -> Option<usize> {
    let mut w = 1;
    for x in widths {
        if x == 0 {
            return None;
        }
        if x != 1 {
            if w != 1 && w != x {
                return None;
            }
            w = x;
        }
    }
    Some(w)
}

impl Graph {
    /// The output width of every node, checking the graph's invariants on the way.
    ///
    /// # Errors
    /// [`InferenceError::InvalidGraph`] naming the first offending node.
    pub fn widths(&self) -> Result<Vec<usize>, InferenceError> {
        if self.input_width == 0 || self.input_width > MAX_WIDTH {
            return Err(invalid(format!(
                "input width {} is outside 1..={MAX_WIDTH}",
                self.input_width
            )));
        }
        let mut widths: Vec<usize> = Vec::with_capacity(self.nodes.len());
        for (i, node) in self.nodes.iter().enumerate() {
            let at = |m: String| invalid(format!("node {i} ({}): {m}", node.kind()));
            for x in node.inputs() {
                if x as usize >= i {
                    return Err(at(format!("reads node {x}, which is not an earlier node")));
                }
            }
            let w = match node {
                Node::Input => {
                    if i != 0 {
                        return Err(at("only node 0 may be the input".into()));
                    }
                    self.input_width
                }
                Node::Dense { x, weight, n, bias } => {
                    let k = widths[*x as usize];
                    let n = *n as usize;
                    if n == 0 {
                        return Err(at("output width 0".into()));
                    }
                    if k.checked_mul(n) != Some(weight.len()) {
                        return Err(at(format!(
                            "{} weights for a {k} × {n} matrix",
                            weight.len()
                        )));
                    }
                    if let Some(b) = bias
                        && b.len() != n
                    {
                        return Err(at(format!("{} bias values for width {n}", b.len())));
                    }
                    n
                }
                Node::Map { operands, spec } => {
                    check_map_spec(spec, operands.len()).map_err(at)?;
                    let ws = operands.iter().map(|o| match o {
                        Operand::Node(n) => widths[*n as usize],
                        Operand::Row(r) => r.len(),
                    });
                    map_width(ws).ok_or_else(|| at("operand widths do not broadcast".into()))?
                }
                Node::Concat { parts } => {
                    if parts.is_empty() {
                        return Err(at("no parts".into()));
                    }
                    parts.iter().map(|p| widths[*p as usize]).sum()
                }
                Node::Slice { x, start, len } => {
                    let src = widths[*x as usize];
                    let (start, len) = (*start as usize, *len as usize);
                    if len == 0 || start + len > src {
                        return Err(at(format!(
                            "columns {start}..{} of a {src}-wide value",
                            start + len
                        )));
                    }
                    len
                }
            };
            if w > MAX_WIDTH {
                return Err(at(format!("width {w} exceeds {MAX_WIDTH}")));
            }
            widths.push(w);
        }
        if self.output as usize >= self.nodes.len() {
            return Err(invalid(format!(
                "output node {} does not exist ({} nodes)",
                self.output,
                self.nodes.len()
            )));
        }
        Ok(widths)
    }

    /// Check every invariant (see [`Graph::widths`]).
    ///
    /// # Errors
    /// [`InferenceError::InvalidGraph`] naming the first offending node.
    pub fn validate(&self) -> Result<(), InferenceError> {
        self.widths().map(|_| ())
    }

    /// Width of the model's output.
    ///
    /// # Errors
    /// If the graph is invalid.
    pub fn output_width(&self) -> Result<usize, InferenceError> {
        Ok(self.widths()?[self.output as usize])
    }

    /// The same graph without the nodes the output does not depend on.
    pub fn pruned(&self) -> Graph {
        let mut live = vec![false; self.nodes.len()];
        if let Some(l) = live.get_mut(self.output as usize) {
            *l = true;
        }
        for i in (0..self.nodes.len()).rev() {
            if live[i] {
                for x in self.nodes[i].inputs() {
                    if let Some(l) = live.get_mut(x as usize) {
                        *l = true;
                    }
                }
            }
        }
        if let Some(l) = live.first_mut() {
            *l = true; // the input stays node 0
        }
        let mut new_id = vec![0u32; self.nodes.len()];
        let mut nodes = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if !live[i] {
                continue;
            }
            new_id[i] = nodes.len() as u32;
            let m = |x: &NodeId| new_id.get(*x as usize).copied().unwrap_or(*x);
            nodes.push(match node {
                Node::Input => Node::Input,
                Node::Dense { x, weight, n, bias } => Node::Dense {
                    x: m(x),
                    weight: weight.clone(),
                    n: *n,
                    bias: bias.clone(),
                },
                Node::Map { operands, spec } => Node::Map {
                    operands: operands
                        .iter()
                        .map(|o| match o {
                            Operand::Node(n) => Operand::Node(m(n)),
                            Operand::Row(r) => Operand::Row(r.clone()),
                        })
                        .collect(),
                    spec: spec.clone(),
                },
                Node::Concat { parts } => Node::Concat {
                    parts: parts.iter().map(m).collect(),
                },
                Node::Slice { x, start, len } => Node::Slice {
                    x: m(x),
                    start: *start,
                    len: *len,
                },
            });
        }
        Graph {
            input_width: self.input_width,
            output: new_id
                .get(self.output as usize)
                .copied()
                .unwrap_or(self.output),
            nodes,
        }
    }

    /// Evaluate the graph on `input` (`rows × input_width`, row-major) with plain Rust: dense
    /// layers as `f32` dot products in index order, maps with the kernel interpreter. The
    /// reference the compiled code is tested against.
    ///
    /// # Errors
    /// If the graph is invalid or `input` is not a whole number of rows.
    pub fn eval(&self, input: &[f32]) -> Result<Vec<f32>, InferenceError> {
        let widths = self.widths()?;
        if !input.len().is_multiple_of(self.input_width) {
            return Err(InferenceError::InputLength {
                len: input.len(),
                width: self.input_width,
            });
        }
        let rows = input.len() / self.input_width;
        let mut values: Vec<Vec<f32>> = Vec::with_capacity(self.nodes.len());
        for (i, node) in self.nodes.iter().enumerate() {
            let w = widths[i];
            let v = match node {
                Node::Input => input.to_vec(),
                Node::Dense { x, weight, n, bias } => {
                    let (xv, k, n) = (&values[*x as usize], widths[*x as usize], *n as usize);
                    let mut out = vec![0.0f32; rows * n];
                    for r in 0..rows {
                        for j in 0..n {
                            let mut acc = bias.as_ref().map_or(0.0, |b| b[j]);
                            for kk in 0..k {
                                acc += xv[r * k + kk] * weight[kk * n + j];
                            }
                            out[r * n + j] = acc;
                        }
                    }
                    out
                }
                Node::Map { operands, spec } => {
                    let mut out = vec![0.0f32; rows * w];
                    let mut args = vec![interp::Scalar::F32(0.0); operands.len()];
                    for r in 0..rows {
                        for c in 0..w {
                            for (a, o) in args.iter_mut().zip(operands) {
                                let v = match o {
                                    Operand::Node(n) => {
                                        let nw = widths[*n as usize];
                                        values[*n as usize][r * nw + if nw == 1 { 0 } else { c }]
                                    }
                                    Operand::Row(row) => row[if row.len() == 1 { 0 } else { c }],
                                };
                                *a = interp::Scalar::F32(v);
                            }
                            out[r * w + c] = match interp::eval(spec, &args, &[])[0] {
                                interp::Scalar::F32(v) => v,
                                other => unreachable!("validated F32 output, got {other:?}"),
                            };
                        }
                    }
                    out
                }
                Node::Concat { parts } => {
                    let mut out = Vec::with_capacity(rows * w);
                    for r in 0..rows {
                        for p in parts {
                            let pw = widths[*p as usize];
                            out.extend_from_slice(&values[*p as usize][r * pw..(r + 1) * pw]);
                        }
                    }
                    out
                }
                Node::Slice { x, start, len } => {
                    let sw = widths[*x as usize];
                    let (start, len) = (*start as usize, *len as usize);
                    let src = &values[*x as usize];
                    let mut out = Vec::with_capacity(rows * len);
                    for r in 0..rows {
                        out.extend_from_slice(&src[r * sw + start..r * sw + start + len]);
                    }
                    out
                }
            };
            values.push(v);
        }
        Ok(values.swap_remove(self.output as usize))
    }
}

/// The constraints on a [`Node::Map`]'s spec, as a message.
fn check_map_spec(spec: &KernelSpec, operands: usize) -> Result<(), String> {
    spec.validate().map_err(|e| e.to_string())?;
    if spec.float != ElemType::F32 {
        return Err("the spec must compute in F32".into());
    }
    if spec.inputs.len() != operands || spec.inputs.iter().any(|t| *t != ElemType::F32) {
        return Err(format!(
            "the spec must have one F32 input per operand ({operands})"
        ));
    }
    if spec.num_scalars != 0 {
        return Err("the spec must not use runtime scalars".into());
    }
    if spec.outputs.len() != 1 || spec.outputs[0].ty != ElemType::F32 {
        return Err("the spec must have exactly one F32 output".into());
    }
    if spec
        .body
        .iter()
        .any(|i| matches!(i, Inst::Cast(_, ElemType::F64)))
    {
        return Err("the spec must not cast to F64".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Output, UnaryOp, ValueId};

    fn tanh_spec() -> KernelSpec {
        KernelSpec {
            float: ElemType::F32,
            inputs: vec![ElemType::F32],
            num_scalars: 0,
            body: vec![Inst::Input(0), Inst::Unary(UnaryOp::Tanh, ValueId(0))],
            outputs: vec![Output {
                value: ValueId(1),
                ty: ElemType::F32,
            }],
        }
    }

    #[test]
    fn eval_of_dense_map_concat_slice() {
        let g = Graph {
            input_width: 2,
            nodes: vec![
                Node::Input,
                Node::Dense {
                    x: 0,
                    weight: vec![1.0, 0.0, 0.0, 1.0],
                    n: 2,
                    bias: None,
                },
                Node::Map {
                    operands: vec![Operand::Node(1)],
                    spec: tanh_spec(),
                },
                Node::Concat { parts: vec![0, 2] },
                Node::Slice {
                    x: 3,
                    start: 1,
                    len: 2,
                },
            ],
            output: 4,
        };
        let y = g.eval(&[0.5, -1.0]).unwrap();
        assert_eq!(y, vec![-1.0, 0.5f32.tanh()]);
        assert_eq!(g.output_width().unwrap(), 2);
    }

    #[test]
    fn invalid_graphs_are_rejected_with_the_node() {
        let bad_ref = Graph {
            input_width: 2,
            nodes: vec![
                Node::Input,
                Node::Slice {
                    x: 1,
                    start: 0,
                    len: 1,
                },
            ],
            output: 1,
        };
        let e = bad_ref.validate().unwrap_err().to_string();
        assert!(e.contains("node 1"), "{e}");
        let bad_dense = Graph {
            input_width: 2,
            nodes: vec![
                Node::Input,
                Node::Dense {
                    x: 0,
                    weight: vec![1.0; 3],
                    n: 2,
                    bias: None,
                },
            ],
            output: 1,
        };
        assert!(bad_dense.validate().is_err());
        let bad_slice = Graph {
            input_width: 2,
            nodes: vec![
                Node::Input,
                Node::Slice {
                    x: 0,
                    start: 1,
                    len: 2,
                },
            ],
            output: 1,
        };
        assert!(bad_slice.validate().is_err());
        let no_output = Graph {
            input_width: 2,
            nodes: vec![Node::Input],
            output: 3,
        };
        assert!(no_output.validate().is_err());
        let bad_map = Graph {
            input_width: 3,
            nodes: vec![
                Node::Input,
                Node::Map {
                    operands: vec![Operand::Row(vec![1.0, 2.0])],
                    spec: tanh_spec(),
                },
            ],
            output: 1,
        };
        assert!(
            bad_map.validate().is_ok(),
            "a lone 2-wide row is a 2-wide map"
        );
        let bad_bcast = Graph {
            input_width: 3,
            nodes: vec![
                Node::Input,
                Node::Map {
                    operands: vec![Operand::Node(0), Operand::Row(vec![1.0, 2.0])],
                    spec: KernelSpec {
                        inputs: vec![ElemType::F32; 2],
                        body: vec![
                            Inst::Input(0),
                            Inst::Input(1),
                            Inst::Binary(crate::kernel::BinaryOp::Add, ValueId(0), ValueId(1)),
                        ],
                        outputs: vec![Output {
                            value: ValueId(2),
                            ty: ElemType::F32,
                        }],
                        ..tanh_spec()
                    },
                },
            ],
            output: 1,
        };
        assert!(bad_bcast.validate().is_err());
    }

    #[test]
    fn pruning_drops_dead_nodes_and_renumbers() {
        let g = Graph {
            input_width: 1,
            nodes: vec![
                Node::Input,
                Node::Map {
                    operands: vec![Operand::Node(0)],
                    spec: tanh_spec(),
                },
                Node::Concat { parts: vec![0, 0] },
            ],
            output: 2,
        };
        let p = g.pruned();
        assert_eq!(p.nodes.len(), 2);
        assert_eq!(p.output, 1);
        assert_eq!(p.eval(&[3.0]).unwrap(), g.eval(&[3.0]).unwrap());
    }
}
