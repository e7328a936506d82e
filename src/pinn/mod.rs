//! The PINN toolkit: exact input derivatives for physics-informed neural networks on any Burn
//! backend, plus training helpers and reference solutions.
//!
//! * [`Jet`] / [`JetSpec`]: forward-mode Taylor propagation of first and (selected) second
//!   input derivatives through `Linear` layers, element-wise activations, Fourier features and
//!   skip connections, in plain Burn tensor ops — `Autodiff` then differentiates the PDE loss
//!   with respect to the weights.
//! * [`PinnMlp`] (a Burn `Module`) and [`linear_stack_jet`] for a user's own `Linear` stack.
//! * [`BoxDomain`] samplers (uniform, Latin hypercube; seeded).

mod activation;
mod error;
mod jet;
mod mlp;
mod sampling;

pub use activation::Activation;
pub use error::PinnError;
pub use jet::{Jet, JetSpec};
pub use mlp::{FourierConfig, PinnMlp, PinnMlpConfig, glorot_linear, linear_stack_jet};
pub use sampling::{BoxDomain, Points, Rng, Sampling, linspace, tensor_grid};
mod cost;
mod lbfgs;
mod loss;
mod params;
mod problem;
pub mod problems;
mod progress;
pub mod reference;
mod train;

pub use cost::{StepCost, measure_step_cost};
pub use lbfgs::{Lbfgs, LbfgsConfig, LbfgsStatus, Objective};
pub use loss::{LossTerm, LossTerms};
pub use params::{flatten_grads, flatten_params, load_params};
pub use problem::{AnsatzBatch, PinnProblem, coordinate_jets, predict, rel_l2};
pub use progress::Progress;
pub use train::{TrainConfig, TrainReport, Trainer};
pub mod plot;
