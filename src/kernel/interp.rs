//! Reference interpreter for kernel specs.
