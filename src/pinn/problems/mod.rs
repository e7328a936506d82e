//! The benchmark problems of the example solvers, as [`PinnProblem`](super::PinnProblem)s.

mod burgers;

pub use burgers::Burgers;
