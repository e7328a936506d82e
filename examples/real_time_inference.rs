//! Real-time inference with `pinn_jit::inference`: train a small PINN-style MLP, compile it into
//! one native function, and measure it against eager Burn backends.
//!
//! ```text
//! cargo run --release --example real_time_inference            # full run (~1 min)
//! cargo run --release --example real_time_inference -- --quick # fewer repetitions
//! ```
//!
//! The network is the 2 → 64 → 64 → 64 → 1 tanh MLP of a Burgers PINN, `u(x, t)`. It is
//! trained briefly (Adam, on `Autodiff<PinnJitBackend>`) to the Burgers initial/boundary
//! profile `u = -sin(πx)·exp(-t)` — a quick objective standing in for the PINN loss — then
//! compiled with [`CompiledModel::from_module`]. Measured in one run:
//! - single-sample latency (p50 / p99 / max over ≥ 100k calls for the compiled model),
//! - batch-32 latency and batch-4096 throughput,
//! - the same for eager burn-flex, burn-ndarray and PinnJitBackend (`Linear` + `tanh`),
//! - a 1 kHz streaming loop: deadline misses and wake-up jitter.
//!
//! The last line is machine-readable:
//! `real_time: p50_us=… p99_us=… batch32_us=… throughput_sps=… speedup_vs_flex_b1=… speedup_vs_flex_b4096=…`

use std::hint::black_box;
use std::time::{Duration, Instant};

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, ElementConversion, Tensor, TensorData};
use burn_flex::Flex;
use burn_ndarray::NdArray;
use pinn_jit::PinnJitBackend;
use pinn_jit::inference::{CompileOptions, CompiledModel, Tracer, WeightPrecision};

const WIDTHS: [usize; 5] = [2, 64, 64, 64, 1];

/// The PINN's network: `Linear` layers with `tanh` between them.
#[derive(Module, Debug)]
struct Mlp<B: Backend> {
    layers: Vec<Linear<B>>,
}

impl<B: Backend> Mlp<B> {
    fn new(device: &B::Device) -> Self {
        let layers = WIDTHS
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Mlp { layers }
    }

    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        let mut h = x;
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(h);
            if i < last {
                h = h.tanh();
            }
        }
        h
    }
}

/// The same network on another backend (weights copied at full precision).
fn transfer<B1: Backend, B2: Backend>(m: &Mlp<B1>) -> Mlp<B2> {
    let rec = BinBytesRecorder::<FullPrecisionSettings>::default();
    let bytes = Recorder::<B1>::record(&rec, m.clone().into_record(), ()).expect("record");
    let device = Default::default();
    let record = Recorder::<B2>::load(&rec, bytes, &device).expect("load");
    Mlp::<B2>::new(&device).load_record(record)
}

/// Train on `u(x, t) = -sin(πx)·exp(-t)` over `[-1, 1] × [0, 1]`.
fn train(steps: usize) -> Mlp<PinnJitBackend> {
    type B = Autodiff<PinnJitBackend>;
    let device = Default::default();
    B::seed(&device, 7);
    let mut model = Mlp::<B>::new(&device);
    let mut opt = AdamConfig::new().init();
    let mut last = f32::NAN;
    for step in 0..steps {
        let x = Tensor::<B, 2>::random([256, 1], Distribution::Uniform(-1.0, 1.0), &device);
        let t = Tensor::<B, 2>::random([256, 1], Distribution::Uniform(0.0, 1.0), &device);
        let target = -(x.clone() * std::f32::consts::PI).sin() * (-t.clone()).exp();
        let u = model.forward(Tensor::cat(vec![x, t], 1));
        let loss = (u - target).powf_scalar(2.0).mean();
        last = loss.clone().into_scalar().elem::<f32>();
        if step == 0 {
            println!("training: step 0 loss {last:.4}");
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = opt.step(3e-3, model, grads);
    }
    println!("training: step {steps} loss {last:.5}");
    model.valid()
}

#[derive(Clone, Copy, Debug, Default)]
struct Lat {
    p50: f64,
    p99: f64,
    max: f64,
}

/// Per-call latency in µs of `f` over `n` calls (after `n / 10` warm-up calls).
fn latency(n: usize, mut f: impl FnMut(usize)) -> Lat {
    for i in 0..n / 10 {
        f(i);
    }
    let mut t = Vec::with_capacity(n);
    for i in 0..n {
        let s = Instant::now();
        f(i);
        t.push(s.elapsed());
    }
    t.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    Lat {
        p50: us(t[n / 2]),
        p99: us(t[n * 99 / 100]),
        max: us(t[n - 1]),
    }
}

/// Samples per second of `f` (one batch of `rows` per call) from the median call of `calls`
/// timed calls. The median, not the mean: on a loaded machine a mean mostly measures how
/// often the scheduler preempts us.
fn throughput(rows: usize, calls: usize, mut f: impl FnMut()) -> f64 {
    let lat = latency(calls, |_| f());
    rows as f64 / (lat.p50 * 1e-6)
}

/// Inputs: `n` samples `(x, t)` in the training domain.
fn inputs(n: usize) -> Vec<f32> {
    (0..n)
        .flat_map(|i| {
            let x = ((i * 7919) % 2000) as f32 / 1000.0 - 1.0;
            let t = ((i * 104_729) % 1000) as f32 / 1000.0;
            [x, t]
        })
        .collect()
}

/// Eager forward of `rows` samples; returns the outputs (read back, so the work is done).
fn eager<B: Backend>(m: &Mlp<B>, x: &[f32], rows: usize) -> Vec<f32> {
    let t = Tensor::<B, 2>::from_data(TensorData::new(x.to_vec(), [rows, 2]), &Default::default());
    m.forward(t)
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32")
}

struct Row {
    name: &'static str,
    b1: Lat,
    b32_us: f64,
    b4096_sps: f64,
}

/// Latency at batch 1 and 32 and throughput at 4096 of a compiled model.
fn compiled_row(
    name: &'static str,
    m: &CompiledModel,
    pool: &[f32],
    n1: usize,
    reps: usize,
) -> Row {
    let mut y1 = [0.0f32; 1];
    let b1 = latency(n1, |i| {
        let at = 2 * (i % 4096);
        m.infer_into(black_box(&pool[at..at + 2]), &mut y1)
            .expect("sizes match");
        black_box(y1);
    });
    let mut y32 = [0.0f32; 32];
    let b32 = latency(n1 / 10, |i| {
        let at = 64 * (i % 64);
        m.infer_into(black_box(&pool[at..at + 64]), &mut y32)
            .expect("sizes match");
        black_box(y32);
    });
    let mut y4096 = vec![0.0f32; 4096];
    let tp = throughput(4096, reps, || {
        m.infer_into(pool, &mut y4096).expect("sizes match");
        black_box(&y4096);
    });
    Row {
        name,
        b1,
        b32_us: b32.p50,
        b4096_sps: tp,
    }
}

fn eager_row<B: Backend>(name: &'static str, m: &Mlp<B>, quick: bool) -> Row {
    let pool = inputs(4096);
    let n1 = if quick { 2_000 } else { 20_000 };
    let b1 = latency(n1, |i| {
        let at = 2 * (i % 4096);
        black_box(eager(m, &pool[at..at + 2], 1));
    });
    let b32 = latency(n1 / 10, |i| {
        let at = 64 * (i % 64);
        black_box(eager(m, &pool[at..at + 64], 32));
    });
    let b4096_sps = throughput(4096, if quick { 10 } else { 30 }, || {
        black_box(eager(m, &pool, 4096));
    });
    Row {
        name,
        b1,
        b32_us: b32.p50,
        b4096_sps,
    }
}

/// A 1 kHz loop: at each tick, infer one sample; a tick misses its deadline if the result is
/// not ready 1 ms after the tick. Returns (ticks, misses, wake-up lateness p50/p99/max in µs,
/// compute p99 in µs).
fn streaming(model: &CompiledModel, seconds: f64) -> (usize, usize, Lat, f64) {
    let period = Duration::from_millis(1);
    let ticks = (seconds * 1000.0) as usize;
    let start = Instant::now() + period;
    let (mut late, mut compute) = (Vec::with_capacity(ticks), Vec::with_capacity(ticks));
    let mut misses = 0;
    let mut y = [0.0f32; 1];
    for i in 0..ticks {
        let target = start + period * i as u32;
        // Sleep until shortly before the tick, then spin for precision.
        let now = Instant::now();
        if target > now + Duration::from_micros(200) {
            std::thread::sleep(target - now - Duration::from_micros(200));
        }
        while Instant::now() < target {
            std::hint::spin_loop();
        }
        let woke = Instant::now();
        // A sensor reading: a point moving through the domain.
        let s = i as f32 * 1e-3;
        let x = [(s * 3.0).sin(), (s * 0.5).fract()];
        model.infer_into(&x, &mut y).expect("sizes match");
        black_box(y);
        let done = Instant::now();
        if done > target + period {
            misses += 1;
        }
        late.push(woke - target);
        compute.push(done - woke);
    }
    late.sort_unstable();
    compute.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let lat = Lat {
        p50: us(late[ticks / 2]),
        p99: us(late[ticks * 99 / 100]),
        max: us(late[ticks - 1]),
    };
    (ticks, misses, lat, us(compute[ticks * 99 / 100]))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    println!(
        "real_time_inference: {} threads, load average {}",
        rayon::current_num_threads(),
        loadavg()
    );
    let model = train(if quick { 100 } else { 400 });

    // Compile: trace the forward pass on the tracer with the trained weights.
    let t0 = Instant::now();
    let compiled = CompiledModel::from_module(&model, Mlp::<Tracer>::new, 2, |m, x| m.forward(x))
        .expect("the MLP compiles");
    let total = t0.elapsed();
    let one_thread = CompiledModel::compile_with(
        compiled.graph().clone(),
        &CompileOptions {
            parallel_min_rows: usize::MAX,
            ..CompileOptions::default()
        },
    )
    .expect("compiles");
    println!(
        "compile: {:.2} ms (plan + codegen + link), {:.2} ms with tracing and self-check; {} bytes of code",
        compiled.compile_time().as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        compiled.code_size()
    );

    let flex: Mlp<Flex> = transfer(&model);
    let nd: Mlp<NdArray> = transfer(&model);
    let pool = inputs(4096);
    // Correctness on the benchmark inputs.
    let want = eager(&flex, &pool, 4096);
    let got = compiled.infer(&pool).expect("sizes match");
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let err = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs() / (b.abs() + scale))
        .fold(0.0f32, f32::max);
    println!(
        "max |compiled - eager burn-flex| / (|eager| + max |eager|) over 4096 samples: {err:.2e}"
    );

    let n1 = if quick { 20_000 } else { 200_000 };
    let reps = if quick { 200 } else { 1000 };
    let row = compiled_row("compiled (pinn_jit::inference)", &compiled, &pool, n1, reps);
    let (b1, b32_us, tp2) = (row.b1, row.b32_us, row.b4096_sps);
    let tp1 = {
        let mut y4096 = vec![0.0f32; 4096];
        throughput(4096, reps, || {
            one_thread
                .infer_into(&pool, &mut y4096)
                .expect("sizes match");
            black_box(&y4096);
        })
    };
    // The same model with i8 weight codes (per output column) instead of f32.
    let int8 = CompiledModel::compile_with(
        compiled.graph().clone(),
        &CompileOptions {
            weights: WeightPrecision::Int8,
            ..CompileOptions::default()
        },
    )
    .expect("compiles with int8 weights");
    let q = int8.infer(&pool).expect("sizes match");
    let num: f64 = q
        .iter()
        .zip(&got)
        .map(|(a, b)| f64::from(a - b).powi(2))
        .sum();
    let den: f64 = got.iter().map(|b| f64::from(*b).powi(2)).sum();
    let int8_delta = (num / den).sqrt();
    let int8_row = compiled_row("compiled, int8 weights", &int8, &pool, n1, reps);
    let (i1, itp) = (int8_row.b1, int8_row.b4096_sps);
    let rows = [
        row,
        int8_row,
        eager_row("eager burn-flex", &flex, quick),
        eager_row("eager burn-ndarray", &nd, quick),
        eager_row("eager PinnJitBackend", &model, quick),
    ];
    println!();
    println!(
        "| {:<30} | {:>9} | {:>9} | {:>9} | {:>12} | {:>16} |",
        "2→64→64→64→1 tanh, f32",
        "b1 p50 µs",
        "b1 p99 µs",
        "b1 max µs",
        "b32 p50 µs",
        "b4096 samples/s"
    );
    println!(
        "|{:-<32}|{:->11}|{:->11}|{:->11}|{:->14}|{:->18}|",
        "", "", "", "", "", ""
    );
    for r in &rows {
        println!(
            "| {:<30} | {:>9.2} | {:>9.2} | {:>9.1} | {:>12.2} | {:>16.0} |",
            r.name, r.b1.p50, r.b1.p99, r.b1.max, r.b32_us, r.b4096_sps
        );
    }
    println!(
        "compiled, one thread: {:.0} samples/s at batch 4096 ({} calls at batch 1 measured)",
        tp1, n1
    );
    let (ticks, misses, jitter, compute_p99) = streaming(&compiled, if quick { 1.0 } else { 3.0 });
    println!(
        "1 kHz streaming: {ticks} ticks, {misses} deadline misses, wake-up jitter p50 {:.1} µs \
         p99 {:.1} µs max {:.1} µs, compute p99 {:.2} µs",
        jitter.p50, jitter.p99, jitter.max, compute_p99
    );
    println!("load average after the run: {}", loadavg());
    println!(
        "int8 weights: {} bytes of weights vs {} f32 ({:.2}x smaller), relative L2 difference \
         to the f32 model {:.2e}; b1 p50 {:.3} vs {:.3} µs, b4096 {:.0} vs {:.0} samples/s",
        int8.weight_bytes(),
        compiled.weight_bytes(),
        compiled.weight_bytes() as f64 / int8.weight_bytes() as f64,
        int8_delta,
        i1.p50,
        b1.p50,
        itp,
        tp2
    );
    let flex_row = &rows[2];
    println!(
        "real_time: p50_us={:.3} p99_us={:.3} batch32_us={:.3} throughput_sps={:.0} speedup_vs_flex_b1={:.1} speedup_vs_flex_b4096={:.1}",
        b1.p50,
        b1.p99,
        b32_us,
        tp2,
        flex_row.b1.p50 / b1.p50,
        tp2 / flex_row.b4096_sps
    );
}
