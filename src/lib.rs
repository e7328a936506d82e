//! # pinn-jit
//!
//! A Burn 0.21 backend that records tensor operations with burn-fusion, compiles chains of
//! element-wise operations into native loops with Cranelift, and runs everything else on
//! burn-flex; plus a toolkit for physics-informed neural networks (PINNs).

pub mod codegen;
pub mod kernel;
pub mod pinn;
