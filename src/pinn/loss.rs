//! Weighted, named loss terms.

use burn::tensor::{ElementConversion, Tensor, backend::Backend};

/// One named loss term: `weight · value`, with `value` a scalar tensor (`[1]`).
#[derive(Clone, Debug)]
pub struct LossTerm<B: Backend> {
    /// Short name shown in progress lines (`pde`, `ic`, `bc`, …).
    pub name: &'static str,
    /// Multiplier applied in the total.
    pub weight: f64,
    /// The unweighted value.
    pub value: Tensor<B, 1>,
}

/// A weighted sum of named loss terms, e.g. PDE residual + initial + boundary conditions.
///
/// ```
/// use burn::tensor::Tensor;
/// use burn_flex::Flex;
/// use pinn_jit::pinn::LossTerms;
///
/// let device = Default::default();
/// let residual = Tensor::<Flex, 2>::from_floats([[1.0], [3.0]], &device);
/// let bc = Tensor::<Flex, 2>::from_floats([[2.0]], &device);
/// let loss = LossTerms::new().mse("pde", 1.0, residual).mse("bc", 10.0, bc);
/// assert_eq!(loss.total().into_scalar(), 5.0 + 40.0);
/// assert_eq!(loss.values()[1], ("bc", 4.0));
/// ```
#[derive(Clone, Debug)]
pub struct LossTerms<B: Backend> {
    terms: Vec<LossTerm<B>>,
}

impl<B: Backend> Default for LossTerms<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> LossTerms<B> {
    /// No terms yet.
    pub fn new() -> Self {
        Self { terms: Vec::new() }
    }

    /// Adds a term with a precomputed scalar value.
    pub fn push(mut self, name: &'static str, weight: f64, value: Tensor<B, 1>) -> Self {
        self.terms.push(LossTerm {
            name,
            weight,
            value,
        });
        self
    }

    /// Adds the mean squared value of `residual` (any shape) as a term.
    pub fn mse<const D: usize>(
        self,
        name: &'static str,
        weight: f64,
        residual: Tensor<B, D>,
    ) -> Self {
        self.push(name, weight, residual.square().mean())
    }

    /// The terms.
    pub fn terms(&self) -> &[LossTerm<B>] {
        &self.terms
    }

    /// `Σ weight · value` (zero when empty).
    pub fn total(&self) -> Tensor<B, 1> {
        let mut it = self.terms.iter();
        let first = match it.next() {
            Some(t) => t.value.clone().mul_scalar(t.weight),
            None => return Tensor::zeros([1], &Default::default()),
        };
        it.fold(first, |acc, t| acc + t.value.clone().mul_scalar(t.weight))
    }

    /// The unweighted values on the host (synchronises the device).
    pub fn values(&self) -> Vec<(&'static str, f64)> {
        self.terms
            .iter()
            .map(|t| (t.name, t.value.clone().into_scalar().elem::<f64>()))
            .collect()
    }
}
