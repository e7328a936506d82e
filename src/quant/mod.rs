//! Quantized PINNs: weight quantization of `Linear` stacks to FP16, INT8 and INT4, matrix
//! products that compute on the quantized data, static and dynamic activation quantization,
//! per-layer mixed precision and quantization-aware fine-tuning.
//!
//! * [`QuantMatrix`]: one weight matrix, channel-major (`[d_out, d_in]`), as `f32`, `half::f16`,
//!   `i8` codes or packed 4-bit codes (two per byte) with per-tensor, per-channel or per-block
//!   symmetric `f32` scales ([`WeightFormat`], [`Granularity`]).
//! * [`kernels`]: `i8/i4` weights × `f32` activations (codes widened one row at a time, scale
//!   applied to each block's partial sum) and `i8 × i8 → i32` with per-row activation scales.
//! * [`QuantizedMlp`]: a [`PinnMlp`](crate::pinn::PinnMlp) or a user's `Linear` stack with one
//!   [`LayerPlan`] per layer; [`ActQuant::Dynamic`] quantizes activations per row at run time,
//!   [`ActQuant::Static`] uses ranges from [`QuantizedMlp::calibrate`].
//! * [`choose_mixed`]: mixed precision from per-layer sensitivities;
//!   [`qat_finetune`]: INT4 quantization-aware fine-tuning with a straight-through estimator.
//!
//! ```
//! use burn_flex::Flex;
//! use pinn_jit::pinn::PinnMlpConfig;
//! use pinn_jit::quant::{
//!     ActQuant, Granularity, LayerPlan, QuantizedMlp, WeightFormat, uniform_plan,
//! };
//!
//! let mlp = PinnMlpConfig::new(2, 1, vec![32, 32]).init::<Flex>(0, &Default::default()).unwrap();
//! // INT8 weights and dynamically quantized INT8 activations (i8 x i8 -> i32), except the
//! // first layer, whose inputs are the coordinates.
//! let w8a8 = LayerPlan {
//!     weights: WeightFormat::Int8(Granularity::PerChannel),
//!     activations: ActQuant::Dynamic,
//! };
//! let q = QuantizedMlp::from_pinn_mlp(&mlp, &uniform_plan(3, w8a8, true)).unwrap();
//! let u = q.forward(&[0.5, 0.25], 1).unwrap();
//! assert_eq!(u.len(), 1);
//! println!("{} bytes instead of {}", q.weight_bytes(), q.fp32_weight_bytes());
//! ```
//!
//! Derivatives: a weight-only quantized model is a smooth function, and
//! [`QuantizedMlp::to_pinn_mlp`] gives the `PinnMlp` with exactly the weights the kernels use,
//! so the PINN toolkit's jets give its exact input derivatives (PDE residuals). Activation
//! quantization (W8A8) makes the network piecewise constant in its inputs: finite differences
//! of such a model see the rounding steps, which `examples/quantize.rs` measures.
//!
//! `PinnJitBackend`'s `q_matmul` of two INT8 per-tensor matrices multiplies the `i8` codes
//! with `i32` accumulation ([`kernels::dot_i8`]); its other `QTensorOps` (per-block schemes,
//! INT4, batched products) still go through burn-flex (dequantize, then an `f32` matmul).
//! The compiled inference path takes INT8 weights too: `CompileOptions::weights =
//! WeightPrecision::Int8` in [`crate::inference`] packs the per-channel INT8 codes of this
//! module (same scales, same rounding) and multiplies them with 16-bit activation codes in
//! `i32`, inline (Cranelift, every target, exported objects included) or with AVX2/AVX512-VNNI
//! on x86-64. Not here yet: INT4 and FP16 weights in the compiled path, dequantization fused
//! into the element-wise kernels of the training backend.
//!
//! Unsupported requests are typed errors ([`QuantError`]): Burn schemes other than symmetric
//! `Q8S` / `Q4S` with `f32` scales, empty or non-finite weights, block size 0, a plan of the
//! wrong length, a static layer that was never calibrated.

mod error;
mod format;
mod host_act;
pub mod kernels;
mod matrix;
mod mlp;
mod qat;
mod sensitivity;

pub use error::QuantError;
pub use format::{
    ActQuant, Granularity, LayerPlan, WeightFormat, abs_max, quantize_value, symmetric_scale,
};
pub use matrix::{MAX_INT_DOT_LEN, QuantMatrix, Storage, pack_int4, unpack_int4_row};
pub use mlp::{QuantLinear, QuantizedMlp, fp32_plan, uniform_plan};
pub use qat::{QatConfig, QatReport, fake_quant_mlp, fake_quantize, qat_finetune};
pub use sensitivity::{
    MixedPrecision, build, choose_mixed, choose_mixed_by, layer_sensitivity, layer_sensitivity_by,
    rel_l2_f32,
};
