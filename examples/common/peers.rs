//! `--check-peers DIR`: the Burgers loss at the shared initial weights and points of the
//! peer benchmarks (`DIR/weights/train_init_weights.json`, `DIR/weights/burgers_points_nf1024.csv`),
//! to compare with their expected starting loss 0.8843147 (float32; 0.88431459 in float64).
//!
//! The peers' loss is the soft-constrained one of Raissi et al.:
//! `mean(f²) + mean((u(x, 0) − u0)²) + mean(u(±1, t)²)` on a plain 2-64-64-64-1 tanh MLP
//! without input normalisation, so this check uses [`LossTerms`] and [`linear_stack_jet`]
//! directly rather than the hard-constrained ansatz of the example.

use std::path::Path;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor, TensorData};
use pinn_jit::pinn::{Activation, Jet, JetSpec, LossTerms, PinnError, linear_stack_jet};

/// Parses the JSON array after `"key":` (numbers nested up to three deep) as
/// `layers → rows → numbers`.
fn json_arrays(text: &str, key: &str) -> Result<Vec<Vec<Vec<f64>>>, PinnError> {
    let start = text
        .find(&format!("\"{key}\""))
        .ok_or_else(|| PinnError::Io(format!("no \"{key}\" in the weights file")))?;
    let bytes = &text.as_bytes()[start..];
    let open = bytes
        .iter()
        .position(|&b| b == b'[')
        .ok_or_else(|| PinnError::Io(format!("\"{key}\" is not an array")))?;
    let mut pos = open;
    let value = parse_value(bytes, &mut pos)?;
    let outer = match value {
        Json::List(v) => v,
        Json::Num(_) => return Err(PinnError::Io(format!("\"{key}\" is a number"))),
    };
    // normalise to depth 3: a list (layers) of lists (rows) of numbers
    outer
        .into_iter()
        .map(|layer| match layer {
            Json::List(rows) => rows
                .into_iter()
                .map(|r| match r {
                    Json::List(nums) => nums.into_iter().map(num).collect(),
                    Json::Num(x) => Ok(vec![x]),
                })
                .collect(),
            Json::Num(x) => Ok(vec![vec![x]]),
        })
        .collect()
}

enum Json {
    Num(f64),
    List(Vec<Json>),
}

fn num(j: Json) -> Result<f64, PinnError> {
    match j {
        Json::Num(x) => Ok(x),
        Json::List(_) => Err(PinnError::Io("unexpected nested array".into())),
    }
}

fn parse_value(b: &[u8], pos: &mut usize) -> Result<Json, PinnError> {
    while *pos < b.len() && b[*pos].is_ascii_whitespace() {
        *pos += 1;
    }
    if b.get(*pos) == Some(&b'[') {
        *pos += 1;
        let mut items = Vec::new();
        loop {
            while *pos < b.len() && (b[*pos].is_ascii_whitespace() || b[*pos] == b',') {
                *pos += 1;
            }
            if b.get(*pos) == Some(&b']') {
                *pos += 1;
                return Ok(Json::List(items));
            }
            if *pos >= b.len() {
                return Err(PinnError::Io(
                    "unterminated array in the weights file".into(),
                ));
            }
            items.push(parse_value(b, pos)?);
        }
    }
    let start = *pos;
    while *pos < b.len() && !matches!(b[*pos], b',' | b']' | b'}') && !b[*pos].is_ascii_whitespace()
    {
        *pos += 1;
    }
    let s = std::str::from_utf8(&b[start..*pos]).map_err(|e| PinnError::Io(e.to_string()))?;
    s.parse()
        .map(Json::Num)
        .map_err(|_| PinnError::Io(format!("bad number '{s}' in the weights file")))
}

/// Loads the peers' weights (torch layout `W[out][in]`) as Burn `Linear` layers.
pub fn load_layers<B: Backend>(
    path: &Path,
    device: &B::Device,
) -> Result<Vec<Linear<B>>, PinnError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| PinnError::Io(format!("cannot read {}: {e}", path.display())))?;
    let weights = json_arrays(&text, "weights")?;
    let biases = json_arrays(&text, "biases")?;
    weights
        .iter()
        .zip(&biases)
        .map(|(w, b)| {
            let (d_out, d_in) = (w.len(), w[0].len());
            // Burn's Linear stores [in, out]: transpose the torch matrix
            let mut data = vec![0.0; d_in * d_out];
            for (o, row) in w.iter().enumerate() {
                for (i, v) in row.iter().enumerate() {
                    data[i * d_out + o] = *v;
                }
            }
            let bias: Vec<f64> = b.iter().map(|r| r[0]).collect();
            Ok(Linear {
                weight: Param::from_tensor(Tensor::from_data(
                    TensorData::new(data, [d_in, d_out]),
                    device,
                )),
                bias: Some(Param::from_tensor(Tensor::from_data(
                    TensorData::new(bias, [d_out]),
                    device,
                ))),
            })
        })
        .collect()
}

/// Reads `kind,x,t,u` rows; returns `(points, u)` per kind `f`, `i`, `b`.
/// Point coordinates (row-major, 2 columns) and, for the initial points, the target values.
pub type PointSet = (Vec<f64>, Vec<f64>);

pub fn load_points(path: &Path) -> Result<[PointSet; 3], PinnError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| PinnError::Io(format!("cannot read {}: {e}", path.display())))?;
    let mut out: [PointSet; 3] = Default::default();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let k = match cols.first() {
            Some(&"f") => 0,
            Some(&"i") => 1,
            Some(&"b") => 2,
            _ => continue,
        };
        let p = |i: usize| -> Result<f64, PinnError> {
            cols.get(i)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| PinnError::Io(format!("bad row '{line}' in {}", path.display())))
        };
        out[k].0.extend([p(1)?, p(2)?]);
        if k == 1 {
            out[k].1.push(p(3)?);
        }
    }
    Ok(out)
}

/// The total loss and its unweighted terms.
pub type PeersLoss = (f64, Vec<(&'static str, f64)>);

/// Computes the peers' starting loss with backend `B`; returns `(total, [pde, ic, bc])`.
pub fn check_peers<B: Backend>(
    dir: &Path,
    nu: f64,
    device: &B::Device,
) -> Result<PeersLoss, PinnError> {
    let layers = load_layers::<B>(&dir.join("weights/train_init_weights.json"), device)?;
    let [(xf, _), (xi, ui), (xb, _)] = load_points(&dir.join("weights/burgers_points_nf1024.csv"))?;
    let tensor = |v: &Vec<f64>, cols: usize| {
        Tensor::<B, 2>::from_data(TensorData::new(v.clone(), [v.len() / cols, cols]), device)
    };
    let spec = JetSpec::new(2).with_second(&[(0, 0)]);
    let u = linear_stack_jet(&layers, Activation::Tanh, Jet::seed(tensor(&xf, 2), &spec)?);
    let f = u.d(1) + u.value() * u.d(0) - u.d2(0, 0)?.mul_scalar(nu);
    let forward = |x: Tensor<B, 2>| {
        let (last, hidden) = layers.split_last().expect("layers");
        let h = hidden
            .iter()
            .fold(x, |h, l| Activation::Tanh.forward(l.forward(h)));
        last.forward(h)
    };
    let u_ic = forward(tensor(&xi, 2)) - tensor(&ui, 1);
    let u_bc = forward(tensor(&xb, 2));
    let loss = LossTerms::new()
        .mse("pde", 1.0, f)
        .mse("ic", 1.0, u_ic)
        .mse("bc", 1.0, u_bc);
    let total = loss.total().into_scalar().elem::<f64>();
    Ok((total, loss.values()))
}

/// `--check-reference CSV`: compares the in-repo Cole–Hopf reference with an `x,t,u` CSV
/// (e.g. the peers' `burgers_reference.csv`, 600-node Gauss–Hermite); returns
/// `(rows, max |u_repo − u_csv|, relative L2 of the difference)`.
pub fn check_reference(
    path: &Path,
    exact: &pinn_jit::pinn::reference::BurgersColeHopf,
) -> Result<(usize, f64, f64), PinnError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| PinnError::Io(format!("cannot read {}: {e}", path.display())))?;
    let (mut rows, mut max_abs, mut num, mut den) = (0usize, 0.0f64, 0.0f64, 0.0f64);
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<f64> = line
            .split(',')
            .map(|s| s.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| PinnError::Io(format!("bad row '{line}' in {}", path.display())))?;
        let [x, t, u] = cols[..] else {
            return Err(PinnError::Io(format!(
                "row '{line}' of {} does not have the 3 columns x,t,u",
                path.display()
            )));
        };
        let d = exact.u(x, t) - u;
        max_abs = max_abs.max(d.abs());
        num += d * d;
        den += u * u;
        rows += 1;
    }
    if rows == 0 {
        return Err(PinnError::Io(format!("no data rows in {}", path.display())));
    }
    Ok((rows, max_abs, (num / den).sqrt()))
}
