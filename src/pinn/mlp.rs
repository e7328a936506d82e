//! [`PinnMlp`]: a ready multilayer perceptron for PINNs whose forward pass can carry exact
//! input derivatives ([`Jet`]s), plus [`linear_stack_jet`] to do the same for a user's own
//! stack of `burn::nn::Linear` layers.

use core::f64::consts::PI;

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Tensor, TensorData, backend::Backend};

use super::activation::Activation;
use super::error::PinnError;
use super::jet::{Jet, JetSpec, vector};
use super::sampling::Rng;

/// Random Fourier-feature input embedding `γ(x) = [sin(2π x B), cos(2π x B)]` with a fixed
/// Gaussian matrix `B ~ N(0, σ²)` of shape `[d_input, n_frequencies]` (Tancik et al. 2020).
/// It helps networks fit high-frequency solutions (e.g. Helmholtz with large wavenumbers).
#[derive(Config, Debug)]
pub struct FourierConfig {
    /// Number of frequencies; the embedding has twice as many features.
    pub n_frequencies: usize,
    /// Standard deviation of the frequencies (in cycles per unit of normalised input).
    #[config(default = 1.0)]
    pub sigma: f64,
}

/// Configuration of a [`PinnMlp`].
///
/// ```
/// use burn_flex::Flex;
/// use pinn_jit::pinn::{Activation, PinnMlpConfig};
///
/// let cfg = PinnMlpConfig::new(2, 1, vec![32, 32])
///     .with_activation(Activation::Tanh)
///     .with_input_bounds(Some((vec![-1.0, 0.0], vec![1.0, 1.0])));
/// let mlp = cfg.init::<Flex>(0, &Default::default()).unwrap();
/// assert_eq!(mlp.num_hidden_layers(), 2);
/// ```
#[derive(Config, Debug)]
pub struct PinnMlpConfig {
    /// Number of inputs (space-time coordinates).
    pub d_input: usize,
    /// Number of outputs (solution components).
    pub d_output: usize,
    /// Widths of the hidden layers.
    pub hidden: Vec<usize>,
    /// Activation between hidden layers.
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
    /// Optional Fourier-feature embedding of the (normalised) inputs.
    #[config(default = "None")]
    pub fourier: Option<FourierConfig>,
    /// Optional input box `(lower, upper)`: inputs are mapped affinely to `[-1, 1]^d` before
    /// the first layer (derivatives stay with respect to the original inputs).
    #[config(default = "None")]
    pub input_bounds: Option<(Vec<f64>, Vec<f64>)>,
    /// Skip connections `h ← h + act(W h + b)` between hidden layers of equal width.
    #[config(default = false)]
    pub residual: bool,
}

/// A multilayer perceptron for PINNs: optional input normalisation and Fourier features,
/// `Linear` + activation hidden layers (optionally residual), and a linear output layer.
///
/// [`forward`](Self::forward) is the plain inference path;
/// [`forward_jet`](Self::forward_jet) also returns the input derivatives the [`JetSpec`] asks
/// for, in ordinary tensor ops, so `Autodiff` can differentiate a PDE loss built from them.
#[derive(Module, Debug)]
pub struct PinnMlp<B: Backend> {
    /// Hidden layers followed by the output layer.
    pub layers: Vec<Linear<B>>,
    /// Fourier frequency matrix `2π B`, `[d_input, n_frequencies]` (a constant, not trained).
    pub fourier: Option<Tensor<B, 2>>,
    /// Activation between hidden layers.
    #[module(skip)]
    pub activation: Activation,
    /// Per-input scale of the normalisation `x * scale + shift`.
    #[module(skip)]
    pub scale: Vec<f64>,
    /// Per-input shift of the normalisation.
    #[module(skip)]
    pub shift: Vec<f64>,
    /// Whether hidden layers of equal width use skip connections.
    #[module(skip)]
    pub residual: bool,
}

impl PinnMlpConfig {
    /// Builds the network with Glorot-normal weights and zero biases drawn from a seeded
    /// host RNG, so the same seed gives bit-identical initial weights on every backend.
    pub fn init<B: Backend>(&self, seed: u64, device: &B::Device) -> Result<PinnMlp<B>, PinnError> {
        if self.d_input == 0 || self.d_output == 0 || self.hidden.contains(&0) {
            return Err(PinnError::InvalidConfig(format!(
                "PinnMlp needs d_input, d_output and every hidden width >= 1 (got d_input = {}, \
                 d_output = {}, hidden = {:?})",
                self.d_input, self.d_output, self.hidden
            )));
        }
        let (scale, shift) = match &self.input_bounds {
            None => (vec![1.0; self.d_input], vec![0.0; self.d_input]),
            Some((lo, hi)) => {
                if lo.len() != self.d_input || hi.len() != self.d_input {
                    return Err(PinnError::ShapeMismatch {
                        context: "PinnMlpConfig::input_bounds (lower, upper) per input",
                        expected: vec![self.d_input, self.d_input],
                        got: vec![lo.len(), hi.len()],
                    });
                }
                if lo
                    .iter()
                    .zip(hi)
                    .any(|(a, b)| b.partial_cmp(a) != Some(core::cmp::Ordering::Greater))
                {
                    return Err(PinnError::InvalidConfig(
                        "input_bounds needs upper > lower for every input".into(),
                    ));
                }
                let scale: Vec<f64> = lo.iter().zip(hi).map(|(a, b)| 2.0 / (b - a)).collect();
                let shift = lo.iter().zip(hi).map(|(a, b)| -(a + b) / (b - a)).collect();
                (scale, shift)
            }
        };
        let mut rng = Rng::new(seed);
        let fourier = self.fourier.as_ref().map(|f| {
            let vals: Vec<f64> = (0..self.d_input * f.n_frequencies)
                .map(|_| 2.0 * PI * f.sigma * rng.normal())
                .collect();
            Tensor::<B, 2>::from_data(
                TensorData::new(vals, [self.d_input, f.n_frequencies]),
                device,
            )
        });
        let first_in = match &self.fourier {
            Some(f) => 2 * f.n_frequencies,
            None => self.d_input,
        };
        let mut widths = vec![first_in];
        widths.extend_from_slice(&self.hidden);
        widths.push(self.d_output);
        let layers = widths
            .windows(2)
            .map(|w| glorot_linear(w[0], w[1], &mut rng, device))
            .collect();
        Ok(PinnMlp {
            layers,
            fourier,
            activation: self.activation,
            scale,
            shift,
            residual: self.residual,
        })
    }
}

/// A `Linear` layer with Glorot-normal weights (`std = sqrt(2 / (fan_in + fan_out))`) and zero
/// bias, drawn from `rng`.
pub fn glorot_linear<B: Backend>(
    d_in: usize,
    d_out: usize,
    rng: &mut Rng,
    device: &B::Device,
) -> Linear<B> {
    let std = (2.0 / (d_in + d_out) as f64).sqrt();
    let w: Vec<f64> = (0..d_in * d_out).map(|_| std * rng.normal()).collect();
    Linear {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(w, [d_in, d_out]), device)),
        bias: Some(Param::from_tensor(Tensor::zeros([d_out], device))),
    }
}

impl<B: Backend> PinnMlp<B> {
    /// Number of hidden layers.
    pub fn num_hidden_layers(&self) -> usize {
        self.layers.len() - 1
    }

    /// Number of inputs.
    pub fn d_input(&self) -> usize {
        self.scale.len()
    }

    /// Plain forward pass: `x` `[N, d_input]` → `[N, d_output]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let device = x.device();
        let scale = vector::<B>(&self.scale, &device);
        let shift = vector::<B>(&self.shift, &device);
        let mut h = x * scale.unsqueeze::<2>() + shift.unsqueeze::<2>();
        if let Some(b) = &self.fourier {
            let z = h.matmul(b.clone());
            h = Tensor::cat(vec![z.clone().sin(), z.cos()], 1);
        }
        let (last, hidden) = self.layers.split_last().expect("at least one layer");
        for layer in hidden {
            let a = self.activation.forward(layer.forward(h.clone()));
            h = if self.residual && a.dims() == h.dims() {
                a + h
            } else {
                a
            };
        }
        last.forward(h)
    }

    /// Forward pass carrying exact input derivatives: returns the output jet (value,
    /// all first derivatives and the second derivatives of `spec`) at the points `x`.
    ///
    /// ```
    /// use burn::tensor::Tensor;
    /// use burn_flex::Flex;
    /// use pinn_jit::pinn::{JetSpec, PinnMlpConfig};
    ///
    /// let device = Default::default();
    /// let mlp = PinnMlpConfig::new(2, 1, vec![16, 16]).init::<Flex>(1, &device).unwrap();
    /// let x = Tensor::<Flex, 2>::from_floats([[0.1, 0.2], [0.3, 0.4]], &device);
    /// let out = mlp.forward_jet(x, &JetSpec::new(2).with_second(&[(0, 0)])).unwrap();
    /// let (u, u_x, u_t, u_xx) = (out.value(), out.d(0), out.d(1), out.d2(0, 0).unwrap());
    /// assert_eq!(u_xx.dims(), [2, 1]);
    /// ```
    pub fn forward_jet(&self, x: Tensor<B, 2>, spec: &JetSpec) -> Result<Jet<B>, PinnError> {
        let h = Jet::seed_affine(x, spec, &self.scale, &self.shift)?;
        Ok(self.forward_jet_from(h))
    }

    /// The jet of `N(R x)`, where `R` flips the sign of input `axis`, with derivatives taken
    /// with respect to the original `x`. `N(x) − N(R x)` is exactly odd in that input, which
    /// lets an ansatz impose a known symmetry (Burgers: `u(−x, t) = −u(x, t)` pins the shock
    /// at `x = 0`).
    pub fn forward_jet_reflected(
        &self,
        x: Tensor<B, 2>,
        spec: &JetSpec,
        axis: usize,
    ) -> Result<Jet<B>, PinnError> {
        let scale = self.reflected_scale(axis)?;
        let h = Jet::seed_affine(x, spec, &scale, &self.shift)?;
        Ok(self.forward_jet_from(h))
    }

    /// The jet of `N(x) − N(R x)` (odd in input `axis`, see
    /// [`forward_jet_reflected`](Self::forward_jet_reflected)) in *one* pass of the network
    /// over the stacked batch `[x; R x]`: the same arithmetic as two passes, with half the
    /// operations (each one on twice the rows), which is cheaper on every backend.
    ///
    /// ```
    /// use burn::tensor::Tensor;
    /// use burn_flex::Flex;
    /// use pinn_jit::pinn::{JetSpec, PinnMlpConfig};
    ///
    /// let device = Default::default();
    /// let mlp = PinnMlpConfig::new(2, 1, vec![8]).init::<Flex>(3, &device).unwrap();
    /// let spec = JetSpec::new(2).with_second(&[(0, 0)]);
    /// let x = Tensor::<Flex, 2>::from_floats([[0.3, 0.5], [-0.3, 0.5]], &device);
    /// let odd = mlp.forward_jet_odd(x, &spec, 0).unwrap();
    /// let v: Vec<f32> = odd.value().into_data().to_vec().unwrap();
    /// assert!((v[0] + v[1]).abs() < 1e-6); // odd in x
    /// ```
    pub fn forward_jet_odd(
        &self,
        x: Tensor<B, 2>,
        spec: &JetSpec,
        axis: usize,
    ) -> Result<Jet<B>, PinnError> {
        let scale = self.reflected_scale(axis)?;
        let n = x.dims()[0];
        let direct = Jet::seed_affine(x.clone(), spec, &self.scale, &self.shift)?;
        let reflected = Jet::seed_affine(x, spec, &scale, &self.shift)?;
        let out = self.forward_jet_from(Jet::cat_batch(vec![direct, reflected])?);
        Ok(out.clone().narrow_batch(0, n) - out.narrow_batch(n, n))
    }

    /// The input scaling with input `axis` negated.
    fn reflected_scale(&self, axis: usize) -> Result<Vec<f64>, PinnError> {
        if axis >= self.scale.len() {
            return Err(PinnError::InputOutOfRange {
                index: axis,
                n_inputs: self.scale.len(),
            });
        }
        let mut scale = self.scale.clone();
        scale[axis] = -scale[axis];
        Ok(scale)
    }

    /// Plain forward pass at the points with input `axis` negated (see
    /// [`forward_jet_reflected`](Self::forward_jet_reflected)).
    pub fn forward_reflected(&self, x: Tensor<B, 2>, axis: usize) -> Tensor<B, 2> {
        let d = self.scale.len();
        let signs: Vec<f64> = (0..d).map(|k| if k == axis { -1.0 } else { 1.0 }).collect();
        let device = x.device();
        self.forward(x * vector::<B>(&signs, &device).unsqueeze::<2>())
    }

    /// Like [`forward_jet`](Self::forward_jet) but starting from an already-seeded jet of the
    /// network's *normalised* inputs (as [`Jet::seed_affine`] makes them), e.g. one produced
    /// by an outer coordinate transform.
    pub fn forward_jet_from(&self, input: Jet<B>) -> Jet<B> {
        let mut h = input;
        if let Some(b) = &self.fourier {
            let z = h.linear(b.clone(), None);
            h = Jet::cat_features(vec![z.clone().sin(), z.cos()])
                .expect("same batch and spec by construction");
        }
        let (last, hidden) = self.layers.split_last().expect("at least one layer");
        for layer in hidden {
            let a = self.activation.jet(h.clone().apply_linear(layer));
            h = if self.residual && a.dims() == h.dims() {
                a + h
            } else {
                a
            };
        }
        h.apply_linear(last)
    }
}

/// Propagates a jet through a user's own stack of `burn::nn::Linear` layers with `activation`
/// between consecutive layers (none after the last), i.e. the derivative-carrying twin of
/// `x → L_n(σ(… σ(L_1 x)))`.
///
/// ```
/// use burn::nn::LinearConfig;
/// use burn::tensor::Tensor;
/// use burn_flex::Flex;
/// use pinn_jit::pinn::{linear_stack_jet, Activation, Jet, JetSpec};
///
/// let device = Default::default();
/// let layers = vec![
///     LinearConfig::new(1, 8).init::<Flex>(&device),
///     LinearConfig::new(8, 1).init::<Flex>(&device),
/// ];
/// let spec = JetSpec::new(1).with_second(&[(0, 0)]);
/// let x = Tensor::<Flex, 2>::from_floats([[0.5]], &device);
/// let out = linear_stack_jet(&layers, Activation::Sin, Jet::seed(x, &spec).unwrap());
/// assert_eq!(out.d2(0, 0).unwrap().dims(), [1, 1]);
/// ```
pub fn linear_stack_jet<B: Backend>(
    layers: &[Linear<B>],
    activation: Activation,
    input: Jet<B>,
) -> Jet<B> {
    let mut h = input;
    for (k, layer) in layers.iter().enumerate() {
        h = h.apply_linear(layer);
        if k + 1 < layers.len() {
            h = activation.jet(h);
        }
    }
    h
}
