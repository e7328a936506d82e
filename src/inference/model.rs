//! [`CompiledModel`]: a traced Burn model as one native function.

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::tensor::Tensor;
use rayon::prelude::*;

use super::InferenceError;
use super::callout::has_avx2_fma;
use super::codegen::CodeOptions;
use super::graph::Graph;
use super::jit::{self, JitCode};
use super::pack::WeightPrecision;
use super::plan;
use super::trace::{self, Tracer, to_tracer};
use crate::PinnJitDevice;

/// Knobs for [`CompiledModel::compile_with`] and [`CompiledModel::trace_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// Call the AVX2 dense kernel for tiles of at least this many rows. Defaults to
    /// `Some(1)` (every tile: its single-row kernel is also the fastest batch-1 path) on x86-64
    /// hosts with AVX2 and FMA, `None` elsewhere; `None` gives pure Cranelift code for every
    /// batch size. Ignored where the host lacks AVX2/FMA.
    pub avx2_dense_min_rows: Option<usize>,
    /// Split batches of at least this many rows across rayon's threads (default 1024).
    pub parallel_min_rows: usize,
    /// Compare the compiled model with the eager forward pass it was traced from (default
    /// true; tracing only).
    pub self_check: bool,
    /// Print the generated Cranelift IR to stderr.
    pub print_ir: bool,
    /// Format of the dense layers' weights (default `F32`; see [`WeightPrecision::Int8`]).
    pub weights: WeightPrecision,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            avx2_dense_min_rows: has_avx2_fma().then_some(1),
            parallel_min_rows: 1024,
            self_check: true,
            print_ir: false,
            weights: WeightPrecision::F32,
        }
    }
}

/// A whole model compiled into one native function: dense layers, biases, activations and
/// every other element-wise operation, weights packed into the code's data.
///
/// Build one by tracing a forward pass ([`CompiledModel::trace`], [`CompiledModel::from_module`])
/// or from a [`Graph`] ([`CompiledModel::compile`]); run it with [`CompiledModel::infer`] or,
/// without allocating, [`CompiledModel::infer_into`]. It is `Send + Sync`: any number of threads
/// may run it at once.
///
/// ```
/// use burn::nn::{Linear, LinearConfig};
/// use pinn_jit::inference::{CompiledModel, Tracer};
///
/// // A model built on the tracing backend (see `to_tracer` to move a trained one there).
/// let device = Default::default();
/// let l1: Linear<Tracer> = LinearConfig::new(2, 16).init(&device);
/// let l2: Linear<Tracer> = LinearConfig::new(16, 1).init(&device);
/// let model = CompiledModel::trace(2, |x| l2.forward(l1.forward(x).tanh())).unwrap();
///
/// let y = model.infer(&[0.1, 0.2, 0.3, 0.4]).unwrap(); // two samples
/// assert_eq!(y.len(), 2);
/// let mut out = [0.0f32; 1];
/// model.infer_into(&[0.1, 0.2], &mut out).unwrap(); // no allocation
/// assert_eq!(out[0], y[0]);
/// ```
pub struct CompiledModel {
    graph: Graph,
    input_width: usize,
    output_width: usize,
    tile_rows: usize,
    scratch_floats: usize,
    weight_bytes: usize,
    weights: WeightPrecision,
    parallel_min_rows: usize,
    compile_time: Duration,
    code: JitCode,
}

impl std::fmt::Debug for CompiledModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledModel")
            .field("input_width", &self.input_width)
            .field("output_width", &self.output_width)
            .field("nodes", &self.graph.nodes.len())
            .field("tile_rows", &self.tile_rows)
            .field("scratch_floats", &self.scratch_floats)
            .field("code_size", &self.code.code_size())
            .field("compile_time", &self.compile_time)
            .finish()
    }
}

/// Parallel batches are split into chunks of a multiple of this many rows: the x86 dense
/// kernel's row block, so that every chunk but the last runs full blocks, and the chunks stay
/// within a few rows of each other (rounding to whole tiles of up to 60 rows left one thread
/// 5 % more work at batch 4096).
const SPLIT_ROWS: usize = 6;

/// Scratch that lives on the stack of `infer_into` (64 KiB); larger plans use a per-thread
/// buffer allocated on first use.
const STACK_SCRATCH: usize = 16 * 1024;

thread_local! {
    static HEAP_SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl CompiledModel {
    /// Compile a graph with the default options.
    ///
    /// # Errors
    /// [`InferenceError::InvalidGraph`] if `graph` breaks an invariant, or
    /// [`InferenceError::Codegen`] if code generation fails.
    pub fn compile(graph: Graph) -> Result<Self, InferenceError> {
        Self::compile_with(graph, &CompileOptions::default())
    }

    /// Compile a graph.
    ///
    /// # Errors
    /// As [`CompiledModel::compile`].
    pub fn compile_with(graph: Graph, options: &CompileOptions) -> Result<Self, InferenceError> {
        let start = Instant::now();
        graph.validate()?;
        let graph = graph.pruned();
        let plan = plan::plan(&graph, options.weights)?;
        let code_opts = CodeOptions {
            fma: crate::codegen::CompileOptions::default().fma,
            dense_callout_min_rows: options.avx2_dense_min_rows.filter(|_| has_avx2_fma()),
            print_ir: options.print_ir,
        };
        let code = jit::compile(&plan, &code_opts)?;
        Ok(CompiledModel {
            input_width: plan.input_width,
            output_width: plan.output_width,
            tile_rows: plan.tile_rows,
            scratch_floats: plan.scratch_floats,
            weight_bytes: plan.weight_bytes,
            weights: options.weights,
            parallel_min_rows: options.parallel_min_rows.max(1),
            compile_time: start.elapsed(),
            code,
            graph,
        })
    }

    /// Trace `forward` on a `rows × input_width` input and compile what it does.
    ///
    /// `forward` runs once, eagerly, on the [`Tracer`] backend; every operation that depends on
    /// its input is recorded with exact shapes, and the tensors it reads that do not (weights,
    /// biases, constants) are captured by value. The result is checked against that eager run.
    ///
    /// # Errors
    /// [`InferenceError::UnsupportedOp`] naming the first operation that cannot be compiled,
    /// [`InferenceError::Trace`] if `forward` panics or its output ignores its input, or any
    /// error of [`CompiledModel::compile`].
    pub fn trace<F>(input_width: usize, forward: F) -> Result<Self, InferenceError>
    where
        F: FnOnce(Tensor<Tracer, 2>) -> Tensor<Tracer, 2>,
    {
        Self::trace_with(input_width, forward, &CompileOptions::default())
    }

    /// [`CompiledModel::trace`] with explicit options.
    ///
    /// # Errors
    /// As [`CompiledModel::trace`].
    pub fn trace_with<F>(
        input_width: usize,
        forward: F,
        options: &CompileOptions,
    ) -> Result<Self, InferenceError>
    where
        F: FnOnce(Tensor<Tracer, 2>) -> Tensor<Tracer, 2>,
    {
        let t = trace::trace(input_width, forward)?;
        let graph = super::lower::lower(&t)?;
        let model = Self::compile_with(graph, options)?;
        if options.self_check {
            let got = model.infer(&t.input_values)?;
            let tolerance = match options.weights {
                WeightPrecision::F32 => 1e-3,
                WeightPrecision::Int8 => 5e-2,
            };
            check_close(&t.output_values, &got, tolerance)?;
        }
        Ok(model)
    }

    /// Compile a trained module: move it onto the [`Tracer`] (`init` builds an empty module of
    /// the same structure there, see [`to_tracer`]) and trace `forward`.
    ///
    /// ```
    /// use burn::nn::{Linear, LinearConfig};
    /// use pinn_jit::PinnJitBackend;
    /// use pinn_jit::inference::CompiledModel;
    ///
    /// let device = Default::default();
    /// let trained: Linear<PinnJitBackend> = LinearConfig::new(3, 2).init(&device);
    /// let model = CompiledModel::from_module(
    ///     &trained,
    ///     |d| LinearConfig::new(3, 2).init(d),
    ///     3,
    ///     |m, x| m.forward(x).sin(),
    /// )
    /// .unwrap();
    /// assert_eq!(model.output_width(), 2);
    /// ```
    ///
    /// # Errors
    /// [`InferenceError::Record`] if the record does not fit, or any error of
    /// [`CompiledModel::trace`].
    pub fn from_module<B, M, MT, F>(
        model: &M,
        init: impl FnOnce(&PinnJitDevice) -> MT,
        input_width: usize,
        forward: F,
    ) -> Result<Self, InferenceError>
    where
        B: burn::tensor::backend::Backend,
        M: Module<B>,
        MT: Module<Tracer>,
        F: FnOnce(&MT, Tensor<Tracer, 2>) -> Tensor<Tracer, 2>,
    {
        let traced = to_tracer(model, init)?;
        Self::trace(input_width, |x| forward(&traced, x))
    }

    /// Features per input sample.
    pub fn input_width(&self) -> usize {
        self.input_width
    }

    /// Features per output sample.
    pub fn output_width(&self) -> usize {
        self.output_width
    }

    /// The graph this model was compiled from (after dead-node pruning).
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Wall time of planning, code generation and linking (not of tracing).
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// Bytes of machine code.
    pub fn code_size(&self) -> usize {
        self.code.code_size()
    }

    /// Bytes of the dense layers' packed weights as the code reads them: `f32` weights (or
    /// `i8` codes with their per-column `f32` scales) without the panels' zero padding, plus
    /// biases.
    pub fn weight_bytes(&self) -> usize {
        self.weight_bytes
    }

    /// The weight format it was compiled with ([`CompileOptions::weights`]).
    pub fn weight_precision(&self) -> WeightPrecision {
        self.weights
    }

    /// Run the model on `input` (`rows × input_width`, row-major); returns
    /// `rows × output_width` values. NaN and ±inf inputs propagate as IEEE arithmetic says.
    ///
    /// # Errors
    /// [`InferenceError::InputLength`] if `input` is not a whole number of rows.
    pub fn infer(&self, input: &[f32]) -> Result<Vec<f32>, InferenceError> {
        let rows = self.rows(input)?;
        let mut out = vec![0.0f32; rows * self.output_width];
        self.infer_into(input, &mut out)?;
        Ok(out)
    }

    /// Run the model on `input` into `output` without allocating (for plans whose scratch fits
    /// in 64 KiB, which is every model up to about 4096 features per layer; larger ones allocate
    /// a per-thread scratch buffer once). Batches of at least
    /// [`CompileOptions::parallel_min_rows`] rows are split across rayon's threads.
    ///
    /// # Errors
    /// [`InferenceError::InputLength`] or [`InferenceError::OutputLength`] if the slices do not
    /// hold the same whole number of rows.
    pub fn infer_into(&self, input: &[f32], output: &mut [f32]) -> Result<(), InferenceError> {
        let rows = self.rows(input)?;
        let expected = rows * self.output_width;
        if output.len() != expected {
            return Err(InferenceError::OutputLength {
                expected,
                found: output.len(),
            });
        }
        let threads = rayon::current_num_threads();
        if rows >= self.parallel_min_rows && threads > 1 {
            let per = rows.div_ceil(threads).next_multiple_of(SPLIT_ROWS);
            input
                .par_chunks(per * self.input_width)
                .zip(output.par_chunks_mut(per * self.output_width))
                .for_each(|(i, o)| self.run(i, o));
        } else {
            self.run(input, output);
        }
        Ok(())
    }

    fn rows(&self, input: &[f32]) -> Result<usize, InferenceError> {
        if input.len().is_multiple_of(self.input_width) {
            Ok(input.len() / self.input_width)
        } else {
            Err(InferenceError::InputLength {
                len: input.len(),
                width: self.input_width,
            })
        }
    }

    /// Run the compiled function on whole rows (lengths checked by the caller).
    fn run(&self, input: &[f32], output: &mut [f32]) {
        let rows = input.len() / self.input_width;
        debug_assert_eq!(output.len(), rows * self.output_width);
        if rows == 0 {
            return;
        }
        let (ip, op) = (input.as_ptr(), output.as_mut_ptr());
        let call = |scratch: *mut f32| {
            // SAFETY: `input` holds `rows × input_width` floats and `output` `rows ×
            // output_width` (checked by `infer_into`), they do not overlap (one is `&`, the
            // other `&mut`), and `scratch` points to at least `scratch_floats` floats that
            // nothing else uses during the call — the contract of `ModelFn`. The code is alive
            // while `self` is borrowed.
            unsafe {
                (self.code.func())(ip, op, rows, scratch);
            }
        };
        if self.scratch_floats <= STACK_SCRATCH {
            let mut buf = [MaybeUninit::<f32>::uninit(); STACK_SCRATCH];
            // Uninitialised is fine: the generated code writes every scratch element before it
            // reads it.
            call(buf.as_mut_ptr().cast());
        } else {
            HEAP_SCRATCH.with(|s| {
                let mut s = s.borrow_mut();
                if s.len() < self.scratch_floats {
                    s.resize(self.scratch_floats, 0.0);
                }
                call(s.as_mut_ptr());
            });
        }
    }
}

/// The self-check of a traced model: every element within `tolerance` (1e-3 for `f32` weights,
/// 5e-2 for `i8` ones: a check that the code computes the model, not a bound on quantization
/// error) relative to its magnitude plus the output's mean magnitude, with NaN where and only
/// where eager has NaN and infinities equal.
fn check_close(expected: &[f32], found: &[f32], tolerance: f32) -> Result<(), InferenceError> {
    let finite: Vec<f32> = expected.iter().copied().filter(|v| v.is_finite()).collect();
    let scale = finite.iter().map(|v| v.abs()).sum::<f32>() / finite.len().max(1) as f32;
    for (i, (&e, &f)) in expected.iter().zip(found).enumerate() {
        let ok = if e.is_nan() || f.is_nan() {
            e.is_nan() && f.is_nan()
        } else if e.is_infinite() || f.is_infinite() {
            e == f
        } else {
            (e - f).abs() <= tolerance * (e.abs() + scale) + f32::MIN_POSITIVE
        };
        if !ok {
            return Err(InferenceError::SelfCheck {
                index: i,
                expected: e,
                found: f,
            });
        }
    }
    if expected.len() != found.len() {
        return Err(InferenceError::SelfCheck {
            index: expected.len().min(found.len()),
            expected: f32::NAN,
            found: f32::NAN,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn compiled_model_is_send_and_sync() {
        assert_send_sync::<CompiledModel>();
    }

    #[test]
    fn self_check_tolerates_rounding_not_errors() {
        assert!(
            check_close(
                &[1.0, f32::NAN, f32::INFINITY],
                &[1.0000001, f32::NAN, f32::INFINITY],
                1e-3
            )
            .is_ok()
        );
        assert!(check_close(&[1.0, 2.0], &[1.0, 2.1], 1e-3).is_err());
        assert!(check_close(&[1.0, 2.0], &[1.0, 2.1], 5e-2).is_ok());
        assert!(check_close(&[f32::NAN], &[0.0], 1e-3).is_err());
        assert!(check_close(&[1.0], &[f32::NAN], 1e-3).is_err());
        assert!(check_close(&[f32::INFINITY], &[f32::NEG_INFINITY], 1e-3).is_err());
    }
}
