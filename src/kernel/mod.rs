//! The kernel IR: what a fused element-wise chain is, independent of Burn and of Cranelift.
//!
//! The fusers (`crate::fusion`) translate Burn's operations into a [`KernelSpec`]; the code
//! generator (`crate::codegen`) turns a spec into native code; the runtime (`crate::runtime`)
//! calls that code through the [`KernelArgs`] ABI defined here. [`interp`] evaluates a spec one
//! element at a time and is the executable definition of what every instruction means.

pub mod interp;
mod spec;

pub use spec::*;

/// The arguments of a compiled kernel: `extern "C" fn(*const KernelArgs)`.
///
/// A kernel runs over a 2-D iteration space of `rows × cols` elements. Binding `b` (inputs
/// first, then outputs, in [`KernelSpec`] order) is the element at `(r, c)` found at
/// `ptrs[b] + (r * row_strides[b] + c * col_strides[b]) * size_of(element)`. Strides are in
/// elements and may be zero or negative. Which column strides are 1, 0 or other is fixed when
/// the kernel is compiled (its [`LayoutClass`]es); the values are read at run time.
///
/// # Safety contract (upheld by the runtime, relied on by generated code)
/// - `ptrs`, `row_strides` and `col_strides` point to `num_bindings` entries each, and
///   `scalars` to `num_scalars` `f64`s;
/// - every address computed as above for `r < rows`, `c < cols` lies inside the binding's
///   allocation and is aligned for its element type;
/// - output elements do not alias each other, and an output aliases an input only when both
///   have identical strides (the in-place case: each element is read before it is written).
#[repr(C)]
#[derive(Debug)]
pub struct KernelArgs {
    /// Base pointer of each binding.
    pub ptrs: *const *mut u8,
    /// Row stride of each binding, in elements.
    pub row_strides: *const isize,
    /// Column stride of each binding, in elements.
    pub col_strides: *const isize,
    /// Runtime scalars ([`Inst::Scalar`]), as `f64`.
    pub scalars: *const f64,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns (elements per row).
    pub cols: usize,
}

/// Signature of a compiled kernel.
pub type KernelFn = unsafe extern "C" fn(args: *const KernelArgs);
