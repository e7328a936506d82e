//! Tests of the whole compiler: compiled graphs against the graph interpreter, traced models
//! against eager Burn, and the file format against truncation and corruption.

mod compiled;
mod files;
mod int8;
mod traced;

use crate::inference::{CompileOptions, CompiledModel, Graph, Node, Operand};
use crate::kernel::{ElemType, Inst, KernelSpec, Output, ValueId};

use burn::tensor::{Tensor, activation};

use crate::inference::Tracer;

/// A traced element-wise activation.
pub(crate) type Act = Box<dyn Fn(Tensor<Tracer, 2>) -> Tensor<Tracer, 2>>;

/// Every PINN activation and more element-wise programs (powers, clamps, masks, logs, …), for
/// tests that compile or export a layer → activation → layer network per entry.
pub(crate) fn element_wise_activations() -> Vec<(&'static str, Act)> {
    type T2 = Tensor<Tracer, 2>;
    vec![
        ("tanh", Box::new(|h: T2| h.tanh())),
        ("relu", Box::new(activation::relu)),
        ("gelu", Box::new(activation::gelu)),
        ("sigmoid", Box::new(activation::sigmoid)),
        ("silu", Box::new(activation::silu)),
        ("softplus", Box::new(|h| activation::softplus(h, 1.0))),
        ("leaky_relu", Box::new(|h| activation::leaky_relu(h, 0.1))),
        ("sin", Box::new(|h: T2| h.sin())),
        ("cos", Box::new(|h: T2| h.cos())),
        ("exp", Box::new(|h: T2| h.exp())),
        ("clamp", Box::new(|h: T2| h.clamp(-0.5, 0.75))),
        ("square", Box::new(|h: T2| h.powf_scalar(2.0))),
        ("cube", Box::new(|h: T2| h.powf_scalar(3.0))),
        ("abs_sqrt", Box::new(|h: T2| h.abs().sqrt())),
        ("log1p_sq", Box::new(|h: T2| (h.clone() * h).log1p())),
        ("erf", Box::new(|h: T2| h.erf())),
        ("recip", Box::new(|h: T2| (h.abs() + 1.0).recip())),
        ("neg_div", Box::new(|h: T2| -h / 3.0 - 1.0)),
        (
            "mask",
            Box::new(|h: T2| {
                let m = h.clone().greater_elem(0.25);
                h.clone().mask_where(m, h * 2.0)
            }),
        ),
    ]
}

/// A small deterministic generator (xorshift64*).
pub(crate) struct Rng(u64);

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
pub(crate) fn assert_close(a: &[f32], b: &[f32], rtol: f32, what: &str) {
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
        assert!(ok, "{what}: element {i}: got {x}, reference {y}");
    }
}

/// An all-f32 spec over `n_inputs` inputs whose output is the body's last value.
pub(crate) fn spec(n_inputs: usize, body: Vec<Inst>) -> KernelSpec {
    let out = ValueId(body.len() as u32 - 1);
    KernelSpec {
        float: ElemType::F32,
        inputs: vec![ElemType::F32; n_inputs],
        num_scalars: 0,
        body,
        outputs: vec![Output {
            value: out,
            ty: ElemType::F32,
        }],
    }
}

/// A map node of `body` (its last value) over `operands`.
pub(crate) fn map(operands: Vec<Operand>, body: Vec<Inst>) -> Node {
    Node::Map {
        spec: spec(operands.len(), body),
        operands,
    }
}

/// A 2-wide input split into its two columns, which are the two inputs of `body`.
pub(crate) fn two_column_map(body: Vec<Inst>) -> Graph {
    let column = |start| Node::Slice {
        x: 0,
        start,
        len: 1,
    };
    Graph {
        input_width: 2,
        nodes: vec![
            Node::Input,
            column(0),
            column(1),
            map(vec![Operand::Node(1), Operand::Node(2)], body),
        ],
        output: 3,
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
