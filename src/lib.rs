//! # pinn-jit
//!
//! A Burn 0.21 backend that records tensor operations with burn-fusion, compiles chains of
//! element-wise operations into native loops with Cranelift, and runs everything else on
//! burn-flex; plus a toolkit for physics-informed neural networks (PINNs).
//!
//! ```
//! use burn::tensor::Tensor;
//! use pinn_jit::PinnJitBackend;
//!
//! type B = PinnJitBackend;
//! let device = Default::default();
//! let x = Tensor::<B, 1>::from_floats([0.0, 0.5, 1.0], &device);
//! let y = (x.clone() * 2.0).tanh() + x; // one compiled kernel
//! assert_eq!(y.dims(), [3]);
//! ```
//!
//! The rooms of the crate, in the order an operation passes through them:
//! - [`fusion`]: burn-fusion's runtime for pinn-jit and the fusers that capture element-wise
//!   chains;
//! - [`kernel`]: the kernel spec, the Burn-free IR of a fused chain;
//! - [`codegen`]: Cranelift code generation from a kernel spec;
//! - [`runtime`]: the kernel cache and launching kernels over tensor buffers;
//! - [`backend`]: `PinnCpu`, the eager backend (burn-flex) for everything not compiled;
//! - [`pinn`]: the PINN toolkit;

pub mod backend;
pub mod codegen;
pub mod export;
pub mod fusion;
pub mod inference;
pub mod kernel;
pub mod pinn;
pub mod quant;
pub mod runtime;

pub use backend::{PinnCpu, PinnJitBackend, PinnJitDevice};
pub use runtime::stats::{Stats, stats};
