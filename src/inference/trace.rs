//! Tracing a forward pass: [`Tracer`], a Burn backend that runs every operation eagerly on
//! [`PinnCpu`] and, while a trace is active on the calling thread, records it.
//!
//! [`Tracer`] is burn-router's `BackendRouter` over a channel of our own ([`TraceChannel`]):
//! every tensor operation reaches [`TraceClient::register_op`] as an [`OperationIr`] (exact
//! shapes, scalars and tensor ids) before burn-router's [`Runner`] executes it on `PinnCpu`.
//! Tensors created from data (weights, constants, the traced input) arrive through
//! [`TraceClient::register_tensor_data`].
//!
//! The recorder only keeps what depends on the traced input: an operation with at least one
//! input-derived operand is recorded, together with the values of its other operands (read from
//! the runner just before the operation runs, so weights, biases and anything computed from
//! them alone — a transposed weight, a scaled Fourier matrix — arrive as constants). Everything
//! else just runs. The result is an exact data-flow graph from the input to the output.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use burn::module::{Module, ModuleVisitor, Param};
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::{Tensor, TensorData, TensorPrimitive};
use burn_backend::backend::ExecutionError;
use burn_backend::{DType, Shape};
use burn_ir::{OperationIr, TensorId, TensorIr, TensorStatus};
use burn_router::{
    BackendRouter, MultiBackendBridge, RouterTensor, Runner, RunnerChannel, RunnerClient,
};
use burn_std::future::DynFut;

use super::InferenceError;
use crate::backend::PinnHandle;
use crate::{PinnCpu, PinnJitDevice};

/// The tracing backend: build a module on it (see [`to_tracer`]) and call
/// [`super::CompiledModel::trace`] with its forward pass.
///
/// Outside a trace it is an ordinary (eager, unfused) backend over burn-flex.
pub type Tracer = BackendRouter<TraceChannel>;

/// Rows of the input the forward pass is traced with. Any value works (the graph does not
/// depend on it); an odd one larger than 1 makes batch-shaped constants recognisable.
pub(crate) const TRACE_ROWS: usize = 5;

/// burn-router channel of the [`Tracer`] backend: one [`TraceClient`] per device.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceChannel;

/// The [`Tracer`]'s runner client: records operations while a trace is active on the calling
/// thread and executes them on [`PinnCpu`].
#[derive(Clone, Debug)]
pub struct TraceClient {
    runner: Runner<PinnCpu>,
}

/// The [`Tracer`] has a single backend, so moving tensors between backends is the identity.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceBridge;

impl MultiBackendBridge for TraceBridge {
    type TensorHandle = PinnHandle;
    type Device = PinnJitDevice;

    fn change_backend_float(tensor: PinnHandle, _: Shape, _: &PinnJitDevice) -> PinnHandle {
        tensor
    }

    fn change_backend_int(tensor: PinnHandle, _: Shape, _: &PinnJitDevice) -> PinnHandle {
        tensor
    }

    fn change_backend_bool(tensor: PinnHandle, _: Shape, _: &PinnJitDevice) -> PinnHandle {
        tensor
    }
}

impl RunnerChannel for TraceChannel {
    type Device = PinnJitDevice;
    type Bridge = TraceBridge;
    type Client = TraceClient;
    type FloatElem = f32;
    type IntElem = i32;
    type BoolElem = bool;

    fn name(_device: &PinnJitDevice) -> String {
        "pinn-trace".into()
    }

    fn init_client(device: &PinnJitDevice) -> TraceClient {
        TraceClient {
            runner: Runner::new(*device),
        }
    }

    fn get_tensor_handle(tensor: &TensorIr, client: &TraceClient) -> PinnHandle {
        client.runner.get_tensor_handle(tensor)
    }

    fn register_tensor(
        client: &TraceClient,
        handle: PinnHandle,
        shape: Shape,
        dtype: DType,
    ) -> RouterTensor<TraceClient> {
        client
            .runner
            .register_tensor(handle, shape, dtype, client.clone())
    }
}

impl RunnerClient for TraceClient {
    type Device = PinnJitDevice;

    fn register_op(&self, op: OperationIr) {
        RECORDING.with(|r| {
            if let Some(rec) = r.borrow_mut().as_mut() {
                rec.observe(&op, &self.runner);
            }
        });
        self.runner.register_op(op);
    }

    fn read_tensor_async(&self, tensor: TensorIr) -> DynFut<Result<TensorData, ExecutionError>> {
        self.runner.read_tensor_async(tensor)
    }

    fn sync(&self) -> Result<(), ExecutionError> {
        self.runner.sync()
    }

    fn create_empty_handle(&self) -> TensorId {
        self.runner.create_empty_handle()
    }

    fn register_tensor_data(&self, data: TensorData) -> RouterTensor<Self> {
        let desc = self.runner.register_tensor_data_desc(data);
        RouterTensor::new(desc.id, desc.shape, desc.dtype, self.clone())
    }

    fn device(&self) -> PinnJitDevice {
        self.runner.device()
    }

    fn seed(&self, seed: u64) {
        self.runner.seed(seed)
    }

    fn dtype_usage(&self, dtype: DType) -> burn_backend::DTypeUsageSet {
        self.runner.dtype_usage(dtype)
    }
}

/// The values of a constant operand, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ConstValues {
    /// A float tensor, converted to `f32`.
    F32(Vec<f32>),
    /// A bool tensor.
    Bool(Vec<bool>),
    /// An int tensor.
    Int(Vec<i64>),
}

/// A constant operand of a recorded operation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ConstTensor {
    pub shape: Vec<usize>,
    pub values: ConstValues,
}

/// What one trace recorded.
#[derive(Debug)]
pub(crate) struct Trace {
    /// Id of the traced input tensor (`TRACE_ROWS × input_width`).
    pub input: TensorId,
    /// Features per sample.
    pub input_width: usize,
    /// The input-dependent operations, in execution order.
    pub ops: Vec<OperationIr>,
    /// Values of the other operands of those operations.
    pub consts: HashMap<TensorId, ConstTensor>,
    /// Id of the forward pass's result.
    pub output: TensorId,
    /// Shape of the result.
    pub output_shape: Vec<usize>,
    /// The input the forward pass ran on.
    pub input_values: Vec<f32>,
    /// What the eager forward pass computed from it.
    pub output_values: Vec<f32>,
}

struct Recording {
    vars: HashSet<TensorId>,
    ops: Vec<OperationIr>,
    consts: HashMap<TensorId, ConstTensor>,
    error: Option<String>,
}

thread_local! {
    static RECORDING: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

/// Read a tensor's current value from the runner without consuming it.
fn read_tensor(runner: &Runner<PinnCpu>, tensor: &TensorIr) -> Result<ConstTensor, String> {
    let ir = TensorIr {
        status: TensorStatus::ReadOnly,
        ..tensor.clone()
    };
    let data = runner.get_tensor_handle(&ir).into_tensor().into_data();
    let shape = data.shape.to_vec();
    let values = if data.dtype.is_float() {
        ConstValues::F32(
            data.convert::<f32>()
                .into_vec::<f32>()
                .map_err(|e| format!("{e:?}"))?,
        )
    } else if data.dtype.is_bool() {
        ConstValues::Bool(data.into_vec::<bool>().map_err(|e| format!("{e:?}"))?)
    } else if data.dtype.is_int() || data.dtype.is_uint() {
        ConstValues::Int(
            data.convert::<i64>()
                .into_vec::<i64>()
                .map_err(|e| format!("{e:?}"))?,
        )
    } else {
        return Err(format!("constant of dtype {:?}", data.dtype));
    };
    Ok(ConstTensor { shape, values })
}

impl Recording {
    fn observe(&mut self, op: &OperationIr, runner: &Runner<PinnCpu>) {
        if matches!(op, OperationIr::Drop(_)) {
            return;
        }
        if !op.inputs().any(|t| self.vars.contains(&t.id)) {
            return;
        }
        for t in op.inputs() {
            if self.vars.contains(&t.id) || self.consts.contains_key(&t.id) {
                continue;
            }
            match read_tensor(runner, t) {
                Ok(c) => {
                    self.consts.insert(t.id, c);
                }
                Err(e) => {
                    self.error.get_or_insert(e);
                }
            }
        }
        self.vars.extend(op.outputs().map(|t| t.id));
        self.ops.push(op.clone());
    }
}

/// Ends the thread's recording when dropped (also when the traced closure panics).
struct ActiveGuard;

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        RECORDING.with(|r| r.borrow_mut().take());
    }
}

/// Deterministic inputs in `[-1, 1)` for the traced forward pass.
fn trace_input(len: usize) -> Vec<f32> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// The id and data of a tracer tensor (consumes it).
fn into_ir_and_data(t: Tensor<Tracer, 2>) -> Result<(TensorIr, Vec<f32>), InferenceError> {
    let prim: RouterTensor<TraceClient> = match t.into_primitive() {
        TensorPrimitive::Float(p) => p,
        TensorPrimitive::QFloat(_) => {
            return Err(InferenceError::UnsupportedOp {
                op: "quantized output".into(),
                detail: "the forward pass returns a quantized tensor".into(),
            });
        }
    };
    let client = prim.client.clone();
    let ir = prim.into_ir();
    let c = read_tensor(&client.runner, &ir).map_err(InferenceError::Trace)?;
    // Reading with the tensor's own status releases the handle if this was its last reference.
    if ir.status == TensorStatus::ReadWrite {
        drop(client.runner.get_tensor_handle(&ir));
    }
    match c.values {
        ConstValues::F32(v) => Ok((ir, v)),
        _ => Err(InferenceError::Trace(
            "the forward pass must return a float tensor".into(),
        )),
    }
}

/// Run `forward` once on a `TRACE_ROWS × input_width` input and record what it does.
pub(crate) fn trace<F>(input_width: usize, forward: F) -> Result<Trace, InferenceError>
where
    F: FnOnce(Tensor<Tracer, 2>) -> Tensor<Tracer, 2>,
{
    if input_width == 0 || input_width > super::graph::MAX_WIDTH {
        return Err(InferenceError::Trace(format!(
            "input width {input_width} is outside 1..={}",
            super::graph::MAX_WIDTH
        )));
    }
    let already = RECORDING.with(|r| r.borrow().is_some());
    if already {
        return Err(InferenceError::Trace(
            "a trace is already active on this thread; traces cannot nest".into(),
        ));
    }
    let device = PinnJitDevice::Cpu;
    let input_values = trace_input(TRACE_ROWS * input_width);
    let x = Tensor::<Tracer, 2>::from_data(
        TensorData::new(input_values.clone(), [TRACE_ROWS, input_width]),
        &device,
    );
    let input = match x.clone().into_primitive() {
        TensorPrimitive::Float(p) => p.into_ir().id,
        TensorPrimitive::QFloat(_) => unreachable!("from_data of f32 values is a float tensor"),
    };
    RECORDING.with(|r| {
        *r.borrow_mut() = Some(Recording {
            vars: HashSet::from([input]),
            ops: Vec::new(),
            consts: HashMap::new(),
            error: None,
        })
    });
    let guard = ActiveGuard;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| forward(x)));
    let y = match result {
        Ok(y) => y,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            return Err(InferenceError::Trace(format!(
                "the forward pass panicked: {msg}"
            )));
        }
    };
    let rec = RECORDING
        .with(|r| r.borrow_mut().take())
        .expect("the recording is active until the guard drops");
    drop(guard);
    if let Some(e) = rec.error {
        return Err(InferenceError::Trace(format!(
            "reading a constant operand failed: {e}"
        )));
    }
    let output_shape = y.dims().to_vec();
    let (out_ir, output_values) = into_ir_and_data(y)?;
    if !rec.vars.contains(&out_ir.id) {
        return Err(InferenceError::Trace(
            "the output does not depend on the input; compile a forward pass that uses it".into(),
        ));
    }
    Ok(Trace {
        input,
        input_width,
        ops: rec.ops,
        consts: rec.consts,
        output: out_ir.id,
        output_shape,
        input_values,
        output_values,
    })
}

/// Initialises every lazily initialised float parameter it visits.
struct ForceInit;

impl<B: burn::tensor::backend::Backend> ModuleVisitor<B> for ForceInit {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let _ = param.val();
    }
}

/// Move a module (trained on any backend) onto the [`Tracer`] backend.
///
/// `init` builds an empty module of the same structure on the tracer (typically your config's
/// `init(device)`); the record of `model` is copied into it at full precision.
///
/// ```
/// use burn::nn::{Linear, LinearConfig};
/// use pinn_jit::inference::{Tracer, to_tracer};
///
/// let device = Default::default();
/// let trained: Linear<pinn_jit::PinnJitBackend> = LinearConfig::new(2, 3).init(&device);
/// let on_tracer: Linear<Tracer> =
///     to_tracer(&trained, |d| LinearConfig::new(2, 3).init(d)).unwrap();
/// assert_eq!(on_tracer.weight.dims(), [2, 3]);
/// ```
///
/// # Errors
/// [`InferenceError::Record`] if the record does not fit the module `init` builds.
pub fn to_tracer<B, M, MT>(
    model: &M,
    init: impl FnOnce(&PinnJitDevice) -> MT,
) -> Result<MT, InferenceError>
where
    B: burn::tensor::backend::Backend,
    M: Module<B>,
    MT: Module<Tracer>,
{
    // Parameters are initialised lazily, and a clone of an uninitialised parameter initialises
    // on its own: force every parameter of `model` first, so the record is `model`'s weights.
    model.visit(&mut ForceInit);
    let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
    let bytes = Recorder::<B>::record(&recorder, model.clone().into_record(), ())
        .map_err(|e| InferenceError::Record(e.to_string()))?;
    let device = PinnJitDevice::Cpu;
    let record = Recorder::<Tracer>::load(&recorder, bytes, &device)
        .map_err(|e| InferenceError::Record(e.to_string()))?;
    let empty = init(&device);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| empty.load_record(record)))
        .map_err(|_| InferenceError::Record("loading the record into the module panicked".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;

    #[test]
    fn records_only_input_dependent_ops_with_constant_operands() {
        let device = PinnJitDevice::Cpu;
        let lin = LinearConfig::new(3, 4).init::<Tracer>(&device);
        let t = trace(3, |x| lin.forward(x).tanh()).unwrap();
        assert_eq!(t.output_shape, vec![TRACE_ROWS, 4]);
        assert_eq!(t.output_values.len(), TRACE_ROWS * 4);
        // linear + tanh; the weight and bias are constants.
        let names: Vec<String> = t
            .ops
            .iter()
            .map(|o| format!("{o:?}").chars().take(20).collect())
            .collect();
        assert!(t.ops.len() >= 2, "{names:?}");
        let weight = lin.weight.val().into_data().to_vec::<f32>().unwrap();
        assert!(
            t.consts
                .values()
                .any(|c| c.values == ConstValues::F32(weight.clone())),
            "the weight is recorded as a constant"
        );
        // Eager result matches the recorded output.
        let x = Tensor::<Tracer, 2>::from_data(
            TensorData::new(t.input_values.clone(), [TRACE_ROWS, 3]),
            &device,
        );
        let y = lin.forward(x).tanh().into_data().to_vec::<f32>().unwrap();
        assert_eq!(y, t.output_values);
    }

    #[test]
    fn a_panicking_forward_is_an_error_and_ends_the_trace() {
        let e = trace(2, |_x| panic!("boom")).unwrap_err();
        assert!(e.to_string().contains("boom"), "{e}");
        // The thread can trace again.
        let t = trace(2, |x| x * 2.0).unwrap();
        assert_eq!(t.ops.len(), 1);
    }

    #[test]
    fn output_independent_of_the_input_is_an_error() {
        let device = PinnJitDevice::Cpu;
        let e = trace(2, |_x| Tensor::<Tracer, 2>::ones([1, 1], &device)).unwrap_err();
        assert!(matches!(e, InferenceError::Trace(_)), "{e}");
        assert!(trace(0, |x| x).is_err());
    }

    #[test]
    fn nested_traces_are_refused() {
        let inner = std::cell::Cell::new(None);
        let _ = trace(2, |x| {
            inner.set(Some(trace(2, |y| y).is_err()));
            x + 1.0
        })
        .unwrap();
        assert_eq!(inner.get(), Some(true));
    }

    #[test]
    fn to_tracer_copies_the_weights() {
        let device = Default::default();
        let m = LinearConfig::new(2, 3).init::<crate::PinnJitBackend>(&device);
        let t = to_tracer(&m, |d| LinearConfig::new(2, 3).init::<Tracer>(d)).unwrap();
        assert_eq!(
            m.weight.val().into_data().to_vec::<f32>().unwrap(),
            t.weight.val().into_data().to_vec::<f32>().unwrap()
        );
        let wrong = to_tracer(&m, |d| LinearConfig::new(5, 3).init::<Tracer>(d));
        if let Ok(w) = wrong {
            // Burn may accept the record and keep the loaded (2×3) tensor; never a silent mix.
            assert_eq!(w.weight.dims(), [2, 3]);
        }
    }
}
