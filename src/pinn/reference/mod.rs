//! Reference solutions computed in the repository (no downloads): the Cole–Hopf solution of
//! viscous Burgers by Gauss–Hermite quadrature, and closed-form solutions of the heat, wave
//! and Helmholtz test problems.

mod analytic;
mod burgers;
mod quadrature;

pub use analytic::{HeatSeries, HelmholtzExact, WaveDAlembert};
pub use burgers::BurgersColeHopf;
pub use quadrature::gauss_hermite;
