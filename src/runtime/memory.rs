//! Keeping freed tensor buffers in the process (glibc), an opt-in for training programs.
//!
//! A training step allocates and frees the same multi-megabyte buffers every step. With glibc's
//! defaults, blocks above the (dynamic) mmap threshold are `munmap`ped when freed and the heap
//! top is trimmed, so every step page-faults its working set back in. Measured on this
//! project's benchmarks: the default Burgers step page-faulted ~25 000 times per step (2×
//! slower), and `fusion_bench`'s MLP forward+backward on `PinnJitBackend` took 10–14 ms instead
//! of 6 ms. [`keep_freed_memory`] raises the mmap threshold to glibc's maximum (32 MiB),
//! disables trimming and pads heap growth, so those pages stay mapped for reuse.
//!
//! It changes process-wide allocator settings, which is why the backend does not do it on its
//! own: call it once at the start of a program (the PINN examples do, unless
//! `PINN_MALLOC_DEFAULTS` is set). The cost is memory the process keeps after its peak.

/// Tunes glibc's allocator to keep freed buffers mapped (see the module documentation).
/// Returns whether the settings were applied: `false` outside glibc (other allocators do not
/// unmap eagerly) or if glibc refused a value.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn keep_freed_memory() -> bool {
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_TOP_PAD: i32 = -2;
    const M_MMAP_THRESHOLD: i32 = -3;
    // SAFETY: mallopt only changes allocator tuning parameters (it takes no pointers), may be
    // called at any time from any thread, and every value is within glibc's accepted range
    // (the mmap threshold's maximum is 32 MiB on 64-bit targets); it reports failure with 0.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1
            && mallopt(M_TRIM_THRESHOLD, i32::MAX) == 1
            && mallopt(M_TOP_PAD, 256 << 20) == 1
    }
}

/// Outside glibc there is nothing to tune.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_freed_memory() -> bool {
    false
}
