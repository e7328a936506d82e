//! The operation traits of [`PinnJitBackend`](super::PinnJitBackend), one file per Burn trait.

mod activation;
mod bool;
mod float;
mod int;
mod module;
mod qtensor;
mod transaction;
