//! Lowering a [`KernelSpec`] to Cranelift IR: the loop nest, loads and stores per
//! [`LayoutClass`], and one vector instruction sequence per spec instruction.
//!
//! The function walks rows in an outer loop and columns in an inner loop whose body exists
//! once: a *vector* step loads `W` columns (4 for `F32` kernels, 2 for `F64`), a *tail* step
//! loads a single column and splats it; both jump to the same compute block, which then stores
//! `W` lanes or lane 0. The tail therefore computes bit-for-bit what the vector step computes,
//! and never touches memory past the last column.

use cranelift_codegen::ir::{
    self, AbiParam, FuncRef, InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind,
    Type, Value,
    condcodes::{FloatCC, IntCC},
    types,
};
use cranelift_frontend::FunctionBuilder;

use super::math::{self, Em, MathCx, le};
use crate::kernel::{
    BinaryOp, BoolOp, CmpOp, ElemType, FloatTest, Inst, KernelSpec, LayoutClass, UnaryOp,
};

/// How an operation is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// One or a few native vector instructions; bit-exact with the interpreter.
    Native,
    /// An inline polynomial approximation (see [`super::math`] for its error bound).
    Inline,
    /// A call to the Rust std function (through the interpreter), once per vector: bit-exact
    /// with the interpreter, but slower and it spills live vector registers.
    Callout,
}

/// How `op` is compiled in a kernel whose float type is `float`.
pub fn unary_strategy(op: UnaryOp, float: ElemType) -> Strategy {
    use UnaryOp::*;
    match op {
        Neg | Abs | Recip | Sqrt | Floor | Ceil | Trunc | RoundHalfEven | Sign => Strategy::Native,
        Exp | Log | Log1p | Tanh | Sigmoid | Sin | Cos if float == ElemType::F32 => {
            Strategy::Inline
        }
        _ => Strategy::Callout,
    }
}

/// How `op` is compiled in a kernel whose float type is `float`.
pub fn binary_strategy(op: BinaryOp, _float: ElemType) -> Strategy {
    use BinaryOp::*;
    match op {
        Add | Sub | Mul | Div | Max | Min => Strategy::Native,
        RemFloor | Pow | Atan2 => Strategy::Callout,
    }
}

/// Which callout functions a spec needs (unary, binary).
pub(crate) fn needed_callouts(spec: &KernelSpec) -> (bool, bool) {
    let mut need = (false, false);
    for inst in &spec.body {
        match *inst {
            Inst::Unary(op, _) if unary_strategy(op, spec.float) == Strategy::Callout => {
                need.0 = true
            }
            // Inline sin/cos fall back to std for vectors with huge arguments.
            Inst::Unary(UnaryOp::Sin | UnaryOp::Cos, _) => need.0 = true,
            Inst::Binary(op, ..) if binary_strategy(op, spec.float) == Strategy::Callout => {
                need.1 = true
            }
            _ => {}
        }
    }
    need
}

/// The signature shared by the callouts: `(op: i32, lanes: *mut T)`.
pub(crate) fn callout_signature(sig: &mut ir::Signature, ptr_ty: Type) {
    sig.params.push(AbiParam::new(types::I32));
    sig.params.push(AbiParam::new(ptr_ty));
}

/// The imported callouts available to the function being built.
pub(crate) struct Callouts {
    pub unary: Option<FuncRef>,
    pub binary: Option<FuncRef>,
}

/// Memory flags for reading the [`crate::kernel::KernelArgs`] fields and arrays.
fn args_flags() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly()
}

/// Memory flags for element loads and stores (in bounds by the `KernelArgs` contract).
fn data_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

struct Binding {
    ty: ElemType,
    class: LayoutClass,
    base: Value,
    /// Row stride in bytes.
    row_stride: Value,
    /// Column stride in bytes (`Strided` only).
    col_stride: Option<Value>,
}

struct Lower<'a, 'f> {
    b: &'a mut FunctionBuilder<'f>,
    cx: MathCx,
    spec: &'a KernelSpec,
    ptr_ty: Type,
    /// Vector float type (`f32x4` or `f64x2`).
    fty: Type,
    /// Vector mask type (`i32x4` or `i64x2`).
    mty: Type,
    lanes: u8,
    callouts: Callouts,
    slot: Option<StackSlot>,
}

/// Emit the whole kernel function into `b` (whose function has the signature
/// `fn(args: *const KernelArgs)`); `spec` must be valid and `layout` have one class per binding.
pub(crate) fn lower_kernel(
    b: &mut FunctionBuilder,
    spec: &KernelSpec,
    layout: &[LayoutClass],
    cx: MathCx,
    ptr_ty: Type,
    callouts: Callouts,
) {
    let (fty, mty, lanes) = match spec.float {
        ElemType::F32 => (types::F32X4, types::I32X4, 4),
        _ => (types::F64X2, types::I64X2, 2),
    };
    let slot = (callouts.unary.is_some() || callouts.binary.is_some())
        .then(|| b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 32, 4)));
    let mut l = Lower {
        b,
        cx,
        spec,
        ptr_ty,
        fty,
        mty,
        lanes,
        callouts,
        slot,
    };
    l.kernel(layout);
}

/// Which body values the outputs depend on.
fn live_values(spec: &KernelSpec) -> Vec<bool> {
    let mut live = vec![false; spec.body.len()];
    for out in &spec.outputs {
        live[out.value.0 as usize] = true;
    }
    for i in (0..spec.body.len()).rev() {
        if !live[i] {
            continue;
        }
        let mut mark = |v: crate::kernel::ValueId| live[v.0 as usize] = true;
        match spec.body[i] {
            Inst::Input(_) | Inst::Scalar(_) | Inst::Const(_) => {}
            Inst::Unary(_, a) | Inst::Test(_, a) | Inst::Cast(a, _) => mark(a),
            Inst::Binary(_, a, c) | Inst::Compare(_, a, c) | Inst::Bool(_, a, c) => {
                mark(a);
                mark(c)
            }
            Inst::Select {
                cond,
                then,
                otherwise,
            } => {
                mark(cond);
                mark(then);
                mark(otherwise)
            }
            Inst::Clamp { x, lo, hi } => {
                mark(x);
                mark(lo);
                mark(hi)
            }
        }
    }
    live
}

impl Lower<'_, '_> {
    fn elem_clif(&self, ty: ElemType) -> Type {
        match ty {
            ElemType::F32 => types::F32,
            ElemType::F64 => types::F64,
            ElemType::Bool => types::I8,
        }
    }

    /// The in-register vector type of a value of element type `ty`.
    fn vec_ty(&self, ty: ElemType) -> Type {
        if ty == ElemType::Bool {
            self.mty
        } else {
            self.fty
        }
    }

    fn kernel(&mut self, layout: &[LayoutClass]) {
        let spec = self.spec;
        let ptr = self.ptr_ty;
        let pb = ptr.bytes() as i32;
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let args = self.b.block_params(entry)[0];
        let af = args_flags();
        let ptrs = self.b.ins().load(ptr, af, args, 0);
        let row_strides = self.b.ins().load(ptr, af, args, pb);
        let col_strides = self.b.ins().load(ptr, af, args, 2 * pb);
        let scalars = self.b.ins().load(ptr, af, args, 3 * pb);
        let rows = self.b.ins().load(ptr, af, args, 4 * pb);
        let cols = self.b.ins().load(ptr, af, args, 5 * pb);

        let types: Vec<ElemType> = spec
            .inputs
            .iter()
            .copied()
            .chain(spec.outputs.iter().map(|o| o.ty))
            .collect();
        let mut bindings = Vec::with_capacity(types.len());
        for (i, (&ty, &class)) in types.iter().zip(layout).enumerate() {
            let off = i as i32 * pb;
            let base = self.b.ins().load(ptr, af, ptrs, off);
            let shift = ty.size().trailing_zeros() as i64;
            let rs = self.b.ins().load(ptr, af, row_strides, off);
            let row_stride = self.b.ins().ishl_imm_u(rs, shift);
            let col_stride = (class == LayoutClass::Strided).then(|| {
                let cs = self.b.ins().load(ptr, af, col_strides, off);
                self.b.ins().ishl_imm_u(cs, shift)
            });
            bindings.push(Binding {
                ty,
                class,
                base,
                row_stride,
                col_stride,
            });
        }

        let live = live_values(spec);
        // Loop-invariant values: runtime scalars and constants, splatted once.
        let mut invariant: Vec<Option<Value>> = vec![None; spec.body.len()];
        for (i, inst) in spec.body.iter().enumerate() {
            if !live[i] {
                continue;
            }
            match *inst {
                Inst::Scalar(n) => {
                    let s = self.b.ins().load(types::F64, af, scalars, 8 * n as i32);
                    let s = if spec.float == ElemType::F32 {
                        self.b.ins().fdemote(types::F32, s)
                    } else {
                        s
                    };
                    invariant[i] = Some(self.b.ins().splat(self.fty, s));
                }
                Inst::Const(c) => {
                    let mut e = Em::new(self.b, self.cx);
                    invariant[i] = Some(e.fc(self.fty, c));
                }
                _ => {}
            }
        }
        // Which inputs are read per element (the rest are broadcast or unused).
        let mut used_inputs = vec![false; spec.inputs.len()];
        for (i, inst) in spec.body.iter().enumerate() {
            if let Inst::Input(n) = *inst {
                used_inputs[n as usize] |= live[i];
            }
        }
        let streamed: Vec<usize> = (0..spec.inputs.len())
            .filter(|&n| used_inputs[n] && bindings[n].class != LayoutClass::Broadcast)
            .collect();

        let row_hdr = self.b.create_block();
        let col_hdr = self.b.create_block();
        let vec_load = self.b.create_block();
        let tail_check = self.b.create_block();
        let tail_load = self.b.create_block();
        let compute = self.b.create_block();
        let st_vec = self.b.create_block();
        let st_tail = self.b.create_block();
        let row_next = self.b.create_block();
        let exit = self.b.create_block();
        let r = self.b.append_block_param(row_hdr, types::I64);
        let c = self.b.append_block_param(col_hdr, types::I64);
        let cc = self.b.append_block_param(compute, types::I64);
        let is_tail = self.b.append_block_param(compute, types::I8);
        let loaded: Vec<Value> = streamed
            .iter()
            .map(|&n| {
                let ty = self.vec_ty(bindings[n].ty);
                self.b.append_block_param(compute, ty)
            })
            .collect();

        // entry: nothing to do for an empty iteration space.
        let no_rows = self.b.ins().icmp_imm_s(IntCC::Equal, rows, 0);
        let no_cols = self.b.ins().icmp_imm_s(IntCC::Equal, cols, 0);
        let empty = self.b.ins().bor(no_rows, no_cols);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().brif(empty, exit, &[], row_hdr, &[zero.into()]);

        // row_hdr(r): row base pointers, broadcast loads.
        self.b.switch_to_block(row_hdr);
        let row_ptrs: Vec<Value> = bindings
            .iter()
            .map(|bd| {
                let off = self.b.ins().imul(r, bd.row_stride);
                self.b.ins().iadd(bd.base, off)
            })
            .collect();
        let mut per_row: Vec<Option<Value>> = vec![None; spec.inputs.len()];
        for n in 0..spec.inputs.len() {
            if used_inputs[n] && bindings[n].class == LayoutClass::Broadcast {
                per_row[n] = Some(self.load_splat(bindings[n].ty, row_ptrs[n]));
            }
        }
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().jump(col_hdr, &[zero.into()]);

        // col_hdr(c): a full vector left?
        self.b.switch_to_block(col_hdr);
        let c_end = self.b.ins().iadd_imm_s(c, self.lanes as i64);
        let fits = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, c_end, cols);
        self.b.ins().brif(fits, vec_load, &[], tail_check, &[]);

        // vec_load: W lanes of every streamed input.
        self.b.switch_to_block(vec_load);
        let mut vals: Vec<ir::BlockArg> = vec![c.into()];
        let no = self.b.ins().iconst(types::I8, 0);
        vals.push(no.into());
        for &n in &streamed {
            let v = self.load_vector(&bindings[n], row_ptrs[n], c);
            vals.push(v.into());
        }
        self.b.ins().jump(compute, &vals);

        // tail_check / tail_load: one column, splatted.
        self.b.switch_to_block(tail_check);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, c, cols);
        self.b.ins().brif(more, tail_load, &[], row_next, &[]);
        self.b.switch_to_block(tail_load);
        let mut vals: Vec<ir::BlockArg> = vec![c.into()];
        let yes = self.b.ins().iconst(types::I8, 1);
        vals.push(yes.into());
        for &n in &streamed {
            let addr = self.elem_addr(&bindings[n], row_ptrs[n], c);
            let v = self.load_splat(bindings[n].ty, addr);
            vals.push(v.into());
        }
        self.b.ins().jump(compute, &vals);

        // compute(c, is_tail, inputs…): the body, once.
        self.b.switch_to_block(compute);
        let mut v: Vec<Option<Value>> = vec![None; spec.body.len()];
        for (i, inst) in spec.body.iter().enumerate() {
            if !live[i] {
                continue;
            }
            v[i] = Some(match *inst {
                Inst::Input(n) => {
                    let n = n as usize;
                    match per_row[n] {
                        Some(x) => x,
                        None => loaded[streamed.iter().position(|&s| s == n).expect("streamed")],
                    }
                }
                Inst::Scalar(_) | Inst::Const(_) => invariant[i].expect("hoisted"),
                _ => self.inst(inst, &v),
            });
        }
        let outs: Vec<Value> = spec
            .outputs
            .iter()
            .map(|o| v[o.value.0 as usize].expect("live output"))
            .collect();
        self.b.ins().brif(is_tail, st_tail, &[], st_vec, &[]);

        // st_vec / st_tail: write W lanes or lane 0, then advance.
        let ni = spec.inputs.len();
        self.b.switch_to_block(st_vec);
        for (k, &x) in outs.iter().enumerate() {
            self.store_vector(&bindings[ni + k], row_ptrs[ni + k], cc, x);
        }
        let next = self.b.ins().iadd_imm_s(cc, self.lanes as i64);
        self.b.ins().jump(col_hdr, &[next.into()]);
        self.b.switch_to_block(st_tail);
        for (k, &x) in outs.iter().enumerate() {
            let addr = self.elem_addr(&bindings[ni + k], row_ptrs[ni + k], cc);
            self.store_lane(bindings[ni + k].ty, x, 0, addr);
        }
        let next = self.b.ins().iadd_imm_s(cc, 1);
        self.b.ins().jump(col_hdr, &[next.into()]);

        // row_next: advance the row or leave.
        self.b.switch_to_block(row_next);
        let r1 = self.b.ins().iadd_imm_s(r, 1);
        let more_rows = self.b.ins().icmp(IntCC::UnsignedLessThan, r1, rows);
        self.b
            .ins()
            .brif(more_rows, row_hdr, &[r1.into()], exit, &[]);

        self.b.switch_to_block(exit);
        self.b.ins().return_(&[]);
        self.b.seal_all_blocks();
    }

    /// Address of column `c` of a binding (its row pointer for `Broadcast`).
    fn elem_addr(&mut self, bd: &Binding, row_ptr: Value, c: Value) -> Value {
        match bd.class {
            LayoutClass::Broadcast => row_ptr,
            LayoutClass::Contiguous => {
                let off = self
                    .b
                    .ins()
                    .ishl_imm_u(c, bd.ty.size().trailing_zeros() as i64);
                self.b.ins().iadd(row_ptr, off)
            }
            LayoutClass::Strided => {
                let off = self.b.ins().imul(c, bd.col_stride.expect("strided"));
                self.b.ins().iadd(row_ptr, off)
            }
        }
    }

    /// Load one element at `addr` and splat it into a full vector (a lane mask for bools).
    fn load_splat(&mut self, ty: ElemType, addr: Value) -> Value {
        let ety = self.elem_clif(ty);
        let x = self.b.ins().load(ety, data_flags(), addr, 0);
        if ty == ElemType::Bool {
            let t = self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0);
            let m = self.b.ins().bmask(self.mty.lane_type(), t);
            self.b.ins().splat(self.mty, m)
        } else {
            self.b.ins().splat(self.fty, x)
        }
    }

    /// Load `W` consecutive columns starting at `c`.
    fn load_vector(&mut self, bd: &Binding, row_ptr: Value, c: Value) -> Value {
        let addr = self.elem_addr(bd, row_ptr, c);
        let df = data_flags();
        match (bd.class, bd.ty) {
            (LayoutClass::Broadcast, ty) => self.load_splat(ty, addr),
            (LayoutClass::Contiguous, ElemType::Bool) => {
                // W bytes → zero-extended lanes → mask.
                let raw = if self.lanes == 4 {
                    self.b.ins().load(types::I32, df, addr, 0)
                } else {
                    let h = self.b.ins().load(types::I16, df, addr, 0);
                    self.b.ins().uextend(types::I32, h)
                };
                let v = self.b.ins().scalar_to_vector(types::I32X4, raw);
                let mut v = self.b.ins().bitcast(types::I8X16, le(), v);
                while self.b.func.dfg.value_type(v) != self.mty {
                    v = self.b.ins().uwiden_low(v);
                }
                self.bytes_to_mask(v)
            }
            (LayoutClass::Contiguous, _) => self.b.ins().load(self.fty, df, addr, 0),
            (LayoutClass::Strided, ty) => {
                let cs = bd.col_stride.expect("strided");
                let vty = self.vec_ty(ty);
                let lane_ty = vty.lane_type();
                let mut a = addr;
                let mut v = None;
                for i in 0..self.lanes {
                    if i > 0 {
                        a = self.b.ins().iadd(a, cs);
                    }
                    let ety = self.elem_clif(ty);
                    let x = self.b.ins().load(ety, df, a, 0);
                    let x = if ty == ElemType::Bool {
                        self.b.ins().uextend(lane_ty, x)
                    } else {
                        x
                    };
                    v = Some(match v {
                        None => self.b.ins().splat(vty, x),
                        Some(v) => self.b.ins().insertlane(v, x, i),
                    });
                }
                let v = v.expect("at least one lane");
                if ty == ElemType::Bool {
                    self.bytes_to_mask(v)
                } else {
                    v
                }
            }
        }
    }

    /// Lanes holding byte values → all-ones where non-zero.
    fn bytes_to_mask(&mut self, v: Value) -> Value {
        let mut e = Em::new(self.b, self.cx);
        let zero = e.ic(self.mty, 0);
        self.b.ins().icmp(IntCC::NotEqual, v, zero)
    }

    /// Store lane `lane` of `x` (element type `ty`) at `addr`.
    fn store_lane(&mut self, ty: ElemType, x: Value, lane: u8, addr: Value) {
        let s = self.b.ins().extractlane(x, lane);
        let s = if ty == ElemType::Bool {
            let s = self.b.ins().ireduce(types::I8, s);
            self.b.ins().band_imm_u(s, 1)
        } else {
            s
        };
        self.b.ins().store(data_flags(), s, addr, 0);
    }

    /// Store `W` consecutive columns starting at `c`.
    fn store_vector(&mut self, bd: &Binding, row_ptr: Value, c: Value, x: Value) {
        let addr = self.elem_addr(bd, row_ptr, c);
        let df = data_flags();
        match (bd.class, bd.ty) {
            // Sequential semantics: the last column written wins.
            (LayoutClass::Broadcast, ty) => self.store_lane(ty, x, self.lanes - 1, addr),
            (LayoutClass::Contiguous, ElemType::Bool) if self.lanes == 4 => {
                let mut e = Em::new(self.b, self.cx);
                let one = e.ic(self.mty, 1);
                let v = self.b.ins().band(x, one);
                let v = self.b.ins().snarrow(v, v);
                let v = self.b.ins().snarrow(v, v);
                let v = self.b.ins().bitcast(types::I32X4, le(), v);
                let w = self.b.ins().extractlane(v, 0);
                self.b.ins().store(df, w, addr, 0);
            }
            (LayoutClass::Contiguous, ElemType::Bool) => {
                for i in 0..self.lanes {
                    let a = self.b.ins().iadd_imm_s(addr, i as i64);
                    self.store_lane(ElemType::Bool, x, i, a);
                }
            }
            (LayoutClass::Contiguous, _) => {
                self.b.ins().store(df, x, addr, 0);
            }
            (LayoutClass::Strided, ty) => {
                let cs = bd.col_stride.expect("strided");
                let mut a = addr;
                for i in 0..self.lanes {
                    if i > 0 {
                        a = self.b.ins().iadd(a, cs);
                    }
                    self.store_lane(ty, x, i, a);
                }
            }
        }
    }

    /// Lower one instruction (not `Input`, `Scalar`, `Const`).
    fn inst(&mut self, inst: &Inst, v: &[Option<Value>]) -> Value {
        let get = |id: crate::kernel::ValueId| v[id.0 as usize].expect("operand is live");
        match *inst {
            Inst::Unary(op, a) => self.unary(op, get(a)),
            Inst::Binary(op, a, c) => self.binary(op, get(a), get(c)),
            Inst::Compare(op, a, c) => {
                let cc = match op {
                    CmpOp::Eq => FloatCC::Equal,
                    CmpOp::Ne => FloatCC::NotEqual,
                    CmpOp::Gt => FloatCC::GreaterThan,
                    CmpOp::Ge => FloatCC::GreaterThanOrEqual,
                    CmpOp::Lt => FloatCC::LessThan,
                    CmpOp::Le => FloatCC::LessThanOrEqual,
                };
                self.b.ins().fcmp(cc, get(a), get(c))
            }
            Inst::Test(op, a) => {
                let x = get(a);
                match op {
                    FloatTest::IsNan => self.b.ins().fcmp(FloatCC::Unordered, x, x),
                    FloatTest::IsInf => {
                        let mut e = Em::new(self.b, self.cx);
                        let ax = e.abs(x);
                        let inf = e.c(x, f64::INFINITY);
                        e.cmp(FloatCC::Equal, ax, inf)
                    }
                }
            }
            Inst::Bool(op, a, c) => {
                let (x, y) = (get(a), get(c));
                match op {
                    BoolOp::And => self.b.ins().band(x, y),
                    BoolOp::Or => self.b.ins().bor(x, y),
                    BoolOp::Not => self.b.ins().bnot(x),
                    BoolOp::Eq => {
                        let d = self.b.ins().bxor(x, y);
                        self.b.ins().bnot(d)
                    }
                }
            }
            Inst::Select {
                cond,
                then,
                otherwise,
            } => {
                let mut e = Em::new(self.b, self.cx);
                e.select(get(cond), get(then), get(otherwise))
            }
            Inst::Clamp { x, lo, hi } => {
                let (x, lo, hi) = (get(x), get(lo), get(hi));
                let mut e = Em::new(self.b, self.cx);
                let below = e.cmp(FloatCC::LessThan, x, lo);
                let x = e.select(below, lo, x);
                let above = e.cmp(FloatCC::GreaterThan, x, hi);
                e.select(above, hi, x)
            }
            Inst::Cast(a, to) => {
                let x = get(a);
                let from = self.b.func.dfg.value_type(x);
                match (from == self.mty, to == ElemType::Bool) {
                    (true, true) | (false, false) => x,
                    (true, false) => {
                        let mut e = Em::new(self.b, self.cx);
                        let one = e.fc(self.fty, 1.0);
                        let one = e.bits(one);
                        let m = self.b.ins().band(x, one);
                        self.b.ins().bitcast(self.fty, le(), m)
                    }
                    (false, true) => {
                        let mut e = Em::new(self.b, self.cx);
                        e.cmp_k(FloatCC::NotEqual, x, 0.0)
                    }
                }
            }
            Inst::Input(_) | Inst::Scalar(_) | Inst::Const(_) => {
                unreachable!("leaf instructions are lowered by the caller")
            }
        }
    }

    fn unary(&mut self, op: UnaryOp, x: Value) -> Value {
        use UnaryOp::*;
        let float = self.spec.float;
        if unary_strategy(op, float) == Strategy::Callout {
            let f = self.callouts.unary.expect("unary callout declared");
            return self.callout(f, op.code(), x, None);
        }
        let cx = self.cx;
        match op {
            Neg => self.b.ins().fneg(x),
            Abs => self.b.ins().fabs(x),
            Sqrt => self.b.ins().sqrt(x),
            Floor => self.b.ins().floor(x),
            Ceil => self.b.ins().ceil(x),
            Trunc => self.b.ins().trunc(x),
            RoundHalfEven => self.b.ins().nearest(x),
            Recip => {
                let mut e = Em::new(self.b, cx);
                let one = e.c(x, 1.0);
                e.div(one, x)
            }
            Sign => {
                let mut e = Em::new(self.b, cx);
                let one = e.c(x, 1.0);
                let m_one = e.c(x, -1.0);
                let pos = e.cmp_k(FloatCC::GreaterThan, x, 0.0);
                let neg = e.cmp_k(FloatCC::LessThan, x, 0.0);
                let r = e.select(neg, m_one, x);
                e.select(pos, one, r)
            }
            Exp => math::emit_exp(self.b, cx, x),
            Log => math::emit_log(self.b, cx, x),
            Log1p => math::emit_log1p(self.b, cx, x),
            Tanh => math::emit_tanh(self.b, cx, x),
            Sigmoid => math::emit_sigmoid(self.b, cx, x),
            Sin | Cos => {
                let fast = if op == Sin {
                    math::emit_sin(self.b, cx, x)
                } else {
                    math::emit_cos(self.b, cx, x)
                };
                // Lanes beyond the reduction's range are computed with std.
                let mut e = Em::new(self.b, cx);
                let ax = e.abs(x);
                let big = e.cmp_k(FloatCC::GreaterThan, ax, math::TRIG_REDUCTION_LIMIT_F32);
                let any = self.b.ins().vany_true(big);
                let slow = self.b.create_block();
                let join = self.b.create_block();
                let r = self.b.append_block_param(join, self.fty);
                self.b.ins().brif(any, slow, &[], join, &[fast.into()]);
                self.b.switch_to_block(slow);
                let f = self.callouts.unary.expect("unary callout declared");
                let exact = self.callout(f, op.code(), x, None);
                // Only the huge lanes take std's value, so a lane's result never depends on
                // its neighbours.
                let mut e = Em::new(self.b, cx);
                let merged = e.select(big, exact, fast);
                self.b.ins().jump(join, &[merged.into()]);
                self.b.switch_to_block(join);
                r
            }
            Tan | Sinh | Cosh | Erf => {
                unreachable!("{op:?} is a callout for {float:?}")
            }
        }
    }

    fn binary(&mut self, op: BinaryOp, a: Value, c: Value) -> Value {
        use BinaryOp::*;
        if binary_strategy(op, self.spec.float) == Strategy::Callout {
            let f = self.callouts.binary.expect("binary callout declared");
            return self.callout(f, op.code(), a, Some(c));
        }
        match op {
            Add => self.b.ins().fadd(a, c),
            Sub => self.b.ins().fsub(a, c),
            Mul => self.b.ins().fmul(a, c),
            Div => self.b.ins().fdiv(a, c),
            Max | Min => {
                // Rust's max/min return the other operand when one is NaN; Cranelift's
                // fmax/fmin propagate NaN (and order -0 < +0, as the interpreter does).
                let mut e = Em::new(self.b, self.cx);
                let a_nan = e.cmp(FloatCC::Unordered, a, a);
                let c_nan = e.cmp(FloatCC::Unordered, c, c);
                let a2 = e.select(a_nan, c, a);
                let c2 = e.select(c_nan, a, c);
                if op == Max {
                    self.b.ins().fmax(a2, c2)
                } else {
                    self.b.ins().fmin(a2, c2)
                }
            }
            RemFloor | Pow | Atan2 => unreachable!("{op:?} is a callout"),
        }
    }

    /// Spill the operand vector(s) to the stack slot, call `f(code, slot)`, reload lane results.
    fn callout(&mut self, f: FuncRef, code: u32, a: Value, c: Option<Value>) -> Value {
        let slot = self.slot.expect("callout stack slot");
        let p = self.b.ins().stack_addr(self.ptr_ty, slot, 0);
        let sf = MemFlagsData::trusted();
        self.b.ins().store(sf, a, p, 0);
        if let Some(c) = c {
            self.b.ins().store(sf, c, p, 16);
        }
        let code = self.b.ins().iconst(types::I32, code as i64);
        self.b.ins().call(f, &[code, p]);
        self.b.ins().load(self.fty, sf, p, 0)
    }
}
