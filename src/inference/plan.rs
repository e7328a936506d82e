//! Planning: where every value of a graph lives while a tile of rows is computed, and the
//! sequence of steps the generated function runs per tile.
//!
//! The generated function processes the batch in tiles of [`Plan::tile_rows`] rows. Within a
//! tile every value is a `tile_rows × width` row-major block: the input and output blocks are
//! the caller's buffers; the rest live in a caller-provided scratch buffer, assigned by liveness
//! so that blocks whose values are dead are reused. A concatenation's parts are computed straight
//! into their columns of the concatenation (no copy) when nothing else reads them, a slice is a
//! view into its source, and the output node writes straight into the caller's output.

use super::InferenceError;
use super::graph::{Graph, Node, Operand};
use super::pack::{DenseLayout, INT8_MAX_K, INT8_MIN_K, Packer, WeightPrecision, use_dot};
use crate::kernel::{Inst, KernelSpec, UnaryOp, ValueId};

/// Most rows per tile: a multiple of the AVX2 kernel's 6-row blocks, so that full tiles have no
/// leftover rows.
pub(crate) const MAX_TILE_ROWS: usize = 60;
/// Scratch per tile the plan aims for, in `f32`s (fits in L2 with room to spare).
pub(crate) const SCRATCH_TARGET_FLOATS: usize = 16 * 1024;

/// Which buffer a block lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// The caller's input.
    Input,
    /// The caller's output.
    Output,
    /// Scratch, at `offset × tile_rows` floats (`offset` counts columns).
    Scratch(usize),
}

/// Where a `tile_rows × width` block is: element `(r, c)` is at float index
/// `r × stride + col + c` of its base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Loc {
    pub base: Base,
    pub col: usize,
    pub stride: usize,
}

impl Loc {
    fn at(self, col: usize) -> Loc {
        Loc {
            col: self.col + col,
            ..self
        }
    }
}

/// An operand of a [`Step::Map`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum MapArg {
    /// A block of width `width` (1: broadcast along the row).
    Block { loc: Loc, width: usize },
    /// A constant row at float offset `offset` of the weight data, of `len` values (1: broadcast).
    Row { offset: usize, len: usize },
}

/// An activation a dense step applies to its results before storing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    /// None: store `x · W + bias`.
    None,
    /// `tanh` ([`super::activation`]).
    Tanh,
}

impl Act {
    /// The code the AVX2 dense kernel takes.
    pub fn code(self) -> usize {
        match self {
            Act::None => 0,
            Act::Tanh => 1,
        }
    }
}

/// Whether `spec` is exactly `tanh(input 0)`.
fn is_tanh(spec: &KernelSpec) -> bool {
    spec.body == [Inst::Input(0), Inst::Unary(UnaryOp::Tanh, ValueId(0))]
        && spec.outputs.len() == 1
        && spec.outputs[0].value == ValueId(1)
}

/// One step of the per-tile program.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    /// `out = act(x · W (+ bias))`.
    Dense {
        x: Loc,
        out: Loc,
        k: usize,
        n: usize,
        layout: DenseLayout,
        act: Act,
    },
    /// `out = spec(args)` element-wise over `width` columns.
    Map {
        args: Vec<MapArg>,
        spec: KernelSpec,
        width: usize,
        out: Loc,
    },
    /// `dst = src` over `width` columns.
    Copy { src: Loc, dst: Loc, width: usize },
}

/// Everything code generation needs.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub input_width: usize,
    pub output_width: usize,
    pub tile_rows: usize,
    /// Scratch the function needs, in floats (`tile_rows × scratch columns`).
    pub scratch_floats: usize,
    pub steps: Vec<Step>,
    /// The weights and constants, packed ([`super::pack`]).
    pub data: Vec<f32>,
    /// Bytes of the dense layers' weights, scales and biases.
    pub weight_bytes: usize,
}

/// First-fit allocation of column ranges with lifetimes.
#[derive(Default)]
struct Columns {
    /// Live ranges: (offset, width, last step that reads them).
    live: Vec<(usize, usize, usize)>,
    total: usize,
}

impl Columns {
    fn alloc(&mut self, width: usize, now: usize, until: usize) -> usize {
        self.live.retain(|&(_, _, end)| end >= now);
        self.live.sort_unstable();
        let mut at = 0;
        for &(off, w, _) in &self.live {
            if off >= at + width {
                break;
            }
            at = at.max(off + w);
        }
        self.live.push((at, width, until));
        self.total = self.total.max(at + width);
        at
    }
}

/// Plan `graph` (which must be valid).
pub(crate) fn plan(graph: &Graph, weights: WeightPrecision) -> Result<Plan, InferenceError> {
    let graph = graph.pruned();
    let widths = graph.widths()?;
    let n = graph.nodes.len();
    let out = graph.output as usize;
    let mut uses = vec![0usize; n];
    let mut last_use = vec![0usize; n];
    for (i, node) in graph.nodes.iter().enumerate() {
        for x in node.inputs() {
            uses[x as usize] += 1;
            last_use[x as usize] = i;
        }
    }
    // `tanh(dense)` where nothing else reads the dense result: one step, the activation applied
    // to the accumulators (the dense node itself never gets a block).
    let mut fused = vec![false; n];
    for d in 0..n.saturating_sub(1) {
        if let (Node::Dense { n: width, .. }, Node::Map { operands, spec }) =
            (&graph.nodes[d], &graph.nodes[d + 1])
            && !use_dot(*width as usize)
            && uses[d] == 1
            && d != out
            && operands.as_slice() == [Operand::Node(d as u32)]
            && is_tanh(spec)
        {
            fused[d] = true;
            // The fused step runs at the map's position: the dense's input lives until then.
            for x in graph.nodes[d].inputs() {
                last_use[x as usize] = last_use[x as usize].max(d + 1);
            }
        }
    }
    let computed = |i: usize| {
        matches!(
            graph.nodes[i],
            Node::Dense { .. } | Node::Map { .. } | Node::Concat { .. }
        )
    };
    // Parts computed straight into their concatenation.
    let mut placed: Vec<Option<(usize, usize)>> = vec![None; n];
    for c in (0..n).rev() {
        if let Node::Concat { parts } = &graph.nodes[c] {
            let mut off = 0;
            for &p in parts {
                let p = p as usize;
                if computed(p) && uses[p] == 1 && p != out && placed[p].is_none() {
                    placed[p] = Some((c, off));
                }
                off += widths[p];
            }
        }
    }
    // The block each node's value lives in: (root node, column offset in the root).
    let mut root = vec![(0usize, 0usize); n];
    for i in (0..n).rev() {
        root[i] = match placed[i] {
            Some((c, off)) => {
                let (r, o) = root[c];
                (r, o + off)
            }
            None => (i, 0),
        };
    }
    // Slices are views: their root is their source's.
    for i in 0..n {
        if let Node::Slice { x, start, .. } = graph.nodes[i] {
            let (r, o) = root[x as usize];
            root[i] = (r, o + start as usize);
        }
    }
    // Lifetime of each root block: from its first member's step to the last read of any member.
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    for i in 0..n {
        let r = root[i].0;
        if !matches!(graph.nodes[i], Node::Slice { .. }) {
            first[r] = first[r].min(i);
        }
        last[r] = last[r].max(last_use[i]).max(i);
    }
    let mut cols = Columns::default();
    let mut base: Vec<Option<Loc>> = vec![None; n];
    let mut order: Vec<usize> = (0..n).filter(|&i| root[i].0 == i && !fused[i]).collect();
    order.sort_by_key(|&i| first[i]);
    let final_copy = !computed(out);
    for &r in &order {
        base[r] = Some(match graph.nodes[r] {
            Node::Input => Loc {
                base: Base::Input,
                col: 0,
                stride: graph.input_width,
            },
            _ if r == out => Loc {
                base: Base::Output,
                col: 0,
                stride: widths[r],
            },
            _ => {
                let off = cols.alloc(widths[r], first[r], last[r]);
                Loc {
                    base: Base::Scratch(off),
                    col: 0,
                    stride: widths[r],
                }
            }
        });
    }
    let loc = |i: usize| -> Loc {
        let (r, o) = root[i];
        base[r].expect("every root has a block").at(o)
    };
    let mut packer = Packer::default();
    let mut steps = Vec::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        match node {
            Node::Input | Node::Slice { .. } => {}
            Node::Dense { .. } if fused[i] => {}
            Node::Dense { .. } => {
                let d = &graph.nodes[i];
                let x = d.inputs()[0] as usize;
                steps.push(dense_step(
                    &mut packer,
                    d,
                    loc(i),
                    Act::None,
                    loc(x),
                    widths[x],
                    weights,
                    is_tanh_node(&graph.nodes[x]),
                )?);
            }
            Node::Map { .. } if i > 0 && fused[i - 1] => {
                let d = &graph.nodes[i - 1];
                let x = d.inputs()[0] as usize;
                steps.push(dense_step(
                    &mut packer,
                    d,
                    loc(i),
                    Act::Tanh,
                    loc(x),
                    widths[x],
                    weights,
                    is_tanh_node(&graph.nodes[x]),
                )?);
            }
            Node::Map { operands, spec } => {
                let args = operands
                    .iter()
                    .map(|o| match o {
                        Operand::Node(x) => MapArg::Block {
                            loc: loc(*x as usize),
                            width: widths[*x as usize],
                        },
                        Operand::Row(r) => MapArg::Row {
                            offset: packer.row(r),
                            len: r.len(),
                        },
                    })
                    .collect();
                steps.push(Step::Map {
                    args,
                    spec: spec.clone(),
                    width: widths[i],
                    out: loc(i),
                });
            }
            Node::Concat { parts } => {
                let dst = loc(i);
                let mut off = 0;
                for &p in parts {
                    let p = p as usize;
                    if placed[p] != Some((i, off)) {
                        steps.push(Step::Copy {
                            src: loc(p),
                            dst: dst.at(off),
                            width: widths[p],
                        });
                    }
                    off += widths[p];
                }
            }
        }
    }
    if final_copy {
        steps.push(Step::Copy {
            src: loc(out),
            dst: Loc {
                base: Base::Output,
                col: 0,
                stride: widths[out],
            },
            width: widths[out],
        });
    }
    let scratch_cols = cols.total;
    let tile_rows = (SCRATCH_TARGET_FLOATS / scratch_cols.max(1)).clamp(1, MAX_TILE_ROWS);
    Ok(Plan {
        input_width: graph.input_width,
        output_width: widths[out],
        tile_rows,
        scratch_floats: tile_rows * scratch_cols,
        steps,
        weight_bytes: packer.weight_bytes(),
        data: packer.finish(),
    })
}

/// Whether `node` is `tanh` of one operand (its values lie in [-1, 1]).
fn is_tanh_node(node: &Node) -> bool {
    matches!(node, Node::Map { operands, spec } if operands.len() == 1 && is_tanh(spec))
}

/// The step of dense node `node` writing `act(node)` to `out`, its weights packed as
/// `weights` asks where that format serves the layer (see [`WeightPrecision::Int8`]);
/// `unit_input`: its input is a `tanh`.
#[allow(clippy::too_many_arguments)]
fn dense_step(
    packer: &mut Packer,
    node: &Node,
    out: Loc,
    act: Act,
    x: Loc,
    k: usize,
    weights: WeightPrecision,
    unit_input: bool,
) -> Result<Step, InferenceError> {
    let Node::Dense {
        weight, n, bias, ..
    } = node
    else {
        unreachable!("called on dense nodes")
    };
    let n = *n as usize;
    let int8 =
        weights == WeightPrecision::Int8 && !use_dot(n) && (INT8_MIN_K..=INT8_MAX_K).contains(&k);
    if int8 && let Some(w) = weight.iter().find(|w| !w.is_finite()) {
        return Err(InferenceError::InvalidGraph(format!(
            "a {k} → {n} dense layer has the weight {w}; int8 weights need finite values \
             (compile with WeightPrecision::F32 to keep it)"
        )));
    }
    let layout = if int8 {
        packer.dense_int8(weight, k, n, bias.as_deref(), unit_input)
    } else {
        packer.dense(weight, k, n, bias.as_deref())
    };
    Ok(Step::Dense {
        x,
        out,
        k,
        n,
        layout,
        act,
    })
}

/// The nodes whose value a plan keeps in scratch (for tests).
#[cfg(test)]
pub(crate) fn scratch_blocks(plan: &Plan) -> Vec<Loc> {
    let mut v: Vec<Loc> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Dense { out, .. } | Step::Map { out, .. } | Step::Copy { dst: out, .. } => {
                matches!(out.base, Base::Scratch(_)).then_some(*out)
            }
        })
        .collect();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::NodeId;
    use crate::kernel::{ElemType, Inst, Output, UnaryOp, ValueId};

    fn unary(op: UnaryOp, x: NodeId) -> Node {
        Node::Map {
            operands: vec![Operand::Node(x)],
            spec: KernelSpec {
                float: ElemType::F32,
                inputs: vec![ElemType::F32],
                num_scalars: 0,
                body: vec![Inst::Input(0), Inst::Unary(op, ValueId(0))],
                outputs: vec![Output {
                    value: ValueId(1),
                    ty: ElemType::F32,
                }],
            },
        }
    }

    fn dense(x: NodeId, k: usize, n: usize) -> Node {
        Node::Dense {
            x,
            weight: vec![0.5; k * n],
            n: n as u32,
            bias: Some(vec![0.1; n]),
        }
    }

    #[test]
    fn mlp_reuses_two_blocks_and_writes_the_output_directly() {
        let g = Graph {
            input_width: 2,
            nodes: vec![
                Node::Input,
                dense(0, 2, 64),
                unary(UnaryOp::Tanh, 1),
                dense(2, 64, 64),
                unary(UnaryOp::Tanh, 3),
                dense(4, 64, 64),
                unary(UnaryOp::Tanh, 5),
                dense(6, 64, 1),
            ],
            output: 7,
        };
        let p = plan(&g, WeightPrecision::F32).unwrap();
        // Each hidden dense layer carries its tanh.
        assert_eq!(p.steps.len(), 4);
        let acts: Vec<Act> = p
            .steps
            .iter()
            .map(|s| match s {
                Step::Dense { act, .. } => *act,
                s => panic!("{s:?}"),
            })
            .collect();
        assert_eq!(acts, [Act::Tanh, Act::Tanh, Act::Tanh, Act::None]);
        // At most two 64-wide blocks are live at once.
        assert_eq!(p.scratch_floats, p.tile_rows * 128);
        match p.steps.last().unwrap() {
            Step::Dense { out, .. } => assert_eq!(out.base, Base::Output),
            s => panic!("{s:?}"),
        }
    }

    #[test]
    fn concat_parts_are_computed_in_place_and_input_outputs_are_copied() {
        let g = Graph {
            input_width: 3,
            nodes: vec![
                Node::Input,
                unary(UnaryOp::Sin, 0),
                unary(UnaryOp::Cos, 0),
                Node::Concat {
                    parts: vec![1, 2, 0],
                },
                dense(3, 9, 2),
            ],
            output: 4,
        };
        let p = plan(&g, WeightPrecision::F32).unwrap();
        // sin and cos write into the concat block; only the raw input is copied.
        let copies = p
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Copy { .. }))
            .count();
        assert_eq!(copies, 1);
        let outs = scratch_blocks(&p);
        assert_eq!(outs[0].col, 0);
        assert_eq!(outs[1].col, 3);
        assert!(outs.iter().all(|l| l.stride == 9));

        let identity = Graph {
            input_width: 3,
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
        let p = plan(&identity, WeightPrecision::F32).unwrap();
        assert_eq!(
            p.steps,
            vec![Step::Copy {
                src: Loc {
                    base: Base::Input,
                    col: 1,
                    stride: 3
                },
                dst: Loc {
                    base: Base::Output,
                    col: 0,
                    stride: 2
                },
                width: 2
            }]
        );
        assert_eq!(p.scratch_floats, 0);
    }

    #[test]
    fn columns_are_reused_after_their_last_read() {
        let mut c = Columns::default();
        let a = c.alloc(4, 0, 1);
        let b = c.alloc(4, 1, 2);
        assert_ne!(a, b);
        let d = c.alloc(4, 2, 3); // a is dead at step 2
        assert_eq!(d, a);
        assert_eq!(c.total, 8);
    }
}
