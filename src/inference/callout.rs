//! Rust functions the generated model code calls: the AVX2 dense micro-kernel (large tiles on
//! x86-64 hosts that have AVX2 and FMA) and per-vector fallbacks for element-wise operations
//! without an inline lowering (computed with the kernel interpreter's definitions, so bit-exact
//! with it).
//!
//! Cranelift's SIMD is 128 bits wide; the dense kernel here uses 256-bit AVX2 FMAs on packed
//! weight panels ([`super::pack`]), which doubles the arithmetic per instruction where it
//! matters (the matrix products of large batches). A target without it — or ahead-of-time code —
//! uses the pure-Cranelift path for every batch size.

use crate::kernel::{BinaryOp, UnaryOp, interp};

use super::pack::PANEL;

/// Symbol names under which the JIT registers the callouts.
pub(crate) const DENSE: &str = "pinn_jit_infer_dense_avx2";
pub(crate) const UNARY: &str = "pinn_jit_infer_unary_f32x4";
pub(crate) const BINARY: &str = "pinn_jit_infer_binary_f32x4";

/// Every unary operation, indexed by its callout code.
const UNARY_OPS: [UnaryOp; 20] = {
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

/// Every binary operation, indexed by its callout code.
const BINARY_OPS: [BinaryOp; 9] = {
    use BinaryOp::*;
    [Add, Sub, Mul, Div, RemFloor, Pow, Max, Min, Atan2]
};

/// The callout code of `op`.
pub(crate) fn unary_code(op: UnaryOp) -> i64 {
    UNARY_OPS
        .iter()
        .position(|&o| o == op)
        .expect("every UnaryOp is listed") as i64
}

/// The callout code of `op`.
pub(crate) fn binary_code(op: BinaryOp) -> i64 {
    BINARY_OPS
        .iter()
        .position(|&o| o == op)
        .expect("every BinaryOp is listed") as i64
}

/// `lanes[i] = op(lanes[i])` for 4 `f32` lanes.
///
/// # Safety
/// `lanes` must point to 16 readable and writable bytes aligned for `f32`.
pub(crate) unsafe extern "C" fn unary_f32x4(code: u32, lanes: *mut f32) {
    // An unknown code cannot come from generated code; leave the lanes alone rather than
    // unwind across `extern "C"`.
    let Some(&op) = UNARY_OPS.get(code as usize) else {
        return;
    };
    for i in 0..4 {
        // SAFETY: the caller guarantees 4 valid, aligned lanes.
        unsafe {
            let p = lanes.add(i);
            p.write(interp::unary_f32(op, p.read()));
        }
    }
}

/// `lanes[i] = op(lanes[i], lanes[4 + i])` for 4 `f32` lanes.
///
/// # Safety
/// `lanes` must point to 32 readable and writable bytes aligned for `f32`.
pub(crate) unsafe extern "C" fn binary_f32x4(code: u32, lanes: *mut f32) {
    let Some(&op) = BINARY_OPS.get(code as usize) else {
        return;
    };
    for i in 0..4 {
        // SAFETY: the caller guarantees 8 valid, aligned lanes.
        unsafe {
            let a = lanes.add(i);
            let b = lanes.add(4 + i).read();
            a.write(interp::binary_f32(op, a.read(), b));
        }
    }
}

/// Whether the AVX2 dense kernel can run on this host.
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `out[r, 0..n] = x[r, 0..k] · W + bias` for `r < rows`, with `W` packed in panels.
///
/// # Safety
/// Only called when [`has_avx2_fma`] is true. `x` must be readable at `r * ldx + kk` for
/// `r < rows, kk < k`; `w` must hold `ceil(n / 16)` panels of `k × 16` floats; `bias` is null
/// or holds `ceil(n / 16) × 16` floats; `out` must be writable at `r * ldo + j` for `r < rows,
/// j < n` and must not overlap `x`, `w` or `bias`.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "C" fn dense_avx2(
    x: *const f32,
    ldx: usize,
    rows: usize,
    w: *const f32,
    bias: *const f32,
    out: *mut f32,
    ldo: usize,
    k: usize,
    n: usize,
) {
    // SAFETY: forwarded contract; the features were detected before this was registered.
    unsafe { avx2::dense(x, ldx, rows, w, bias, out, ldo, k, n) }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::PANEL;
    use std::arch::x86_64::*;

    /// Rows per micro-kernel call: 6 rows × 2 vectors = 12 accumulators + 2 weights + 1
    /// broadcast fit the 16 ymm registers.
    const MR: usize = 6;

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn dense(
        x: *const f32,
        ldx: usize,
        rows: usize,
        w: *const f32,
        bias: *const f32,
        out: *mut f32,
        ldo: usize,
        k: usize,
        n: usize,
    ) {
        let panels = n.div_ceil(PANEL);
        for p in 0..panels {
            let valid = PANEL.min(n - p * PANEL);
            // SAFETY (all pointer arithmetic below): in bounds by the caller's contract — panel
            // `p` of `w` and of `bias`, rows `< rows` of `x` and `out`, columns `< valid` of
            // the panel in `out`.
            unsafe {
                let wp = w.add(p * k * PANEL);
                let bp = if bias.is_null() {
                    bias
                } else {
                    bias.add(p * PANEL)
                };
                let op = out.add(p * PANEL);
                let mut r = 0;
                while r + MR <= rows {
                    block::<MR>(x.add(r * ldx), ldx, wp, bp, op.add(r * ldo), ldo, k, valid);
                    r += MR;
                }
                let (xr, orow) = (x.add(r * ldx), op.add(r * ldo));
                match rows - r {
                    0 => {}
                    1 => block::<1>(xr, ldx, wp, bp, orow, ldo, k, valid),
                    2 => block::<2>(xr, ldx, wp, bp, orow, ldo, k, valid),
                    3 => block::<3>(xr, ldx, wp, bp, orow, ldo, k, valid),
                    4 => block::<4>(xr, ldx, wp, bp, orow, ldo, k, valid),
                    _ => block::<5>(xr, ldx, wp, bp, orow, ldo, k, valid),
                }
            }
        }
    }

    /// Lane mask with the first `valid` (0..=8) lanes set.
    #[target_feature(enable = "avx2")]
    fn mask(valid: usize) -> __m256i {
        let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(valid as i32), idx)
    }

    /// `R` rows × one 16-column panel.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block<const R: usize>(
        x: *const f32,
        ldx: usize,
        w: *const f32,
        bias: *const f32,
        out: *mut f32,
        ldo: usize,
        k: usize,
        valid: usize,
    ) {
        // SAFETY: see `dense`; every access is inside the caller's bounds.
        unsafe {
            let (b0, b1) = if bias.is_null() {
                (_mm256_setzero_ps(), _mm256_setzero_ps())
            } else {
                (_mm256_loadu_ps(bias), _mm256_loadu_ps(bias.add(8)))
            };
            let mut acc0 = [b0; R];
            let mut acc1 = [b1; R];
            for kk in 0..k {
                let w0 = _mm256_loadu_ps(w.add(kk * PANEL));
                let w1 = _mm256_loadu_ps(w.add(kk * PANEL + 8));
                for i in 0..R {
                    let a = _mm256_broadcast_ss(&*x.add(i * ldx + kk));
                    acc0[i] = _mm256_fmadd_ps(a, w0, acc0[i]);
                    acc1[i] = _mm256_fmadd_ps(a, w1, acc1[i]);
                }
            }
            if valid == PANEL {
                for i in 0..R {
                    _mm256_storeu_ps(out.add(i * ldo), acc0[i]);
                    _mm256_storeu_ps(out.add(i * ldo + 8), acc1[i]);
                }
            } else {
                let m0 = mask(valid.min(8));
                let m1 = mask(valid.saturating_sub(8));
                for i in 0..R {
                    _mm256_maskstore_ps(out.add(i * ldo), m0, acc0[i]);
                    _mm256_maskstore_ps(out.add(i * ldo + 8), m1, acc1[i]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::pack::{DenseLayout, Packer};

    #[test]
    fn lane_callouts_match_the_interpreter() {
        let mut lanes = [0.5f32, -1.0, f32::NAN, 3.0];
        // SAFETY: 4 valid aligned lanes.
        unsafe { unary_f32x4(unary_code(UnaryOp::Erf) as u32, lanes.as_mut_ptr()) };
        assert_eq!(lanes[0], interp::unary_f32(UnaryOp::Erf, 0.5));
        assert!(lanes[2].is_nan());
        let mut two = [2.0f32, 2.0, -8.0, 0.0, 3.0, 0.5, 1.0 / 3.0, 0.0];
        // SAFETY: 8 valid aligned lanes.
        unsafe { binary_f32x4(binary_code(BinaryOp::Pow) as u32, two.as_mut_ptr()) };
        assert_eq!(two[0], 8.0);
        assert_eq!(two[3], 1.0);
        // Unknown codes leave the lanes alone.
        let mut keep = [1.0f32; 8];
        // SAFETY: 8 valid aligned lanes.
        unsafe { binary_f32x4(99, keep.as_mut_ptr()) };
        assert_eq!(keep, [1.0; 8]);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_dense_matches_naive_for_every_row_count_and_ragged_n() {
        if !has_avx2_fma() {
            return;
        }
        for &(k, n) in &[(1, 16), (3, 5), (64, 64), (7, 33), (5, 8)] {
            for rows in 0..14 {
                let w: Vec<f32> = (0..k * n).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
                let b: Vec<f32> = (0..n).map(|i| i as f32 * 0.25).collect();
                let ldx = k + 2;
                let x: Vec<f32> = (0..rows * ldx)
                    .map(|i| ((i * 5) % 11) as f32 - 5.0)
                    .collect();
                let mut p = Packer::default();
                let DenseLayout::Panels {
                    w: wo,
                    bias: Some(bo),
                } = p.dense(&w, k, n, Some(&b))
                else {
                    panic!("panels expected")
                };
                let data = p.finish();
                let ldo = n + 3;
                let sentinel = -777.0;
                let mut out = vec![sentinel; rows * ldo];
                // SAFETY: sizes as documented on `dense_avx2`.
                unsafe {
                    dense_avx2(
                        x.as_ptr(),
                        ldx,
                        rows,
                        data.as_ptr().add(wo),
                        data.as_ptr().add(bo),
                        out.as_mut_ptr(),
                        ldo,
                        k,
                        n,
                    )
                };
                for r in 0..rows {
                    for j in 0..ldo {
                        let got = out[r * ldo + j];
                        if j < n {
                            let want: f32 = b[j]
                                + (0..k)
                                    .map(|kk| x[r * ldx + kk] * w[kk * n + j])
                                    .sum::<f32>();
                            assert_eq!(got, want, "k={k} n={n} rows={rows} r={r} j={j}");
                        } else {
                            assert_eq!(got, sentinel, "wrote past n");
                        }
                    }
                }
            }
        }
    }
}
