//! Transactions of [`PinnJitBackend`]: Burn's default, reading each tensor in turn. burn-fusion's
//! own batched version panics on quantized tensors.

use burn_backend::ops::TransactionOps;

use crate::backend::jit::PinnJitBackend;

impl TransactionOps<Self> for PinnJitBackend {}
