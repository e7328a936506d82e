//! A training run whose loss turns non-finite stops cleanly: the trainer returns the last
//! parameters with a finite loss and a message naming the step and the loss term.

use burn::backend::Autodiff;
use burn::tensor::{Tensor, backend::Backend};
use burn_ndarray::NdArray;
use pinn_jit::pinn::{
    AnsatzBatch, BoxDomain, Jet, JetSpec, PinnError, PinnMlp, PinnMlpConfig, PinnProblem, Points,
    TrainConfig, Trainer, flatten_params, linspace,
};

type AD = Autodiff<NdArray<f64>>;

/// `u = N(x, t)`, residual `sqrt(u + offset)`: minimising its square drives `u` down past
/// `−offset`, where the square root (and so the loss) becomes NaN.
struct SqrtTrap {
    offset: f64,
}

impl PinnProblem for SqrtTrap {
    fn name(&self) -> &'static str {
        "sqrt-trap"
    }
    fn input_names(&self) -> &'static [&'static str] {
        &["x", "t"]
    }
    fn domain(&self) -> BoxDomain {
        BoxDomain::new(vec![0.0, 0.0], vec![1.0, 1.0]).unwrap()
    }
    fn spec(&self) -> JetSpec {
        JetSpec::new(2)
    }
    fn ansatz<B: Backend>(&self, c: &[Jet<B>]) -> (Jet<B>, Jet<B>) {
        let zero = c[0].clone().mul_scalar(0.0);
        (zero.clone(), zero.add_scalar(1.0))
    }
    fn residual<B: Backend>(
        &self,
        u: &Jet<B>,
        _q: Tensor<B, 2>,
    ) -> Result<Tensor<B, 2>, PinnError> {
        Ok(u.value().add_scalar(self.offset).sqrt())
    }
    fn reference(&self, grid: &Points) -> Vec<f64> {
        grid.map(|_| 0.0)
    }
    fn test_axes(&self) -> (Vec<f64>, Vec<f64>) {
        (linspace(0.0, 1.0, 3), linspace(0.0, 1.0, 3))
    }
}

fn model() -> PinnMlp<AD> {
    PinnMlpConfig::new(2, 1, vec![8])
        .init::<AD>(3, &Default::default())
        .unwrap()
}

fn config(adam_steps: usize) -> TrainConfig {
    TrainConfig::new()
        .with_n_collocation(64)
        .with_adam_steps(adam_steps)
        .with_lr(0.005)
        .with_lr_final_factor(1.0)
        .with_lbfgs_iters(0)
        .with_quiet(true)
}

#[test]
fn adam_stops_on_nan_and_keeps_the_last_finite_parameters() {
    let problem = SqrtTrap { offset: 2.0 };
    let device = Default::default();
    let (kept, report) = Trainer::new(&problem, config(2000))
        .train(model(), &device)
        .unwrap();
    let msg = report
        .non_finite
        .clone()
        .expect("the loss should have turned NaN");
    let good = report.adam_steps;
    assert!((1..2000).contains(&good), "stopped after {good} steps");
    // the loss of Adam step k is that of the parameters after k − 1 updates: the NaN came
    // at step good + 2, the last finite loss at step good + 1
    assert!(msg.contains(&format!("Adam step {} ", good + 2)), "{msg}");
    assert!(msg.contains("pde loss") && msg.contains("NaN"), "{msg}");
    assert!(report.final_loss.is_finite(), "{}", report.final_loss);

    // the kept parameters are exactly those after `good` Adam steps of the same run
    let (again, again_report) = Trainer::new(&problem, config(good))
        .train(model(), &device)
        .unwrap();
    assert!(again_report.non_finite.is_none());
    assert_eq!(flatten_params(&kept), flatten_params(&again));

    // Adam ending right after the update that made the loss NaN: the check before L-BFGS
    // keeps the same parameters
    let (late, late_report) = Trainer::new(&problem, config(good + 1))
        .train(model(), &device)
        .unwrap();
    let late_msg = late_report.non_finite.expect("the last update gave NaN");
    assert!(
        late_msg.contains(&format!("Adam step {} ", good + 2)),
        "{late_msg}"
    );
    assert_eq!(late_report.adam_steps, good);
    assert_eq!(late_report.final_loss, report.final_loss);
    assert_eq!(flatten_params(&late), flatten_params(&kept));

    // and their loss is finite and is the reported one
    let points = problem.domain().sample(
        64,
        pinn_jit::pinn::Sampling::LatinHypercube,
        &mut pinn_jit::pinn::Rng::new(0),
    );
    let batch = AnsatzBatch::<AD>::new(&problem, &points, &device).unwrap();
    let loss: f64 = batch
        .residual(&problem, &kept)
        .unwrap()
        .square()
        .mean()
        .into_scalar();
    assert!(loss.is_finite());
    assert!(
        (loss - report.final_loss).abs() <= 1e-12 * loss.abs().max(1.0),
        "{loss}"
    );
}

#[test]
fn non_finite_initial_loss_is_a_typed_error() {
    // sqrt(u − 5) is NaN at the start: there are no finite parameters to keep
    let problem = SqrtTrap { offset: -5.0 };
    let err = Trainer::new(&problem, config(10))
        .train(model(), &Default::default())
        .unwrap_err();
    match err {
        PinnError::NonFinite(msg) => {
            assert!(
                msg.contains("Adam step 1") && msg.contains("initial parameters"),
                "{msg}"
            )
        }
        e => panic!("expected NonFinite, got {e}"),
    }
}

#[test]
fn lbfgs_never_moves_onto_a_non_finite_loss() {
    // L-BFGS pushes u down towards −2 as well; trial points past it have a NaN loss, which
    // the line search treats as infinitely bad, so the iterate keeps a finite loss
    let problem = SqrtTrap { offset: 2.0 };
    let device = Default::default();
    let cfg = config(0).with_lbfgs_iters(60);
    let (kept, report) = Trainer::new(&problem, cfg).train(model(), &device).unwrap();
    assert!(report.lbfgs_iters > 0);
    assert!(report.final_loss.is_finite(), "{}", report.final_loss);
    assert!(
        report.final_loss < report_initial(&problem),
        "{}",
        report.final_loss
    );
    assert!(flatten_params(&kept).iter().all(|v| v.is_finite()));
}

/// The loss of the initial model on the trainer's first point set.
fn report_initial(problem: &SqrtTrap) -> f64 {
    let device = Default::default();
    let points = problem.domain().sample(
        64,
        pinn_jit::pinn::Sampling::LatinHypercube,
        &mut pinn_jit::pinn::Rng::new(0),
    );
    let batch = AnsatzBatch::<AD>::new(problem, &points, &device).unwrap();
    batch
        .residual(problem, &model())
        .unwrap()
        .square()
        .mean()
        .into_scalar()
}
