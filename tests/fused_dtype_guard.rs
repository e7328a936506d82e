//! A fused chain must read each buffer as the dtype it really has.
//!
//! burn-fusion 0.21 records the output of a quantized matmul as the backend's default float
//! element (f32) while burn-flex produces the device's default float dtype, f16 here. A kernel
//! compiled from the record would read the 2-byte buffer as 4-byte floats; the runtime must
//! notice and run the chain uncompiled. (Own test binary: it changes the device's default
//! dtype for the whole process.)

use burn::tensor::quantization::{QuantScheme, QuantStore, QuantValue};
use burn::tensor::{FloatDType, IntDType, Tensor, TensorData, Tolerance, set_default_dtypes};
use pinn_jit::PinnJitBackend as B;

#[test]
fn chain_after_f16_quantized_matmul_reads_f16() {
    let device = Default::default();
    set_default_dtypes::<B>(&device, FloatDType::F16, IntDType::I32).unwrap();
    let scheme = QuantScheme::default()
        .with_value(QuantValue::Q8S)
        .with_store(QuantStore::Native);
    let a = Tensor::<B, 2>::from_data(
        [
            [1.0, 2.0, 3.0, 4.0],
            [5.0, 6.0, 7.0, 8.0],
            [9.0, 10.0, 11.0, 12.0],
        ],
        &device,
    )
    .quantize_dynamic(&scheme);
    let b = Tensor::<B, 2>::from_data(
        [
            [2.0, 0.0, 1.0, 0.0],
            [1.0, 2.0, 0.0, 0.0],
            [0.0, 1.0, 2.0, 0.0],
            [1.0, 0.0, 0.0, 1.0],
        ],
        &device,
    )
    .quantize_dynamic(&scheme);
    let out = (a.matmul(b) / 2.0).into_data();
    let expected = TensorData::from([
        [4.0, 3.5, 3.5, 2.0],
        [12.0, 9.5, 9.5, 4.0],
        [20.0, 15.5, 15.5, 6.0],
    ]);
    out.assert_approx_eq::<burn::tensor::f16>(&expected, Tolerance::relative(2e-2));
}
