//! Element-wise code: one [`KernelSpec`] evaluated on `f32x4` lanes (bools as `i32x4` lane
//! masks), with the semantics of the kernel interpreter ([`crate::kernel::interp`]).
//!
//! Exact operations are native vector instructions; `exp`, `log`, `log1p`, `tanh`, `sigmoid`
//! `sin`, `cos` use [`crate::codegen::math`]'s inline approximations (`sin`/`cos` with an exact
//! callout for vectors holding a lane beyond their reduction range); the rest call
//! [`super::callout`] once per vector.

use cranelift_codegen::ir::{
    FuncRef, InstBuilder, StackSlot, Type, Value, condcodes::FloatCC, types,
};
use cranelift_frontend::FunctionBuilder;

use crate::codegen::math::{
    Em, MathCx, TRIG_REDUCTION_LIMIT_F32, emit_cos, emit_exp, emit_log, emit_log1p, emit_sigmoid,
    emit_sin,
};
use crate::kernel::{BinaryOp, BoolOp, CmpOp, ElemType, FloatTest, Inst, KernelSpec, UnaryOp};

/// What element-wise code may call.
#[derive(Clone, Copy)]
pub(crate) struct Calls {
    pub unary: FuncRef,
    pub binary: FuncRef,
    /// A 32-byte, 16-aligned stack slot the callouts work in.
    pub slot: StackSlot,
    /// The target's pointer type.
    pub ptr_ty: Type,
}

/// Where the element-wise code finds its constant tables (in the model's data).
#[derive(Clone, Copy)]
pub(crate) struct Tables {
    /// [`super::activation::tanh_table`].
    pub tanh: Value,
}

/// How a unary operation is compiled here.
pub(crate) fn unary_is_inline(op: UnaryOp) -> bool {
    !matches!(
        op,
        UnaryOp::Tan | UnaryOp::Sinh | UnaryOp::Cosh | UnaryOp::Erf
    )
}

/// How a binary operation is compiled here.
pub(crate) fn binary_is_inline(op: BinaryOp) -> bool {
    !matches!(op, BinaryOp::RemFloor | BinaryOp::Pow | BinaryOp::Atan2)
}

/// The first operation of `spec` that calls out of the generated code (named as in
/// [`UnaryOp`]/[`BinaryOp`]'s `Debug`): one without an inline lowering, or `sin`/`cos`, whose
/// huge-argument path calls the callout.
pub(crate) fn first_callout_op(spec: &KernelSpec) -> Option<String> {
    spec.body.iter().find_map(|i| match *i {
        Inst::Unary(op, _) if !unary_is_inline(op) || matches!(op, UnaryOp::Sin | UnaryOp::Cos) => {
            Some(format!("{op:?}"))
        }
        Inst::Binary(op, ..) if !binary_is_inline(op) => Some(format!("{op:?}")),
        _ => None,
    })
}

/// Whether `spec` needs the callouts.
pub(crate) fn needs_calls(spec: &KernelSpec) -> bool {
    first_callout_op(spec).is_some()
}

/// Evaluate `spec` on `inputs` (one `f32x4` per spec input); returns the `f32x4` output.
/// May create blocks (the sin/cos range check); the builder ends in the block holding the result.
pub(crate) fn emit_spec(
    b: &mut FunctionBuilder,
    cx: MathCx,
    spec: &KernelSpec,
    inputs: &[Value],
    calls: Option<Calls>,
    tables: Tables,
) -> Value {
    let types = spec.value_types();
    let mut v: Vec<Value> = Vec::with_capacity(spec.body.len());
    for (idx, inst) in spec.body.iter().enumerate() {
        let r = match *inst {
            Inst::Input(n) => inputs[n as usize],
            Inst::Scalar(_) => unreachable!("inference specs have no runtime scalars"),
            Inst::Const(c) => Em::new(b, cx).fc(types::F32X4, c),
            Inst::Unary(op, a) => unary(b, cx, op, v[a.0 as usize], calls, tables),
            Inst::Binary(op, x, y) => binary(b, cx, op, v[x.0 as usize], v[y.0 as usize], calls),
            Inst::Compare(op, x, y) => {
                let cc = match op {
                    CmpOp::Eq => FloatCC::Equal,
                    CmpOp::Ne => FloatCC::NotEqual,
                    CmpOp::Gt => FloatCC::GreaterThan,
                    CmpOp::Ge => FloatCC::GreaterThanOrEqual,
                    CmpOp::Lt => FloatCC::LessThan,
                    CmpOp::Le => FloatCC::LessThanOrEqual,
                };
                b.ins().fcmp(cc, v[x.0 as usize], v[y.0 as usize])
            }
            Inst::Test(op, a) => {
                let x = v[a.0 as usize];
                match op {
                    FloatTest::IsNan => b.ins().fcmp(FloatCC::Unordered, x, x),
                    FloatTest::IsInf => {
                        let mut e = Em::new(b, cx);
                        let ax = e.abs(x);
                        let inf = e.fc(types::F32X4, f64::INFINITY);
                        e.cmp(FloatCC::Equal, ax, inf)
                    }
                }
            }
            Inst::Bool(op, x, y) => {
                let (x, y) = (v[x.0 as usize], v[y.0 as usize]);
                match op {
                    BoolOp::And => b.ins().band(x, y),
                    BoolOp::Or => b.ins().bor(x, y),
                    BoolOp::Not => b.ins().bnot(x),
                    BoolOp::Eq => {
                        let d = b.ins().bxor(x, y);
                        b.ins().bnot(d)
                    }
                }
            }
            Inst::Select {
                cond,
                then,
                otherwise,
            } => {
                let (c, t, o) = (
                    v[cond.0 as usize],
                    v[then.0 as usize],
                    v[otherwise.0 as usize],
                );
                Em::new(b, cx).select(c, t, o)
            }
            Inst::Clamp { x, lo, hi } => {
                let (x, lo, hi) = (v[x.0 as usize], v[lo.0 as usize], v[hi.0 as usize]);
                let mut e = Em::new(b, cx);
                let below = e.cmp(FloatCC::LessThan, x, lo);
                let r = e.select(below, lo, x);
                let above = e.cmp(FloatCC::GreaterThan, r, hi);
                e.select(above, hi, r)
            }
            Inst::Cast(a, to) => {
                let x = v[a.0 as usize];
                let from = types[a.0 as usize];
                match (from, to) {
                    (f, t) if f == t => x,
                    (ElemType::Bool, _) => {
                        let mut e = Em::new(b, cx);
                        let one = e.fc(types::F32X4, 1.0);
                        let ob = e.bits(one);
                        let m = e.b.ins().band(x, ob);
                        e.float_of_bits(types::F32X4, m)
                    }
                    (_, ElemType::Bool) => {
                        let mut e = Em::new(b, cx);
                        e.cmp_k(FloatCC::NotEqual, x, 0.0)
                    }
                    _ => unreachable!("F64 casts are rejected by graph validation"),
                }
            }
        };
        debug_assert!(idx == v.len());
        v.push(r);
    }
    v[spec.outputs[0].value.0 as usize]
}

/// Store `a` (and `b`) to the callout slot, call, and load the result.
fn call_lanes(
    b: &mut FunctionBuilder,
    f: FuncRef,
    code: i64,
    args: &[Value],
    calls: Calls,
) -> Value {
    let slot = calls.slot;
    for (i, a) in args.iter().enumerate() {
        b.ins().stack_store(calls.ptr_ty, *a, slot, (16 * i) as i32);
    }
    let addr = b.ins().stack_addr(calls.ptr_ty, slot, 0);
    let code = b.ins().iconst(types::I32, code);
    b.ins().call(f, &[code, addr]);
    b.ins().stack_load(calls.ptr_ty, types::F32X4, slot, 0)
}

fn unary(
    b: &mut FunctionBuilder,
    cx: MathCx,
    op: UnaryOp,
    x: Value,
    calls: Option<Calls>,
    tables: Tables,
) -> Value {
    let mut e = Em::new(b, cx);
    match op {
        UnaryOp::Neg => e.neg(x),
        UnaryOp::Abs => e.abs(x),
        UnaryOp::Recip => {
            let one = e.c(x, 1.0);
            e.div(one, x)
        }
        UnaryOp::Sqrt => e.b.ins().sqrt(x),
        UnaryOp::Exp => emit_exp(b, cx, x),
        UnaryOp::Log => emit_log(b, cx, x),
        UnaryOp::Log1p => emit_log1p(b, cx, x),
        UnaryOp::Tanh => super::activation::emit_tanh(b, cx, x, tables.tanh),
        UnaryOp::Sigmoid => emit_sigmoid(b, cx, x),
        UnaryOp::Floor => e.b.ins().floor(x),
        UnaryOp::Ceil => e.b.ins().ceil(x),
        UnaryOp::Trunc => e.b.ins().trunc(x),
        UnaryOp::RoundHalfEven => e.b.ins().nearest(x),
        UnaryOp::Sign => {
            // 1 for x > 0, -1 for x < 0, x itself for ±0 and NaN.
            let one = e.c(x, 1.0);
            let m_one = e.c(x, -1.0);
            let zero = e.c(x, 0.0);
            let pos = e.cmp(FloatCC::GreaterThan, x, zero);
            let neg = e.cmp(FloatCC::LessThan, x, zero);
            let r = e.select(neg, m_one, x);
            e.select(pos, one, r)
        }
        UnaryOp::Sin | UnaryOp::Cos => {
            let calls = calls.expect("needs_calls covers sin/cos");
            let cos = op == UnaryOp::Cos;
            // A lane beyond the inline reduction's range sends the vector to the exact callout
            // (NaN and ±inf give NaN inline).
            let ax = e.abs(x);
            let out = e.cmp_k(FloatCC::GreaterThan, ax, TRIG_REDUCTION_LIMIT_F32);
            let any = b.ins().vany_true(out);
            let slow = b.create_block();
            let fast = b.create_block();
            let join = b.create_block();
            let res = b.append_block_param(join, types::F32X4);
            b.ins().brif(any, slow, &[], fast, &[]);
            b.switch_to_block(slow);
            b.seal_block(slow);
            let r = call_lanes(b, calls.unary, i64::from(op.code()), &[x], calls);
            b.ins().jump(join, &[r.into()]);
            b.switch_to_block(fast);
            b.seal_block(fast);
            let r = if cos {
                emit_cos(b, cx, x)
            } else {
                emit_sin(b, cx, x)
            };
            b.ins().jump(join, &[r.into()]);
            b.switch_to_block(join);
            b.seal_block(join);
            res
        }
        UnaryOp::Tan | UnaryOp::Sinh | UnaryOp::Cosh | UnaryOp::Erf => {
            let calls = calls.expect("needs_calls covers callout ops");
            call_lanes(b, calls.unary, i64::from(op.code()), &[x], calls)
        }
    }
}

fn binary(
    b: &mut FunctionBuilder,
    cx: MathCx,
    op: BinaryOp,
    x: Value,
    y: Value,
    calls: Option<Calls>,
) -> Value {
    let mut e = Em::new(b, cx);
    match op {
        BinaryOp::Add => e.add(x, y),
        BinaryOp::Sub => e.sub(x, y),
        BinaryOp::Mul => e.mul(x, y),
        BinaryOp::Div => e.div(x, y),
        BinaryOp::Max | BinaryOp::Min => {
            // Rust's f32::max/min (a NaN operand yields the other), with -0 < +0.
            let max = op == BinaryOp::Max;
            let cc = if max {
                FloatCC::GreaterThan
            } else {
                FloatCC::LessThan
            };
            let better = e.cmp(cc, x, y);
            let r = e.select(better, x, y);
            let eq = e.cmp(FloatCC::Equal, x, y);
            let (xb, yb) = (e.bits(x), e.bits(y));
            let tie = if max {
                e.b.ins().band(xb, yb)
            } else {
                e.b.ins().bor(xb, yb)
            };
            let tie = e.float_of_bits(types::F32X4, tie);
            let r = e.select(eq, tie, r);
            let y_nan = e.cmp(FloatCC::Unordered, y, y);
            e.select(y_nan, x, r)
        }
        BinaryOp::RemFloor | BinaryOp::Pow | BinaryOp::Atan2 => {
            let calls = calls.expect("needs_calls covers callout ops");
            call_lanes(b, calls.binary, i64::from(op.code()), &[x, y], calls)
        }
    }
}
