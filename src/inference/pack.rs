//! Packing weights and constants for the generated code: one `f32` array (the model's data
//! object), each section 64-byte aligned.
//!
//! Dense weights are stored in *panels* of [`PANEL`] output columns: panel `p` holds
//! `W[kk][16p .. 16p + 16]` for `kk = 0 .. k`, one 16-float line per `kk`, zero-padded past `n`.
//! A micro-kernel then streams one contiguous line per step of the reduction, whatever the
//! vector width (4 lanes for Cranelift's SIMD, 8 for the AVX2 kernel). Narrow layers (`n < 4`)
//! are stored transposed instead (`n` rows of `k`), for dot products along `k`.

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
}

impl Default for Packer {
    fn default() -> Self {
        let mut p = Packer { data: Vec::new() };
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
