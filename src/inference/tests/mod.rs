//! Tests of the whole compiler: compiled graphs against the graph interpreter, traced models
//! against eager Burn, and the file format against truncation and corruption.

mod compiled;
mod files;
mod traced;

use crate::inference::{CompileOptions, CompiledModel, Graph};

/// A small deterministic generator (xorshift64*).
pub(super) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `[lo, hi)`.
    pub fn f32(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    pub fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.f32(lo, hi)).collect()
    }
}

/// `a` and `b` agree: same NaN-ness, equal infinities, finite values within `rtol` of
/// `|b| + scale` (scale: the largest finite `|b|`, at least 1), which absorbs the different
/// summation order of dense layers.
pub(super) fn assert_close(a: &[f32], b: &[f32], rtol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    let scale = b
        .iter()
        .filter(|v| v.is_finite())
        .fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let ok = if x.is_nan() || y.is_nan() {
            x.is_nan() && y.is_nan()
        } else if x.is_infinite() || y.is_infinite() {
            x == y
        } else {
            (x - y).abs() <= rtol * (y.abs() + scale)
        };
        assert!(ok, "{what}: element {i}: compiled {x}, reference {y}");
    }
}

/// Options: the pure-Cranelift path, and (where the host has it) the AVX2 dense callout from
/// the smallest tile up, so that both kernels see every shape.
pub(super) fn option_sets() -> Vec<CompileOptions> {
    let pure = CompileOptions {
        avx2_dense_min_rows: None,
        ..CompileOptions::default()
    };
    let avx = CompileOptions {
        avx2_dense_min_rows: Some(1),
        ..CompileOptions::default()
    };
    vec![pure, avx]
}

/// Compile `g` with every option set and compare with the interpreter on `rows` random rows.
pub(super) fn check_graph(g: &Graph, rows: &[usize], seed: u64) {
    let mut rng = Rng::new(seed);
    for opts in option_sets() {
        let m = CompiledModel::compile_with(g.clone(), &opts)
            .unwrap_or_else(|e| panic!("compile failed: {e}\n{g:?}"));
        for &r in rows {
            let x = rng.vec(r * g.input_width, -2.0, 2.0);
            let want = g.eval(&x).unwrap();
            let got = m.infer(&x).unwrap();
            assert_close(
                &got,
                &want,
                2e-5,
                &format!("rows={r} opts={opts:?} graph={g:?}"),
            );
        }
    }
}
