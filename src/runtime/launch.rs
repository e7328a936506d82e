//! Running a compiled kernel over burn-flex buffers: output allocation or in-place reuse,
//! pointer arithmetic, and splitting large launches across the rayon thread pool.

use burn_backend::DType;
use burn_flex::{FlexTensor, Layout};
use burn_std::{Bytes, Shape};

use crate::codegen::CompiledKernel;
use crate::kernel::{ElemType, KernelArgs, KernelSpec};
use crate::runtime::layout::{IterSpace, broadcast_strides, contiguous_strides};

/// Launches with fewer elements than this run on the calling thread: handing work to another
/// core costs a few microseconds, which only pays off once the loop itself takes longer.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

/// The iteration space of a launch: inputs read at their own strides (broadcast where their
/// shape has a 1), outputs written contiguously in `out_shape`.
pub fn iter_space(out_shape: &[usize], inputs: &[&FlexTensor], num_outputs: usize) -> IterSpace {
    let mut strides: Vec<Vec<isize>> = inputs
        .iter()
        .map(|t| {
            let layout = t.layout();
            broadcast_strides(layout.shape(), layout.strides(), out_shape)
        })
        .collect();
    let out = contiguous_strides(out_shape);
    strides.extend(std::iter::repeat_n(out, num_outputs));
    IterSpace::new(out_shape, &strides)
}

/// An input of a launch: the tensor, and whether the launch owns its last reference (the
/// fusion stream marked it read-write), so that its buffer may be reused for an output.
pub struct LaunchInput {
    /// The tensor.
    pub tensor: FlexTensor,
    /// The launch holds the last reference to the tensor.
    pub owned: bool,
}

/// Run `kernel` (compiled from `spec` for `space.layout_classes()`) and return the outputs,
/// each of shape `out_shape` and of the burn dtype given in `out_dtypes`.
///
/// An owned, uniquely referenced, contiguous input of the output's shape and dtype lends its
/// buffer to that output instead of a new allocation.
pub fn run(
    kernel: &CompiledKernel,
    spec: &KernelSpec,
    space: &IterSpace,
    inputs: Vec<LaunchInput>,
    out_shape: &Shape,
    out_dtypes: &[DType],
    scalars: &[f64],
) -> Vec<FlexTensor> {
    assert_eq!(inputs.len(), spec.inputs.len(), "kernel input count");
    assert_eq!(out_dtypes.len(), spec.outputs.len(), "kernel output count");
    assert_eq!(
        scalars.len(),
        spec.num_scalars as usize,
        "kernel scalar count"
    );
    let n = out_shape.num_elements();

    // Decide which output takes over which input's buffer.
    let mut donors: Vec<Option<usize>> = vec![None; spec.outputs.len()];
    let mut lent = vec![false; inputs.len()];
    for (k, out) in spec.outputs.iter().enumerate() {
        donors[k] = inputs.iter().enumerate().position(|(i, input)| {
            !lent[i]
                && input.owned
                && input.tensor.is_unique()
                && input.tensor.dtype() == out_dtypes[k]
                && spec.inputs[i] == out.ty
                && input.tensor.layout().shape() == out_shape
                && input.tensor.layout().contiguous_offsets() == Some((0, n))
                && input.tensor.bytes().len() == n * out.ty.size()
        });
        if let Some(i) = donors[k] {
            lent[i] = true;
        }
    }

    let mut inputs = inputs;
    let mut ptrs: Vec<*mut u8> = Vec::with_capacity(spec.num_bindings());
    for (i, input) in inputs.iter_mut().enumerate() {
        let ty = spec.inputs[i];
        let ptr = if lent[i] {
            // The buffer will be written through this pointer: take it mutably.
            mut_storage_ptr(&mut input.tensor, ty)
        } else {
            input.tensor.bytes().as_ptr() as *mut u8
        };
        // SAFETY: `start_offset` is an element offset inside the tensor's storage (a FlexTensor
        // invariant), so the offset pointer stays within the same allocation.
        ptrs.push(unsafe { ptr.add(input.tensor.layout().start_offset() * ty.size()) });
    }
    let mut fresh: Vec<Option<OutputBuffer>> = Vec::with_capacity(spec.outputs.len());
    for (k, out) in spec.outputs.iter().enumerate() {
        match donors[k] {
            Some(i) => {
                ptrs.push(ptrs[i]);
                fresh.push(None);
            }
            None => {
                let mut buffer = OutputBuffer::new(out.ty, n);
                ptrs.push(buffer.as_mut_ptr());
                fresh.push(Some(buffer));
            }
        }
    }

    if !space.is_empty() {
        execute(kernel, space, &ptrs, spec, scalars);
    }

    let mut slots: Vec<Option<FlexTensor>> =
        inputs.into_iter().map(|input| Some(input.tensor)).collect();
    fresh
        .into_iter()
        .enumerate()
        .map(|(k, buffer)| match buffer {
            // SAFETY: the kernel wrote all `n` elements of the buffer (it visits every element
            // of the iteration space, which has `n` elements).
            Some(buffer) => unsafe { buffer.into_tensor(out_shape.clone(), out_dtypes[k]) },
            None => {
                let donor = slots[donors[k].expect("donor chosen above")]
                    .take()
                    .expect("each input lends its buffer at most once");
                FlexTensor::from_arc(
                    donor.data_arc(),
                    Layout::contiguous(out_shape.clone()),
                    out_dtypes[k],
                )
            }
        })
        .collect()
}

fn mut_storage_ptr(tensor: &mut FlexTensor, ty: ElemType) -> *mut u8 {
    let ptr = match ty {
        ElemType::F32 => tensor
            .try_storage_mut::<f32>()
            .map(|s| s.as_mut_ptr().cast()),
        ElemType::F64 => tensor
            .try_storage_mut::<f64>()
            .map(|s| s.as_mut_ptr().cast()),
        ElemType::Bool => tensor.try_storage_mut::<u8>().map(|s| s.as_mut_ptr()),
    };
    ptr.expect("a donor input is uniquely owned (checked before lending)")
}

/// A freshly allocated output, written by the kernel before it is read.
enum OutputBuffer {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bool(Vec<u8>),
}

impl OutputBuffer {
    fn new(ty: ElemType, n: usize) -> Self {
        match ty {
            ElemType::F32 => OutputBuffer::F32(Vec::with_capacity(n)),
            ElemType::F64 => OutputBuffer::F64(Vec::with_capacity(n)),
            ElemType::Bool => OutputBuffer::Bool(Vec::with_capacity(n)),
        }
    }

    fn as_mut_ptr(&mut self) -> *mut u8 {
        match self {
            OutputBuffer::F32(v) => v.as_mut_ptr().cast(),
            OutputBuffer::F64(v) => v.as_mut_ptr().cast(),
            OutputBuffer::Bool(v) => v.as_mut_ptr(),
        }
    }

    /// # Safety
    /// All `shape.num_elements()` elements (the capacity requested in [`OutputBuffer::new`])
    /// must have been written.
    unsafe fn into_tensor(self, shape: Shape, dtype: DType) -> FlexTensor {
        let n = shape.num_elements();
        // SAFETY (all three arms): capacity is `n` and the caller guarantees that the first `n`
        // elements are initialised; every bit pattern is a valid f32/f64/u8.
        let bytes = match self {
            OutputBuffer::F32(mut v) => {
                unsafe { v.set_len(n) };
                Bytes::from_elems(v)
            }
            OutputBuffer::F64(mut v) => {
                unsafe { v.set_len(n) };
                Bytes::from_elems(v)
            }
            OutputBuffer::Bool(mut v) => {
                unsafe { v.set_len(n) };
                Bytes::from_elems(v)
            }
        };
        FlexTensor::new(bytes, Layout::contiguous(shape), dtype)
    }
}

/// Raw base pointers shared with worker threads.
#[derive(Clone, Copy)]
struct Bases<'a> {
    ptrs: &'a [*mut u8],
}

// SAFETY: the pointers address buffers that outlive the launch (`run` holds them); tasks
// read inputs concurrently (fine) and write disjoint parts of the outputs, because every task
// covers a distinct set of output elements and outputs are contiguous (or an in-place input
// with the output's own layout).
unsafe impl Send for Bases<'_> {}
unsafe impl Sync for Bases<'_> {}

/// What every tile of one launch shares.
#[derive(Clone, Copy)]
struct Launch<'a> {
    kernel: &'a CompiledKernel,
    bases: Bases<'a>,
    /// Element size in bytes of each binding.
    sizes: &'a [usize],
    space: &'a IterSpace,
    scalars: &'a [f64],
}

/// One kernel call: a `rows × cols` tile starting at element offsets `offset[b]`.
fn call_tile(launch: Launch<'_>, offsets: &[isize], rows: usize, cols: usize) {
    let Launch {
        kernel,
        bases,
        sizes,
        space,
        scalars,
    } = launch;
    let ptrs: Vec<*mut u8> = bases
        .ptrs
        .iter()
        .zip(offsets)
        .zip(sizes)
        // SAFETY: offsets are element offsets of elements inside each binding's buffer (they are
        // sums of in-range index × stride products of the iteration space).
        .map(|((&p, &off), &size)| unsafe { p.offset(off * size as isize) })
        .collect();
    let row_strides: Vec<isize> = (0..ptrs.len()).map(|b| space.row_stride(b)).collect();
    let col_strides: Vec<isize> = (0..ptrs.len()).map(|b| space.col_stride(b)).collect();
    let args = KernelArgs {
        ptrs: ptrs.as_ptr(),
        row_strides: row_strides.as_ptr(),
        col_strides: col_strides.as_ptr(),
        scalars: scalars.as_ptr(),
        rows,
        cols,
    };
    // SAFETY: `args` satisfies the `KernelArgs` contract: one pointer and stride per binding,
    // every addressed element lies in its buffer (the tile is part of the iteration space the
    // strides were derived from), outputs are distinct fresh buffers or an in-place input with
    // identical strides, and `scalars` holds `num_scalars` values (asserted in `run`).
    unsafe { kernel.call(&args) };
}

fn execute(
    kernel: &CompiledKernel,
    space: &IterSpace,
    ptrs: &[*mut u8],
    spec: &KernelSpec,
    scalars: &[f64],
) {
    let sizes: Vec<usize> = spec
        .inputs
        .iter()
        .map(|t| t.size())
        .chain(spec.outputs.iter().map(|o| o.ty.size()))
        .collect();
    let bases = Bases { ptrs };
    let launch = Launch {
        kernel,
        bases,
        sizes: &sizes,
        space,
        scalars,
    };
    let nb = ptrs.len();
    let (rows, cols) = (space.rows(), space.cols());
    let outer = space.outer_dims();
    let n_outer: usize = outer.iter().product();
    // Element offset of each binding at outer index `o` (row-major over `outer`).
    let outer_offsets = |mut o: usize| -> Vec<isize> {
        let mut off = vec![0isize; nb];
        for d in (0..outer.len()).rev() {
            let i = (o % outer[d]) as isize;
            o /= outer[d];
            for (b, slot) in off.iter_mut().enumerate() {
                *slot += i * space.strides[b][d];
            }
        }
        off
    };

    let threads = rayon::current_num_threads();
    if space.len() < PARALLEL_MIN_ELEMENTS || threads <= 1 {
        for o in 0..n_outer {
            let off = outer_offsets(o);
            call_tile(launch, &off, rows, cols);
        }
        return;
    }

    if n_outer >= threads {
        let chunk = n_outer.div_ceil(threads);
        rayon::scope(|s| {
            for start in (0..n_outer).step_by(chunk) {
                let outer_offsets = &outer_offsets;
                s.spawn(move |_| {
                    for o in start..(start + chunk).min(n_outer) {
                        let off = outer_offsets(o);
                        call_tile(launch, &off, rows, cols);
                    }
                });
            }
        });
        return;
    }

    for o in 0..n_outer {
        let base = outer_offsets(o);
        if rows >= threads {
            let chunk = rows.div_ceil(threads);
            rayon::scope(|s| {
                for start in (0..rows).step_by(chunk) {
                    let base = &base;
                    s.spawn(move |_| {
                        let off: Vec<isize> = (0..nb)
                            .map(|b| base[b] + start as isize * space.row_stride(b))
                            .collect();
                        let len = chunk.min(rows - start);
                        call_tile(launch, &off, len, cols);
                    });
                }
            });
        } else {
            // Few long rows: split the columns, in multiples of 64 to keep vectors whole.
            let chunk = cols.div_ceil(threads).next_multiple_of(64);
            for r in 0..rows {
                rayon::scope(|s| {
                    for start in (0..cols).step_by(chunk) {
                        let base = &base;
                        s.spawn(move |_| {
                            let off: Vec<isize> = (0..nb)
                                .map(|b| {
                                    base[b]
                                        + r as isize * space.row_stride(b)
                                        + start as isize * space.col_stride(b)
                                })
                                .collect();
                            let len = chunk.min(cols - start);
                            call_tile(launch, &off, 1, len);
                        });
                    }
                });
            }
        }
    }
}
