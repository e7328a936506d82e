//! Code generation: [`crate::kernel::KernelSpec`] → native code with Cranelift.
//!
//! WORKED_EXAMPLE_PLACEHOLDER

mod callout;
mod jit;
mod lower;
pub mod math;

#[cfg(test)]
mod tests;

use core::fmt;

pub use jit::CompiledKernel;
pub use lower::{Strategy, binary_strategy, unary_strategy};

use crate::kernel::{KernelSpec, LayoutClass, SpecError};

/// Why a spec could not be compiled. The caller falls back to uncompiled execution
/// ([`crate::kernel::interp::run`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodegenError {
    /// The spec breaks one of [`KernelSpec`]'s invariants.
    InvalidSpec(SpecError),
    /// `layout` does not have one class per binding.
    LayoutMismatch {
        /// `spec.num_bindings()`.
        expected: usize,
        /// `layout.len()`.
        found: usize,
    },
    /// The host ISA could not be set up (unsupported CPU or settings).
    Isa(String),
    /// Cranelift rejected the function or could not link it.
    Cranelift(String),
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodegenError::InvalidSpec(e) => write!(f, "{e}"),
            CodegenError::LayoutMismatch { expected, found } => write!(
                f,
                "layout has {found} classes but the spec has {expected} bindings"
            ),
            CodegenError::Isa(e) => write!(f, "cannot target the host: {e}"),
            CodegenError::Cranelift(e) => write!(f, "cranelift: {e}"),
        }
    }
}

impl std::error::Error for CodegenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CodegenError::InvalidSpec(e) => Some(e),
            _ => None,
        }
    }
}

impl From<SpecError> for CodegenError {
    fn from(e: SpecError) -> Self {
        CodegenError::InvalidSpec(e)
    }
}

/// Knobs for [`compile_with`]; [`CompileOptions::default`] is what [`compile`] uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// Use fused multiply-add in the math approximations. Defaults to whether the host has a
    /// native FMA; turning it off on such a host exercises the non-FMA path (tests do).
    pub fma: bool,
    /// Print the Cranelift IR to stderr before compiling it (debugging aid).
    pub print_ir: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            fma: jit::host_has_fma(),
            print_ir: false,
        }
    }
}

/// Compile `spec` into a native kernel for the given layout (one [`LayoutClass`] per binding:
/// inputs, then outputs).
///
/// Never panics on bad input: an invalid spec or layout, or anything Cranelift rejects, is an
/// `Err`.
pub fn compile(spec: &KernelSpec, layout: &[LayoutClass]) -> Result<CompiledKernel, CodegenError> {
    compile_with(spec, layout, &CompileOptions::default())
}

/// [`compile`] with explicit options.
pub fn compile_with(
    spec: &KernelSpec,
    layout: &[LayoutClass],
    options: &CompileOptions,
) -> Result<CompiledKernel, CodegenError> {
    spec.validate()?;
    if layout.len() != spec.num_bindings() {
        return Err(CodegenError::LayoutMismatch {
            expected: spec.num_bindings(),
            found: layout.len(),
        });
    }
    jit::compile_checked(spec, layout, options)
}

/// Whether [`compile`] can compile `spec`: every valid spec (operations without an inline
/// lowering call out to Rust, see [`unary_strategy`] and [`binary_strategy`]).
pub fn supports(spec: &KernelSpec) -> bool {
    spec.validate().is_ok()
}
