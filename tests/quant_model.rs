//! `QuantizedMlp`, calibration, mixed precision and fake quantization against Burn: an
//! all-`f32` plan reproduces `PinnMlp::forward`, weight-only plans reproduce the `PinnMlp`
//! with their dequantized weights, `fake_quantize` rounds like `QuantMatrix` and passes
//! gradients straight through.

use burn::backend::Autodiff;
use burn::nn::LinearConfig;
use burn::tensor::{Tensor, TensorData};
use burn_flex::Flex;
use pinn_jit::pinn::problems::Burgers;
use pinn_jit::pinn::{Activation, FourierConfig, PinnMlp, PinnMlpConfig};
use pinn_jit::quant::{
    ActQuant, Granularity, LayerPlan, QatConfig, QuantError, QuantMatrix, QuantizedMlp,
    WeightFormat, choose_mixed, fake_quantize, fp32_plan, qat_finetune, rel_l2_f32, uniform_plan,
};

type F = Flex;

fn inputs(n: usize) -> Vec<f32> {
    (0..2 * n)
        .map(|i| {
            ((i as f32) * 0.613).sin() * if i % 2 == 0 { 1.0 } else { 0.5 } + 0.5 * (i % 2) as f32
        })
        .collect()
}

fn burn_forward(m: &PinnMlp<F>, x: &[f32], n: usize) -> Vec<f32> {
    let t = Tensor::<F, 2>::from_data(TensorData::new(x.to_vec(), [n, 2]), &Default::default());
    m.forward(t).into_data().to_vec::<f32>().unwrap()
}

fn model(residual: bool, fourier: bool, act: Activation) -> PinnMlp<F> {
    let mut cfg = PinnMlpConfig::new(2, 1, vec![12, 12, 7])
        .with_activation(act)
        .with_residual(residual)
        .with_input_bounds(Some((vec![-1.0, 0.0], vec![1.0, 1.0])));
    if fourier {
        cfg = cfg.with_fourier(Some(FourierConfig::new(5)));
    }
    cfg.init::<F>(3, &Default::default()).unwrap()
}

#[test]
fn fp32_plan_reproduces_burn_forward() {
    let n = 37;
    let x = inputs(n);
    for act in Activation::ALL {
        for (res, four) in [(false, false), (true, false), (false, true)] {
            let m = model(res, four, act);
            let q = QuantizedMlp::from_pinn_mlp(&m, &fp32_plan(4)).unwrap();
            let d = rel_l2_f32(&q.forward(&x, n).unwrap(), &burn_forward(&m, &x, n));
            assert!(d < 2e-6, "{act} residual={res} fourier={four}: {d}");
        }
    }
}

#[test]
fn weight_only_plans_equal_their_dequantized_pinn_mlp() {
    let n = 29;
    let x = inputs(n);
    let m = model(false, false, Activation::Tanh);
    for f in [
        WeightFormat::F16,
        WeightFormat::Int8(Granularity::PerChannel),
        WeightFormat::Int4(Granularity::PerBlock(5)),
        WeightFormat::Int4(Granularity::PerTensor),
    ] {
        let q = QuantizedMlp::from_pinn_mlp(&m, &[LayerPlan::weight_only(f); 4]).unwrap();
        let deq: PinnMlp<F> = q.to_pinn_mlp(&Default::default());
        let d = rel_l2_f32(&q.forward(&x, n).unwrap(), &burn_forward(&deq, &x, n));
        assert!(d < 2e-6, "{f:?}: {d}");
        // and it really is a different (quantized) network
        let d0 = rel_l2_f32(&q.forward(&x, n).unwrap(), &burn_forward(&m, &x, n));
        assert!(d0 > 0.0, "{f:?}");
    }
}

#[test]
fn errors_are_typed_and_say_what_to_do() {
    let m = model(false, false, Activation::Tanh);
    let e = QuantizedMlp::from_pinn_mlp(&m, &fp32_plan(3)).unwrap_err();
    assert!(matches!(e, QuantError::InvalidConfig(_)));
    assert!(e.to_string().contains("one LayerPlan per layer"), "{e}");
    let bad = LayerPlan {
        weights: WeightFormat::F16,
        activations: ActQuant::Dynamic,
    };
    let e = QuantizedMlp::from_pinn_mlp(&m, &[bad; 4]).unwrap_err();
    assert!(matches!(e, QuantError::UnsupportedScheme(_)), "{e}");
    let st = LayerPlan {
        weights: WeightFormat::Int8(Granularity::PerChannel),
        activations: ActQuant::Static,
    };
    let q = QuantizedMlp::from_pinn_mlp(&m, &[st; 4]).unwrap();
    let e = q.forward(&inputs(2), 2).unwrap_err();
    assert_eq!(e, QuantError::NotCalibrated { layer: 0 });
    assert!(e.to_string().contains("calibrate"));
    let e = q.forward(&[1.0, 2.0, 3.0], 2).unwrap_err();
    assert!(matches!(e, QuantError::ShapeMismatch { .. }));
    let mut q = q;
    assert!(matches!(q.calibrate(&[], 0), Err(QuantError::Empty { .. })));
}

#[test]
fn calibration_sets_static_scales_from_sample_ranges() {
    let n = 64;
    let x = inputs(n);
    let m = model(false, false, Activation::Tanh);
    let st = LayerPlan {
        weights: WeightFormat::Int8(Granularity::PerChannel),
        activations: ActQuant::Static,
    };
    let mut q = QuantizedMlp::from_pinn_mlp(&m, &[st; 4]).unwrap();
    q.calibrate(&x, n).unwrap();
    // layer 0 sees the normalised inputs x·scale + shift
    let amax = x
        .chunks(2)
        .flat_map(|p| {
            [
                p[0] * q.scale[0] + q.shift[0],
                p[1] * q.scale[1] + q.shift[1],
            ]
        })
        .fold(0.0f32, |a, v| a.max(v.abs()));
    assert_eq!(q.layers[0].act_scale, Some(amax / 127.0));
    // hidden layers see tanh outputs
    for l in &q.layers[1..] {
        let s = l.act_scale.unwrap();
        assert!(s > 0.0 && s <= 1.0 / 127.0, "{s}");
    }
    let ref32 = QuantizedMlp::from_pinn_mlp(&m, &fp32_plan(4))
        .unwrap()
        .forward(&x, n)
        .unwrap();
    let d_static = rel_l2_f32(&q.forward(&x, n).unwrap(), &ref32);
    let dy = LayerPlan {
        activations: ActQuant::Dynamic,
        ..st
    };
    let qd = QuantizedMlp::from_pinn_mlp(&m, &uniform_plan(4, dy, true)).unwrap();
    assert_eq!(qd.layers[0].plan.activations, ActQuant::Float);
    let d_dyn = rel_l2_f32(&qd.forward(&x, n).unwrap(), &ref32);
    assert!(d_static < 0.05 && d_dyn < 0.05, "{d_static} {d_dyn}");
}

#[test]
fn linear_stack_quantizes_like_the_burn_stack() {
    let device = Default::default();
    let layers = vec![
        LinearConfig::new(3, 9).init::<F>(&device),
        LinearConfig::new(9, 2).init::<F>(&device),
    ];
    let n = 11;
    let x: Vec<f32> = (0..3 * n).map(|i| (i as f32 * 0.3).cos()).collect();
    let q = QuantizedMlp::from_linear_stack(&layers, Activation::Sin, &fp32_plan(2)).unwrap();
    let t = Tensor::<F, 2>::from_data(TensorData::new(x.clone(), [n, 3]), &device);
    let r = layers[1]
        .forward(layers[0].forward(t).sin())
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    assert!(rel_l2_f32(&q.forward(&x, n).unwrap(), &r) < 2e-6);
    assert_eq!(q.d_output(), 2);
}

#[test]
fn mixed_precision_respects_the_budget() {
    let n = 128;
    let x = inputs(n);
    let m = model(false, false, Activation::Tanh);
    let ladder = [
        LayerPlan::weight_only(WeightFormat::Int4(Granularity::PerChannel)),
        LayerPlan::weight_only(WeightFormat::Int8(Granularity::PerChannel)),
        LayerPlan::weight_only(WeightFormat::F16),
    ];
    let loose = choose_mixed(&m, &ladder, 1.0, &x, n).unwrap();
    assert!(loose.plan.iter().all(|p| *p == ladder[0]));
    let tight = choose_mixed(&m, &ladder, 0.0, &x, n).unwrap();
    assert!(tight.plan.iter().all(|p| *p == ladder[2]));
    let mid = choose_mixed(&m, &ladder, 0.01, &x, n).unwrap();
    assert!(mid.error <= 0.01, "{}", mid.error);
    assert_eq!(mid.sensitivity.len(), 3);
    assert!(mid.sensitivity.iter().all(|s| s.len() == 4));
    assert!(choose_mixed(&m, &[], 0.1, &x, n).is_err());
}

#[test]
fn fake_quantize_rounds_like_quant_matrix() {
    let device = Default::default();
    for (d_in, d_out) in [(7usize, 5usize), (16, 3), (1, 4)] {
        let w: Vec<f32> = (0..d_in * d_out)
            .map(|i| ((i * 7919 % 101) as f32 / 50.0 - 1.0) * 0.8)
            .collect();
        for f in [
            WeightFormat::Int8(Granularity::PerTensor),
            WeightFormat::Int8(Granularity::PerChannel),
            WeightFormat::Int4(Granularity::PerChannel),
            WeightFormat::Int4(Granularity::PerBlock(3)),
            WeightFormat::Int4(Granularity::PerBlock(4)),
        ] {
            let t = Tensor::<F, 2>::from_data(TensorData::new(w.clone(), [d_in, d_out]), &device);
            let fq = fake_quantize(t, f)
                .unwrap()
                .into_data()
                .to_vec::<f32>()
                .unwrap();
            let r = QuantMatrix::from_linear_weight(&w, d_in, d_out, f, "w")
                .unwrap()
                .dequantize_linear_weight();
            for (a, b) in fq.iter().zip(&r) {
                assert!(
                    (a - b).abs() <= 1e-6 * b.abs().max(1e-3),
                    "{f:?} {d_in}x{d_out}: {a} vs {b}"
                );
            }
        }
    }
    let z = Tensor::<F, 2>::zeros([3, 2], &device);
    let fz = fake_quantize(z, WeightFormat::Int4(Granularity::PerChannel)).unwrap();
    assert!(
        fz.into_data()
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .all(|&v| v == 0.0)
    );
}

#[test]
fn fake_quantize_passes_gradients_straight_through() {
    type A = Autodiff<F>;
    let device = Default::default();
    let w = Tensor::<A, 2>::from_data(
        TensorData::new(vec![0.3f32, -0.7, 0.11, 0.9, -0.2, 0.05], [3, 2]),
        &device,
    )
    .require_grad();
    let c = Tensor::<A, 2>::from_data(
        TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2]),
        &device,
    );
    let loss =
        (fake_quantize(w.clone(), WeightFormat::Int4(Granularity::PerChannel)).unwrap() * c).sum();
    let g = w
        .grad(&loss.backward())
        .unwrap()
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(g, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn qat_runs_and_lowers_its_loss() {
    type A = Autodiff<F>;
    let device = Default::default();
    let m = PinnMlpConfig::new(2, 1, vec![8, 8])
        .with_input_bounds(Some((vec![-1.0, 0.0], vec![1.0, 1.0])))
        .init::<A>(1, &device)
        .unwrap();
    let plan = vec![LayerPlan::weight_only(WeightFormat::Int4(Granularity::PerTensor)); 3];
    let cfg = QatConfig::new()
        .with_steps(25)
        .with_n_points(128)
        .with_lr(3e-3);
    let (_, rep) = qat_finetune(&Burgers::default(), m, &plan, &cfg, &device).unwrap();
    assert_eq!(rep.steps, 25);
    assert!(
        rep.final_loss.is_finite() && rep.final_loss < rep.initial_loss,
        "{rep:?}"
    );
}
