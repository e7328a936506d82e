//! [`ElemwiseFuser`]: burn-fusion's [`OperationFuser`] for chains of element-wise operations.
//!
//! burn-fusion feeds the fuser the recorded stream one operation at a time (in its *relative*
//! form: tensor ids and dimension sizes renumbered by first appearance, so that the same
//! computation on other data looks identical and reuses the same optimization). The fuser
//! accepts operations as long as they are element-wise ([`classify`]), compute in one float
//! type, and produce tensors of one shape that every input broadcasts to. The first operation
//! it cannot take closes it; burn-fusion then asks for the [`ElemwiseOptimization`] covering
//! the accepted prefix.

use std::collections::HashMap;

use burn_fusion::{FuserProperties, FuserStatus, OperationFuser};
use burn_ir::{OperationIr, ScalarIr, TensorId, TensorIr, TensorStatus};
use burn_std::Shape;

use super::optimization::ElemwiseOptimization;
use super::translate::{Node, Operand, Planned, classify, elem_type};
use crate::fusion::PinnOptimization;
use crate::kernel::{ElemType, Inst, KernelSpec, Output, ValueId};

/// Upper bound on instructions per kernel: beyond it compile time and register pressure grow
/// while the memory traffic saved no longer changes much.
const MAX_INSTRUCTIONS: usize = 256;
/// Upper bound on bindings (inputs + outputs) per kernel.
const MAX_BINDINGS: usize = 32;

/// Builds a [`KernelSpec`] from a run of element-wise operations.
#[derive(Clone, Debug)]
pub struct ElemwiseFuser {
    status: FuserStatus,
    /// Every operation taken, drops included, in order.
    ops: Vec<OperationIr>,
    /// Operations that compute something (not drops).
    num_compute: usize,
    /// The float type of the chain, fixed by its first float operation.
    float: Option<ElemType>,
    /// The shape (relative) of every tensor the chain defines.
    shape: Option<Shape>,
    body: Vec<Inst>,
    /// The value each tensor seen so far holds.
    values: HashMap<TensorId, ValueId>,
    /// Tensors read from outside, with their latest status.
    inputs: Vec<TensorIr>,
    /// Tensors defined inside, with their latest status.
    defined: Vec<TensorIr>,
    /// Relative ids of the runtime scalars, in kernel order.
    scalars: Vec<u64>,
}

impl Default for ElemwiseFuser {
    fn default() -> Self {
        Self::new()
    }
}

impl ElemwiseFuser {
    /// An empty, open fuser.
    pub fn new() -> Self {
        Self {
            status: FuserStatus::Open,
            ops: Vec::new(),
            num_compute: 0,
            float: None,
            shape: None,
            body: Vec::new(),
            values: HashMap::new(),
            inputs: Vec::new(),
            defined: Vec::new(),
            scalars: Vec::new(),
        }
    }

    fn close(&mut self) {
        self.status = FuserStatus::Closed;
    }

    /// Whether `planned` fits the chain as it stands.
    fn fits(&self, planned: &Planned<'_>) -> bool {
        if let (Some(a), Some(b)) = (self.float, planned.float)
            && a != b
        {
            return false;
        }
        let out_shape = &planned.out.shape;
        if let Some(shape) = &self.shape
            && shape != out_shape
        {
            return false;
        }
        // Every tensor operand must broadcast to the output: same rank, each dimension equal or
        // 1 (relative dimension id 0 always stands for size 1).
        let broadcasts = planned.operands.iter().all(|op| match op {
            Operand::Tensor(t) => {
                t.shape.rank() == out_shape.rank()
                    && t.shape
                        .iter()
                        .zip(out_shape.iter())
                        .all(|(&a, &b)| a == b || a == 0)
            }
            Operand::Scalar(s) => matches!(s, ScalarIr::UInt(_)),
        });
        let new_inputs = planned
            .operands
            .iter()
            .filter(|op| matches!(op, Operand::Tensor(t) if !self.values.contains_key(&t.id)))
            .count();
        broadcasts
            && self.body.len() + planned.operands.len() + 2 <= MAX_INSTRUCTIONS
            && self.inputs.len() + new_inputs + self.defined.len() < MAX_BINDINGS
    }

    /// The value of an operand, registering a new input or scalar if needed.
    fn operand(&mut self, operand: &Operand<'_>) -> ValueId {
        match operand {
            Operand::Tensor(t) => {
                if let Some(&v) = self.values.get(&t.id) {
                    self.update_status(t);
                    return v;
                }
                let index = self.inputs.len() as u32;
                self.inputs.push((*t).clone());
                let v = self.push(Inst::Input(index));
                self.values.insert(t.id, v);
                v
            }
            Operand::Scalar(s) => {
                let ScalarIr::UInt(id) = s else {
                    unreachable!("fits() only accepts relative scalars")
                };
                let index = match self.scalars.iter().position(|x| x == id) {
                    Some(i) => i,
                    None => {
                        self.scalars.push(*id);
                        self.scalars.len() - 1
                    }
                };
                self.push(Inst::Scalar(index as u32))
            }
        }
    }

    /// Remember the latest status of a tensor already in the chain.
    fn update_status(&mut self, tensor: &TensorIr) {
        if let Some(t) = self
            .inputs
            .iter_mut()
            .chain(self.defined.iter_mut())
            .find(|t| t.id == tensor.id)
        {
            t.status = tensor.status;
        }
    }

    fn push(&mut self, inst: Inst) -> ValueId {
        self.body.push(inst);
        ValueId(self.body.len() as u32 - 1)
    }

    fn float_type(&self) -> ElemType {
        self.float.unwrap_or(ElemType::F32)
    }

    /// Append `planned` to the chain.
    fn take(&mut self, planned: &Planned<'_>) {
        if planned.float.is_some() {
            self.float = planned.float;
        }
        let args: Vec<ValueId> = planned.operands.iter().map(|o| self.operand(o)).collect();
        let inst = match planned.node {
            Node::Unary(op) => Inst::Unary(op, args[0]),
            Node::Binary(op) => Inst::Binary(op, args[0], args[1]),
            Node::Compare(op) => Inst::Compare(op, args[0], args[1]),
            Node::Test(op) => Inst::Test(op, args[0]),
            Node::Bool(op) => Inst::Bool(op, args[0], *args.get(1).unwrap_or(&args[0])),
            Node::Select => Inst::Select {
                cond: args[0],
                then: args[1],
                otherwise: args[2],
            },
            Node::Clamp => Inst::Clamp {
                x: args[0],
                lo: args[1],
                hi: args[2],
            },
            Node::BoolToFloat => Inst::Cast(args[0], self.float_type()),
        };
        let v = self.push(inst);
        self.values.insert(planned.out.id, v);
        self.defined.push(planned.out.clone());
        if self.shape.is_none() {
            self.shape = Some(planned.out.shape.clone());
        }
    }

    /// The kernel and bookkeeping for the operations taken so far.
    fn build(&self) -> ElemwiseOptimization {
        let float = self.float_type();
        let types: Vec<ElemType> = self
            .inputs
            .iter()
            .map(|t| elem_type(t.dtype).expect("classify() only accepts kernel dtypes"))
            .collect();
        // A tensor defined here must be written unless its last use in the chain consumed it
        // (read-write: nobody holds it any more).
        let written: Vec<TensorIr> = self
            .defined
            .iter()
            .filter(|t| t.status != TensorStatus::ReadWrite)
            .cloned()
            .collect();
        let outputs = written
            .iter()
            .map(|t| Output {
                value: self.values[&t.id],
                ty: elem_type(t.dtype).expect("classify() only accepts kernel dtypes"),
            })
            .collect();
        let spec = KernelSpec {
            float,
            inputs: types,
            num_scalars: self.scalars.len() as u32,
            body: self.body.clone(),
            outputs,
        };
        ElemwiseOptimization::new(
            spec,
            self.inputs.clone(),
            written,
            self.scalars.clone(),
            self.ops.clone(),
            self.num_compute,
        )
    }
}

impl OperationFuser<PinnOptimization> for ElemwiseFuser {
    fn fuse(&mut self, operation: &OperationIr) {
        if self.status == FuserStatus::Closed {
            return;
        }
        if let OperationIr::Drop(tensor) = operation {
            // A drop ends a tensor's life: if the tensor is ours it need not be written (when
            // defined here) and its buffer may be reused (when an input). Drops of other
            // tensors ride along: burn-fusion frees their handles once the chain has run, as
            // it would after running the drop itself. A chain never starts with a drop.
            if self.num_compute == 0 {
                self.close();
                return;
            }
            if self.values.contains_key(&tensor.id) {
                self.update_status(tensor);
            }
            self.ops.push(operation.clone());
            return;
        }
        let Some(planned) = classify(operation) else {
            self.close();
            return;
        };
        if !self.fits(&planned) {
            self.close();
            return;
        }
        self.take(&planned);
        self.ops.push(operation.clone());
        self.num_compute += 1;
    }

    fn finish(&mut self) -> PinnOptimization {
        PinnOptimization::Elemwise(self.build())
    }

    fn reset(&mut self) {
        *self = Self::new();
    }

    fn status(&self) -> FuserStatus {
        self.status
    }

    fn properties(&self) -> FuserProperties {
        FuserProperties {
            score: self.num_compute as u64,
            ready: self.num_compute > 0,
        }
    }

    fn len(&self) -> usize {
        self.ops.len()
    }

    fn clone_dyn(&self) -> Box<dyn OperationFuser<PinnOptimization>> {
        Box::new(self.clone())
    }
}
