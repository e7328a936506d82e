//! The operation traits of [`PinnCpu`](super::PinnCpu), one file per Burn trait.

mod activation;
mod bool;
mod float;
mod int;
mod module;
mod qtensor;
mod transaction;
