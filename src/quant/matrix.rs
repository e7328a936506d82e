//! [`QuantMatrix`]: one layer's weight matrix in a quantized (or half/full precision) format,
//! stored channel-major for the kernels in [`super::kernels`].

use burn_std::f16;

use super::error::QuantError;
use super::format::{Granularity, WeightFormat, abs_max, quantize_value, symmetric_scale};

/// The stored values of a [`QuantMatrix`].
#[derive(Clone, Debug, PartialEq)]
pub enum Storage {
    /// `f32`, `rows × cols`.
    F32(Vec<f32>),
    /// `half::f16`, `rows × cols`.
    F16(Vec<f16>),
    /// `i8` codes in `[-127, 127]`, `rows × cols`.
    Int8(Vec<i8>),
    /// 4-bit two's-complement codes in `[-7, 7]`, two per byte: byte `i` of a row holds
    /// element `2i` in its low nibble and `2i + 1` in its high nibble; every row starts on a
    /// byte boundary (`cols.div_ceil(2)` bytes per row), an odd row ends with a zero nibble.
    Int4(Vec<u8>),
}

/// A weight matrix `W` of shape `[rows, cols]` = `[d_out, d_in]` (channel-major: the
/// transpose of Burn's `Linear` weight), quantized with symmetric scales.
///
/// The value of element `(r, c)` is `code(r, c) · scale(r, block(c))`; the scales are laid out
/// `[1]` (per tensor), `[rows]` (per channel) or `[rows, cols.div_ceil(n)]` (per block of `n`).
#[derive(Clone, Debug, PartialEq)]
pub struct QuantMatrix {
    rows: usize,
    cols: usize,
    format: WeightFormat,
    storage: Storage,
    scales: Vec<f32>,
}

/// Largest `d_in` for which an `i8 × i8` dot product cannot overflow its `i32` accumulator
/// (`127 · 127 · n < 2^31`).
pub const MAX_INT_DOT_LEN: usize = (i32::MAX / (127 * 127)) as usize;

impl QuantMatrix {
    /// Quantizes the row-major `[rows, cols]` matrix `w` (channel-major: one row per output
    /// channel) to `format`.
    ///
    /// Errors: [`QuantError::Empty`] for a matrix without elements, [`QuantError::NonFinite`]
    /// for NaN / ±inf values, [`QuantError::InvalidConfig`] for block size 0 or a `cols` too
    /// large for `i32` accumulation, [`QuantError::ShapeMismatch`] if `w.len() != rows · cols`.
    pub fn quantize(
        w: &[f32],
        rows: usize,
        cols: usize,
        format: WeightFormat,
        context: &str,
    ) -> Result<Self, QuantError> {
        format.validate()?;
        if w.len() != rows * cols {
            return Err(QuantError::ShapeMismatch {
                context: context.into(),
                expected: vec![rows, cols],
                got: vec![w.len()],
            });
        }
        if w.is_empty() {
            return Err(QuantError::Empty {
                context: context.into(),
            });
        }
        if let Some((index, &value)) = w.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(QuantError::NonFinite {
                context: context.into(),
                index,
                value,
            });
        }
        if cols > MAX_INT_DOT_LEN && format.qmax().is_some() {
            return Err(QuantError::InvalidConfig(format!(
                "{context}: d_in = {cols} exceeds {MAX_INT_DOT_LEN}, the longest i8 dot product \
                 an i32 accumulator holds; split the layer"
            )));
        }
        let (storage, scales) = match format {
            WeightFormat::F32 => (Storage::F32(w.to_vec()), Vec::new()),
            WeightFormat::F16 => (
                Storage::F16(w.iter().map(|&v| f16::from_f32(v)).collect()),
                Vec::new(),
            ),
            WeightFormat::Int8(g) | WeightFormat::Int4(g) => {
                let qmax = format.qmax().expect("integer format");
                let scales = group_scales(w, rows, cols, g, qmax);
                let block = block_len(g, cols);
                let nb = cols.div_ceil(block);
                let mut codes = vec![0i8; rows * cols];
                for r in 0..rows {
                    for c in 0..cols {
                        let s = scales[scale_index(g, r, c / block, nb)];
                        codes[r * cols + c] = quantize_value(w[r * cols + c], s, qmax);
                    }
                }
                let storage = if qmax == 127 {
                    Storage::Int8(codes)
                } else {
                    Storage::Int4(pack_int4(&codes, rows, cols))
                };
                (storage, scales)
            }
        };
        Ok(Self {
            rows,
            cols,
            format,
            storage,
            scales,
        })
    }

    /// Quantizes a Burn-layout `Linear` weight `[d_in, d_out]` (row-major), transposing it to
    /// channel-major first.
    pub fn from_linear_weight(
        w_in_out: &[f32],
        d_in: usize,
        d_out: usize,
        format: WeightFormat,
        context: &str,
    ) -> Result<Self, QuantError> {
        if w_in_out.len() != d_in * d_out {
            return Err(QuantError::ShapeMismatch {
                context: context.into(),
                expected: vec![d_in, d_out],
                got: vec![w_in_out.len()],
            });
        }
        let mut t = vec![0.0f32; w_in_out.len()];
        for i in 0..d_in {
            for o in 0..d_out {
                t[o * d_in + i] = w_in_out[i * d_out + o];
            }
        }
        Self::quantize(&t, d_out, d_in, format, context)
    }

    /// Number of rows (output channels).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (inputs).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The format.
    pub fn format(&self) -> WeightFormat {
        self.format
    }

    /// The stored values.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// All scales (empty for float formats).
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Length of a scale block along a row (`cols` for per-tensor and per-channel).
    pub fn block_len(&self) -> usize {
        match self.format.granularity() {
            Some(g) => block_len(g, self.cols),
            None => self.cols,
        }
    }

    /// The scales of row `r`, one per block (`[s]` for per-tensor / per-channel).
    pub fn row_scales(&self, r: usize) -> &[f32] {
        match self.format.granularity() {
            Some(Granularity::PerTensor) => &self.scales[..1],
            Some(Granularity::PerChannel) => &self.scales[r..r + 1],
            Some(Granularity::PerBlock(_)) => {
                let nb = self.cols.div_ceil(self.block_len());
                &self.scales[r * nb..(r + 1) * nb]
            }
            None => &[],
        }
    }

    /// Writes the integer codes of row `r` into `out` (`cols` long), unpacking INT4.
    ///
    /// # Panics
    /// If the format is not an integer one or `out.len() != cols`.
    pub fn row_codes_into(&self, r: usize, out: &mut [i8]) {
        assert_eq!(out.len(), self.cols, "row_codes_into: buffer length");
        match &self.storage {
            Storage::Int8(c) => out.copy_from_slice(&c[r * self.cols..(r + 1) * self.cols]),
            Storage::Int4(p) => {
                let stride = self.cols.div_ceil(2);
                unpack_int4_row(&p[r * stride..(r + 1) * stride], out);
            }
            Storage::F32(_) | Storage::F16(_) => panic!("row_codes_into on a float matrix"),
        }
    }

    /// Bytes of the stored values plus the scales.
    pub fn memory_bytes(&self) -> usize {
        let values = match &self.storage {
            Storage::F32(v) => 4 * v.len(),
            Storage::F16(v) => 2 * v.len(),
            Storage::Int8(v) => v.len(),
            Storage::Int4(v) => v.len(),
        };
        values + 4 * self.scales.len()
    }

    /// The matrix the kernels effectively multiply by, as row-major channel-major `f32`
    /// (`code · scale`, or the `f16` value widened). Used for the derivative (jet) path and
    /// for tests; the kernels themselves never build it.
    pub fn dequantize(&self) -> Vec<f32> {
        match &self.storage {
            Storage::F32(v) => v.clone(),
            Storage::F16(v) => v.iter().map(|h| h.to_f32()).collect(),
            Storage::Int8(_) | Storage::Int4(_) => {
                let mut out = Vec::with_capacity(self.rows * self.cols);
                let mut codes = vec![0i8; self.cols];
                let block = self.block_len();
                for r in 0..self.rows {
                    self.row_codes_into(r, &mut codes);
                    let s = self.row_scales(r);
                    out.extend(
                        codes
                            .iter()
                            .enumerate()
                            .map(|(c, &q)| q as f32 * s[c / block]),
                    );
                }
                out
            }
        }
    }

    /// [`dequantize`](Self::dequantize) transposed back to Burn's `[d_in, d_out]` layout.
    pub fn dequantize_linear_weight(&self) -> Vec<f32> {
        let d = self.dequantize();
        let mut t = vec![0.0f32; d.len()];
        for o in 0..self.rows {
            for i in 0..self.cols {
                t[i * self.rows + o] = d[o * self.cols + i];
            }
        }
        t
    }
}

/// Length of one scale block along a row of `cols` values.
pub(crate) fn block_len(g: Granularity, cols: usize) -> usize {
    match g {
        Granularity::PerTensor | Granularity::PerChannel => cols,
        Granularity::PerBlock(n) => n.min(cols).max(1),
    }
}

fn scale_index(g: Granularity, r: usize, b: usize, nb: usize) -> usize {
    match g {
        Granularity::PerTensor => 0,
        Granularity::PerChannel => r,
        Granularity::PerBlock(_) => r * nb + b,
    }
}

/// The scales of a channel-major matrix for granularity `g` (finite input).
fn group_scales(w: &[f32], rows: usize, cols: usize, g: Granularity, qmax: i32) -> Vec<f32> {
    match g {
        Granularity::PerTensor => vec![symmetric_scale(abs_max(w), qmax)],
        Granularity::PerChannel => (0..rows)
            .map(|r| symmetric_scale(abs_max(&w[r * cols..(r + 1) * cols]), qmax))
            .collect(),
        Granularity::PerBlock(_) => {
            let block = block_len(g, cols);
            let mut s = Vec::with_capacity(rows * cols.div_ceil(block));
            for r in 0..rows {
                for chunk in w[r * cols..(r + 1) * cols].chunks(block) {
                    s.push(symmetric_scale(abs_max(chunk), qmax));
                }
            }
            s
        }
    }
}

/// Packs `rows × cols` codes in `[-8, 7]` two per byte (see [`Storage::Int4`]).
pub fn pack_int4(codes: &[i8], rows: usize, cols: usize) -> Vec<u8> {
    let stride = cols.div_ceil(2);
    let mut out = vec![0u8; rows * stride];
    for r in 0..rows {
        let row = &codes[r * cols..(r + 1) * cols];
        for (i, pair) in row.chunks(2).enumerate() {
            let lo = (pair[0] as u8) & 0x0f;
            let hi = pair.get(1).map_or(0, |&v| (v as u8) & 0x0f);
            out[r * stride + i] = lo | (hi << 4);
        }
    }
    out
}

/// Unpacks one packed INT4 row into `out` (`out.len()` codes; `packed.len() ==
/// out.len().div_ceil(2)`), sign-extending each nibble.
#[inline]
pub fn unpack_int4_row(packed: &[u8], out: &mut [i8]) {
    let (pairs, tail) = out.split_at_mut(out.len() & !1);
    for (dst, &b) in pairs.chunks_exact_mut(2).zip(packed) {
        // Shift the nibble to the top of an i8, then arithmetic-shift it back: sign extension.
        dst[0] = ((b << 4) as i8) >> 4;
        dst[1] = (b as i8) >> 4;
    }
    if let Some(t) = tail.first_mut() {
        *t = ((packed[packed.len() - 1] << 4) as i8) >> 4;
    }
}
