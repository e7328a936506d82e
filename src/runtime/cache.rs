//! The process-wide kernel cache: one compiled kernel per (kernel spec, layout classes).
//!
//! Specs carry no concrete sizes, so a training loop compiles each of its chains once and then
//! only looks kernels up. Failures are cached too: a chain Cranelift cannot compile is not
//! retried on every step; it runs uncompiled (see `crate::fusion`).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use crate::codegen::{self, CodegenError, CompiledKernel};
use crate::kernel::{KernelSpec, LayoutClass};
use crate::runtime::stats;

type Key = (KernelSpec, Vec<LayoutClass>);
type Entry = Result<Arc<CompiledKernel>, Arc<CodegenError>>;

fn cache() -> &'static RwLock<HashMap<Key, Entry>> {
    static CACHE: OnceLock<RwLock<HashMap<Key, Entry>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Whether `PINN_JIT_LOG` asks for each compiled chain to be printed.
fn log_enabled() -> bool {
    static LOG: OnceLock<bool> = OnceLock::new();
    *LOG.get_or_init(|| {
        std::env::var("PINN_JIT_LOG").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
    })
}

/// The compiled kernel for `spec` under `layout`, compiling it on first use.
pub fn get_or_compile(spec: &KernelSpec, layout: &[LayoutClass]) -> Entry {
    let key = (spec.clone(), layout.to_vec());
    if let Some(entry) = cache()
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&key)
    {
        stats::record_cache_hit();
        return entry.clone();
    }
    let mut map = cache()
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(entry) = map.get(&key) {
        // Another thread compiled it while we waited for the lock.
        stats::record_cache_hit();
        return entry.clone();
    }
    let start = Instant::now();
    let entry = codegen::compile(spec, layout)
        .map(Arc::new)
        .map_err(Arc::new);
    let nanos = start.elapsed().as_nanos() as u64;
    if entry.is_ok() {
        stats::record_compile(nanos);
    }
    if log_enabled() {
        match &entry {
            Ok(_) => eprintln!(
                "[pinn-jit] compiled in {:.3} ms, layout {layout:?}:\n{spec}",
                nanos as f64 / 1e6
            ),
            Err(e) => eprintln!(
                "[pinn-jit] compile failed ({e}); the chain runs uncompiled. layout {layout:?}:\n{spec}"
            ),
        }
    }
    map.insert(key, entry.clone());
    entry
}

/// Number of entries in the kernel cache (compiled kernels and remembered failures).
pub fn cached_kernels() -> usize {
    cache()
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .len()
}
