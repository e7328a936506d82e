//! Code generation: [`crate::kernel::KernelSpec`] → native code with Cranelift.
//!
//! [`compile`] turns a spec plus one [`LayoutClass`] per binding into a [`CompiledKernel`]: an
//! `extern "C" fn(*const KernelArgs)` that walks the `rows × cols` iteration space, 4 `f32` (or
//! 2 `f64`) columns per step with 128-bit SIMD, and one column per step for the last `cols % 4`
//! — the same instructions on a splatted value, so the tail computes bit for bit what the vector
//! step computes and never reads or writes past the end of a row.
//!
//! # A worked example
//!
//! The chain `y = max(x * s + b, 0)`, with `x` a contiguous `[rows, cols]` tensor, `b` a bias
//! broadcast along each row (column stride 0) and `s` a learning-rate-like runtime scalar,
//! arrives from the fuser as this spec (its `Display` form):
//!
//! ```text
//! kernel(F32; inputs [F32, F32]; 1 scalars)
//!   %0 = Input(0)                          x
//!   %1 = Input(1)                          b
//!   %2 = Scalar(0)                         s
//!   %3 = Binary(Mul, ValueId(0), ValueId(2))
//!   %4 = Binary(Add, ValueId(3), ValueId(1))
//!   %5 = Const(0.0)
//!   %6 = Binary(Max, ValueId(4), ValueId(5))
//!   out0: F32 <- %6
//! ```
//!
//! compiled for the layout `[Contiguous, Broadcast, Contiguous]`:
//!
//! ```
//! use pinn_jit::codegen::compile;
//! use pinn_jit::kernel::{BinaryOp, ElemType, Inst, KernelArgs, KernelSpec, LayoutClass, Output, ValueId};
//!
//! let v = ValueId;
//! let spec = KernelSpec {
//!     float: ElemType::F32,
//!     inputs: vec![ElemType::F32, ElemType::F32],
//!     num_scalars: 1,
//!     body: vec![
//!         Inst::Input(0),
//!         Inst::Input(1),
//!         Inst::Scalar(0),
//!         Inst::Binary(BinaryOp::Mul, v(0), v(2)),
//!         Inst::Binary(BinaryOp::Add, v(3), v(1)),
//!         Inst::Const(0.0),
//!         Inst::Binary(BinaryOp::Max, v(4), v(5)),
//!     ],
//!     outputs: vec![Output { value: v(6), ty: ElemType::F32 }],
//! };
//! let layout = [LayoutClass::Contiguous, LayoutClass::Broadcast, LayoutClass::Contiguous];
//! let kernel = compile(&spec, &layout).expect("compiles");
//!
//! let x = [1.0f32, -2.0, 3.0, -4.0, 5.0, /* row 1 */ 6.0, -7.0, 8.0, -9.0, 10.0];
//! let b = [0.5f32, -100.0]; // one bias per row
//! let mut y = [0.0f32; 10];
//! let ptrs = [x.as_ptr() as *mut u8, b.as_ptr() as *mut u8, y.as_mut_ptr() as *mut u8];
//! let (row_strides, col_strides) = ([5isize, 1, 5], [1isize, 0, 1]);
//! let scalars = [2.0f64];
//! let args = KernelArgs {
//!     ptrs: ptrs.as_ptr(),
//!     row_strides: row_strides.as_ptr(),
//!     col_strides: col_strides.as_ptr(),
//!     scalars: scalars.as_ptr(),
//!     rows: 2,
//!     cols: 5,
//! };
//! // SAFETY: every (r, c) with r < 2, c < 5 addresses an element of x, b and y.
//! unsafe { kernel.call(&args) };
//! assert_eq!(y, [2.5, 0.0, 6.5, 0.0, 10.5, 0.0, 0.0, 0.0, 0.0, 0.0]);
//! ```
//!
//! The IR emitted for it (abridged; `print_ir` in [`CompileOptions`] shows it whole). Per-binding
//! pointers and byte strides, the scalar splat and the constant are set up once; `block1` runs
//! per row and loads the broadcast bias once; `block2` decides between a 4-wide step (`block3`)
//! and a 1-wide tail step (`block5`), both feeding the single copy of the body (`block6`):
//!
//! ```text
//! block0(v0: i64):                              ; v0 = *const KernelArgs
//!     v1 = load.i64 notrap aligned readonly v0  ; ptrs
//!     …                                         ; row_strides, col_strides, scalars, rows, cols
//!     v10 = ishl v8, v9                         ; row stride of x in bytes
//!     v19 = load.f64 notrap aligned readonly v4 ; scalars[0]
//!     v20 = fdemote.f32 v19
//!     v21 = splat.f32x4 v20                     ; s, hoisted
//!     v22 = vconst.f32x4 const0                 ; 0.0, hoisted
//!     brif v32, block10, block1(v33)            ; rows == 0 || cols == 0 → return
//! block1(v23: i64):                             ; row r
//!     v35 = iadd.i64 v7, v34                    ; &x[r][0]
//!     v40 = load.f32 notrap v37                 ; b[r], once per row
//!     v41 = splat.f32x4 v40
//!     jump block2(v42)
//! block2(v24: i64):                             ; column c
//!     v45 = icmp ule v44, v6                    ; c + 4 <= cols ?
//!     brif v45, block3, block4
//! block3:
//!     v50 = load.f32x4 notrap v49               ; x[r][c..c+4]
//!     jump block6(v24, v46, v50)                ; is_tail = 0
//! block5:                                       ; (block4: c < cols ? block5 : block9)
//!     v56 = load.f32 notrap v55                 ; x[r][c]
//!     v57 = splat.f32x4 v56
//!     jump block6(v24, v52, v57)                ; is_tail = 1
//! block6(v25: i64, v26: i8, v27: f32x4):        ; the body, once
//!     v58 = fmul v27, v21
//!     v59 = fadd v58, v41
//!     v60 = fcmp uno v59, v59                   ; Rust's max: a NaN operand yields the other
//!     v63 = bitselect.f32x4 v62, v22, v59
//!     …
//!     v66 = fmax v63, v65
//!     brif v26, block8, block7
//! block7:
//!     store.f32x4 notrap v66, v69               ; y[r][c..c+4]
//!     jump block2(v71)                          ; c += 4
//! block8:
//!     v75 = extractlane.f32x4 v66, 0
//!     store notrap v75, v74                     ; y[r][c]
//!     jump block2(v77)                          ; c += 1
//! block9:
//!     brif v80, block1(v79), block10            ; next row
//! block10:
//!     return
//! ```
//!
//! # Operations
//!
//! Exact operations (arithmetic, `sqrt`, rounding, comparisons, bools, selects, clamps, casts,
//! Rust's NaN-skipping `max`/`min`) are native vector instructions, bit-exact with the
//! interpreter ([`crate::kernel::interp`]). `f32` `exp`, `log`, `log1p`, `tanh`, `sigmoid`, `sin`
//! and `cos` are inline approximations from [`math`] (error bounds tabulated there). Everything
//! else (`f32` `tan`, `sinh`, `cosh`, `erf`, `pow`, `atan2`, the floored remainder, and all
//! `f64` transcendentals) calls Rust's std once per vector through a small `extern "C"`
//! trampoline: bit-exact, slower. [`unary_strategy`] and [`binary_strategy`] tell which is which.
//!
//! # Measured (release build, 2-core AMD EPYC with AVX2/FMA, shared machine)
//!
//! - compile time of a 10-op chain (`tanh`, `sigmoid`, `exp`, `max` and 6 arithmetic ops):
//!   median 1.3 ms, 3 KB of code;
//! - 1 M `f32` elements, one thread: `tanh` 3.0 ns/element (std's scalar loop: 18.6), `exp` 1.4
//!   (3.5), `log` 3.1 (9.0), `sigmoid` 1.6 (5.0), `neg` 0.3 (memory bound).

pub(crate) mod callout;
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
