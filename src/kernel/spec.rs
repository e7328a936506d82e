//! The kernel specification: a fused element-wise chain as a small SSA program.
//!
//! A [`KernelSpec`] is what the fusers hand to the code generator. It holds no Burn types and
//! knows nothing of tensors' concrete sizes: it says which values are read (inputs and runtime
//! scalars), which scalar operations combine them, and which values are written. Everything is
//! evaluated *per element*: the kernel visits each element of the output shape once, reads each
//! input at that element (broadcasting is expressed by the strides the runtime passes, not by the
//! spec), runs the program, and stores the outputs.
//!
//! Two specs that are equal compile to the same machine code, so the spec (together with the
//! layout classes of its bindings, see [`LayoutClass`]) is the kernel cache key.

use core::fmt;

/// Element types a kernel can read, compute on and write.
///
/// Floats are IEEE-754; `Bool` is stored as one byte per element (`0` or `1`) in memory and as a
/// lane mask while computing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ElemType {
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// Boolean, one byte per element in memory (`0`/`1`).
    Bool,
}

impl ElemType {
    /// Size of one element in memory, in bytes.
    pub const fn size(self) -> usize {
        match self {
            ElemType::F32 => 4,
            ElemType::F64 => 8,
            ElemType::Bool => 1,
        }
    }

    /// Whether this is a floating-point type.
    pub const fn is_float(self) -> bool {
        matches!(self, ElemType::F32 | ElemType::F64)
    }
}

/// Index of an instruction in [`KernelSpec::body`]; each instruction defines one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub u32);

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// Float → float operations. All follow Rust's `f32`/`f64` std semantics (NaN in, NaN out),
/// except where noted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnaryOp {
    /// `-x` (flips the sign bit, also of NaN and zero).
    Neg,
    /// `|x|` (clears the sign bit).
    Abs,
    /// `1 / x`.
    Recip,
    /// `sqrt(x)`; NaN for `x < 0`, `-0.0` for `-0.0`.
    Sqrt,
    /// `e^x`.
    Exp,
    /// Natural logarithm; `-inf` at `±0`, NaN below zero.
    Log,
    /// `ln(1 + x)`, accurate near zero.
    Log1p,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic function `1 / (1 + e^-x)`.
    Sigmoid,
    /// Sine (radians).
    Sin,
    /// Cosine (radians).
    Cos,
    /// Tangent (radians).
    Tan,
    /// Hyperbolic sine.
    Sinh,
    /// Hyperbolic cosine.
    Cosh,
    /// Error function.
    Erf,
    /// Round toward −∞.
    Floor,
    /// Round toward +∞.
    Ceil,
    /// Round toward zero.
    Trunc,
    /// Round to nearest, ties to even (`f32::round_ties_even`): `round(2.5) == 2.0`,
    /// `round(-0.5) == -0.0`, as burn-flex and burn-ndarray round.
    RoundHalfEven,
    /// Sign: `1` for `x > 0`, `-1` for `x < 0`, `0` for `±0` (keeps zero's sign), NaN for NaN.
    Sign,
}

/// (float, float) → float operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
    /// Remainder with the sign of the divisor (Python/PyTorch `%`): `((a % b) + b) % b`,
    /// where `%` is Rust's truncated remainder.
    RemFloor,
    /// `a.powf(b)` with Rust's special cases (`x^0 == 1` even for NaN, `1^y == 1`, negative base
    /// with non-integer exponent is NaN, negative base with integer exponent keeps the sign rule).
    Pow,
    /// Rust's `f32::max`: if one operand is NaN, the other is returned.
    Max,
    /// Rust's `f32::min`: if one operand is NaN, the other is returned.
    Min,
    /// `atan2(a, b)` (angle of the point `(b, a)`).
    Atan2,
}

/// Comparisons (float, float) → bool. Any comparison with NaN is false, except `Ne`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CmpOp {
    /// `a == b`.
    Eq,
    /// `a != b`.
    Ne,
    /// `a > b`.
    Gt,
    /// `a >= b`.
    Ge,
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
}

/// Boolean operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BoolOp {
    /// Logical and.
    And,
    /// Logical or.
    Or,
    /// Logical not (unary: the second operand is ignored and must equal the first).
    Not,
    /// `a == b` on booleans.
    Eq,
}

impl UnaryOp {
    /// Every unary operation, in a fixed order: an operation's index is its code in callouts and
    /// in saved model files, so new operations are only ever appended.
    pub const ALL: [UnaryOp; 20] = {
        use UnaryOp::*;
        [
            Neg,
            Abs,
            Recip,
            Sqrt,
            Exp,
            Log,
            Log1p,
            Tanh,
            Sigmoid,
            Sin,
            Cos,
            Tan,
            Sinh,
            Cosh,
            Erf,
            Floor,
            Ceil,
            Trunc,
            RoundHalfEven,
            Sign,
        ]
    };

    /// This operation's index in [`UnaryOp::ALL`].
    pub fn code(self) -> u32 {
        code_in(&Self::ALL, self)
    }

    /// The operation with index `code` in [`UnaryOp::ALL`], if any.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }
}

impl BinaryOp {
    /// Every binary operation, in a fixed order (codes as for [`UnaryOp::ALL`]).
    pub const ALL: [BinaryOp; 9] = {
        use BinaryOp::*;
        [Add, Sub, Mul, Div, RemFloor, Pow, Max, Min, Atan2]
    };

    /// This operation's index in [`BinaryOp::ALL`].
    pub fn code(self) -> u32 {
        code_in(&Self::ALL, self)
    }

    /// The operation with index `code` in [`BinaryOp::ALL`], if any.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }
}

impl CmpOp {
    /// Every comparison, in a fixed order (codes as for [`UnaryOp::ALL`]).
    pub const ALL: [CmpOp; 6] = {
        use CmpOp::*;
        [Eq, Ne, Gt, Ge, Lt, Le]
    };
}

impl BoolOp {
    /// Every boolean operation, in a fixed order (codes as for [`UnaryOp::ALL`]).
    pub const ALL: [BoolOp; 4] = [BoolOp::And, BoolOp::Or, BoolOp::Not, BoolOp::Eq];
}

/// The index of `op` in `all`.
fn code_in<T: PartialEq + fmt::Debug>(all: &[T], op: T) -> u32 {
    all.iter()
        .position(|o| *o == op)
        .unwrap_or_else(|| panic!("{op:?} is missing from its ALL table")) as u32
}

/// Float classification predicates, float → bool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FloatTest {
    /// `x.is_nan()`.
    IsNan,
    /// `x.is_infinite()`.
    IsInf,
}

/// One instruction; it defines the value whose [`ValueId`] is its index in the body.
///
/// The type of each value follows from its instruction: `Input` has the input's type, `Scalar`
/// and `Const` have the kernel's float type, `Compare`/`Test`/`Bool` give `Bool`, `Select` has
/// the type of its branches, `Cast` the target type, everything else the kernel's float type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Inst {
    /// The element of input `n` ([`KernelSpec::inputs`]) at the current position.
    Input(u32),
    /// Runtime scalar `n`, passed to every call as an `f64` and converted to the kernel's float
    /// type (so one compiled kernel serves every value of, say, a learning rate).
    Scalar(u32),
    /// A constant fixed at compile time, converted to the kernel's float type.
    Const(f64),
    /// A float → float operation.
    Unary(UnaryOp, ValueId),
    /// A (float, float) → float operation.
    Binary(BinaryOp, ValueId, ValueId),
    /// A float comparison giving a bool.
    Compare(CmpOp, ValueId, ValueId),
    /// A float classification giving a bool.
    Test(FloatTest, ValueId),
    /// A boolean operation (for `Not`, both operands are the same value).
    Bool(BoolOp, ValueId, ValueId),
    /// `if cond { a } else { b }`, element-wise; `a` and `b` have the same type.
    Select {
        /// A bool value.
        cond: ValueId,
        /// Taken where `cond` is true.
        then: ValueId,
        /// Taken where `cond` is false.
        otherwise: ValueId,
    },
    /// `clamp(x, lo, hi)` with Rust's `f32::clamp` semantics: NaN stays NaN.
    Clamp {
        /// The value.
        x: ValueId,
        /// Lower bound.
        lo: ValueId,
        /// Upper bound.
        hi: ValueId,
    },
    /// Conversion between element types: bool → the kernel's float type gives `0`/`1`;
    /// float → bool is `x != 0` (NaN is true). Casting a value to its own type is the identity.
    Cast(ValueId, ElemType),
}

impl Eq for Inst {}

impl core::hash::Hash for Inst {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        core::mem::discriminant(self).hash(state);
        match *self {
            Inst::Input(n) | Inst::Scalar(n) => n.hash(state),
            Inst::Const(c) => c.to_bits().hash(state),
            Inst::Unary(op, a) => (op, a).hash(state),
            Inst::Binary(op, a, b) => (op, a, b).hash(state),
            Inst::Compare(op, a, b) => (op, a, b).hash(state),
            Inst::Test(op, a) => (op, a).hash(state),
            Inst::Bool(op, a, b) => (op, a, b).hash(state),
            Inst::Select {
                cond,
                then,
                otherwise,
            } => (cond, then, otherwise).hash(state),
            Inst::Clamp { x, lo, hi } => (x, lo, hi).hash(state),
            Inst::Cast(a, ty) => (a, ty).hash(state),
        }
    }
}

/// A value the kernel stores to an output buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Output {
    /// The value to store.
    pub value: ValueId,
    /// The element type of the output buffer; equals the value's type.
    pub ty: ElemType,
}

/// A fused element-wise chain.
///
/// Invariants (checked by [`KernelSpec::validate`]): every operand refers to an earlier
/// instruction; operand types match what the instruction expects; inputs and scalars referenced
/// exist; every output's type is its value's type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelSpec {
    /// The float type all float arithmetic is done in (`F32` or `F64`).
    pub float: ElemType,
    /// Element types of the inputs, in binding order.
    pub inputs: Vec<ElemType>,
    /// Number of runtime scalars.
    pub num_scalars: u32,
    /// The program, in SSA form: instruction `i` defines `ValueId(i)`.
    pub body: Vec<Inst>,
    /// What is written, in binding order (outputs are bound after the inputs).
    pub outputs: Vec<Output>,
}

/// How one binding (input or output) is laid out along the innermost (column) dimension of the
/// 2-D iteration space a kernel runs over. Part of the compiled kernel's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LayoutClass {
    /// Column stride 1: consecutive elements, loaded and stored as vectors.
    Contiguous,
    /// Column stride 0: one value per row, loaded once and splatted.
    Broadcast,
    /// Any other column stride (negative included): gathered element by element.
    Strided,
}

/// A spec that breaks one of [`KernelSpec`]'s invariants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// The offending instruction, if any.
    pub at: Option<ValueId>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(f, "invalid kernel spec at {at}: {}", self.message),
            None => write!(f, "invalid kernel spec: {}", self.message),
        }
    }
}

impl std::error::Error for SpecError {}

impl KernelSpec {
    /// The element type of every value in the body, in order.
    ///
    /// # Panics
    /// If the spec is malformed; call [`KernelSpec::validate`] first on untrusted specs.
    pub fn value_types(&self) -> Vec<ElemType> {
        self.try_value_types().expect("malformed kernel spec")
    }

    /// Check the spec's invariants.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.try_value_types().map(|_| ())
    }

    fn try_value_types(&self) -> Result<Vec<ElemType>, SpecError> {
        let err = |at: usize, message: String| SpecError {
            at: Some(ValueId(at as u32)),
            message,
        };
        if !self.float.is_float() {
            return Err(SpecError {
                at: None,
                message: format!("kernel float type must be F32 or F64, not {:?}", self.float),
            });
        }
        if let Some(bad) = self
            .inputs
            .iter()
            .find(|&&ty| ty != self.float && ty != ElemType::Bool)
        {
            return Err(SpecError {
                at: None,
                message: format!(
                    "inputs must be {:?} or Bool, found {bad:?} (cast it before the kernel)",
                    self.float
                ),
            });
        }
        let mut types: Vec<ElemType> = Vec::with_capacity(self.body.len());
        for (i, inst) in self.body.iter().enumerate() {
            let operand = |v: ValueId| -> Result<ElemType, SpecError> {
                types
                    .get(v.0 as usize)
                    .copied()
                    .ok_or_else(|| err(i, format!("operand {v} is not defined before use")))
            };
            let float = |v: ValueId| -> Result<(), SpecError> {
                let ty = operand(v)?;
                if ty == self.float {
                    Ok(())
                } else {
                    Err(err(
                        i,
                        format!("operand {v} has type {ty:?}, expected {:?}", self.float),
                    ))
                }
            };
            let boolean = |v: ValueId| -> Result<(), SpecError> {
                match operand(v)? {
                    ElemType::Bool => Ok(()),
                    ty => Err(err(
                        i,
                        format!("operand {v} has type {ty:?}, expected Bool"),
                    )),
                }
            };
            let ty = match *inst {
                Inst::Input(n) => *self
                    .inputs
                    .get(n as usize)
                    .ok_or_else(|| err(i, format!("input {n} does not exist")))?,
                Inst::Scalar(n) => {
                    if n >= self.num_scalars {
                        return Err(err(i, format!("scalar {n} does not exist")));
                    }
                    self.float
                }
                Inst::Const(_) => self.float,
                Inst::Unary(_, a) => {
                    float(a)?;
                    self.float
                }
                Inst::Binary(_, a, b) => {
                    float(a)?;
                    float(b)?;
                    self.float
                }
                Inst::Compare(_, a, b) => {
                    float(a)?;
                    float(b)?;
                    ElemType::Bool
                }
                Inst::Test(_, a) => {
                    float(a)?;
                    ElemType::Bool
                }
                Inst::Bool(op, a, b) => {
                    boolean(a)?;
                    boolean(b)?;
                    if op == BoolOp::Not && a != b {
                        return Err(err(i, "Not takes one operand, given twice".into()));
                    }
                    ElemType::Bool
                }
                Inst::Select {
                    cond,
                    then,
                    otherwise,
                } => {
                    boolean(cond)?;
                    let (a, b) = (operand(then)?, operand(otherwise)?);
                    if a != b {
                        return Err(err(i, format!("select branches differ: {a:?} vs {b:?}")));
                    }
                    a
                }
                Inst::Clamp { x, lo, hi } => {
                    float(x)?;
                    float(lo)?;
                    float(hi)?;
                    self.float
                }
                Inst::Cast(a, to) => {
                    let from = operand(a)?;
                    let ok = from == to
                        || (from == self.float && to == ElemType::Bool)
                        || (from == ElemType::Bool && to == self.float);
                    if !ok {
                        return Err(err(i, format!("cannot cast {from:?} to {to:?}")));
                    }
                    to
                }
            };
            types.push(ty);
        }
        for (k, out) in self.outputs.iter().enumerate() {
            let ty = types.get(out.value.0 as usize).copied().ok_or(SpecError {
                at: None,
                message: format!("output {k} refers to undefined value {}", out.value),
            })?;
            if ty != out.ty {
                return Err(SpecError {
                    at: None,
                    message: format!("output {k} declared {:?} but value is {ty:?}", out.ty),
                });
            }
        }
        Ok(types)
    }

    /// Number of bindings (inputs, then outputs).
    pub fn num_bindings(&self) -> usize {
        self.inputs.len() + self.outputs.len()
    }
}

impl fmt::Display for KernelSpec {
    /// A readable listing, one instruction a line, used by `PINN_JIT_LOG=1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "kernel({:?}; inputs {:?}; {} scalars)",
            self.float, self.inputs, self.num_scalars
        )?;
        for (i, inst) in self.body.iter().enumerate() {
            writeln!(f, "  %{i} = {inst:?}")?;
        }
        for (k, out) in self.outputs.iter().enumerate() {
            writeln!(f, "  out{k}: {:?} <- {}", out.ty, out.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes are a file format (`inference::file`): pinned here, one `match` arm per
    /// variant, so a new variant does not compile until it is given a new code, and a reordered
    /// `ALL` table fails.
    #[test]
    fn codes_are_stable_and_round_trip() {
        fn unary(op: UnaryOp) -> u32 {
            use UnaryOp::*;
            match op {
                Neg => 0,
                Abs => 1,
                Recip => 2,
                Sqrt => 3,
                Exp => 4,
                Log => 5,
                Log1p => 6,
                Tanh => 7,
                Sigmoid => 8,
                Sin => 9,
                Cos => 10,
                Tan => 11,
                Sinh => 12,
                Cosh => 13,
                Erf => 14,
                Floor => 15,
                Ceil => 16,
                Trunc => 17,
                RoundHalfEven => 18,
                Sign => 19,
            }
        }
        fn binary(op: BinaryOp) -> u32 {
            use BinaryOp::*;
            match op {
                Add => 0,
                Sub => 1,
                Mul => 2,
                Div => 3,
                RemFloor => 4,
                Pow => 5,
                Max => 6,
                Min => 7,
                Atan2 => 8,
            }
        }
        for op in UnaryOp::ALL {
            assert_eq!(op.code(), unary(op), "{op:?}");
        }
        for op in BinaryOp::ALL {
            assert_eq!(op.code(), binary(op), "{op:?}");
        }
        let unique = |n: usize, mut v: Vec<String>| {
            v.sort();
            v.dedup();
            assert_eq!(v.len(), n, "duplicate entries");
        };
        unique(20, UnaryOp::ALL.iter().map(|o| format!("{o:?}")).collect());
        unique(9, BinaryOp::ALL.iter().map(|o| format!("{o:?}")).collect());
        unique(6, CmpOp::ALL.iter().map(|o| format!("{o:?}")).collect());
        unique(4, BoolOp::ALL.iter().map(|o| format!("{o:?}")).collect());
        for (i, &op) in UnaryOp::ALL.iter().enumerate() {
            assert_eq!(op.code() as usize, i);
            assert_eq!(UnaryOp::from_code(op.code()), Some(op));
        }
        for (i, &op) in BinaryOp::ALL.iter().enumerate() {
            assert_eq!(op.code() as usize, i);
            assert_eq!(BinaryOp::from_code(op.code()), Some(op));
        }
        assert_eq!(UnaryOp::from_code(20), None);
        assert_eq!(BinaryOp::from_code(9), None);
    }
}
