//! The C header of an exported model.

use super::Target;

/// The header declaring `<name>_infer` with the model's widths and stack needs.
pub(super) fn c_header(
    name: &str,
    target: Target,
    inputs: usize,
    outputs: usize,
    stack_bytes: usize,
) -> String {
    let upper = name.to_ascii_uppercase();
    format!(
        "/* {name}.h: a PINN compiled ahead of time by pinn-jit {version} for {triple}.\n\
         *\n\
         * Link {name}.o into your program; it needs no runtime library, no allocator and calls\n\
         * nothing outside itself. {name}_infer keeps no state: any number of threads may call\n\
         * it at once. It uses about {stack_kib} KiB of the caller's stack ({stack_bytes} bytes of\n\
         * scratch plus saved registers).\n\
         */\n\
         #ifndef {upper}_H\n\
         #define {upper}_H\n\
         \n\
         #include <stddef.h>\n\
         \n\
         #ifdef __cplusplus\n\
         extern \"C\" {{\n\
         #endif\n\
         \n\
         /* Floats per input row and per output row. */\n\
         #define {upper}_INPUTS {inputs}\n\
         #define {upper}_OUTPUTS {outputs}\n\
         \n\
         /* out[r * {upper}_OUTPUTS + j] = model(in[r * {upper}_INPUTS ...])[j] for r < batch.\n\
         * `in` and `out` must not overlap. */\n\
         void {name}_infer(const float *in, float *out, size_t batch);\n\
         \n\
         #ifdef __cplusplus\n\
         }}\n\
         #endif\n\
         \n\
         #endif /* {upper}_H */\n",
        version = env!("CARGO_PKG_VERSION"),
        triple = target.triple(),
        stack_kib = (stack_bytes + 512).div_ceil(1024),
    )
}
