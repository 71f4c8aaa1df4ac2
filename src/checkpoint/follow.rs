//! Following a checkpoint path for tab 2: when a new (or rewritten) checkpoint appears —
//! notify for latency, a poll always — recompute the similarity map, off the UI thread. A
//! checkpoint caught half-written is an error the UI shows while keeping the last good map;
//! the next look retries it.
//!
//! The follower serves the TUI, which owns the terminal: a checkpoint truncated in place
//! under a memory map would kill it with SIGBUS and leave the terminal raw, so every store it
//! opens is read with positional reads ([`READ`]), never mapped.

use super::resolve::resolve;
use super::{compute_similarity, ReadMode, SimilarityReport, SimilarityRequest};
use crate::text::printable_path;
use crossbeam_channel::{bounded, select, Receiver, Sender};
use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// What the UI asks of the follower: which table, which rows, how many blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub tensor: Option<String>,
    pub rows: Option<(usize, usize)>,
    pub blocks: usize,
}

/// What the follower tells the UI.
#[derive(Debug)]
pub enum CheckpointEvent {
    /// Nothing to show yet at PATH (no checkpoint written so far): why.
    Waiting(String),
    /// A new checkpoint (or view) is being computed.
    Computing(String),
    /// A map; `new_checkpoint` is false when only the view (table, rows, size) changed.
    Loaded {
        report: Box<SimilarityReport>,
        new_checkpoint: bool,
    },
    /// The newest checkpoint could not be shown; `retrying` when it looked half-written.
    Failed { message: String, retrying: bool },
}

/// Identity of a checkpoint's files on disk: a change in any of them means "reload".
type Stamp = Vec<(PathBuf, u64, Option<SystemTime>)>;

fn stamp(files: &[PathBuf]) -> Stamp {
    files
        .iter()
        .map(|f| {
            let m = std::fs::metadata(f).ok();
            (
                f.clone(),
                m.as_ref().map_or(0, |m| m.len()),
                m.and_then(|m| m.modified().ok()),
            )
        })
        .collect()
}

/// How the follower reads checkpoints (see the module documentation).
pub const READ: ReadMode = ReadMode::Positional;

/// Starts following `path`. `views` carries the UI's requests; the first one starts work.
pub fn spawn(
    path: PathBuf,
    poll: Duration,
    views: Receiver<View>,
    tx: Sender<CheckpointEvent>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("trainwatch-checkpoint".into())
        .spawn(move || run(&path, poll, &views, &tx, &stop))
}

fn run(
    path: &Path,
    poll: Duration,
    views: &Receiver<View>,
    tx: &Sender<CheckpointEvent>,
    stop: &AtomicBool,
) {
    let (wake_tx, wake_rx) = bounded::<()>(1);
    let _watcher = watch(path, wake_tx);
    let Ok(mut view) = views.recv() else { return };
    let mut loaded: Option<Stamp> = None;
    let mut last_failure: Option<String> = None;
    let mut said_waiting = false;
    let mut force = true;
    while !stop.load(Ordering::Relaxed) {
        // Newest view wins: the UI may send several while the user presses keys.
        while let Ok(v) = views.try_recv() {
            if v != view {
                view = v;
                force = true;
            }
        }
        match resolve(path) {
            Err(e) => {
                if loaded.is_none() {
                    if !said_waiting {
                        said_waiting = true;
                        if tx.send(CheckpointEvent::Waiting(e.to_string())).is_err() {
                            return;
                        }
                    }
                } else {
                    // The newest checkpoint was deleted and nothing else is there: keep the map.
                    let msg = format!("{e}; keeping the last map");
                    if last_failure.as_deref() != Some(&msg) {
                        last_failure = Some(msg.clone());
                        let ev = CheckpointEvent::Failed {
                            message: msg,
                            retrying: true,
                        };
                        if tx.send(ev).is_err() {
                            return;
                        }
                    }
                }
            }
            Ok(resolved) => {
                let now = stamp(&resolved.files());
                let changed = loaded.as_ref() != Some(&now);
                if force || changed {
                    let shown = printable_path(resolved.main_path());
                    if tx.send(CheckpointEvent::Computing(shown.clone())).is_err() {
                        return;
                    }
                    let req = SimilarityRequest {
                        path: path.to_path_buf(),
                        tensor: view.tensor.clone(),
                        rows: view.rows,
                        blocks: view.blocks.max(1),
                        sinusoidal: None,
                        read: READ,
                    };
                    let ev = match compute_similarity(&req) {
                        Ok(r) => {
                            // Changed while it was read? Then the map may mix two versions.
                            if stamp(&resolved.files()) == now {
                                loaded = Some(now);
                                last_failure = None;
                                force = false;
                                CheckpointEvent::Loaded {
                                    report: Box::new(r),
                                    new_checkpoint: changed,
                                }
                            } else {
                                CheckpointEvent::Failed {
                                    message: format!("{shown}: changed while being read"),
                                    retrying: true,
                                }
                            }
                        }
                        Err(e) => {
                            let retrying = e.is_incomplete();
                            let msg = e.to_string();
                            // A definite error for this file/view: don't recompute it on
                            // every poll, only when the files change again.
                            if !retrying {
                                loaded = Some(now);
                                force = false;
                            }
                            last_failure = Some(msg.clone());
                            CheckpointEvent::Failed {
                                message: msg,
                                retrying,
                            }
                        }
                    };
                    if tx.send(ev).is_err() {
                        return;
                    }
                }
            }
        }
        select! {
            recv(views) -> v => match v {
                Ok(v) => {
                    if v != view {
                        view = v;
                        force = true;
                    }
                }
                Err(_) => return,
            },
            recv(wake_rx) -> _ => {
                // Let a burst of writes settle.
                std::thread::sleep(Duration::from_millis(50));
                while wake_rx.try_recv().is_ok() {}
            },
            default(poll) => {}
        }
    }
}

/// Watches PATH's directory tree (a checkpoint directory gains `checkpoint-N/` folders).
fn watch(path: &Path, wake: Sender<()>) -> Option<notify::RecommendedWatcher> {
    let (target, mode) = if path.is_dir() {
        (path.to_path_buf(), RecursiveMode::Recursive)
    } else {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (dir, RecursiveMode::NonRecursive)
    };
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if res.is_ok() {
            let _ = wake.try_send(());
        }
    })
    .ok()?;
    w.watch(&target, mode).ok()?;
    Some(w)
}
