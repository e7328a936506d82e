//! The quantized matrix products, in plain Rust the compiler vectorises.
//!
//! All of them compute `y[i, j] = Σ_k x[i, k] · W[j, k] + b[j]` for a channel-major
//! [`QuantMatrix`] `W` (`[m, k]`), and `x` `[n, k]` / `y` `[n, m]` row-major:
//!
//! * [`linear_f32_act`]: `f32` activations. `f32` weights are used as stored; `f16` weights are
//!   widened one row at a time; INT8 / INT4 codes are widened (exactly) to `f32` one row at a
//!   time and each block's partial sum is multiplied by its scale afterwards — the weights are
//!   never dequantised into a full `f32` matrix.
//! * [`linear_i8_act`]: activations already quantized to `i8` with one scale per row
//!   ([`quantize_rows_dynamic`] / [`quantize_rows_static`]); each block is an `i8 × i8` dot
//!   product accumulated in `i32`, scaled by `x_scale[i] · w_scale[j, block]`.
//!
//! Samples are processed in tiles of [`TILE`] rows, so a weight row is unpacked once per tile;
//! large products split their tiles across rayon's threads.

use rayon::prelude::*;

use super::format::{abs_max, quantize_value};
use super::matrix::{QuantMatrix, Storage};

/// Samples per tile.
pub const TILE: usize = 64;

/// Below this many multiply-adds a product runs on the calling thread.
const PARALLEL_MIN_MACS: usize = 1 << 18;

/// `Σ a·b` with eight independent accumulators (vectorisable without reassociation).
#[inline(always)]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (xa, yb) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(xa).zip(yb) {
            *s += x * y;
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// The exact `f32` value of the IEEE half-precision number with bits `h`, branch-free so a
/// row converts with SIMD (the bit manipulation of F. Giesen's `half_to_float`): normal numbers
/// are re-biased, subnormals normalised through a float subtraction, ±inf / NaN keep an
/// all-ones exponent.
#[inline(always)]
pub fn f16_bits_to_f32(h: u16) -> f32 {
    const SHIFTED_EXP: u32 = 0x7c00 << 13;
    let magic = f32::from_bits(113 << 23);
    let mut o = u32::from(h & 0x7fff) << 13;
    let exp = o & SHIFTED_EXP;
    o += (127 - 15) << 23;
    let inf_nan = if exp == SHIFTED_EXP {
        (128 - 16) << 23
    } else {
        0
    };
    let sub = (f32::from_bits(o + (1 << 23)) - magic).to_bits();
    let o = if exp == 0 { sub } else { o + inf_nan };
    f32::from_bits(o | (u32::from(h & 0x8000) << 16))
}

/// `Σ a·b` of `i8` vectors, accumulated exactly in `i32` (the caller guarantees the length
/// cannot overflow: at most [`super::matrix::MAX_INT_DOT_LEN`]).
#[inline(always)]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

/// Quantizes each row of `x` (`[n, k]`) to `i8` with its own scale `max |row| / 127`
/// (dynamic quantization). A row holding NaN or ±inf gets a non-finite scale, so its outputs
/// are non-finite too; an all-zero row gets scale 0 and all-zero codes.
pub fn quantize_rows_dynamic(x: &[f32], k: usize, xq: &mut [i8], xs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if simd::avx2() {
        // SAFETY: `simd::avx2()` has just checked at run time that this CPU supports AVX2, the
        // only precondition of calling a `#[target_feature(enable = "avx2")]` function.
        return unsafe { simd::quantize_rows_dynamic_avx2(x, k, xq, xs) };
    }
    quantize_rows_dynamic_portable(x, k, xq, xs);
}

#[inline(always)]
fn quantize_rows_dynamic_portable(x: &[f32], k: usize, xq: &mut [i8], xs: &mut [f32]) {
    for ((row, q), s) in x.chunks_exact(k).zip(xq.chunks_exact_mut(k)).zip(xs) {
        let amax = abs_max(row);
        *s = amax / 127.0;
        quantize_row(row, *s, q);
        if !amax.is_finite() {
            *s = f32::NAN;
        }
    }
}

/// Quantizes each row of `x` with the fixed (calibrated) `scale`; values beyond `127 · scale`
/// saturate. A row holding NaN or ±inf gets scale NaN (its outputs are NaN).
pub fn quantize_rows_static(x: &[f32], k: usize, scale: f32, xq: &mut [i8], xs: &mut [f32]) {
    for ((row, q), s) in x.chunks_exact(k).zip(xq.chunks_exact_mut(k)).zip(xs) {
        quantize_row(row, scale, q);
        *s = if row.iter().all(|v| v.is_finite()) {
            scale
        } else {
            f32::NAN
        };
    }
}

#[inline(always)]
fn quantize_row(row: &[f32], scale: f32, out: &mut [i8]) {
    if scale == 0.0 || !scale.is_finite() {
        out.fill(0);
        return;
    }
    for (q, &v) in out.iter_mut().zip(row) {
        *q = quantize_value(v, scale, 127);
    }
}

/// `y = x · Wᵀ + b` with `f32` activations `x` `[n, k]`; `y` is `[n, m]`.
///
/// # Panics
/// If the slice lengths do not match `n`, `W`'s shape and the bias length `m`.
pub fn linear_f32_act(w: &QuantMatrix, bias: Option<&[f32]>, x: &[f32], n: usize, y: &mut [f32]) {
    let (m, k) = (w.rows(), w.cols());
    check(w, bias, x.len(), n, y.len());
    let run = |(t, ytile): (usize, &mut [f32])| {
        let x0 = t * TILE;
        let rows = ytile.len() / m;
        let xtile = &x[x0 * k..(x0 + rows) * k];
        f32_tile(w, bias, xtile, rows, ytile);
    };
    if n * m * k >= PARALLEL_MIN_MACS {
        y.par_chunks_mut(TILE * m).enumerate().for_each(run);
    } else {
        y.chunks_mut(TILE * m).enumerate().for_each(run);
    }
}

fn f32_tile(w: &QuantMatrix, bias: Option<&[f32]>, x: &[f32], rows: usize, y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if simd::avx2() {
        // SAFETY: `simd::avx2()` has just checked at run time that this CPU supports AVX2, the
        // only precondition of calling a `#[target_feature(enable = "avx2")]` function.
        return unsafe { simd::f32_tile_avx2(w, bias, x, rows, y) };
    }
    f32_tile_portable(w, bias, x, rows, y);
}

/// The body of [`f32_tile`], inlined into both the portable and the AVX2 entry points.
#[inline(always)]
fn f32_tile_portable(w: &QuantMatrix, bias: Option<&[f32]>, x: &[f32], rows: usize, y: &mut [f32]) {
    let (m, k) = (w.rows(), w.cols());
    let block = w.block_len();
    let mut wrow = vec![0.0f32; k];
    let mut codes = vec![0i8; k];
    for j in 0..m {
        let b = bias.map_or(0.0, |b| b[j]);
        match w.storage() {
            Storage::F32(v) => {
                let wr = &v[j * k..(j + 1) * k];
                for i in 0..rows {
                    y[i * m + j] = dot_f32(&x[i * k..(i + 1) * k], wr) + b;
                }
            }
            Storage::F16(v) => {
                for (d, h) in wrow.iter_mut().zip(&v[j * k..(j + 1) * k]) {
                    *d = f16_bits_to_f32(h.to_bits());
                }
                for i in 0..rows {
                    y[i * m + j] = dot_f32(&x[i * k..(i + 1) * k], &wrow) + b;
                }
            }
            Storage::Int8(_) | Storage::Int4(_) => {
                w.row_codes_into(j, &mut codes);
                for (d, &q) in wrow.iter_mut().zip(&codes) {
                    *d = f32::from(q);
                }
                let scales = w.row_scales(j);
                for i in 0..rows {
                    let xi = &x[i * k..(i + 1) * k];
                    let mut acc = 0.0f32;
                    for ((xb, wb), &s) in xi.chunks(block).zip(wrow.chunks(block)).zip(scales) {
                        acc += dot_f32(xb, wb) * s;
                    }
                    y[i * m + j] = acc + b;
                }
            }
        }
    }
}

/// `y = x · Wᵀ + b` with `i8` activations `xq` `[n, k]` of per-row scales `xs` `[n]`, for an
/// INT8 / INT4 `W`: integer dot products per block, accumulated in `i32`.
///
/// # Panics
/// If `W` is a float matrix or the lengths do not match.
pub fn linear_i8_act(
    w: &QuantMatrix,
    bias: Option<&[f32]>,
    xq: &[i8],
    xs: &[f32],
    n: usize,
    y: &mut [f32],
) {
    let (m, k) = (w.rows(), w.cols());
    check(w, bias, xq.len(), n, y.len());
    assert_eq!(xs.len(), n, "linear_i8_act: one activation scale per row");
    assert!(
        matches!(w.storage(), Storage::Int8(_) | Storage::Int4(_)),
        "linear_i8_act needs an INT8 or INT4 weight matrix"
    );
    let run = |(t, ytile): (usize, &mut [f32])| {
        let x0 = t * TILE;
        let rows = ytile.len() / m;
        i8_tile(
            w,
            bias,
            &xq[x0 * k..(x0 + rows) * k],
            &xs[x0..x0 + rows],
            rows,
            ytile,
        );
    };
    if n * m * k >= PARALLEL_MIN_MACS {
        y.par_chunks_mut(TILE * m).enumerate().for_each(run);
    } else {
        y.chunks_mut(TILE * m).enumerate().for_each(run);
    }
}

fn i8_tile(
    w: &QuantMatrix,
    bias: Option<&[f32]>,
    xq: &[i8],
    xs: &[f32],
    rows: usize,
    y: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if simd::avx2() {
        // SAFETY: `simd::avx2()` has just checked at run time that this CPU supports AVX2, the
        // only precondition of calling a `#[target_feature(enable = "avx2")]` function.
        return unsafe { simd::i8_tile_avx2(w, bias, xq, xs, rows, y) };
    }
    i8_tile_portable(w, bias, xq, xs, rows, y);
}

/// The body of [`i8_tile`], inlined into both the portable and the AVX2 entry points.
#[inline(always)]
fn i8_tile_portable(
    w: &QuantMatrix,
    bias: Option<&[f32]>,
    xq: &[i8],
    xs: &[f32],
    rows: usize,
    y: &mut [f32],
) {
    let (m, k) = (w.rows(), w.cols());
    let block = w.block_len();
    let mut codes = vec![0i8; k];
    for j in 0..m {
        let b = bias.map_or(0.0, |b| b[j]);
        w.row_codes_into(j, &mut codes);
        let scales = w.row_scales(j);
        for i in 0..rows {
            let xi = &xq[i * k..(i + 1) * k];
            let acc = if scales.len() == 1 {
                dot_i8(xi, &codes) as f32 * scales[0]
            } else {
                let mut acc = 0.0f32;
                for ((xb, wb), &s) in xi.chunks(block).zip(codes.chunks(block)).zip(scales) {
                    acc += dot_i8(xb, wb) as f32 * s;
                }
                acc
            };
            y[i * m + j] = acc * xs[i] + b;
        }
    }
}

/// Run-time selection of the AVX2 build of the tile loops (x86-64 only; the portable build,
/// SSE2 on x86-64, is used elsewhere and when [`force_portable`] is set).
#[cfg(target_arch = "x86_64")]
mod simd {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::{QuantMatrix, f32_tile_portable, i8_tile_portable, quantize_rows_dynamic_portable};

    pub(super) static PORTABLE_ONLY: AtomicBool = AtomicBool::new(false);

    /// Whether to take the AVX2 path: the CPU has it and it is not switched off.
    #[inline]
    pub(super) fn avx2() -> bool {
        !PORTABLE_ONLY.load(Ordering::Relaxed) && std::arch::is_x86_feature_detected!("avx2")
    }

    /// [`f32_tile_portable`] compiled for AVX2 (8-lane `f32`, 16-lane `i16` products).
    #[target_feature(enable = "avx2")]
    pub(super) fn f32_tile_avx2(
        w: &QuantMatrix,
        bias: Option<&[f32]>,
        x: &[f32],
        rows: usize,
        y: &mut [f32],
    ) {
        f32_tile_portable(w, bias, x, rows, y);
    }

    /// [`quantize_rows_dynamic_portable`] compiled for AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) fn quantize_rows_dynamic_avx2(x: &[f32], k: usize, xq: &mut [i8], xs: &mut [f32]) {
        quantize_rows_dynamic_portable(x, k, xq, xs);
    }

    /// [`i8_tile_portable`] compiled for AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) fn i8_tile_avx2(
        w: &QuantMatrix,
        bias: Option<&[f32]>,
        xq: &[i8],
        xs: &[f32],
        rows: usize,
        y: &mut [f32],
    ) {
        i8_tile_portable(w, bias, xq, xs, rows, y);
    }
}

/// Switches the AVX2 build of the kernels off (`true`) or back on (`false`), e.g. to compare
/// or test the portable build. Has no effect off x86-64. Results of the two builds agree to
/// `f32` rounding (integer dot products exactly).
pub fn force_portable(on: bool) {
    #[cfg(target_arch = "x86_64")]
    simd::PORTABLE_ONLY.store(on, std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = on;
}

fn check(w: &QuantMatrix, bias: Option<&[f32]>, x_len: usize, n: usize, y_len: usize) {
    let (m, k) = (w.rows(), w.cols());
    assert_eq!(x_len, n * k, "quantized linear: input must be [n, d_in]");
    assert_eq!(y_len, n * m, "quantized linear: output must be [n, d_out]");
    if let Some(b) = bias {
        assert_eq!(b.len(), m, "quantized linear: bias must be [d_out]");
    }
}
