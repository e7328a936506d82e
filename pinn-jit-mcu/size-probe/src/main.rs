//! Parse and run the exported Burgers model once, the way firmware would. `black_box` keeps
//! the compiler from evaluating anything at build time, so the binary holds the whole runtime.
//! The panic handler is required by `no_std` binaries; the runtime has no panic path, which
//! `nm` confirms (no `panic` symbol in the linked binary).

#![no_std]
#![no_main]

use core::hint::black_box;

use pinn_jit_mcu::Model;

/// Written by `cargo run --release --example mcu_export -- --out pinn-jit-mcu/size-probe`.
static MODEL: &[u8] = include_bytes!("../burgers_fp32.pjmc");

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// The reset handler: one inference into a stack buffer, then idle.
#[unsafe(no_mangle)]
pub extern "C" fn Reset() -> ! {
    let mut buffer = [0.0f32; 256];
    let mut u = [0.0f32; 1];
    let x = black_box([0.25f32, 0.5]);
    let result = Model::parse(black_box(MODEL)).and_then(|m| m.infer(&x, &mut u, &mut buffer));
    let _ = black_box((result, u));
    loop {
        core::hint::spin_loop();
    }
}
