//! Fusion of element-wise chains into one compiled kernel.

mod fuser;
mod optimization;
mod translate;

pub use fuser::ElemwiseFuser;
pub use optimization::ElemwiseOptimization;
