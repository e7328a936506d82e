//! Quantized tensor operations of [`PinnCpu`], forwarded to burn-flex — except `q_matmul` of
//! two INT8 per-tensor matrices, which multiplies the `i8` codes with `i32` accumulation
//! ([`crate::quant::kernels::dot_i8`]) instead of dequantizing both operands.

use core::future::Future;

use burn_backend::ops::QTensorOps;
use burn_backend::quantization::{QuantLevel, QuantValue};
use burn_backend::quantization::{QuantScheme, QuantizationParametersPrimitive};
use burn_backend::tensor::{Device, FloatTensor, IntTensor, QuantizedTensor};
use burn_backend::{
    DType, ExecutionError, QTensorPrimitive, TensorData, TensorMetadata, TensorPrimitive,
};
use burn_flex::{Flex, FlexQTensor, FlexTensor, Layout};
use burn_std::{Bytes, FloatDType, IntDType, Shape, Slice};
use rayon::prelude::*;

use crate::backend::PinnJitDevice;
use crate::backend::eager::{PinnCpu, delegate_to_flex};
use crate::runtime::stats::record_eager_op;

impl QTensorOps<Self> for PinnCpu {
    fn q_device(_tensor: &QuantizedTensor<Self>) -> Device<Self> {
        PinnJitDevice::Cpu
    }

    fn quantize(
        tensor: FloatTensor<Self>,
        scheme: &QuantScheme,
        qparams: QuantizationParametersPrimitive<Self>,
    ) -> QuantizedTensor<Self> {
        record_eager_op();
        let qparams = QuantizationParametersPrimitive::<Flex> {
            scales: qparams.scales,
        };
        Flex::quantize(tensor, scheme, qparams)
    }

    fn q_matmul(lhs: TensorPrimitive<Self>, rhs: TensorPrimitive<Self>) -> TensorPrimitive<Self> {
        record_eager_op();
        match (lhs, rhs) {
            (TensorPrimitive::QFloat(l), TensorPrimitive::QFloat(r))
                if int8_matmul_applies(&l, &r) =>
            {
                TensorPrimitive::Float(int8_matmul(&l, &r))
            }
            (l, r) => match Flex::q_matmul(to_flex(l), to_flex(r)) {
                TensorPrimitive::Float(t) => TensorPrimitive::Float(t),
                TensorPrimitive::QFloat(t) => TensorPrimitive::QFloat(t),
            },
        }
    }

    delegate_to_flex! {
        fn q_from_data(data: TensorData, #[device] device: &Device<Self>) -> QuantizedTensor<Self>;
        fn quantize_dynamic(tensor: FloatTensor<Self>, scheme: &QuantScheme) -> QuantizedTensor<Self>;
        fn dequantize(tensor: QuantizedTensor<Self>, dtype: FloatDType) -> FloatTensor<Self>;
        fn q_to_device(tensor: QuantizedTensor<Self>, #[device] device: &Device<Self>) -> QuantizedTensor<Self>;
        fn q_reshape(tensor: QuantizedTensor<Self>, shape: Shape) -> QuantizedTensor<Self>;
        fn q_into_data(tensor: QuantizedTensor<Self>) -> impl Future<Output = Result<TensorData, ExecutionError>> + Send;
        fn q_expand(tensor: QuantizedTensor<Self>, shape: Shape) -> QuantizedTensor<Self>;
        fn q_swap_dims(tensor: QuantizedTensor<Self>, dim1: usize, dim2: usize) -> QuantizedTensor<Self>;
        fn q_permute(tensor: QuantizedTensor<Self>, axes: &[usize]) -> QuantizedTensor<Self>;
        fn q_flip(tensor: QuantizedTensor<Self>, axes: &[usize]) -> QuantizedTensor<Self>;
        fn q_select(tensor: QuantizedTensor<Self>, dim: usize, indices: IntTensor<Self>) -> QuantizedTensor<Self>;
        fn q_slice(tensor: QuantizedTensor<Self>, slices: &[Slice]) -> QuantizedTensor<Self>;
        fn q_gather(dim: usize, tensor: QuantizedTensor<Self>, indices: IntTensor<Self>) -> QuantizedTensor<Self>;
        fn q_argmax(tensor: QuantizedTensor<Self>, dim: usize, out_dtype: IntDType) -> IntTensor<Self>;
        fn q_argmin(tensor: QuantizedTensor<Self>, dim: usize, out_dtype: IntDType) -> IntTensor<Self>;
    }
}

fn to_flex(t: TensorPrimitive<PinnCpu>) -> TensorPrimitive<Flex> {
    match t {
        TensorPrimitive::Float(t) => TensorPrimitive::Float(t),
        TensorPrimitive::QFloat(t) => TensorPrimitive::QFloat(t),
    }
}

/// Longest reduction an `i32` accumulator of `i8 · i8` products (each at most `128²`) holds.
const MAX_K: usize = (i32::MAX / (128 * 128)) as usize;

/// The integer path takes two rank-2 INT8 (`Q8S` / `Q8F`) per-tensor operands of matching
/// inner size whose output Burn wants in `f32` (what burn-flex's dequantizing path would give,
/// `QuantPropagation::Inhibit` being burn-flex's only propagation); anything else is
/// forwarded to burn-flex.
fn int8_matmul_applies(l: &FlexQTensor, r: &FlexQTensor) -> bool {
    let int8_tensor = |t: &FlexQTensor| {
        matches!(t.scheme().value, QuantValue::Q8S | QuantValue::Q8F)
            && t.scheme().level == QuantLevel::Tensor
            && t.tensor().dtype() == DType::I8
            && t.tensor().shape().num_dims() == 2
            && t.scales().len() == 1
    };
    let out_f32 = burn_backend::get_device_settings::<PinnCpu>(&PinnJitDevice::Cpu).float_dtype
        == FloatDType::F32;
    let (ls, rs) = (l.tensor().shape(), r.tensor().shape());
    int8_tensor(l) && int8_tensor(r) && out_f32 && ls[1] == rs[0] && ls[1] <= MAX_K
}

/// `(L · R) · s_L · s_R` with `L · R` summed exactly in `i32`.
fn int8_matmul(l: &FlexQTensor, r: &FlexQTensor) -> FlexTensor {
    let (ls, rs) = (l.tensor().shape(), r.tensor().shape());
    let (m, k, n) = (ls[0], ls[1], rs[1]);
    let lt = l.tensor().to_contiguous();
    let rt = r.tensor().to_contiguous();
    let a: &[i8] = lt.storage();
    let b: &[i8] = rt.storage();
    // Rᵀ, so that every output is a dot product of two contiguous rows.
    let mut bt = vec![0i8; k * n];
    for kk in 0..k {
        for j in 0..n {
            bt[j * k + kk] = b[kk * n + j];
        }
    }
    let scale = l.scales()[0] * r.scales()[0];
    let mut out = vec![0.0f32; m * n];
    let row = |(i, o): (usize, &mut [f32])| {
        let ai = &a[i * k..(i + 1) * k];
        for (j, v) in o.iter_mut().enumerate() {
            *v = crate::quant::kernels::dot_i8(ai, &bt[j * k..(j + 1) * k]) as f32 * scale;
        }
    };
    if n > 0 && m * n * k >= 1 << 18 {
        out.par_chunks_mut(n).enumerate().for_each(row);
    } else if n > 0 {
        out.chunks_mut(n).enumerate().for_each(row);
    }
    FlexTensor::new(
        Bytes::from_elems(out),
        Layout::contiguous(Shape::from(vec![m, n])),
        DType::F32,
    )
}
