//! `slice_assign` of `f32`/`f64` tensors in place.
//!
//! burn-flex 0.21's `slice_assign` keeps a second reference to the destination's buffer while
//! it writes (it shadows the argument with `to_contiguous()`, which for a contiguous tensor is a
//! clone of the same `Arc`), so its copy-on-write always copies the whole destination first. In
//! Burn's autodiff every backward pass of a slice is `zeros` followed by `slice_assign` of the
//! gradient: for a PINN's jets that copy was 7 % of a training step. Here a uniquely owned,
//! contiguous destination is written in place; a shared one is copied once, as it must be.
//! Slices with steps other than 1, views and other dtypes go to burn-flex.

use burn_backend::DType;
use burn_flex::FlexTensor;
use burn_std::Slice;

/// Whether [`slice_assign`] handles these arguments: an `f32`/`f64` destination that is
/// contiguous over its whole buffer, a value of the same dtype, unit-step slices.
pub fn handles(tensor: &FlexTensor, slices: &[Slice], value: &FlexTensor) -> bool {
    let layout = tensor.layout();
    let rank = layout.num_dims();
    let elems = match tensor.dtype() {
        DType::F32 => tensor.storage::<f32>().len(),
        DType::F64 => tensor.storage::<f64>().len(),
        _ => return false,
    };
    value.dtype() == tensor.dtype()
        && rank > 0
        && slices.len() <= rank
        && slices.iter().all(|s| s.step() == 1)
        && tensor.is_contiguous()
        && layout.start_offset() == 0
        && elems == layout.shape().num_elements()
}

/// `tensor[slices] = value`, for arguments [`handles`] accepts.
///
/// # Panics
/// If [`handles`] rejects the arguments, or `value`'s shape is not the slice region's.
pub fn slice_assign(tensor: FlexTensor, slices: &[Slice], value: FlexTensor) -> FlexTensor {
    assert!(
        handles(&tensor, slices, &value),
        "slice_assign: arguments not handled in place"
    );
    match tensor.dtype() {
        DType::F32 => assign::<f32>(tensor, slices, value),
        _ => assign::<f64>(tensor, slices, value),
    }
}

fn assign<E: burn_backend::Element + bytemuck::Pod>(
    mut tensor: FlexTensor,
    slices: &[Slice],
    value: FlexTensor,
) -> FlexTensor {
    let shape = tensor.layout().shape().clone();
    let rank = shape.num_dims();
    // Region: start and length per dimension (dimensions past `slices` are taken whole).
    let region: Vec<(usize, usize)> = (0..rank)
        .map(|d| match slices.get(d) {
            Some(s) => {
                let r = s.to_range(shape[d]);
                (r.start, r.end.saturating_sub(r.start))
            }
            None => (0, shape[d]),
        })
        .collect();
    let lens: Vec<usize> = region.iter().map(|&(_, len)| len).collect();
    assert_eq!(
        value.layout().num_dims(),
        rank,
        "slice_assign: value of rank {} for a destination of rank {rank}",
        value.layout().num_dims()
    );
    for d in 0..rank {
        assert_eq!(
            value.layout().shape()[d],
            lens[d],
            "slice_assign: value shape {:?} does not match the slice region {lens:?} of a \
             tensor of shape {shape:?}",
            value.layout().shape()
        );
    }
    if lens.contains(&0) {
        return tensor;
    }
    let value = value.to_contiguous();
    let src = value.storage::<E>();
    let src = &src[value.layout().start_offset()..];
    // Row-major strides of the destination.
    let mut strides = vec![1usize; rank];
    for d in (0..rank - 1).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    // In place when this is the only reference to the buffer; otherwise one copy.
    let dst: &mut [E] = match tensor.try_storage_mut::<E>() {
        Some(dst) => dst,
        None => tensor.storage_mut::<E>(),
    };
    let row = lens[rank - 1];
    let rows = lens[..rank - 1].iter().product::<usize>();
    let mut index = vec![0usize; rank - 1];
    for r in 0..rows {
        let at: usize = (0..rank - 1)
            .map(|d| (region[d].0 + index[d]) * strides[d])
            .sum::<usize>()
            + region[rank - 1].0;
        dst[at..at + row].copy_from_slice(&src[r * row..(r + 1) * row]);
        // Next index of the outer dimensions, last fastest.
        for d in (0..rank - 1).rev() {
            index[d] += 1;
            if index[d] < lens[d] {
                break;
            }
            index[d] = 0;
        }
    }
    tensor
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn_backend::TensorData;

    fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values, shape))
    }

    fn values(t: &FlexTensor) -> Vec<f32> {
        t.to_contiguous().storage::<f32>().to_vec()
    }

    fn r(start: usize, end: usize) -> Slice {
        Slice::new(start as isize, Some(end as isize), 1)
    }

    #[test]
    fn matches_burn_flex_on_ranges_of_every_rank() {
        let cases: Vec<(Vec<usize>, Vec<Slice>)> = vec![
            (vec![7], vec![r(2, 5)]),
            (vec![4, 6], vec![r(1, 3), r(2, 6)]),
            (vec![4, 6], vec![r(0, 4)]),
            (vec![3, 4, 5], vec![r(1, 3), r(0, 4), r(1, 2)]),
            (vec![8192, 6], vec![r(0, 8192), r(2, 4)]),
            (vec![5, 3], vec![r(2, 2)]),
        ];
        for (shape, slices) in cases {
            let n: usize = shape.iter().product();
            let dst: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let lens: Vec<usize> = (0..shape.len())
                .map(|d| match slices.get(d) {
                    Some(s) => s.to_range(shape[d]).len(),
                    None => shape[d],
                })
                .collect();
            let m: usize = lens.iter().product();
            let val: Vec<f32> = (0..m).map(|i| -(i as f32) - 0.5).collect();
            let (d, v) = (
                tensor(dst.clone(), shape.clone()),
                tensor(val.clone(), lens.clone()),
            );
            assert!(handles(&d, &slices, &v), "{shape:?} {slices:?}");
            let ours = slice_assign(d, &slices, v);
            let flex = burn_flex::ops::slice::slice_assign(
                tensor(dst, shape.clone()),
                &slices,
                tensor(val, lens),
            );
            assert_eq!(values(&ours), values(&flex), "{shape:?} {slices:?}");
        }
    }

    #[test]
    fn a_transposed_value_is_read_through_its_strides() {
        // value = [[1, 2], [3, 4]] stored transposed.
        let value = FlexTensor::new(
            burn_std::Bytes::from_elems(vec![1.0f32, 3.0, 2.0, 4.0]),
            burn_flex::Layout::new(burn_std::Shape::from(vec![2, 2]), vec![1, 2], 0),
            DType::F32,
        );
        let out = slice_assign(tensor(vec![0.0; 6], vec![2, 3]), &[r(0, 2), r(1, 3)], value);
        assert_eq!(values(&out), [0.0, 1.0, 2.0, 0.0, 3.0, 4.0]);
    }

    #[test]
    fn a_shared_destination_is_copied_not_written_through() {
        let dst = tensor(vec![0.0; 6], vec![2, 3]);
        let keep = dst.clone(); // a second reference to the same buffer
        let out = slice_assign(dst, &[r(0, 1), r(0, 3)], tensor(vec![1.0; 3], vec![1, 3]));
        assert_eq!(values(&out), [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(values(&keep), [0.0; 6]);
    }

    #[test]
    fn steps_views_and_other_dtypes_are_left_to_burn_flex() {
        let stepped = Slice::new(0, Some(4), 2);
        let dst = tensor(vec![0.0; 4], vec![4]);
        assert!(!handles(&dst, &[stepped], &tensor(vec![1.0; 2], vec![2])));
        let ints = FlexTensor::from_data(TensorData::new(vec![0i32; 4], [4]));
        assert!(!handles(&ints, &[r(0, 2)], &ints));
        let sliced = burn_flex::ops::slice::slice(tensor(vec![0.0; 8], vec![8]), &[r(2, 6)]);
        assert!(!handles(
            &sliced,
            &[r(0, 2)],
            &tensor(vec![1.0; 2], vec![2])
        ));
    }

    #[test]
    #[should_panic(expected = "does not match the slice region")]
    fn a_value_of_the_wrong_shape_panics() {
        let _ = slice_assign(
            tensor(vec![0.0; 6], vec![2, 3]),
            &[r(0, 1), r(0, 3)],
            tensor(vec![1.0; 2], vec![1, 2]),
        );
    }
}
