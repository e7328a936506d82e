//! `f32` math without `libm` or `std`: the functions the interpreter's element-wise operations
//! need, each written here from its textbook definition (range reduction plus a truncated Taylor
//! series, or a rational function), so the crate has no dependencies.
//!
//! Error bounds against Rust's `std` (which is correctly rounded or within 1 ULP), measured by
//! the sweeps in this module's tests over `f32` values spread across the whole range (the tests
//! fail if a bound is exceeded):
//!
//! | function | bound | where |
//! |----------|-------|-------|
//! | [`sqrt`], [`floor`], [`ceil`], [`trunc`], [`round_ties_even`] | exact | everywhere |
//! | [`exp`] | 2 ULP | results ≥ `f32::MIN_POSITIVE` (subnormal results: 1 ULP of `MIN_POSITIVE`) |
//! | [`ln`] | 2 ULP | everywhere |
//! | [`log1p`] | 3 ULP | everywhere |
//! | [`sin`], [`cos`] | 2 ULP, or `2⁻²⁴` absolute near a zero | `|x| ≤ 8192`; beyond, exact `f64` remainder by 2π: `4e-7` absolute up to `|x| = 2²⁰`, error growing as `|x| · 2.5e-16` past that (results stay in [−1, 1]) |
//! | [`tan`] | 4 ULP | as `sin`/`cos` |
//! | [`tanh`] | 6 ULP | everywhere (the rational function `pinn_jit::inference`'s compiled code uses) |
//! | [`sigmoid`], [`sinh`], [`cosh`] | 4 ULP | everywhere |
//! | [`erf`] | 2 ULP | everywhere (in `f64` arithmetic: slow on single-precision FPUs) |
//!
//! NaN in gives NaN out; infinities give the limits.

/// `ln 2` in two parts: `LN2_HI` has 16 significant bits, so `k · LN2_HI` is exact for
/// `|k| < 256`.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
const LOG2_E: f32 = core::f32::consts::LOG2_E;
/// `π / 2` in three parts: the first two have 11 significant bits, so `k · P1` and `k · P2`
/// are exact for `|k| < 2¹³` (`|x| ≤ 8192`).
const PIO2_1: f32 = 1.570_312_5;
const PIO2_2: f32 = 4.837_513e-4;
const PIO2_3: f32 = 7.549_79e-8;
/// `π / 2` in two `f64` parts for large arguments (`PIO2_HI` has 33 significant bits).
const PIO2_HI: f64 = 1.570_796_326_734_125_6;
const PIO2_LO: f64 = 6.077_100_506_506_192e-11;
/// `2π` in `f64`.
const TWO_PI: f64 = core::f64::consts::TAU;
const FRAC_2_SQRT_PI: f64 = core::f64::consts::FRAC_2_SQRT_PI;

/// `|x|`.
#[inline]
pub fn abs(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & 0x7fff_ffff)
}

/// `x` with the sign of `s`.
#[inline]
fn copysign(x: f32, s: f32) -> f32 {
    f32::from_bits((x.to_bits() & 0x7fff_ffff) | (s.to_bits() & 0x8000_0000))
}

/// `x · 2^k` for `-151 < k < 256`, without overflow in the scale factor itself.
fn scale2(x: f32, k: i32) -> f32 {
    let pow = |e: i32| f32::from_bits(((e + 127) as u32) << 23);
    if k > 127 {
        x * pow(127) * pow(k - 127)
    } else if k < -126 {
        x * pow(-126) * pow((k + 126).max(-126))
    } else {
        x * pow(k)
    }
}

/// Round toward zero (exact).
pub fn trunc(x: f32) -> f32 {
    if abs(x) < 8_388_608.0 {
        copysign((x as i32) as f32, x)
    } else {
        x // integral already, or NaN / infinite
    }
}

/// Round toward −∞ (exact).
pub fn floor(x: f32) -> f32 {
    let t = trunc(x);
    if t > x { t - 1.0 } else { t }
}

/// Round toward +∞ (exact).
pub fn ceil(x: f32) -> f32 {
    let t = trunc(x);
    if t < x { t + 1.0 } else { t }
}

/// Round to nearest, ties to even (exact): adding and subtracting `2²³` leaves the
/// hardware's round-to-nearest-even to do it.
pub fn round_ties_even(x: f32) -> f32 {
    const TWO_23: f32 = 8_388_608.0;
    if abs(x) < TWO_23 {
        copysign((abs(x) + TWO_23) - TWO_23, x)
    } else {
        x
    }
}

/// Correctly rounded square root: Newton's iteration in `f64`, then the `f32` neighbour whose
/// midpoint with the estimate brackets `x` (midpoints squared are exact in `f64`).
pub fn sqrt(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 || x.is_infinite() {
        return x;
    }
    let d = x as f64;
    let mut y = f64::from_bits((d.to_bits() >> 1) + 0x1ff8_0000_0000_0000);
    for _ in 0..5 {
        y = 0.5 * (y + d / y);
    }
    let mut r = y as f32;
    let up = r.next_up();
    let mid = (r as f64 + up as f64) * 0.5;
    if mid * mid < d {
        r = up;
    }
    let down = r.next_down();
    let mid = (r as f64 + down as f64) * 0.5;
    if mid * mid > d {
        r = down;
    }
    r
}

/// `e^x`: `x = k·ln 2 + r` with `|r| ≤ ln 2 / 2`, `e^r` by its Taylor series to degree 7
/// (truncation below `1e-8` relative), scaled by `2^k`.
pub fn exp(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    if x > 88.722_84 {
        return f32::INFINITY;
    }
    if x < -103.972_09 {
        return 0.0;
    }
    let k = (x * LOG2_E + copysign(0.5, x)) as i32;
    let kf = k as f32;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    scale2(p, k)
}

/// Natural logarithm: `x = 2^e · m` with `m ∈ [√½, √2)`, `ln m = 2 atanh(s)`,
/// `s = (m − 1)/(m + 1)`, by its series to `s¹¹` (truncation below `2e-9` relative).
pub fn ln(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 {
        return f32::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    let (mut bits, mut e) = (x.to_bits(), 0i32);
    if bits < 0x0080_0000 {
        // Subnormal: scale into the normal range.
        bits = (x * 8_388_608.0).to_bits();
        e = -23;
    }
    e += ((bits >> 23) as i32) - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    if m > core::f32::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let series =
        z * (1.0 / 3.0 + z * (1.0 / 5.0 + z * (1.0 / 7.0 + z * (1.0 / 9.0 + z * (1.0 / 11.0)))));
    let lnm = 2.0 * s + 2.0 * s * series;
    let ef = e as f32;
    ef * LN2_HI + (lnm + ef * LN2_LO)
}

/// `ln(1 + x)`, accurate near zero: `ln(u) · x / (u − 1)` with `u = 1 + x` (the division
/// cancels the rounding of `u`).
pub fn log1p(x: f32) -> f32 {
    if x.is_nan() || x < -1.0 {
        return f32::NAN;
    }
    if x == f32::INFINITY {
        return x;
    }
    let u = 1.0 + x;
    if u == 1.0 {
        return x;
    }
    if u == 0.0 {
        return f32::NEG_INFINITY;
    }
    ln(u) * (x / (u - 1.0))
}

/// The rational `tanh`: inputs are clamped to `±TANH_CLAMP` (where the rational function is
/// within 3 ULP of 1). Shared with `pinn_jit`'s code generator, which emits the same function.
pub const TANH_CLAMP: f32 = 7.998_811_7;
/// Below this `|x|`, `tanh(x)` is `x` to within 1 ULP (`x³/3` is below half an ULP of `x`); the
/// rational function would lose bits to subnormal intermediates near `f32::MIN_POSITIVE`.
pub const TANH_TINY: f32 = 4e-4;
/// Numerator coefficients (of `x²`, highest degree first; Eigen's `generic_fast_tanh_float`);
/// the result is `x · P(x²) / Q(x²)`.
#[allow(clippy::excessive_precision)] // Eigen's digits, verbatim
pub const TANH_P: [f32; 7] = [
    -2.760_768_477_423_55e-16,
    2.000_187_904_824_77e-13,
    -8.604_671_522_137_35e-11,
    5.122_297_090_371_14e-8,
    1.485_722_357_179_79e-5,
    6.372_619_288_754_36e-4,
    4.893_524_558_917_86e-3,
];
/// Denominator coefficients (of `x²`, highest degree first).
#[allow(clippy::excessive_precision)]
pub const TANH_Q: [f32; 4] = [
    1.198_258_394_667_02e-6,
    1.185_347_056_866_54e-4,
    2.268_434_632_439_00e-3,
    4.893_525_185_543_85e-3,
];

/// The rational `tanh` of `pinn_jit::inference` (same clamp, same coefficients, same order of
/// operations without FMA), so the runtime agrees with the compiled model bit for bit.
pub fn tanh(x: f32) -> f32 {
    if abs(x) < TANH_TINY {
        return x;
    }
    let x = if x > TANH_CLAMP { TANH_CLAMP } else { x };
    let x = if x < -TANH_CLAMP { -TANH_CLAMP } else { x };
    let x2 = x * x;
    let mut p = TANH_P[0];
    for c in &TANH_P[1..] {
        p = p * x2 + c;
    }
    let mut q = TANH_Q[0];
    for c in &TANH_Q[1..] {
        q = q * x2 + c;
    }
    p * x / q
}

/// `1 / (1 + e^-x)`.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `x = q · π/2 + r` with `|r| ≲ π/4`; returns `(r, q mod 4)`.
fn reduce_pio2(x: f32) -> (f32, u32) {
    if abs(x) <= 8192.0 {
        let k = (x * core::f32::consts::FRAC_2_PI + copysign(0.5, x)) as i32;
        let kf = k as f32;
        let r = ((x - kf * PIO2_1) - kf * PIO2_2) - kf * PIO2_3;
        (r, (k & 3) as u32)
    } else {
        // `%` on f64 is exact (fmod), so the only error is that of 2π in f64: `|x| / 2π ·
        // 2.5e-16`, below 1e-10 up to 2^20. The remainder is in (-2π, 2π): `k` is at most 4.
        let d = (x as f64) % TWO_PI;
        let k = trunc_f64(d * core::f64::consts::FRAC_2_PI + if d < 0.0 { -0.5 } else { 0.5 });
        let r = (d - k * PIO2_HI) - k * PIO2_LO;
        (r as f32, ((k as i64) & 3) as u32)
    }
}

fn trunc_f64(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        (x as i64) as f64
    } else {
        x
    }
}

/// `sin r` for `|r| ≤ π/4` (Taylor to `r⁹`, truncation below `3e-9` relative).
fn sin_poly(r: f32) -> f32 {
    let z = r * r;
    r + r * z * (-1.0 / 6.0 + z * (1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (1.0 / 362_880.0))))
}

/// `cos r` for `|r| ≤ π/4` (Taylor to `r¹⁰`, truncation below `2e-10`).
fn cos_poly(r: f32) -> f32 {
    let z = r * r;
    1.0 - 0.5 * z
        + z * z
            * (1.0 / 24.0 + z * (-1.0 / 720.0 + z * (1.0 / 40_320.0 + z * (-1.0 / 3_628_800.0))))
}

/// Sine (radians).
pub fn sin(x: f32) -> f32 {
    if abs(x) < 2.4e-4 {
        return x; // also keeps the sign of zero
    }
    if !x.is_finite() {
        return f32::NAN;
    }
    let (r, q) = reduce_pio2(x);
    match q {
        0 => sin_poly(r),
        1 => cos_poly(r),
        2 => -sin_poly(r),
        _ => -cos_poly(r),
    }
}

/// Cosine (radians).
pub fn cos(x: f32) -> f32 {
    if !x.is_finite() {
        return f32::NAN;
    }
    let (r, q) = reduce_pio2(x);
    match q {
        0 => cos_poly(r),
        1 => -sin_poly(r),
        2 => -cos_poly(r),
        _ => sin_poly(r),
    }
}

/// Tangent (radians): `sin / cos` of one reduction.
pub fn tan(x: f32) -> f32 {
    if abs(x) < 2.4e-4 {
        return x;
    }
    if !x.is_finite() {
        return f32::NAN;
    }
    let (r, q) = reduce_pio2(x);
    let (s, c) = (sin_poly(r), cos_poly(r));
    if q & 1 == 0 { s / c } else { -c / s }
}

/// `e^{|x|} / 2` without overflowing before the result does.
fn half_exp(a: f32) -> f32 {
    let h = exp(a * 0.5);
    (h * 0.5) * h
}

/// Hyperbolic sine: Taylor to `x¹¹` below 1, `(e^x − e^−x)/2` above.
pub fn sinh(x: f32) -> f32 {
    let a = abs(x);
    if a < 2.4e-4 || a.is_nan() {
        return x;
    }
    let r = if a < 1.0 {
        let z = a * a;
        a + a
            * z
            * (1.0 / 6.0
                + z * (1.0 / 120.0
                    + z * (1.0 / 5040.0 + z * (1.0 / 362_880.0 + z * (1.0 / 39_916_800.0)))))
    } else if a < 9.0 {
        let e = exp(a);
        (e - 1.0 / e) * 0.5
    } else {
        half_exp(a)
    };
    copysign(r, x)
}

/// Hyperbolic cosine: `(e^x + e^−x)/2`.
pub fn cosh(x: f32) -> f32 {
    let a = abs(x);
    if a.is_nan() {
        return x;
    }
    if a < 9.0 {
        let e = exp(a);
        (e + 1.0 / e) * 0.5
    } else {
        half_exp(a)
    }
}

/// Error function, in `f64`: the Maclaurin series below 1; above, `erf(a) = 2/√π · a ·
/// e^{−a²} · Σ (2a²)ⁿ / (1·3·…·(2n+1))` (all terms positive, no cancellation), with `e^{−a²}`
/// from [`exp`] corrected for the rounding of `a²`; 1 from 3.92 on (`erfc < 2⁻²⁵`).
pub fn erf(x: f32) -> f32 {
    let a = abs(x);
    if a.is_nan() {
        return x;
    }
    if a < 1e-30 {
        return (x as f64 * FRAC_2_SQRT_PI) as f32;
    }
    if a >= 3.92 {
        return copysign(1.0, x);
    }
    let d = a as f64;
    let z = d * d; // exact: 48 bits
    let r = if a < 1.0 {
        // Σ (−1)ⁿ d^{2n+1} / (n! (2n+1)); terms fall below 1e-17 by n = 16.
        let (mut term, mut sum) = (d, d);
        for n in 1..=16u32 {
            term *= -z / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * FRAC_2_SQRT_PI
    } else {
        let (mut term, mut sum) = (1.0f64, 1.0f64);
        let mut n = 1u32;
        while n < 200 && term > sum * 1e-17 {
            term *= 2.0 * z / (2 * n + 1) as f64;
            sum += term;
            n += 1;
        }
        let hi = z as f32;
        let lo = z - hi as f64; // e^{-z} = e^{-hi} · e^{-lo}, |lo| < 2^-20
        let e = exp(-hi) as f64 * (1.0 - lo);
        FRAC_2_SQRT_PI * d * e * sum
    };
    copysign(r as f32, x)
}

#[cfg(test)]
mod tests;
