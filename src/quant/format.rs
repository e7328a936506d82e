//! What a layer is quantized to: weight formats, scale granularity, activation quantization,
//! and the scalar rules every kernel and test shares.

use burn::tensor::quantization::{QuantLevel, QuantMode, QuantParam, QuantScheme, QuantValue};

use super::error::QuantError;

/// How many values share one scale.
///
/// Weights are quantized in *channel-major* order: one row per output channel (`d_out` rows of
/// `d_in` values, the transpose of Burn's `Linear` weight `[d_in, d_out]`), so a block runs
/// along the input (reduction) dimension, as in GGML's `Q8_0` / `Q4_0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// One scale for the whole matrix.
    PerTensor,
    /// One scale per output channel.
    PerChannel,
    /// One scale per `n` consecutive inputs of one output channel; the last block of a row is
    /// shorter when `n` does not divide `d_in`.
    PerBlock(usize),
}

/// The storage format of a layer's weight matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WeightFormat {
    /// Full precision (the reference).
    F32,
    /// IEEE half precision (`half::f16`), converted to `f32` inside the kernel.
    F16,
    /// Symmetric 8-bit integers in `[-127, 127]` with `f32` scales.
    Int8(Granularity),
    /// Symmetric 4-bit integers in `[-7, 7]`, two per byte, with `f32` scales.
    Int4(Granularity),
}

impl WeightFormat {
    /// The integer range `qmax` (`127` or `7`), or `None` for float formats.
    pub fn qmax(self) -> Option<i32> {
        match self {
            WeightFormat::Int8(_) => Some(127),
            WeightFormat::Int4(_) => Some(7),
            WeightFormat::F32 | WeightFormat::F16 => None,
        }
    }

    /// The scale granularity of an integer format.
    pub fn granularity(self) -> Option<Granularity> {
        match self {
            WeightFormat::Int8(g) | WeightFormat::Int4(g) => Some(g),
            WeightFormat::F32 | WeightFormat::F16 => None,
        }
    }

    /// Short name for tables (`f32`, `f16`, `int8/channel`, `int4/block32`, …).
    pub fn name(self) -> String {
        let g = |g: Granularity| match g {
            Granularity::PerTensor => "tensor".to_string(),
            Granularity::PerChannel => "channel".to_string(),
            Granularity::PerBlock(n) => format!("block{n}"),
        };
        match self {
            WeightFormat::F32 => "f32".into(),
            WeightFormat::F16 => "f16".into(),
            WeightFormat::Int8(gr) => format!("int8/{}", g(gr)),
            WeightFormat::Int4(gr) => format!("int4/{}", g(gr)),
        }
    }

    /// Checks the parameters (a block size must be at least 1).
    pub fn validate(self) -> Result<(), QuantError> {
        if let Some(Granularity::PerBlock(0)) = self.granularity() {
            return Err(QuantError::InvalidConfig(
                "a quantization block size must be >= 1 (try 32)".into(),
            ));
        }
        Ok(())
    }
}

impl TryFrom<&QuantScheme> for WeightFormat {
    type Error = QuantError;

    /// Maps Burn's scheme onto ours: `Q8S` → INT8, `Q4S` → INT4, `QuantLevel::Tensor` →
    /// per-tensor, a 1-D `QuantLevel::Block([n])` → per-block along the input dimension;
    /// `f32` scales only. Everything else is a [`QuantError::UnsupportedScheme`] naming it.
    fn try_from(s: &QuantScheme) -> Result<Self, QuantError> {
        let QuantMode::Symmetric = s.mode;
        if s.param != QuantParam::F32 {
            return Err(QuantError::UnsupportedScheme(format!(
                "scale precision {:?} (only QuantParam::F32)",
                s.param
            )));
        }
        let granularity = match s.level {
            QuantLevel::Tensor => Granularity::PerTensor,
            QuantLevel::Block(b) => match b.as_slice() {
                [n] if *n > 0 => Granularity::PerBlock(*n as usize),
                other => {
                    return Err(QuantError::UnsupportedScheme(format!(
                        "block size {other:?} (only a 1-D block size >= 1)"
                    )));
                }
            },
        };
        match s.value {
            QuantValue::Q8S => Ok(WeightFormat::Int8(granularity)),
            QuantValue::Q4S => Ok(WeightFormat::Int4(granularity)),
            other => Err(QuantError::UnsupportedScheme(format!(
                "value type {other:?} (only the symmetric Q8S and Q4S)"
            ))),
        }
    }
}

/// How a layer's *input activations* are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActQuant {
    /// Kept in `f32`: weight-only quantization (`i8`/`i4` weights × `f32` activations).
    Float,
    /// Quantized to `i8` per row (per sample) at run time with the row's own `max |x|`; the
    /// product is `i8 × i8 → i32`.
    Dynamic,
    /// Quantized to `i8` with one fixed scale found by calibration on sample inputs (values
    /// beyond the calibrated range saturate); `i8 × i8 → i32`.
    Static,
}

impl ActQuant {
    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            ActQuant::Float => "w-only",
            ActQuant::Dynamic => "dyn",
            ActQuant::Static => "static",
        }
    }
}

/// The quantization of one layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LayerPlan {
    /// The weight format.
    pub weights: WeightFormat,
    /// The treatment of the layer's input activations.
    pub activations: ActQuant,
}

impl LayerPlan {
    /// Weight-only quantization to `weights`.
    pub fn weight_only(weights: WeightFormat) -> Self {
        Self {
            weights,
            activations: ActQuant::Float,
        }
    }

    /// Checks that the combination is implemented: integer activations need integer
    /// weights (the product is `i8 × i8 → i32`).
    pub fn validate(self) -> Result<(), QuantError> {
        self.weights.validate()?;
        if self.activations != ActQuant::Float && self.weights.qmax().is_none() {
            return Err(QuantError::UnsupportedScheme(format!(
                "{} activations with {} weights (activation quantization needs INT8 or INT4 \
                 weights; use ActQuant::Float for float weights)",
                self.activations.name(),
                self.weights.name()
            )));
        }
        Ok(())
    }
}

/// `max |x|` over `values`, or `NaN` if any value is NaN.
pub fn abs_max(values: &[f32]) -> f32 {
    let mut m = 0.0f32;
    let mut nan = false;
    for &v in values {
        nan |= v.is_nan();
        m = m.max(v.abs());
    }
    if nan { f32::NAN } else { m }
}

/// The symmetric scale `amax / qmax` (0 for an all-zero group, whose codes are all 0).
pub fn symmetric_scale(amax: f32, qmax: i32) -> f32 {
    amax / qmax as f32
}

/// The code of `x` under `scale`: `round_ties_even(x / scale)` clamped to `[-qmax, qmax]`;
/// 0 when `scale` is 0 (an all-zero group) and for NaN.
///
/// Clamping first and rounding with the `1.5 · 2^23` trick (exact ties-to-even for
/// `|v| <= 2^22`) gives the same code as rounding first, without a `libm` call, so loops over
/// rows vectorise.
#[inline(always)]
pub fn quantize_value(x: f32, scale: f32, qmax: i32) -> i8 {
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23
    if scale == 0.0 {
        return 0;
    }
    let v = (x / scale).clamp(-qmax as f32, qmax as f32);
    // `as` maps NaN to 0.
    ((v + ROUND) - ROUND) as i8
}
