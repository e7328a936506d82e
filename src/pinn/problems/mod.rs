//! The benchmark problems of the example solvers, as [`PinnProblem`](super::PinnProblem)s.

mod burgers;
mod heat;
mod helmholtz;
mod wave;

pub use burgers::Burgers;
pub use heat::Heat;
pub use helmholtz::Helmholtz;
pub use wave::Wave;
