//! 2-D `f32` matrix products straight on the `gemm` crate, into a freshly allocated output.
//!
//! burn-flex 0.21 multiplies with the same `gemm` crate, but allocates its output through
//! `FlexTensor::empty`, which zero-fills a `Vec<u8>` and then copies it into a 64-byte aligned
//! allocation: two extra passes over the output (and, for multi-megabyte outputs, page faults
//! on both buffers) around every product. At a PINN's shapes (`8192 × 64 × 64`) that costs about
//! as much as the product itself. Here the output is an uninitialised `Vec<f32>` that `gemm`
//! overwrites completely (`read_dst = false`), handed to the tensor without a copy. The
//! arithmetic is the same call with the same arguments, so results are bit-identical to
//! burn-flex's.

use burn_backend::DType;
use burn_flex::{FlexTensor, Layout};
use burn_std::{Bytes, Shape};

/// Products with at least this many multiply-adds use the rayon pool (burn-flex's threshold).
const PARALLEL_THRESHOLD: usize = 192 * 192 * 192;

/// Range of element offsets (relative to the start offset) that a `rows × cols` view with the
/// given strides touches: `(lowest, highest)`.
fn span(rows: usize, cols: usize, row_stride: isize, col_stride: isize) -> (isize, isize) {
    let mut lo = 0isize;
    let mut hi = 0isize;
    for (len, stride) in [(rows, row_stride), (cols, col_stride)] {
        let end = (len as isize - 1) * stride;
        lo += end.min(0);
        hi += end.max(0);
    }
    (lo, hi)
}

/// Whether every element of the 2-D view `layout` lies inside a storage of `len` elements.
fn in_bounds(layout: &Layout, len: usize) -> bool {
    let shape = layout.shape();
    let strides = layout.strides();
    let (lo, hi) = span(shape[0], shape[1], strides[0], strides[1]);
    let start = layout.start_offset() as isize;
    start + lo >= 0 && start + hi < len as isize
}

/// The `f32` storages of two non-empty 2-D views, after checking that every element of each
/// view lies inside its storage. burn-flex's layouts always do; checking costs nothing next to
/// the product and turns a broken invariant into a panic instead of an out-of-bounds read.
fn checked_storages<'a>(lhs: &'a FlexTensor, rhs: &'a FlexTensor) -> (&'a [f32], &'a [f32]) {
    let (ll, rl) = (lhs.layout(), rhs.layout());
    let (lhs_data, rhs_data) = (lhs.storage::<f32>(), rhs.storage::<f32>());
    assert!(
        in_bounds(ll, lhs_data.len()) && in_bounds(rl, rhs_data.len()),
        "matmul: a view's strides address outside its storage (lhs {ll:?}, rhs {rl:?})"
    );
    (lhs_data, rhs_data)
}

/// `lhs × rhs` for 2-D `f32` tensors with at least one element in every dimension (any strides,
/// including broadcast and flipped views). `None` for anything else, which the caller hands to
/// burn-flex.
pub fn matmul_f32_2d(lhs: &FlexTensor, rhs: &FlexTensor) -> Option<FlexTensor> {
    if lhs.dtype() != DType::F32 || rhs.dtype() != DType::F32 {
        return None;
    }
    let (ll, rl) = (lhs.layout(), rhs.layout());
    let (ls, rs) = (ll.shape(), rl.shape());
    if ls.num_dims() != 2 || rs.num_dims() != 2 {
        return None;
    }
    let (m, k, n) = (ls[0], ls[1], rs[1]);
    if m == 0 || k == 0 || n == 0 || rs[0] != k {
        return None;
    }
    let (lhs_data, rhs_data) = checked_storages(lhs, rhs);
    let (lrs, lcs) = (ll.strides()[0], ll.strides()[1]);
    let (rrs, rcs) = (rl.strides()[0], rl.strides()[1]);
    let parallelism = if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_THRESHOLD {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    let mut out: Vec<f32> = Vec::with_capacity(m * n);
    // SAFETY: `out` has capacity for the `m × n` row-major result (column stride 1, row stride
    // n); with `read_dst = false` gemm writes every element of it (dst = 1·lhs·rhs) and reads
    // none. The operand pointers start at each view's offset and, with the given strides, reach
    // only elements inside their storage (asserted above); both storages outlive the call.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs_data.as_ptr().add(ll.start_offset()),
            lcs,
            lrs,
            rhs_data.as_ptr().add(rl.start_offset()),
            rcs,
            rrs,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
        out.set_len(m * n);
    }
    Some(FlexTensor::new(
        Bytes::from_elems(out),
        Layout::contiguous(Shape::from(vec![m, n])),
        DType::F32,
    ))
}

/// `lhs × rhs` for a 2-D `f32` outer product `[m, 1] × [1, n]` (any strides, `m, n ≥ 1`): one
/// multiplication per output element, written straight into a fresh contiguous output. `None`
/// for anything else.
///
/// Autodiff's backward of a layer with one output (`[N, 1] × [1, W]`) is this shape. burn-flex's
/// broadcasting multiply, which this replaces, first copies both operands out to full `m × n`
/// tensors; the values are the same single products.
pub fn outer_f32_2d(lhs: &FlexTensor, rhs: &FlexTensor) -> Option<FlexTensor> {
    if lhs.dtype() != DType::F32 || rhs.dtype() != DType::F32 {
        return None;
    }
    let (ll, rl) = (lhs.layout(), rhs.layout());
    let (ls, rs) = (ll.shape(), rl.shape());
    if ls.num_dims() != 2 || rs.num_dims() != 2 || ls[1] != 1 || rs[0] != 1 {
        return None;
    }
    let (m, n) = (ls[0], rs[1]);
    if m == 0 || n == 0 {
        return None;
    }
    let (lhs_data, rhs_data) = checked_storages(lhs, rhs);
    // In bounds (checked above), so the index arithmetic cannot leave the storage.
    let at = |data: &[f32], layout: &Layout, i: usize, stride: isize| {
        data[(layout.start_offset() as isize + i as isize * stride) as usize]
    };
    let col: Vec<f32> = (0..m)
        .map(|i| at(lhs_data, ll, i, ll.strides()[0]))
        .collect();
    let row: Vec<f32> = (0..n)
        .map(|j| at(rhs_data, rl, j, rl.strides()[1]))
        .collect();
    let mut out: Vec<f32> = Vec::with_capacity(m * n);
    for &a in &col {
        out.extend(row.iter().map(|&b| a * b));
    }
    Some(FlexTensor::new(
        Bytes::from_elems(out),
        Layout::contiguous(Shape::from(vec![m, n])),
        DType::F32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn_backend::TensorData;

    fn tensor(values: Vec<f32>, shape: [usize; 2]) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values, shape))
    }

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0.0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for p in 0..k {
                    s += a[i * k + p] as f64 * b[p * n + j] as f64;
                }
                c[i * n + j] = s as f32;
            }
        }
        c
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 500.0
                    - 1.0
            })
            .collect()
    }

    #[test]
    fn contiguous_products_match_a_naive_product_and_burn_flex() {
        // Sizes below and above the rayon threshold, and odd ones that fill no SIMD register.
        for (m, k, n) in [
            (1, 1, 1),
            (3, 5, 7),
            (17, 2, 64),
            (300, 64, 64),
            (8192, 64, 64),
        ] {
            let (a, b) = (values(m * k, 1), values(k * n, 7));
            let out = matmul_f32_2d(&tensor(a.clone(), [m, k]), &tensor(b.clone(), [k, n]))
                .expect("2-D f32 product");
            assert_eq!(out.layout().shape().dims::<2>(), [m, n]);
            let got = out.storage::<f32>();
            for (g, w) in got.iter().zip(naive(&a, &b, m, k, n)) {
                assert!(
                    (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                    "{m}x{k}x{n}: {g} vs {w}"
                );
            }
            let flex = burn_flex::ops::matmul::matmul(tensor(a, [m, k]), tensor(b, [k, n]));
            assert_eq!(
                got,
                flex.storage::<f32>(),
                "{m}x{k}x{n}: differs from burn-flex"
            );
        }
    }

    #[test]
    fn transposed_and_broadcast_views_are_read_through_their_strides() {
        let (m, k, n) = (5, 3, 4);
        let a = values(m * k, 3);
        // lhs given as the transpose of a k × m buffer.
        let mut at = vec![0.0; m * k];
        for i in 0..m {
            for p in 0..k {
                at[p * m + i] = a[i * k + p];
            }
        }
        let lhs = FlexTensor::new(
            Bytes::from_elems(at),
            Layout::new(Shape::from(vec![m, k]), vec![1, m as isize], 0),
            DType::F32,
        );
        // rhs: one row of n values broadcast to k rows (stride 0).
        let row = values(n, 9);
        let rhs = FlexTensor::new(
            Bytes::from_elems(row.clone()),
            Layout::new(Shape::from(vec![k, n]), vec![0, 1], 0),
            DType::F32,
        );
        let b: Vec<f32> = (0..k).flat_map(|_| row.iter().copied()).collect();
        let got = matmul_f32_2d(&lhs, &rhs).expect("2-D f32 product");
        for (g, w) in got.storage::<f32>().iter().zip(naive(&a, &b, m, k, n)) {
            assert!((g - w).abs() <= 1e-5, "{g} vs {w}");
        }
    }

    #[test]
    fn other_ranks_dtypes_and_empty_products_are_left_to_burn_flex() {
        let a = tensor(values(6, 1), [2, 3]);
        let b3 = FlexTensor::from_data(TensorData::new(values(6, 2), [1, 3, 2]));
        assert!(matmul_f32_2d(&b3, &b3).is_none());
        let f64s = FlexTensor::from_data(TensorData::new(vec![1.0f64; 6], [3, 2]));
        assert!(matmul_f32_2d(&f64s, &f64s).is_none());
        let empty = tensor(vec![], [3, 0]);
        assert!(matmul_f32_2d(&empty, &tensor(vec![], [0, 2])).is_none());
        assert!(matmul_f32_2d(&a, &tensor(values(6, 3), [3, 2])).is_some());
    }

    #[test]
    #[should_panic(expected = "address outside its storage")]
    fn a_view_reaching_past_its_storage_panics_instead_of_reading_it() {
        let lhs = FlexTensor::new(
            Bytes::from_elems(vec![1.0f32; 4]),
            Layout::new(Shape::from(vec![2, 3]), vec![3, 1], 0), // needs 6 elements
            DType::F32,
        );
        let rhs = tensor(values(6, 4), [3, 2]);
        let _ = matmul_f32_2d(&lhs, &rhs);
    }
    #[test]
    fn outer_products_equal_burn_flex_bit_for_bit_through_any_strides() {
        use burn_backend::ops::FloatTensorOps;
        use burn_flex::Flex;
        let special = [
            f32::NAN,
            f32::INFINITY,
            -f32::INFINITY,
            -0.0,
            0.0,
            1e-40,
            -3.5,
        ];
        for (m, n) in [(1, 1), (7, 1), (1, 9), (33, 64), (8192, 3)] {
            let mut a = values(m, 5);
            let mut b = values(n, 6);
            for (i, v) in special.iter().enumerate() {
                if i < m {
                    a[i] = *v;
                }
                if i < n {
                    b[n - 1 - i] = *v;
                }
            }
            // lhs: every other element of a 2m buffer (row stride 2); rhs: a flipped row.
            let mut spread = vec![9.0f32; 2 * m];
            for (i, v) in a.iter().enumerate() {
                spread[2 * i] = *v;
            }
            let lhs = FlexTensor::new(
                Bytes::from_elems(spread),
                Layout::new(Shape::from(vec![m, 1]), vec![2, 1], 0),
                DType::F32,
            );
            let flipped: Vec<f32> = b.iter().rev().copied().collect();
            let rhs = FlexTensor::new(
                Bytes::from_elems(flipped),
                Layout::new(Shape::from(vec![1, n]), vec![n as isize, -1], n - 1),
                DType::F32,
            );
            let got = outer_f32_2d(&lhs, &rhs).expect("2-D outer product");
            let want = Flex::float_mul(tensor(a.clone(), [m, 1]), tensor(b.clone(), [1, n]));
            let want = want.to_contiguous();
            assert_eq!(got.layout().shape(), want.layout().shape());
            for (i, (g, w)) in got
                .storage::<f32>()
                .iter()
                .zip(want.storage::<f32>())
                .enumerate()
            {
                assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "({m}, {n}) element {i}: {g} vs {w}"
                );
                let product = a[i / n] * b[i % n];
                assert!(
                    g.to_bits() == product.to_bits() || (g.is_nan() && product.is_nan()),
                    "({m}, {n}) element {i}: {g} vs {product}"
                );
            }
        }
    }

    #[test]
    fn outer_product_leaves_other_shapes_to_the_caller() {
        let col = tensor(values(3, 1), [3, 1]);
        assert!(outer_f32_2d(&col, &tensor(values(2, 2), [1, 2])).is_some());
        assert!(
            outer_f32_2d(&tensor(values(6, 1), [3, 2]), &tensor(values(8, 2), [2, 4])).is_none()
        );
        assert!(outer_f32_2d(&col, &tensor(vec![], [1, 0])).is_none());
        let f64s = FlexTensor::from_data(TensorData::new(vec![1.0f64; 3], [3, 1]));
        assert!(outer_f32_2d(&f64s, &f64s).is_none());
    }
}
