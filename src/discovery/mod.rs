//! Discovery: from what the user named (a log, a folder of event files, a run folder) to a
//! [`RunManifest`] — the runs in it, each with the sources found, the one chosen to read, and
//! its checkpoints. It sits above [`crate::ingest`] and [`crate::checkpoint`] (it asks them what
//! a file holds) and below every view: `main.rs` calls [`discover`] once and hands the result
//! to the TUI, the one-shot reader and the follower.
//!
//! A run folder is walked once with [`crate::fswalk`] ([`run_folder`] says what is preferred).

pub mod checkpoints;
mod probe;
pub mod run_folder;
pub mod sweep;
pub mod sweep_watch;
pub mod trackers;

use crate::ingest::source::{event_files, SourceKind};
use crate::ingest::MetricSpec;
use crate::text::printable_path;
use std::path::{Path, PathBuf};

/// What the user named, and what they chose themselves.
#[derive(Debug, Clone)]
pub struct Request {
    /// A log, a folder of event files, or a run folder.
    pub path: PathBuf,
    /// What the sources are probed for.
    pub metric: MetricSpec,
    /// `--log`: read this instead of searching the folder.
    pub log: Option<PathBuf>,
    /// `--checkpoint`: what tab 2 follows, instead of the run folder.
    pub checkpoint: Option<PathBuf>,
}

impl Request {
    pub fn new(path: impl Into<PathBuf>, metric: &MetricSpec) -> Self {
        Request {
            path: path.into(),
            metric: metric.clone(),
            log: None,
            checkpoint: None,
        }
    }
}

/// Everything found under one root: one run, or the runs of a sweep ([`sweep`]) or of several
/// named paths ([`discover_all`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RunManifest {
    pub root: PathBuf,
    /// Never empty.
    pub runs: Vec<Run>,
}

/// One training run: where its metrics are and where its checkpoints are.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The run's folder, when it was searched or `--log` was given with it.
    pub dir: Option<PathBuf>,
    /// The sources the search found, best first (empty when the user named the source).
    pub sources: Vec<FoundSource>,
    pub chosen: Chosen,
    pub checkpoints: Checkpoints,
}

/// A source found in a run folder.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundSource {
    /// A file, or a folder of event files.
    pub path: PathBuf,
    pub kind: SourceKind,
    /// Whether its first MBs hold the metric; `None`: not looked at, because a source ahead
    /// of it already does.
    pub has_metric: Option<bool>,
}

/// Which source a run is read from.
#[derive(Debug, Clone, PartialEq)]
pub enum Chosen {
    /// The path the user gave (a file, a folder of event files, `--log`): read as it is.
    Named(PathBuf),
    /// `sources[i]`, picked by the search.
    Found(usize),
}

/// A run's checkpoints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checkpoints {
    /// What tab 2 follows: a checkpoint file or index, or the folder to wait in for the first
    /// one (a run folder is watched even before its first checkpoint lands).
    pub watch: Option<PathBuf>,
    /// The checkpoints found, in step order ([`checkpoints::from_entries`]).
    pub found: Vec<FoundCheckpoint>,
}

/// A checkpoint found for a run (see [`checkpoints`]).
pub type FoundCheckpoint = crate::core::CheckpointRef;

/// Why nothing could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: nothing to watch found (looked up to {depth} folders deep for a text log with {what} (*.log, *.out, *.txt, train*), TensorBoard event files (events.out.tfevents.*), metrics.csv or another metrics CSV, trainer_state.json, a W&B run (wandb/run-*/*.wandb) and an MLflow run (mlruns/ or mlflow.db)); pass the file itself")]
    NothingFound {
        path: String,
        what: String,
        depth: usize,
    },
}

/// Finds what to read and which checkpoints to follow for `req`. A file (or a path that does
/// not exist yet: the TUI waits for it), a folder of event files and `--log` are taken as
/// named; any other folder is searched as a run folder.
pub fn discover(req: &Request) -> Result<RunManifest, Error> {
    let root = req.path.clone();
    let mut run = if !root.is_dir() {
        Run::named(req.log.clone().unwrap_or_else(|| root.clone()), None)
            .watching(req.checkpoint.clone())
    } else if let Some(log) = &req.log {
        let mut run = Run::named(log.clone(), Some(root.clone()));
        run.checkpoints.found = checkpoints::at(&root);
        let watch = checkpoints::watch_dir(&run.checkpoints.found).unwrap_or(root.clone());
        run.watching(req.checkpoint.clone().or(Some(watch)))
    } else if !event_files(&root).is_empty() {
        Run::named(root.clone(), None).watching(req.checkpoint.clone())
    } else if let Some(runs) = tracker_sweep(&root, &req.metric) {
        // A W&B `wandb/` or MLflow `mlruns/` folder: each of its runs is a run.
        return Ok(RunManifest { root, runs });
    } else if let Some(c) = trackers::newest(&trackers::tracker_runs(&root)) {
        let mut run = c.to_run(&req.metric);
        run.checkpoints.found = checkpoints::at(&c.dir);
        run.watching(req.checkpoint.clone().or(Some(c.dir.clone())))
    } else if let Some(runs) = sweep::runs_in(&root, &req.metric) {
        let runs = runs.into_iter().map(with_checkpoint_watch).collect();
        return Ok(RunManifest { root, runs });
    } else {
        let run = run_folder::search(&root, &req.metric)?;
        // Tab 2 follows the folder new checkpoints land in (`out/` for `out/checkpoint-*`),
        // or the run folder itself until the first one does.
        let watch = checkpoints::watch_dir(&run.checkpoints.found).unwrap_or(root.clone());
        run.watching(req.checkpoint.clone().or(Some(watch)))
    };
    if let Some(named) = &req.checkpoint {
        run.checkpoints.found = checkpoints::at(named);
    }
    Ok(RunManifest {
        root,
        runs: vec![run],
    })
}

/// Tab 2 follows the folder new checkpoints land in (`out/` for `out/checkpoint-*`), or the
/// run folder itself until the first one does.
/// The runs of a tracker folder holding several (a W&B `wandb/` or MLflow `mlruns/` sweep).
fn tracker_sweep(root: &Path, metric: &MetricSpec) -> Option<Vec<Run>> {
    let found = trackers::tracker_runs(root);
    (found.len() > 1).then(|| {
        found
            .iter()
            .map(|c| {
                let mut run = c.to_run(metric);
                run.checkpoints.found = checkpoints::at(&c.dir);
                run.watching(Some(c.dir.clone()))
            })
            .collect()
    })
}

fn with_checkpoint_watch(run: Run) -> Run {
    let watch = checkpoints::watch_dir(&run.checkpoints.found).or(run.dir.clone());
    run.watching(watch)
}

/// [`discover`] for every path named (`trainwatch A B C`): their runs together, under the
/// paths' common folder. One path: exactly [`discover`]. The first path that fails fails it.
pub fn discover_all(paths: &[PathBuf], template: &Request) -> Result<RunManifest, Error> {
    if let [one] = paths {
        let mut req = template.clone();
        req.path = one.clone();
        return discover(&req);
    }
    let mut runs = Vec::new();
    for p in paths {
        let mut req = template.clone();
        req.path = p.clone();
        runs.extend(discover(&req)?.runs);
    }
    let root = common_root(runs.iter().map(sweep::run_path));
    Ok(RunManifest { root, runs })
}

/// The deepest folder every path is under (empty when they share none).
pub fn common_root<'a>(paths: impl Iterator<Item = &'a Path>) -> PathBuf {
    let mut root: Option<PathBuf> = None;
    for p in paths {
        let dir = p.parent().map_or(PathBuf::new(), Path::to_path_buf);
        root = Some(match root {
            None => dir,
            Some(r) => r
                .components()
                .zip(dir.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    root.unwrap_or_default()
}

impl RunManifest {
    /// The run the single-run views show.
    pub fn first(&self) -> Option<&Run> {
        self.runs.first()
    }

    /// Each run's name: its folder (or source) relative to the runs' common folder, `/`
    /// separated, control characters stripped. One run: its file or folder name.
    pub fn names(&self) -> Vec<String> {
        let root = common_root(self.runs.iter().map(sweep::run_path));
        self.runs
            .iter()
            .map(|r| {
                let p = sweep::run_path(r);
                let rel = p.strip_prefix(&root).unwrap_or(p);
                let name = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let name = if name.is_empty() {
                    p.to_string_lossy().into_owned()
                } else {
                    name
                };
                crate::text::printable(&name).into_owned()
            })
            .collect()
    }
}

impl Run {
    fn named(path: PathBuf, dir: Option<PathBuf>) -> Run {
        Run {
            dir,
            sources: Vec::new(),
            chosen: Chosen::Named(path),
            checkpoints: Checkpoints::default(),
        }
    }

    fn watching(mut self, watch: Option<PathBuf>) -> Run {
        self.checkpoints.watch = watch;
        self
    }

    /// The file or folder to read.
    pub fn source_path(&self) -> &Path {
        match &self.chosen {
            Chosen::Named(p) => p,
            // Out of range (a hand-built run): the empty path, which reads as missing.
            Chosen::Found(i) => self.sources.get(*i).map_or(Path::new(""), |s| &s.path),
        }
    }

    /// The source the search chose, when it chose one.
    pub fn found_source(&self) -> Option<&FoundSource> {
        match self.chosen {
            Chosen::Named(_) => None,
            Chosen::Found(i) => self.sources.get(i),
        }
    }

    /// One line for the user when the search chose the source (the user named nothing, so
    /// say what is read): `watching PATH (kind[, the metric not seen yet])[; checkpoints from
    /// DIR]`.
    pub fn describe(&self) -> Option<String> {
        let src = self.found_source()?;
        let mut s = format!(
            "watching {} ({}{})",
            printable_path(&src.path),
            src.kind.describe(),
            if src.has_metric == Some(true) {
                ""
            } else {
                ", the metric not seen yet"
            }
        );
        if let (Some(dir), false) = (&self.dir, self.checkpoints.found.is_empty()) {
            s.push_str(&format!("; checkpoints from {}", printable_path(dir)));
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod sweep_tests;
