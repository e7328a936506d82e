//! Lowering a [`Trace`] (Burn's operations on the tracer) into a [`Graph`].
//!
//! Every recorded tensor is either a *node* (a materialised `rows × width` value: the input, a
//! dense layer, a concatenation, a slice, a map) or an *expression*: an element-wise program
//! over nodes and constants that has not been given memory yet. Element-wise operations extend
//! expressions; anything else (a dense layer, a concatenation, a slice, the output) first turns
//! its operands into nodes, each one [`Node::Map`] whose [`KernelSpec`] is the whole expression.
//! So `linear → tanh → linear` becomes `dense, map(tanh), dense`, and `x·B → sin, cos → cat`
//! becomes `dense, map(sin), map(cos), concat`.
//!
//! The element-wise vocabulary is the element-wise fuser's (same operations, same
//! [`KernelSpec`] instructions), so the compiled model computes what eager `PinnJitBackend`
//! computes. Operations outside it give [`InferenceError::UnsupportedOp`] naming the operation.

use std::collections::{HashMap, HashSet};

use burn_backend::DType;
use burn_ir::{
    BaseOperationIr, BinaryOpIr, BoolOperationIr, FloatOperationIr, ModuleOperationIr,
    NumericOperationIr, OperationIr, ScalarIr, TensorId, TensorIr,
};

use super::InferenceError;
use super::graph::{Graph, Node, NodeId, Operand, map_width};
use super::trace::{ConstTensor, ConstValues, TRACE_ROWS, Trace};
use crate::kernel::{
    BinaryOp, BoolOp, CmpOp, ElemType, FloatTest, Inst, KernelSpec, Output, UnaryOp, ValueId,
};

/// An expression node's index.
type E = usize;

/// `spec` unless it computes `1 − 2 / (e^{2z} + 1)` of its one input, the form of `tanh` the
/// PINN toolkit uses on backends whose `exp` is faster than their `tanh`
/// ([`crate::pinn::activation::tanh`]): that becomes `tanh(z)`, which the compiler fuses into the
/// dense layer before it and knows to lie in [-1, 1] (same function; the inline `tanh` is
/// accurate to a few ULP, as the exponential form is).
fn tanh_from_exp_form(spec: KernelSpec) -> KernelSpec {
    use BinaryOp::{Add, Mul};
    let v = ValueId;
    let exp_form = [
        Inst::Input(0),
        Inst::Const(2.0),
        Inst::Binary(Mul, v(0), v(1)),
        Inst::Unary(UnaryOp::Exp, v(2)),
        Inst::Const(1.0),
        Inst::Binary(Add, v(3), v(4)),
        Inst::Unary(UnaryOp::Recip, v(5)),
        Inst::Const(-2.0),
        Inst::Binary(Mul, v(6), v(7)),
        Inst::Const(1.0),
        Inst::Binary(Add, v(8), v(9)),
    ];
    if spec.inputs.len() != 1
        || spec.body != exp_form
        || spec.outputs.len() != 1
        || spec.outputs[0].value != v(10)
    {
        return spec;
    }
    KernelSpec {
        body: vec![Inst::Input(0), Inst::Unary(UnaryOp::Tanh, v(0))],
        outputs: vec![Output {
            value: v(1),
            ty: spec.outputs[0].ty,
        }],
        ..spec
    }
}

#[derive(Clone, Debug)]
enum EKind {
    Leaf(NodeId),
    Row(Vec<f32>),
    Const(f64),
    Unary(UnaryOp, E),
    Binary(BinaryOp, E, E),
    Compare(CmpOp, E, E),
    Test(FloatTest, E),
    Bool(BoolOp, E, E),
    Select(E, E, E),
    Clamp(E, E, E),
    Cast(E, ElemType),
    /// The same value, broadcast to a wider row (Burn's `expand`).
    Widen(E),
}

#[derive(Clone, Debug)]
struct ENode {
    kind: EKind,
    ty: ElemType,
    width: usize,
}

#[derive(Clone, Copy, Debug)]
enum Val {
    Node(NodeId),
    Expr(E),
}

/// A short, stable name of a Burn operation for error messages, e.g. `NumericFloat::SumDim`.
pub(crate) fn op_name(op: &OperationIr) -> String {
    let s = format!("{op:?}");
    let Some(open) = s.find('(') else {
        return s;
    };
    let outer = &s[..open];
    let mut rest = &s[open + 1..];
    // Skip a leading dtype argument (`NumericFloat(F32, Add(..))`).
    if let Some(comma) = rest.find(", ")
        && rest[..comma]
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_')
        && rest[..comma].chars().any(|c| c.is_ascii_digit())
    {
        rest = &rest[comma + 2..];
    }
    let inner: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if inner.is_empty() || inner.ends_with("OpIr") {
        outer.to_string()
    } else {
        format!("{outer}::{inner}")
    }
}

fn unsupported(op: &OperationIr, detail: impl Into<String>) -> InferenceError {
    InferenceError::UnsupportedOp {
        op: op_name(op),
        detail: detail.into(),
    }
}

struct Lowerer<'t> {
    trace: &'t Trace,
    nodes: Vec<Node>,
    widths: Vec<usize>,
    exprs: Vec<ENode>,
    leaves: HashMap<NodeId, E>,
    vals: HashMap<TensorId, Val>,
    uses: HashMap<TensorId, usize>,
    /// Dense nodes without a bias whose only reader is the tensor's next op (a bias add folds in).
    biasable: HashMap<NodeId, TensorId>,
}

/// Lower a trace into a validated graph.
pub(crate) fn lower(trace: &Trace) -> Result<Graph, InferenceError> {
    // Only the operations the output depends on.
    let mut live_ids: HashSet<TensorId> = HashSet::from([trace.output]);
    let mut live_ops = Vec::new();
    for op in trace.ops.iter().rev() {
        if op.outputs().any(|t| live_ids.contains(&t.id)) {
            live_ids.extend(op.inputs().map(|t| t.id));
            live_ops.push(op);
        }
    }
    live_ops.reverse();
    let mut uses: HashMap<TensorId, usize> = HashMap::from([(trace.output, 1)]);
    for op in &live_ops {
        for t in op.inputs() {
            *uses.entry(t.id).or_default() += 1;
        }
    }
    let mut l = Lowerer {
        trace,
        nodes: vec![Node::Input],
        widths: vec![trace.input_width],
        exprs: Vec::new(),
        leaves: HashMap::new(),
        vals: HashMap::from([(trace.input, Val::Node(0))]),
        uses,
        biasable: HashMap::new(),
    };
    for op in live_ops {
        l.op(op)?;
    }
    if trace.output_shape.len() != 2 || trace.output_shape[0] != TRACE_ROWS {
        return Err(InferenceError::Trace(format!(
            "the forward pass returned shape {:?} for {TRACE_ROWS} input rows; it must return \
             [rows, features]",
            trace.output_shape
        )));
    }
    let out = match l.vals.get(&trace.output) {
        Some(v) => *v,
        None => {
            return Err(InferenceError::Trace(
                "the output was not produced by a recorded operation".into(),
            ));
        }
    };
    let output = l.node_of(out, "the output")?;
    let graph = Graph {
        input_width: trace.input_width,
        nodes: l.nodes,
        output,
    }
    .pruned();
    graph.validate()?;
    Ok(graph)
}

impl Lowerer<'_> {
    fn push_expr(&mut self, kind: EKind, ty: ElemType, width: usize) -> E {
        self.exprs.push(ENode { kind, ty, width });
        self.exprs.len() - 1
    }

    fn push_node(&mut self, node: Node, width: usize) -> NodeId {
        self.nodes.push(node);
        self.widths.push(width);
        (self.nodes.len() - 1) as NodeId
    }

    fn is_var(&self, t: &TensorIr) -> bool {
        self.vals.contains_key(&t.id)
    }

    fn constant(&self, op: &OperationIr, t: &TensorIr) -> Result<&ConstTensor, InferenceError> {
        self.trace
            .consts
            .get(&t.id)
            .ok_or_else(|| unsupported(op, "an operand's value was not recorded"))
    }

    /// The feature width of an input-dependent tensor: its shape must be `[TRACE_ROWS, w]`.
    fn var_width(&self, op: &OperationIr, t: &TensorIr) -> Result<usize, InferenceError> {
        let dims = t.shape.to_vec();
        if dims.len() == 2 && dims[0] == TRACE_ROWS {
            Ok(dims[1])
        } else {
            Err(unsupported(
                op,
                format!(
                    "an input-dependent tensor of shape {dims:?} (traced with {TRACE_ROWS} rows); \
                     only [batch, features] tensors are supported"
                ),
            ))
        }
    }

    /// The expression of a value.
    fn expr_of(&mut self, v: Val) -> E {
        match v {
            Val::Expr(e) => e,
            Val::Node(n) => {
                if let Some(e) = self.leaves.get(&n) {
                    return *e;
                }
                let w = self.widths[n as usize];
                let e = self.push_expr(EKind::Leaf(n), ElemType::F32, w);
                self.leaves.insert(n, e);
                e
            }
        }
    }

    /// The node of a value, materialising an expression as a map.
    fn node_of(&mut self, v: Val, user: &str) -> Result<NodeId, InferenceError> {
        let e = match v {
            Val::Node(n) => return Ok(n),
            Val::Expr(e) => e,
        };
        if let EKind::Leaf(n) = self.exprs[e].kind {
            return Ok(n);
        }
        if self.exprs[e].ty != ElemType::F32 {
            return Err(InferenceError::UnsupportedOp {
                op: "bool tensor".into(),
                detail: format!(
                    "{user} reads a boolean tensor; only masks inside element-wise operations are supported"
                ),
            });
        }
        let mut mark = vec![false; e + 1];
        mark[e] = true;
        for i in (0..=e).rev() {
            if mark[i] {
                for c in children(&self.exprs[i].kind) {
                    mark[c] = true;
                }
            }
        }
        let mut operands = Vec::new();
        let mut body = Vec::new();
        let mut id: HashMap<E, ValueId> = HashMap::new();
        for (i, marked) in mark.iter().enumerate() {
            if !marked {
                continue;
            }
            let v = |x: &E| id[x];
            let inst = match &self.exprs[i].kind {
                EKind::Leaf(n) => {
                    operands.push(Operand::Node(*n));
                    Inst::Input(operands.len() as u32 - 1)
                }
                EKind::Row(r) => {
                    operands.push(Operand::Row(r.clone()));
                    Inst::Input(operands.len() as u32 - 1)
                }
                EKind::Const(c) => Inst::Const(*c),
                EKind::Unary(op, a) => Inst::Unary(*op, v(a)),
                EKind::Binary(op, a, b) => Inst::Binary(*op, v(a), v(b)),
                EKind::Compare(op, a, b) => Inst::Compare(*op, v(a), v(b)),
                EKind::Test(op, a) => Inst::Test(*op, v(a)),
                EKind::Bool(op, a, b) => Inst::Bool(*op, v(a), v(b)),
                EKind::Select(c, t, o) => Inst::Select {
                    cond: v(c),
                    then: v(t),
                    otherwise: v(o),
                },
                EKind::Clamp(x, lo, hi) => Inst::Clamp {
                    x: v(x),
                    lo: v(lo),
                    hi: v(hi),
                },
                EKind::Cast(a, ty) => Inst::Cast(v(a), *ty),
                EKind::Widen(a) => {
                    let a = v(a);
                    id.insert(i, a);
                    continue;
                }
            };
            body.push(inst);
            id.insert(i, ValueId(body.len() as u32 - 1));
        }
        let spec = KernelSpec {
            float: ElemType::F32,
            inputs: vec![ElemType::F32; operands.len()],
            num_scalars: 0,
            body,
            outputs: vec![Output {
                value: id[&e],
                ty: ElemType::F32,
            }],
        };
        let spec = tanh_from_exp_form(spec);
        let w = self.exprs[e].width;
        Ok(self.push_node(Node::Map { operands, spec }, w))
    }

    /// The value of tensor `t` as an expression operand (input-dependent or constant).
    fn operand(&mut self, op: &OperationIr, t: &TensorIr) -> Result<E, InferenceError> {
        if let Some(v) = self.vals.get(&t.id).copied() {
            return Ok(self.expr_of(v));
        }
        let c = self.constant(op, t)?.clone();
        self.const_expr(op, &c)
    }

    /// A constant operand as an expression: a scalar, or a row broadcast over the batch.
    fn const_expr(&mut self, op: &OperationIr, c: &ConstTensor) -> Result<E, InferenceError> {
        let (values, ty): (Vec<f32>, ElemType) = match &c.values {
            ConstValues::F32(v) => (v.clone(), ElemType::F32),
            ConstValues::Bool(v) => (
                v.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect(),
                ElemType::Bool,
            ),
            ConstValues::Int(_) => {
                return Err(unsupported(op, "an integer tensor operand"));
            }
        };
        // Drop leading 1s; what is left must be [], [n], or [rows, n] with equal rows.
        let mut dims: Vec<usize> = c.shape.clone();
        while dims.len() > 2 || (dims.len() == 2 && dims[0] == 1) {
            if dims[0] != 1 {
                return Err(unsupported(
                    op,
                    format!("a constant operand of shape {:?}", c.shape),
                ));
            }
            dims.remove(0);
        }
        let row: Vec<f32> = match dims.as_slice() {
            [] | [_] => values,
            [rows, n] if *rows == TRACE_ROWS => {
                let first = &values[..*n];
                if values
                    .chunks(*n)
                    .any(|r| r.iter().zip(first).any(|(a, b)| a.to_bits() != b.to_bits()))
                {
                    return Err(unsupported(
                        op,
                        "a constant with the batch dimension whose rows differ (the model \
                         depends on the batch size)",
                    ));
                }
                first.to_vec()
            }
            _ => {
                return Err(unsupported(
                    op,
                    format!("a constant operand of shape {:?}", c.shape),
                ));
            }
        };
        let e = if row.len() == 1 {
            self.push_expr(EKind::Const(row[0] as f64), ElemType::F32, 1)
        } else {
            let w = row.len();
            self.push_expr(EKind::Row(row), ElemType::F32, w)
        };
        Ok(if ty == ElemType::Bool {
            let w = self.exprs[e].width;
            self.push_expr(EKind::Cast(e, ElemType::Bool), ElemType::Bool, w)
        } else {
            e
        })
    }

    fn scalar(&mut self, s: &ScalarIr) -> E {
        let v = match *s {
            ScalarIr::Float(x) => x,
            ScalarIr::Int(x) => x as f64,
            ScalarIr::UInt(x) => x as f64,
            ScalarIr::Bool(b) => {
                if b {
                    1.0
                } else {
                    0.0
                }
            }
        };
        self.push_expr(EKind::Const(v), ElemType::F32, 1)
    }

    /// Record the result of an element-wise operation, checking its width against the trace.
    fn define(
        &mut self,
        op: &OperationIr,
        out: &TensorIr,
        kind: EKind,
        ty: ElemType,
        args: &[E],
    ) -> Result<(), InferenceError> {
        let w = self.var_width(op, out)?;
        let got = map_width(args.iter().map(|a| self.exprs[*a].width))
            .ok_or_else(|| unsupported(op, "operand widths do not broadcast"))?;
        if got != w && got != 1 {
            return Err(unsupported(
                op,
                format!("result width {w} differs from the operands' {got}"),
            ));
        }
        let e = self.push_expr(kind, ty, w);
        self.vals.insert(out.id, Val::Expr(e));
        Ok(())
    }

    fn float_type(op: &OperationIr, dtype: DType) -> Result<(), InferenceError> {
        if dtype == DType::F32 {
            Ok(())
        } else {
            Err(unsupported(
                op,
                format!("dtype {dtype:?}; only f32 models are supported"),
            ))
        }
    }

    fn unary(&mut self, op: &OperationIr, u: UnaryOp, d: &burn_ir::UnaryOpIr) -> Lr {
        Self::float_type(op, d.out.dtype)?;
        let a = self.operand(op, &d.input)?;
        self.define(op, &d.out, EKind::Unary(u, a), ElemType::F32, &[a])
    }

    fn binary(&mut self, op: &OperationIr, b: BinaryOp, d: &BinaryOpIr) -> Lr {
        Self::float_type(op, d.out.dtype)?;
        if b == BinaryOp::Add && self.fold_bias(op, d)? {
            return Ok(());
        }
        let x = self.operand(op, &d.lhs)?;
        let y = self.operand(op, &d.rhs)?;
        self.define(op, &d.out, EKind::Binary(b, x, y), ElemType::F32, &[x, y])
    }

    fn binary_scalar(&mut self, op: &OperationIr, b: BinaryOp, d: &burn_ir::ScalarOpIr) -> Lr {
        Self::float_type(op, d.out.dtype)?;
        let x = self.operand(op, &d.lhs)?;
        // x^2 is x·x (powf(x, 2) is correctly rounded, so this is exact).
        if b == BinaryOp::Pow && matches!(d.rhs, ScalarIr::Float(v) if v == 2.0) {
            return self.define(
                op,
                &d.out,
                EKind::Binary(BinaryOp::Mul, x, x),
                ElemType::F32,
                &[x],
            );
        }
        let y = self.scalar(&d.rhs);
        self.define(op, &d.out, EKind::Binary(b, x, y), ElemType::F32, &[x, y])
    }

    /// `x^n` for an integer `n`, as Burn's default `float_powi_scalar` computes it: `x·x` for
    /// 2, `1/x` for -1, `1/(x·x)` for -2, `x` for 1, `1` for 0, `powf` otherwise.
    fn powi_scalar(&mut self, op: &OperationIr, d: &burn_ir::ScalarOpIr) -> Lr {
        Self::float_type(op, d.out.dtype)?;
        let x = self.operand(op, &d.lhs)?;
        let n = match d.rhs {
            ScalarIr::Int(n) => n as f64,
            ScalarIr::UInt(n) => n as f64,
            ScalarIr::Float(f) => f,
            ScalarIr::Bool(b) => f64::from(u8::from(b)),
        };
        let w = self.exprs[x].width;
        let kind = if n == 2.0 || n == -2.0 {
            let sq = self.push_expr(EKind::Binary(BinaryOp::Mul, x, x), ElemType::F32, w);
            if n > 0.0 {
                EKind::Widen(sq)
            } else {
                EKind::Unary(UnaryOp::Recip, sq)
            }
        } else if n == 1.0 {
            EKind::Widen(x)
        } else if n == -1.0 {
            EKind::Unary(UnaryOp::Recip, x)
        } else if n == 0.0 {
            let one = self.push_expr(EKind::Const(1.0), ElemType::F32, 1);
            EKind::Widen(one)
        } else {
            let y = self.push_expr(EKind::Const(n), ElemType::F32, 1);
            EKind::Binary(BinaryOp::Pow, x, y)
        };
        self.define(op, &d.out, kind, ElemType::F32, &[x])
    }

    fn compare(&mut self, op: &OperationIr, c: CmpOp, d: &BinaryOpIr) -> Lr {
        let x = self.operand(op, &d.lhs)?;
        let y = self.operand(op, &d.rhs)?;
        self.define(op, &d.out, EKind::Compare(c, x, y), ElemType::Bool, &[x, y])
    }

    fn compare_scalar(&mut self, op: &OperationIr, c: CmpOp, d: &burn_ir::ScalarOpIr) -> Lr {
        let x = self.operand(op, &d.lhs)?;
        let y = self.scalar(&d.rhs);
        self.define(op, &d.out, EKind::Compare(c, x, y), ElemType::Bool, &[x, y])
    }

    fn bool_binary(&mut self, op: &OperationIr, b: BoolOp, d: &BinaryOpIr) -> Lr {
        let x = self.operand(op, &d.lhs)?;
        let y = self.operand(op, &d.rhs)?;
        self.define(op, &d.out, EKind::Bool(b, x, y), ElemType::Bool, &[x, y])
    }

    /// `dense(x) + bias` where the dense has no bias yet and nothing else reads it: put the
    /// bias into the dense node.
    fn fold_bias(&mut self, op: &OperationIr, d: &BinaryOpIr) -> Result<bool, InferenceError> {
        for (dense_t, bias_t) in [(&d.lhs, &d.rhs), (&d.rhs, &d.lhs)] {
            let Some(Val::Node(n)) = self.vals.get(&dense_t.id).copied() else {
                continue;
            };
            if self.biasable.get(&n) != Some(&dense_t.id) || self.is_var(bias_t) {
                continue;
            }
            let Some(c) = self.trace.consts.get(&bias_t.id) else {
                continue;
            };
            let ConstValues::F32(v) = &c.values else {
                continue;
            };
            let width = self.widths[n as usize];
            let row_shaped = c.shape.iter().rev().skip(1).all(|&d| d == 1);
            if !row_shaped || !(v.len() == width || v.len() == 1) {
                continue;
            }
            if self.var_width(op, &d.out)? != width {
                continue;
            }
            let bias = if v.len() == 1 {
                vec![v[0]; width]
            } else {
                v.clone()
            };
            if let Node::Dense { bias: b @ None, .. } = &mut self.nodes[n as usize] {
                *b = Some(bias);
            } else {
                continue;
            }
            self.biasable.remove(&n);
            self.vals.insert(d.out.id, Val::Node(n));
            return Ok(true);
        }
        Ok(false)
    }

    /// A dense layer `x · weight (+ bias)`.
    fn dense(
        &mut self,
        op: &OperationIr,
        x: &TensorIr,
        weight: &TensorIr,
        bias: Option<&TensorIr>,
        out: &TensorIr,
    ) -> Lr {
        Self::float_type(op, out.dtype)?;
        if self.is_var(weight) || bias.is_some_and(|b| self.is_var(b)) {
            return Err(unsupported(
                op,
                "the weight (right-hand side) depends on the input; only products with \
                 constant weights are supported",
            ));
        }
        if !self.is_var(x) {
            return Err(unsupported(
                op,
                "the left-hand side is a constant and the right-hand side depends on the input",
            ));
        }
        let k = self.var_width(op, x)?;
        let n = self.var_width(op, out)?;
        let w = self.constant(op, weight)?;
        let mut wdims = w.shape.clone();
        while wdims.len() > 2 && wdims[0] == 1 {
            wdims.remove(0);
        }
        let ConstValues::F32(wv) = &w.values else {
            return Err(unsupported(op, "a non-float weight"));
        };
        if wdims != [k, n] {
            return Err(unsupported(
                op,
                format!("weight of shape {:?} for {k} → {n} features", w.shape),
            ));
        }
        let weight = wv.clone();
        let bias = match bias {
            None => None,
            Some(b) => {
                let c = self.constant(op, b)?;
                match &c.values {
                    ConstValues::F32(v) if v.len() == n => Some(v.clone()),
                    _ => {
                        return Err(unsupported(
                            op,
                            format!("bias of shape {:?} for {n} features", c.shape),
                        ));
                    }
                }
            }
        };
        let xv = self.vals[&x.id];
        let xn = self.node_of(xv, "a dense layer")?;
        let has_bias = bias.is_some();
        let node = self.push_node(
            Node::Dense {
                x: xn,
                weight,
                n: n as u32,
                bias,
            },
            n,
        );
        if !has_bias && self.uses.get(&out.id) == Some(&1) {
            self.biasable.insert(node, out.id);
        }
        self.vals.insert(out.id, Val::Node(node));
        Ok(())
    }

    fn op(&mut self, op: &OperationIr) -> Lr {
        use BinaryOp as B;
        use UnaryOp as U;
        match op {
            OperationIr::Module(ModuleOperationIr::Linear(d)) => {
                self.dense(op, &d.x, &d.weight, d.bias.as_ref(), &d.out)
            }
            OperationIr::Float(_, FloatOperationIr::Matmul(d)) => {
                self.dense(op, &d.lhs, &d.rhs, None, &d.out)
            }
            OperationIr::NumericFloat(_, n) => match n {
                NumericOperationIr::Add(d) => self.binary(op, B::Add, d),
                NumericOperationIr::AddScalar(d) => self.binary_scalar(op, B::Add, d),
                NumericOperationIr::Sub(d) => self.binary(op, B::Sub, d),
                NumericOperationIr::SubScalar(d) => self.binary_scalar(op, B::Sub, d),
                NumericOperationIr::Mul(d) => self.binary(op, B::Mul, d),
                NumericOperationIr::MulScalar(d) => self.binary_scalar(op, B::Mul, d),
                NumericOperationIr::Div(d) => self.binary(op, B::Div, d),
                NumericOperationIr::DivScalar(d) => self.binary_scalar(op, B::Div, d),
                NumericOperationIr::Rem(d) => self.binary(op, B::RemFloor, d),
                NumericOperationIr::RemScalar(d) => self.binary_scalar(op, B::RemFloor, d),
                NumericOperationIr::Abs(d) => self.unary(op, U::Abs, d),
                NumericOperationIr::Greater(d) => self.compare(op, CmpOp::Gt, d),
                NumericOperationIr::GreaterElem(d) => self.compare_scalar(op, CmpOp::Gt, d),
                NumericOperationIr::GreaterEqual(d) => self.compare(op, CmpOp::Ge, d),
                NumericOperationIr::GreaterEqualElem(d) => self.compare_scalar(op, CmpOp::Ge, d),
                NumericOperationIr::Lower(d) => self.compare(op, CmpOp::Lt, d),
                NumericOperationIr::LowerElem(d) => self.compare_scalar(op, CmpOp::Lt, d),
                NumericOperationIr::LowerEqual(d) => self.compare(op, CmpOp::Le, d),
                NumericOperationIr::LowerEqualElem(d) => self.compare_scalar(op, CmpOp::Le, d),
                NumericOperationIr::PowiScalar(d) => self.powi_scalar(op, d),
                NumericOperationIr::Clamp(d) => {
                    Self::float_type(op, d.out.dtype)?;
                    let x = self.operand(op, &d.tensor)?;
                    let lo = self.scalar(&d.min);
                    let hi = self.scalar(&d.max);
                    self.define(op, &d.out, EKind::Clamp(x, lo, hi), ElemType::F32, &[x])
                }
                _ => Err(unsupported(op, "not an element-wise operation")),
            },
            OperationIr::Float(_, f) => match f {
                FloatOperationIr::Exp(d) => self.unary(op, U::Exp, d),
                FloatOperationIr::Log(d) => self.unary(op, U::Log, d),
                FloatOperationIr::Log1p(d) => self.unary(op, U::Log1p, d),
                FloatOperationIr::Erf(d) => self.unary(op, U::Erf, d),
                FloatOperationIr::Sqrt(d) => self.unary(op, U::Sqrt, d),
                FloatOperationIr::Cos(d) => self.unary(op, U::Cos, d),
                FloatOperationIr::Cosh(d) => self.unary(op, U::Cosh, d),
                FloatOperationIr::Sin(d) => self.unary(op, U::Sin, d),
                FloatOperationIr::Sinh(d) => self.unary(op, U::Sinh, d),
                FloatOperationIr::Tan(d) => self.unary(op, U::Tan, d),
                FloatOperationIr::Tanh(d) => self.unary(op, U::Tanh, d),
                FloatOperationIr::Round(d) => self.unary(op, U::RoundHalfEven, d),
                FloatOperationIr::Floor(d) => self.unary(op, U::Floor, d),
                FloatOperationIr::Ceil(d) => self.unary(op, U::Ceil, d),
                FloatOperationIr::Trunc(d) => self.unary(op, U::Trunc, d),
                FloatOperationIr::Recip(d) => self.unary(op, U::Recip, d),
                FloatOperationIr::PowfScalar(d) => self.binary_scalar(op, B::Pow, d),
                FloatOperationIr::Powf(d) => self.binary(op, B::Pow, d),
                FloatOperationIr::ArcTan2(d) => self.binary(op, B::Atan2, d),
                FloatOperationIr::IsNan(d) => {
                    let x = self.operand(op, &d.input)?;
                    self.define(
                        op,
                        &d.out,
                        EKind::Test(FloatTest::IsNan, x),
                        ElemType::Bool,
                        &[x],
                    )
                }
                FloatOperationIr::IsInf(d) => {
                    let x = self.operand(op, &d.input)?;
                    self.define(
                        op,
                        &d.out,
                        EKind::Test(FloatTest::IsInf, x),
                        ElemType::Bool,
                        &[x],
                    )
                }
                _ => Err(unsupported(
                    op,
                    "no compiled lowering for this float operation",
                )),
            },
            OperationIr::BaseFloat(b) | OperationIr::BaseBool(b) => self.base(op, b),
            OperationIr::Bool(b) => match b {
                BoolOperationIr::And(d) => self.bool_binary(op, BoolOp::And, d),
                BoolOperationIr::Or(d) => self.bool_binary(op, BoolOp::Or, d),
                BoolOperationIr::Not(d) => {
                    let x = self.operand(op, &d.input)?;
                    self.define(
                        op,
                        &d.out,
                        EKind::Bool(BoolOp::Not, x, x),
                        ElemType::Bool,
                        &[x],
                    )
                }
                BoolOperationIr::IntoFloat(d) => {
                    Self::float_type(op, d.out.dtype)?;
                    let x = self.operand(op, &d.input)?;
                    self.define(
                        op,
                        &d.out,
                        EKind::Cast(x, ElemType::F32),
                        ElemType::F32,
                        &[x],
                    )
                }
                BoolOperationIr::IntoInt(_) => Err(unsupported(op, "integer tensors")),
            },
            _ => Err(unsupported(op, "not supported by the inference compiler")),
        }
    }

    fn base(&mut self, op: &OperationIr, b: &BaseOperationIr) -> Lr {
        let is_bool = matches!(op, OperationIr::BaseBool(_));
        match b {
            BaseOperationIr::Equal(d) if is_bool => self.bool_binary(op, BoolOp::Eq, d),
            BaseOperationIr::Equal(d) => self.compare(op, CmpOp::Eq, d),
            BaseOperationIr::EqualElem(d) if !is_bool => self.compare_scalar(op, CmpOp::Eq, d),
            BaseOperationIr::MaskWhere(d) => {
                let c = self.operand(op, &d.mask)?;
                let t = self.operand(op, &d.value)?;
                let o = self.operand(op, &d.tensor)?;
                let ty = if is_bool {
                    ElemType::Bool
                } else {
                    ElemType::F32
                };
                self.define(op, &d.out, EKind::Select(c, t, o), ty, &[c, t, o])
            }
            BaseOperationIr::MaskFill(d) if !is_bool => {
                let c = self.operand(op, &d.mask)?;
                let t = self.scalar(&d.value);
                let o = self.operand(op, &d.tensor)?;
                self.define(
                    op,
                    &d.out,
                    EKind::Select(c, t, o),
                    ElemType::F32,
                    &[c, t, o],
                )
            }
            BaseOperationIr::Cast(d) => {
                if d.input.dtype == d.out.dtype {
                    let v = self.vals[&d.input.id];
                    self.vals.insert(d.out.id, v);
                    Ok(())
                } else {
                    Err(unsupported(
                        op,
                        format!("a cast from {:?} to {:?}", d.input.dtype, d.out.dtype),
                    ))
                }
            }
            BaseOperationIr::Reshape(d) => {
                if d.input.shape == d.out.shape {
                    self.var_width(op, &d.out)?;
                    let v = self.vals[&d.input.id];
                    self.vals.insert(d.out.id, v);
                    Ok(())
                } else {
                    Err(unsupported(
                        op,
                        format!(
                            "reshaping an input-dependent tensor from {:?} to {:?}",
                            d.input.shape.to_vec(),
                            d.out.shape.to_vec()
                        ),
                    ))
                }
            }
            BaseOperationIr::Expand(d) => {
                let x = self.operand(op, &d.input)?;
                let w = self.var_width(op, &d.out)?;
                let xw = self.exprs[x].width;
                if xw != 1 && xw != w {
                    return Err(unsupported(op, "expanding a dimension that is not 1"));
                }
                let ty = self.exprs[x].ty;
                let e = self.push_expr(EKind::Widen(x), ty, w);
                self.vals.insert(d.out.id, Val::Expr(e));
                Ok(())
            }
            BaseOperationIr::Cat(d) if !is_bool => {
                if d.dim != 1 {
                    return Err(unsupported(
                        op,
                        "concatenating along the batch dimension; only dim 1 (features) is \
                         supported",
                    ));
                }
                let w = self.var_width(op, &d.out)?;
                let mut parts = Vec::with_capacity(d.tensors.len());
                for t in &d.tensors {
                    let e = self.operand(op, t)?;
                    let v = Val::Expr(e);
                    parts.push(self.node_of(v, "a concatenation")?);
                }
                let sum: usize = parts.iter().map(|p| self.widths[*p as usize]).sum();
                if sum != w {
                    return Err(unsupported(op, "part widths do not add up"));
                }
                let node = self.push_node(Node::Concat { parts }, w);
                self.vals.insert(d.out.id, Val::Node(node));
                Ok(())
            }
            BaseOperationIr::Slice(d) if !is_bool => {
                let src_w = self.var_width(op, &d.tensor)?;
                let w = self.var_width(op, &d.out)?;
                let ranges: Vec<(usize, usize, isize)> = d
                    .ranges
                    .iter()
                    .zip([TRACE_ROWS, src_w])
                    .map(|(s, size)| {
                        let norm = |i: isize| {
                            if i < 0 {
                                (i + size as isize).max(0) as usize
                            } else {
                                (i as usize).min(size)
                            }
                        };
                        (norm(s.start), s.end.map_or(size, norm), s.step)
                    })
                    .collect();
                let rows_ok = ranges
                    .first()
                    .is_none_or(|&(s, e, step)| s == 0 && e == TRACE_ROWS && step == 1);
                let (start, step) = ranges.get(1).map_or((0, 1), |&(s, _, step)| (s, step));
                if !rows_ok || step != 1 || d.ranges.len() > 2 {
                    return Err(unsupported(
                        op,
                        "slicing the batch dimension or with a step; only contiguous column \
                         ranges are supported",
                    ));
                }
                let v = self.vals[&d.tensor.id];
                let x = self.node_of(v, "a slice")?;
                let node = self.push_node(
                    Node::Slice {
                        x,
                        start: start as u32,
                        len: w as u32,
                    },
                    w,
                );
                self.vals.insert(d.out.id, Val::Node(node));
                Ok(())
            }
            _ => Err(unsupported(op, "not supported by the inference compiler")),
        }
    }
}

type Lr = Result<(), InferenceError>;

fn children(k: &EKind) -> Vec<E> {
    match k {
        EKind::Leaf(_) | EKind::Row(_) | EKind::Const(_) => vec![],
        EKind::Unary(_, a) | EKind::Test(_, a) | EKind::Cast(a, _) | EKind::Widen(a) => vec![*a],
        EKind::Binary(_, a, b) | EKind::Compare(_, a, b) | EKind::Bool(_, a, b) => vec![*a, *b],
        EKind::Select(a, b, c) | EKind::Clamp(a, b, c) => vec![*a, *b, *c],
    }
}
