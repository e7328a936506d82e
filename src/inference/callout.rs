//! Rust functions the generated model code calls: the AVX2 dense micro-kernel (large tiles on
//! x86-64 hosts that have AVX2 and FMA). Element-wise operations without an inline lowering
//! call the element-wise kernels' per-vector fallbacks ([`crate::codegen::callout`], computed
//! with the kernel interpreter's definitions, so bit-exact with it), registered under
//! [`UNARY`] and [`BINARY`].
//!
//! Cranelift's SIMD is 128 bits wide; the dense kernel here uses 256-bit AVX2 FMAs on packed
//! weight panels ([`super::pack`]), which doubles the arithmetic per instruction where it
//! matters (the matrix products of large batches). A target without it — or ahead-of-time code —
//! uses the pure-Cranelift path for every batch size.

use super::pack::PANEL;

/// Symbol names under which the JIT registers the callouts.
pub(crate) const DENSE: &str = "pinn_jit_infer_dense_avx2";
pub(crate) const UNARY: &str = "pinn_jit_infer_unary_f32x4";
pub(crate) const BINARY: &str = "pinn_jit_infer_binary_f32x4";
/// The `i8` dense kernel ([`super::callout_int8`]).
pub(crate) const DENSE_INT8: &str = "pinn_jit_infer_dense_int8";

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

/// `out[r, 0..n] = act(x[r, 0..k] · W + bias)` for `r < rows`, with `W` packed in panels and
/// `act` 0 (none) or 1 (`tanh`, [`super::activation`], applied to the accumulators).
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
    act: usize,
) {
    // SAFETY: forwarded contract; the features were detected before this was registered.
    unsafe { avx2::dense(x, ldx, rows, w, bias, out, ldo, k, n, act == 1) }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use avx2::{store16, tanh8};

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::PANEL;
    use crate::inference::activation::{TANH_CLAMP, TANH_P, TANH_Q, TANH_TINY};
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
        tanh: bool,
    ) {
        let panels = n.div_ceil(PANEL);
        let full = rows / MR * MR;
        let shape = (ldx, ldo, k, tanh);
        // SAFETY (all pointer arithmetic below): in bounds by the caller's contract — panel `p`
        // of `w` and of `bias`, rows `< rows` of `x` and `out`, columns `< n` of `out`.
        unsafe {
            // Blocks of MR rows, one panel at a time.
            for p in 0..panels {
                let valid = PANEL.min(n - p * PANEL);
                let wp = w.add(p * k * PANEL);
                let bp = if bias.is_null() {
                    bias
                } else {
                    bias.add(p * PANEL)
                };
                for r in (0..full).step_by(MR) {
                    block(
                        x.add(r * ldx),
                        wp,
                        bp,
                        out.add(r * ldo + p * PANEL),
                        valid,
                        shape,
                    );
                }
            }
            // Leftover rows one at a time, up to 4 panels at once: 8 independent accumulators
            // hide the FMA latency that a single panel's 2 would expose (the batch-1 path).
            for r in full..rows {
                let mut p = 0;
                while p < panels {
                    let count = (panels - p).min(4);
                    let last_valid = PANEL.min(n - (p + count - 1) * PANEL);
                    let wp = w.add(p * k * PANEL);
                    let bp = if bias.is_null() {
                        bias
                    } else {
                        bias.add(p * PANEL)
                    };
                    let (xr, or) = (x.add(r * ldx), out.add(r * ldo + p * PANEL));
                    match count {
                        1 => row::<1>(xr, wp, bp, or, last_valid, shape),
                        2 => row::<2>(xr, wp, bp, or, last_valid, shape),
                        3 => row::<3>(xr, wp, bp, or, last_valid, shape),
                        _ => row::<4>(xr, wp, bp, or, last_valid, shape),
                    }
                    p += count;
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

    /// `tanh` of 8 lanes, operation for operation what `activation::emit_tanh` emits.
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn tanh8(x0: __m256) -> __m256 {
        let abs = _mm256_andnot_ps(_mm256_set1_ps(-0.0), x0);
        let tiny = _mm256_cmp_ps::<_CMP_LT_OQ>(abs, _mm256_set1_ps(TANH_TINY));
        // Clamp to ±TANH_CLAMP; `max`/`min` return their second operand when one is NaN, so
        // NaN stays NaN.
        let x = _mm256_max_ps(_mm256_set1_ps(-TANH_CLAMP), x0);
        let x = _mm256_min_ps(_mm256_set1_ps(TANH_CLAMP), x);
        let x2 = _mm256_mul_ps(x, x);
        let mut p = _mm256_set1_ps(TANH_P[0]);
        for &c in &TANH_P[1..] {
            p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(c));
        }
        let p = _mm256_mul_ps(p, x);
        let mut q = _mm256_set1_ps(TANH_Q[0]);
        for &c in &TANH_Q[1..] {
            q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(c));
        }
        _mm256_blendv_ps(_mm256_div_ps(p, q), x0, tiny)
    }

    /// Store 16 lanes (`valid` of them) at `out`.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn store16(out: *mut f32, v0: __m256, v1: __m256, valid: usize) {
        // SAFETY: the caller owns `valid` floats at `out`.
        unsafe {
            if valid == PANEL {
                _mm256_storeu_ps(out, v0);
                _mm256_storeu_ps(out.add(8), v1);
            } else {
                _mm256_maskstore_ps(out, mask(valid.min(8)), v0);
                _mm256_maskstore_ps(out.add(8), mask(valid.saturating_sub(8)), v1);
            }
        }
    }

    /// [`MR`] rows × one 16-column panel; `shape` is `(ldx, ldo, k, tanh)`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block(
        x: *const f32,
        w: *const f32,
        bias: *const f32,
        out: *mut f32,
        valid: usize,
        (ldx, ldo, k, tanh): (usize, usize, usize, bool),
    ) {
        // SAFETY: see `dense`; every access is inside the caller's bounds.
        unsafe {
            let (b0, b1) = if bias.is_null() {
                (_mm256_setzero_ps(), _mm256_setzero_ps())
            } else {
                (_mm256_loadu_ps(bias), _mm256_loadu_ps(bias.add(8)))
            };
            let mut acc0 = [b0; MR];
            let mut acc1 = [b1; MR];
            for kk in 0..k {
                let w0 = _mm256_loadu_ps(w.add(kk * PANEL));
                let w1 = _mm256_loadu_ps(w.add(kk * PANEL + 8));
                for i in 0..MR {
                    let a = _mm256_broadcast_ss(&*x.add(i * ldx + kk));
                    acc0[i] = _mm256_fmadd_ps(a, w0, acc0[i]);
                    acc1[i] = _mm256_fmadd_ps(a, w1, acc1[i]);
                }
            }
            for i in 0..MR {
                let (v0, v1) = if tanh {
                    (tanh8(acc0[i]), tanh8(acc1[i]))
                } else {
                    (acc0[i], acc1[i])
                };
                store16(out.add(i * ldo), v0, v1, valid);
            }
        }
    }

    /// One row × `P` consecutive panels (all full but the last, which has `last_valid`
    /// columns); same arithmetic per element as [`block`].
    #[target_feature(enable = "avx2,fma")]
    unsafe fn row<const P: usize>(
        x: *const f32,
        w: *const f32,
        bias: *const f32,
        out: *mut f32,
        last_valid: usize,
        (_, _, k, tanh): (usize, usize, usize, bool),
    ) {
        // SAFETY: see `dense`; every access is inside the caller's bounds.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); 2]; P];
            if !bias.is_null() {
                for (q, a) in acc.iter_mut().enumerate() {
                    a[0] = _mm256_loadu_ps(bias.add(q * PANEL));
                    a[1] = _mm256_loadu_ps(bias.add(q * PANEL + 8));
                }
            }
            for kk in 0..k {
                let a = _mm256_broadcast_ss(&*x.add(kk));
                for (q, acc) in acc.iter_mut().enumerate() {
                    let wq = w.add((q * k + kk) * PANEL);
                    acc[0] = _mm256_fmadd_ps(a, _mm256_loadu_ps(wq), acc[0]);
                    acc[1] = _mm256_fmadd_ps(a, _mm256_loadu_ps(wq.add(8)), acc[1]);
                }
            }
            for (q, acc) in acc.iter().enumerate() {
                let (v0, v1) = if tanh {
                    (tanh8(acc[0]), tanh8(acc[1]))
                } else {
                    (acc[0], acc[1])
                };
                let valid = if q + 1 == P { last_valid } else { PANEL };
                store16(out.add(q * PANEL), v0, v1, valid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::pack::{DenseLayout, Packer};

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_tanh_epilogue_is_bit_identical_to_the_reference() {
        if !has_avx2_fma() {
            return;
        }
        // A 1 → 16 identity-like layer: out = tanh(x · 1 + 0) for many x.
        let mut w = vec![0.0f32; 16];
        w[..].fill(1.0);
        let mut p = Packer::default();
        let DenseLayout::Panels { w: wo, bias: None } = p.dense(&w, 1, 16, None) else {
            panic!("panels expected")
        };
        let data = p.finish();
        let xs: Vec<f32> = (0..4000)
            .map(|i| (i as f32 - 2000.0) * 0.0047)
            .chain([
                f32::NAN,
                f32::INFINITY,
                -f32::INFINITY,
                -0.0,
                1e-30,
                8.5,
                -7.99,
            ])
            .collect();
        let mut out = vec![0.0f32; xs.len() * 16];
        // SAFETY: sizes as documented on `dense_avx2`.
        unsafe {
            dense_avx2(
                xs.as_ptr(),
                1,
                xs.len(),
                data.as_ptr().add(wo),
                std::ptr::null(),
                out.as_mut_ptr(),
                16,
                1,
                16,
                1,
            )
        };
        for (r, &x) in xs.iter().enumerate() {
            // The dense output is `x · 1 + 0` (so -0 becomes +0).
            let want = crate::inference::activation::tanh_ref(x.mul_add(1.0, 0.0), true);
            let got = out[r * 16 + 5];
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "tanh({x}) = {got}, reference {want}"
            );
        }
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
                        0,
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
