//! Graph capture: burn-fusion's runtime for pinn-jit, and the fusers that turn runs of recorded
//! operations into compiled kernels.
//!
//! burn-fusion records every operation of a [`PinnJitBackend`](crate::PinnJitBackend) tensor
//! into a stream instead of running it. When the stream must be executed (a tensor is read, or
//! the stream grows long), burn-fusion offers the operations to our fusers (`fusers`); a run
//! they accept becomes one [`PinnOptimization`], the rest run one by one on
//! [`PinnCpu`](crate::backend::PinnCpu). burn-fusion caches optimizations by the shape of the
//! stream segment, so a training loop builds each one once.

pub mod elemwise;

use burn_fusion::stream::{Context, OrderedExecution};
use burn_fusion::{FusionRuntime, NumOperations, OperationFuser, Optimization};
use burn_ir::OperationIr;

use crate::backend::{PinnHandle, PinnJitDevice};
use elemwise::{ElemwiseFuser, ElemwiseOptimization};

/// burn-fusion's runtime description of pinn-jit: handles, device, fusers, optimizations.
#[derive(Debug)]
pub struct PinnFusionRuntime;

/// Every kind of fused execution pinn-jit has.
#[derive(Debug)]
pub enum PinnOptimization {
    /// A chain of element-wise operations compiled into one kernel.
    Elemwise(ElemwiseOptimization),
}

/// The fusers offered every stream segment.
fn fusers() -> Vec<Box<dyn OperationFuser<PinnOptimization>>> {
    vec![Box::new(ElemwiseFuser::new())]
}

impl FusionRuntime for PinnFusionRuntime {
    /// An optimization is saved as the relative operations it covers; loading replays them
    /// through the fusers.
    type OptimizationState = Vec<OperationIr>;
    type Optimization = PinnOptimization;
    type FusionHandle = PinnHandle;
    type FusionDevice = PinnJitDevice;

    fn fusers(_device: PinnJitDevice) -> Vec<Box<dyn OperationFuser<PinnOptimization>>> {
        fusers()
    }
}

impl NumOperations for PinnOptimization {
    fn len(&self) -> usize {
        match self {
            PinnOptimization::Elemwise(opt) => opt.len(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            PinnOptimization::Elemwise(opt) => opt.name(),
        }
    }
}

impl Optimization<PinnFusionRuntime> for PinnOptimization {
    fn execute(
        &mut self,
        context: &mut Context<PinnHandle>,
        execution: &OrderedExecution<PinnFusionRuntime>,
    ) {
        match self {
            PinnOptimization::Elemwise(opt) => opt.execute(context, execution),
        }
    }

    fn to_state(&self) -> Vec<OperationIr> {
        match self {
            PinnOptimization::Elemwise(opt) => opt.operations().to_vec(),
        }
    }

    /// Replays the saved operations through the fusers and keeps the one that takes them all.
    ///
    /// # Panics
    /// If no fuser accepts the whole sequence, which means the state was not produced by
    /// [`Optimization::to_state`] of this version of pinn-jit.
    fn from_state(_device: &PinnJitDevice, state: Vec<OperationIr>) -> Self {
        for mut fuser in fusers() {
            for op in &state {
                fuser.fuse(op);
            }
            if fuser.len() == state.len() {
                return fuser.finish();
            }
        }
        panic!(
            "pinn-jit: cannot rebuild a fused optimization from {} saved operations; \
             the state comes from another version of pinn-jit",
            state.len()
        )
    }
}
