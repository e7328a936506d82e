//! The fusion server's own worker pool: compiled kernels and GEMMs split their work across the
//! server thread itself and `n − 1` helpers.
//!
//! Every operation of `PinnJitBackend` executes on burn-fusion's server thread. A parallel
//! kernel or GEMM started there on rayon's global pool hands its halves to two pool threads and
//! puts the server thread to sleep until they finish: a futex wake-up and a sleep per launch,
//! and on a 2-core machine three runnable threads for two cores. [`adopt`] instead makes the
//! server thread worker 0 of a pool of its own (rayon's `use_current_thread`), so `rayon::scope`
//! and the GEMM's rayon parallelism run one share on the server thread and hand only the others
//! over. The pool lives as long as the process (rayon leaks a pool that uses its builder's
//! thread); it is built once, by a task the first operation on a device enqueues on that
//! device's server thread. Results are unchanged: the same chunks run, on different threads.
//! `PINN_JIT_SERVER_POOL=0` keeps rayon's global pool (for comparisons).

use std::cell::Cell;

thread_local! {
    /// Whether this thread already tried to become worker 0 of its own pool.
    static ADOPTED: Cell<bool> = const { Cell::new(false) };
}

/// Name prefix of the fusion server's helper threads.
pub const SERVER_POOL: &str = "pinn-jit-pool";

fn enabled() -> bool {
    std::env::var("PINN_JIT_SERVER_POOL").map_or(true, |v| v != "0")
}

/// Makes the calling thread worker 0 of a new rayon pool of the default size, unless it is
/// already a worker of some pool, already tried, or the pool is switched off. The helper
/// threads are named `<name>-<index>`. Returns whether the thread is now a pool worker of its
/// own.
pub fn adopt(name: &'static str) -> bool {
    if ADOPTED.with(|a| a.replace(true)) || rayon::current_thread_index().is_some() || !enabled() {
        return false;
    }
    let built = rayon::ThreadPoolBuilder::new()
        .thread_name(move |i| format!("{name}-{i}"))
        .use_current_thread()
        .build();
    match built {
        // The registry stays alive with this thread as its worker 0 (see the module docs);
        // dropping the handle does not detach the thread.
        Ok(pool) => {
            std::mem::forget(pool);
            true
        }
        // No pool (threads could not be spawned): parallel work keeps using the global pool.
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adopted_thread_is_worker_zero_and_runs_scopes_with_helpers() {
        let h = std::thread::spawn(|| {
            let first = adopt("pinn-jit-test");
            let index = rayon::current_thread_index();
            let threads = rayon::current_num_threads();
            let again = adopt("pinn-jit-test");
            // A scope's spawned jobs all run, whichever worker takes them.
            let hits = std::sync::atomic::AtomicUsize::new(0);
            rayon::scope(|s| {
                for _ in 0..64 {
                    s.spawn(|_| {
                        hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    });
                }
            });
            (first, index, threads, again, hits.into_inner())
        });
        let (first, index, threads, again, hits) = h.join().expect("thread");
        if enabled() {
            assert!(first, "the thread did not become a pool worker");
            assert_eq!(index, Some(0));
            assert!(threads >= 1);
        }
        assert!(!again, "a second adopt must not build a second pool");
        assert_eq!(hits, 64);
    }

    #[test]
    fn a_pool_worker_never_adopts_another_pool() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool");
        assert!(!pool.install(|| adopt("pinn-jit-test")));
    }

    /// After a tensor operation on `PinnJitBackend`, the fusion server has built its pool: its
    /// helper threads exist under their own name. (Needs 2+ threads in rayon's default size.)
    #[cfg(target_os = "linux")]
    #[test]
    fn the_fusion_server_thread_builds_its_pool() {
        use burn::tensor::Tensor;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if !enabled() || cores < 2 || std::env::var("RAYON_NUM_THREADS").is_ok() {
            return;
        }
        let x = Tensor::<crate::PinnJitBackend, 1>::ones([4], &Default::default());
        let sum: f32 = (x * 2.0).sum().into_scalar();
        assert_eq!(sum, 8.0);
        let names: Vec<String> = std::fs::read_dir("/proc/self/task")
            .expect("/proc/self/task")
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with(SERVER_POOL)),
            "no pool helper thread among {names:?}"
        );
    }
}
