//! Process-wide counters that say what the backend did: how many operations ran eagerly, how
//! many ran inside compiled kernels, how often kernels were compiled or found in the cache.
//!
//! ```
//! let before = pinn_jit::stats();
//! // ... run a model on PinnJitBackend ...
//! let delta = pinn_jit::stats().since(&before);
//! println!("{delta}");
//! ```

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

static EAGER_OPS: AtomicU64 = AtomicU64::new(0);
static FUSED_OPS: AtomicU64 = AtomicU64::new(0);
static KERNEL_LAUNCHES: AtomicU64 = AtomicU64::new(0);
static KERNELS_COMPILED: AtomicU64 = AtomicU64::new(0);
static CACHE_HITS: AtomicU64 = AtomicU64::new(0);
static COMPILE_NANOS: AtomicU64 = AtomicU64::new(0);
static FALLBACKS: AtomicU64 = AtomicU64::new(0);
static FALLBACK_OPS: AtomicU64 = AtomicU64::new(0);

/// A snapshot of the backend's counters (see [`stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Operations executed one by one on the eager CPU backend (burn-flex), including those of
    /// fused chains that fell back.
    pub ops_eager: u64,
    /// Operations executed inside compiled kernels.
    pub ops_in_kernels: u64,
    /// Compiled-kernel calls (one per fused chain executed).
    pub kernel_launches: u64,
    /// Kernels compiled by Cranelift.
    pub kernels_compiled: u64,
    /// Fused chains whose kernel was already compiled.
    pub cache_hits: u64,
    /// Total time spent compiling kernels, in nanoseconds.
    pub compile_nanos: u64,
    /// Fused chains that could not be compiled and ran uncompiled instead.
    pub fallbacks: u64,
    /// Operations inside those fallen-back chains.
    pub fallback_ops: u64,
}

impl Stats {
    /// All operations recorded and executed: eager plus compiled.
    pub fn ops_recorded(&self) -> u64 {
        self.ops_eager + self.ops_in_kernels
    }

    /// Share of recorded operations that ran inside compiled kernels, in `[0, 1]`.
    pub fn fused_fraction(&self) -> f64 {
        match self.ops_recorded() {
            0 => 0.0,
            n => self.ops_in_kernels as f64 / n as f64,
        }
    }

    /// The counts accumulated since an earlier snapshot.
    pub fn since(&self, earlier: &Stats) -> Stats {
        Stats {
            ops_eager: self.ops_eager - earlier.ops_eager,
            ops_in_kernels: self.ops_in_kernels - earlier.ops_in_kernels,
            kernel_launches: self.kernel_launches - earlier.kernel_launches,
            kernels_compiled: self.kernels_compiled - earlier.kernels_compiled,
            cache_hits: self.cache_hits - earlier.cache_hits,
            compile_nanos: self.compile_nanos - earlier.compile_nanos,
            fallbacks: self.fallbacks - earlier.fallbacks,
            fallback_ops: self.fallback_ops - earlier.fallback_ops,
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ops recorded {} (in kernels {}, eager {}; {:.1}% fused), kernel launches {}, \
             kernels compiled {} in {:.2} ms, cache hits {}, fallbacks {} ({} ops)",
            self.ops_recorded(),
            self.ops_in_kernels,
            self.ops_eager,
            100.0 * self.fused_fraction(),
            self.kernel_launches,
            self.kernels_compiled,
            self.compile_nanos as f64 / 1e6,
            self.cache_hits,
            self.fallbacks,
            self.fallback_ops,
        )
    }
}

/// Read the backend's counters. They are process-wide and only grow; take two snapshots and
/// use [`Stats::since`] to measure a region of code.
pub fn stats() -> Stats {
    Stats {
        ops_eager: EAGER_OPS.load(Relaxed),
        ops_in_kernels: FUSED_OPS.load(Relaxed),
        kernel_launches: KERNEL_LAUNCHES.load(Relaxed),
        kernels_compiled: KERNELS_COMPILED.load(Relaxed),
        cache_hits: CACHE_HITS.load(Relaxed),
        compile_nanos: COMPILE_NANOS.load(Relaxed),
        fallbacks: FALLBACKS.load(Relaxed),
        fallback_ops: FALLBACK_OPS.load(Relaxed),
    }
}

pub(crate) fn record_eager_op() {
    EAGER_OPS.fetch_add(1, Relaxed);
}

pub(crate) fn record_launch(ops: u64) {
    KERNEL_LAUNCHES.fetch_add(1, Relaxed);
    FUSED_OPS.fetch_add(ops, Relaxed);
}

pub(crate) fn record_compile(nanos: u64) {
    KERNELS_COMPILED.fetch_add(1, Relaxed);
    COMPILE_NANOS.fetch_add(nanos, Relaxed);
}

pub(crate) fn record_cache_hit() {
    CACHE_HITS.fetch_add(1, Relaxed);
}

pub(crate) fn record_fallback(ops: u64) {
    FALLBACKS.fetch_add(1, Relaxed);
    FALLBACK_OPS.fetch_add(ops, Relaxed);
}
