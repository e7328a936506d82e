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
//! let u = x.sin().mul(t);
//! let u_xx: f32 = u.d2(0, 0).unwrap().into_scalar();
//! assert!((u_xx + 0.5f32.sin() * 2.0).abs() < 1e-6);
//! ```

use std::sync::Arc;

use burn::nn::Linear;
use burn::tensor::{Tensor, backend::Backend};

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
/// See the [module documentation](self) for the propagation rules and an example.
#[derive(Clone, Debug)]
pub struct Jet<B: Backend> {
    value: Tensor<B, 2>,
    first: Tensor<B, 3>,
    second: Option<Tensor<B, 3>>,
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
        let scale_t = Tensor::<B, 1>::from_floats(scale, &device);
        let shift_t = Tensor::<B, 1>::from_floats(shift, &device);
        let value = x * scale_t.clone().unsqueeze::<2>() + shift_t.unsqueeze::<2>();
        let eye = Tensor::<B, 2>::eye(d, &device) * scale_t.unsqueeze::<2>();
        let first = eye.unsqueeze_dim::<3>(1).expand([d, n, d]);
        let second = Self::zeros_second(spec, n, d, &device);
        Ok(Self {
            value,
            first,
            second,
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
        let value = x.narrow(1, i, 1);
        let mut unit = vec![0.0f64; d];
        unit[i] = 1.0;
        let first = Tensor::<B, 1>::from_floats(unit.as_slice(), &device)
            .reshape([d, 1, 1])
            .expand([d, n, 1]);
        let second = Self::zeros_second(spec, n, 1, &device);
        Ok(Self {
            value,
            first,
            second,
            spec: Arc::new(spec.clone()),
        })
    }

    /// A jet whose derivatives are all zero (a constant in the inputs), of shape like `value`.
    pub fn constant(value: Tensor<B, 2>, spec: &JetSpec) -> Result<Self, PinnError> {
        spec.validate()?;
        let [n, w] = value.dims();
        let device = value.device();
        let first = Tensor::zeros([spec.n_inputs, n, w], &device);
        let second = Self::zeros_second(spec, n, w, &device);
        Ok(Self {
            value,
            first,
            second,
            spec: Arc::new(spec.clone()),
        })
    }

    /// Assembles a jet from its channels: `value` `[N, W]`, `first` `[n_inputs, N, W]` and,
    /// when the spec asks for any, `second` `[m, N, W]` in the spec's pair order.
    pub fn from_parts(
        spec: &JetSpec,
        value: Tensor<B, 2>,
        first: Tensor<B, 3>,
        second: Option<Tensor<B, 3>>,
    ) -> Result<Self, PinnError> {
        spec.validate()?;
        let [n, w] = value.dims();
        let m = spec.second.len();
        let check = |ctx: &'static str, got: [usize; 3], c: usize| {
            if got != [c, n, w] {
                Err(PinnError::ShapeMismatch {
                    context: ctx,
                    expected: vec![c, n, w],
                    got: got.to_vec(),
                })
            } else {
                Ok(())
            }
        };
        check("Jet::from_parts first", first.dims(), spec.n_inputs)?;
        match (&second, m) {
            (None, 0) => {}
            (Some(s), _) if m > 0 => check("Jet::from_parts second", s.dims(), m)?,
            _ => {
                return Err(PinnError::ShapeMismatch {
                    context: "Jet::from_parts second channels (None iff the spec has none)",
                    expected: vec![m, n, w],
                    got: second
                        .as_ref()
                        .map(|s| s.dims().to_vec())
                        .unwrap_or_default(),
                });
            }
        }
        Ok(Self {
            value,
            first,
            second,
            spec: Arc::new(spec.clone()),
        })
    }

    fn zeros_second(
        spec: &JetSpec,
        n: usize,
        w: usize,
        device: &B::Device,
    ) -> Option<Tensor<B, 3>> {
        let m = spec.second.len();
        (m > 0).then(|| Tensor::zeros([m, n, w], device))
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

    /// All first-derivative channels, `[n_inputs, N, W]`.
    pub fn first(&self) -> Tensor<B, 3> {
        self.first.clone()
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
        if i >= self.spec.n_inputs {
            return Err(PinnError::InputOutOfRange {
                index: i,
                n_inputs: self.spec.n_inputs,
            });
        }
        let [n, w] = self.dims();
        Ok(self.first.clone().narrow(0, i, 1).reshape([n, w]))
    }

    /// The second derivative with respect to inputs `i` and `j`, `[N, W]`; an error names the
    /// pair to add to the [`JetSpec`] when it was not requested.
    pub fn d2(&self, i: usize, j: usize) -> Result<Tensor<B, 2>, PinnError> {
        let k = self
            .spec
            .second_index(i, j)
            .ok_or(PinnError::MissingSecondDerivative { i, j })?;
        let [n, w] = self.dims();
        let second = self.second.as_ref().expect("spec has second channels");
        Ok(second.clone().narrow(0, k, 1).reshape([n, w]))
    }

    /// Applies `z W + b` (`weight` `[in, out]`, Burn's row layout) to every channel with one
    /// GEMM over the channel-stacked batch; only the value channel receives the bias.
    pub fn linear(self, weight: Tensor<B, 2>, bias: Option<Tensor<B, 1>>) -> Self {
        let [n, w_in] = self.dims();
        let d = self.spec.n_inputs;
        let m = self.spec.second.len();
        let c = 1 + d + m;
        let w_out = weight.dims()[1];
        let mut parts = vec![self.value.unsqueeze_dim::<3>(0), self.first];
        if let Some(s) = self.second {
            parts.push(s);
        }
        let stacked = Tensor::cat(parts, 0).reshape([c * n, w_in]);
        let z = stacked.matmul(weight).reshape([c, n, w_out]);
        let mut value = z.clone().narrow(0, 0, 1).reshape([n, w_out]);
        if let Some(b) = bias {
            value = value + b.unsqueeze::<2>();
        }
        let first = z.clone().narrow(0, 1, d);
        let second = (m > 0).then(|| z.narrow(0, 1 + d, m));
        Self {
            value,
            first,
            second,
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
        let f1b = f1.unsqueeze_dim::<3>(0);
        let second = self.second.as_ref().map(|zij| {
            let (zi, zj) = self.pair_factors(&self.first);
            f2.unsqueeze_dim::<3>(0) * zi * zj + f1b.clone() * zij.clone()
        });
        let first = f1b * self.first;
        Self {
            value: f0,
            first,
            second,
            spec: self.spec,
        }
    }

    /// For every carried pair `(i, j)`, the channels `first[i]` and `first[j]` stacked in pair
    /// order (a narrow when the indices are contiguous, otherwise a concatenation).
    fn pair_factors(&self, first: &Tensor<B, 3>) -> (Tensor<B, 3>, Tensor<B, 3>) {
        let left: Vec<usize> = self.spec.second.iter().map(|p| p.0).collect();
        let right: Vec<usize> = self.spec.second.iter().map(|p| p.1).collect();
        (pick(first, &left), pick(first, &right))
    }

    /// Sum of two jets of the same shape (residual / skip connections).
    pub fn add(self, other: Self) -> Self {
        let second = match (self.second, other.second) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        Self {
            value: self.value + other.value,
            first: self.first + other.first,
            second,
            spec: self.spec,
        }
    }

    /// Difference of two jets of the same shape.
    pub fn sub(self, other: Self) -> Self {
        self.add(other.mul_scalar(-1.0))
    }

    /// Product rule: the jet of `self · other` (element-wise; `W` must match or be 1 on
    /// either side, which broadcasts).
    pub fn mul(self, other: Self) -> Self {
        let u0 = self.value.clone().unsqueeze_dim::<3>(0);
        let v0 = other.value.clone().unsqueeze_dim::<3>(0);
        let second = match (&self.second, &other.second) {
            (Some(uij), Some(vij)) => {
                let (ui, uj) = self.pair_factors(&self.first);
                let (vi, vj) = self.pair_factors(&other.first);
                Some(uij.clone() * v0.clone() + ui * vj + uj * vi + u0.clone() * vij.clone())
            }
            _ => None,
        };
        let first = self.first * v0 + u0 * other.first;
        Self {
            value: self.value * other.value,
            first,
            second,
            spec: self.spec,
        }
    }

    /// Multiplies every channel by a constant.
    pub fn mul_scalar(self, c: f64) -> Self {
        Self {
            value: self.value.mul_scalar(c),
            first: self.first.mul_scalar(c),
            second: self.second.map(|s| s.mul_scalar(c)),
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
        let s = self.value.clone().tanh();
        let s1 = s.clone().square().neg().add_scalar(1.0);
        let s2 = s.clone().mul(s1.clone()).mul_scalar(-2.0);
        self.map(s, s1, s2)
    }

    /// Square of the jet.
    pub fn square(self) -> Self {
        let v = self.value.clone();
        let two = Tensor::ones_like(&v).mul_scalar(2.0);
        self.map(v.clone().square(), v.mul_scalar(2.0), two)
    }

    /// Concatenates jets along the feature axis (all must share the batch size and spec).
    pub fn cat_features(jets: Vec<Self>) -> Result<Self, PinnError> {
        let first_jet = jets.first().ok_or_else(|| {
            PinnError::InvalidConfig("Jet::cat_features needs at least one jet".into())
        })?;
        let spec = first_jet.spec.clone();
        let n = first_jet.dims()[0];
        for j in &jets {
            if j.dims()[0] != n || *j.spec != *spec {
                return Err(PinnError::ShapeMismatch {
                    context: "Jet::cat_features: every jet needs the same batch size and spec",
                    expected: vec![n],
                    got: vec![j.dims()[0]],
                });
            }
        }
        let mut values = Vec::with_capacity(jets.len());
        let mut firsts = Vec::with_capacity(jets.len());
        let mut seconds = Vec::with_capacity(jets.len());
        for j in jets {
            values.push(j.value);
            firsts.push(j.first);
            if let Some(s) = j.second {
                seconds.push(s);
            }
        }
        let second = (!seconds.is_empty()).then(|| Tensor::cat(seconds, 2));
        Ok(Self {
            value: Tensor::cat(values, 1),
            first: Tensor::cat(firsts, 2),
            second,
            spec,
        })
    }

    /// Features `start .. start + len` of every channel.
    pub fn narrow_features(self, start: usize, len: usize) -> Self {
        Self {
            value: self.value.narrow(1, start, len),
            first: self.first.narrow(2, start, len),
            second: self.second.map(|s| s.narrow(2, start, len)),
            spec: self.spec,
        }
    }

    /// Drops everything but the value (for inference after training).
    pub fn into_value(self) -> Tensor<B, 2> {
        self.value
    }
}

/// Channels `idx` of `t` along axis 0 (a narrow for a contiguous ascending run).
fn pick<B: Backend>(t: &Tensor<B, 3>, idx: &[usize]) -> Tensor<B, 3> {
    let contiguous = idx.windows(2).all(|w| w[1] == w[0] + 1);
    if contiguous && !idx.is_empty() {
        t.clone().narrow(0, idx[0], idx.len())
    } else {
        Tensor::cat(idx.iter().map(|&i| t.clone().narrow(0, i, 1)).collect(), 0)
    }
}
