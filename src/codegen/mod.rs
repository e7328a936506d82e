//! Code generation: [`crate::kernel::KernelSpec`] → native code with Cranelift.
