//! The x86-64 kernel for dense layers with `i8` weights ([`super::pack::DenseLayout::Int8`]),
//! 256 bits wide: AVX2's `vpmaddwd` + `vpaddd`, or AVX512-VNNI's `vpdpwssd` (both in one
//! instruction) where the host has it. Same values as the inline code
//! ([`super::codegen`]'s `int8` module): the row's 16-bit codes and scale are computed with the
//! same formulas, the `i32` sums are exact, the rescale rounds the same two times.

use super::pack::{INT8_MAX_K, PANEL, int8_act_max};

/// Rows quantized and multiplied together: 6 rows × 2 accumulators + 2 weight vectors + 1
/// broadcast fit the 16 ymm registers.
const MR: usize = 6;
/// Layers with fewer inputs than this (even: `2 · ceil(k / 2) ≤ SMALL_K`) quantize their rows
/// into a buffer under a page.
const SMALL_K: usize = 256;

/// The 16-bit codes and scale of one row of `k` floats ([`super::codegen`] `quantize_row`):
/// `scale = m / amax` with `m = max|x|`, or `m = 1` for a `unit` row (a `tanh` output),
/// `code = round_ties_even(x · amax / m)` saturated to 16 bits, NaN products (`0 · inf`,
/// `inf · 0`, NaN) giving 0, and the scale NaN if `x` holds NaN. `codes` gets
/// `2 · ceil(k / 2)` values.
#[cfg(test)]
pub(crate) fn quantize_row_ref(x: &[f32], codes: &mut [i16], unit: bool) -> f32 {
    let amax = int8_act_max(x.len());
    let mut m = 0.0f32;
    for &v in x {
        m = if m.is_nan() || v.is_nan() {
            f32::NAN
        } else {
            m.max(v.abs())
        };
    }
    let has_nan = m.is_nan();
    if unit {
        m = 1.0;
    }
    let inv = amax / m;
    for (c, &v) in codes.iter_mut().zip(x) {
        *c = ((v * inv).round_ties_even() as i32).clamp(-32768, 32767) as i16;
    }
    if x.len() % 2 == 1 {
        codes[x.len()] = 0;
    }
    if has_nan { f32::NAN } else { m / amax }
}

/// `out[r, 0..n] = act(x[r, 0..k] · W + bias)` for `r < rows` with `W` as `i8` panels and
/// per-column `scale`; `act`'s low byte 0 (none) or 1 (`tanh`), its bit 8 set when the
/// input is a `tanh` (rows quantized with the fixed range 1).
///
/// # Safety
/// Only called when [`super::callout::has_avx2_fma`] is true. `x` must be readable at
/// `r * ldx + kk` for `r < rows, kk < k` (`k ≤ INT8_MAX_K`); `w` must hold `ceil(n / 16)`
/// panels of `ceil(k / 2) × 32` bytes; `scale` (and `bias` unless null) `ceil(n / 16) × 16`
/// floats; `out` must be writable at `r * ldo + j` for `r < rows, j < n` and overlap none of
/// the others.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "C" fn dense_int8_x86(
    x: *const f32,
    ldx: usize,
    rows: usize,
    w: *const u8,
    scale: *const f32,
    bias: *const f32,
    out: *mut f32,
    ldo: usize,
    k: usize,
    n: usize,
    act: usize,
) {
    let a = x86::Args {
        x,
        ldx,
        rows,
        w,
        scale,
        bias,
        out,
        ldo,
        k,
        n,
        tanh: act & 0xff == 1,
        unit: act & 0x100 != 0,
    };
    // SAFETY: forwarded contract; AVX2 and FMA were detected before this was registered, and
    // the VNNI kernel runs only where its features are detected.
    unsafe {
        if x86::has_vnni() {
            x86::dense_vnni(&a)
        } else {
            x86::dense_avx2(&a)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{INT8_MAX_K, MR, PANEL, SMALL_K, int8_act_max};
    use crate::inference::callout::tanh8;
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    pub(super) struct Args {
        pub x: *const f32,
        pub ldx: usize,
        pub rows: usize,
        pub w: *const u8,
        pub scale: *const f32,
        pub bias: *const f32,
        pub out: *mut f32,
        pub ldo: usize,
        pub k: usize,
        pub n: usize,
        pub tanh: bool,
        pub unit: bool,
    }

    pub(super) fn has_vnni() -> bool {
        is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl")
    }

    /// Codes and scale of one row, 8 lanes at a time ([`super::quantize_row_ref`]).
    ///
    /// # Safety
    /// `x` readable for `k` floats, `codes` writable for `2 · ceil(k / 2)` values.
    #[target_feature(enable = "avx2")]
    unsafe fn quantize_row(x: *const f32, k: usize, codes: *mut i16, unit: bool) -> f32 {
        // SAFETY: within the caller's bounds.
        unsafe {
            let amax = int8_act_max(k);
            let full = k / 8 * 8;
            let mut nan8 = _mm256_setzero_ps();
            let mut m = 1.0f32;
            if !unit {
                let sign = _mm256_set1_ps(-0.0);
                let mut m8 = _mm256_setzero_ps();
                for i in (0..full).step_by(8) {
                    let v = _mm256_loadu_ps(x.add(i));
                    m8 = _mm256_max_ps(m8, _mm256_andnot_ps(sign, v));
                    nan8 = _mm256_or_ps(nan8, _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v));
                }
                // Horizontal maximum of the 8 lanes.
                let h = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps::<1>(m8));
                let h = _mm_max_ps(h, _mm_movehl_ps(h, h));
                let h = _mm_max_ss(h, _mm_shuffle_ps::<1>(h, h));
                m = _mm_cvtss_f32(h);
                for i in full..k {
                    m = m.max((*x.add(i)).abs());
                }
            }
            let inv = amax / m;
            let inv8 = _mm256_set1_ps(inv);
            // `cvtps2dq` rounds to nearest-even (MXCSR's default, which Rust code assumes) and
            // turns NaN into i32::MIN. A unit row with NaN has a NaN scale, so its codes do not
            // matter; a dynamic row may hold `±inf · 0` products, which must code 0 like the
            // inline code's saturating conversion.
            for i in (0..full).step_by(8) {
                let v = _mm256_loadu_ps(x.add(i));
                let s = _mm256_mul_ps(v, inv8);
                let c = if unit {
                    nan8 = _mm256_or_ps(nan8, _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v));
                    _mm256_cvtps_epi32(s)
                } else {
                    _mm256_cvtps_epi32(_mm256_and_ps(s, _mm256_cmp_ps::<_CMP_ORD_Q>(s, s)))
                };
                let c16 =
                    _mm_packs_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256::<1>(c));
                _mm_storeu_si128(codes.add(i).cast(), c16);
            }
            let mut nan = _mm256_movemask_ps(nan8) != 0;
            for i in full..k {
                let v = *x.add(i);
                nan |= v.is_nan();
                let c = (v * inv).round_ties_even() as i32;
                *codes.add(i) = c.clamp(-32768, 32767) as i16;
            }
            if k % 2 == 1 {
                *codes.add(k) = 0;
            }
            if nan { f32::NAN } else { m / amax }
        }
    }

    /// The kernel, stamped out once per instruction set: `$madd(acc, x_pairs, w_pairs)`.
    /// Blocks of [`MR`] rows one panel at a time; the last rows one at a time, four panels at
    /// once (8 independent accumulators hide the multiply-add latency at batch 1).
    macro_rules! kernel {
        ($name:ident, $run:ident, $block:ident, $features:literal, $madd:expr) => {
            /// The kernel with a stack buffer for the codes just large enough for `k` (a frame
            /// of more than a page costs a stack probe per page on every call).
            #[target_feature(enable = $features)]
            pub(super) unsafe fn $name(a: &Args) {
                // SAFETY: forwarded; the buffer holds MR rows of `2 · ceil(k / 2)` codes.
                unsafe {
                    if a.k < SMALL_K {
                        $run::<{ MR * SMALL_K }>(a)
                    } else {
                        $run::<{ MR * (INT8_MAX_K + 1) }>(a)
                    }
                }
            }

            #[target_feature(enable = $features)]
            #[inline(never)]
            unsafe fn $run<const CODES: usize>(a: &Args) {
                let cpr = 2 * a.k.div_ceil(2);
                debug_assert!(MR * cpr <= CODES);
                let panels = a.n.div_ceil(PANEL);
                let mut buf = [MaybeUninit::<i16>::uninit(); CODES];
                let codes = buf.as_mut_ptr().cast::<i16>();
                let mut sx = [0.0f32; MR];
                // SAFETY: in bounds by the caller's contract; `codes` holds MR rows of
                // `cpr ≤ INT8_MAX_K + 1` codes, each written by `quantize_row` before it is
                // read.
                unsafe {
                    let mut r = 0;
                    while r < a.rows {
                        let mr = if a.rows - r >= MR { MR } else { 1 };
                        for (i, s) in sx.iter_mut().enumerate().take(mr) {
                            *s = quantize_row(
                                a.x.add((r + i) * a.ldx),
                                a.k,
                                codes.add(i * cpr),
                                a.unit,
                            );
                        }
                        let mut p = 0;
                        while p < panels {
                            let q = if mr == MR { 1 } else { (panels - p).min(4) };
                            match (mr, q) {
                                (MR, _) => $block::<MR, 1>(a, codes, &sx, r, p),
                                (_, 1) => $block::<1, 1>(a, codes, &sx, r, p),
                                (_, 2) => $block::<1, 2>(a, codes, &sx, r, p),
                                (_, 3) => $block::<1, 3>(a, codes, &sx, r, p),
                                _ => $block::<1, 4>(a, codes, &sx, r, p),
                            }
                            p += q;
                        }
                        r += mr;
                    }
                }
            }

            /// `R` rows from row `r` × `P` panels from panel `p0`.
            #[target_feature(enable = $features)]
            unsafe fn $block<const R: usize, const P: usize>(
                a: &Args,
                codes: *const i16,
                sx: &[f32; MR],
                r: usize,
                p0: usize,
            ) {
                let pairs = a.k.div_ceil(2);
                let cpr = 2 * pairs;
                // SAFETY: panels `p0 .. p0 + P` exist; rows `r .. r + R` are in the batch and
                // their codes were written by the caller.
                unsafe {
                    let mut acc = [[[_mm256_setzero_si256(); 2]; P]; R];
                    for m in 0..pairs {
                        let mut xp = [_mm256_setzero_si256(); R];
                        for (i, x) in xp.iter_mut().enumerate() {
                            let pair = codes.add(i * cpr + 2 * m).cast::<i32>().read_unaligned();
                            *x = _mm256_set1_epi32(pair);
                        }
                        for q in 0..P {
                            let wp = a.w.add(((p0 + q) * pairs + m) * 2 * PANEL);
                            let w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(wp.cast()));
                            let w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(wp.add(16).cast()));
                            for i in 0..R {
                                acc[i][q][0] = $madd(acc[i][q][0], xp[i], w0);
                                acc[i][q][1] = $madd(acc[i][q][1], xp[i], w1);
                            }
                        }
                    }
                    for (i, acc) in acc.iter().enumerate() {
                        for (q, acc) in acc.iter().enumerate() {
                            let col = (p0 + q) * PANEL;
                            let valid = PANEL.min(a.n - col);
                            let o = a.out.add((r + i) * a.ldo + col);
                            epilogue(a, acc, sx[i], col, o, valid);
                        }
                    }
                }
            }
        };
    }

    kernel!(dense_avx2, run_avx2, block_avx2, "avx2,fma", |acc, x, w| {
        _mm256_add_epi32(acc, _mm256_madd_epi16(x, w))
    });
    kernel!(
        dense_vnni,
        run_vnni,
        block_vnni,
        "avx2,fma,avx512vnni,avx512vl",
        |acc, x, w| _mm256_dpwssd_epi32(acc, x, w)
    );

    /// Rescale, bias, activation and store 16 columns (`valid` of them) of one row.
    ///
    /// # Safety
    /// `a.scale`/`a.bias` hold column `col + 15`; `o` is writable for `valid` floats.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn epilogue(
        a: &Args,
        acc: &[__m256i; 2],
        sx: f32,
        col: usize,
        o: *mut f32,
        valid: usize,
    ) {
        // SAFETY: within the caller's bounds.
        unsafe {
            let s8 = _mm256_set1_ps(sx);
            let mut v = [_mm256_setzero_ps(); 2];
            for h in 0..2 {
                let sw = _mm256_loadu_ps(a.scale.add(col + 8 * h));
                let f = _mm256_cvtepi32_ps(acc[h]);
                let mut y = _mm256_mul_ps(f, _mm256_mul_ps(s8, sw));
                if !a.bias.is_null() {
                    y = _mm256_add_ps(y, _mm256_loadu_ps(a.bias.add(col + 8 * h)));
                }
                v[h] = if a.tanh { tanh8(y) } else { y };
            }
            crate::inference::callout::store16(o, v[0], v[1], valid);
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::inference::callout::has_avx2_fma;
    use crate::inference::pack::{DenseLayout, Packer};

    /// The AVX2 kernel and the VNNI one (where the host has it) agree bit for bit; the model
    /// tests reach only the one the host selects.
    #[test]
    fn avx2_and_vnni_kernels_agree() {
        if !has_avx2_fma() {
            return;
        }
        let mut rng = crate::inference::tests::Rng::new(17);
        for &(k, n, rows) in &[(3, 5, 7), (64, 64, 13), (33, 40, 1), (130, 16, 6)] {
            let w = rng.vec(k * n, -1.0, 1.0);
            let b = rng.vec(n, -1.0, 1.0);
            let x = rng.vec(rows * k, -2.0, 2.0);
            let mut p = Packer::default();
            let DenseLayout::Int8 {
                w: wo,
                scale,
                bias: Some(bo),
                ..
            } = p.dense_int8(&w, k, n, Some(&b), false)
            else {
                panic!("int8 layout expected")
            };
            let data = p.finish();
            let run = |vnni: bool, tanh: bool, unit: bool| {
                let mut out = vec![-7.0f32; rows * n];
                let a = x86::Args {
                    x: x.as_ptr(),
                    ldx: k,
                    rows,
                    // SAFETY (offsets): inside `data`, as packed above.
                    w: unsafe { data.as_ptr().add(wo) }.cast(),
                    scale: unsafe { data.as_ptr().add(scale) },
                    bias: unsafe { data.as_ptr().add(bo) },
                    out: out.as_mut_ptr(),
                    ldo: n,
                    k,
                    n,
                    tanh,
                    unit,
                };
                // SAFETY: AVX2/FMA checked above, VNNI checked before use; sizes as packed.
                unsafe {
                    if vnni {
                        x86::dense_vnni(&a)
                    } else {
                        x86::dense_avx2(&a)
                    }
                }
                out
            };
            for (tanh, unit) in [(false, false), (true, false), (true, true)] {
                let plain = run(false, tanh, unit);
                assert!(plain.iter().all(|v| v.is_finite() && *v != -7.0));
                if x86::has_vnni() {
                    let v = run(true, tanh, unit);
                    let same = plain
                        .iter()
                        .zip(&v)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "k={k} n={n} rows={rows} tanh={tanh} unit={unit}");
                }
            }
        }
    }
}
