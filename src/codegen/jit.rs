//! The JIT side: the host ISA, one `JITModule` per kernel, and [`CompiledKernel`], which owns
//! the executable memory.

use std::mem::ManuallyDrop;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cranelift_codegen::ir::{AbiParam, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};

use super::callout;
use super::lower::{Callouts, callout_signature, lower_kernel, needed_callouts};
use super::math::MathCx;
use super::{CodegenError, CompileOptions};
use crate::kernel::{ElemType, KernelArgs, KernelFn, KernelSpec, LayoutClass};

/// The host ISA, built once (`opt_level=speed`, non-PIC, verifier on in debug builds only).
fn host_isa() -> Result<OwnedTargetIsa, CodegenError> {
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
    .map_err(CodegenError::Isa)
}

/// Whether the host has a native fused multiply-add.
pub(crate) fn host_has_fma() -> bool {
    match host_isa() {
        Ok(isa) => {
            let flag = isa
                .isa_flags()
                .into_iter()
                .find(|v| v.name == "has_fma")
                .and_then(|v| v.as_bool());
            match flag {
                Some(f) => f,
                // aarch64, riscv64 and s390x have a native fma and no such flag.
                None => isa.name() != "x64",
            }
        }
        Err(_) => false,
    }
}

/// A kernel compiled to native code.
///
/// Owns the executable memory it runs from and frees it on drop; [`CompiledKernel::fn_ptr`] is
/// valid only while the `CompiledKernel` is alive. Cheap to share between threads (`Send +
/// Sync`): after compilation the code is immutable and the module is touched again only by
/// `Drop`, which has exclusive access.
pub struct CompiledKernel {
    func: KernelFn,
    code_size: usize,
    compile_time: Duration,
    module: ManuallyDrop<JITModule>,
}

// SAFETY: the JITModule is only used through `&mut self` (in `Drop`); after
// `finalize_definitions` the code it owns is read-only and position-fixed, so sharing the
// function pointer across threads is sound.
unsafe impl Send for CompiledKernel {}
// SAFETY: no method reads or mutates the module through `&self`.
unsafe impl Sync for CompiledKernel {}

impl std::fmt::Debug for CompiledKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledKernel")
            .field("func", &(self.func as *const u8))
            .field("code_size", &self.code_size)
            .field("compile_time", &self.compile_time)
            .finish()
    }
}

impl CompiledKernel {
    /// The entry point. Valid only while `self` is alive.
    pub fn fn_ptr(&self) -> KernelFn {
        self.func
    }

    /// Bytes of machine code (including constant pools).
    pub fn code_size(&self) -> usize {
        self.code_size
    }

    /// Wall time spent in [`super::compile`] (IR building, Cranelift, linking).
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// Run the kernel.
    ///
    /// # Safety
    /// `args` must satisfy the [`KernelArgs`] safety contract for the spec and layout this kernel
    /// was compiled for (binding count, element types, a column stride of exactly 1 for every
    /// `Contiguous` binding and 0 for every `Broadcast` one).
    pub unsafe fn call(&self, args: &KernelArgs) {
        // SAFETY: the code is alive (owned by self) and the caller upholds the ABI contract.
        unsafe { (self.func)(args) }
    }
}

impl Drop for CompiledKernel {
    fn drop(&mut self) {
        // SAFETY: we own the module; dropping `self` ends the lifetime of `func`, the only
        // pointer into its memory that we handed out (documented on `fn_ptr`).
        unsafe { ManuallyDrop::take(&mut self.module).free_memory() };
    }
}

/// Compile `spec` for `layout` (validated by the caller).
pub(crate) fn compile_checked(
    spec: &KernelSpec,
    layout: &[LayoutClass],
    options: &CompileOptions,
) -> Result<CompiledKernel, CodegenError> {
    let start = Instant::now();
    let isa = host_isa()?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    let (need_unary, need_binary) = needed_callouts(spec);
    let f64_kernel = spec.float == ElemType::F64;
    let unary_name = if f64_kernel {
        callout::UNARY_F64
    } else {
        callout::UNARY_F32
    };
    let binary_name = if f64_kernel {
        callout::BINARY_F64
    } else {
        callout::BINARY_F32
    };
    if need_unary {
        let f = if f64_kernel {
            callout::unary_f64 as *const u8
        } else {
            callout::unary_f32 as *const u8
        };
        jb.symbol(unary_name, f);
    }
    if need_binary {
        let f = if f64_kernel {
            callout::binary_f64 as *const u8
        } else {
            callout::binary_f32 as *const u8
        };
        jb.symbol(binary_name, f);
    }
    let mut module = JITModule::new(jb);
    match build(
        &mut module,
        spec,
        layout,
        options,
        (need_unary, need_binary),
    ) {
        Ok((func, code_size)) => Ok(CompiledKernel {
            func,
            code_size,
            compile_time: start.elapsed(),
            module: ManuallyDrop::new(module),
        }),
        Err(e) => {
            // SAFETY: no pointer into the module's memory has been handed out.
            unsafe { module.free_memory() };
            Err(e)
        }
    }
}

fn build(
    module: &mut JITModule,
    spec: &KernelSpec,
    layout: &[LayoutClass],
    options: &CompileOptions,
    (need_unary, need_binary): (bool, bool),
) -> Result<(KernelFn, usize), CodegenError> {
    let ptr_ty = module.target_config().pointer_type();
    let cl = |e: cranelift_module::ModuleError| CodegenError::Cranelift(format!("{e:?}"));
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(ptr_ty));
    let id = module
        .declare_function("pinn_jit_kernel", Linkage::Local, &sig)
        .map_err(cl)?;
    let mut co_sig = module.make_signature();
    callout_signature(&mut co_sig, ptr_ty);
    let f64_kernel = spec.float == ElemType::F64;
    let mut declare = |name: &str| {
        module
            .declare_function(name, Linkage::Import, &co_sig)
            .map_err(cl)
    };
    let unary_id = if need_unary {
        Some(declare(if f64_kernel {
            callout::UNARY_F64
        } else {
            callout::UNARY_F32
        })?)
    } else {
        None
    };
    let binary_id = if need_binary {
        Some(declare(if f64_kernel {
            callout::BINARY_F64
        } else {
            callout::BINARY_F32
        })?)
    } else {
        None
    };

    let mut ctx = module.make_context();
    ctx.func.signature = sig;
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    let mut fctx = FunctionBuilderContext::new();
    let frontend_config = module.target_config();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let callouts = Callouts {
            unary: unary_id.map(|id| module.declare_func_in_func(id, b.func)),
            binary: binary_id.map(|id| module.declare_func_in_func(id, b.func)),
        };
        let cx = MathCx { fma: options.fma };
        lower_kernel(&mut b, spec, layout, cx, ptr_ty, callouts);
        b.finalize(frontend_config);
    }
    if options.print_ir {
        eprintln!("{}", ctx.func.display());
    }
    module.define_function(id, &mut ctx).map_err(cl)?;
    let code_size = ctx
        .compiled_code()
        .map(|c| c.code_info().total_size as usize)
        .unwrap_or(0);
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(cl)?;
    let ptr = module.get_finalized_function(id);
    // SAFETY: `ptr` is the entry of a function just compiled with the signature
    // `extern "C" fn(*const KernelArgs)` (the ISA's default call convention is the C one).
    let func = unsafe { std::mem::transmute::<*const u8, KernelFn>(ptr) };
    Ok((func, code_size))
}
