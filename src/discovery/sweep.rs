//! Sweeps: a folder holding several runs. How a folder is told to be one run or a sweep:
//! 1. a folder whose **own** files hold the metric (a text log with it, event files, a
//!    `metrics.csv`, a `trainer_state.json` directly in it) is one run, whatever its subfolders
//!    hold: `run/train.log` beside `run/out/checkpoint-*/trainer_state.json` is one run;
//! 2. otherwise each subfolder (not hidden, not a tool folder, not a checkpoint folder such as
//!    `checkpoint-500/`) is looked at the same way (one run found in a logger's folder —
//!    [`LOGGER_DIRS`]: `lightning_logs/`, `runs/`, `logs/`, … — is part of this folder's run;
//!    two or more there are runs), up to [`MAX_NESTING`] levels down
//!    (`sweep/lr_1e-3/seed_1/`), and the runs found in them are counted: it is a sweep when two
//!    or more of them hold the metric in a log (text, event files, CSV), or when none does
//!    and two or more hold it in a trainer state (a sweep of Hugging Face `output_dir`s);
//! 3. anything else (one log-bearing subfolder beside `out/checkpoint-*`) is one run, searched
//!    as a run folder.

use super::run_folder::{is_text_candidate, search};
use super::Run;
use crate::fswalk::is_tool_dir;
use crate::ingest::source::SourceKind;
use crate::ingest::MetricSpec;
use std::path::{Path, PathBuf};

/// How many folder levels below the named one runs are looked for.
pub const MAX_NESTING: usize = 3;
/// Subfolders looked at per folder (a dataset folder is not walked whole).
pub const MAX_CHILDREN: usize = 1000;
/// Text files of a folder's own probed at most for the metric.
const MAX_OWN_PROBED: usize = 16;

/// The runs in `dir` when it is a sweep (two or more), in name order; `None` when it is one
/// run (or holds none): the caller searches it as a run folder.
pub fn runs_in(dir: &Path, metric: &MetricSpec) -> Option<Vec<Run>> {
    let runs = runs_under(dir, metric, 0);
    (runs.len() >= 2).then_some(runs)
}

/// The runs under `dir` (itself as one run when it is not a sweep).
fn runs_under(dir: &Path, metric: &MetricSpec, depth: usize) -> Vec<Run> {
    let single = || search(dir, metric).ok().filter(holds_metric);
    if depth > 0 && (depth >= MAX_NESTING || has_own_source(dir, metric)) {
        return single().into_iter().collect();
    }
    if depth == 0 && has_own_source(dir, metric) {
        return Vec::new();
    }
    let mut found: Vec<Run> = Vec::new();
    for child in subfolders(dir) {
        let runs = runs_under(&child, metric, depth + 1);
        // One run in a logger's folder is a facet of this folder's run, not a run of its own.
        if runs.len() == 1 && is_logger_dir(&child) {
            continue;
        }
        found.extend(runs);
    }
    let logs = found.iter().filter(|r| !from_trainer_state(r)).count();
    let sweep = logs >= 2 || (logs == 0 && found.len() >= 2);
    if sweep {
        found.sort_by(|a, b| run_path(a).cmp(run_path(b)));
        found
    } else if depth == 0 {
        Vec::new()
    } else {
        single().into_iter().collect()
    }
}

/// Folders loggers create inside a run folder (`lightning_logs/`, TensorBoard's `runs/`, …).
pub const LOGGER_DIRS: &[&str] = &[
    "lightning_logs",
    "runs",
    "logs",
    "log",
    "tensorboard",
    "tb",
    "tb_logs",
    "events",
    "wandb",
    "mlruns",
    "csv_logs",
];

fn is_logger_dir(dir: &Path) -> bool {
    dir.file_name()
        .is_some_and(|n| LOGGER_DIRS.contains(&n.to_string_lossy().to_ascii_lowercase().as_str()))
}

fn holds_metric(run: &Run) -> bool {
    run.found_source()
        .is_some_and(|s| s.has_metric == Some(true))
}

fn from_trainer_state(run: &Run) -> bool {
    run.found_source()
        .is_some_and(|s| s.kind == SourceKind::TrainerState)
}

/// The folder a run stands for (its source when it has none).
pub fn run_path(run: &Run) -> &Path {
    run.dir.as_deref().unwrap_or_else(|| run.source_path())
}

/// The subfolders that may be runs, in name order.
pub(super) fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .take(MAX_CHILDREN * 4)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !is_tool_dir(&name)
                && super::checkpoints::step_dir(&name).is_none()
                && !name.starts_with("tmp-checkpoint")
        })
        .map(|e| e.path())
        .take(MAX_CHILDREN)
        .collect();
    out.sort();
    out
}

/// Whether `dir`'s own files (not its subfolders') are a source of the metric.
fn has_own_source(dir: &Path, metric: &MetricSpec) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut probed = 0;
    for e in rd.filter_map(Result::ok).take(crate::fswalk::MAX_ENTRIES) {
        if !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name.contains("tfevents") {
            return true;
        }
        if name == "metrics.csv" && super::probe::csv_has_metric(&path, metric) {
            return true;
        }
        if name == "trainer_state.json" && super::probe::bytes_have_metric(&path, metric) {
            return true;
        }
        if is_text_candidate(&name) && probed < MAX_OWN_PROBED {
            probed += 1;
            if super::probe::text_has_metric(&path, metric) {
                return true;
            }
        }
    }
    false
}
