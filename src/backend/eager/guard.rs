//! Shape and dtype guards in front of burn-flex.
//!
//! burn-flex 0.21 mishandles a few zero-size cases that have a perfectly defined (empty or
//! zero) result: a matmul with an empty batch dimension reads out of bounds, and reductions
//! along a dimension of a tensor with no elements assert. `PinnCpu` answers those cases here
//! and hands everything else to burn-flex unchanged.

use burn_backend::{DType, TensorMetadata};
use burn_flex::FlexTensor;
use burn_std::Shape;

/// The result of reducing `tensor` along `dim` (kept as size 1) when that result has no
/// elements: an empty tensor of `dtype`. `None` when the reduction has something to compute.
pub fn empty_reduction(tensor: &FlexTensor, dim: usize, dtype: DType) -> Option<FlexTensor> {
    let shape = tensor.shape();
    assert!(
        dim < shape.num_dims(),
        "reduction along dimension {dim} of a tensor of shape {shape:?}: no such dimension"
    );
    let mut out = shape.clone();
    out[dim] = 1;
    (out.num_elements() == 0).then(|| FlexTensor::zeros(out, dtype))
}

/// The output shape of a batched matmul of `lhs` by `rhs` (`[.., m, k] × [.., k, n]`, batch
/// dimensions broadcast), when it has no elements or the product is over an empty `k`: then
/// the result is all zeros and nothing needs computing. `None` otherwise.
///
/// # Panics
/// If the shapes cannot be multiplied, with a message naming both.
pub fn empty_matmul(lhs: &FlexTensor, rhs: &FlexTensor) -> Option<FlexTensor> {
    let (l, r) = (lhs.shape(), rhs.shape());
    let rank = l.num_dims();
    assert!(
        rank >= 2 && rank == r.num_dims(),
        "matmul: lhs {l:?} and rhs {r:?} must have the same rank, at least 2"
    );
    assert_eq!(
        l[rank - 1],
        r[rank - 2],
        "matmul: lhs {l:?} and rhs {r:?}: inner dimensions differ"
    );
    let mut out: Vec<usize> = Vec::with_capacity(rank);
    for d in 0..rank - 2 {
        let (a, b) = (l[d], r[d]);
        assert!(
            a == b || a == 1 || b == 1,
            "matmul: lhs {l:?} and rhs {r:?}: batch dimension {d} does not broadcast"
        );
        out.push(if a == 1 { b } else { a });
    }
    out.push(l[rank - 2]);
    out.push(r[rank - 1]);
    let out = Shape::from(out);
    let k = l[rank - 1];
    (out.num_elements() == 0 || k == 0).then(|| FlexTensor::zeros(out, lhs.dtype()))
}

/// `tensor` labelled with `dtype`, its bytes unchanged.
///
/// burn-flex 0.21's `bool_gather`, `bool_select` and `bool_select_or` compute on the `u8` storage of a bool
/// tensor and label the result `U8`; a bool tensor is stored as one byte per element, 0 or 1,
/// so relabelling it with the input's bool dtype is all that is needed.
///
/// # Panics
/// If the two dtypes have different element sizes (the bytes could not be reinterpreted).
pub fn relabel(tensor: FlexTensor, dtype: DType) -> FlexTensor {
    if tensor.dtype() == dtype {
        return tensor;
    }
    assert_eq!(
        tensor.dtype().size(),
        dtype.size(),
        "relabel: {:?} and {dtype:?} differ in element size",
        tensor.dtype()
    );
    let layout = tensor.layout().clone();
    FlexTensor::from_arc(tensor.data_arc(), layout, dtype)
}

/// Whether a matmul whose left operand is `lhs` multiplies over an inner dimension of size 1
/// (call after [`empty_matmul`], which checks the shapes).
pub fn is_outer_product(lhs: &FlexTensor) -> bool {
    let shape = lhs.shape();
    shape[shape.num_dims() - 1] == 1
}

/// `tensor`, copied to a contiguous layout when burn-flex 0.21's f32 `sum_dim`/`mean_dim`/
/// `prod_dim` along `dim` would read it wrongly.
///
/// For a view whose reduced dimension has stride 1 and no dimension before it larger than 1,
/// burn-flex reads the storage as `inner_size` rows of `dim_size` packed elements, ignoring the
/// strides of the dimensions after `dim`. That holds for a plain transpose but not for a
/// broadcast (stride 0) or flipped (negative stride) view, which Autodiff produces in backward
/// passes: burn-flex then reads past the end of the buffer and panics, or sums the wrong
/// elements. Every other layout is passed through untouched.
pub fn flex_reducible(tensor: FlexTensor, dim: usize) -> FlexTensor {
    if tensor.dtype() != DType::F32 || tensor.is_contiguous() {
        return tensor;
    }
    let layout = tensor.layout();
    let (shape, strides) = (layout.shape(), layout.strides());
    let rank = shape.num_dims();
    if dim >= rank || strides[dim] != 1 || shape[..dim].iter().any(|&n| n > 1) {
        return tensor;
    }
    // The branches burn-flex takes before the affected one (its checks, restated).
    let inner_unit = strides.iter().all(|&s| s >= 0) && (dim + 1 >= rank || strides[rank - 1] == 1);
    if inner_unit {
        return tensor;
    }
    // Safe only if the dimensions after `dim` are packed rows of `dim_size` elements.
    let mut expected = shape[dim] as isize;
    let mut packed = true;
    for k in (dim + 1..rank).rev() {
        if shape[k] > 1 && strides[k] != expected {
            packed = false;
            break;
        }
        expected *= shape[k] as isize;
    }
    if packed {
        tensor
    } else {
        tensor.to_contiguous()
    }
}

#[cfg(test)]
mod tests {
    use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
    use burn_backend::{DType, TensorData, TensorMetadata};
    use burn_std::{BoolDType, IntDType};

    use crate::backend::{PinnCpu, PinnJitDevice};

    fn zeros(shape: &[usize]) -> burn_flex::FlexTensor {
        PinnCpu::float_from_data(
            TensorData::new(vec![0f32; shape.iter().product()], shape.to_vec()),
            &PinnJitDevice::Cpu,
        )
    }

    /// Reductions of views that Autodiff builds in backward passes: expanded columns (stride
    /// 0), transposed flips (negative stride), a plain transpose (handled by burn-flex
    /// directly) and a 3-D transposed broadcast, against the same reductions of contiguous
    /// copies. The first two views crash or mis-sum in burn-flex 0.21 without the guard.
    #[test]
    fn reductions_of_broadcast_and_flipped_views_read_the_right_elements() {
        let base = PinnCpu::float_from_data(
            TensorData::new((0..6).map(|v| v as f32 + 0.5).collect::<Vec<_>>(), [3, 2]),
            &PinnJitDevice::Cpu,
        );
        let column = PinnCpu::float_slice(
            base.clone(),
            &[burn_std::Slice::from(0..3), burn_std::Slice::from(0..1)],
        );
        let flat = PinnCpu::float_reshape(base.clone(), burn_std::Shape::from([6, 1]));
        let views = [
            PinnCpu::float_expand(flat, burn_std::Shape::from([6, 4])),
            PinnCpu::float_swap_dims(PinnCpu::float_flip(base.clone(), &[0]), 0, 1),
            PinnCpu::float_expand(column, burn_std::Shape::from([3, 4])),
            PinnCpu::float_swap_dims(PinnCpu::float_flip(base.clone(), &[1]), 0, 1),
            PinnCpu::float_swap_dims(base.clone(), 0, 1),
            PinnCpu::float_swap_dims(
                PinnCpu::float_expand(
                    PinnCpu::float_reshape(base, burn_std::Shape::from([3, 2, 1])),
                    burn_std::Shape::from([3, 2, 5]),
                ),
                0,
                1,
            ),
        ];
        for view in views {
            let rank = view.shape().num_dims();
            for dim in 0..rank {
                let dense = view.to_contiguous();
                for (ours, reference) in [
                    (
                        PinnCpu::float_sum_dim(view.clone(), dim),
                        PinnCpu::float_sum_dim(dense.clone(), dim),
                    ),
                    (
                        PinnCpu::float_mean_dim(view.clone(), dim),
                        PinnCpu::float_mean_dim(dense.clone(), dim),
                    ),
                    (
                        PinnCpu::float_prod_dim(view.clone(), dim),
                        PinnCpu::float_prod_dim(dense, dim),
                    ),
                ] {
                    let (a, b) = (ours.into_data(), reference.into_data());
                    assert_eq!(a.shape, b.shape);
                    assert_eq!(
                        a.to_vec::<f32>().unwrap(),
                        b.to_vec::<f32>().unwrap(),
                        "{view:?} dim {dim}"
                    );
                }
            }
        }
    }

    #[test]
    fn matmul_with_empty_broadcast_batch_is_empty_not_a_crash() {
        // burn-flex 0.21 reads out of bounds on this one.
        let out = PinnCpu::float_matmul(zeros(&[0, 1, 1, 1]), zeros(&[1, 1, 1, 1]));
        assert_eq!(out.shape().to_vec(), [0, 1, 1, 1]);
    }

    #[test]
    fn matmul_over_empty_inner_dimension_is_zeros() {
        let out = PinnCpu::float_matmul(zeros(&[2, 0]), zeros(&[0, 3]));
        let data: Vec<f32> = out.into_data().to_vec().unwrap();
        assert_eq!(data, vec![0.0; 6]);
    }

    #[test]
    fn outer_product_matmul_matches_the_gemm_bit_for_bit() {
        use burn_flex::Flex;
        let lhs = PinnCpu::float_from_data(
            TensorData::new(vec![1.5f32, -2.0, 3.25, f32::INFINITY], [2, 2, 1]),
            &PinnJitDevice::Cpu,
        );
        let rhs = PinnCpu::float_from_data(
            TensorData::new(vec![0.1f32, 7.0, -0.0, 2.0, 1e-3, 4.0], [1, 1, 6]),
            &PinnJitDevice::Cpu,
        );
        let ours: Vec<f32> = PinnCpu::float_matmul(lhs.clone(), rhs.clone())
            .into_data()
            .to_vec()
            .unwrap();
        let gemm: Vec<f32> = Flex::float_matmul(lhs, rhs).into_data().to_vec().unwrap();
        assert_eq!(ours.len(), 24);
        for (a, b) in ours.iter().zip(&gemm) {
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{a} vs {b}"
            );
        }
    }

    #[test]
    fn bool_gather_and_select_keep_the_bool_dtype() {
        let device = PinnJitDevice::Cpu;
        let x = PinnCpu::bool_from_data(TensorData::from([[true, false, true]]), &device);
        let dtype = x.dtype();
        let idx = PinnCpu::int_from_data(TensorData::from([2i64, 0, 1, 2]), &device);
        let picked = PinnCpu::bool_select(x.clone(), 1, idx.clone());
        assert_eq!(picked.dtype(), dtype);
        let data: Vec<bool> = picked.into_data().to_vec().unwrap();
        assert_eq!(data, [true, true, false, true]);
        let zeros = PinnCpu::int_from_data(TensorData::from([0i64; 4]), &device);
        let value = PinnCpu::bool_select(x.clone(), 1, zeros);
        let or = PinnCpu::bool_select_or(x.clone(), 1, idx, value);
        assert_eq!(or.dtype(), dtype);
        let gidx = PinnCpu::int_from_data(TensorData::from([[1i64, 0]]), &device);
        let gathered = PinnCpu::bool_gather(1, x, gidx);
        assert_eq!(gathered.dtype(), dtype);
        let data: Vec<bool> = gathered.into_data().to_vec().unwrap();
        assert_eq!(data, [false, true]);
    }

    #[test]
    #[should_panic(expected = "inner dimensions differ")]
    fn matmul_shape_mismatch_names_the_shapes() {
        PinnCpu::float_matmul(zeros(&[0, 2]), zeros(&[3, 4]));
    }

    #[test]
    fn reductions_of_empty_tensors_with_empty_results() {
        let t = zeros(&[0, 0, 0]);
        assert_eq!(
            PinnCpu::float_max_dim(t.clone(), 2).shape().to_vec(),
            [0, 0, 1]
        );
        assert_eq!(
            PinnCpu::float_argmin(t.clone(), 1, IntDType::I32).dtype(),
            DType::I32
        );
        let b = PinnCpu::float_lower_elem(t, 0f32.into(), BoolDType::Native);
        assert_eq!(
            PinnCpu::bool_any_dim(b.clone(), 0).shape().to_vec(),
            [1, 0, 0]
        );
        assert_eq!(PinnCpu::bool_all_dim(b, 2).shape().to_vec(), [0, 0, 1]);
    }
}
