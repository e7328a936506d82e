//! Tests of the code generator against the reference interpreter and Rust std.

mod bench;
mod harness;
mod ops;
mod random;
mod ulp;
