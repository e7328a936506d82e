//! Rust functions that compiled kernels call for operations without an inline lowering.
//!
//! A callout receives an operation code and a pointer to a 32-byte, 16-aligned stack slot that
//! holds one or two vector operands (`a` in bytes 0..16, `b` in bytes 16..32); it computes every
//! lane with the interpreter's definition ([`crate::kernel::interp`]) and writes the results over
//! `a`. Results are therefore bit-exact with the interpreter.

use crate::kernel::interp;
use crate::kernel::{BinaryOp, UnaryOp};

/// Symbol names under which the callouts are registered with the JIT.
pub(crate) const UNARY_F32: &str = "pinn_jit_callout_unary_f32";
pub(crate) const UNARY_F64: &str = "pinn_jit_callout_unary_f64";
pub(crate) const BINARY_F32: &str = "pinn_jit_callout_binary_f32";
pub(crate) const BINARY_F64: &str = "pinn_jit_callout_binary_f64";

/// `lanes[i] = op(lanes[i])` for the 4 `f32` lanes at `lanes`.
///
/// # Safety
/// `lanes` must point to 16 readable and writable bytes aligned for `f32`.
pub(crate) unsafe extern "C" fn unary_f32(code: u32, lanes: *mut f32) {
    // An unknown code cannot come from generated code; do nothing rather than unwind across
    // the `extern "C"` boundary.
    let Some(&op) = UnaryOp::ALL.get(code as usize) else {
        return;
    };
    for i in 0..4 {
        // SAFETY: the caller guarantees 4 valid, aligned f32 lanes.
        unsafe {
            let p = lanes.add(i);
            p.write(interp::unary_f32(op, p.read()));
        }
    }
}

/// `lanes[i] = op(lanes[i])` for the 2 `f64` lanes at `lanes`.
///
/// # Safety
/// `lanes` must point to 16 readable and writable bytes aligned for `f64`.
pub(crate) unsafe extern "C" fn unary_f64(code: u32, lanes: *mut f64) {
    let Some(&op) = UnaryOp::ALL.get(code as usize) else {
        return;
    };
    for i in 0..2 {
        // SAFETY: the caller guarantees 2 valid, aligned f64 lanes.
        unsafe {
            let p = lanes.add(i);
            p.write(interp::unary_f64(op, p.read()));
        }
    }
}

/// `lanes[i] = op(lanes[i], lanes[4 + i])` for 4 `f32` lanes.
///
/// # Safety
/// `lanes` must point to 32 readable and writable bytes aligned for `f32`.
pub(crate) unsafe extern "C" fn binary_f32(code: u32, lanes: *mut f32) {
    let Some(&op) = BinaryOp::ALL.get(code as usize) else {
        return;
    };
    for i in 0..4 {
        // SAFETY: the caller guarantees 8 valid, aligned f32 lanes.
        unsafe {
            let p = lanes.add(i);
            p.write(interp::binary_f32(op, p.read(), lanes.add(4 + i).read()));
        }
    }
}

/// `lanes[i] = op(lanes[i], lanes[2 + i])` for 2 `f64` lanes.
///
/// # Safety
/// `lanes` must point to 32 readable and writable bytes aligned for `f64`.
pub(crate) unsafe extern "C" fn binary_f64(code: u32, lanes: *mut f64) {
    let Some(&op) = BinaryOp::ALL.get(code as usize) else {
        return;
    };
    for i in 0..2 {
        // SAFETY: the caller guarantees 4 valid, aligned f64 lanes.
        unsafe {
            let p = lanes.add(i);
            p.write(interp::binary_f64(op, p.read(), lanes.add(2 + i).read()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callouts_compute_lanes_and_ignore_unknown_codes() {
        let mut lanes = [1.0f32, 4.0, 9.0, 16.0, 0.0, 0.0, 0.0, 0.0];
        // SAFETY: 8 aligned f32 lanes.
        unsafe { unary_f32(UnaryOp::Sqrt.code(), lanes.as_mut_ptr()) };
        assert_eq!(&lanes[..4], &[1.0, 2.0, 3.0, 4.0]);
        // SAFETY: as above; code 99 is unknown and must leave the lanes alone.
        unsafe { unary_f32(99, lanes.as_mut_ptr()) };
        assert_eq!(&lanes[..4], &[1.0, 2.0, 3.0, 4.0]);
        let mut d = [2.0f64, 3.0, 3.0, 2.0];
        // SAFETY: 4 aligned f64 lanes.
        unsafe { binary_f64(BinaryOp::Pow.code(), d.as_mut_ptr()) };
        assert_eq!(&d[..2], &[8.0, 9.0]);
    }
}
