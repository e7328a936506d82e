//! Activation functions of [`PinnJitBackend`]: Burn's generic decompositions, except `sigmoid` and
//! `hard_sigmoid`, which here keep the tensor's precision.

use burn_backend::Scalar;
use burn_backend::ops::{ActivationOps, FloatTensorOps};
use burn_backend::tensor::FloatTensor;

use crate::backend::jit::PinnJitBackend;

impl ActivationOps<Self> for PinnJitBackend {
    /// `1 / (1 + exp(-x))` in the tensor's own precision. Burn's generic version computes in
    /// f32 through `exp(-log(1 + exp(-x)))` with casts around it; this one is three operations
    /// the fuser compiles into one kernel, and exact at ±inf (0 and 1).
    fn sigmoid(tensor: FloatTensor<Self>) -> FloatTensor<Self> {
        let e = Self::float_exp(Self::float_neg(tensor));
        Self::float_recip(Self::float_add_scalar(e, 1f32.into()))
    }

    /// `clamp(alpha·x + beta, 0, 1)` in the tensor's own precision (Burn's generic version casts
    /// to f32, so f64 lost precision); one fused kernel.
    fn hard_sigmoid(tensor: FloatTensor<Self>, alpha: Scalar, beta: Scalar) -> FloatTensor<Self> {
        let scaled = Self::float_add_scalar(Self::float_mul_scalar(tensor, alpha), beta);
        Self::float_clamp(scaled, 0f32.into(), 1f32.into())
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, activation};

    use crate::PinnJitBackend;

    #[test]
    fn sigmoid_is_full_precision_in_f64_and_exact_at_infinities() {
        let device = Default::default();
        let xs = [-800.0f64, -3.0, -1e-9, 0.0, 0.5, 20.0, 800.0];
        let x = Tensor::<PinnJitBackend, 1>::from_data(
            burn::tensor::TensorData::from(xs),
            (&device, burn::tensor::DType::F64),
        );
        let y: Vec<f64> = activation::sigmoid(x)
            .into_data()
            .convert::<f64>()
            .to_vec()
            .unwrap();
        for (x, y) in xs.iter().zip(y) {
            let expected = 1.0 / (1.0 + (-x).exp());
            assert!(
                (y - expected).abs() <= 1e-15 * expected.max(1e-300),
                "sigmoid({x}) = {y}"
            );
        }
    }
}
