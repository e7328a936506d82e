//! L-BFGS with a strong-Wolfe line search, on host `f64` vectors.
//!
//! PINN practice is Adam first, then L-BFGS to polish. The objective is any closure returning
//! `(loss, gradient)` at a parameter vector; for a Burn module use
//! [`flatten_params`](super::flatten_params) / [`load_params`](super::load_params) /
//! [`flatten_grads`](super::flatten_grads) inside the closure. The vector algebra
//! (two-loop recursion, history) runs in `f64` on the host: for PINN-sized networks (10⁴
//! parameters) it costs microseconds against milliseconds for one loss + gradient evaluation,
//! and `f64` keeps the curvature pairs accurate even when the network runs in `f32`.
//!
//! ```
//! use pinn_jit::pinn::{Lbfgs, LbfgsConfig};
//!
//! // Minimise (x − 3)² + 10 (y + 1)².
//! let mut f = |x: &[f64]| {
//!     let loss = (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2);
//!     Ok((loss, vec![2.0 * (x[0] - 3.0), 20.0 * (x[1] + 1.0)]))
//! };
//! let mut opt = Lbfgs::new(LbfgsConfig::new(), vec![0.0, 0.0], &mut f).unwrap();
//! opt.run(&mut f, 50).unwrap();
//! assert!((opt.x()[0] - 3.0).abs() < 1e-6 && (opt.x()[1] + 1.0).abs() < 1e-6);
//! ```

use std::collections::VecDeque;

use burn::config::Config;

use super::error::PinnError;

/// Settings of [`Lbfgs`] (defaults follow PyTorch's `LBFGS(line_search_fn="strong_wolfe")`).
#[derive(Config, Debug)]
pub struct LbfgsConfig {
    /// Number of curvature pairs kept.
    #[config(default = 50)]
    pub history: usize,
    /// Stop when the largest gradient component falls below this.
    #[config(default = 1e-9)]
    pub tolerance_grad: f64,
    /// Stop when the step or the loss change falls below this.
    #[config(default = 1e-12)]
    pub tolerance_change: f64,
    /// Most objective evaluations in one line search.
    #[config(default = 25)]
    pub max_line_search: usize,
    /// Sufficient-decrease constant of the Wolfe conditions.
    #[config(default = 1e-4)]
    pub c1: f64,
    /// Curvature constant of the strong Wolfe conditions.
    #[config(default = 0.9)]
    pub c2: f64,
}

/// Why an L-BFGS iteration ended the run, if it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbfgsStatus {
    /// Keep iterating.
    Running,
    /// The gradient is below `tolerance_grad`.
    GradientConverged,
    /// The step or the loss change is below `tolerance_change`, or the direction is not a
    /// descent direction any more.
    Stalled,
}

/// The L-BFGS optimizer state. Create with [`Lbfgs::new`], advance with
/// [`step`](Lbfgs::step) (one iteration with its line search) or [`run`](Lbfgs::run).
#[derive(Clone, Debug)]
pub struct Lbfgs {
    cfg: LbfgsConfig,
    x: Vec<f64>,
    f: f64,
    g: Vec<f64>,
    s_hist: VecDeque<Vec<f64>>,
    y_hist: VecDeque<Vec<f64>>,
    rho_hist: VecDeque<f64>,
    h_diag: f64,
    prev: Option<(Vec<f64>, Vec<f64>)>,
    iterations: usize,
    evaluations: usize,
}

/// One L-BFGS objective evaluation: `x ↦ (f(x), ∇f(x))`.
pub trait Objective {
    /// Evaluates the loss and its gradient.
    fn eval(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), PinnError>;
}

impl<F: FnMut(&[f64]) -> Result<(f64, Vec<f64>), PinnError>> Objective for F {
    fn eval(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), PinnError> {
        self(x)
    }
}

/// A line-search sample: step `t`, loss, gradient, directional derivative.
type Sample = (f64, f64, Vec<f64>, f64);

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

fn checked_eval<O: Objective + ?Sized>(
    obj: &mut O,
    x: &[f64],
) -> Result<(f64, Vec<f64>), PinnError> {
    let (f, g) = obj.eval(x)?;
    if g.len() != x.len() {
        return Err(PinnError::ShapeMismatch {
            context: "L-BFGS objective gradient (one entry per parameter)",
            expected: vec![x.len()],
            got: vec![g.len()],
        });
    }
    if !f.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Err(PinnError::NonFinite(format!(
            "L-BFGS objective returned loss {f}"
        )));
    }
    Ok((f, g))
}

impl Lbfgs {
    /// Starts at `x0`, evaluating the objective once.
    pub fn new<O: Objective + ?Sized>(
        cfg: LbfgsConfig,
        x0: Vec<f64>,
        obj: &mut O,
    ) -> Result<Self, PinnError> {
        if cfg.history == 0 || !(0.0 < cfg.c1 && cfg.c1 < cfg.c2 && cfg.c2 < 1.0) {
            return Err(PinnError::InvalidConfig(format!(
                "L-BFGS needs history >= 1 and 0 < c1 < c2 < 1 (got history = {}, c1 = {}, \
                 c2 = {})",
                cfg.history, cfg.c1, cfg.c2
            )));
        }
        let (f, g) = checked_eval(obj, &x0)?;
        Ok(Self {
            cfg,
            x: x0,
            f,
            g,
            s_hist: VecDeque::new(),
            y_hist: VecDeque::new(),
            rho_hist: VecDeque::new(),
            h_diag: 1.0,
            prev: None,
            iterations: 0,
            evaluations: 1,
        })
    }

    /// Current parameters.
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// Loss at the current parameters.
    pub fn loss(&self) -> f64 {
        self.f
    }

    /// Largest absolute gradient component at the current parameters.
    pub fn grad_max(&self) -> f64 {
        max_abs(&self.g)
    }

    /// Iterations done.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Objective evaluations done (including the initial one).
    pub fn evaluations(&self) -> usize {
        self.evaluations
    }

    /// Runs up to `max_iters` iterations or until converged; returns the final status.
    pub fn run<O: Objective + ?Sized>(
        &mut self,
        obj: &mut O,
        max_iters: usize,
    ) -> Result<LbfgsStatus, PinnError> {
        for _ in 0..max_iters {
            let status = self.step(obj)?;
            if status != LbfgsStatus::Running {
                return Ok(status);
            }
        }
        Ok(LbfgsStatus::Running)
    }

    /// Switches to a changed objective (e.g. the same loss on resampled collocation points)
    /// at the current parameters: re-evaluates the loss and gradient there and restarts the
    /// curvature history (the old pairs can describe a very different landscape: a PINN fitted
    /// to one point set can have a loss 10⁴× larger on residual-weighted new points), so the
    /// next step is a cautious gradient step as at the start.
    pub fn rebase<O: Objective + ?Sized>(&mut self, obj: &mut O) -> Result<(), PinnError> {
        let (f, g) = checked_eval(obj, &self.x)?;
        self.f = f;
        self.g = g;
        self.prev = None;
        self.s_hist.clear();
        self.y_hist.clear();
        self.rho_hist.clear();
        self.h_diag = 1.0;
        self.evaluations += 1;
        Ok(())
    }

    /// The search direction `−H g` from the two-loop recursion.
    fn direction(&self) -> Vec<f64> {
        let k = self.s_hist.len();
        let mut q: Vec<f64> = self.g.iter().map(|v| -v).collect();
        let mut alpha = vec![0.0; k];
        for i in (0..k).rev() {
            alpha[i] = self.rho_hist[i] * dot(&self.s_hist[i], &q);
            for (qj, yj) in q.iter_mut().zip(&self.y_hist[i]) {
                *qj -= alpha[i] * yj;
            }
        }
        for v in q.iter_mut() {
            *v *= self.h_diag;
        }
        for (i, a) in alpha.iter().enumerate() {
            let beta = self.rho_hist[i] * dot(&self.y_hist[i], &q);
            for (qj, sj) in q.iter_mut().zip(&self.s_hist[i]) {
                *qj += sj * (a - beta);
            }
        }
        q
    }

    /// One iteration: update the curvature history, compute the direction, line-search.
    pub fn step<O: Objective + ?Sized>(&mut self, obj: &mut O) -> Result<LbfgsStatus, PinnError> {
        if max_abs(&self.g) <= self.cfg.tolerance_grad {
            return Ok(LbfgsStatus::GradientConverged);
        }
        if let Some((s, g_old)) = self.prev.take() {
            let y: Vec<f64> = self.g.iter().zip(&g_old).map(|(a, b)| a - b).collect();
            let ys = dot(&y, &s);
            if ys > 1e-10 {
                if self.s_hist.len() == self.cfg.history {
                    self.s_hist.pop_front();
                    self.y_hist.pop_front();
                    self.rho_hist.pop_front();
                }
                self.h_diag = ys / dot(&y, &y);
                self.rho_hist.push_back(1.0 / ys);
                self.s_hist.push_back(s);
                self.y_hist.push_back(y);
            }
        }
        let d = self.direction();
        let t0 = if self.s_hist.is_empty() {
            (1.0 / self.g.iter().map(|v| v.abs()).sum::<f64>()).min(1.0)
        } else {
            1.0
        };
        let gtd = dot(&self.g, &d);
        if gtd > -self.cfg.tolerance_change {
            return Ok(LbfgsStatus::Stalled);
        }
        let f_old = self.f;
        let (f_new, g_new, t, evals) = self.strong_wolfe(obj, &d, t0, gtd)?;
        self.evaluations += evals;
        self.iterations += 1;
        let s: Vec<f64> = d.iter().map(|v| v * t).collect();
        for (xi, si) in self.x.iter_mut().zip(&s) {
            *xi += si;
        }
        let g_old = core::mem::replace(&mut self.g, g_new);
        self.f = f_new;
        let step_max = max_abs(&s);
        self.prev = Some((s, g_old));
        if max_abs(&self.g) <= self.cfg.tolerance_grad {
            Ok(LbfgsStatus::GradientConverged)
        } else if step_max <= self.cfg.tolerance_change
            || (f_new - f_old).abs() < self.cfg.tolerance_change
        {
            Ok(LbfgsStatus::Stalled)
        } else {
            Ok(LbfgsStatus::Running)
        }
    }

    /// Strong-Wolfe line search along `d` (bracketing then zoom with cubic interpolation,
    /// as in Nocedal & Wright, Algorithms 3.5–3.6). Returns `(f, g, t, evaluations)`.
    fn strong_wolfe<O: Objective + ?Sized>(
        &self,
        obj: &mut O,
        d: &[f64],
        mut t: f64,
        gtd: f64,
    ) -> Result<(f64, Vec<f64>, f64, usize), PinnError> {
        let (c1, c2, max_ls) = (self.cfg.c1, self.cfg.c2, self.cfg.max_line_search);
        let f0 = self.f;
        let d_norm = max_abs(d);
        // A trial step that overflows (a non-finite loss or gradient, e.g. the first step
        // after the objective changed) counts as an infinitely bad point: the search then
        // brackets and shrinks the step instead of failing; the iterate never moves there.
        let mut eval_at = |t: f64| -> Result<(f64, Vec<f64>, f64), PinnError> {
            let x: Vec<f64> = self.x.iter().zip(d).map(|(x, d)| x + t * d).collect();
            match checked_eval(obj, &x) {
                Ok((f, g)) => {
                    let gtd = dot(&g, d);
                    Ok((f, g, gtd))
                }
                Err(PinnError::NonFinite(_)) => {
                    Ok((f64::INFINITY, vec![0.0; x.len()], f64::INFINITY))
                }
                Err(e) => Err(e),
            }
        };
        let (mut f_new, mut g_new, mut gtd_new) = eval_at(t)?;
        let mut evals = 1;
        let (mut t_prev, mut f_prev, mut g_prev, mut gtd_prev) = (0.0, f0, self.g.clone(), gtd);
        let mut done = false;
        let mut ls_iter = 0;
        // bracket: (t, f, g, gtd) for the two ends
        let mut bracket: Option<[Sample; 2]> = None;
        while ls_iter < max_ls {
            if f_new > f0 + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev) {
                bracket = Some([
                    (t_prev, f_prev, g_prev.clone(), gtd_prev),
                    (t, f_new, g_new.clone(), gtd_new),
                ]);
                break;
            }
            if gtd_new.abs() <= -c2 * gtd {
                done = true;
                break;
            }
            if gtd_new >= 0.0 {
                bracket = Some([
                    (t_prev, f_prev, g_prev.clone(), gtd_prev),
                    (t, f_new, g_new.clone(), gtd_new),
                ]);
                break;
            }
            let min_step = t + 0.01 * (t - t_prev);
            let max_step = t * 10.0;
            let t_next = cubic_interpolate(
                (t_prev, f_prev, gtd_prev),
                (t, f_new, gtd_new),
                Some((min_step, max_step)),
            );
            t_prev = t;
            f_prev = f_new;
            g_prev = g_new.clone();
            gtd_prev = gtd_new;
            t = t_next;
            (f_new, g_new, gtd_new) = eval_at(t)?;
            evals += 1;
            ls_iter += 1;
        }
        if done {
            return Ok((f_new, g_new, t, evals));
        }
        let mut br = match bracket {
            Some(b) => b,
            None => [
                (0.0, f0, self.g.clone(), gtd),
                (t, f_new, g_new.clone(), gtd_new),
            ],
        };
        let mut insuf_progress = false;
        let (mut lo, mut hi) = if br[0].1 <= br[1].1 { (0, 1) } else { (1, 0) };
        while !done && ls_iter < max_ls {
            if (br[1].0 - br[0].0).abs() * d_norm < self.cfg.tolerance_change {
                break;
            }
            let mut t = cubic_interpolate(
                (br[0].0, br[0].1, br[0].3),
                (br[1].0, br[1].1, br[1].3),
                None,
            );
            let (bmin, bmax) = (br[0].0.min(br[1].0), br[0].0.max(br[1].0));
            let eps = 0.1 * (bmax - bmin);
            if (bmax - t).min(t - bmin) < eps {
                if insuf_progress || t >= bmax || t <= bmin {
                    t = if (t - bmax).abs() < (t - bmin).abs() {
                        bmax - eps
                    } else {
                        bmin + eps
                    };
                    insuf_progress = false;
                } else {
                    insuf_progress = true;
                }
            } else {
                insuf_progress = false;
            }
            let (f_t, g_t, gtd_t) = eval_at(t)?;
            evals += 1;
            ls_iter += 1;
            if f_t > f0 + c1 * t * gtd || f_t >= br[lo].1 {
                br[hi] = (t, f_t, g_t, gtd_t);
                (lo, hi) = if br[0].1 <= br[1].1 { (0, 1) } else { (1, 0) };
            } else {
                if gtd_t.abs() <= -c2 * gtd {
                    done = true;
                } else if gtd_t * (br[hi].0 - br[lo].0) >= 0.0 {
                    br[hi] = br[lo].clone();
                }
                br[lo] = (t, f_t, g_t, gtd_t);
            }
        }
        let (t, f, g, _) = br[lo].clone();
        Ok((f, g, t, evals))
    }
}

/// Minimiser of the cubic through `(x1, f1, g1)` and `(x2, f2, g2)`, clamped to `bounds`
/// (default: the interval between the points); the midpoint when the cubic has no minimum.
fn cubic_interpolate(
    (x1, f1, g1): (f64, f64, f64),
    (x2, f2, g2): (f64, f64, f64),
    bounds: Option<(f64, f64)>,
) -> f64 {
    let (lo, hi) = bounds.unwrap_or((x1.min(x2), x1.max(x2)));
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2_sq = d1 * d1 - g1 * g2;
    if d2_sq >= 0.0 {
        let d2 = d2_sq.sqrt();
        let pos = if x1 <= x2 {
            x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        } else {
            x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        };
        if pos.is_finite() {
            return pos.max(lo).min(hi);
        }
    }
    (lo + hi) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64]) -> Result<(f64, Vec<f64>), PinnError> {
        let n = x.len();
        let mut f = 0.0;
        let mut g = vec![0.0; n];
        for i in 0..n - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            f += 100.0 * a * a + b * b;
            g[i] += -400.0 * x[i] * a - 2.0 * b;
            g[i + 1] += 200.0 * a;
        }
        Ok((f, g))
    }

    #[test]
    fn rosenbrock_converges() {
        for n in [2, 10] {
            // the classic start (−1.2, 1) in 2-D; the origin in 10-D, where (−1.2, 1, …)
            // lies in the basin of the chain's second, local minimum near x_0 = −1
            let x0 = if n == 2 {
                vec![-1.2, 1.0]
            } else {
                vec![0.0; n]
            };
            let mut f = rosenbrock;
            let mut opt = Lbfgs::new(LbfgsConfig::new().with_history(10), x0, &mut f).unwrap();
            let status = opt.run(&mut f, 500).unwrap();
            assert_ne!(status, LbfgsStatus::Running, "did not converge for n = {n}");
            for &xi in opt.x() {
                assert!((xi - 1.0).abs() < 1e-5, "n = {n}: x = {:?}", opt.x());
            }
            assert!(opt.loss() < 1e-11, "n = {n}: loss {}", opt.loss());
            assert!(opt.iterations() < 200, "{} iterations", opt.iterations());
        }
    }

    #[test]
    fn quadratic_converges_in_few_iterations() {
        // f = ½ xᵀ A x − bᵀ x with a diagonal SPD A (condition number 1000)
        let n = 20;
        let a: Vec<f64> = (0..n)
            .map(|i| 1.0 + 999.0 * i as f64 / (n - 1) as f64)
            .collect();
        let b: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
        let mut f = |x: &[f64]| {
            let fx: f64 = (0..n).map(|i| 0.5 * a[i] * x[i] * x[i] - b[i] * x[i]).sum();
            let g = (0..n).map(|i| a[i] * x[i] - b[i]).collect();
            Ok((fx, g))
        };
        let mut opt = Lbfgs::new(LbfgsConfig::new(), vec![0.0; n], &mut f).unwrap();
        opt.run(&mut f, 100).unwrap();
        let f_star: f64 = (0..n).map(|i| -0.5 * b[i] * b[i] / a[i]).sum();
        assert!(
            (opt.loss() - f_star).abs() < 1e-11,
            "{} vs {f_star}",
            opt.loss()
        );
        for i in 0..n {
            assert!(
                (opt.x()[i] - b[i] / a[i]).abs() < 1e-5,
                "x[{i}] = {}",
                opt.x()[i]
            );
        }
        assert!(
            opt.iterations() <= 2 * n + 5,
            "{} iterations",
            opt.iterations()
        );
    }

    #[test]
    fn rebase_continues_on_a_changed_objective() {
        // minimise (x − 1)² + (y − 2)², then switch to (x + 1)² + 4 (y − 3)² mid-run
        let mut f1 = |x: &[f64]| {
            let g = vec![2.0 * (x[0] - 1.0), 2.0 * (x[1] - 2.0)];
            Ok(((x[0] - 1.0).powi(2) + (x[1] - 2.0).powi(2), g))
        };
        let mut opt = Lbfgs::new(LbfgsConfig::new(), vec![0.0, 0.0], &mut f1).unwrap();
        opt.run(&mut f1, 3).unwrap();
        let mut f2 = |x: &[f64]| {
            let g = vec![2.0 * (x[0] + 1.0), 8.0 * (x[1] - 3.0)];
            Ok(((x[0] + 1.0).powi(2) + 4.0 * (x[1] - 3.0).powi(2), g))
        };
        let evals = opt.evaluations();
        opt.rebase(&mut f2).unwrap();
        assert_eq!(opt.evaluations(), evals + 1);
        opt.run(&mut f2, 50).unwrap();
        assert!((opt.x()[0] + 1.0).abs() < 1e-6 && (opt.x()[1] - 3.0).abs() < 1e-6);
    }

    #[test]
    fn overflowing_trial_steps_are_shrunk() {
        // f = x² but any |x| > 2 overflows: the first trial step of the line search lands
        // there, the search must back off and still converge
        let mut f = |x: &[f64]| {
            if x[0].abs() > 2.0 {
                Ok((f64::INFINITY, vec![f64::NAN]))
            } else {
                Ok((x[0] * x[0], vec![2.0 * x[0]]))
            }
        };
        let mut opt = Lbfgs::new(LbfgsConfig::new(), vec![1.5], &mut f).unwrap();
        // a big first step: pretend earlier curvature said the function is very flat
        opt.h_diag = 100.0;
        opt.s_hist.push_back(vec![1.0]);
        opt.y_hist.push_back(vec![0.01]);
        opt.rho_hist.push_back(100.0);
        opt.iterations = 1;
        opt.run(&mut f, 30).unwrap();
        assert!(
            opt.x()[0].abs() < 1e-6 && opt.loss().is_finite(),
            "{:?}",
            opt.x()
        );
    }

    #[test]
    fn non_finite_objective_is_a_typed_error() {
        let mut f = |_: &[f64]| Ok((f64::NAN, vec![0.0]));
        let err = Lbfgs::new(LbfgsConfig::new(), vec![0.0], &mut f).unwrap_err();
        assert!(matches!(err, PinnError::NonFinite(_)));
        let mut g = |_: &[f64]| Ok((1.0, vec![0.0, 1.0]));
        assert!(Lbfgs::new(LbfgsConfig::new(), vec![0.0], &mut g).is_err());
    }

    #[test]
    fn cubic_interpolate_finds_quadratic_minimum() {
        // f = (x − 0.3)², f' = 2 (x − 0.3)
        let f = |x: f64| (x - 0.3f64).powi(2);
        let g = |x: f64| 2.0 * (x - 0.3);
        let t = cubic_interpolate((0.0, f(0.0), g(0.0)), (1.0, f(1.0), g(1.0)), None);
        assert!((t - 0.3).abs() < 1e-12);
    }
}
