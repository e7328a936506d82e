//! `runtime::memory::keep_freed_memory` really moves multi-megabyte blocks off `mmap`: glibc's
//! `mallinfo2` counts mmapped bytes separately (`hblkhd`). Its own test binary, so that no other
//! test allocates beside it.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn multi_megabyte_blocks_come_from_the_heap_after_the_call() {
    #[repr(C)]
    #[derive(Default)]
    struct Mallinfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    unsafe extern "C" {
        fn mallinfo2() -> Mallinfo2;
    }
    // SAFETY: mallinfo2 takes no arguments and returns a plain struct of counters.
    let mapped = || unsafe { mallinfo2() }.hblkhd;
    const BLOCK: usize = 8 << 20;

    // glibc's default: a fresh 8 MiB block is mmapped.
    let before = mapped();
    let a = std::hint::black_box(vec![1u8; BLOCK]);
    assert!(
        mapped() >= before + BLOCK,
        "default glibc mmaps an 8 MiB block"
    );
    drop(a);

    // Freeing it raised glibc's dynamic threshold to 8 MiB; a 16 MiB block would still be
    // mmapped by default, but not after the call (threshold 32 MiB).
    assert!(pinn_jit::runtime::memory::keep_freed_memory());
    let before = mapped();
    let b = std::hint::black_box(vec![1u8; 2 * BLOCK]);
    assert!(
        mapped() < before + 2 * BLOCK,
        "after keep_freed_memory a 16 MiB block comes from the heap"
    );
    drop(b);
}
