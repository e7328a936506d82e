//! Seeded, reproducible point samplers on boxes: collocation points in the interior,
//! boundary faces and initial slices, uniform or Latin hypercube.

use burn::tensor::{Tensor, TensorData, backend::Backend};

use super::error::PinnError;

/// A small, fast, seedable PRNG (xoshiro256** seeded through SplitMix64). The same seed gives
/// the same stream on every platform, which makes samplers and initial weights reproducible.
///
/// ```
/// use pinn_jit::pinn::Rng;
/// let (mut a, mut b) = (Rng::new(7), Rng::new(7));
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// Creates a generator from a seed.
    pub fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[a, b)`.
    pub fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next_f64()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * core::f64::consts::PI * u2).cos()
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_f64() * n as f64) as usize % n.max(1)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// How points are spread over a box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Independent uniform draws.
    Uniform,
    /// Latin hypercube: each axis split into `n` strata, one point per stratum per axis.
    LatinHypercube,
}

/// A set of points in `d` dimensions stored row-major on the host (`f64`).
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    data: Vec<f64>,
    dim: usize,
}

impl Points {
    /// Wraps row-major data of `dim` columns.
    pub fn new(data: Vec<f64>, dim: usize) -> Result<Self, PinnError> {
        if dim == 0 || !data.len().is_multiple_of(dim) {
            return Err(PinnError::ShapeMismatch {
                context: "Points::new: data length must be a multiple of dim >= 1",
                expected: vec![dim],
                got: vec![data.len()],
            });
        }
        Ok(Self { data, dim })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Number of coordinates per point.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Point `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Coordinate `k` of every point.
    pub fn column(&self, k: usize) -> Vec<f64> {
        self.data
            .iter()
            .skip(k)
            .step_by(self.dim)
            .copied()
            .collect()
    }

    /// The raw row-major data.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Appends the points of `other` (same dimension).
    pub fn extend(&mut self, other: &Points) {
        assert_eq!(self.dim, other.dim, "Points::extend: dimensions differ");
        self.data.extend_from_slice(&other.data);
    }

    /// Uploads as a `[len, dim]` tensor.
    pub fn to_tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), [self.len(), self.dim]),
            device,
        )
    }

    /// Applies `f` to each point, giving one value per point (e.g. an initial condition).
    pub fn map(&self, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
        self.data.chunks(self.dim).map(f).collect()
    }
}

/// An axis-aligned box `[lower_0, upper_0] × … × [lower_{d-1}, upper_{d-1}]`.
///
/// ```
/// use pinn_jit::pinn::{BoxDomain, Rng, Sampling};
/// let domain = BoxDomain::new(vec![-1.0, 0.0], vec![1.0, 1.0]).unwrap();
/// let mut rng = Rng::new(0);
/// let interior = domain.sample(1000, Sampling::LatinHypercube, &mut rng);
/// let initial = domain.sample_face(1, false, 200, Sampling::Uniform, &mut rng).unwrap(); // t = 0
/// assert_eq!((interior.len(), initial.row(0)[1]), (1000, 0.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BoxDomain {
    lower: Vec<f64>,
    upper: Vec<f64>,
}

impl BoxDomain {
    /// A box from its corners; needs `upper[k] > lower[k]` for every axis.
    pub fn new(lower: Vec<f64>, upper: Vec<f64>) -> Result<Self, PinnError> {
        if lower.is_empty() || lower.len() != upper.len() {
            return Err(PinnError::ShapeMismatch {
                context: "BoxDomain::new: lower and upper need the same non-zero length",
                expected: vec![lower.len()],
                got: vec![upper.len()],
            });
        }
        if lower
            .iter()
            .zip(&upper)
            .any(|(a, b)| b.partial_cmp(a) != Some(core::cmp::Ordering::Greater))
        {
            return Err(PinnError::InvalidConfig(format!(
                "BoxDomain needs upper > lower on every axis, got lower = {lower:?}, upper = \
                 {upper:?}"
            )));
        }
        Ok(Self { lower, upper })
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.lower.len()
    }

    /// Lower corner.
    pub fn lower(&self) -> &[f64] {
        &self.lower
    }

    /// Upper corner.
    pub fn upper(&self) -> &[f64] {
        &self.upper
    }

    /// `n` points in the box.
    pub fn sample(&self, n: usize, method: Sampling, rng: &mut Rng) -> Points {
        let unit = unit_samples(n, self.dim(), method, rng);
        let data = unit
            .chunks(self.dim())
            .flat_map(|p| {
                p.iter()
                    .enumerate()
                    .map(|(k, u)| self.lower[k] + u * (self.upper[k] - self.lower[k]))
                    .collect::<Vec<_>>()
            })
            .collect();
        Points {
            data,
            dim: self.dim(),
        }
    }

    /// `n` points on the face where coordinate `axis` equals its lower (`upper == false`) or
    /// upper bound — e.g. the initial slice `t = t_0` of a space-time box.
    pub fn sample_face(
        &self,
        axis: usize,
        upper: bool,
        n: usize,
        method: Sampling,
        rng: &mut Rng,
    ) -> Result<Points, PinnError> {
        if axis >= self.dim() {
            return Err(PinnError::InputOutOfRange {
                index: axis,
                n_inputs: self.dim(),
            });
        }
        let mut pts = self.sample(n, method, rng);
        let v = if upper {
            self.upper[axis]
        } else {
            self.lower[axis]
        };
        let d = self.dim();
        for i in 0..n {
            pts.data[i * d + axis] = v;
        }
        Ok(pts)
    }

    /// `n` points spread evenly over both faces (lower and upper) of each axis in `axes` —
    /// e.g. the spatial boundary `x = ±1` of a space-time box with `axes = &[0]`.
    pub fn sample_boundary(
        &self,
        axes: &[usize],
        n: usize,
        method: Sampling,
        rng: &mut Rng,
    ) -> Result<Points, PinnError> {
        let faces = 2 * axes.len();
        if faces == 0 {
            return Err(PinnError::InvalidConfig(
                "sample_boundary needs at least one axis".into(),
            ));
        }
        let mut out = Points {
            data: Vec::with_capacity(n * self.dim()),
            dim: self.dim(),
        };
        for f in 0..faces {
            let count = n / faces + usize::from(f < n % faces);
            let face = self.sample_face(axes[f / 2], f % 2 == 1, count, method, rng)?;
            out.extend(&face);
        }
        Ok(out)
    }

    /// A tensor-product grid with `counts[k]` evenly spaced points (ends included) per axis,
    /// the last axis varying fastest.
    pub fn grid(&self, counts: &[usize]) -> Result<Points, PinnError> {
        if counts.len() != self.dim() || counts.iter().any(|&c| c < 2) {
            return Err(PinnError::InvalidConfig(format!(
                "BoxDomain::grid needs one count >= 2 per axis ({} axes), got {counts:?}",
                self.dim()
            )));
        }
        let axes: Vec<Vec<f64>> = counts
            .iter()
            .enumerate()
            .map(|(k, &c)| linspace(self.lower[k], self.upper[k], c))
            .collect();
        Ok(tensor_grid(&axes))
    }
}

/// `n` evenly spaced values from `a` to `b` inclusive.
pub fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![a];
    }
    (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .collect()
}

/// The tensor-product grid of the given axes (last axis varying fastest).
pub fn tensor_grid(axes: &[Vec<f64>]) -> Points {
    let d = axes.len();
    let total: usize = axes.iter().map(Vec::len).product();
    let mut data = Vec::with_capacity(total * d);
    let mut idx = vec![0usize; d];
    for _ in 0..total {
        for k in 0..d {
            data.push(axes[k][idx[k]]);
        }
        for k in (0..d).rev() {
            idx[k] += 1;
            if idx[k] < axes[k].len() {
                break;
            }
            idx[k] = 0;
        }
    }
    Points { data, dim: d }
}

fn unit_samples(n: usize, d: usize, method: Sampling, rng: &mut Rng) -> Vec<f64> {
    match method {
        Sampling::Uniform => (0..n * d).map(|_| rng.next_f64()).collect(),
        Sampling::LatinHypercube => {
            let mut out = vec![0.0; n * d];
            let mut perm: Vec<usize> = (0..n).collect();
            for k in 0..d {
                rng.shuffle(&mut perm);
                for (i, &p) in perm.iter().enumerate() {
                    out[i * d + k] = (p as f64 + rng.next_f64()) / n as f64;
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_points_and_inside_box() {
        let dom = BoxDomain::new(vec![-1.0, 0.0], vec![1.0, 2.0]).unwrap();
        for method in [Sampling::Uniform, Sampling::LatinHypercube] {
            let a = dom.sample(500, method, &mut Rng::new(3));
            let b = dom.sample(500, method, &mut Rng::new(3));
            let c = dom.sample(500, method, &mut Rng::new(4));
            assert_eq!(a, b);
            assert_ne!(a, c);
            for i in 0..a.len() {
                let p = a.row(i);
                assert!((-1.0..1.0).contains(&p[0]) && (0.0..2.0).contains(&p[1]));
            }
        }
    }

    #[test]
    fn latin_hypercube_has_one_point_per_stratum() {
        let dom = BoxDomain::new(vec![0.0, 0.0, 0.0], vec![1.0, 1.0, 1.0]).unwrap();
        let n = 64;
        let pts = dom.sample(n, Sampling::LatinHypercube, &mut Rng::new(11));
        for k in 0..3 {
            let mut strata: Vec<usize> = pts
                .column(k)
                .iter()
                .map(|v| (v * n as f64) as usize)
                .collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn uniform_mean_is_centred() {
        let dom = BoxDomain::new(vec![2.0], vec![4.0]).unwrap();
        let pts = dom.sample(20_000, Sampling::Uniform, &mut Rng::new(5));
        let mean = pts.column(0).iter().sum::<f64>() / pts.len() as f64;
        assert!((mean - 3.0).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn faces_and_boundary() {
        let dom = BoxDomain::new(vec![-1.0, 0.0], vec![1.0, 1.0]).unwrap();
        let mut rng = Rng::new(1);
        let ic = dom
            .sample_face(1, false, 10, Sampling::Uniform, &mut rng)
            .unwrap();
        assert!(ic.column(1).iter().all(|&t| t == 0.0));
        let bc = dom
            .sample_boundary(&[0], 11, Sampling::Uniform, &mut rng)
            .unwrap();
        let xs = bc.column(0);
        assert_eq!(xs.len(), 11);
        assert_eq!(xs.iter().filter(|&&x| x == -1.0).count(), 6);
        assert_eq!(xs.iter().filter(|&&x| x == 1.0).count(), 5);
        assert!(
            dom.sample_face(2, false, 1, Sampling::Uniform, &mut rng)
                .is_err()
        );
        assert!(BoxDomain::new(vec![1.0], vec![0.0]).is_err());
    }

    #[test]
    fn grid_order_last_axis_fastest() {
        let dom = BoxDomain::new(vec![0.0, 0.0], vec![1.0, 2.0]).unwrap();
        let g = dom.grid(&[2, 3]).unwrap();
        assert_eq!(g.row(0), &[0.0, 0.0]);
        assert_eq!(g.row(1), &[0.0, 1.0]);
        assert_eq!(g.row(3), &[1.0, 0.0]);
        assert_eq!(g.len(), 6);
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut rng = Rng::new(9);
        let xs: Vec<f64> = (0..20_000).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
