//! `trainwatch similarity PATH`: the headless form of the similarity tab.
//!
//! Output is either a human summary or, with `--json`, exactly
//! `{"file", "tensor", "dtype", "shape", "rows", "blocks", "edges", "matrix", "zero_rows",
//! "profile", "explanation"}` in that order (a struct's fields serialise in declaration order). NaN cells
//! (blocks with only zero rows) and NaN profile means are `null`.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::checkpoint::{self, Error, ReadMode, SimilarityReport, SimilarityRequest};

/// The command's options, as the CLI parsed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimilarityOptions {
    pub path: PathBuf,
    pub tensor: Option<String>,
    /// `--rows A:B`, half-open.
    pub rows: Option<(usize, usize)>,
    /// `--size B`: blocks per side (default 64, capped at the number of rows).
    pub size: usize,
    pub json: bool,
    /// `--list`: print the candidate tables instead of a map.
    pub list: bool,
    /// `--sinusoidal N,D`.
    pub sinusoidal: Option<(usize, usize)>,
}

pub const DEFAULT_SIZE: usize = 64;

impl Default for SimilarityOptions {
    fn default() -> Self {
        SimilarityOptions {
            path: PathBuf::new(),
            tensor: None,
            rows: None,
            size: DEFAULT_SIZE,
            json: false,
            list: false,
            sinusoidal: None,
        }
    }
}

/// Parses `A:B` (for clap's `value_parser`).
pub fn parse_rows(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s.split_once(':').ok_or_else(|| {
        format!(
            "expected A:B (e.g. 2:514), got {}",
            crate::text::printable(s)
        )
    })?;
    let num = |x: &str| {
        x.trim()
            .parse::<usize>()
            .map_err(|_| format!("{} is not a row number", crate::text::printable(x)))
    };
    let (a, b) = (num(a)?, num(b)?);
    if a >= b {
        return Err(format!("{a}:{b} is empty: A must be less than B"));
    }
    Ok((a, b))
}

/// Parses `N,D` (for clap's `value_parser`).
pub fn parse_sinusoidal(s: &str) -> Result<(usize, usize), String> {
    let (n, d) = s.split_once(',').ok_or_else(|| {
        format!(
            "expected N,D (e.g. 1024,512), got {}",
            crate::text::printable(s)
        )
    })?;
    let num = |x: &str| {
        x.trim()
            .parse::<usize>()
            .map_err(|_| format!("{} is not a number", crate::text::printable(x)))
    };
    Ok((num(n)?, num(d)?))
}

/// Runs the command, writing to `out`.
pub fn run_similarity(opts: &SimilarityOptions, out: &mut dyn Write) -> Result<(), Error> {
    if opts.list && opts.sinusoidal.is_none() {
        return write_list(opts, out);
    }
    let report = checkpoint::compute_similarity(&SimilarityRequest {
        path: opts.path.clone(),
        tensor: opts.tensor.clone(),
        rows: opts.rows,
        blocks: opts.size,
        sinusoidal: opts.sinusoidal,
        read: ReadMode::Mapped,
    })?;
    let text = if opts.json {
        let mut s = to_json(&report);
        s.push('\n');
        s
    } else {
        human(&report)
    };
    out.write_all(text.as_bytes()).map_err(stdout_error)
}

fn stdout_error(e: std::io::Error) -> Error {
    Error::Io {
        file: "<output>".into(),
        source: e,
    }
}

#[derive(Serialize)]
struct JsonPoint {
    distance: usize,
    mean: Option<f64>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    file: &'a str,
    tensor: &'a str,
    dtype: &'a str,
    shape: &'a [usize],
    rows: [usize; 2],
    blocks: usize,
    edges: &'a [usize],
    matrix: Vec<Vec<Option<f64>>>,
    zero_rows: &'a [usize],
    profile: Vec<JsonPoint>,
    /// The map in plain sentences (an addition: every key before it is unchanged).
    explanation: &'a [String],
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The `--json` document for a report.
pub fn to_json(r: &SimilarityReport) -> String {
    let m = &r.map;
    let doc = JsonReport {
        file: &r.title.file,
        tensor: &r.title.tensor,
        dtype: &r.title.dtype,
        shape: &r.title.shape,
        rows: [m.rows.0, m.rows.1],
        blocks: m.blocks(),
        edges: &m.edges,
        matrix: m
            .matrix
            .rows()
            .into_iter()
            .map(|row| row.iter().map(|&v| finite(v)).collect())
            .collect(),
        zero_rows: &m.zero_rows,
        profile: m
            .profile
            .iter()
            .map(|p| JsonPoint {
                distance: p.distance,
                mean: finite(p.mean),
            })
            .collect(),
        explanation: &r.explanation,
    };
    // Serialising plain structs of numbers and strings cannot fail.
    serde_json::to_string(&doc).unwrap_or_default()
}

/// The human summary for a report.
pub fn human(r: &SimilarityReport) -> String {
    use std::fmt::Write as _;
    let (t, m) = (&r.title, &r.map);
    let mut s = String::new();
    let _ = writeln!(s, "file       {}", t.file);
    match t.step {
        Some(step) => {
            let _ = writeln!(s, "step       {step}");
        }
        None => {
            let _ = writeln!(s, "step       unknown");
        }
    }
    let which = match (r.selected, r.candidates.len()) {
        (Some(i), n) if n > 1 => format!("   ({} of {n} candidates; --list shows all)", i + 1),
        _ => String::new(),
    };
    let _ = writeln!(s, "tensor     {}{which}", t.tensor);
    let _ = writeln!(s, "dtype      {}", t.dtype);
    let _ = writeln!(s, "shape      {:?}", t.shape);
    let _ = writeln!(
        s,
        "rows       {}..{} ({} positions)",
        m.rows.0,
        m.rows.1,
        m.rows.1 - m.rows.0
    );
    let zero = if m.zero_rows.is_empty() {
        "none".to_string()
    } else {
        let shown: Vec<String> = m.zero_rows.iter().take(10).map(|z| z.to_string()).collect();
        format!(
            "{}: {}{} (left out of the means)",
            m.zero_rows.len(),
            shown.join(", "),
            if m.zero_rows.len() > 10 { ", …" } else { "" }
        )
    };
    let _ = writeln!(s, "zero rows  {zero}");
    let b = m.blocks();
    let _ = writeln!(s, "blocks     {b} × {b}");
    let _ = writeln!(s, "profile    {}", m.summary);
    let _ = writeln!(s);
    let _ = writeln!(s, "  distance  mean cosine");
    for p in &m.profile {
        let mean = if p.mean.is_nan() {
            "—".to_string()
        } else {
            format!("{:.4}", p.mean)
        };
        let _ = writeln!(s, "  {:>8}  {mean:>11}", p.distance);
    }
    if !r.explanation.is_empty() {
        let _ = writeln!(s);
        for line in &r.explanation {
            let _ = writeln!(s, "{line}");
        }
    }
    s
}

fn write_list(opts: &SimilarityOptions, out: &mut dyn Write) -> Result<(), Error> {
    let list = checkpoint::list_candidates(&opts.path, ReadMode::Mapped)?;
    let file = crate::text::printable_path(list.resolved.main_path());
    let picked = match &opts.tensor {
        Some(t) => list.candidates.iter().position(|c| &c.name == t),
        None => (!list.candidates.is_empty()).then_some(0),
    };
    let text = if opts.json {
        #[derive(Serialize)]
        struct C<'a> {
            name: &'a str,
            dtype: &'a str,
            shape: &'a [usize],
            picked: bool,
        }
        let names: Vec<String> = list
            .candidates
            .iter()
            .map(|c| c.display_name().into_owned())
            .collect();
        let cands: Vec<C> = list
            .candidates
            .iter()
            .zip(&names)
            .enumerate()
            .map(|(i, (c, n))| C {
                name: n,
                dtype: c.dtype.name(),
                shape: &c.shape,
                picked: picked == Some(i),
            })
            .collect();
        let doc = serde_json::json!({"file": file, "step": list.resolved.step, "candidates": cands, "why_none": list.why_none});
        format!("{doc}\n")
    } else {
        let mut s = format!("file  {file}\n");
        if let Some(step) = list.resolved.step {
            s.push_str(&format!("step  {step}\n"));
        }
        if let Some(why) = &list.why_none {
            s.push_str(&format!("no position-table candidates: {why}\n"));
        } else {
            s.push_str("candidates (sorted by name; * = shown):\n");
            let width = list
                .candidates
                .iter()
                .map(|c| c.display_name().chars().count())
                .max()
                .unwrap_or(0);
            for (i, c) in list.candidates.iter().enumerate() {
                let mark = if picked == Some(i) { '*' } else { ' ' };
                s.push_str(&format!(
                    "{mark} {:<width$}  {:<4}  {:?}\n",
                    c.display_name(),
                    c.dtype.name(),
                    c.shape
                ));
            }
        }
        s
    };
    out.write_all(text.as_bytes()).map_err(stdout_error)
}
