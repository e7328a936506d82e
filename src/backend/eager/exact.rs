//! Element-wise float operations that `PinnCpu` computes itself instead of forwarding to
//! burn-flex, because burn-flex 0.21's version differs from the rest of the backend:
//!
//! - `asinh` and `atanh`: burn-flex evaluates `ln(x + sqrt(x² + 1))` and `½ ln((1 + x)/(1 − x))`,
//!   which overflow to ±inf for |x| > ~1.8e19 and lose ~17 f32 ULP near ±1. Here they are the
//!   standard library's (correctly rounded to a few ULP over the whole domain), evaluated in
//!   f64 for the f32/f16/bf16 dtypes.
//! - `clamp`, `clamp_min`, `clamp_max`: burn-flex returns the bound for a NaN element. The
//!   compiled kernels, burn-fusion's decompositions and PyTorch propagate the NaN; so does this
//!   implementation, so that a clamp gives the same result whether or not it was fused.
//!
//! Each operation is one pass over the elements in logical order, producing a new contiguous
//! tensor of the input's dtype.

use burn_backend::{DType, Scalar, TensorData, TensorMetadata};
use burn_flex::FlexTensor;
use burn_std::{bf16, f16};

/// `tensor` with `f` applied to every element, computed in f64 and rounded to the tensor's
/// float dtype.
///
/// # Panics
/// If `tensor` is not a float tensor (Burn only calls these ops on float tensors).
fn map_float(tensor: FlexTensor, f: impl Fn(f64) -> f64) -> FlexTensor {
    let shape = tensor.shape();
    let data = tensor.into_data();
    let out = match data.dtype {
        DType::F64 => TensorData::new(map_slice::<f64>(&data, f), shape),
        DType::F32 => TensorData::new(map_slice::<f32>(&data, |v| f(v as f64) as f32), shape),
        DType::F16 => TensorData::new(
            map_slice::<f16>(&data, |v| f16::from_f64(f(v.to_f64()))),
            shape,
        ),
        DType::BF16 => TensorData::new(
            map_slice::<bf16>(&data, |v| bf16::from_f64(f(v.to_f64()))),
            shape,
        ),
        other => panic!("float operation on a tensor of dtype {other:?}: expected a float dtype"),
    };
    FlexTensor::from_data(out)
}

fn map_slice<E: burn_backend::Element>(data: &TensorData, f: impl Fn(E) -> E) -> Vec<E> {
    data.as_slice::<E>()
        .expect("the dtype was matched just before")
        .iter()
        .map(|&v| f(v))
        .collect()
}

/// `asinh` of every element, accurate over the whole domain (±inf and NaN map to themselves).
pub fn asinh(tensor: FlexTensor) -> FlexTensor {
    map_float(tensor, f64::asinh)
}

/// `atanh` of every element: ±inf at ±1, NaN outside [-1, 1].
pub fn atanh(tensor: FlexTensor) -> FlexTensor {
    map_float(tensor, f64::atanh)
}

/// `min` for elements below it; NaN stays NaN.
pub fn clamp_min(tensor: FlexTensor, min: Scalar) -> FlexTensor {
    let min = bound(tensor.dtype(), min);
    map_float(tensor, move |v| if v < min { min } else { v })
}

/// `max` for elements above it; NaN stays NaN.
pub fn clamp_max(tensor: FlexTensor, max: Scalar) -> FlexTensor {
    let max = bound(tensor.dtype(), max);
    map_float(tensor, move |v| if v > max { max } else { v })
}

/// Elements limited to `[min, max]` (`min` wins if `min > max`, as with `clamp_max` then
/// `clamp_min`); NaN stays NaN.
pub fn clamp(tensor: FlexTensor, min: Scalar, max: Scalar) -> FlexTensor {
    let dtype = tensor.dtype();
    let (min, max) = (bound(dtype, min), bound(dtype, max));
    map_float(tensor, move |v| {
        let v = if v > max { max } else { v };
        if v < min { min } else { v }
    })
}

/// A clamp bound as the tensor's dtype would store it (so that comparing in f64 gives the same
/// answer as comparing in the dtype), widened to f64.
fn bound(dtype: DType, value: Scalar) -> f64 {
    let v = value.elem::<f64>();
    match dtype {
        DType::F32 => v as f32 as f64,
        DType::F16 => f16::from_f64(v).to_f64(),
        DType::BF16 => bf16::from_f64(v).to_f64(),
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_tensor(values: &[f32]) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values.to_vec(), [values.len()]))
    }

    fn values(t: FlexTensor) -> Vec<f32> {
        t.into_data().to_vec::<f32>().unwrap()
    }

    #[test]
    fn asinh_of_huge_values_is_finite_and_accurate() {
        let xs = [1e20f32, -1e25, f32::MAX, 0.5, -0.0, f32::INFINITY];
        for (x, y) in xs.iter().zip(values(asinh(f32_tensor(&xs)))) {
            assert_eq!(y, (*x as f64).asinh() as f32, "asinh({x})");
        }
        assert!(values(asinh(f32_tensor(&[f32::NAN])))[0].is_nan());
    }

    #[test]
    fn atanh_near_one_is_accurate() {
        let xs = [-0.996_059_2f32, 0.999, 0.9999, -0.99999, 1.0, 2.0];
        let ys = values(atanh(f32_tensor(&xs)));
        assert_eq!(ys[0], -3.113_770_5);
        assert_eq!(ys[4], f32::INFINITY);
        assert!(ys[5].is_nan());
    }

    #[test]
    fn clamps_propagate_nan_and_respect_bounds() {
        let xs = [f32::NAN, -3.0, 0.5, 3.0, f32::NEG_INFINITY];
        let lo = values(clamp_min(f32_tensor(&xs), Scalar::Float(-1.0)));
        let hi = values(clamp_max(f32_tensor(&xs), Scalar::Float(1.0)));
        let both = values(clamp(
            f32_tensor(&xs),
            Scalar::Float(-1.0),
            Scalar::Float(1.0),
        ));
        assert!(lo[0].is_nan() && hi[0].is_nan() && both[0].is_nan());
        assert_eq!(&lo[1..], &[-1.0, 0.5, 3.0, -1.0]);
        assert_eq!(&hi[1..], &[-3.0, 0.5, 1.0, f32::NEG_INFINITY]);
        assert_eq!(&both[1..], &[-1.0, 0.5, 1.0, -1.0]);
    }

    #[test]
    fn clamp_bound_rounds_like_the_dtype() {
        // 0.1 is not an f32: the bound must be f32(0.1), not the f64 0.1 (which would let
        // f32(0.1) through unclamped on one side and clamp it on the other).
        let x = 0.1f32;
        assert_eq!(
            values(clamp_max(f32_tensor(&[x]), Scalar::Float(0.1)))[0],
            x
        );
        assert_eq!(
            values(clamp_min(f32_tensor(&[x]), Scalar::Float(0.1)))[0],
            x
        );
    }

    #[test]
    fn strided_views_map_in_logical_order() {
        let t = FlexTensor::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]));
        let y = clamp_min(t.transpose(0, 1), Scalar::Float(2.5));
        assert_eq!(values(y), vec![2.5, 3.0, 2.5, 4.0]);
    }
}
