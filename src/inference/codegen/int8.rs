//! Dense layers with `i8` weights ([`DenseLayout::Int8`](super::DenseLayout::Int8)), inline.
//!
//! Per row, the layer's input is quantized to 16-bit codes on the stack (`code = round(x ·
//! amax / max|x|)`, [`int8_act_max`]), then each pair of codes is multiplied with a pair of
//! weight codes and the two products summed in `i32` — one `pmaddwd` on x86, whose pattern
//! Cranelift recognises in `iadd_pairwise(imul(swiden_low ..), imul(swiden_high ..))` — and
//! accumulated exactly. The sum is rescaled once per output: `acc · (s_x · s_w[j]) + bias`.
//! The AVX2/VNNI kernel in [`super::callout`] computes the same values (integer sums are
//! exact, the rescale is the same two roundings), so tiles may take either path.

use cranelift_codegen::ir::{
    InstBuilder, StackSlotData, StackSlotKind, Value, condcodes::FloatCC, types,
};

use super::{F4, Gen, ROW_BLOCK, int8_slot_bytes, mem};
use crate::codegen::math::{Em, le};
use crate::inference::activation::emit_tanh;
use crate::inference::pack::{PANEL, TANH_TABLE, int8_act_max};
use crate::inference::plan::Act;

const I16: types::Type = types::I16X8;
const I4: types::Type = types::I32X4;

/// Where one `i8` layer's packed data is, as float offsets into the model's data.
#[derive(Clone, Copy)]
pub(super) struct Int8Layer {
    pub k: usize,
    pub n: usize,
    pub w: usize,
    pub scale: usize,
    pub bias: Option<usize>,
    pub act: Act,
    /// The input is a `tanh`: quantize rows with the fixed range 1.
    pub unit_input: bool,
}

impl Int8Layer {
    /// Reduction pairs (`ceil(k / 2)`).
    fn pairs(&self) -> usize {
        self.k.div_ceil(2)
    }
}

impl Gen<'_, '_> {
    /// `out[r] = act(x[r] · W + bias)` for the tile's rows, `W` as `i8` panels: blocks of
    /// [`ROW_BLOCK`] rows, then single rows, one panel at a time in a loop (one copy of the code
    /// per layer; two panels per iteration for single rows made QEMU 7.2's riscv64 translator
    /// abort on exported objects).
    pub(super) fn dense_int8(
        &mut self,
        xb: Value,
        ldx: usize,
        ob: Value,
        ldo: usize,
        l: Int8Layer,
    ) {
        let codes_per_row = 2 * l.pairs();
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            int8_slot_bytes(l.k) as u32,
            4,
        ));
        let panels = l.n.div_ceil(PANEL);
        let full = l.n / PANEL;
        let q = self.b.ins().udiv_imm_u(self.t, ROW_BLOCK as i64);
        let end = self.b.ins().imul_imm_u(q, ROW_BLOCK as i64);
        let zero = self.iconst(0);
        let ptr_ty = self.ptr_ty;
        self.for_each(zero, end, ROW_BLOCK, |g, r| {
            let xr = g.row_ptr(xb, r, ldx);
            let or = g.row_ptr(ob, r, ldo);
            let codes = g.b.ins().stack_addr(ptr_ty, slot, 0);
            let sx: Vec<Value> = (0..ROW_BLOCK)
                .map(|i| {
                    let x = g.b.ins().iadd_imm_s(xr, (i * ldx * 4) as i64);
                    let c = g.b.ins().iadd_imm_s(codes, (i * codes_per_row * 2) as i64);
                    g.quantize_row(x, c, l.k, l.unit_input)
                })
                .collect();
            // Full panels in a loop (one copy of the code per layer, not one per panel), then
            // the partial one.
            let hi = g.iconst(full);
            g.for_each(zero, hi, 1, |g, p| {
                g.int8_block(codes, codes_per_row, &sx, or, ldo, l, 0..1, Some(p));
            });
            if full < panels {
                g.int8_block(codes, codes_per_row, &sx, or, ldo, l, full..panels, None);
            }
        });
        let t = self.t;
        self.for_each(end, t, 1, |g, r| {
            let xr = g.row_ptr(xb, r, ldx);
            let or = g.row_ptr(ob, r, ldo);
            let codes = g.b.ins().stack_addr(ptr_ty, slot, 0);
            let sx = g.quantize_row(xr, codes, l.k, l.unit_input);
            // Two full panels per iteration (independent accumulators), then the rest.
            let hi = g.iconst(full);
            g.for_each(zero, hi, 1, |g, p| {
                g.int8_block(codes, codes_per_row, &[sx], or, ldo, l, 0..1, Some(p));
            });
            if full < panels {
                g.int8_block(codes, codes_per_row, &[sx], or, ldo, l, full..panels, None);
            }
        });
    }

    /// Quantize `k` floats at `x` to 16-bit codes at `codes` (a zero code pads an odd `k`);
    /// returns the row's scale: `max|x| / amax`, or `1 / amax` for a `unit` row (a `tanh`
    /// output, whose range is known), NaN if the row holds NaN, which then reaches every output
    /// of the row.
    fn quantize_row(&mut self, x: Value, codes: Value, k: usize, unit: bool) -> Value {
        let amax = int8_act_max(k);
        let z0 = self.iconst(0);
        let amax_v = self.b.ins().f32const(amax);
        let (inv, dynamic_sx) = if unit {
            (amax_v, None)
        } else {
            // max |x|: four lanes, then the lanes and the tail.
            let z = Em::new(&mut self.b, self.cx).fc(F4, 0.0);
            let quads = self.iconst(k / 4);
            let acc = self.for_loop(z0, quads, 1, &[z], |g, i, acc| {
                let o = g.b.ins().ishl_imm_u(i, 4);
                let p = g.b.ins().iadd(x, o);
                let v = g.load4(p, 0);
                let a = g.b.ins().fabs(v);
                vec![g.b.ins().fmax(acc[0], a)]
            });
            let mut m = self.b.ins().extractlane(acc[0], 0);
            for l in 1..4 {
                let e = self.b.ins().extractlane(acc[0], l);
                m = self.b.ins().fmax(m, e);
            }
            for kk in k / 4 * 4..k {
                let e = self.b.ins().load(types::F32, mem(), x, (4 * kk) as i32);
                let a = self.b.ins().fabs(e);
                m = self.b.ins().fmax(m, a);
            }
            let inv = self.b.ins().fdiv(amax_v, m);
            (inv, Some(self.b.ins().fdiv(m, amax_v)))
        };
        // Codes: eight at a time (collecting NaN lanes for a unit row), then the tail.
        let inv4 = self.b.ins().splat(F4, inv);
        let octs = self.iconst(k / 8);
        let zero_i = self.b.ins().iconst(types::I32, 0);
        let no_nan = self.b.ins().splat(I4, zero_i);
        let nan_lanes = self.for_loop(z0, octs, 1, &[no_nan], |g, i, acc| {
            let o = g.b.ins().ishl_imm_u(i, 5);
            let p = g.b.ins().iadd(x, o);
            let (v0, v1) = (g.load4(p, 0), g.load4(p, 16));
            let c0 = g.code4(v0, inv4);
            let c1 = g.code4(v1, inv4);
            let c = g.b.ins().snarrow(c0, c1);
            let o = g.b.ins().ishl_imm_u(i, 4);
            let q = g.b.ins().iadd(codes, o);
            g.b.ins().store(mem(), c, q, 0);
            if unit {
                let u0 = g.b.ins().fcmp(FloatCC::Unordered, v0, v0);
                let u1 = g.b.ins().fcmp(FloatCC::Unordered, v1, v1);
                let u = g.b.ins().bor(u0, u1);
                vec![g.b.ins().bor(acc[0], u)]
            } else {
                vec![acc[0]]
            }
        });
        let mut any_nan = self.b.ins().vany_true(nan_lanes[0]);
        for kk in k / 8 * 8..k {
            let e = self.b.ins().load(types::F32, mem(), x, (4 * kk) as i32);
            let s = self.b.ins().fmul(e, inv);
            let r = self.b.ins().nearest(s);
            let c = self.b.ins().fcvt_to_sint_sat(types::I32, r);
            let hi = self.b.ins().iconst(types::I32, 32767);
            let lo = self.b.ins().iconst(types::I32, -32768);
            let c = self.b.ins().smin(c, hi);
            let c = self.b.ins().smax(c, lo);
            self.b.ins().istore16(mem(), c, codes, (2 * kk) as i32);
            if unit {
                let u = self.b.ins().fcmp(FloatCC::Unordered, e, e);
                any_nan = self.b.ins().bor(any_nan, u);
            }
        }
        if k % 2 == 1 {
            let c = self.b.ins().iconst(types::I32, 0);
            self.b.ins().istore16(mem(), c, codes, (2 * k) as i32);
        }
        match dynamic_sx {
            Some(sx) => sx,
            None => {
                let nan = self.b.ins().f32const(f32::NAN);
                let sx = self.b.ins().f32const(1.0 / amax);
                self.b.ins().select(any_nan, nan, sx)
            }
        }
    }

    /// `round(v · inv)` as `i32` lanes (NaN → 0).
    fn code4(&mut self, v: Value, inv4: Value) -> Value {
        let s = self.b.ins().fmul(v, inv4);
        let r = self.b.ins().nearest(s);
        self.b.ins().fcvt_to_sint_sat(I4, r)
    }

    /// `a · b` over 16-bit lanes, adjacent products summed into `i32` lanes (`pmaddwd`).
    fn pair_dot(&mut self, a: Value, b: Value) -> Value {
        let (al, bl) = (self.b.ins().swiden_low(a), self.b.ins().swiden_low(b));
        let lo = self.b.ins().imul(al, bl);
        let (ah, bh) = (self.b.ins().swiden_high(a), self.b.ins().swiden_high(b));
        let hi = self.b.ins().imul(ah, bh);
        self.b.ins().iadd_pairwise(lo, hi)
    }

    /// `sx.len()` rows (codes at `codes + r · codes_per_row`) × `panels`: `i32` accumulators,
    /// one pair of reduction steps per iteration, then rescale, bias, activation and store.
    /// With `first`, `panels` count from the (full) panel `first` computed at run time.
    #[allow(clippy::too_many_arguments)]
    fn int8_block(
        &mut self,
        codes: Value,
        codes_per_row: usize,
        sx: &[Value],
        out: Value,
        ldo: usize,
        l: Int8Layer,
        panels: std::ops::Range<usize>,
        first: Option<Value>,
    ) {
        let rows = sx.len();
        let pairs = l.pairs();
        let mut vecs: Vec<(usize, usize, usize)> = Vec::new();
        for p in panels {
            let valid = match first {
                Some(_) => PANEL,
                None => PANEL.min(l.n - p * PANEL),
            };
            for v in 0..valid.div_ceil(4) {
                vecs.push((p, v, valid));
            }
        }
        // Base addresses of panel 0 of the block: weights, scales, bias, output columns.
        let (mut wp0, mut sp0) = (self.data_ptr(l.w), self.data_ptr(l.scale));
        let mut bp0 = l.bias.map(|b| self.data_ptr(b));
        let mut out = out;
        if let Some(p) = first {
            let wo = self.b.ins().imul_imm_u(p, (pairs * 2 * PANEL) as i64);
            wp0 = self.b.ins().iadd(wp0, wo);
            let co = self.b.ins().imul_imm_u(p, (PANEL * 4) as i64);
            sp0 = self.b.ins().iadd(sp0, co);
            bp0 = bp0.map(|b| self.b.ins().iadd(b, co));
            out = self.b.ins().iadd(out, co);
        }
        let nv = vecs.len();
        let zero_i = self.b.ins().iconst(types::I32, 0);
        let zero = self.b.ins().splat(I4, zero_i);
        let init = vec![zero; rows * nv];
        let z0 = self.iconst(0);
        let end = self.iconst(pairs);
        let acc = self.for_loop(z0, end, 1, &init, |g, m, acc| {
            let xo = g.b.ins().ishl_imm_u(m, 2);
            let xp = g.b.ins().iadd(codes, xo);
            let wo = g.b.ins().imul_imm_u(m, (2 * PANEL) as i64);
            let wp = g.b.ins().iadd(wp0, wo);
            let xs: Vec<Value> = (0..rows)
                .map(|r| {
                    let pair =
                        g.b.ins()
                            .load(types::I32, mem(), xp, (r * codes_per_row * 2) as i32);
                    let s = g.b.ins().splat(I4, pair);
                    g.b.ins().bitcast(I16, le(), s)
                })
                .collect();
            let mut next = acc.to_vec();
            for (j, &(p, v, _)) in vecs.iter().enumerate() {
                let off = (p * pairs * 2 * PANEL + 8 * v) as i32;
                let wv = g.b.ins().sload8x8(mem(), wp, off);
                for (r, &xr) in xs.iter().enumerate() {
                    let d = g.pair_dot(xr, wv);
                    next[r * nv + j] = g.b.ins().iadd(acc[r * nv + j], d);
                }
            }
            next
        });
        for (r, &s) in sx.iter().enumerate() {
            let s4 = self.b.ins().splat(F4, s);
            for (j, &(p, v, valid)) in vecs.iter().enumerate() {
                let col = p * PANEL + 4 * v;
                let sw = self.load4(sp0, (col * 4) as i32);
                let f = self.b.ins().fcvt_from_sint(F4, acc[r * nv + j]);
                let k = self.b.ins().fmul(s4, sw);
                let mut y = self.b.ins().fmul(f, k);
                if let Some(bp) = bp0 {
                    let bv = self.load4(bp, (col * 4) as i32);
                    y = self.b.ins().fadd(y, bv);
                }
                if l.act == Act::Tanh {
                    let table = self.data_ptr(TANH_TABLE);
                    y = emit_tanh(&mut self.b, self.cx, y, table);
                }
                let lanes = (valid - 4 * v).min(4);
                self.store_lanes(y, out, ((r * ldo + col) * 4) as i32, lanes);
            }
        }
    }

    /// Like [`Gen::dense_int8`], calling the host kernel for tiles of at least
    /// `dense_min_rows` rows.
    pub(super) fn dense_int8_or_call(
        &mut self,
        xb: Value,
        ldx: usize,
        ob: Value,
        ldo: usize,
        l: Int8Layer,
    ) {
        let Some(f) = self.dense_int8_fn else {
            self.dense_int8(xb, ldx, ob, ldo, l);
            return;
        };
        let args = |g: &mut Self| {
            let wp = g.data_ptr(l.w);
            let sp = g.data_ptr(l.scale);
            let bp = match l.bias {
                Some(o) => g.data_ptr(o),
                None => g.iconst(0),
            };
            vec![
                xb,
                g.iconst(ldx),
                g.t,
                wp,
                sp,
                bp,
                ob,
                g.iconst(ldo),
                g.iconst(l.k),
                g.iconst(l.n),
                g.iconst(l.act.code() | usize::from(l.unit_input) << 8),
            ]
        };
        self.call_for_big_tiles(f, args, |g| g.dense_int8(xb, ldx, ob, ldo, l));
    }
}
