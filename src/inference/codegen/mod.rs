//! Code generation for a whole model: one Cranelift function per [`Plan`], in any
//! [`cranelift_module::Module`] (the JIT today; an object file for ahead-of-time export).
//!
//! The entry point is
//! `extern "C" fn(input: *const f32, output: *mut f32, rows: usize, scratch: *mut f32)`: it
//! walks the batch in tiles of `plan.tile_rows` rows and runs every [`Step`] of the plan on each
//! tile, each step a local function of the module (`<name>_step<i>`, called with the tile's
//! input, output, scratch and row count) so that register pressure stays per step. Weights and
//! constants are one read-only data object (`<name>_data`).
//!
//! - Dense layers: a register-blocked micro-kernel over the packed weight panels
//!   ([`super::pack`]): 2 rows × 16 columns (8 `f32x4` accumulators) per step of the
//!   reduction, 1 row × 32 columns for leftover rows (the batch-1 path), dot products along `k`
//!   for layers narrower than 4. With [`CodeOptions::dense_callout_min_rows`], tiles of at
//!   least that many rows call the AVX2 kernel in [`super::callout`] instead.
//! - Maps: a row loop around a 4-lane column loop and a 1-lane tail (a map over contiguous
//!   blocks is flattened into one loop), the spec emitted by [`super::emit`].
//! - Copies: the same loops, loading and storing.

use cranelift_codegen::ir::{
    AbiParam, BlockArg, FuncRef, GlobalValueData, InstBuilder, MemFlagsData, StackSlotData,
    StackSlotKind, Type, UserFuncName, Value, condcodes::IntCC, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module};

use super::InferenceError;
use super::activation::emit_tanh;
use super::callout;
use super::emit::{Calls, Tables, emit_spec, needs_calls};
use super::pack::{DenseLayout, PANEL, TANH_TABLE};
use super::plan::{Act, Base, Loc, MapArg, Plan, Step};
use crate::codegen::math::{Em, MathCx};

mod int8;

/// Choices that change the generated code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CodeOptions {
    /// Fused multiply-add is a native instruction.
    pub fma: bool,
    /// Tiles with at least this many rows call the AVX2 dense kernel (`None`: never; the
    /// function then calls nothing but the element-wise callouts).
    pub dense_callout_min_rows: Option<usize>,
    /// Print the Cranelift IR to stderr (debugging aid).
    pub print_ir: bool,
}

fn cl(e: impl std::fmt::Debug) -> InferenceError {
    InferenceError::Codegen(format!("{e:?}"))
}

/// Declare and define `name` (exported) and `<name>_data` in `module`; returns the function
/// and its machine-code size in bytes.
pub(crate) fn define_model<M: Module>(
    module: &mut M,
    plan: &Plan,
    name: &str,
    opts: &CodeOptions,
) -> Result<(FuncId, usize), InferenceError> {
    if plan.data.len() > (i32::MAX as usize) / 4 - 64 {
        return Err(InferenceError::InvalidGraph(format!(
            "{} weights and constants exceed the 2 GiB a compiled model can address",
            plan.data.len()
        )));
    }
    let ptr_ty = module.target_config().pointer_type();
    // The weights.
    let data_id = module
        .declare_data(&format!("{name}_data"), Linkage::Local, false, false)
        .map_err(cl)?;
    let mut desc = DataDescription::new();
    let bytes: Vec<u8> = plan.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    desc.define(bytes.into_boxed_slice());
    desc.set_align(64);
    module.define_data(data_id, &desc).map_err(cl)?;
    // The callouts.
    let mut lane_sig = module.make_signature();
    lane_sig.params.push(AbiParam::new(types::I32));
    lane_sig.params.push(AbiParam::new(ptr_ty));
    let need_lanes = plan.steps.iter().any(|s| match s {
        Step::Map { spec, .. } => needs_calls(spec),
        _ => false,
    });
    let lane_ids = if need_lanes {
        Some((
            module
                .declare_function(callout::UNARY, Linkage::Import, &lane_sig)
                .map_err(cl)?,
            module
                .declare_function(callout::BINARY, Linkage::Import, &lane_sig)
                .map_err(cl)?,
        ))
    } else {
        None
    };
    let has_dense = plan.steps.iter().any(|s| {
        matches!(
            s,
            Step::Dense {
                layout: DenseLayout::Panels { .. },
                ..
            }
        )
    });
    let has_int8 = plan.steps.iter().any(|s| {
        matches!(
            s,
            Step::Dense {
                layout: DenseLayout::Int8 { .. },
                ..
            }
        )
    });
    let mut import = |name: &str, params: usize, needed: bool| {
        if opts.dense_callout_min_rows.is_none() || !needed {
            return Ok(None);
        }
        let mut sig = module.make_signature();
        for _ in 0..params {
            sig.params.push(AbiParam::new(ptr_ty));
        }
        module
            .declare_function(name, Linkage::Import, &sig)
            .map(Some)
            .map_err(cl)
    };
    let dense_id = import(callout::DENSE, 10, has_dense)?;
    let dense_int8_id = import(callout::DENSE_INT8, 11, has_int8)?;
    let decls = Decls {
        data: data_id,
        lanes: lane_ids,
        dense: dense_id,
        dense_int8: dense_int8_id,
    };
    // One function per step, `(in_tile, out_tile, scratch, t)`: each step's hoisted constants
    // and live values stay in its own function instead of crowding every loop of the model.
    let mut sig = module.make_signature();
    for _ in 0..4 {
        sig.params.push(AbiParam::new(ptr_ty));
    }
    let mut code_size = 0;
    let mut step_ids = Vec::with_capacity(plan.steps.len());
    for (i, step) in plan.steps.iter().enumerate() {
        let id = module
            .declare_function(&format!("{name}_step{i}"), Linkage::Local, &sig)
            .map_err(cl)?;
        code_size += build_fn(module, id, &sig, &decls, plan, opts, &[], |g, p| {
            (g.in_tile, g.out_tile, g.scratch, g.t) = (p[0], p[1], p[2], p[3]);
            g.step(step);
        })?;
        step_ids.push(id);
    }
    // The entry: the tile loop, calling every step on every tile.
    let func_id = module
        .declare_function(name, Linkage::Export, &sig)
        .map_err(cl)?;
    code_size += build_fn(
        module,
        func_id,
        &sig,
        &decls,
        plan,
        opts,
        &step_ids,
        |g, p| {
            g.tiles(p[0], p[1], p[2], p[3]);
        },
    )?;
    Ok((func_id, code_size))
}

/// What a model's functions refer to.
struct Decls {
    data: DataId,
    lanes: Option<(FuncId, FuncId)>,
    dense: Option<FuncId>,
    dense_int8: Option<FuncId>,
}

/// Build and define function `id` with `body`; returns its code size.
#[allow(clippy::too_many_arguments)]
fn build_fn<M: Module>(
    module: &mut M,
    id: FuncId,
    sig: &cranelift_codegen::ir::Signature,
    decls: &Decls,
    plan: &Plan,
    opts: &CodeOptions,
    callees: &[FuncId],
    body: impl FnOnce(&mut Gen, &[Value]),
) -> Result<usize, InferenceError> {
    let ptr_ty = module.target_config().pointer_type();
    let mut ctx = module.make_context();
    ctx.func.signature = sig.clone();
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    let mut fctx = FunctionBuilderContext::new();
    let frontend_config = module.target_config();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let gv = module.declare_data_in_func(decls.data, b.func);
        // Not colocated: the JIT may place data and code far apart, so use absolute addresses.
        if let GlobalValueData::Symbol { colocated, .. } = &mut b.func.global_values[gv] {
            *colocated = false;
        }
        let calls = decls.lanes.map(|(u, bi)| Calls {
            unary: module.declare_func_in_func(u, b.func),
            binary: module.declare_func_in_func(bi, b.func),
            slot: b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 32, 4)),
            ptr_ty,
        });
        let dense = decls.dense.map(|d| module.declare_func_in_func(d, b.func));
        let dense_int8_fn = decls
            .dense_int8
            .map(|d| module.declare_func_in_func(d, b.func));
        let steps: Vec<FuncRef> = callees
            .iter()
            .map(|&c| {
                let f = module.declare_func_in_func(c, b.func);
                b.func.dfg.ext_funcs[f].colocated = false;
                f
            })
            .collect();
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let p = b.block_params(entry).to_vec();
        let data = b.ins().symbol_value(ptr_ty, gv);
        let mut g = Gen {
            b,
            cx: MathCx { fma: opts.fma },
            ptr_ty,
            plan,
            calls,
            dense,
            dense_int8_fn,
            steps,
            dense_min_rows: opts.dense_callout_min_rows.unwrap_or(usize::MAX),
            split_madd: module.isa().name() == "x64",
            data,
            scratch: p[0],
            in_tile: p[0],
            out_tile: p[0],
            t: p[0],
        };
        body(&mut g, &p);
        g.b.ins().return_(&[]);
        g.b.finalize(frontend_config);
    }
    if opts.print_ir {
        eprintln!("{}", ctx.func.display());
        ctx.set_disasm(true);
    }
    module.define_function(id, &mut ctx).map_err(cl)?;
    if let Some(vcode) = ctx.compiled_code().and_then(|c| c.vcode.as_ref()) {
        eprintln!("{vcode}");
    }
    let size = ctx
        .compiled_code()
        .map_or(0, |c| c.code_info().total_size as usize);
    module.clear_context(&mut ctx);
    Ok(size)
}

struct Gen<'a, 'f> {
    b: FunctionBuilder<'f>,
    cx: MathCx,
    ptr_ty: Type,
    plan: &'a Plan,
    calls: Option<Calls>,
    dense: Option<FuncRef>,
    /// The `i8` dense kernel ([`callout::DENSE_INT8`]), if imported.
    dense_int8_fn: Option<FuncRef>,
    /// The step functions (in the entry function).
    steps: Vec<FuncRef>,
    dense_min_rows: usize,
    /// Accumulate with a multiply and an add rather than a fused multiply-add: x86's FMA forms
    /// overwrite a multiplicand, so a loop-carried accumulator costs register copies and spills
    /// (Cranelift never uses `vfmadd231`); `vmulps` + `vaddps` keep accumulators in place at
    /// the same throughput. On aarch64 `fmla` accumulates in place.
    split_madd: bool,
    data: Value,
    scratch: Value,
    /// Input rows of the current tile.
    in_tile: Value,
    /// Output rows of the current tile.
    out_tile: Value,
    /// Rows in the current tile.
    t: Value,
}

/// One row of an element-wise map: per operand its row pointer (and whether it is broadcast),
/// the broadcast operands' splats, the output row, the program.
struct MapSpan<'s> {
    row: &'s [(Value, bool)],
    splats: &'s [Option<Value>],
    orow: Value,
    spec: &'s crate::kernel::KernelSpec,
    tables: Tables,
}

/// Element loads and stores: in bounds by the function's contract, possibly unaligned.
fn mem() -> MemFlagsData {
    MemFlagsData::trusted()
}

const F4: Type = types::F32X4;

impl Gen<'_, '_> {
    /// `acc + a · b`, the accumulation step of the dense kernels.
    fn madd(&mut self, a: Value, b: Value, acc: Value) -> Value {
        if self.split_madd {
            let p = self.b.ins().fmul(a, b);
            self.b.ins().fadd(acc, p)
        } else {
            Em::new(&mut self.b, self.cx).fma(a, b, acc)
        }
    }

    fn iconst(&mut self, v: usize) -> Value {
        self.b.ins().iconst(self.ptr_ty, v as i64)
    }

    /// `for i in (lo..hi).step_by(step)` with values carried around the loop; returns their
    /// final values. `body` gets `i` and the carried values and returns their next values.
    fn for_loop(
        &mut self,
        lo: Value,
        hi: Value,
        step: usize,
        carry: &[Value],
        body: impl FnOnce(&mut Self, Value, &[Value]) -> Vec<Value>,
    ) -> Vec<Value> {
        let head = self.b.create_block();
        let body_b = self.b.create_block();
        let exit = self.b.create_block();
        let iv = self.b.append_block_param(head, self.ptr_ty);
        let mut params = Vec::with_capacity(carry.len());
        let mut outs = Vec::with_capacity(carry.len());
        for c in carry {
            let ty = self.b.func.dfg.value_type(*c);
            params.push(self.b.append_block_param(head, ty));
            outs.push(self.b.append_block_param(exit, ty));
        }
        let mut args = vec![BlockArg::from(lo)];
        args.extend(carry.iter().map(|v| BlockArg::from(*v)));
        self.b.ins().jump(head, &args);
        self.b.switch_to_block(head);
        let go = self.b.ins().icmp(IntCC::UnsignedLessThan, iv, hi);
        let exit_args: Vec<BlockArg> = params.iter().map(|v| BlockArg::from(*v)).collect();
        self.b.ins().brif(go, body_b, &[], exit, &exit_args);
        self.b.switch_to_block(body_b);
        self.b.seal_block(body_b);
        let next = body(self, iv, &params);
        let i2 = self.b.ins().iadd_imm_s(iv, step as i64);
        let mut args = vec![BlockArg::from(i2)];
        args.extend(next.iter().map(|v| BlockArg::from(*v)));
        self.b.ins().jump(head, &args);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        outs
    }

    /// `for i in (lo..hi).step_by(step)` carrying nothing.
    fn for_each(&mut self, lo: Value, hi: Value, step: usize, body: impl FnOnce(&mut Self, Value)) {
        self.for_loop(lo, hi, step, &[], |g, i, _| {
            body(g, i);
            Vec::new()
        });
    }

    /// The tile loop of the entry function: per tile, call every step.
    fn tiles(&mut self, input: Value, output: Value, rows: Value, scratch: Value) {
        let tr = self.plan.tile_rows;
        let zero = self.iconst(0);
        let (iw, ow) = (self.plan.input_width * 4, self.plan.output_width * 4);
        let steps = self.steps.clone();
        self.for_each(zero, rows, tr, |g, row0| {
            let left = g.b.ins().isub(rows, row0);
            let cap = g.iconst(tr);
            let t = g.b.ins().umin(left, cap);
            let io = g.b.ins().imul_imm_u(row0, iw as i64);
            let in_tile = g.b.ins().iadd(input, io);
            let oo = g.b.ins().imul_imm_u(row0, ow as i64);
            let out_tile = g.b.ins().iadd(output, oo);
            for f in &steps {
                g.b.ins().call(*f, &[in_tile, out_tile, scratch, t]);
            }
        });
    }

    /// The body of a step function.
    fn step(&mut self, step: &Step) {
        match step {
            Step::Dense {
                x,
                out,
                k,
                n,
                layout,
                act,
            } => self.dense(*x, *out, *k, *n, *layout, *act),
            Step::Map {
                args,
                spec,
                width,
                out,
            } => self.map(args, spec, *width, *out),
            Step::Copy { src, dst, width } => self.copy(*src, *dst, *width),
        }
    }

    /// Address of row 0, column 0 of a block in the current tile.
    fn block_ptr(&mut self, loc: Loc) -> Value {
        let base = match loc.base {
            Base::Input => self.in_tile,
            Base::Output => self.out_tile,
            Base::Scratch(off) => {
                let bytes = (off * self.plan.tile_rows * 4) as i64;
                self.b.ins().iadd_imm_s(self.scratch, bytes)
            }
        };
        self.b.ins().iadd_imm_s(base, (loc.col * 4) as i64)
    }

    /// `ptr + r * stride` floats.
    fn row_ptr(&mut self, base: Value, r: Value, stride: usize) -> Value {
        let off = self.b.ins().imul_imm_u(r, (stride * 4) as i64);
        self.b.ins().iadd(base, off)
    }

    fn data_ptr(&mut self, offset: usize) -> Value {
        self.b.ins().iadd_imm_s(self.data, (offset * 4) as i64)
    }

    fn load4(&mut self, p: Value, off: i32) -> Value {
        self.b.ins().load(F4, mem(), p, off)
    }

    fn splat1(&mut self, p: Value, off: i32) -> Value {
        let s = self.b.ins().load(types::F32, mem(), p, off);
        self.b.ins().splat(F4, s)
    }

    /// Store the first `lanes` lanes of `v` at `p + off`.
    fn store_lanes(&mut self, v: Value, p: Value, off: i32, lanes: usize) {
        if lanes == 4 {
            self.b.ins().store(mem(), v, p, off);
        } else {
            for l in 0..lanes {
                let s = self.b.ins().extractlane(v, l as u8);
                self.b.ins().store(mem(), s, p, off + 4 * l as i32);
            }
        }
    }

    fn map(&mut self, args: &[MapArg], spec: &crate::kernel::KernelSpec, width: usize, out: Loc) {
        // Contiguous blocks and scalar rows only: one flat loop over `t × width` elements.
        let flat = out.stride == width
            && args.iter().all(|a| match a {
                MapArg::Block { loc, width: w } => *w == width && loc.stride == width,
                MapArg::Row { len, .. } => *len == 1,
            });
        let (rows, ncols) = if flat {
            let one = self.iconst(1);
            let n = self.b.ins().imul_imm_u(self.t, width as i64);
            (one, n)
        } else {
            let w = self.iconst(width);
            (self.t, w)
        };
        let out_base = self.block_ptr(out);
        let mut arg_base = Vec::with_capacity(args.len());
        for a in args {
            arg_base.push(match a {
                MapArg::Block { loc, .. } => self.block_ptr(*loc),
                MapArg::Row { offset, .. } => self.data_ptr(*offset),
            });
        }
        let tables = Tables {
            tanh: self.data_ptr(TANH_TABLE),
        };
        let zero = self.iconst(0);
        self.for_each(zero, rows, 1, |g, r| {
            let orow = g.row_ptr(out_base, r, out.stride);
            // Per-row pointers; broadcast operands are loaded once per row.
            let mut row: Vec<(Value, bool)> = Vec::with_capacity(args.len());
            for (a, base) in args.iter().zip(&arg_base) {
                row.push(match a {
                    MapArg::Block { loc, width: w } => {
                        let p = g.row_ptr(*base, r, loc.stride);
                        (p, *w == 1 && width != 1)
                    }
                    MapArg::Row { len, .. } => (*base, *len == 1),
                });
            }
            let splats: Vec<Option<Value>> = row
                .iter()
                .map(|&(p, bcast)| bcast.then(|| g.splat1(p, 0)))
                .collect();
            let nvec = g.b.ins().ushr_imm_u(ncols, 2);
            let z = g.iconst(0);
            let span = MapSpan {
                row: &row,
                splats: &splats,
                orow,
                spec,
                tables,
            };
            g.map_columns(&span, z, nvec, 4);
            let tail0 = g.b.ins().ishl_imm_u(nvec, 2);
            g.map_columns(&span, tail0, ncols, 1);
        });
    }

    /// `spec` over one row's columns: `lanes` (4 or 1) columns per step for steps `lo .. hi`.
    fn map_columns(&mut self, s: &MapSpan, lo: Value, hi: Value, lanes: usize) {
        let shift = if lanes == 4 { 4 } else { 2 };
        self.for_each(lo, hi, 1, |g, i| {
            let c = g.b.ins().ishl_imm_u(i, shift);
            let ins: Vec<Value> = s
                .row
                .iter()
                .zip(s.splats)
                .map(|(&(p, _), splat)| match splat {
                    Some(v) => *v,
                    None => {
                        let a = g.b.ins().iadd(p, c);
                        if lanes == 4 {
                            g.load4(a, 0)
                        } else {
                            g.splat1(a, 0)
                        }
                    }
                })
                .collect();
            let v = emit_spec(&mut g.b, g.cx, s.spec, &ins, g.calls, s.tables);
            let a = g.b.ins().iadd(s.orow, c);
            g.store_lanes(v, a, 0, lanes);
        });
    }

    fn copy(&mut self, src: Loc, dst: Loc, width: usize) {
        let (sb, db) = (self.block_ptr(src), self.block_ptr(dst));
        let zero = self.iconst(0);
        self.for_each(zero, self.t, 1, |g, r| {
            let s = g.row_ptr(sb, r, src.stride);
            let d = g.row_ptr(db, r, dst.stride);
            for c in 0..width / 4 {
                let v = g.load4(s, 16 * c as i32);
                g.store_lanes(v, d, 16 * c as i32, 4);
            }
            for c in width / 4 * 4..width {
                let v = g.b.ins().load(types::F32, mem(), s, 4 * c as i32);
                g.b.ins().store(mem(), v, d, 4 * c as i32);
            }
        });
    }

    fn dense(&mut self, x: Loc, out: Loc, k: usize, n: usize, layout: DenseLayout, act: Act) {
        let xb = self.block_ptr(x);
        let ob = self.block_ptr(out);
        match layout {
            DenseLayout::Dot { wt, bias } => {
                self.dense_dot(xb, x.stride, ob, out.stride, k, n, wt, bias)
            }
            DenseLayout::Int8 {
                w,
                scale,
                bias,
                unit_input,
            } => {
                let l = int8::Int8Layer {
                    k,
                    n,
                    w,
                    scale,
                    bias,
                    act,
                    unit_input,
                };
                self.dense_int8_or_call(xb, x.stride, ob, out.stride, l)
            }
            DenseLayout::Panels { w, bias } => {
                let Some(f) = self.dense else {
                    self.dense_panels(xb, x.stride, ob, out.stride, k, n, w, bias, act);
                    return;
                };
                let args = |g: &mut Self| {
                    let wp = g.data_ptr(w);
                    let bp = match bias {
                        Some(o) => g.data_ptr(o),
                        None => g.iconst(0),
                    };
                    vec![
                        xb,
                        g.iconst(x.stride),
                        g.t,
                        wp,
                        bp,
                        ob,
                        g.iconst(out.stride),
                        g.iconst(k),
                        g.iconst(n),
                        g.iconst(act.code()),
                    ]
                };
                self.call_for_big_tiles(f, args, |g| {
                    g.dense_panels(xb, x.stride, ob, out.stride, k, n, w, bias, act)
                });
            }
        }
    }

    /// Tiles of at least `dense_min_rows` rows call the host kernel `f` with the arguments
    /// `args` builds; smaller ones run the `inline` code.
    fn call_for_big_tiles(
        &mut self,
        f: FuncRef,
        args: impl FnOnce(&mut Self) -> Vec<Value>,
        inline: impl FnOnce(&mut Self),
    ) {
        let big = self.b.create_block();
        let small = self.b.create_block();
        let join = self.b.create_block();
        let big_enough = self.b.ins().icmp_imm_u(
            IntCC::UnsignedGreaterThanOrEqual,
            self.t,
            self.dense_min_rows as i64,
        );
        self.b.ins().brif(big_enough, big, &[], small, &[]);
        self.b.switch_to_block(big);
        self.b.seal_block(big);
        let a = args(self);
        self.b.ins().call(f, &a);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(small);
        self.b.seal_block(small);
        inline(self);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(join);
        self.b.seal_block(join);
    }

    /// `rows` rows (at `x`, `out`) × `panels`: the register-blocked micro-kernel. Weights
    /// of a reduction step are loaded one vector at a time and multiplied into every row, so
    /// `rows × vectors` accumulators + `rows` broadcasts + 1 weight vector are live.
    #[allow(clippy::too_many_arguments)]
    fn panel_block(
        &mut self,
        x: Value,
        ldx: usize,
        out: Value,
        ldo: usize,
        k: usize,
        n: usize,
        w: usize,
        bias: Option<usize>,
        rows: usize,
        panels: std::ops::Range<usize>,
        act: Act,
    ) {
        // (panel, vector) pairs computed: only vectors holding a valid column.
        let mut vecs: Vec<(usize, usize)> = Vec::new();
        for p in panels {
            let valid = PANEL.min(n - p * PANEL);
            for v in 0..valid.div_ceil(4) {
                vecs.push((p, v));
            }
        }
        let nv = vecs.len();
        let mut init = Vec::with_capacity(rows * nv);
        for _ in 0..rows {
            for &(p, v) in &vecs {
                init.push(match bias {
                    Some(o) => {
                        let bp = self.data_ptr(o + p * PANEL + 4 * v);
                        self.load4(bp, 0)
                    }
                    None => Em::new(&mut self.b, self.cx).fc(F4, 0.0),
                });
            }
        }
        let wp0 = self.data_ptr(w);
        let zero = self.iconst(0);
        let kk_end = self.iconst(k);
        let acc = self.for_loop(zero, kk_end, 1, &init, |g, kk, acc| {
            let xo = g.b.ins().ishl_imm_u(kk, 2);
            let xp = g.b.ins().iadd(x, xo);
            let wo = g.b.ins().imul_imm_u(kk, (PANEL * 4) as i64);
            let wp = g.b.ins().iadd(wp0, wo);
            let a: Vec<Value> = (0..rows)
                .map(|r| g.splat1(xp, (r * ldx * 4) as i32))
                .collect();
            let mut next = acc.to_vec();
            for (j, &(p, v)) in vecs.iter().enumerate() {
                let wv = g.load4(wp, ((p * k * PANEL + 4 * v) * 4) as i32);
                for (r, ar) in a.iter().enumerate() {
                    next[r * nv + j] = g.madd(*ar, wv, acc[r * nv + j]);
                }
            }
            next
        });
        for r in 0..rows {
            for (j, &(p, v)) in vecs.iter().enumerate() {
                let valid = PANEL.min(n - p * PANEL);
                let lanes = (valid - 4 * v).min(4);
                let off = ((r * ldo + p * PANEL + 4 * v) * 4) as i32;
                let v = match act {
                    Act::None => acc[r * nv + j],
                    Act::Tanh => {
                        let table = self.data_ptr(TANH_TABLE);
                        emit_tanh(&mut self.b, self.cx, acc[r * nv + j], table)
                    }
                };
                self.store_lanes(v, out, off, lanes);
            }
        }
    }

    /// A dense layer on packed panels, inline: blocks of [`ROW_BLOCK`] rows, then single rows
    /// two panels at a time.
    #[allow(clippy::too_many_arguments)]
    fn dense_panels(
        &mut self,
        xb: Value,
        ldx: usize,
        ob: Value,
        ldo: usize,
        k: usize,
        n: usize,
        w: usize,
        bias: Option<usize>,
        act: Act,
    ) {
        let panels = n.div_ceil(PANEL);
        let q = self.b.ins().udiv_imm_u(self.t, ROW_BLOCK as i64);
        let end = self.b.ins().imul_imm_u(q, ROW_BLOCK as i64);
        let zero = self.iconst(0);
        self.for_each(zero, end, ROW_BLOCK, |g, r| {
            let xr = g.row_ptr(xb, r, ldx);
            let or = g.row_ptr(ob, r, ldo);
            for p in 0..panels {
                g.panel_block(xr, ldx, or, ldo, k, n, w, bias, ROW_BLOCK, p..p + 1, act);
            }
        });
        let t = self.t;
        self.for_each(end, t, 1, |g, r| {
            let xr = g.row_ptr(xb, r, ldx);
            let or = g.row_ptr(ob, r, ldo);
            for p in (0..panels).step_by(2) {
                g.panel_block(
                    xr,
                    ldx,
                    or,
                    ldo,
                    k,
                    n,
                    w,
                    bias,
                    1,
                    p..(p + 2).min(panels),
                    act,
                );
            }
        });
    }

    /// A narrow dense layer (`n < 4`): per row and output, a dot product along `k` with two
    /// vector accumulators, a horizontal sum, the `k % 4` tail and the bias.
    #[allow(clippy::too_many_arguments)]
    fn dense_dot(
        &mut self,
        xb: Value,
        ldx: usize,
        ob: Value,
        ldo: usize,
        k: usize,
        n: usize,
        wt: usize,
        bias: Option<usize>,
    ) {
        let kv = k / 4;
        let zero = self.iconst(0);
        let t = self.t;
        self.for_each(zero, t, 1, |g, r| {
            let xr = g.row_ptr(xb, r, ldx);
            let or = g.row_ptr(ob, r, ldo);
            for j in 0..n {
                let wj = g.data_ptr(wt + j * k);
                let z = Em::new(&mut g.b, g.cx).fc(F4, 0.0);
                let z0 = g.iconst(0);
                let pairs = g.iconst(kv / 2);
                let acc = g.for_loop(z0, pairs, 1, &[z, z], |g, i, acc| {
                    let o = g.b.ins().ishl_imm_u(i, 5);
                    let xp = g.b.ins().iadd(xr, o);
                    let wp = g.b.ins().iadd(wj, o);
                    let (x0, w0) = (g.load4(xp, 0), g.load4(wp, 0));
                    let (x1, w1) = (g.load4(xp, 16), g.load4(wp, 16));
                    vec![g.madd(x0, w0, acc[0]), g.madd(x1, w1, acc[1])]
                });
                let mut a0 = acc[0];
                if kv % 2 == 1 {
                    let off = (16 * (kv - 1)) as i32;
                    let (xv, wv) = (g.load4(xr, off), g.load4(wj, off));
                    a0 = g.madd(xv, wv, a0);
                }
                let sum = g.b.ins().fadd(a0, acc[1]);
                let l: Vec<Value> = (0..4).map(|i| g.b.ins().extractlane(sum, i)).collect();
                let s01 = g.b.ins().fadd(l[0], l[1]);
                let s23 = g.b.ins().fadd(l[2], l[3]);
                let mut s = g.b.ins().fadd(s01, s23);
                for kk in kv * 4..k {
                    let xs = g.b.ins().load(types::F32, mem(), xr, (4 * kk) as i32);
                    let ws = g.b.ins().load(types::F32, mem(), wj, (4 * kk) as i32);
                    s = g.madd(xs, ws, s);
                }
                if let Some(o) = bias {
                    let bp = g.data_ptr(o + j);
                    let bv = g.b.ins().load(types::F32, mem(), bp, 0);
                    s = g.b.ins().fadd(s, bv);
                }
                g.b.ins().store(mem(), s, or, (4 * j) as i32);
            }
        });
    }
}

/// Bytes of the stack buffer in which an inline `i8` layer with `k` inputs quantizes its rows.
pub(crate) fn int8_slot_bytes(k: usize) -> usize {
    ROW_BLOCK * 2 * k.div_ceil(2) * 2
}

/// Rows per block of the inline dense kernel (× 16 columns = 8 `f32x4` accumulators; with the
/// row broadcasts, one weight vector and a product, 12 of the 16 x86 vector registers).
const ROW_BLOCK: usize = 2;
