//! Exactness of the jet derivatives: against analytic formulas and high-order finite
//! differences, in f64 (1e-8) and f32 (1e-4), on NdArray and Flex, for every activation,
//! Fourier features, residual connections and user `Linear` stacks; and the weight gradient
//! that Autodiff computes through a jet-based PDE loss.

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::nn::LinearConfig;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use burn_flex::Flex;
use burn_ndarray::NdArray;
use pinn_jit::pinn::{
    Activation, FourierConfig, Jet, JetSpec, PinnError, PinnMlp, PinnMlpConfig, flatten_grads,
    flatten_params, linear_stack_jet, load_params,
};

type F64 = NdArray<f64>;

const POINTS: [[f64; 2]; 4] = [[0.3, 0.7], [-0.45, 0.1], [0.9, -0.6], [0.0, 0.25]];

fn to_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    t.into_data().convert::<f64>().to_vec::<f64>().unwrap()
}

fn points<B: Backend>(device: &B::Device) -> Tensor<B, 2> {
    let flat: Vec<f64> = POINTS.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [POINTS.len(), 2]), device)
}

/// Scalar network output at one point, in f64.
fn eval(model: &PinnMlp<F64>, p: [f64; 2]) -> f64 {
    let x = Tensor::<F64, 2>::from_data(TensorData::new(p.to_vec(), [1, 2]), &Default::default());
    to_vec(model.forward(x))[0]
}

/// Fourth-order central differences: (u_x, u_t, u_xx, u_xt, u_tt) at `p`.
fn finite_differences(model: &PinnMlp<F64>, p: [f64; 2]) -> [f64; 5] {
    let f = |dx: f64, dt: f64| eval(model, [p[0] + dx, p[1] + dt]);
    // h⁴ truncation stays below 1e-10 for the Fourier-feature networks while the round-off
    // of the second-derivative stencils stays near 1e-9
    let h = 5e-4;
    let d1 = |e: [f64; 2]| {
        (-f(2.0 * h * e[0], 2.0 * h * e[1]) + 8.0 * f(h * e[0], h * e[1])
            - 8.0 * f(-h * e[0], -h * e[1])
            + f(-2.0 * h * e[0], -2.0 * h * e[1]))
            / (12.0 * h)
    };
    let d2 = |e: [f64; 2]| {
        (-f(2.0 * h * e[0], 2.0 * h * e[1]) + 16.0 * f(h * e[0], h * e[1]) - 30.0 * f(0.0, 0.0)
            + 16.0 * f(-h * e[0], -h * e[1])
            - f(-2.0 * h * e[0], -2.0 * h * e[1]))
            / (12.0 * h * h)
    };
    // mixed derivative: the fourth-order first-derivative stencil applied in x and then in t
    let c = [(2.0, -1.0), (1.0, 8.0), (-1.0, -8.0), (-2.0, 1.0)];
    let mix = c
        .iter()
        .flat_map(|&(a, wa)| c.iter().map(move |&(b, wb)| (a, wa, b, wb)))
        .map(|(a, wa, b, wb)| wa * wb * f(a * h, b * h))
        .sum::<f64>()
        / (144.0 * h * h);
    [
        d1([1.0, 0.0]),
        d1([0.0, 1.0]),
        d2([1.0, 0.0]),
        mix,
        d2([0.0, 1.0]),
    ]
}

fn jet_derivatives<B: Backend>(model: &PinnMlp<B>, device: &B::Device) -> Vec<[f64; 5]> {
    let spec = JetSpec::new(2).with_hessian();
    let jet = model.forward_jet(points::<B>(device), &spec).unwrap();
    let cols = [
        to_vec(jet.d(0)),
        to_vec(jet.d(1)),
        to_vec(jet.d2(0, 0).unwrap()),
        to_vec(jet.d2(0, 1).unwrap()),
        to_vec(jet.d2(1, 1).unwrap()),
    ];
    (0..POINTS.len())
        .map(|i| [cols[0][i], cols[1][i], cols[2][i], cols[3][i], cols[4][i]])
        .collect()
}

fn assert_close(got: f64, want: f64, rel: f64, what: &str) {
    let err = (got - want).abs() / want.abs().max(1.0);
    assert!(
        err <= rel,
        "{what}: jet {got:.12e} vs reference {want:.12e} (rel err {err:.2e})"
    );
}

fn configs() -> Vec<(String, PinnMlpConfig)> {
    let mut out: Vec<(String, PinnMlpConfig)> = Activation::ALL
        .iter()
        .map(|&a| {
            (
                a.to_string(),
                PinnMlpConfig::new(2, 1, vec![12, 12]).with_activation(a),
            )
        })
        .collect();
    out.push((
        "fourier".into(),
        PinnMlpConfig::new(2, 1, vec![10])
            .with_fourier(Some(FourierConfig::new(6).with_sigma(0.5))),
    ));
    out.push((
        "residual".into(),
        PinnMlpConfig::new(2, 1, vec![10, 10, 10]).with_residual(true),
    ));
    out.push((
        "bounds".into(),
        PinnMlpConfig::new(2, 1, vec![10, 10])
            .with_input_bounds(Some((vec![-1.0, -0.5], vec![2.0, 1.5]))),
    ));
    out.push((
        "fourier+residual+bounds".into(),
        PinnMlpConfig::new(2, 1, vec![10, 10, 10])
            .with_fourier(Some(FourierConfig::new(6).with_sigma(0.5)))
            .with_residual(true)
            .with_input_bounds(Some((vec![-1.0, -0.5], vec![2.0, 1.5]))),
    ));
    out
}

#[test]
fn f64_jets_match_finite_differences_to_1e8() {
    let device = Default::default();
    for (name, cfg) in configs() {
        let model: PinnMlp<F64> = cfg.init(3, &device).unwrap();
        let jets = jet_derivatives(&model, &device);
        for (p, jet) in POINTS.iter().zip(&jets) {
            let fd = finite_differences(&model, *p);
            for (k, label) in ["u_x", "u_t", "u_xx", "u_xt", "u_tt"].iter().enumerate() {
                assert_close(jet[k], fd[k], 1e-8, &format!("{name} {label} at {p:?}"));
            }
        }
    }
}

fn check_f32<B: Backend>(backend: &str) {
    let device = Default::default();
    for (name, cfg) in configs() {
        let model32: PinnMlp<B> = cfg.init(5, &device).unwrap();
        // the same (f32-rounded) weights in an f64 network give the reference derivatives
        let model64: PinnMlp<F64> = load_params(
            cfg.init(0, &Default::default()).unwrap(),
            &flatten_params(&model32),
        )
        .unwrap();
        let model64 = PinnMlp {
            fourier: model32
                .fourier
                .as_ref()
                .map(|f| Tensor::from_data(f.to_data().convert::<f64>(), &Default::default())),
            ..model64
        };
        let jets = jet_derivatives(&model32, &device);
        for (p, jet) in POINTS.iter().zip(&jets) {
            let fd = finite_differences(&model64, *p);
            for (k, label) in ["u_x", "u_t", "u_xx", "u_xt", "u_tt"].iter().enumerate() {
                assert_close(
                    jet[k],
                    fd[k],
                    1e-4,
                    &format!("{backend} f32 {name} {label} at {p:?}"),
                );
            }
        }
    }
}

#[test]
fn f32_jets_match_finite_differences_to_1e4_on_ndarray() {
    check_f32::<NdArray<f32>>("ndarray");
}

#[test]
fn f32_jets_match_finite_differences_to_1e4_on_flex() {
    check_f32::<Flex>("flex");
}

#[test]
fn jet_arithmetic_matches_analytic_derivatives() {
    // u(x, t) = sin(x) t² + exp(x t) + tanh(x)·cos(t)
    let device = Default::default();
    let spec = JetSpec::new(2).with_hessian();
    let x = points::<F64>(&device);
    let cx = Jet::coordinate(x.clone(), &spec, 0).unwrap();
    let ct = Jet::coordinate(x.clone(), &spec, 1).unwrap();
    let u = cx.clone().sin() * ct.clone().square()
        + (cx.clone() * ct.clone()).exp()
        + cx.clone().tanh() * ct.clone().cos()
        - cx.mul_scalar(0.5).add_scalar(1.0);
    let got = [
        to_vec(u.value()),
        to_vec(u.d(0)),
        to_vec(u.d(1)),
        to_vec(u.d2(0, 0).unwrap()),
        to_vec(u.d2(0, 1).unwrap()),
        to_vec(u.d2(1, 1).unwrap()),
    ];
    for (i, p) in POINTS.iter().enumerate() {
        let (x, t) = (p[0], p[1]);
        let (e, th) = ((x * t).exp(), x.tanh());
        let sech2 = 1.0 - th * th;
        let want = [
            x.sin() * t * t + e + th * t.cos() - 0.5 * x - 1.0,
            x.cos() * t * t + t * e + sech2 * t.cos() - 0.5,
            2.0 * t * x.sin() + x * e - th * t.sin(),
            -x.sin() * t * t + t * t * e - 2.0 * th * sech2 * t.cos(),
            2.0 * t * x.cos() + e + x * t * e - sech2 * t.sin(),
            2.0 * x.sin() + x * x * e - th * t.cos(),
        ];
        for k in 0..6 {
            assert_close(got[k][i], want[k], 1e-13, &format!("channel {k} at {p:?}"));
        }
    }
}

#[test]
fn only_requested_second_derivatives_are_carried() {
    let device = Default::default();
    let model: PinnMlp<F64> = PinnMlpConfig::new(2, 1, vec![4]).init(0, &device).unwrap();
    let spec = JetSpec::new(2).with_second(&[(0, 0)]);
    assert_eq!(spec.n_channels(), 4);
    let jet = model.forward_jet(points::<F64>(&device), &spec).unwrap();
    assert!(jet.d2(0, 0).is_ok());
    let err = jet.d2(1, 0).unwrap_err();
    assert_eq!(err, PinnError::MissingSecondDerivative { i: 1, j: 0 });
    assert!(err.to_string().contains("with_second"));
    assert!(jet.try_d(2).is_err());
    let bad = Jet::<F64>::seed(points::<F64>(&device), &JetSpec::new(3));
    assert!(matches!(bad, Err(PinnError::ShapeMismatch { .. })));
    let bad_pair = Jet::<F64>::seed(
        points::<F64>(&device),
        &JetSpec::new(2).with_second(&[(0, 2)]),
    );
    assert!(matches!(bad_pair, Err(PinnError::InputOutOfRange { .. })));
}

#[test]
fn user_linear_stack_matches_pinn_mlp() {
    // The same weights as a PinnMlp without normalisation, driven through linear_stack_jet.
    let device = Default::default();
    let model: PinnMlp<F64> = PinnMlpConfig::new(2, 1, vec![7, 5])
        .with_activation(Activation::Silu)
        .init(9, &device)
        .unwrap();
    let spec = JetSpec::new(2).with_hessian();
    let x = points::<F64>(&device);
    let a = model.forward_jet(x.clone(), &spec).unwrap();
    let b = linear_stack_jet(
        &model.layers,
        Activation::Silu,
        Jet::seed(x, &spec).unwrap(),
    );
    for (p, q) in [
        (a.d2(0, 1).unwrap(), b.d2(0, 1).unwrap()),
        (a.value(), b.value()),
    ] {
        for (u, v) in to_vec(p).iter().zip(to_vec(q)) {
            assert_close(*u, v, 1e-14, "linear_stack_jet vs PinnMlp");
        }
    }
    // and a stack built with burn's own LinearConfig (Kaiming init) against finite differences
    let layers = vec![
        LinearConfig::new(2, 6).init::<F64>(&device),
        LinearConfig::new(6, 1).init::<F64>(&device),
    ];
    let f = |p: [f64; 2]| {
        let x = Tensor::<F64, 2>::from_data(TensorData::new(p.to_vec(), [1, 2]), &device);
        let h = layers[0].forward(x).sin();
        to_vec(layers[1].forward(h))[0]
    };
    let jet = linear_stack_jet(
        &layers,
        Activation::Sin,
        Jet::seed(points::<F64>(&device), &spec).unwrap(),
    );
    let u_tt = to_vec(jet.d2(1, 1).unwrap());
    for (i, p) in POINTS.iter().enumerate() {
        let h = 1e-3;
        let fd = (-f([p[0], p[1] + 2.0 * h]) + 16.0 * f([p[0], p[1] + h]) - 30.0 * f(*p)
            + 16.0 * f([p[0], p[1] - h])
            - f([p[0], p[1] - 2.0 * h]))
            / (12.0 * h * h);
        assert_close(u_tt[i], fd, 1e-8, "burn Linear stack u_tt");
    }
}

/// The weight gradient of a jet-based Burgers residual loss, by Autodiff, against central
/// differences in the weights.
#[test]
fn autodiff_weight_gradient_of_pde_loss_matches_finite_differences() {
    type AD = Autodiff<F64>;
    let device = Default::default();
    let spec = JetSpec::new(2).with_second(&[(0, 0)]);
    let model: PinnMlp<AD> = PinnMlpConfig::new(2, 1, vec![6, 6])
        .init(2, &device)
        .unwrap();
    let loss_of = |m: &PinnMlp<AD>| {
        let u = m.forward_jet(points::<AD>(&device), &spec).unwrap();
        let r = u.d(1) + u.value() * u.d(0) - u.d2(0, 0).unwrap().mul_scalar(0.01);
        r.square().mean()
    };
    let loss = loss_of(&model);
    let grad = flatten_grads(&model, &loss.backward());
    let theta = flatten_params(&model);
    let inner = model.valid();
    let loss_inner = |th: &[f64]| {
        let m = load_params(inner.clone(), th).unwrap();
        let u = m.forward_jet(points::<F64>(&device), &spec).unwrap();
        let r = u.d(1) + u.value() * u.d(0) - u.d2(0, 0).unwrap().mul_scalar(0.01);
        to_vec(r.square().mean())[0]
    };
    for k in (0..theta.len()).step_by(7) {
        let h = 1e-6;
        let (mut p, mut m) = (theta.clone(), theta.clone());
        p[k] += h;
        m[k] -= h;
        let fd = (loss_inner(&p) - loss_inner(&m)) / (2.0 * h);
        assert!(
            (grad[k] - fd).abs() <= 1e-7 * fd.abs().max(1e-3),
            "parameter {k}: autodiff {} vs fd {fd}",
            grad[k]
        );
    }
}

#[test]
fn batched_odd_jet_matches_two_passes() {
    // N(x) − N(Rx) in one stacked pass equals the two separate passes, channel by channel,
    // and is odd in the reflected input
    let device = Default::default();
    let model: PinnMlp<F64> = PinnMlpConfig::new(2, 1, vec![8, 8])
        .with_input_bounds(Some((vec![-1.0, 0.0], vec![1.0, 1.0])))
        .init(5, &device)
        .unwrap();
    let spec = JetSpec::new(2).with_second(&[(0, 0), (0, 1)]);
    let x = points::<F64>(&device);
    let one = model.forward_jet_odd(x.clone(), &spec, 0).unwrap();
    let two = model.forward_jet(x.clone(), &spec).unwrap()
        - model.forward_jet_reflected(x.clone(), &spec, 0).unwrap();
    let channels = |j: &Jet<F64>| {
        vec![
            to_vec(j.value()),
            to_vec(j.d(0)),
            to_vec(j.d(1)),
            to_vec(j.d2(0, 0).unwrap()),
            to_vec(j.d2(0, 1).unwrap()),
        ]
    };
    for (a, b) in channels(&one).iter().zip(channels(&two)) {
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-12, "{p} vs {q}");
        }
    }
    let mirrored: Vec<f64> = POINTS.iter().flat_map(|p| [-p[0], p[1]]).collect();
    let xm = Tensor::<F64, 2>::from_data(TensorData::new(mirrored, [POINTS.len(), 2]), &device);
    let at_mirror = model.forward_jet_odd(xm, &spec, 0).unwrap();
    for (p, q) in to_vec(one.value()).iter().zip(to_vec(at_mirror.value())) {
        assert!((p + q).abs() < 1e-12, "not odd: {p} vs {q}");
    }
    assert!(model.forward_jet_odd(x, &spec, 2).is_err());
}
