//! Which Burn operations an element-wise kernel can take, and what each becomes.
//!
//! [`classify`] looks at one [`OperationIr`] and, if it is element-wise and of a type the
//! kernels handle, returns a [`Planned`] node: the scalar operation, its operands (tensors or
//! runtime scalars) and its output. It reads nothing but the operation, so the fuser can ask
//! before committing to anything.

use burn_backend::DType;
use burn_ir::{
    BaseOperationIr, BinaryOpIr, BoolOperationIr, ClampOpIr, FloatOperationIr, MaskFillOpIr,
    MaskWhereOpIr, NumericOperationIr, OperationIr, ScalarIr, ScalarOpIr, TensorIr, UnaryOpIr,
};
use burn_std::BoolStore;

use crate::kernel::{BinaryOp, BoolOp, CmpOp, ElemType, FloatTest, UnaryOp};

/// The scalar operation a planned node performs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Node {
    /// float → float.
    Unary(UnaryOp),
    /// (float, float) → float.
    Binary(BinaryOp),
    /// (float, float) → bool.
    Compare(CmpOp),
    /// float → bool.
    Test(FloatTest),
    /// (bool, bool) → bool, or `Not` with one operand.
    Bool(BoolOp),
    /// (cond, then, otherwise).
    Select,
    /// (x, lo, hi).
    Clamp,
    /// bool → float.
    BoolToFloat,
}

/// One operand of a planned node.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a> {
    /// A tensor, read element-wise (broadcast to the output's shape).
    Tensor(&'a TensorIr),
    /// A runtime scalar; in the relative stream the fuser sees, its value is an id into the
    /// execution context's scalar table.
    Scalar(&'a ScalarIr),
}

/// An operation the element-wise kernels can take.
#[derive(Clone, Debug)]
pub struct Planned<'a> {
    /// What it computes.
    pub node: Node,
    /// Its operands, in the order [`Node`] lists them.
    pub operands: Vec<Operand<'a>>,
    /// The tensor it defines.
    pub out: &'a TensorIr,
    /// The float type it computes in, if it touches floats.
    pub float: Option<ElemType>,
}

/// The kernel element type of a Burn dtype, if kernels can read and write it.
pub fn elem_type(dtype: DType) -> Option<ElemType> {
    match dtype {
        DType::F32 => Some(ElemType::F32),
        DType::F64 => Some(ElemType::F64),
        DType::Bool(BoolStore::Native | BoolStore::U8) => Some(ElemType::Bool),
        _ => None,
    }
}

fn float_type(dtype: DType) -> Option<ElemType> {
    elem_type(dtype).filter(|t| t.is_float())
}

fn unary(op: UnaryOp, desc: &UnaryOpIr) -> Option<Planned<'_>> {
    let float = float_type(desc.input.dtype)?;
    (float_type(desc.out.dtype)? == float).then(|| Planned {
        node: Node::Unary(op),
        operands: vec![Operand::Tensor(&desc.input)],
        out: &desc.out,
        float: Some(float),
    })
}

fn binary(op: BinaryOp, desc: &BinaryOpIr) -> Option<Planned<'_>> {
    let float = float_type(desc.lhs.dtype)?;
    (float_type(desc.rhs.dtype)? == float && float_type(desc.out.dtype)? == float).then(|| {
        Planned {
            node: Node::Binary(op),
            operands: vec![Operand::Tensor(&desc.lhs), Operand::Tensor(&desc.rhs)],
            out: &desc.out,
            float: Some(float),
        }
    })
}

fn binary_scalar(op: BinaryOp, desc: &ScalarOpIr) -> Option<Planned<'_>> {
    let float = float_type(desc.lhs.dtype)?;
    (float_type(desc.out.dtype)? == float && is_numeric_scalar(&desc.rhs)).then(|| Planned {
        node: Node::Binary(op),
        operands: vec![Operand::Tensor(&desc.lhs), Operand::Scalar(&desc.rhs)],
        out: &desc.out,
        float: Some(float),
    })
}

fn compare(op: CmpOp, desc: &BinaryOpIr) -> Option<Planned<'_>> {
    let float = float_type(desc.lhs.dtype)?;
    (float_type(desc.rhs.dtype)? == float && elem_type(desc.out.dtype)? == ElemType::Bool).then(
        || Planned {
            node: Node::Compare(op),
            operands: vec![Operand::Tensor(&desc.lhs), Operand::Tensor(&desc.rhs)],
            out: &desc.out,
            float: Some(float),
        },
    )
}

fn compare_scalar(op: CmpOp, desc: &ScalarOpIr) -> Option<Planned<'_>> {
    let float = float_type(desc.lhs.dtype)?;
    (elem_type(desc.out.dtype)? == ElemType::Bool && is_numeric_scalar(&desc.rhs)).then(|| {
        Planned {
            node: Node::Compare(op),
            operands: vec![Operand::Tensor(&desc.lhs), Operand::Scalar(&desc.rhs)],
            out: &desc.out,
            float: Some(float),
        }
    })
}

fn test(op: FloatTest, desc: &UnaryOpIr) -> Option<Planned<'_>> {
    let float = float_type(desc.input.dtype)?;
    (elem_type(desc.out.dtype)? == ElemType::Bool).then(|| Planned {
        node: Node::Test(op),
        operands: vec![Operand::Tensor(&desc.input)],
        out: &desc.out,
        float: Some(float),
    })
}

fn clamp(desc: &ClampOpIr) -> Option<Planned<'_>> {
    let float = float_type(desc.tensor.dtype)?;
    (float_type(desc.out.dtype)? == float
        && is_numeric_scalar(&desc.min)
        && is_numeric_scalar(&desc.max))
    .then(|| Planned {
        node: Node::Clamp,
        operands: vec![
            Operand::Tensor(&desc.tensor),
            Operand::Scalar(&desc.min),
            Operand::Scalar(&desc.max),
        ],
        out: &desc.out,
        float: Some(float),
    })
}

fn mask_where(desc: &MaskWhereOpIr) -> Option<Planned<'_>> {
    let ty = elem_type(desc.tensor.dtype)?;
    let ok = elem_type(desc.value.dtype)? == ty
        && elem_type(desc.out.dtype)? == ty
        && elem_type(desc.mask.dtype)? == ElemType::Bool;
    ok.then(|| Planned {
        node: Node::Select,
        operands: vec![
            Operand::Tensor(&desc.mask),
            Operand::Tensor(&desc.value),
            Operand::Tensor(&desc.tensor),
        ],
        out: &desc.out,
        float: ty.is_float().then_some(ty),
    })
}

fn mask_fill(desc: &MaskFillOpIr) -> Option<Planned<'_>> {
    let float = float_type(desc.tensor.dtype)?;
    let ok = float_type(desc.out.dtype)? == float
        && elem_type(desc.mask.dtype)? == ElemType::Bool
        && is_numeric_scalar(&desc.value);
    ok.then(|| Planned {
        node: Node::Select,
        operands: vec![
            Operand::Tensor(&desc.mask),
            Operand::Scalar(&desc.value),
            Operand::Tensor(&desc.tensor),
        ],
        out: &desc.out,
        float: Some(float),
    })
}

fn bool_binary(op: BoolOp, desc: &BinaryOpIr) -> Option<Planned<'_>> {
    let ok = elem_type(desc.lhs.dtype)? == ElemType::Bool
        && elem_type(desc.rhs.dtype)? == ElemType::Bool
        && elem_type(desc.out.dtype)? == ElemType::Bool;
    ok.then(|| Planned {
        node: Node::Bool(op),
        operands: vec![Operand::Tensor(&desc.lhs), Operand::Tensor(&desc.rhs)],
        out: &desc.out,
        float: None,
    })
}

/// Scalars are passed to kernels as `f64`; booleans never reach the relative stream (burn-fusion
/// refuses them), but be explicit.
fn is_numeric_scalar(s: &ScalarIr) -> bool {
    !matches!(s, ScalarIr::Bool(_))
}

/// What `op` becomes in an element-wise kernel, or `None` if kernels cannot take it.
pub fn classify(op: &OperationIr) -> Option<Planned<'_>> {
    use BinaryOp as B;
    use UnaryOp as U;
    match op {
        OperationIr::NumericFloat(_, op) => match op {
            NumericOperationIr::Add(d) => binary(B::Add, d),
            NumericOperationIr::AddScalar(d) => binary_scalar(B::Add, d),
            NumericOperationIr::Sub(d) => binary(B::Sub, d),
            NumericOperationIr::SubScalar(d) => binary_scalar(B::Sub, d),
            NumericOperationIr::Mul(d) => binary(B::Mul, d),
            NumericOperationIr::MulScalar(d) => binary_scalar(B::Mul, d),
            NumericOperationIr::Div(d) => binary(B::Div, d),
            NumericOperationIr::DivScalar(d) => binary_scalar(B::Div, d),
            NumericOperationIr::Rem(d) => binary(B::RemFloor, d),
            NumericOperationIr::RemScalar(d) => binary_scalar(B::RemFloor, d),
            NumericOperationIr::Abs(d) => unary(U::Abs, d),
            NumericOperationIr::Greater(d) => compare(CmpOp::Gt, d),
            NumericOperationIr::GreaterElem(d) => compare_scalar(CmpOp::Gt, d),
            NumericOperationIr::GreaterEqual(d) => compare(CmpOp::Ge, d),
            NumericOperationIr::GreaterEqualElem(d) => compare_scalar(CmpOp::Ge, d),
            NumericOperationIr::Lower(d) => compare(CmpOp::Lt, d),
            NumericOperationIr::LowerElem(d) => compare_scalar(CmpOp::Lt, d),
            NumericOperationIr::LowerEqual(d) => compare(CmpOp::Le, d),
            NumericOperationIr::LowerEqualElem(d) => compare_scalar(CmpOp::Le, d),
            NumericOperationIr::Clamp(d) => clamp(d),
            _ => None,
        },
        OperationIr::Float(_, op) => match op {
            FloatOperationIr::Exp(d) => unary(U::Exp, d),
            FloatOperationIr::Log(d) => unary(U::Log, d),
            FloatOperationIr::Log1p(d) => unary(U::Log1p, d),
            FloatOperationIr::Erf(d) => unary(U::Erf, d),
            FloatOperationIr::Sqrt(d) => unary(U::Sqrt, d),
            FloatOperationIr::Cos(d) => unary(U::Cos, d),
            FloatOperationIr::Cosh(d) => unary(U::Cosh, d),
            FloatOperationIr::Sin(d) => unary(U::Sin, d),
            FloatOperationIr::Sinh(d) => unary(U::Sinh, d),
            FloatOperationIr::Tan(d) => unary(U::Tan, d),
            FloatOperationIr::Tanh(d) => unary(U::Tanh, d),
            FloatOperationIr::Round(d) => unary(U::RoundHalfEven, d),
            FloatOperationIr::Floor(d) => unary(U::Floor, d),
            // Not fused: burn-fusion 0.21.0 turns `Trunc` into `Ceil` when it makes the stream
            // relative (stream/context.rs), so a relative `Ceil` may be either. Both run eagerly
            // from their exact global descriptions instead.
            FloatOperationIr::Ceil(_) | FloatOperationIr::Trunc(_) => None,
            FloatOperationIr::Recip(d) => unary(U::Recip, d),
            FloatOperationIr::PowfScalar(d) => binary_scalar(B::Pow, d),
            FloatOperationIr::Powf(d) => binary(B::Pow, d),
            FloatOperationIr::IsNan(d) => test(FloatTest::IsNan, d),
            FloatOperationIr::IsInf(d) => test(FloatTest::IsInf, d),
            _ => None,
        },
        OperationIr::BaseFloat(op) => match op {
            BaseOperationIr::Equal(d) => compare(CmpOp::Eq, d),
            BaseOperationIr::EqualElem(d) => compare_scalar(CmpOp::Eq, d),
            BaseOperationIr::MaskWhere(d) => mask_where(d),
            BaseOperationIr::MaskFill(d) => mask_fill(d),
            _ => None,
        },
        OperationIr::BaseBool(op) => match op {
            BaseOperationIr::Equal(d) => bool_binary(BoolOp::Eq, d),
            BaseOperationIr::MaskWhere(d) => mask_where(d),
            _ => None,
        },
        OperationIr::Bool(op) => match op {
            BoolOperationIr::And(d) => bool_binary(BoolOp::And, d),
            BoolOperationIr::Or(d) => bool_binary(BoolOp::Or, d),
            BoolOperationIr::Not(d) => {
                let ok = elem_type(d.input.dtype)? == ElemType::Bool
                    && elem_type(d.out.dtype)? == ElemType::Bool;
                ok.then(|| Planned {
                    node: Node::Bool(BoolOp::Not),
                    operands: vec![Operand::Tensor(&d.input)],
                    out: &d.out,
                    float: None,
                })
            }
            BoolOperationIr::IntoFloat(d) => {
                let float = float_type(d.out.dtype)?;
                (elem_type(d.input.dtype)? == ElemType::Bool).then(|| Planned {
                    node: Node::BoolToFloat,
                    operands: vec![Operand::Tensor(&d.input)],
                    out: &d.out,
                    float: Some(float),
                })
            }
            _ => None,
        },
        _ => None,
    }
}
