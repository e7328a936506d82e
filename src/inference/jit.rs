//! The JIT side of the inference compiler: the host ISA, one `JITModule` per model, and
//! [`JitCode`], which owns the executable memory.

use std::mem::ManuallyDrop;
use std::sync::OnceLock;

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::default_libcall_names;

use super::InferenceError;
use super::callout;
use super::codegen::{CodeOptions, define_model};
use super::plan::Plan;

/// Signature of a compiled model: `(input, output, rows, scratch)`.
///
/// # Safety contract
/// `input` holds `rows × input_width` floats, `output` `rows × output_width` (not overlapping
/// `input`), `scratch` the plan's `scratch_floats` (overlapping neither). The code reads only
/// those, the model's own data object and its stack.
pub(crate) type ModelFn = unsafe extern "C" fn(*const f32, *mut f32, usize, *mut f32);

/// The host ISA, built once (`opt_level=speed`, non-PIC, verifier in debug builds only).
fn host_isa() -> Result<OwnedTargetIsa, InferenceError> {
    static ISA: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    ISA.get_or_init(|| {
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v).map_err(|e| format!("setting {k}={v}: {e}"))
        };
        set(&mut flags, "opt_level", "speed")?;
        set(&mut flags, "is_pic", "false")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        let verify = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        set(&mut flags, "enable_verifier", verify)?;
        let builder = cranelift_native::builder().map_err(|e| format!("host ISA: {e}"))?;
        builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| format!("host ISA: {e}"))
    })
    .clone()
    .map_err(InferenceError::Codegen)
}

/// A model compiled to native code. Owns its executable memory and frees it on drop.
pub(crate) struct JitCode {
    func: ModelFn,
    code_size: usize,
    module: ManuallyDrop<JITModule>,
}

// SAFETY: after `finalize_definitions` the module's code and data are immutable; the module is
// touched again only by `Drop`, which has exclusive access. Sharing the function pointer across
// threads is therefore sound (the generated code keeps no global state: its mutable memory is
// the caller's buffers and its own stack).
unsafe impl Send for JitCode {}
// SAFETY: no method reads or mutates the module through `&self`.
unsafe impl Sync for JitCode {}

impl JitCode {
    /// The entry point; valid while `self` is alive.
    pub fn func(&self) -> ModelFn {
        self.func
    }

    /// Bytes of machine code.
    pub fn code_size(&self) -> usize {
        self.code_size
    }
}

impl Drop for JitCode {
    fn drop(&mut self) {
        // SAFETY: we own the module; dropping `self` ends the lifetime of `func`, the only
        // pointer into its memory we handed out (callers borrow `self` while calling it).
        unsafe { ManuallyDrop::take(&mut self.module).free_memory() };
    }
}

/// Compile `plan` into the host's executable memory.
pub(crate) fn compile(plan: &Plan, opts: &CodeOptions) -> Result<JitCode, InferenceError> {
    let isa = host_isa()?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    jb.symbol(
        callout::UNARY,
        crate::codegen::callout::unary_f32 as *const u8,
    );
    jb.symbol(
        callout::BINARY,
        crate::codegen::callout::binary_f32 as *const u8,
    );
    #[cfg(target_arch = "x86_64")]
    if opts.dense_callout_min_rows.is_some() {
        jb.symbol(callout::DENSE, callout::dense_avx2 as *const u8);
        jb.symbol(
            callout::DENSE_INT8,
            super::callout_int8::dense_int8_x86 as *const u8,
        );
    }
    let mut module = JITModule::new(jb);
    let built = define_model(&mut module, plan, "pinn_jit_model", opts).and_then(|(id, size)| {
        module
            .finalize_definitions()
            .map_err(|e| InferenceError::Codegen(format!("{e:?}")))?;
        Ok((module.get_finalized_function(id), size))
    });
    match built {
        Ok((ptr, code_size)) => {
            // SAFETY: `ptr` is the entry of the function just defined with four pointer-sized
            // parameters and no results, in the ISA's default (C) calling convention.
            let func = unsafe { std::mem::transmute::<*const u8, ModelFn>(ptr) };
            Ok(JitCode {
                func,
                code_size,
                module: ManuallyDrop::new(module),
            })
        }
        Err(e) => {
            // SAFETY: no pointer into the module's memory has been handed out.
            unsafe { module.free_memory() };
            Err(e)
        }
    }
}
