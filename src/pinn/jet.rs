//! Forward-mode Taylor propagation ("jets") of first and second input derivatives.
//!
//! A [`Jet`] carries, for a batch of `N` points and `W` features, the value of a function
//! together with its first derivatives with respect to every network input and the second
//! derivatives (including mixed partials) that a [`JetSpec`] asks for. Everything is expressed
//! with ordinary Burn tensor operations, so wrapping the backend in `Autodiff` differentiates
//! any PDE residual built from a jet with respect to the network weights — Burn's autodiff is
//! first-order only, which is exactly what this needs.
//!
//! The propagation rules are the chain and product rules truncated at order two:
//!
//! * linear map `z = h W + b`: every channel goes through the same `W`; only the value gets
//!   `b`. All channels are stacked along the batch axis so one GEMM of shape
//!   `[(1 + d + m)·N, in] × [in, out]` does the whole layer.
//!
//! Each channel is kept as its own `[N, W]` tensor, so every element-wise rule is a
//! same-shape operation: broadcasting over a leading channel axis measured 10–40× slower than
//! same-shape ops on `burn-flex` (and flat broadcasting as slow on `burn-ndarray`).
//! * element-wise `a = f(z)`: `a_i = f'(z) z_i`, `a_ij = f''(z) z_i z_j + f'(z) z_ij`.
//! * product `p = u v`: `p_i = u_i v + u v_i`, `p_ij = u_ij v + u_i v_j + u_j v_i + u v_ij`.
//!
//! ```
//! use burn::tensor::Tensor;
//! use burn_flex::Flex;
//! use pinn_jit::pinn::{Jet, JetSpec};
//!
//! let device = Default::default();
//! // u(x, t) = sin(x) * t, with u_x, u_t and u_xx.
//! let spec = JetSpec::new(2).with_second(&[(0, 0)]);
//! let pts = Tensor::<Flex, 2>::from_floats([[0.5, 2.0]], &device);
//! let x = Jet::coordinate(pts.clone(), &spec, 0).unwrap();
//! let t = Jet::coordinate(pts, &spec, 1).unwrap();
//! let u = x.sin() * t;
//! let u_xx: f32 = u.d2(0, 0).unwrap().into_scalar();
//! assert!((u_xx + 0.5f32.sin() * 2.0).abs() < 1e-6);
//! ```

use std::sync::Arc;

use burn::nn::Linear;
use burn::tensor::{Tensor, TensorData, backend::Backend};

use super::activation::Activation;
use super::error::PinnError;

/// Which derivatives a [`Jet`] carries: all first derivatives of `n_inputs` inputs, plus the
/// listed second derivatives `(i, j)` (stored with `i <= j`; `(i, i)` is a pure second
/// derivative, `i != j` a mixed one).
///
/// Ask only for what the PDE needs: every extra channel costs one more `N × width` slab in
/// every layer. Burgers in `(x, t)` needs `JetSpec::new(2).with_second(&[(0, 0)])`: 4 channels
/// (u, u_x, u_t, u_xx) instead of the 6 of a full Hessian.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JetSpec {
    n_inputs: usize,
    second: Vec<(usize, usize)>,
}

impl JetSpec {
    /// First derivatives only, for a network with `n_inputs` inputs.
    pub fn new(n_inputs: usize) -> Self {
        Self {
            n_inputs,
            second: Vec::new(),
        }
    }

    /// Adds second derivatives `(i, j)`; order within a pair does not matter and duplicates
    /// are ignored. Indices are checked when the jet is seeded.
    pub fn with_second(mut self, pairs: &[(usize, usize)]) -> Self {
        for &(i, j) in pairs {
            let p = (i.min(j), i.max(j));
            if !self.second.contains(&p) {
                self.second.push(p);
            }
        }
        self
    }

    /// Adds every pure second derivative `(i, i)` (the Laplacian's ingredients).
    pub fn with_laplacian(self) -> Self {
        let pairs: Vec<_> = (0..self.n_inputs).map(|i| (i, i)).collect();
        self.with_second(&pairs)
    }

    /// Adds the full Hessian (every `(i, j)`, `i <= j`).
    pub fn with_hessian(self) -> Self {
        let n = self.n_inputs;
        let pairs: Vec<_> = (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect();
        self.with_second(&pairs)
    }

    /// Number of network inputs.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// The second-derivative pairs carried, in channel order.
    pub fn second_pairs(&self) -> &[(usize, usize)] {
        &self.second
    }

    /// Total number of channels: value, first derivatives and requested second derivatives.
    pub fn n_channels(&self) -> usize {
        1 + self.n_inputs + self.second.len()
    }

    /// Position of `(i, j)` among the second-derivative channels, if carried.
    pub fn second_index(&self, i: usize, j: usize) -> Option<usize> {
        let p = (i.min(j), i.max(j));
        self.second.iter().position(|&q| q == p)
    }

    fn validate(&self) -> Result<(), PinnError> {
        if self.n_inputs == 0 {
            return Err(PinnError::InvalidConfig(
                "a JetSpec needs at least one input; use JetSpec::new(n) with n >= 1".into(),
            ));
        }
        for &(_, j) in &self.second {
            if j >= self.n_inputs {
                return Err(PinnError::InputOutOfRange {
                    index: j,
                    n_inputs: self.n_inputs,
                });
            }
        }
        Ok(())
    }
}

/// A batch of truncated second-order Taylor expansions: value, gradient and selected second
/// derivatives of `W` features at `N` points, with respect to the network inputs.
///
/// The rules are the chain and product rules truncated at order two: a linear map
/// `z = h W + b` sends every channel through `W` (only the value gets `b`); an element-wise
/// `a = f(z)` gives `a_i = f'(z) z_i` and `a_ij = f''(z) z_i z_j + f'(z) z_ij`; a product
/// `p = u v` gives `p_i = u_i v + u v_i` and `p_ij = u_ij v + u_i v_j + u_j v_i + u v_ij`.
///
/// ```
/// use burn::tensor::Tensor;
/// use burn_flex::Flex;
/// use pinn_jit::pinn::{Jet, JetSpec};
///
/// // u(x, t) = sin(x) · t at (0.5, 2), with u_xx.
/// let spec = JetSpec::new(2).with_second(&[(0, 0)]);
/// let pts = Tensor::<Flex, 2>::from_floats([[0.5, 2.0]], &Default::default());
/// let x = Jet::coordinate(pts.clone(), &spec, 0).unwrap();
/// let t = Jet::coordinate(pts, &spec, 1).unwrap();
/// let u_xx: f32 = (x.sin() * t).d2(0, 0).unwrap().into_scalar();
/// assert!((u_xx + 0.5f32.sin() * 2.0).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Jet<B: Backend> {
    value: Tensor<B, 2>,
    first: Vec<Tensor<B, 2>>,
    second: Vec<Tensor<B, 2>>,
    spec: Arc<JetSpec>,
}

impl<B: Backend> Jet<B> {
    /// Seeds a jet with the network inputs `x` (`[N, n_inputs]`): value `x`, first derivative
    /// of input `i` the unit vector `e_i`, second derivatives zero.
    pub fn seed(x: Tensor<B, 2>, spec: &JetSpec) -> Result<Self, PinnError> {
        let d = spec.n_inputs;
        Self::seed_affine(x, spec, &vec![1.0; d], &vec![0.0; d])
    }

    /// Seeds a jet with the affinely normalised inputs `x_i * scale[i] + shift[i]`, keeping
    /// derivatives with respect to the *original* inputs (the first channel of input `i` is
    /// `scale[i] · e_i`). Use it to map a box domain to `[-1, 1]^d` without losing the
    /// physical derivatives.
    pub fn seed_affine(
        x: Tensor<B, 2>,
        spec: &JetSpec,
        scale: &[f64],
        shift: &[f64],
    ) -> Result<Self, PinnError> {
        spec.validate()?;
        let [n, d] = x.dims();
        if d != spec.n_inputs || scale.len() != d || shift.len() != d {
            return Err(PinnError::ShapeMismatch {
                context: "Jet::seed_affine inputs [N, n_inputs], scale and shift [n_inputs]",
                expected: vec![n, spec.n_inputs],
                got: vec![n, d, scale.len(), shift.len()],
            });
        }
        let device = x.device();
        let scale_t = vector::<B>(scale, &device);
        let shift_t = vector::<B>(shift, &device);
        let value = x * scale_t.unsqueeze::<2>() + shift_t.unsqueeze::<2>();
        let first = (0..d)
            .map(|i| {
                let mut row = vec![0.0f64; d];
                row[i] = scale[i];
                let data: Vec<f64> = row.iter().copied().cycle().take(n * d).collect();
                Tensor::from_data(TensorData::new(data, [n, d]), &device)
            })
            .collect();
        Ok(Self {
            value,
            first,
            second: zeros(spec.second.len(), n, d, &device),
            spec: Arc::new(spec.clone()),
        })
    }

    /// The jet of input coordinate `i` alone (`W = 1`): value `x[:, i]`, first derivative
    /// `e_i`, second derivatives zero. Build hard-constraint ansätze from these, e.g.
    /// `u = −sin(πx) + t(1 − x²)·N`.
    pub fn coordinate(x: Tensor<B, 2>, spec: &JetSpec, i: usize) -> Result<Self, PinnError> {
        spec.validate()?;
        let [n, d] = x.dims();
        if d != spec.n_inputs {
            return Err(PinnError::ShapeMismatch {
                context: "Jet::coordinate inputs [N, n_inputs]",
                expected: vec![n, spec.n_inputs],
                got: vec![n, d],
            });
        }
        if i >= d {
            return Err(PinnError::InputOutOfRange {
                index: i,
                n_inputs: d,
            });
        }
        let device = x.device();
        let first = (0..d)
            .map(|k| {
                if k == i {
                    Tensor::ones([n, 1], &device)
                } else {
                    Tensor::zeros([n, 1], &device)
                }
            })
            .collect();
        Ok(Self {
            value: x.narrow(1, i, 1),
            first,
            second: zeros(spec.second.len(), n, 1, &device),
            spec: Arc::new(spec.clone()),
        })
    }

    /// A jet whose derivatives are all zero (a constant in the inputs), of shape like `value`.
    pub fn constant(value: Tensor<B, 2>, spec: &JetSpec) -> Result<Self, PinnError> {
        spec.validate()?;
        let [n, w] = value.dims();
        let device = value.device();
        Ok(Self {
            value,
            first: zeros(spec.n_inputs, n, w, &device),
            second: zeros(spec.second.len(), n, w, &device),
            spec: Arc::new(spec.clone()),
        })
    }

    /// Assembles a jet from its channels: `value` `[N, W]`, one `[N, W]` tensor per input in
    /// `first` and one per pair of the spec (in the spec's order) in `second`.
    pub fn from_parts(
        spec: &JetSpec,
        value: Tensor<B, 2>,
        first: Vec<Tensor<B, 2>>,
        second: Vec<Tensor<B, 2>>,
    ) -> Result<Self, PinnError> {
        spec.validate()?;
        let dims = value.dims();
        if first.len() != spec.n_inputs || second.len() != spec.second.len() {
            return Err(PinnError::ShapeMismatch {
                context: "Jet::from_parts: one first channel per input, one second per pair",
                expected: vec![spec.n_inputs, spec.second.len()],
                got: vec![first.len(), second.len()],
            });
        }
        if let Some(bad) = first.iter().chain(&second).find(|t| t.dims() != dims) {
            return Err(PinnError::ShapeMismatch {
                context: "Jet::from_parts: every channel has the value's shape",
                expected: dims.to_vec(),
                got: bad.dims().to_vec(),
            });
        }
        Ok(Self {
            value,
            first,
            second,
            spec: Arc::new(spec.clone()),
        })
    }

    /// The derivative specification this jet carries.
    pub fn spec(&self) -> &JetSpec {
        &self.spec
    }

    /// `[N, W]`: batch size and number of features.
    pub fn dims(&self) -> [usize; 2] {
        self.value.dims()
    }

    /// The value channel, `[N, W]`.
    pub fn value(&self) -> Tensor<B, 2> {
        self.value.clone()
    }

    /// The first derivative with respect to input `i`, `[N, W]`.
    ///
    /// # Panics
    /// If `i >= n_inputs`; use [`try_d`](Self::try_d) for a checked version.
    pub fn d(&self, i: usize) -> Tensor<B, 2> {
        self.try_d(i).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Checked [`d`](Self::d).
    pub fn try_d(&self, i: usize) -> Result<Tensor<B, 2>, PinnError> {
        self.first
            .get(i)
            .cloned()
            .ok_or(PinnError::InputOutOfRange {
                index: i,
                n_inputs: self.spec.n_inputs,
            })
    }

    /// The second derivative with respect to inputs `i` and `j`, `[N, W]`; an error names the
    /// pair to add to the [`JetSpec`] when it was not requested.
    pub fn d2(&self, i: usize, j: usize) -> Result<Tensor<B, 2>, PinnError> {
        let k = self
            .spec
            .second_index(i, j)
            .ok_or(PinnError::MissingSecondDerivative { i, j })?;
        Ok(self.second[k].clone())
    }

    /// Applies `z W + b` (`weight` `[in, out]`, Burn's row layout) to every channel, one GEMM
    /// per channel; only the value channel receives the bias.
    ///
    /// The channels are deliberately not stacked into one `[(1 + d + m)·N, in]` GEMM: the
    /// backward of splitting the stacked product builds one zero-filled stacked-size gradient
    /// per channel and adds them up, which made the whole Burgers training step 1.3–1.5×
    /// slower on every backend (measured with `pinn_step_bench`).
    pub fn linear(self, weight: Tensor<B, 2>, bias: Option<Tensor<B, 1>>) -> Self {
        let mm = |t: Tensor<B, 2>| t.matmul(weight.clone());
        let mut value = mm(self.value);
        if let Some(b) = bias {
            value = value + b.unsqueeze::<2>();
        }
        Self {
            value,
            first: self.first.into_iter().map(mm).collect(),
            second: self.second.into_iter().map(mm).collect(),
            spec: self.spec,
        }
    }

    /// [`linear`](Self::linear) with the weights of a `burn::nn::Linear` layer.
    pub fn apply_linear(self, layer: &Linear<B>) -> Self {
        self.linear(layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
    }

    /// Chain rule for an element-wise function: given `f(z)`, `f'(z)` and `f''(z)` evaluated
    /// at this jet's value (each `[N, W]`), returns the jet of `f(self)`. `f2` is only used
    /// when second derivatives are carried.
    pub fn map(self, f0: Tensor<B, 2>, f1: Tensor<B, 2>, f2: Tensor<B, 2>) -> Self {
        let second = self
            .spec
            .second
            .iter()
            .zip(&self.second)
            .map(|(&(i, j), zij)| {
                let zi_zj = if i == j {
                    self.first[i].clone().square()
                } else {
                    self.first[i].clone() * self.first[j].clone()
                };
                f2.clone() * zi_zj + f1.clone() * zij.clone()
            })
            .collect();
        let first = self.first.into_iter().map(|zi| f1.clone() * zi).collect();
        Self {
            value: f0,
            first,
            second,
            spec: self.spec,
        }
    }

    /// Multiplies every channel by a constant.
    pub fn mul_scalar(self, c: f64) -> Self {
        Self {
            value: self.value.mul_scalar(c),
            first: self.first.into_iter().map(|t| t.mul_scalar(c)).collect(),
            second: self.second.into_iter().map(|t| t.mul_scalar(c)).collect(),
            spec: self.spec,
        }
    }

    /// Adds a constant to the value (derivatives are unchanged).
    pub fn add_scalar(self, c: f64) -> Self {
        Self {
            value: self.value.add_scalar(c),
            ..self
        }
    }

    /// `sin` of the jet.
    pub fn sin(self) -> Self {
        let s = self.value.clone().sin();
        let c = self.value.clone().cos();
        self.map(s.clone(), c, s.neg())
    }

    /// `cos` of the jet.
    pub fn cos(self) -> Self {
        let s = self.value.clone().sin();
        let c = self.value.clone().cos();
        self.map(c.clone(), s.neg(), c.neg())
    }

    /// `exp` of the jet.
    pub fn exp(self) -> Self {
        let e = self.value.clone().exp();
        self.map(e.clone(), e.clone(), e)
    }

    /// `tanh` of the jet (`s' = 1 − s²`, `s'' = −2 s s'`).
    pub fn tanh(self) -> Self {
        Activation::Tanh.jet(self)
    }

    /// Square of the jet.
    pub fn square(self) -> Self {
        self.clone() * self
    }

    /// Concatenates jets along the feature axis (all must share the batch size and spec).
    pub fn cat_features(jets: Vec<Self>) -> Result<Self, PinnError> {
        Self::cat_along(
            jets,
            1,
            "Jet::cat_features needs at least one jet",
            "Jet::cat_features: every jet needs the same batch size and spec",
        )
    }

    /// Concatenates jets along the batch axis (all must share the feature count and spec):
    /// one pass of a network over the stacked batch replaces several smaller ones.
    pub fn cat_batch(jets: Vec<Self>) -> Result<Self, PinnError> {
        Self::cat_along(
            jets,
            0,
            "Jet::cat_batch needs at least one jet",
            "Jet::cat_batch: every jet needs the same feature count and spec",
        )
    }

    /// Concatenates every channel of `jets` along `axis`; the other axis and the spec must
    /// agree.
    fn cat_along(
        jets: Vec<Self>,
        axis: usize,
        empty: &str,
        mismatch: &'static str,
    ) -> Result<Self, PinnError> {
        let head = jets
            .first()
            .ok_or_else(|| PinnError::InvalidConfig(empty.into()))?;
        let spec = head.spec.clone();
        let other = 1 - axis;
        let size = head.dims()[other];
        if let Some(bad) = jets
            .iter()
            .find(|j| j.dims()[other] != size || *j.spec != *spec)
        {
            return Err(PinnError::ShapeMismatch {
                context: mismatch,
                expected: vec![size],
                got: vec![bad.dims()[other]],
            });
        }
        let (d, m) = (spec.n_inputs, spec.second.len());
        let mut values = Vec::with_capacity(jets.len());
        let mut firsts: Vec<Vec<Tensor<B, 2>>> = vec![Vec::new(); d];
        let mut seconds: Vec<Vec<Tensor<B, 2>>> = vec![Vec::new(); m];
        for j in jets {
            values.push(j.value);
            for (acc, t) in firsts.iter_mut().zip(j.first) {
                acc.push(t);
            }
            for (acc, t) in seconds.iter_mut().zip(j.second) {
                acc.push(t);
            }
        }
        Ok(Self {
            value: Tensor::cat(values, axis),
            first: firsts.into_iter().map(|v| Tensor::cat(v, axis)).collect(),
            second: seconds.into_iter().map(|v| Tensor::cat(v, axis)).collect(),
            spec,
        })
    }

    /// Rows `start .. start + len` of every channel (the inverse of
    /// [`cat_batch`](Self::cat_batch)).
    pub fn narrow_batch(self, start: usize, len: usize) -> Self {
        let f = |t: Tensor<B, 2>| t.narrow(0, start, len);
        Self {
            value: f(self.value),
            first: self.first.into_iter().map(f).collect(),
            second: self.second.into_iter().map(f).collect(),
            spec: self.spec,
        }
    }

    /// Features `start .. start + len` of every channel.
    pub fn narrow_features(self, start: usize, len: usize) -> Self {
        let f = |t: Tensor<B, 2>| t.narrow(1, start, len);
        Self {
            value: f(self.value),
            first: self.first.into_iter().map(f).collect(),
            second: self.second.into_iter().map(f).collect(),
            spec: self.spec,
        }
    }

    /// Drops everything but the value (for inference after training).
    pub fn into_value(self) -> Tensor<B, 2> {
        self.value
    }
}

impl<B: Backend> core::ops::Add for Jet<B> {
    type Output = Self;

    /// Sum of two jets of the same shape (residual / skip connections).
    fn add(self, other: Self) -> Self {
        Self {
            value: self.value + other.value,
            first: zip_with(self.first, other.first, |a, b| a + b),
            second: zip_with(self.second, other.second, |a, b| a + b),
            spec: self.spec,
        }
    }
}

impl<B: Backend> core::ops::Sub for Jet<B> {
    type Output = Self;

    /// Difference of two jets of the same shape.
    fn sub(self, other: Self) -> Self {
        Self {
            value: self.value - other.value,
            first: zip_with(self.first, other.first, |a, b| a - b),
            second: zip_with(self.second, other.second, |a, b| a - b),
            spec: self.spec,
        }
    }
}

// the product rule adds terms by definition
#[allow(clippy::suspicious_arithmetic_impl)]
impl<B: Backend> core::ops::Mul for Jet<B> {
    type Output = Self;

    /// Product rule: the jet of `self · other` (element-wise; the shapes follow Burn's
    /// broadcasting, e.g. `[N, 1] · [N, W]`).
    fn mul(self, other: Self) -> Self {
        let (u, v) = (&self, &other);
        let second = self
            .spec
            .second
            .iter()
            .enumerate()
            .map(|(k, &(i, j))| {
                let cross = if i == j {
                    (u.first[i].clone() * v.first[i].clone()).mul_scalar(2.0)
                } else {
                    u.first[i].clone() * v.first[j].clone()
                        + u.first[j].clone() * v.first[i].clone()
                };
                u.second[k].clone() * v.value.clone()
                    + cross
                    + u.value.clone() * v.second[k].clone()
            })
            .collect();
        let first = u
            .first
            .iter()
            .zip(&v.first)
            .map(|(ui, vi)| ui.clone() * v.value.clone() + u.value.clone() * vi.clone())
            .collect();
        Self {
            value: self.value.clone() * other.value.clone(),
            first,
            second,
            spec: self.spec.clone(),
        }
    }
}

fn zeros<B: Backend>(count: usize, n: usize, w: usize, device: &B::Device) -> Vec<Tensor<B, 2>> {
    (0..count).map(|_| Tensor::zeros([n, w], device)).collect()
}

fn zip_with<B: Backend>(
    a: Vec<Tensor<B, 2>>,
    b: Vec<Tensor<B, 2>>,
    f: impl Fn(Tensor<B, 2>, Tensor<B, 2>) -> Tensor<B, 2>,
) -> Vec<Tensor<B, 2>> {
    a.into_iter().zip(b).map(|(x, y)| f(x, y)).collect()
}

/// A 1-D tensor from host `f64` values at full precision (`Tensor::from_floats` would round
/// through `f32`).
pub(crate) fn vector<B: Backend>(values: &[f64], device: &B::Device) -> Tensor<B, 1> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}
