//! Transactions of [`PinnCpu`]: Burn's default, which reads each tensor in turn (burn-flex has
//! nothing faster to offer on the CPU).

use burn_backend::ops::TransactionOps;

use crate::backend::eager::PinnCpu;

impl TransactionOps<Self> for PinnCpu {}
