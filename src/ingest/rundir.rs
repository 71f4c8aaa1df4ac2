//! A run directory: find what to watch inside it. Looked for (up to [`MAX_DEPTH`] levels down,
//! at most [`MAX_ENTRIES`] entries, hidden folders skipped): text logs that hold the metric,
//! TensorBoard event files, `metrics.csv`, `trainer_state.json`; and the newest checkpoint.

use super::decoder::LogDecoder;
use super::formats::MetricSpec;
use super::source::{event_files, SourceKind};
use super::{lightning_csv, SourceError};
use crate::text::printable_path;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub const MAX_DEPTH: usize = 4;
pub const MAX_ENTRIES: usize = 50_000;
/// How much of a candidate file is read to see whether it holds the metric.
const PROBE: u64 = 4 << 20;
/// Text files probed at most (newest first).
const MAX_PROBED: usize = 64;

/// What was picked in a run directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    /// The file (or folder of event files) to read.
    pub log: PathBuf,
    pub kind: SourceKind,
    /// The run directory, when a checkpoint was found in it (for tab 2).
    pub checkpoint: Option<PathBuf>,
    /// Whether the picked source was seen to hold the metric.
    pub has_metric: bool,
}

impl Picked {
    /// One line for the user: what was picked.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "watching {} ({}{})",
            printable_path(&self.log),
            self.kind.describe(),
            if self.has_metric {
                ""
            } else {
                ", the metric not seen yet"
            }
        );
        if let Some(c) = &self.checkpoint {
            s.push_str(&format!("; checkpoints from {}", printable_path(c)));
        }
        s
    }
}

/// What the walk found.
#[derive(Debug, Default)]
struct Found {
    text: Vec<(SystemTime, PathBuf)>,
    event_dirs: Vec<PathBuf>,
    csv: Vec<(SystemTime, PathBuf)>,
    states: Vec<(SystemTime, PathBuf)>,
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn is_text_candidate(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let ext_ok = [".log", ".out", ".txt", ".err"]
        .iter()
        .any(|e| lower.ends_with(e));
    let binary = [
        ".json",
        ".csv",
        ".safetensors",
        ".bin",
        ".pt",
        ".pth",
        ".ckpt",
        ".npy",
        ".py",
        ".sh",
        ".yaml",
        ".yml",
    ]
    .iter()
    .any(|e| lower.ends_with(e));
    ext_ok || (lower.starts_with("train") && !binary)
}

fn walk(dir: &Path) -> Found {
    let mut found = Found::default();
    let mut queue = vec![(dir.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    let mut qi = 0;
    while qi < queue.len() {
        let (d, depth) = queue[qi].clone();
        qi += 1;
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut has_events = false;
        for e in rd.filter_map(|e| e.ok()) {
            seen += 1;
            if seen > MAX_ENTRIES {
                return found;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(ft) = e.file_type() else { continue };
            let path = e.path();
            if ft.is_dir() {
                let skip = name.starts_with('.')
                    || matches!(
                        name.as_str(),
                        "node_modules" | "__pycache__" | "site-packages" | "venv"
                    );
                if depth < MAX_DEPTH && !skip {
                    queue.push((path, depth + 1));
                }
                continue;
            }
            if !ft.is_file() {
                continue;
            }
            if name.contains("tfevents") {
                has_events = true;
            } else if name == "trainer_state.json" {
                found.states.push((mtime(&path), path));
            } else if name == "metrics.csv" {
                found.csv.push((mtime(&path), path));
            } else if is_text_candidate(&name) {
                found.text.push((mtime(&path), path));
            }
        }
        if has_events {
            found.event_dirs.push(d);
        }
    }
    found
}

/// Whether the first MBs of a text log yield a record of the metric.
fn text_has_metric(path: &Path, metric: &MetricSpec) -> bool {
    let mut buf = Vec::new();
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    if f.take(PROBE).read_to_end(&mut buf).is_err() {
        return false;
    }
    let mut d = LogDecoder::new(metric.clone(), None);
    d.feed(&buf);
    d.finish();
    let b = d.take_batch();
    !b.steps.is_empty() || !b.aggregates.is_empty()
}

/// Whether the first MBs of a file contain one of the metric's names (a substring test).
fn bytes_have_metric(path: &Path, metric: &MetricSpec) -> bool {
    let mut buf = Vec::new();
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    if f.take(PROBE).read_to_end(&mut buf).is_err() {
        return false;
    }
    metric.may_match(&buf)
}

fn csv_has_metric(path: &Path, metric: &MetricSpec) -> bool {
    let mut buf = Vec::new();
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    if f.take(1 << 20).read_to_end(&mut buf).is_err() {
        return false;
    }
    let header = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    lightning_csv::Columns::from_header(header, metric)
        .metric
        .is_some()
}

/// The newest checkpoint's trainer state: highest `checkpoint-<step>` folder, then mtime.
fn state_rank(p: &Path, t: SystemTime) -> (u64, SystemTime) {
    let step = p
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|n| crate::checkpoint::resolve::step_from_name(&n.to_string_lossy()))
        .unwrap_or(0);
    (step, t)
}

/// Finds what to watch in `dir`.
pub fn find(dir: &Path, metric: &MetricSpec) -> Result<Picked, SourceError> {
    let mut found = walk(dir);
    let checkpoint = crate::checkpoint::resolve(dir)
        .ok()
        .map(|_| dir.to_path_buf());
    let pick = |log: PathBuf, kind, has_metric| Picked {
        log,
        kind,
        checkpoint: checkpoint.clone(),
        has_metric,
    };

    // 1. A text log that holds the metric (newest first).
    found.text.sort_by_key(|a| std::cmp::Reverse(a.0));
    for (_, p) in found.text.iter().take(MAX_PROBED) {
        if text_has_metric(p, metric) {
            return Ok(pick(p.clone(), SourceKind::TextLog, true));
        }
    }

    // 2. Event files: the folder whose files name the metric, newest first.
    let mut events: Vec<(bool, SystemTime, PathBuf)> = found
        .event_dirs
        .iter()
        .map(|d| {
            let files = event_files(d);
            let has = files.iter().any(|f| bytes_have_metric(f, metric));
            let newest = files.iter().map(|f| mtime(f)).max();
            let log = if files.len() == 1 {
                files[0].clone()
            } else {
                d.clone()
            };
            (has, newest.unwrap_or(SystemTime::UNIX_EPOCH), log)
        })
        .collect();
    events.sort_by_key(|a| std::cmp::Reverse((a.0, a.1)));
    found.csv.sort_by_key(|a| std::cmp::Reverse(a.0));
    found
        .states
        .sort_by_key(|a| std::cmp::Reverse(state_rank(&a.1, a.0)));

    let csv_with = found.csv.iter().find(|(_, p)| csv_has_metric(p, metric));
    let state_with = found
        .states
        .iter()
        .find(|(_, p)| bytes_have_metric(p, metric));
    if let Some((true, _, p)) = events.first() {
        return Ok(pick(p.clone(), SourceKind::TensorBoard, true));
    }
    if let Some((_, p)) = csv_with {
        return Ok(pick(p.clone(), SourceKind::LightningCsv, true));
    }
    if let Some((_, p)) = state_with {
        return Ok(pick(p.clone(), SourceKind::TrainerState, true));
    }
    // Nothing names the metric (yet): the best source anyway, the reader will say what it has.
    if let Some((_, _, p)) = events.first() {
        return Ok(pick(p.clone(), SourceKind::TensorBoard, false));
    }
    if let Some((_, p)) = found.csv.first() {
        return Ok(pick(p.clone(), SourceKind::LightningCsv, false));
    }
    if let Some((_, p)) = found.states.first() {
        return Ok(pick(p.clone(), SourceKind::TrainerState, false));
    }
    Err(SourceError::NothingFound {
        path: printable_path(dir),
        what: metric_words(metric),
        depth: MAX_DEPTH,
    })
}

fn metric_words(metric: &MetricSpec) -> String {
    if metric.is_gnorm() {
        "gradient norms".to_string()
    } else {
        format!("'{}'", crate::text::printable(&metric.label))
    }
}
