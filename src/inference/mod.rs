//! Real-time inference: a trained Burn model compiled into one native function.
//!
//! Eager execution of a small network pays, per operation, a dispatch, a shape check and an
//! allocation — for a 2→64→64→64→1 MLP at batch 1 that is 10–100× the arithmetic.
//! [`CompiledModel`] removes all of it: the forward pass is traced once, lowered to a small
//! graph (dense layers, element-wise maps, concatenations, slices) and compiled by Cranelift
//! into a single function that walks the batch in tiles, with the weights packed next to the
//! code. Calls allocate nothing ([`CompiledModel::infer_into`]) and any number of threads may
//! call one model at once.
//!
//! ```
//! use burn::nn::{Linear, LinearConfig};
//! use pinn_jit::PinnJitBackend;
//! use pinn_jit::inference::CompiledModel;
//!
//! // A "trained" layer on any backend…
//! let device = Default::default();
//! let trained: Linear<PinnJitBackend> = LinearConfig::new(2, 8).init(&device);
//! // …compiled with its forward pass (built again on the tracer, weights copied over).
//! let model = CompiledModel::from_module(
//!     &trained,
//!     |d| LinearConfig::new(2, 8).init(d),
//!     2,
//!     |m, x| m.forward(x).tanh(),
//! )
//! .unwrap();
//! let y = model.infer(&[0.5, -0.25]).unwrap(); // one sample → 8 outputs
//! assert_eq!(y.len(), 8);
//! ```
//!
//! The pieces, in the order a model passes through them:
//! - [`trace`](Tracer): [`Tracer`] is a burn-router backend whose runner records every
//!   operation that depends on the traced input (with the values of the constants it reads)
//!   while executing it eagerly on [`crate::PinnCpu`];
//! - `lower`: Burn's operations → [`Graph`]; element-wise chains become [`Node::Map`]s
//!   holding a [`crate::kernel::KernelSpec`] (the element-wise fuser's IR and semantics);
//!   anything else is [`InferenceError::UnsupportedOp`] naming the operation;
//! - `plan` and `pack`: tiles, scratch blocks by liveness, weights in 16-column panels (`f32`,
//!   or `i8` codes with per-column scales: [`WeightPrecision::Int8`]);
//! - `codegen` (generic over `cranelift_module::Module`) and `emit`: the function; `jit`: the
//!   executable memory; `callout`: an AVX2 dense kernel for large tiles on x86-64 (the pure
//!   Cranelift path serves every batch size on its own) and exact fallbacks for the
//!   element-wise operations without inline code; `callout_int8`: the x86-64 kernel of `i8`
//!   layers (AVX2 `vpmaddwd`, AVX512-VNNI `vpdpwssd`), value for value the inline code's twin;
//! - [`CompiledModel::save`]/[`CompiledModel::load`]: a versioned, checksummed file of the
//!   graph; loading validates everything and recompiles.
//!
//! Results agree with eager `PinnJitBackend` (and burn-ndarray) to about 1e-6 relative: the
//! same operations in the same order, except that dense layers sum in a different order and
//! transcendentals use the inline approximations documented in [`crate::codegen::math`].

mod activation;
mod aot;
mod callout;
mod callout_int8;
mod codegen;
mod emit;
mod error;
mod file;
mod graph;
mod jit;
mod lower;
mod model;
mod pack;
mod plan;
mod trace;

#[cfg(test)]
pub(crate) mod tests;

pub(crate) use aot::define_standalone;
pub use error::{FileError, InferenceError};
pub use file::{FORMAT_VERSION, MAGIC, graph_from_bytes, graph_to_bytes};
pub use graph::{Graph, MAX_WIDTH, Node, NodeId, Operand};
pub use model::{CompileOptions, CompiledModel};
pub use pack::{INT8_MAX_K, INT8_MIN_K, WeightPrecision, int8_act_max};
pub use trace::{TraceBridge, TraceChannel, TraceClient, Tracer, to_tracer};
