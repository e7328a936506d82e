//! Flattening a Burn module's float parameters (and their gradients) into one host `f64`
//! vector and writing such a vector back — the bridge between Burn modules and
//! vector-based optimizers such as [`Lbfgs`](super::Lbfgs).
//!
//! ```
//! use burn::backend::Autodiff;
//! use burn_flex::Flex;
//! use pinn_jit::pinn::{flatten_params, load_params, PinnMlpConfig};
//!
//! let mlp = PinnMlpConfig::new(2, 1, vec![4]).init::<Autodiff<Flex>>(0, &Default::default()).unwrap();
//! let mut theta = flatten_params(&mlp);
//! assert_eq!(theta.len(), 2 * 4 + 4 + 4 + 1);
//! theta[0] = 0.25;
//! let mlp = load_params(mlp, &theta).unwrap();
//! assert_eq!(flatten_params(&mlp)[0], 0.25);
//! ```

use burn::module::{AutodiffModule, Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData, backend::Backend};

use super::error::PinnError;

struct Flatten {
    out: Vec<f64>,
}

impl<B: Backend> ModuleVisitor<B> for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let data = param.val().into_data().convert::<f64>();
        self.out
            .extend_from_slice(data.as_slice::<f64>().expect("converted to f64"));
    }
}

/// All float parameters of `module`, in visiting order, as one `f64` vector.
pub fn flatten_params<B: Backend, M: Module<B>>(module: &M) -> Vec<f64> {
    let mut v = Flatten {
        out: Vec::with_capacity(module.num_params()),
    };
    module.visit(&mut v);
    v.out
}

struct Load<'a> {
    values: &'a [f64],
    offset: usize,
    overflow: bool,
}

impl<B: Backend> ModuleMapper<B> for Load<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.shape();
        let n = shape.num_elements();
        if self.offset + n > self.values.len() {
            self.overflow = true;
            return Param::from_mapped_value(id, tensor, mapper);
        }
        let require_grad = tensor.is_require_grad();
        let dtype = tensor.dtype();
        let slice = &self.values[self.offset..self.offset + n];
        self.offset += n;
        let data = TensorData::new(slice.to_vec(), shape).convert_dtype(dtype);
        let mut new = Tensor::<B, D>::from_data(data, &tensor.device());
        if require_grad {
            new = new.require_grad();
        }
        Param::from_mapped_value(id, new, mapper)
    }
}

/// Writes `values` (as produced by [`flatten_params`]) back into `module`'s float parameters,
/// keeping parameter ids (so optimizer state stays attached) and `require_grad` flags.
pub fn load_params<B: Backend, M: Module<B>>(module: M, values: &[f64]) -> Result<M, PinnError> {
    let expected = module.num_params();
    if values.len() != expected {
        return Err(PinnError::ShapeMismatch {
            context: "load_params: one value per float parameter (see flatten_params)",
            expected: vec![expected],
            got: vec![values.len()],
        });
    }
    let mut loader = Load {
        values,
        offset: 0,
        overflow: false,
    };
    let module = module.map(&mut loader);
    if loader.overflow || loader.offset != values.len() {
        return Err(PinnError::ShapeMismatch {
            context: "load_params: the module has non-float parameters counted by num_params",
            expected: vec![values.len()],
            got: vec![loader.offset],
        });
    }
    Ok(module)
}

struct FlattenGrads<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    out: Vec<f64>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for FlattenGrads<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        match value.grad(self.grads) {
            Some(g) => {
                let data = g.into_data().convert::<f64>();
                self.out
                    .extend_from_slice(data.as_slice::<f64>().expect("converted to f64"));
            }
            None => {
                let n = value.shape().num_elements();
                self.out.extend(core::iter::repeat_n(0.0, n));
            }
        }
    }
}

/// The gradient of every float parameter of `module` from `grads` (the result of
/// `loss.backward()`), flattened in the same order as [`flatten_params`]; parameters without
/// a gradient contribute zeros.
pub fn flatten_grads<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: &B::Gradients,
) -> Vec<f64> {
    let mut v = FlattenGrads {
        grads,
        out: Vec::with_capacity(module.num_params()),
    };
    module.visit(&mut v);
    v.out
}
