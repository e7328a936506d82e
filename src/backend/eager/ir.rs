//! The bridge to burn-fusion: tensor handles, [`BackendIr`] and [`FusionBackend`].

use burn_backend::DType;
use burn_backend::tensor::{BoolTensor, FloatTensor, IntTensor, QuantizedTensor};
use burn_flex::{FlexQTensor, FlexTensor};
use burn_fusion::FusionBackend;
use burn_ir::{BackendIr, TensorHandle};

use crate::backend::eager::PinnCpu;
use crate::fusion::PinnFusionRuntime;

/// A tensor as burn-fusion's handle container stores it between operations.
///
/// Float, int and bool tensors are all [`FlexTensor`]s (the dtype is inside); quantized tensors
/// have their own primitive.
#[derive(Clone, Debug)]
pub enum PinnHandle {
    /// A float, int or bool tensor.
    Tensor(FlexTensor),
    /// A quantized tensor.
    Quantized(FlexQTensor),
}

impl PinnHandle {
    /// The plain tensor inside.
    ///
    /// # Panics
    /// If the handle holds a quantized tensor: the fusion stream asked for a float/int/bool
    /// tensor where it recorded a quantized one, which is a bug in the recorder.
    pub fn into_tensor(self) -> FlexTensor {
        match self {
            PinnHandle::Tensor(t) => t,
            PinnHandle::Quantized(_) => {
                panic!("pinn-jit: expected a float/int/bool tensor handle, found a quantized one")
            }
        }
    }

    /// The plain tensor inside, by reference (see [`PinnHandle::into_tensor`]).
    pub fn as_tensor(&self) -> &FlexTensor {
        match self {
            PinnHandle::Tensor(t) => t,
            PinnHandle::Quantized(_) => {
                panic!("pinn-jit: expected a float/int/bool tensor handle, found a quantized one")
            }
        }
    }
}

impl BackendIr for PinnCpu {
    type Handle = PinnHandle;

    fn float_tensor(handle: TensorHandle<Self::Handle>) -> FloatTensor<Self> {
        handle.handle.into_tensor()
    }

    fn int_tensor(handle: TensorHandle<Self::Handle>) -> IntTensor<Self> {
        handle.handle.into_tensor()
    }

    fn bool_tensor(handle: TensorHandle<Self::Handle>) -> BoolTensor<Self> {
        handle.handle.into_tensor()
    }

    fn quantized_tensor(handle: TensorHandle<Self::Handle>) -> QuantizedTensor<Self> {
        match handle.handle {
            PinnHandle::Quantized(q) => q,
            PinnHandle::Tensor(_) => {
                panic!("pinn-jit: expected a quantized tensor handle, found a plain tensor")
            }
        }
    }

    fn float_tensor_handle(tensor: FloatTensor<Self>) -> Self::Handle {
        PinnHandle::Tensor(tensor)
    }

    fn int_tensor_handle(tensor: IntTensor<Self>) -> Self::Handle {
        PinnHandle::Tensor(tensor)
    }

    fn bool_tensor_handle(tensor: BoolTensor<Self>) -> Self::Handle {
        PinnHandle::Tensor(tensor)
    }

    fn quantized_tensor_handle(tensor: QuantizedTensor<Self>) -> Self::Handle {
        PinnHandle::Quantized(tensor)
    }
}

impl FusionBackend for PinnCpu {
    type FusionRuntime = PinnFusionRuntime;
    type FullPrecisionBackend = PinnCpu;

    fn cast_float(tensor: FloatTensor<Self>, dtype: DType) -> Self::Handle {
        use burn_backend::ops::FloatTensorOps;
        PinnHandle::Tensor(PinnCpu::float_cast(tensor, dtype.into()))
    }
}
