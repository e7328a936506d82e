//! Traced forward passes against the same forward pass run eagerly on the tracer (burn-flex):
//! activations, Fourier features, residuals, slices, broadcasting, constants; and the typed
//! errors for what cannot be compiled.

use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Tensor, TensorData};

use super::{Rng, assert_close, element_wise_activations};
use crate::PinnJitDevice;
use crate::inference::{CompiledModel, InferenceError, Node, Tracer};

type T2 = Tensor<Tracer, 2>;

fn dev() -> PinnJitDevice {
    PinnJitDevice::Cpu
}

fn lin(i: usize, o: usize) -> Linear<Tracer> {
    LinearConfig::new(i, o).init(&dev())
}

/// Compile `f`, then compare it with eager execution on random and edge inputs.
fn check<F: Fn(T2) -> T2>(width: usize, f: F, what: &str) -> CompiledModel {
    let m = CompiledModel::trace(width, &f).unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut rng = Rng::new(width as u64);
    for rows in [1usize, 2, 7, 33, 130] {
        let x = rng.vec(rows * width, -3.0, 3.0);
        let eager = f(T2::from_data(
            TensorData::new(x.clone(), [rows, width]),
            &dev(),
        ))
        .into_data()
        .to_vec::<f32>()
        .unwrap();
        let got = m.infer(&x).unwrap();
        assert_close(&got, &eager, 1e-5, &format!("{what} rows={rows}"));
    }
    m
}

#[test]
fn tanh_mlp_compiles_to_dense_and_tanh_maps() {
    let (l1, l2, l3, l4) = (lin(2, 64), lin(64, 64), lin(64, 64), lin(64, 1));
    let m = check(
        2,
        |x| l4.forward(l3.forward(l2.forward(l1.forward(x).tanh()).tanh()).tanh()),
        "mlp",
    );
    let kinds: Vec<&str> = m.graph().nodes.iter().map(Node::kind).collect();
    assert_eq!(
        kinds,
        [
            "input", "dense", "map", "dense", "map", "dense", "map", "dense"
        ]
    );
}

/// The PINN toolkit writes `tanh` as `1 − 2 / (e^{2z} + 1)`; the compiler sees `tanh`.
#[test]
fn the_toolkits_exponential_tanh_compiles_as_tanh() {
    use crate::kernel::{Inst, UnaryOp, ValueId};
    use crate::pinn::PinnMlpConfig;
    let mlp = PinnMlpConfig::new(2, 1, vec![32, 32])
        .init::<Tracer>(3, &dev())
        .unwrap();
    let m = check(2, |x| mlp.forward(x), "pinn mlp");
    let tanh = [Inst::Input(0), Inst::Unary(UnaryOp::Tanh, ValueId(0))];
    // The input normalisation, then one `tanh` per hidden layer.
    let maps: Vec<bool> = m
        .graph()
        .nodes
        .iter()
        .filter_map(|n| match n {
            Node::Map { spec, .. } => Some(spec.body == tanh),
            _ => None,
        })
        .collect();
    assert_eq!(maps, [false, true, true]);
    // Another formula with an exponential stays as written.
    let l = lin(2, 4);
    let other = check(2, |x| (l.forward(x) * 2.0).exp() + 1.0, "exp");
    assert!(other.graph().nodes.iter().all(|n| match n {
        Node::Map { spec, .. } => spec.body != tanh,
        _ => true,
    }));
}

#[test]
fn edge_inputs_propagate_like_eager() {
    let (l1, l2) = (lin(3, 16), lin(16, 2));
    let f = |x: T2| l2.forward(l1.forward(x).tanh());
    let m = CompiledModel::trace(3, f).unwrap();
    let x = vec![
        f32::NAN,
        0.0,
        1.0,
        f32::INFINITY,
        0.5,
        0.5,
        f32::NEG_INFINITY,
        f32::INFINITY,
        0.0,
        1e30,
        -1e30,
        3.0,
        -0.0,
        1e-40,
        1e6,
    ];
    let eager = f(T2::from_data(TensorData::new(x.clone(), [5, 3]), &dev()))
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let got = m.infer(&x).unwrap();
    assert!(got[0].is_nan() && got[1].is_nan());
    assert_close(&got, &eager, 1e-5, "edge inputs");
}

#[test]
fn activations_match_eager() {
    let (l1, l2) = (lin(3, 24), lin(24, 2));
    let acts = element_wise_activations();
    for (name, act) in acts {
        check(3, |x| l2.forward(act(l1.forward(x))), name);
    }
}

#[test]
fn fourier_features_residuals_and_slices() {
    let b = T2::from_data(
        TensorData::new(Rng::new(3).vec(2 * 8, -2.0, 2.0), [2, 8]),
        &dev(),
    );
    let (l1, l2, l3) = (lin(18, 32), lin(32, 32), lin(32, 3));
    let m = check(
        2,
        |x| {
            let proj = x.clone().matmul(b.clone()) * (2.0 * std::f32::consts::PI);
            let feats = Tensor::cat(vec![proj.clone().sin(), proj.cos(), x], 1);
            let h = l1.forward(feats).tanh();
            let h = h.clone() + l2.forward(h).tanh(); // residual
            let y = l3.forward(h);
            // u and v columns, recombined.
            let u = y.clone().narrow(1, 0, 1);
            let v = y.narrow(1, 1, 2);
            Tensor::cat(vec![v, u.clone() * u], 1)
        },
        "fourier",
    );
    assert!(
        m.graph()
            .nodes
            .iter()
            .any(|n| matches!(n, Node::Concat { .. }))
    );
}

#[test]
fn broadcasting_expand_and_batch_constants() {
    let l1 = lin(4, 6);
    let row = Tensor::<Tracer, 1>::from_data(
        TensorData::from([0.5f32, -1.0, 2.0, 0.0, 1.0, 3.0]),
        &dev(),
    );
    check(
        4,
        |x| {
            let col = x.clone().narrow(1, 0, 1); // [B, 1]
            let h = l1.forward(x.clone()) * row.clone().unsqueeze::<2>() + col.clone();
            let ones = x.ones_like().narrow(1, 0, 1); // batch-shaped constant, equal rows
            let wide = col.expand([h.dims()[0], 6]);
            h * wide + ones
        },
        "broadcast",
    );
}

#[test]
fn matmul_plus_bias_folds_into_the_dense_node() {
    let w = T2::from_data(
        TensorData::new(Rng::new(1).vec(6, -1.0, 1.0), [3, 2]),
        &dev(),
    );
    let bias = Tensor::<Tracer, 1>::from_data(TensorData::from([0.25f32, -0.5]), &dev());
    let m = check(
        3,
        |x| x.matmul(w.clone()) + bias.clone().unsqueeze::<2>(),
        "bias fold",
    );
    assert_eq!(m.graph().nodes.len(), 2, "{:?}", m.graph());
    assert!(matches!(
        m.graph().nodes[1],
        Node::Dense { bias: Some(_), .. }
    ));
}

fn unsupported<F: FnOnce(T2) -> T2>(f: F) -> String {
    match CompiledModel::trace(3, f) {
        Err(InferenceError::UnsupportedOp { op, .. }) => op,
        other => panic!("expected UnsupportedOp, got {other:?}"),
    }
}

#[test]
fn unsupported_operations_are_named() {
    assert_eq!(unsupported(|x| x.sum_dim(0)), "NumericFloat::SumDim");
    assert_eq!(
        unsupported(|x| x.clone().matmul(x.transpose())),
        "BaseFloat::SwapDims"
    );
    assert_eq!(unsupported(|x| x.cumsum(1)), "NumericFloat::CumSum");
    let op = unsupported(|x| x.reshape([-1, 1]));
    assert_eq!(op, "BaseFloat::Reshape");
    let op = unsupported(|x| Tensor::cat(vec![x.clone(), x], 0));
    assert_eq!(op, "BaseFloat::Cat");
    // The message says what to do.
    let e = CompiledModel::trace(3, |x| x.sum_dim(0)).unwrap_err();
    assert!(e.to_string().contains("eagerly"), "{e}");
    // A batch-dependent constant.
    let e = CompiledModel::trace(3, |x| {
        let rows = x.dims()[0];
        let ramp = Tensor::<Tracer, 1, burn::tensor::Int>::arange(0..rows as i64, &dev())
            .float()
            .unsqueeze_dim::<2>(1);
        x + ramp
    })
    .unwrap_err();
    assert!(matches!(e, InferenceError::UnsupportedOp { .. }), "{e}");
}

#[test]
fn dead_code_in_the_forward_pass_is_ignored() {
    let l1 = lin(3, 4);
    let m = check(
        3,
        |x| {
            let _unused = x.clone().sum_dim(0); // unsupported, but the output does not need it
            l1.forward(x)
        },
        "dead code",
    );
    assert_eq!(m.graph().nodes.len(), 2);
}
