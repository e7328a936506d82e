//! [`QuantizedMlp`]: a quantized copy of a [`PinnMlp`] or of a user's `Linear` stack that runs
//! on the host kernels of [`super::kernels`].

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Tensor, TensorData, backend::Backend};

use super::error::QuantError;
use super::format::{ActQuant, LayerPlan, WeightFormat, abs_max};
use super::host_act::apply_activation;
use super::kernels::{linear_f32_act, linear_i8_act, quantize_rows_dynamic, quantize_rows_static};
use super::matrix::QuantMatrix;
use crate::pinn::{Activation, PinnMlp};

/// One quantized `Linear` layer.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantLinear {
    /// The weight, channel-major `[d_out, d_in]`.
    pub weight: QuantMatrix,
    /// The bias `[d_out]`, kept in `f32` (zeros if the layer had none).
    pub bias: Vec<f32>,
    /// How the layer is quantized.
    pub plan: LayerPlan,
    /// The calibrated input-activation scale of a [`ActQuant::Static`] layer.
    pub act_scale: Option<f32>,
}

impl QuantLinear {
    /// Quantizes a Burn `Linear` layer (weight `[d_in, d_out]`).
    pub fn from_linear<B: Backend>(
        layer: &Linear<B>,
        plan: LayerPlan,
        context: &str,
    ) -> Result<Self, QuantError> {
        plan.validate()?;
        let w = layer.weight.val();
        let [d_in, d_out] = w.dims();
        let wv = to_f32(w.into_data());
        let weight = QuantMatrix::from_linear_weight(&wv, d_in, d_out, plan.weights, context)?;
        let bias = match &layer.bias {
            Some(b) => to_f32(b.val().into_data()),
            None => vec![0.0; d_out],
        };
        Ok(Self {
            weight,
            bias,
            plan,
            act_scale: None,
        })
    }

    /// Input width.
    pub fn d_in(&self) -> usize {
        self.weight.cols()
    }

    /// Output width.
    pub fn d_out(&self) -> usize {
        self.weight.rows()
    }

    /// `y = x Wᵀ + b` on `n` rows of `x` (`[n, d_in]`), with the layer's activation
    /// quantization unless `float_acts`.
    fn forward(
        &self,
        x: &[f32],
        n: usize,
        float_acts: bool,
        index: usize,
    ) -> Result<Vec<f32>, QuantError> {
        let mut y = vec![0.0f32; n * self.d_out()];
        let k = self.d_in();
        let act = if float_acts {
            ActQuant::Float
        } else {
            self.plan.activations
        };
        match act {
            ActQuant::Float => linear_f32_act(&self.weight, Some(&self.bias), x, n, &mut y),
            ActQuant::Dynamic | ActQuant::Static => {
                let mut xq = vec![0i8; n * k];
                let mut xs = vec![0.0f32; n];
                if act == ActQuant::Dynamic {
                    quantize_rows_dynamic(x, k, &mut xq, &mut xs);
                } else {
                    let s = self
                        .act_scale
                        .ok_or(QuantError::NotCalibrated { layer: index })?;
                    quantize_rows_static(x, k, s, &mut xq, &mut xs);
                }
                linear_i8_act(&self.weight, Some(&self.bias), &xq, &xs, n, &mut y);
            }
        }
        Ok(y)
    }
}

fn to_f32(data: TensorData) -> Vec<f32> {
    data.convert::<f32>()
        .to_vec::<f32>()
        .expect("converted to f32")
}

/// A quantized multilayer perceptron: the structure of a [`PinnMlp`] (input normalisation,
/// optional Fourier features, `Linear` + activation layers, optional skip connections, linear
/// output) with every layer quantized by its own [`LayerPlan`].
///
/// Input normalisation, Fourier features, activations and biases stay in `f32`; only the
/// layers' matrix products run on quantized data.
///
/// ```
/// use burn_flex::Flex;
/// use pinn_jit::pinn::PinnMlpConfig;
/// use pinn_jit::quant::{Granularity, LayerPlan, QuantizedMlp, WeightFormat};
///
/// let mlp = PinnMlpConfig::new(2, 1, vec![16, 16]).init::<Flex>(0, &Default::default()).unwrap();
/// let plan = LayerPlan::weight_only(WeightFormat::Int8(Granularity::PerChannel));
/// let q = QuantizedMlp::from_pinn_mlp(&mlp, &vec![plan; 3]).unwrap();
/// let y = q.forward(&[0.1, 0.2, 0.3, 0.4], 2).unwrap();
/// assert_eq!(y.len(), 2);
/// assert!(q.weight_bytes() * 2 < q.fp32_weight_bytes()); // per-channel scales included
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedMlp {
    /// Hidden layers followed by the output layer.
    pub layers: Vec<QuantLinear>,
    /// Activation between hidden layers.
    pub activation: Activation,
    /// Per-input scale of the normalisation `x · scale + shift`.
    pub scale: Vec<f32>,
    /// Per-input shift of the normalisation.
    pub shift: Vec<f32>,
    /// Fourier matrix `[d_input, n_frequencies]` (row-major) and `n_frequencies`, in `f32`.
    pub fourier: Option<(Vec<f32>, usize)>,
    /// Whether hidden layers of equal width use skip connections.
    pub residual: bool,
}

impl QuantizedMlp {
    /// Quantizes `model` with one [`LayerPlan`] per layer (`plan.len()` must equal
    /// `model.layers.len()`).
    pub fn from_pinn_mlp<B: Backend>(
        model: &PinnMlp<B>,
        plan: &[LayerPlan],
    ) -> Result<Self, QuantError> {
        let layers = quantize_layers(&model.layers, plan)?;
        let fourier = model.fourier.as_ref().map(|b| {
            let nf = b.dims()[1];
            (to_f32(b.clone().into_data()), nf)
        });
        Ok(Self {
            layers,
            activation: model.activation,
            scale: model.scale.iter().map(|&v| v as f32).collect(),
            shift: model.shift.iter().map(|&v| v as f32).collect(),
            fourier,
            residual: model.residual,
        })
    }

    /// Quantizes a user's stack `x → L_n(σ(… σ(L_1 x)))` of Burn `Linear` layers with
    /// `activation` between consecutive layers (no normalisation, no skip connections).
    pub fn from_linear_stack<B: Backend>(
        layers: &[Linear<B>],
        activation: Activation,
        plan: &[LayerPlan],
    ) -> Result<Self, QuantError> {
        let layers = quantize_layers(layers, plan)?;
        let d = layers[0].d_in();
        Ok(Self {
            layers,
            activation,
            scale: vec![1.0; d],
            shift: vec![0.0; d],
            fourier: None,
            residual: false,
        })
    }

    /// Number of inputs.
    pub fn d_input(&self) -> usize {
        self.scale.len()
    }

    /// Number of outputs.
    pub fn d_output(&self) -> usize {
        self.layers.last().map_or(0, QuantLinear::d_out)
    }

    /// The per-layer plans.
    pub fn plan(&self) -> Vec<LayerPlan> {
        self.layers.iter().map(|l| l.plan).collect()
    }

    /// Forward pass on `n` points `x` (`[n, d_input]` row-major) → `[n, d_output]`.
    ///
    /// Errors: [`QuantError::ShapeMismatch`] for a wrong `x` length,
    /// [`QuantError::NotCalibrated`] for a static layer without
    /// [`calibrate`](Self::calibrate). NaN inputs give NaN outputs in their rows.
    pub fn forward(&self, x: &[f32], n: usize) -> Result<Vec<f32>, QuantError> {
        self.run(x, n, false, None)
    }

    /// Like [`forward`](Self::forward) on a Burn tensor `[n, d_input]`, returning a tensor on
    /// the same device.
    pub fn forward_tensor<B: Backend>(&self, x: Tensor<B, 2>) -> Result<Tensor<B, 2>, QuantError> {
        let [n, _] = x.dims();
        let device = x.device();
        let y = self.forward(&to_f32(x.into_data()), n)?;
        Ok(Tensor::from_data(
            TensorData::new(y, [n, self.d_output()]),
            &device,
        ))
    }

    /// Static quantization: sets every layer's input-activation scale to `max |input| / 127`
    /// over the `n` sample points `x`, measured with float activations (quantized weights).
    /// Layers planned as [`ActQuant::Static`] use it; the others ignore it.
    pub fn calibrate(&mut self, x: &[f32], n: usize) -> Result<(), QuantError> {
        if n == 0 {
            return Err(QuantError::Empty {
                context: "QuantizedMlp::calibrate sample inputs".into(),
            });
        }
        let mut ranges = Vec::with_capacity(self.layers.len());
        self.run(x, n, true, Some(&mut ranges))?;
        for (layer, amax) in self.layers.iter_mut().zip(ranges) {
            if !amax.is_finite() {
                return Err(QuantError::NonFinite {
                    context: "QuantizedMlp::calibrate activation range".into(),
                    index: 0,
                    value: amax,
                });
            }
            layer.act_scale = Some(amax / 127.0);
        }
        Ok(())
    }

    fn run(
        &self,
        x: &[f32],
        n: usize,
        float_acts: bool,
        mut ranges: Option<&mut Vec<f32>>,
    ) -> Result<Vec<f32>, QuantError> {
        let d = self.d_input();
        if x.len() != n * d {
            return Err(QuantError::ShapeMismatch {
                context: "QuantizedMlp::forward input [n, d_input]".into(),
                expected: vec![n, d],
                got: vec![x.len()],
            });
        }
        let mut h: Vec<f32> = x
            .chunks_exact(d.max(1))
            .flat_map(|row| {
                row.iter()
                    .zip(self.scale.iter().zip(&self.shift))
                    .map(|(&v, (&s, &b))| v * s + b)
            })
            .collect();
        if let Some((bmat, nf)) = &self.fourier {
            let mut feats = vec![0.0f32; n * 2 * nf];
            for (hi, fi) in h.chunks_exact(d).zip(feats.chunks_exact_mut(2 * nf)) {
                for f in 0..*nf {
                    let z: f32 = (0..d).map(|c| hi[c] * bmat[c * nf + f]).sum();
                    fi[f] = z.sin();
                    fi[nf + f] = z.cos();
                }
            }
            h = feats;
        }
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            if let Some(r) = ranges.as_deref_mut() {
                r.push(abs_max(&h));
            }
            let mut z = layer.forward(&h, n, float_acts, l)?;
            if l < last {
                apply_activation(self.activation, &mut z);
                if self.residual && z.len() == h.len() && layer.d_in() == layer.d_out() {
                    for (a, &p) in z.iter_mut().zip(&h) {
                        *a += p;
                    }
                }
            }
            h = z;
        }
        Ok(h)
    }

    /// Bytes of the quantized weight matrices, scales included (biases excluded).
    pub fn weight_bytes(&self) -> usize {
        self.layers.iter().map(|l| l.weight.memory_bytes()).sum()
    }

    /// Bytes the same weight matrices take in `f32`.
    pub fn fp32_weight_bytes(&self) -> usize {
        self.layers.iter().map(|l| 4 * l.d_in() * l.d_out()).sum()
    }

    /// Bytes of the biases (`f32` in every format).
    pub fn bias_bytes(&self) -> usize {
        self.layers.iter().map(|l| 4 * l.bias.len()).sum()
    }

    /// A [`PinnMlp`] whose weights are exactly the values the quantized kernels multiply by
    /// (`code · scale`, or the widened `f16`): the same function as [`forward`](Self::forward)
    /// for weight-only plans (up to `f32` summation order), so its [`Jet`](crate::pinn::Jet)
    /// derivatives are the derivatives of the quantized model. Activation quantization is not
    /// represented (it makes the function piecewise constant).
    pub fn to_pinn_mlp<B: Backend>(&self, device: &B::Device) -> PinnMlp<B> {
        let layers = self
            .layers
            .iter()
            .map(|l| Linear {
                weight: Param::from_tensor(Tensor::from_data(
                    TensorData::new(l.weight.dequantize_linear_weight(), [l.d_in(), l.d_out()]),
                    device,
                )),
                bias: Some(Param::from_tensor(Tensor::from_data(
                    TensorData::new(l.bias.clone(), [l.d_out()]),
                    device,
                ))),
            })
            .collect();
        let fourier = self.fourier.as_ref().map(|(b, nf)| {
            Tensor::from_data(TensorData::new(b.clone(), [self.d_input(), *nf]), device)
        });
        PinnMlp {
            layers,
            fourier,
            activation: self.activation,
            scale: self.scale.iter().map(|&v| f64::from(v)).collect(),
            shift: self.shift.iter().map(|&v| f64::from(v)).collect(),
            residual: self.residual,
        }
    }
}

fn quantize_layers<B: Backend>(
    layers: &[Linear<B>],
    plan: &[LayerPlan],
) -> Result<Vec<QuantLinear>, QuantError> {
    if layers.is_empty() {
        return Err(QuantError::Empty {
            context: "the model's layer list".into(),
        });
    }
    if plan.len() != layers.len() {
        return Err(QuantError::InvalidConfig(format!(
            "the quantization plan has {} entries for {} layers: give one LayerPlan per layer \
             (e.g. `vec![plan; n_layers]`)",
            plan.len(),
            layers.len()
        )));
    }
    layers
        .iter()
        .zip(plan)
        .enumerate()
        .map(|(i, (layer, &p))| QuantLinear::from_linear(layer, p, &format!("layer {i} weight")))
        .collect()
}

/// A uniform plan: `plan` for every one of `n_layers` layers, except that the first layer
/// keeps `f32` input activations when `float_first_input` is set — its inputs are the PDE
/// coordinates, and 8-bit coordinates move every point by up to 0.4 % of the box.
pub fn uniform_plan(n_layers: usize, plan: LayerPlan, float_first_input: bool) -> Vec<LayerPlan> {
    let mut p = vec![plan; n_layers];
    if float_first_input && let Some(first) = p.first_mut() {
        first.activations = ActQuant::Float;
    }
    p
}

/// The all-`f32` plan (the reference the others are compared with).
pub fn fp32_plan(n_layers: usize) -> Vec<LayerPlan> {
    vec![LayerPlan::weight_only(WeightFormat::F32); n_layers]
}
