//! Executing compiled kernels: the kernel cache, launching over tensor buffers, and the
//! counters behind [`crate::stats`].

pub mod cache;
pub mod launch;
pub mod layout;
pub mod memory;
pub mod pace;
pub mod pool;
pub mod stats;
