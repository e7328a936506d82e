//! The default quantization scheme `PinnJitBackend` advertises is the one its storage
//! (burn-flex) reports back, so quantized data round-trips through the backend unchanged.

use burn::tensor::quantization::{QuantStore, QuantValue};
use burn::tensor::{Tensor, TensorData};
use pinn_jit::PinnJitBackend as B;

#[test]
fn default_scheme_stores_natively() {
    let scheme = B::default_quant_scheme(&Default::default());
    assert_eq!(scheme.store, QuantStore::Native);
}

#[test]
fn quantized_data_round_trips_with_the_default_scheme() {
    let device = Default::default();
    let scheme = B::default_quant_scheme(&device).with_value(QuantValue::Q8S);
    let data = TensorData::quantized(vec![-127i8, -71, 0, 35], [4], scheme, &[0.014_173_228]);
    let out = Tensor::<B, 1>::from_data(data.clone(), &device).into_data();
    out.assert_eq(&data, true);
}
