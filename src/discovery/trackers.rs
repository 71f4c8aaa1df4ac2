//! Runs written by experiment trackers, found as runs: W&B (`wandb/`, `wandb/latest-run`, a
//! `run-*` / `offline-run-*` folder holding `run-<id>.wandb`) and MLflow's file store
//! (`mlruns/`, an experiment folder, a run folder `mlruns/<exp>/<run>/`). Each function
//! returns every run it finds, oldest first, for a caller that lists them (a sweep); the
//! single-run views take the newest ([`newest`]).

use super::probe::bytes_have_metric;
use super::{Checkpoints, Chosen, FoundSource, Run};
use crate::ingest::source::SourceKind;
use crate::ingest::MetricSpec;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Runs looked at at most under one root.
const MAX_RUNS: usize = 4096;

/// A run a tracker wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCandidate {
    /// The run's folder.
    pub dir: PathBuf,
    /// What is read: the `.wandb` file, or the MLflow run folder.
    pub source: PathBuf,
    pub kind: SourceKind,
    /// The tracker's run id (W&B: from the folder name, `run-<date>-<id>`; MLflow: the folder).
    pub id: Option<String>,
    /// Sorts the runs: W&B's `<date>_<time>` from the folder name, MLflow's start time.
    order: (String, SystemTime),
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .take(MAX_RUNS)
        .collect();
    v.sort();
    v
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// A W&B run folder (`run-<date>_<time>-<id>` or `offline-run-…`): its `.wandb` file.
pub fn wandb_run(dir: &Path) -> Option<RunCandidate> {
    let name = dir.file_name()?.to_string_lossy().into_owned();
    let stem = name.strip_prefix("offline-").unwrap_or(&name);
    let rest = stem.strip_prefix("run-")?;
    let (date, id) = match rest.rsplit_once('-') {
        Some((d, i)) => (d.to_string(), i.to_string()),
        None => (String::new(), rest.to_string()),
    };
    let named = dir.join(format!("run-{id}.wandb"));
    let source = if named.is_file() {
        named
    } else {
        // Any `.wandb` file in it (an id the folder name does not carry).
        std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "wandb"))?
    };
    Some(RunCandidate {
        dir: dir.to_path_buf(),
        source,
        kind: SourceKind::Wandb,
        id: Some(id),
        order: (date, mtime(dir)),
    })
}

/// The W&B runs at `root`: a run folder, `wandb/latest-run`, a `wandb/` folder of runs, or a
/// project folder with a `wandb/` in it.
pub fn wandb_runs(root: &Path) -> Vec<RunCandidate> {
    if let Some(run) = wandb_run(root) {
        return vec![run];
    }
    // `latest-run` is a link to a run folder: named itself, it is that run.
    if root.file_name().is_some_and(|n| n == "latest-run") {
        if let Ok(target) = std::fs::canonicalize(root) {
            return wandb_run(&target).into_iter().collect();
        }
    }
    let mut runs: Vec<RunCandidate> = subdirs(root)
        .iter()
        .filter(|d| d.file_name().is_none_or(|n| n != "latest-run"))
        .filter_map(|d| wandb_run(d))
        .collect();
    if runs.is_empty() && root.join("wandb").is_dir() {
        return wandb_runs(&root.join("wandb"));
    }
    runs.sort_by(|a, b| a.order.cmp(&b.order));
    // A run resumed into a new folder (the same id) is one run, its oldest folder standing for
    // it: its source reads on into the later folders (`ingest::wandb::resume`).
    let mut ids = std::collections::HashSet::new();
    runs.retain(|r| r.id.as_ref().is_none_or(|id| ids.insert(id.clone())));
    runs
}

/// An MLflow file-store run folder.
pub fn mlflow_run(dir: &Path) -> Option<RunCandidate> {
    if !crate::ingest::mlflow::is_run_dir(dir) {
        return None;
    }
    Some(RunCandidate {
        dir: dir.to_path_buf(),
        source: dir.to_path_buf(),
        kind: SourceKind::Mlflow,
        id: dir.file_name().map(|n| n.to_string_lossy().into_owned()),
        order: (String::new(), mtime(&dir.join("meta.yaml"))),
    })
}

/// An MLflow SQLite store: `root` itself, or an `mlflow.db` in it. One candidate: the
/// source picks the newest run that logged the metric.
pub fn mlflow_db(root: &Path) -> Option<RunCandidate> {
    let db = if root.is_file() {
        root.to_path_buf()
    } else {
        root.join("mlflow.db")
    };
    let mut head = [0u8; 16];
    let f = std::fs::File::open(&db).ok()?;
    std::os::unix::fs::FileExt::read_exact_at(&f, &mut head, 0).ok()?;
    if !crate::ingest::mlflow::sqlite::looks_like("", &head) {
        return None;
    }
    Some(RunCandidate {
        dir: db.parent().unwrap_or(Path::new(".")).to_path_buf(),
        source: db.clone(),
        kind: SourceKind::Mlflow,
        id: None,
        order: (String::new(), mtime(&db)),
    })
}

/// The MLflow runs at `root`: a run folder, an experiment folder of runs, or `mlruns/`; or,
/// when there are none, an `mlflow.db`.
pub fn mlflow_runs(root: &Path) -> Vec<RunCandidate> {
    if let Some(run) = mlflow_run(root) {
        return vec![run];
    }
    let mut runs = mlflow_store_runs(root);
    if runs.is_empty() {
        runs.extend(mlflow_db(root));
    }
    runs
}

fn mlflow_store_runs(root: &Path) -> Vec<RunCandidate> {
    let in_experiment = |exp: &Path| -> Vec<RunCandidate> {
        subdirs(exp).iter().filter_map(|d| mlflow_run(d)).collect()
    };
    let mut runs = in_experiment(root);
    if runs.is_empty() {
        let store = if root.join("mlruns").is_dir() {
            root.join("mlruns")
        } else {
            root.to_path_buf()
        };
        runs = subdirs(&store)
            .iter()
            .filter(|d| {
                !d.file_name()
                    .is_some_and(|n| n == ".trash" || n == "models")
            })
            .filter(|d| d.join("meta.yaml").is_file())
            .flat_map(|d| in_experiment(d))
            .take(MAX_RUNS)
            .collect();
    }
    runs.sort_by(|a, b| a.order.cmp(&b.order));
    runs
}

/// Every tracker run at `root` (W&B first, then MLflow), oldest first within each.
pub fn tracker_runs(root: &Path) -> Vec<RunCandidate> {
    let mut runs = wandb_runs(root);
    if runs.is_empty() {
        runs = mlflow_runs(root);
    }
    runs
}

/// The newest of the runs (what a single-run view shows).
pub fn newest(runs: &[RunCandidate]) -> Option<&RunCandidate> {
    runs.last()
}

impl RunCandidate {
    /// This run as a [`Run`], its source probed for the metric.
    pub fn to_run(&self, metric: &MetricSpec) -> Run {
        let has_metric = match self.kind {
            SourceKind::Mlflow if self.source.is_file() => None,
            SourceKind::Mlflow => Some(
                crate::ingest::mlflow::filestore::key_of(
                    &crate::ingest::mlflow::filestore::metric_keys(&self.source),
                    metric,
                )
                .is_some(),
            ),
            _ => Some(bytes_have_metric(&self.source, metric)),
        };
        Run {
            dir: Some(self.dir.clone()),
            sources: vec![FoundSource {
                path: self.source.clone(),
                kind: self.kind,
                has_metric,
            }],
            chosen: Chosen::Found(0),
            checkpoints: Checkpoints::default(),
        }
    }
}
