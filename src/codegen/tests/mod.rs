//! Tests of the code generator against the reference interpreter and Rust std.

mod harness;
mod ops;
mod ulp;
