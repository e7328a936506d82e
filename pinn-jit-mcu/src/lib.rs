//! # pinn-jit-mcu
//!
//! A `no_std`, allocation-free runtime for models exported by `pinn_jit` (its
//! `export::mcu::to_mcu_bytes`) to microcontrollers that Cranelift cannot generate code for —
//! ESP32-S3 (Xtensa), Cortex-M, riscv32. It interprets the model straight from its bytes (which
//! may stay in flash) using a scratch buffer the caller provides, whose size the exporter
//! computed.
//!
//! ```
//! # fn demo(model_bytes: &'static [u8]) -> Result<(), pinn_jit_mcu::McuError> {
//! use pinn_jit_mcu::Model;
//! let model = Model::parse(model_bytes)?; // validates everything once
//! let mut buffer = [0.0f32; 256]; // any &mut [f32] of at least buffer_len() floats
//! assert!(model.buffer_len() <= buffer.len());
//! let mut u = [0.0f32; 1];
//! model.infer(&[0.25, 0.5], &mut u, &mut buffer)?; // one sample, no allocation
//! # Ok(()) }
//! ```
//!
//! What it runs: dense layers with `f32` weights or `i8` weights with `f32` scales (one per
//! output channel, or one per layer), element-wise programs (the activations of
//! `pinn_jit::pinn` — tanh, sin, sigmoid, softplus, SiLU, GELU — and the arithmetic,
//! comparisons, selects and clamps around them), and copies (slices and concatenations, e.g.
//! Fourier features). `pow` and `atan2` are not implemented; the exporter refuses models that
//! use them. The math functions are our own ([`math`], error bounds documented and tested
//! against `std`).
//!
//! Safety against bad bytes: [`Model::parse`] checks the magic, version, length, an FNV-1a
//! checksum and then every operation — opcodes, instruction codes, register numbers, and every
//! buffer and data range — so a truncated, corrupted or hostile byte slice is an
//! [`McuError`], never a panic or an out-of-bounds access; the interpreter checks every slice
//! access again anyway. The crate contains no `unsafe` code.
//!
//! Why an interpreter of our own rather than Cranelift's Pulley bytecode: running Pulley
//! needs the `pulley-interpreter` crate, which is outside this project's allowed
//! dependencies, and brings a general-purpose VM where a dozen fixed operations suffice; this
//! interpreter spends its time in the dense layers' inner loops, not in dispatch.
//!
//! The byte format is documented in [`format`].

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod exec;
pub mod format;
pub mod math;
mod model;
mod ops;

pub use error::McuError;
pub use model::Model;
