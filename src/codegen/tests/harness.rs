//! Running a compiled kernel and the interpreter side by side on the same strided buffers.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::codegen::{CompileOptions, CompiledKernel, Strategy, compile_with, unary_strategy};
use crate::kernel::interp::{self, Scalar};
use crate::kernel::{
    ElemType, Inst, KernelArgs, KernelSpec, LayoutClass, Output, UnaryOp, ValueId,
};

/// SplitMix64: small, seedable, good enough to fill buffers.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A float that is often special: NaN, ±inf, ±0, subnormal, huge, tiny, or ordinary.
    pub fn float(&mut self, ty: ElemType) -> f64 {
        let special = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            2.5,
            -2.5,
            1e-40,
            -1e-310,
            3.0e38,
            -1e300,
        ];
        match self.below(10) {
            0 => special[self.below(special.len() as u64) as usize],
            1 => match ty {
                ElemType::F32 => f32::from_bits(self.next() as u32) as f64,
                _ => f64::from_bits(self.next()),
            },
            2 => (self.below(41) as f64 - 20.0) * 0.5,
            _ => {
                let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
                (u - 0.5) * 20.0
            }
        }
    }
}

/// One binding's buffer: raw storage and where element (0, 0) sits in it.
pub struct Buffer {
    pub ty: ElemType,
    pub storage: Vec<u64>,
    /// Byte offset of element (0, 0) in `storage`.
    pub origin: usize,
    pub row_stride: isize,
    pub col_stride: isize,
}

impl Buffer {
    /// A buffer addressable at every (r, c) with r < rows, c < cols, filled by `fill`.
    pub fn new(
        ty: ElemType,
        rows: usize,
        cols: usize,
        row_stride: isize,
        col_stride: isize,
        mut fill: impl FnMut() -> Scalar,
    ) -> Buffer {
        let corners = [
            0isize,
            (rows.max(1) as isize - 1) * row_stride,
            (cols.max(1) as isize - 1) * col_stride,
            (rows.max(1) as isize - 1) * row_stride + (cols.max(1) as isize - 1) * col_stride,
        ];
        let lo = *corners.iter().min().expect("corners");
        let hi = *corners.iter().max().expect("corners");
        let n = (hi - lo + 1) as usize;
        let bytes = n * ty.size();
        let mut b = Buffer {
            ty,
            storage: vec![0u64; bytes.div_ceil(8) + 1],
            origin: (-lo) as usize * ty.size(),
            row_stride,
            col_stride,
        };
        for i in 0..n {
            let s = fill();
            // SAFETY: element i lies inside storage (n elements fit).
            unsafe { s.write(b.base_ptr().sub(b.origin).add(i * ty.size())) };
        }
        b
    }

    pub fn base_ptr(&mut self) -> *mut u8 {
        // SAFETY: origin is within the allocation by construction.
        unsafe { (self.storage.as_mut_ptr() as *mut u8).add(self.origin) }
    }

    /// Every element of the storage, in order (gaps included).
    pub fn elements(&self) -> Vec<Scalar> {
        let start = self.storage.as_ptr() as *const u8;
        let n = (self.storage.len() - 1) * 8 / self.ty.size();
        (0..n)
            // SAFETY: in bounds of storage, aligned for ty (storage is u64-aligned).
            .map(|i| unsafe { Scalar::read(self.ty, start.add(i * self.ty.size())) })
            .collect()
    }
}

thread_local! {
    static ORACLES: RefCell<HashMap<(UnaryOp, bool), CompiledKernel>> = RefCell::new(HashMap::new());
}

/// `op(x)` as computed by a one-instruction compiled `f32` kernel (the inline approximation).
pub fn compiled_unary_f32(op: UnaryOp, x: f32, fma: bool) -> f32 {
    ORACLES.with(|o| {
        let mut o = o.borrow_mut();
        let k = o.entry((op, fma)).or_insert_with(|| {
            let spec = unary_spec(ElemType::F32, op);
            let opts = CompileOptions {
                fma,
                print_ir: false,
            };
            compile_with(&spec, &[LayoutClass::Contiguous; 2], &opts).expect("compiles")
        });
        let mut out = [0f32; 1];
        run_dense_f32(k, &[x], &mut out);
        out[0]
    })
}

/// `out[i] = kernel(xs[i])` for a one-input, one-output contiguous `f32` kernel.
pub fn run_dense_f32(k: &CompiledKernel, xs: &[f32], out: &mut [f32]) {
    assert_eq!(xs.len(), out.len());
    let ptrs = [xs.as_ptr() as *mut u8, out.as_mut_ptr() as *mut u8];
    let rs = [0isize; 2];
    let cs = [1isize; 2];
    let args = KernelArgs {
        ptrs: ptrs.as_ptr(),
        row_strides: rs.as_ptr(),
        col_strides: cs.as_ptr(),
        scalars: core::ptr::null(),
        rows: 1,
        cols: xs.len(),
    };
    // SAFETY: one row of xs.len() contiguous f32 in each buffer.
    unsafe { k.call(&args) };
}

/// `out = op(in0)`.
pub fn unary_spec(float: ElemType, op: UnaryOp) -> KernelSpec {
    KernelSpec {
        float,
        inputs: vec![float],
        num_scalars: 0,
        body: vec![Inst::Input(0), Inst::Unary(op, ValueId(0))],
        outputs: vec![Output {
            value: ValueId(1),
            ty: float,
        }],
    }
}

/// A full comparison case.
pub struct Case<'a> {
    pub spec: &'a KernelSpec,
    pub layout: &'a [LayoutClass],
    pub rows: usize,
    pub cols: usize,
    /// Column stride per binding (`Strided` ones; others follow their class).
    pub strides: &'a [isize],
    /// `(output k, input n)`: output k is written in place over input n.
    pub alias: Option<(usize, usize)>,
    pub scalars: &'a [f64],
    pub seed: u64,
    pub fma: bool,
}

/// Run `case` compiled and interpreted (with the compiled approximations substituted for std's
/// functions) and panic with a description at the first differing element.
pub fn check(case: &Case) {
    let spec = case.spec;
    let ni = spec.inputs.len();
    let types: Vec<ElemType> = spec
        .inputs
        .iter()
        .copied()
        .chain(spec.outputs.iter().map(|o| o.ty))
        .collect();
    let mut rng = Rng(case.seed);
    let make = |rng: &mut Rng, b: usize| {
        let ty = types[b];
        let cs = match case.layout[b] {
            LayoutClass::Contiguous => 1,
            LayoutClass::Broadcast => 0,
            LayoutClass::Strided => case.strides[b],
        };
        // Rows further apart than a row's extent, sometimes backwards.
        let extent = cs.unsigned_abs() as isize * case.cols as isize + 1;
        let rs = if b % 3 == 2 { -extent } else { extent + 1 };
        let is_out = b >= ni;
        Buffer::new(ty, case.rows, case.cols, rs, cs, || {
            if is_out {
                match ty {
                    ElemType::Bool => Scalar::Bool(true),
                    ElemType::F32 => Scalar::F32(-7.25),
                    ElemType::F64 => Scalar::F64(-7.25),
                }
            } else {
                match ty {
                    ElemType::Bool => Scalar::Bool(rng.below(2) == 1),
                    ElemType::F32 => Scalar::F32(rng.float(ty) as f32),
                    ElemType::F64 => Scalar::F64(rng.float(ty)),
                }
            }
        })
    };
    let mut bufs: Vec<Buffer> = (0..types.len()).map(|b| make(&mut rng, b)).collect();
    let mut twin: Vec<Buffer> = bufs
        .iter()
        .map(|b| Buffer {
            ty: b.ty,
            storage: b.storage.clone(),
            origin: b.origin,
            row_stride: b.row_stride,
            col_stride: b.col_stride,
        })
        .collect();
    let opts = CompileOptions {
        fma: case.fma,
        print_ir: false,
    };
    let kernel = compile_with(spec, case.layout, &opts).expect("compiles");

    let run = |bufs: &mut Vec<Buffer>, f: &dyn Fn(&KernelArgs)| {
        let mut ptrs: Vec<*mut u8> = bufs.iter_mut().map(|b| b.base_ptr()).collect();
        let mut rs: Vec<isize> = bufs.iter().map(|b| b.row_stride).collect();
        let mut cs: Vec<isize> = bufs.iter().map(|b| b.col_stride).collect();
        if let Some((k, n)) = case.alias {
            ptrs[ni + k] = ptrs[n];
            rs[ni + k] = rs[n];
            cs[ni + k] = cs[n];
        }
        let args = KernelArgs {
            ptrs: ptrs.as_ptr(),
            row_strides: rs.as_ptr(),
            col_strides: cs.as_ptr(),
            scalars: case.scalars.as_ptr(),
            rows: case.rows,
            cols: case.cols,
        };
        f(&args);
    };
    // SAFETY: every buffer covers all (r, c) with its strides; aliasing only in place.
    run(&mut bufs, &|a| unsafe { kernel.call(a) });
    let fma = case.fma;
    let oracle = move |op: UnaryOp, x: Scalar| match x {
        Scalar::F32(x) if unary_strategy(op, ElemType::F32) == Strategy::Inline => {
            Some(Scalar::F32(compiled_unary_f32(op, x, fma)))
        }
        _ => None,
    };
    // SAFETY: as above.
    run(&mut twin, &|a| unsafe {
        interp::run_with(spec, a, &oracle)
    });

    for (b, (got, want)) in bufs.iter().zip(&twin).enumerate() {
        let (g, w) = (got.elements(), want.elements());
        for (i, (x, y)) in g.iter().zip(&w).enumerate() {
            assert!(
                x.same(*y),
                "binding {b} element {i}: compiled {x:?}, interpreter {y:?}\n\
                 rows {} cols {} layout {:?} alias {:?} fma {}\n{spec}",
                case.rows,
                case.cols,
                case.layout,
                case.alias,
                case.fma
            );
        }
    }
}
