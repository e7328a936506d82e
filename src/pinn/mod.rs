//! The PINN toolkit.
