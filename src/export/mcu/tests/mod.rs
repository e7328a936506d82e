//! The exporter and `pinn-jit-mcu` together, on the host: exported models against the compiled
//! model and the graph interpreter, int8 error, and bad bytes, buffers and slices.

mod corrupt;
mod graphs;
mod models;

use super::{McuModel, McuOptions, McuWeights, graph_to_mcu_bytes, to_mcu_bytes};
use crate::inference::{CompiledModel, Graph};

pub(super) use crate::inference::tests::{Rng, assert_close};

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
