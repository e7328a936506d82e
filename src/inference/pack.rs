//! Packing weights and constants for the generated code: one `f32` array (the model's data
//! object), each section 64-byte aligned.
//!
//! Dense weights are stored in *panels* of [`PANEL`] output columns: panel `p` holds
//! `W[kk][16p .. 16p + 16]` for `kk = 0 .. k`, one 16-float line per `kk`, zero-padded past `n`.
//! A micro-kernel then streams one contiguous line per step of the reduction, whatever the
//! vector width (4 lanes for Cranelift's SIMD, 8 for the AVX2 kernel). Narrow layers (`n < 4`)
//! are stored transposed instead (`n` rows of `k`), for dot products along `k`.
//!
//! With [`WeightPrecision::Int8`], layers of at least 4 outputs store `i8` codes instead
//! (symmetric, one `f32` scale per output column: `w ≈ scale[j] · q`), four to a float of the
//! data array. Their panels interleave pairs of reduction steps, the layout of a
//! "multiply 16-bit pairs and add" instruction (x86 `pmaddwd`/`vpdpwssd`): for pair `m`, 32
//! bytes `q[2m][c], q[2m + 1][c]` for `c = 0 .. 16` (a zero row pads an odd `k`). See
//! [`int8_act_max`] for the activations they are multiplied with.

/// The numeric format of packed dense weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WeightPrecision {
    /// `f32` weights, the trained values exactly.
    #[default]
    F32,
    /// `i8` codes with a symmetric scale per output column (4× less weight memory), multiplied
    /// with the layer's input quantized per row to 16-bit integers at run time, accumulated
    /// exactly in `i32` and rescaled once per output. Layers with fewer than 4 outputs, fewer
    /// than [`INT8_MIN_K`] inputs (few weights, and quantizing their input costs more than the
    /// integer products save) or more than [`INT8_MAX_K`] inputs stay `f32`.
    Int8,
}

/// Narrowest input (`k`) of an `i8` layer.
pub const INT8_MIN_K: usize = 16;

/// Widest input (`k`) of an `i8` layer: its quantized row lives on the generated code's stack.
pub const INT8_MAX_K: usize = 4096;

/// Largest activation code of an `i8` layer with `k` inputs: 32767 where `i32` accumulation of
/// `k` products `|q| ≤ 127 × code` cannot overflow (`k ≤ 516`), smaller above.
pub fn int8_act_max(k: usize) -> f32 {
    let pairs = k.div_ceil(2).max(1) as u64;
    (((i32::MAX as u64) / (127 * 2 * pairs)).min(32767)) as f32
}

use crate::quant::{quantize_value, symmetric_scale};

/// Output columns per weight panel.
pub(crate) const PANEL: usize = 16;
/// Alignment of every section, in floats (64 bytes).
const ALIGN: usize = 16;

/// Where a dense layer's packed weights and bias are, as float offsets into the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DenseLayout {
    /// `ceil(n / 16)` panels of `k × 16` floats at `w`; bias padded to a multiple of 16.
    Panels { w: usize, bias: Option<usize> },
    /// `n × k` (transposed) at `wt`; bias of `n` floats.
    Dot { wt: usize, bias: Option<usize> },
    /// `i8` panels (`ceil(n / 16)` panels of `ceil(k / 2) × 32` bytes) at float offset `w`;
    /// `scale` and `bias` padded like [`DenseLayout::Panels`]' bias.
    Int8 {
        w: usize,
        scale: usize,
        bias: Option<usize>,
        /// The layer's input is a `tanh`, within [-1, 1]: its rows are quantized with the
        /// fixed range 1 (one pass, no division) instead of their largest magnitude.
        unit_input: bool,
    },
}

/// Per-column symmetric `i8` quantization of a `k × n` row-major matrix: codes (same layout)
/// and scales, by [`crate::quant`]'s definitions (`scale = max|w| / 127`, codes rounded to
/// nearest-even), so the codes are those of `quant`'s per-channel INT8 weights. A column whose
/// largest magnitude is 0 gets scale 0 and codes 0.
///
/// # Panics
/// If a weight is not finite (checked by the caller).
pub(crate) fn quantize_columns(weight: &[f32], k: usize, n: usize) -> (Vec<i8>, Vec<f32>) {
    let mut amax = vec![0.0f32; n];
    for row in weight.chunks_exact(n).take(k) {
        for (m, &w) in amax.iter_mut().zip(row) {
            assert!(w.is_finite(), "int8 packing of a non-finite weight");
            *m = m.max(w.abs());
        }
    }
    let scale: Vec<f32> = amax.iter().map(|&m| symmetric_scale(m, 127)).collect();
    let codes = weight
        .iter()
        .enumerate()
        .map(|(i, &w)| quantize_value(w, scale[i % n], 127))
        .collect();
    (codes, scale)
}

/// Whether a `k → n` dense layer is packed as dot products.
pub(crate) fn use_dot(n: usize) -> bool {
    n < 4
}

/// Float offset of the `tanh` constant table ([`super::activation::tanh_table`]): every model's
/// data starts with it, so the generated code reads the constants as memory operands instead
/// of keeping them in registers across the dense kernels' loops.
pub(crate) const TANH_TABLE: usize = 0;

/// Accumulates the data array.
pub(crate) struct Packer {
    data: Vec<f32>,
    /// Bytes of dense weights, scales and biases packed so far (without padding).
    weight_bytes: usize,
}

impl Default for Packer {
    fn default() -> Self {
        let mut p = Packer {
            data: Vec::new(),
            weight_bytes: 0,
        };
        let at = p.row(&super::activation::tanh_table());
        debug_assert_eq!(at, TANH_TABLE);
        p
    }
}

impl Packer {
    fn section(&mut self, len: usize) -> usize {
        let at = self.data.len().next_multiple_of(ALIGN);
        self.data.resize(at + len, 0.0);
        at
    }

    /// A constant row; returns its offset.
    pub fn row(&mut self, values: &[f32]) -> usize {
        let at = self.section(values.len());
        self.data[at..at + values.len()].copy_from_slice(values);
        at
    }

    /// A dense layer's `k × n` row-major weights and optional bias.
    pub fn dense(
        &mut self,
        weight: &[f32],
        k: usize,
        n: usize,
        bias: Option<&[f32]>,
    ) -> DenseLayout {
        debug_assert_eq!(weight.len(), k * n);
        self.weight_bytes += 4 * (k * n + bias.map_or(0, <[f32]>::len));
        if use_dot(n) {
            let wt = self.section(k * n);
            for j in 0..n {
                for kk in 0..k {
                    self.data[wt + j * k + kk] = weight[kk * n + j];
                }
            }
            let bias = bias.map(|b| self.row(b));
            return DenseLayout::Dot { wt, bias };
        }
        let panels = n.div_ceil(PANEL);
        let w = self.section(panels * k * PANEL);
        for p in 0..panels {
            for kk in 0..k {
                for j in 0..PANEL.min(n - p * PANEL) {
                    self.data[w + (p * k + kk) * PANEL + j] = weight[kk * n + p * PANEL + j];
                }
            }
        }
        let bias = bias.map(|b| {
            let at = self.section(panels * PANEL);
            self.data[at..at + n].copy_from_slice(b);
            at
        });
        DenseLayout::Panels { w, bias }
    }

    /// A dense layer as `i8` codes per [`DenseLayout::Int8`] (the caller checked `n ≥ 4` and
    /// that every weight is finite).
    pub fn dense_int8(
        &mut self,
        weight: &[f32],
        k: usize,
        n: usize,
        bias: Option<&[f32]>,
        unit_input: bool,
    ) -> DenseLayout {
        debug_assert_eq!(weight.len(), k * n);
        self.weight_bytes += k * n + 4 * (n + bias.map_or(0, <[f32]>::len));
        let (codes, scales) = quantize_columns(weight, k, n);
        let panels = n.div_ceil(PANEL);
        let pairs = k.div_ceil(2);
        let mut bytes = vec![0u8; panels * pairs * 2 * PANEL];
        for p in 0..panels {
            for kk in 0..k {
                for j in 0..PANEL.min(n - p * PANEL) {
                    let at = (p * pairs + kk / 2) * 2 * PANEL + 2 * j + kk % 2;
                    bytes[at] = codes[kk * n + p * PANEL + j] as u8;
                }
            }
        }
        let w = self.section(bytes.len().div_ceil(4));
        for (f, b) in self.data[w..].iter_mut().zip(bytes.chunks(4)) {
            let mut le = [0u8; 4];
            le[..b.len()].copy_from_slice(b);
            *f = f32::from_le_bytes(le);
        }
        let scale = self.section(panels * PANEL);
        self.data[scale..scale + n].copy_from_slice(&scales);
        let bias = bias.map(|b| {
            let at = self.section(panels * PANEL);
            self.data[at..at + n].copy_from_slice(b);
            at
        });
        DenseLayout::Int8 {
            w,
            scale,
            bias,
            unit_input,
        }
    }

    /// Bytes of the dense layers packed so far (see `CompiledModel::weight_bytes`).
    pub fn weight_bytes(&self) -> usize {
        self.weight_bytes
    }

    /// The packed data.
    pub fn finish(self) -> Vec<f32> {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_hold_sixteen_columns_per_line_zero_padded() {
        let (k, n) = (3, 20);
        let w: Vec<f32> = (0..k * n).map(|i| i as f32 + 1.0).collect();
        let b: Vec<f32> = (0..n).map(|i| -(i as f32)).collect();
        let mut p = Packer::default();
        p.row(&[9.0]); // misalign on purpose
        let layout = p.dense(&w, k, n, Some(&b));
        let data = p.finish();
        let DenseLayout::Panels { w: at, bias } = layout else {
            panic!("{layout:?}")
        };
        assert_eq!(at % ALIGN, 0);
        for kk in 0..k {
            for j in 0..n {
                let (pn, jj) = (j / PANEL, j % PANEL);
                assert_eq!(data[at + (pn * k + kk) * PANEL + jj], w[kk * n + j]);
            }
            for jj in n % PANEL..PANEL {
                assert_eq!(data[at + (k + kk) * PANEL + jj], 0.0);
            }
        }
        let bias = bias.unwrap();
        assert_eq!(&data[bias..bias + n], &b[..]);
        assert_eq!(data[bias + n..bias + 32], [0.0; 12]);
    }

    #[test]
    fn narrow_layers_are_transposed() {
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 3 × 2
        let mut p = Packer::default();
        let layout = p.dense(&w, 3, 2, None);
        let data = p.finish();
        let DenseLayout::Dot { wt, bias: None } = layout else {
            panic!("{layout:?}")
        };
        assert_eq!(&data[wt..wt + 6], &[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
    }
}
