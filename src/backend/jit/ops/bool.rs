//! Boolean tensor operations of [`PinnJitBackend`], forwarded to burn-fusion, except the two
//! that take a boolean scalar: burn-fusion 0.21 panics when it records one (its relative stream
//! has no representation for `ScalarIr::Bool`), so they are rewritten as tensor logic.

use core::future::Future;

use burn_backend::ops::BoolTensorOps;
use burn_backend::tensor::{BoolTensor, Device, FloatTensor, IntTensor};
use burn_backend::{ExecutionError, Scalar, TensorData};
use burn_std::{BoolDType, FloatDType, IntDType, Shape, Slice};

use crate::backend::jit::{PinnJitBackend, delegate_to_fusion};

/// The truth value of a scalar used as a boolean (non-zero numbers are true).
fn truth(scalar: Scalar) -> bool {
    match scalar {
        Scalar::Bool(b) => b,
        Scalar::Float(x) => x != 0.0,
        Scalar::Int(x) => x != 0,
        Scalar::UInt(x) => x != 0,
    }
}

impl BoolTensorOps<Self> for PinnJitBackend {
    delegate_to_fusion! {
        fn bool_empty(shape: Shape, device: &Device<Self>, dtype: BoolDType) -> BoolTensor<Self>;
        fn bool_zeros(shape: Shape, device: &Device<Self>, dtype: BoolDType) -> BoolTensor<Self>;
        fn bool_ones(shape: Shape, device: &Device<Self>, dtype: BoolDType) -> BoolTensor<Self>;
        fn bool_into_data(tensor: BoolTensor<Self>) -> impl Future<Output = Result<TensorData, ExecutionError>> + Send;
        fn bool_from_data(data: TensorData, device: &Device<Self>) -> BoolTensor<Self>;
        fn bool_into_int(tensor: BoolTensor<Self>, out_dtype: IntDType) -> IntTensor<Self>;
        fn bool_into_float(tensor: BoolTensor<Self>, out_dtype: FloatDType) -> FloatTensor<Self>;
        fn bool_device(tensor: &BoolTensor<Self>) -> Device<Self>;
        fn bool_to_device(tensor: BoolTensor<Self>, device: &Device<Self>) -> BoolTensor<Self>;
        fn bool_reshape(tensor: BoolTensor<Self>, shape: Shape) -> BoolTensor<Self>;
        fn bool_slice(tensor: BoolTensor<Self>, slices: &[Slice]) -> BoolTensor<Self>;
        fn bool_slice_assign(tensor: BoolTensor<Self>, slices: &[Slice], value: BoolTensor<Self>) -> BoolTensor<Self>;
        fn bool_mask_where(tensor: BoolTensor<Self>, mask: BoolTensor<Self>, value: BoolTensor<Self>) -> BoolTensor<Self>;
        fn bool_gather(dim: usize, tensor: BoolTensor<Self>, indices: IntTensor<Self>) -> BoolTensor<Self>;
        fn bool_scatter_or(dim: usize, tensor: BoolTensor<Self>, indices: IntTensor<Self>, value: BoolTensor<Self>) -> BoolTensor<Self>;
        fn bool_select(tensor: BoolTensor<Self>, dim: usize, indices: IntTensor<Self>) -> BoolTensor<Self>;
        fn bool_select_or(tensor: BoolTensor<Self>, dim: usize, indices: IntTensor<Self>, value: BoolTensor<Self>) -> BoolTensor<Self>;
        fn bool_repeat_dim(tensor: BoolTensor<Self>, dim: usize, times: usize) -> BoolTensor<Self>;
        fn bool_cat(tensors: Vec<BoolTensor<Self>>, dim: usize) -> BoolTensor<Self>;
        fn bool_equal(lhs: BoolTensor<Self>, rhs: BoolTensor<Self>) -> BoolTensor<Self>;
        fn bool_not(tensor: BoolTensor<Self>) -> BoolTensor<Self>;
        fn bool_and(lhs: BoolTensor<Self>, rhs: BoolTensor<Self>) -> BoolTensor<Self>;
        fn bool_or(lhs: BoolTensor<Self>, rhs: BoolTensor<Self>) -> BoolTensor<Self>;
        fn bool_swap_dims(tensor: BoolTensor<Self>, dim1: usize, dim2: usize) -> BoolTensor<Self>;
        fn bool_permute(tensor: BoolTensor<Self>, axes: &[usize]) -> BoolTensor<Self>;
        fn bool_flip(tensor: BoolTensor<Self>, axes: &[usize]) -> BoolTensor<Self>;
        fn bool_expand(tensor: BoolTensor<Self>, shape: Shape) -> BoolTensor<Self>;
        fn bool_unfold(tensor: BoolTensor<Self>, dim: usize, size: usize, step: usize) -> BoolTensor<Self>;
    }

    /// `x == true` is `x`; `x == false` is `!x`.
    fn bool_equal_elem(lhs: BoolTensor<Self>, rhs: Scalar) -> BoolTensor<Self> {
        if truth(rhs) { lhs } else { Self::bool_not(lhs) }
    }

    /// Filling with `true` is `tensor | mask`; with `false`, `tensor & !mask`.
    fn bool_mask_fill(
        tensor: BoolTensor<Self>,
        mask: BoolTensor<Self>,
        value: Scalar,
    ) -> BoolTensor<Self> {
        if truth(value) {
            Self::bool_or(tensor, mask)
        } else {
            Self::bool_and(tensor, Self::bool_not(mask))
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Bool, Tensor, TensorData};

    use crate::PinnJitBackend;

    fn bools(t: Tensor<PinnJitBackend, 1, Bool>) -> Vec<bool> {
        t.into_data().to_vec().unwrap()
    }

    #[test]
    fn equal_elem_with_bool_scalar_records_without_panicking() {
        let device = Default::default();
        let x = Tensor::<PinnJitBackend, 1, Bool>::from_data(
            TensorData::from([true, false, true]),
            &device,
        );
        assert_eq!(bools(x.clone().equal_elem(true)), [true, false, true]);
        assert_eq!(bools(x.equal_elem(false)), [false, true, false]);
    }

    #[test]
    fn mask_fill_with_bool_scalar_sets_only_masked_elements() {
        let device = Default::default();
        let x = Tensor::<PinnJitBackend, 1, Bool>::from_data(
            TensorData::from([true, false, true, false]),
            &device,
        );
        let mask = Tensor::<PinnJitBackend, 1, Bool>::from_data(
            TensorData::from([true, true, false, false]),
            &device,
        );
        assert_eq!(
            bools(x.clone().mask_fill(mask.clone(), false)),
            [false, false, true, false]
        );
        assert_eq!(bools(x.mask_fill(mask, true)), [true, true, true, false]);
    }

    #[test]
    fn zero_size_bool_equal_elem() {
        let device = Default::default();
        let x = Tensor::<PinnJitBackend, 1, Bool>::from_data(
            TensorData::new(Vec::<bool>::new(), [0]),
            &device,
        );
        assert!(bools(x.equal_elem(true)).is_empty());
    }
}
