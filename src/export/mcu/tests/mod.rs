//! The exporter and `pinn-jit-mcu` together, on the host: exported models against the compiled
//! model and the graph interpreter, int8 error, and bad bytes, buffers and slices.

mod corrupt;
mod graphs;
mod models;

use super::{McuModel, McuOptions, McuWeights, graph_to_mcu_bytes, to_mcu_bytes};
use crate::inference::{CompiledModel, Graph};

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
    pub fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.f32(lo, hi)).collect()
    }
}

/// `a` and `b` agree: same NaN-ness, equal infinities, finite values within `rtol` of
/// `|b| + scale` (scale: the largest finite `|b|`, at least 1).
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
        assert!(ok, "{what}: element {i}: mcu {x}, reference {y}");
    }
}

/// Run an exported model on `rows × input_width` inputs with a buffer of exactly the size the
/// exporter computed.
pub(super) fn run_mcu(exported: &McuModel, input: &[f32]) -> Vec<f32> {
    let m = pinn_jit_mcu::Model::parse(&exported.bytes).expect("an exported model parses");
    assert_eq!(m.buffer_len(), exported.buffer_len);
    assert_eq!(m.buffer_bytes(), exported.buffer_bytes);
    let rows = input.len() / m.input_width();
    let mut out = vec![0.0f32; rows * m.output_width()];
    let mut buffer = vec![f32::NAN; exported.buffer_len]; // garbage must not matter
    m.infer_batch(input, &mut out, &mut buffer).unwrap();
    out
}

/// Export `model` with f32 weights and compare with it on random inputs in `[-lo, lo]`.
pub(super) fn check_fp32(model: &CompiledModel, range: f32, what: &str) -> McuModel {
    let exported =
        to_mcu_bytes(model, &McuOptions::default()).unwrap_or_else(|e| panic!("{what}: {e}"));
    let x = Rng::new(7).vec(64 * model.input_width(), -range, range);
    let want = model.infer(&x).unwrap();
    assert_close(&run_mcu(&exported, &x), &want, 1e-5, what);
    exported
}

/// Export a graph with f32 weights and compare with [`Graph::eval`] (std math) on `x`.
pub(super) fn check_graph(g: &Graph, x: &[f32], rtol: f32, what: &str) {
    let exported =
        graph_to_mcu_bytes(g, &McuOptions::default()).unwrap_or_else(|e| panic!("{what}: {e}"));
    let want = g.eval(x).unwrap();
    assert_close(&run_mcu(&exported, x), &want, rtol, what);
}

#[test]
fn weights_default_to_fp32() {
    assert_eq!(McuOptions::default().weights, McuWeights::Fp32);
}
