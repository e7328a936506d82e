//! [`ElemwiseOptimization`]: one fused chain, ready to run on every execution of the stream
//! segment it was built for.

use std::collections::HashMap;
use std::sync::Arc;

use burn_fusion::stream::{Context, OrderedExecution, ScalarId};
use burn_fusion::{FusionRuntime, NumOperations};
use burn_ir::{OperationIr, ScalarIr, TensorIr, TensorStatus};

use crate::backend::PinnHandle;
use crate::codegen::{CodegenError, CompiledKernel};
use crate::fusion::PinnFusionRuntime;
use crate::kernel::{KernelSpec, LayoutClass};
use crate::runtime::launch::{self, LaunchInput};
use crate::runtime::{cache, stats};

type Handle = <PinnFusionRuntime as FusionRuntime>::FusionHandle;

/// A fused element-wise chain: its kernel spec plus the mapping from the kernel's bindings to
/// the stream's tensors and scalars.
#[derive(Debug)]
pub struct ElemwiseOptimization {
    spec: KernelSpec,
    /// Tensors read, in binding order, with their last status in the chain: read-write ones
    /// are consumed (their buffers may be reused).
    inputs: Vec<TensorIr>,
    /// Tensors written, in binding order.
    outputs: Vec<TensorIr>,
    /// Relative ids of the runtime scalars, in kernel order.
    scalars: Vec<u64>,
    /// The operations covered (drops included), in their relative form: replaying them through
    /// a fuser rebuilds this optimization, which is what its serialized state is.
    ops: Vec<OperationIr>,
    /// Operations that compute (not drops).
    num_compute: usize,
    /// Kernels already looked up, by layout; almost always a single entry.
    kernels: HashMap<Vec<LayoutClass>, Result<Arc<CompiledKernel>, Arc<CodegenError>>>,
}

impl ElemwiseOptimization {
    pub(crate) fn new(
        spec: KernelSpec,
        inputs: Vec<TensorIr>,
        outputs: Vec<TensorIr>,
        scalars: Vec<u64>,
        ops: Vec<OperationIr>,
        num_compute: usize,
    ) -> Self {
        Self {
            spec,
            inputs,
            outputs,
            scalars,
            ops,
            num_compute,
            kernels: HashMap::new(),
        }
    }

    /// The kernel spec of this chain.
    pub fn spec(&self) -> &KernelSpec {
        &self.spec
    }

    /// The relative operations this chain covers.
    pub fn operations(&self) -> &[OperationIr] {
        &self.ops
    }

    /// Run the chain: compiled if possible, otherwise operation by operation.
    pub fn execute(
        &mut self,
        context: &mut Context<Handle>,
        execution: &OrderedExecution<PinnFusionRuntime>,
    ) {
        let global_inputs: Vec<TensorIr> = self
            .inputs
            .iter()
            .map(|t| global(context, t).clone())
            .collect();
        let global_outputs: Vec<TensorIr> = self
            .outputs
            .iter()
            .map(|t| global(context, t).clone())
            .collect();

        let Some(first_out) = global_outputs.first() else {
            // Everything the chain computes is dropped inside it: only release what it consumed.
            for (g, rel) in global_inputs.iter().zip(&self.inputs) {
                if rel.status == TensorStatus::ReadWrite {
                    drop(context.handles.get_handle(&g.id, &TensorStatus::ReadWrite));
                }
            }
            stats::record_launch(self.num_compute as u64);
            return;
        };
        let out_shape = first_out.shape.clone();

        let (space, dtypes_match) = {
            let tensors: Vec<_> = global_inputs
                .iter()
                .map(|g| {
                    context
                        .handles
                        .get_handle_ref(&g.id)
                        .unwrap_or_else(|| panic!("pinn-jit: no handle for kernel input {g:?}"))
                        .as_tensor()
                })
                .collect();
            // The kernel reads each buffer as the dtype the stream recorded. burn-fusion 0.21
            // records some outputs with the backend's default float type rather than the
            // one the eager op produces (a quantized matmul under an f16 default, for one), so
            // trust the buffers, not the record.
            let dtypes_match = tensors
                .iter()
                .zip(&global_inputs)
                .all(|(t, g)| t.dtype() == g.dtype);
            let space = launch::iter_space(&out_shape, &tensors, global_outputs.len());
            (space, dtypes_match)
        };
        let kernel = if dtypes_match {
            let classes = space.layout_classes();
            self.kernels
                .entry(classes)
                .or_insert_with_key(|classes| cache::get_or_compile(&self.spec, classes))
                .clone()
                .ok()
        } else {
            None
        };
        let Some(kernel) = kernel else {
            // A compile failure was logged when it happened (PINN_JIT_LOG); run uncompiled.
            stats::record_fallback(self.num_compute as u64);
            for index in 0..self.ops.len() {
                execution
                    .operation_within_optimization(index)
                    .execute(&mut context.handles);
            }
            return;
        };

        let scalars: Vec<f64> = self
            .scalars
            .iter()
            .map(|&id| match context.scalars.get(&ScalarId { value: id }) {
                Some(ScalarIr::Float(x)) => *x,
                Some(ScalarIr::Int(x)) => *x as f64,
                Some(ScalarIr::UInt(x)) => *x as f64,
                Some(ScalarIr::Bool(x)) => f64::from(u8::from(*x)),
                None => panic!("pinn-jit: scalar {id} missing from the fusion context"),
            })
            .collect();
        let inputs: Vec<LaunchInput> = global_inputs
            .iter()
            .zip(&self.inputs)
            .map(|(g, rel)| {
                let owned = rel.status == TensorStatus::ReadWrite;
                let status = if owned {
                    TensorStatus::ReadWrite
                } else {
                    TensorStatus::ReadOnly
                };
                LaunchInput {
                    tensor: context.handles.get_handle(&g.id, &status).into_tensor(),
                    owned,
                }
            })
            .collect();
        let dtypes: Vec<_> = global_outputs.iter().map(|t| t.dtype).collect();
        let results = launch::run(
            &kernel, &self.spec, &space, inputs, &out_shape, &dtypes, &scalars,
        );
        for (g, tensor) in global_outputs.iter().zip(results) {
            context
                .handles
                .register_handle(g.id, PinnHandle::Tensor(tensor));
        }
        stats::record_launch(self.num_compute as u64);
    }
}

fn global<'a>(context: &'a Context<Handle>, relative: &TensorIr) -> &'a TensorIr {
    context.tensors.get(&relative.id).unwrap_or_else(|| {
        panic!(
            "pinn-jit: tensor {:?} missing from the fusion context",
            relative.id
        )
    })
}

impl NumOperations for ElemwiseOptimization {
    fn len(&self) -> usize {
        self.ops.len()
    }

    fn name(&self) -> &'static str {
        "pinn-jit elementwise"
    }
}
