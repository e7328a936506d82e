//! The inference compiler's entry for ahead-of-time code ([`crate::export`]): the same plan and
//! code generator as the JIT, into any Cranelift module, with nothing imported.

use cranelift_codegen::ir::{AbiParam, InstBuilder, StackSlotData, StackSlotKind, UserFuncName};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{Linkage, Module};

use super::InferenceError;
use super::codegen::{CodeOptions, define_model, int8_slot_bytes};
use super::emit::first_callout_op;
use super::graph::Graph;
use super::pack::DenseLayout;
use super::pack::WeightPrecision;
use super::plan::{self, Step};

/// What [`define_standalone`] put into the module.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Standalone {
    /// Bytes of machine code (the model's functions and the entry).
    pub code_bytes: usize,
    /// Bytes of the entry's stack frame reserved for intermediate values.
    pub scratch_bytes: usize,
    /// Bytes of weights and constants.
    pub data_bytes: usize,
    /// Bytes of the largest stack buffer of one step (`i8` layers quantize their input rows
    /// there), below the entry's frame while the step runs.
    pub step_stack_bytes: usize,
}

/// Define `<name>_infer(const float *in, float *out, size_t batch)` in `module`: the model's
/// tile loop and steps (local functions), its weights (local read-only data) and an entry that
/// reserves the scratch on its own stack. The result references no symbol outside itself.
///
/// # Errors
/// [`InferenceError::UnsupportedOp`] for an element-wise operation that only has an out-of-line
/// implementation (`tan`, `sinh`, `cosh`, `erf`, `sin`/`cos` — whose huge-argument path calls
/// the host's libm —, `%`, `powf`, `atan2`), and the compiler's own errors.
pub(crate) fn define_standalone<M: Module>(
    module: &mut M,
    graph: &Graph,
    name: &str,
    fma: bool,
    weights: WeightPrecision,
) -> Result<Standalone, InferenceError> {
    let plan = plan::plan(graph, weights)?;
    let callout_op = plan.steps.iter().find_map(|step| match step {
        Step::Map { spec, .. } => first_callout_op(spec),
        _ => None,
    });
    if let Some(op) = callout_op {
        return Err(InferenceError::UnsupportedOp {
            op,
            detail: "it has no inline lowering, and exported code calls nothing outside itself"
                .into(),
        });
    }
    let opts = CodeOptions {
        fma,
        dense_callout_min_rows: None,
        print_ir: false,
    };
    let (model, mut code_bytes) = define_model(module, &plan, &format!("{name}_model"), &opts)?;
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    for _ in 0..3 {
        sig.params.push(AbiParam::new(ptr));
    }
    let entry = module
        .declare_function(&format!("{name}_infer"), Linkage::Export, &sig)
        .map_err(|e| InferenceError::Codegen(format!("{e:?}")))?;
    let scratch_bytes = (plan.scratch_floats * 4).max(16).next_multiple_of(16);
    let mut ctx = module.make_context();
    ctx.func.signature = sig;
    ctx.func.name = UserFuncName::user(0, entry.as_u32());
    let mut fctx = FunctionBuilderContext::new();
    let frontend_config = module.target_config();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let p = b.block_params(block).to_vec();
        let slot = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            u32::try_from(scratch_bytes).map_err(|_| {
                InferenceError::InvalidGraph(format!(
                    "{scratch_bytes} bytes of scratch do not fit one stack frame"
                ))
            })?,
            4,
        ));
        let scratch = b.ins().stack_addr(ptr, slot, 0);
        let callee = module.declare_func_in_func(model, b.func);
        b.ins().call(callee, &[p[0], p[1], p[2], scratch]);
        b.ins().return_(&[]);
        b.finalize(frontend_config);
    }
    module
        .define_function(entry, &mut ctx)
        .map_err(|e| InferenceError::Codegen(format!("{e:?}")))?;
    code_bytes += ctx
        .compiled_code()
        .map(|c| c.code_info().total_size as usize)
        .unwrap_or(0);
    Ok(Standalone {
        code_bytes,
        scratch_bytes,
        data_bytes: plan.data.len() * 4,
        step_stack_bytes: plan
            .steps
            .iter()
            .map(|s| match s {
                Step::Dense {
                    k,
                    layout: DenseLayout::Int8 { .. },
                    ..
                } => int8_slot_bytes(*k),
                _ => 0,
            })
            .max()
            .unwrap_or(0),
    })
}
