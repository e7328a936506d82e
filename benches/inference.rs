//! Criterion benchmarks of `pinn_jit::inference` (being written).
use criterion::{Criterion, criterion_group, criterion_main};
fn benches(_c: &mut Criterion) {}
criterion_group!(group, benches);
criterion_main!(group);
