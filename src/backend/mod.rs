//! Burn glue: the two backends pinn-jit defines and the device they share.
//!
//! - [`PinnJitBackend`] (in [`jit`]) is what users write: it records every operation through
//!   burn-fusion so that element-wise chains can be compiled. It wraps
//!   `burn_fusion::Fusion<PinnCpu>`, forwarding each operation, and replaces the handful that
//!   burn-fusion 0.21 cannot record (boolean scalars).
//! - [`PinnCpu`] (in [`eager`]) runs every operation that is not compiled, on burn-flex.

mod device;
pub mod eager;
pub mod jit;

pub use device::PinnJitDevice;
pub use eager::{PinnCpu, PinnHandle};
pub use jit::PinnJitBackend;
