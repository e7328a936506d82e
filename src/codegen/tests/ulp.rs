//! Accuracy of the inline `f32` approximations against Rust std over the whole `f32` range.
//!
//! Each test sweeps every 97th bit pattern (44 M values, both signs, subnormals included) plus
//! a list of specials and boundaries, with FMA (when the host has it) and without (every 389th
//! pattern), and asserts the maximal error in ULP, NaN-ness, and the sign of zero results.

use super::harness::{run_dense_f32, unary_spec};
use crate::codegen::math::TRIG_REDUCTION_LIMIT_F32;
use crate::codegen::{CompileOptions, compile_with};
use crate::kernel::interp::unary_f32;
use crate::kernel::{ElemType, LayoutClass, UnaryOp};

/// Position of `x` on the number line counted in ULPs (`-0.0` and `+0.0` both map to 0).
fn ordinal(x: f32) -> i64 {
    let b = x.to_bits();
    if b >> 31 == 1 {
        -((b & 0x7fff_ffff) as i64)
    } else {
        b as i64
    }
}

/// Distance in ULPs, `None` when NaN-ness or the sign of a zero result disagree.
fn ulp_distance(got: f32, want: f32) -> Option<u64> {
    if got.is_nan() || want.is_nan() {
        return (got.is_nan() && want.is_nan()).then_some(0);
    }
    if got == 0.0 && want == 0.0 && got.is_sign_negative() != want.is_sign_negative() {
        return None;
    }
    Some((ordinal(got) - ordinal(want)).unsigned_abs())
}

fn specials() -> Vec<f32> {
    let mut v = vec![
        0.0,
        f32::NAN,
        f32::INFINITY,
        f32::MIN_POSITIVE,
        f32::MAX,
        f32::EPSILON,
        f32::from_bits(1),
        f32::from_bits(0x007f_ffff),
        1.0,
        0.5,
        2.0,
        0.625,
        0.624_999_94,
        9.01,
        88.722_84,
        88.722_83,
        88.0,
        89.0,
        -87.336_54,
        -103.972_08,
        -104.0,
        1e-20,
        1e20,
        core::f32::consts::FRAC_1_SQRT_2,
        core::f32::consts::SQRT_2,
    ];
    // Neighbours of every special, and both signs.
    for x in v.clone() {
        if x.is_finite() {
            v.push(f32::from_bits(x.to_bits() + 1));
            if x != 0.0 {
                v.push(f32::from_bits(x.to_bits() - 1));
            }
        }
    }
    let neg: Vec<f32> = v.iter().map(|x| -x).collect();
    v.extend(neg);
    v
}

/// Max ULP error of the compiled `op` over the sweep (inputs with `|x| > limit` skipped);
/// panics on a NaN/sign disagreement.
fn max_ulp(op: UnaryOp, stride: u64, fma: bool, limit: f32) -> u64 {
    let opts = CompileOptions {
        fma,
        print_ir: false,
    };
    let k = compile_with(
        &unary_spec(ElemType::F32, op),
        &[LayoutClass::Contiguous; 2],
        &opts,
    )
    .expect("compiles");
    let mut worst = (0u64, 0f32);
    let mut xs: Vec<f32> = specials();
    let mut out = Vec::new();
    let mut bits: u64 = 0;
    loop {
        while xs.len() < 1 << 16 && bits < 1 << 32 {
            let x = f32::from_bits(bits as u32);
            if x.is_nan() || x.abs() <= limit {
                xs.push(x);
            }
            bits += stride;
        }
        if xs.is_empty() {
            break;
        }
        out.resize(xs.len(), 0.0);
        run_dense_f32(&k, &xs, &mut out);
        for (&x, &got) in xs.iter().zip(&out) {
            let want = unary_f32(op, x);
            match ulp_distance(got, want) {
                Some(d) if d > worst.0 => worst = (d, x),
                Some(_) => {}
                None => panic!("{op:?}({x:e}) = {got:e}, std gives {want:e} (fma {fma})"),
            }
        }
        xs.clear();
    }
    eprintln!(
        "{op:?}: max {} ULP at x = {:e} (fma {fma}, stride {stride})",
        worst.0, worst.1
    );
    worst.0
}

fn assert_within(op: UnaryOp, bound: u64) {
    assert_within_up_to(op, bound, f32::INFINITY);
}

fn assert_within_up_to(op: UnaryOp, bound: u64, limit: f32) {
    let host_fma = CompileOptions::default().fma;
    if host_fma {
        let e = max_ulp(op, 97, true, limit);
        assert!(e <= bound, "{op:?} with FMA: {e} ULP > {bound}");
    }
    let e = max_ulp(op, 389, false, limit);
    assert!(e <= bound, "{op:?} without FMA: {e} ULP > {bound}");
}

#[test]
fn exp_matches_std_within_1_ulp() {
    assert_within(UnaryOp::Exp, 1);
}

#[test]
fn log_matches_std_within_1_ulp() {
    assert_within(UnaryOp::Log, 1);
}

#[test]
fn log1p_matches_std_within_1_ulp() {
    assert_within(UnaryOp::Log1p, 1);
}

#[test]
fn tanh_matches_std_within_6_ulp() {
    assert_within(UnaryOp::Tanh, 6);
}

#[test]
fn sigmoid_matches_std_within_4_ulp() {
    assert_within(UnaryOp::Sigmoid, 4);
}

#[test]
fn sin_matches_std_within_1_ulp_in_reduction_range() {
    assert_within_up_to(UnaryOp::Sin, 1, TRIG_REDUCTION_LIMIT_F32 as f32);
}

#[test]
fn cos_matches_std_within_1_ulp_in_reduction_range() {
    assert_within_up_to(UnaryOp::Cos, 1, TRIG_REDUCTION_LIMIT_F32 as f32);
}

#[test]
fn sin_cos_beyond_reduction_range_equal_std_exactly_lane_by_lane() {
    // Huge arguments are computed by std; their neighbours in the vector stay inline.
    let xs = [1e9f32, 0.5, -3.0e38, 2.0, f32::MAX, 7.0, 5e8, -1.0];
    for op in [UnaryOp::Sin, UnaryOp::Cos] {
        let k = compile_with(
            &unary_spec(ElemType::F32, op),
            &[LayoutClass::Contiguous; 2],
            &CompileOptions::default(),
        )
        .expect("compiles");
        let mut out = [0f32; 8];
        run_dense_f32(&k, &xs, &mut out);
        for (&x, &got) in xs.iter().zip(&out) {
            if x.abs() > TRIG_REDUCTION_LIMIT_F32 as f32 {
                assert_eq!(got.to_bits(), unary_f32(op, x).to_bits(), "{op:?}({x})");
            } else {
                assert!(ulp_distance(got, unary_f32(op, x)).is_some_and(|d| d <= 1));
            }
        }
    }
}

#[test]
fn tanh_saturates_to_exactly_one_and_keeps_negative_zero() {
    let k = compile_with(
        &unary_spec(ElemType::F32, UnaryOp::Tanh),
        &[LayoutClass::Contiguous; 2],
        &CompileOptions::default(),
    )
    .expect("compiles");
    let xs = [
        9.1f32,
        20.0,
        1e30,
        f32::INFINITY,
        -9.1,
        -1e30,
        f32::NEG_INFINITY,
        -0.0,
    ];
    let mut out = [0f32; 8];
    run_dense_f32(&k, &xs, &mut out);
    assert_eq!(&out[..7], &[1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0]);
    assert_eq!(out[7].to_bits(), (-0.0f32).to_bits());
}
