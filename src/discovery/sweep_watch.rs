//! New runs appearing in an open sweep folder. [`SweepWatch::poll`] lists the sweep folder's
//! subfolders (one `read_dir`, plus one `stat` per subfolder) and searches only a subfolder
//! that is not a known run and that changed since it was last searched (its modification time
//! moves when a file is created in it), so polling every few seconds costs a listing, not a
//! walk of every run. A run that appears deeper than one level below an existing subfolder
//! (`lr1/seed3/` beside `lr1/seed1/`) is found when `lr1/`'s own listing changes, that is
//! only when a file or folder is created directly in it.

use super::{Request, Run};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How often the TUI looks for new runs.
pub const SWEEP_POLL: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct SweepWatch {
    req: Request,
    /// The folders of the runs known (new runs are not inside them).
    known: HashSet<PathBuf>,
    /// The known runs' folders and every folder above them (a subfolder holding a known run
    /// is not searched again).
    holding: HashSet<PathBuf>,
    /// The known W&B run folders' (parent, run id): a folder of the same id beside one is
    /// that run resumed, not a new run.
    wandb_runs: HashSet<(PathBuf, String)>,
    /// Subfolders searched without a run found, and their time then.
    searched: HashMap<PathBuf, SystemTime>,
}

impl SweepWatch {
    /// Watches `req.path`, a sweep whose runs `runs` are open.
    pub fn new(req: Request, runs: &[Run]) -> Self {
        let mut w = SweepWatch {
            req,
            known: HashSet::new(),
            holding: HashSet::new(),
            wandb_runs: HashSet::new(),
            searched: HashMap::new(),
        };
        for r in runs {
            w.know(super::sweep::run_path(r));
        }
        w
    }

    fn know(&mut self, run: &Path) {
        self.holding.extend(run.ancestors().map(Path::to_path_buf));
        self.known.insert(run.to_path_buf());
        if let Some(key) = wandb_key(run) {
            self.wandb_runs.insert(key);
        }
    }

    /// Whether `dir` holds a known run or lies inside one (hash look-ups: polled often).
    fn covered(&self, dir: &Path) -> bool {
        self.holding.contains(dir)
            || dir.ancestors().any(|a| self.known.contains(a))
            || wandb_key(dir).is_some_and(|k| self.wandb_runs.contains(&k))
    }

    /// The sweep folder.
    pub fn root(&self) -> &Path {
        &self.req.path
    }

    /// Runs that appeared since the last call, in name order.
    pub fn poll(&mut self) -> Vec<Run> {
        let mut found = Vec::new();
        for dir in super::sweep::subfolders(&self.req.path) {
            if self.covered(&dir) {
                continue;
            }
            let mtime = std::fs::metadata(&dir)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            if self.searched.get(&dir) == Some(&mtime) {
                continue;
            }
            self.searched.insert(dir.clone(), mtime);
            let mut req = self.req.clone();
            req.path = dir.clone();
            let Ok(m) = super::discover(&req) else {
                continue;
            };
            for run in m.runs {
                if run
                    .found_source()
                    .is_some_and(|s| s.has_metric == Some(true))
                {
                    self.know(super::sweep::run_path(&run));
                    self.searched.remove(&dir);
                    found.push(run);
                }
            }
        }
        found
    }

    /// A new run's name: its folder relative to the sweep folder.
    pub fn name_of(&self, run: &Run) -> String {
        let p = super::sweep::run_path(run);
        let rel = p.strip_prefix(&self.req.path).unwrap_or(p);
        crate::text::printable(&rel.to_string_lossy()).into_owned()
    }
}

/// A W&B run folder's parent and run id (`wandb/offline-run-<date>-<id>` → `(wandb, id)`).
fn wandb_key(dir: &Path) -> Option<(PathBuf, String)> {
    let name = dir.file_name()?.to_str()?;
    let (_, id) = crate::ingest::wandb::resume::folder_parts(name)?;
    Some((dir.parent()?.to_path_buf(), id.to_string()))
}
