//! From tensor layouts to the 2-D iteration space of a compiled kernel.
//!
//! Every binding (input or output) of a fused chain is described by its strides over the
//! output's shape — zero along broadcast dimensions. [`IterSpace::new`] drops size-1
//! dimensions and merges neighbours that every binding walks contiguously, so that the common
//! cases collapse to one or two dimensions: a contiguous tensor becomes one long row, a
//! `[N, 64] + [1, 64]` bias add becomes `N` rows of 64 with a row stride of 0 for the bias.

use crate::kernel::LayoutClass;

/// The collapsed iteration space of one kernel launch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IterSpace {
    /// Dimension sizes after collapsing, outermost first. Never contains a 1; empty for a
    /// single element.
    pub dims: Vec<usize>,
    /// Per binding, its stride (in elements) along each of `dims`.
    pub strides: Vec<Vec<isize>>,
}

impl IterSpace {
    /// Collapse `shape` with one stride vector per binding (each as long as `shape`).
    pub fn new(shape: &[usize], strides: &[Vec<isize>]) -> Self {
        debug_assert!(strides.iter().all(|s| s.len() == shape.len()));
        let mut dims: Vec<usize> = Vec::with_capacity(shape.len());
        let mut out: Vec<Vec<isize>> = vec![Vec::with_capacity(shape.len()); strides.len()];
        for (d, &size) in shape.iter().enumerate() {
            if size == 1 {
                continue;
            }
            let mergeable = match dims.last() {
                Some(_) => strides.iter().zip(out.iter()).all(|(s, o)| {
                    let outer = *o.last().expect("a kept dimension has a stride");
                    outer == s[d] * size as isize
                }),
                None => false,
            };
            if mergeable {
                *dims.last_mut().expect("checked above") *= size;
                for (s, o) in strides.iter().zip(out.iter_mut()) {
                    *o.last_mut().expect("checked above") = s[d];
                }
            } else {
                dims.push(size);
                for (s, o) in strides.iter().zip(out.iter_mut()) {
                    o.push(s[d]);
                }
            }
        }
        IterSpace { dims, strides: out }
    }

    /// Total number of elements.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether there is nothing to compute.
    pub fn is_empty(&self) -> bool {
        self.dims.contains(&0)
    }

    /// Number of columns (the innermost dimension), at least 1.
    pub fn cols(&self) -> usize {
        self.dims.last().copied().unwrap_or(1)
    }

    /// Number of rows of the 2-D tile (the second innermost dimension), at least 1.
    pub fn rows(&self) -> usize {
        if self.dims.len() >= 2 {
            self.dims[self.dims.len() - 2]
        } else {
            1
        }
    }

    /// Dimensions outside the 2-D tile, outermost first (empty for rank ≤ 2).
    pub fn outer_dims(&self) -> &[usize] {
        &self.dims[..self.dims.len().saturating_sub(2)]
    }

    /// Column stride of a binding (1 when there is a single column).
    pub fn col_stride(&self, binding: usize) -> isize {
        match self.dims.last() {
            Some(_) => *self.strides[binding].last().expect("one stride per dim"),
            None => 1,
        }
    }

    /// Row stride of a binding (0 when there is a single row).
    pub fn row_stride(&self, binding: usize) -> isize {
        if self.dims.len() >= 2 {
            self.strides[binding][self.dims.len() - 2]
        } else {
            0
        }
    }

    /// How each binding is laid out along the columns: what the kernel is compiled for.
    pub fn layout_classes(&self) -> Vec<LayoutClass> {
        (0..self.strides.len())
            .map(|b| match self.col_stride(b) {
                1 => LayoutClass::Contiguous,
                0 => LayoutClass::Broadcast,
                _ => LayoutClass::Strided,
            })
            .collect()
    }
}

/// Row-major contiguous strides of a shape, in elements.
pub fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut acc = 1isize;
    for d in (0..shape.len()).rev() {
        strides[d] = acc;
        acc *= shape[d] as isize;
    }
    strides
}

/// Strides that read a tensor of shape `shape` (same rank, each dimension equal or 1) as if it
/// had shape `out_shape`: broadcast dimensions get stride 0.
///
/// # Panics
/// If the shapes are not broadcast-compatible; the fuser only builds kernels whose inputs are.
pub fn broadcast_strides(shape: &[usize], strides: &[isize], out_shape: &[usize]) -> Vec<isize> {
    assert_eq!(
        shape.len(),
        out_shape.len(),
        "pinn-jit kernel launch: input rank {} differs from output rank {}",
        shape.len(),
        out_shape.len()
    );
    shape
        .iter()
        .zip(strides)
        .zip(out_shape)
        .map(|((&s, &st), &o)| {
            if s == o {
                st
            } else if s == 1 {
                0
            } else {
                panic!(
                    "pinn-jit kernel launch: input shape {shape:?} does not broadcast to {out_shape:?}"
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_tensors_collapse_to_one_row() {
        let shape = [4, 5, 6];
        let s = contiguous_strides(&shape);
        let space = IterSpace::new(&shape, &[s.clone(), s]);
        assert_eq!(space.dims, vec![120]);
        assert_eq!(space.rows(), 1);
        assert_eq!(space.cols(), 120);
        assert_eq!(
            space.layout_classes(),
            vec![LayoutClass::Contiguous, LayoutClass::Contiguous]
        );
    }

    #[test]
    fn bias_broadcast_keeps_two_dims_with_zero_row_stride() {
        let out = [8, 64];
        let bias = broadcast_strides(&[1, 64], &[64, 1], &out);
        let space = IterSpace::new(&out, &[contiguous_strides(&out), bias]);
        assert_eq!(space.dims, vec![8, 64]);
        assert_eq!(space.row_stride(1), 0);
        assert_eq!(space.col_stride(1), 1);
    }

    #[test]
    fn column_broadcast_is_classified_broadcast() {
        let out = [8, 64];
        let col = broadcast_strides(&[8, 1], &[1, 1], &out);
        let space = IterSpace::new(&out, &[contiguous_strides(&out), col]);
        assert_eq!(
            space.layout_classes(),
            vec![LayoutClass::Contiguous, LayoutClass::Broadcast]
        );
    }

    #[test]
    fn transposed_input_is_strided() {
        // A [3, 4] view of a [4, 3] buffer.
        let out = [3, 4];
        let space = IterSpace::new(&out, &[contiguous_strides(&out), vec![1, 3]]);
        assert_eq!(space.dims, vec![3, 4]);
        assert_eq!(space.layout_classes()[1], LayoutClass::Strided);
    }

    #[test]
    fn size_one_and_zero_dims() {
        let space = IterSpace::new(&[1, 1], &[vec![1, 1]]);
        assert!(space.dims.is_empty());
        assert_eq!(space.len(), 1);
        assert_eq!((space.rows(), space.cols()), (1, 1));
        let empty = IterSpace::new(&[3, 0, 2], &[contiguous_strides(&[3, 0, 2])]);
        assert!(empty.is_empty());
    }

    #[test]
    fn rank_three_with_middle_broadcast_keeps_outer_dim() {
        let out = [2, 3, 4];
        let b = broadcast_strides(&[2, 1, 4], &[4, 4, 1], &out);
        let space = IterSpace::new(&out, &[contiguous_strides(&out), b]);
        assert_eq!(space.dims, vec![2, 3, 4]);
        assert_eq!(space.outer_dims(), &[2]);
        assert_eq!(space.strides[1], vec![4, 0, 1]);
    }

    #[test]
    #[should_panic(expected = "does not broadcast")]
    fn incompatible_shapes_panic_with_message() {
        broadcast_strides(&[3, 2], &[2, 1], &[3, 4]);
    }
}
