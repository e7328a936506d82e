//! Progress lines during training: step, loss terms and speed every `every` steps.

use std::io::Write;
use std::time::Instant;

/// Prints `[phase] step s/total loss=… (term=…, …) N steps/s` every `every` steps and keeps
/// the timing needed for the final summary.
///
/// ```
/// use pinn_jit::pinn::Progress;
/// let mut p = Progress::new("adam", 100, 10).quiet(true);
/// for step in 1..=100 {
///     if p.due(step) {
///         p.report(step, &[("pde", 0.5)]);
///     }
/// }
/// assert!(p.steps_per_second() > 0.0);
/// assert_eq!(p.lines().len(), 10);
/// ```
#[derive(Debug)]
pub struct Progress {
    phase: &'static str,
    total: usize,
    every: usize,
    start: Instant,
    last: Instant,
    last_step: usize,
    quiet: bool,
    lines: Vec<String>,
}

impl Progress {
    /// A reporter for a phase of `total` steps, printing every `every` steps (0: never).
    pub fn new(phase: &'static str, total: usize, every: usize) -> Self {
        let now = Instant::now();
        Self {
            phase,
            total,
            every,
            start: now,
            last: now,
            last_step: 0,
            quiet: false,
            lines: Vec::new(),
        }
    }

    /// Collect lines without printing them (tests).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// Whether `step` (1-based) is a reporting step (every `every`-th and the last).
    pub fn due(&self, step: usize) -> bool {
        self.every > 0 && (step.is_multiple_of(self.every) || step == self.total)
    }

    /// Formats, stores and prints one line for `step` with the given unweighted terms.
    pub fn report(&mut self, step: usize, terms: &[(&'static str, f64)]) {
        let now = Instant::now();
        let dt = now.duration_since(self.last).as_secs_f64();
        let rate = if dt > 0.0 {
            (step - self.last_step) as f64 / dt
        } else {
            0.0
        };
        self.last = now;
        self.last_step = step;
        let total: f64 = terms.iter().map(|t| t.1).sum();
        let detail: Vec<String> = terms.iter().map(|(n, v)| format!("{n}={v:.3e}")).collect();
        let line = format!(
            "[{}] step {:>6}/{} loss={:.4e} ({}) {:.1} steps/s, {:.1} s",
            self.phase,
            step,
            self.total,
            total,
            detail.join(", "),
            rate,
            now.duration_since(self.start).as_secs_f64()
        );
        if !self.quiet {
            println!("{line}");
            let _ = std::io::stdout().flush();
        }
        self.lines.push(line);
    }

    /// Prints a free-form line in the same style.
    pub fn note(&mut self, msg: &str) {
        let line = format!("[{}] {msg}", self.phase);
        if !self.quiet {
            println!("{line}");
        }
        self.lines.push(line);
    }

    /// Seconds since the reporter was created.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Average rate over the last reported step count.
    pub fn steps_per_second(&self) -> f64 {
        let t = self.last.duration_since(self.start).as_secs_f64();
        if t > 0.0 {
            self.last_step as f64 / t
        } else {
            0.0
        }
    }

    /// The lines produced so far.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}
