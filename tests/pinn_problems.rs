//! Smoke training runs of every example problem (a few Adam steps and L-BFGS iterations on
//! a small network) asserting that the loss goes down, plus the trainer's plumbing.

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn_flex::Flex;
use burn_ndarray::NdArray;
use pinn_jit::pinn::problems::{Burgers, Heat, Helmholtz, Wave};
use pinn_jit::pinn::{
    Activation, AnsatzBatch, PinnMlpConfig, PinnProblem, TrainConfig, Trainer, predict, rel_l2,
};

type AD = Autodiff<NdArray<f64>>;

/// `resample`: exercise RAD resampling too (the initial and final losses are then measured on
/// different point sets, so only problems whose loss drops far enough use it).
/// The final loss must be below `max_ratio` times the initial one.
fn smoke<P: PinnProblem>(problem: &P, activation: Activation, resample: bool, max_ratio: f64) {
    let device = Default::default();
    let dom = problem.domain();
    let model = PinnMlpConfig::new(2, 1, vec![16, 16])
        .with_activation(activation)
        .with_input_bounds(Some((dom.lower().to_vec(), dom.upper().to_vec())))
        .init::<AD>(1, &device)
        .unwrap();
    let cfg = TrainConfig::new()
        .with_n_collocation(256)
        .with_adam_steps(60)
        .with_lr(5e-3)
        .with_resample_every(if resample { 30 } else { 0 })
        .with_lbfgs_iters(20)
        .with_lbfgs_resample_every(if resample { 10 } else { 0 })
        .with_log_every(20)
        .with_quiet(true);
    let (model, report) = Trainer::new(problem, cfg).train(model, &device).unwrap();
    assert_eq!(report.adam_steps, 60);
    assert!(report.lbfgs_iters > 0);
    assert!(
        report.final_loss < max_ratio * report.initial_loss,
        "{}: loss {} -> {}",
        problem.name(),
        report.initial_loss,
        report.final_loss
    );
    // the hard-constrained prediction is finite on the test grid and the error is defined
    let grid = problem.test_grid();
    let pred = predict(problem, &model.valid(), &grid, &device).unwrap();
    let err = rel_l2(&pred, &problem.reference(&grid));
    assert!(err.is_finite() && pred.len() == grid.len());
    assert!(report.lines.iter().any(|l| l.contains("steps/s")));
}

#[test]
fn burgers_smoke_training_reduces_the_loss() {
    smoke(&Burgers::default(), Activation::Tanh, false, 0.5);
}

#[test]
fn heat_smoke_training_reduces_the_loss() {
    smoke(&Heat::default(), Activation::Tanh, true, 0.5);
}

#[test]
fn wave_smoke_training_reduces_the_loss() {
    smoke(&Wave::default(), Activation::Tanh, true, 0.5);
}

#[test]
fn helmholtz_smoke_training_reduces_the_loss() {
    smoke(&Helmholtz::default(), Activation::Sin, false, 0.9);
}

#[test]
fn hard_constraints_hold_exactly() {
    // the ansatz satisfies the initial and boundary conditions whatever the network
    let device = Default::default();
    let problem = Burgers::default();
    let model = PinnMlpConfig::new(2, 1, vec![8])
        .init::<Flex>(4, &device)
        .unwrap();
    let pts = pinn_jit::pinn::Points::new(vec![-1.0, 0.3, 1.0, 0.8, 0.5, 0.0], 2).unwrap();
    let u = predict(&problem, &model, &pts, &device).unwrap();
    assert!(u[0].abs() < 1e-6 && u[1].abs() < 1e-6);
    assert!((u[2] + 1.0).abs() < 1e-6);
    // and the residual at a point is what the formula gives from the jets
    let batch = AnsatzBatch::<Flex>::new(&problem, &pts, &device).unwrap();
    let r = batch.residual(&problem, &model).unwrap();
    assert_eq!(r.dims(), [3, 1]);
}

/// The d'Alembert reference solves the wave problem's own residual: its jet
/// `u = sin(πx) cos(πt) + ½ sin(3πx) cos(3πt)` gives `u_tt − c² u_xx ≈ 0`, and it equals
/// `Wave::reference` at the same points.
#[test]
fn wave_reference_satisfies_the_problem_residual() {
    use pinn_jit::pinn::{Points, Rng, Sampling, coordinate_jets};
    let problem = Wave::default();
    let device = Default::default();
    let points = problem
        .domain()
        .sample(64, Sampling::Uniform, &mut Rng::new(7));
    let x = points.to_tensor::<NdArray<f64>>(&device);
    let c = coordinate_jets(&x, &problem.spec()).unwrap();
    let pi = std::f64::consts::PI;
    let cos = |j: pinn_jit::pinn::Jet<NdArray<f64>>, k: f64| {
        j.mul_scalar(k * pi).add_scalar(pi / 2.0).sin()
    };
    let mode = |k: f64| c[0].clone().mul_scalar(k * pi).sin() * cos(c[1].clone(), k);
    let u = mode(1.0) + mode(3.0).mul_scalar(0.5);
    let q = Points::new(vec![0.0; points.len()], 1)
        .unwrap()
        .to_tensor::<NdArray<f64>>(&device);
    let r: Vec<f64> = problem
        .residual(&u, q)
        .unwrap()
        .into_data()
        .to_vec()
        .unwrap();
    let max_r = r.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(max_r < 1e-10, "residual of the exact solution: {max_r}");
    let values: Vec<f64> = u.value().into_data().to_vec().unwrap();
    let reference = problem.reference(&points);
    for (v, e) in values.iter().zip(&reference) {
        assert!((v - e).abs() < 1e-12, "{v} vs {e}");
    }
}
