//! Following a checkpoint path for tab 2: when a new (or rewritten) checkpoint appears —
//! notify for latency, a poll always — recompute the similarity map, off the UI thread. A
//! checkpoint caught half-written is an error the UI shows while keeping the last good map;
//! the next look retries it. The map is sent as soon as it is ready ([`CheckpointEvent::Loaded`],
//! its profile pending) and the same report again with its profile and explanation when they
//! are ([`CheckpointEvent::Profiled`]); a new view asked for meanwhile drops the profile.
//!
//! The follower serves the TUI, which owns the terminal: a checkpoint truncated in place
//! under a memory map would kill it with SIGBUS and leave the terminal raw, so every store it
//! opens is read with positional reads ([`READ`]), never mapped.

use super::resolve::resolve;
use super::{compute_similarity_staged, Error, ReadMode, SimilarityReport, SimilarityRequest};
use crate::core::CheckpointRef;
use crate::text::printable_path;
use crate::watch::{parent_dir, pool, Target, WatchService};
use crossbeam_channel::{bounded, select, Receiver, Sender};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// What the UI asks of the follower: which checkpoint, which table, which rows, how many
/// blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// A checkpoint of the run picked with the scrubber; `None` follows the newest under the
    /// followed path.
    pub checkpoint: Option<PathBuf>,
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
    /// A map, its profile still being computed (`report.map.profile_pending`);
    /// `new_checkpoint` is false when only the view (table, rows, size) changed.
    Loaded {
        report: Box<SimilarityReport>,
        new_checkpoint: bool,
    },
    /// The map just loaded, now with its profile, summary and explanation.
    Profiled(Box<SimilarityReport>),
    /// The newest checkpoint could not be shown; `retrying` when it looked half-written.
    Failed { message: String, retrying: bool },
    /// The checkpoints under the followed path, re-listed when the newest one changed (a new
    /// checkpoint landed), in step order.
    Listed(Vec<CheckpointRef>),
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

/// Starts following `path`, woken by the process's [`WatchService`]. `views` carries the UI's
/// requests; the first one starts work.
pub fn spawn(
    path: PathBuf,
    poll: Duration,
    views: Receiver<View>,
    tx: Sender<CheckpointEvent>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    spawn_in(&WatchService::shared(), path, poll, views, tx, stop)
}

/// Like [`spawn`], woken by `watch`.
pub fn spawn_in(
    watch: &WatchService,
    path: PathBuf,
    poll: Duration,
    views: Receiver<View>,
    tx: Sender<CheckpointEvent>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    let watch = watch.clone();
    std::thread::Builder::new()
        .name("trainwatch-checkpoint".into())
        .spawn(move || run(&watch, &path, poll, &views, &tx, &stop))
}

/// What to watch: a checkpoint directory's whole tree (it gains `checkpoint-N/` folders), or a
/// file's directory (a sharded checkpoint's index names its neighbours).
fn target(path: &Path) -> Target {
    if path.is_dir() {
        Target::Tree(path.to_path_buf())
    } else {
        Target::Dir(parent_dir(path))
    }
}

fn run(
    watch: &WatchService,
    path: &Path,
    poll: Duration,
    views: &Receiver<View>,
    tx: &Sender<CheckpointEvent>,
    stop: &AtomicBool,
) {
    let wake = watch.subscribe(target(path), poll);
    // This follower's key on the pool: its newest request replaces a queued older one.
    static FOLLOWERS: AtomicU64 = AtomicU64::new(0);
    let key = format!("similarity#{}", FOLLOWERS.fetch_add(1, Ordering::Relaxed));
    let Ok(mut view) = views.recv() else { return };
    let mut loaded: Option<Stamp> = None;
    let mut last_failure: Option<String> = None;
    let mut said_waiting = false;
    let mut force = true;
    // The newest checkpoint's files when the run's checkpoints were last listed.
    let mut listed: Option<Stamp> = None;
    while !stop.load(Ordering::Relaxed) {
        // Newest view wins: the UI may send several while the user presses keys.
        while let Ok(v) = views.try_recv() {
            if v != view {
                view = v;
                force = true;
            }
        }
        if let Ok(newest) = resolve(path) {
            let now = stamp(&newest.files());
            if listed.as_ref() != Some(&now) {
                listed = Some(now);
                let found = crate::discovery::checkpoints::at(path);
                if tx.send(CheckpointEvent::Listed(found)).is_err() {
                    return;
                }
            }
        }
        // The scrubber's pick, else the newest.
        let shown_path = view
            .checkpoint
            .clone()
            .unwrap_or_else(|| path.to_path_buf());
        match resolve(&shown_path) {
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
                        path: shown_path.clone(),
                        tensor: view.tensor.clone(),
                        rows: view.rows,
                        blocks: view.blocks.max(1),
                        sinusoidal: None,
                        read: READ,
                    };
                    // The map goes to the UI at once, if the files did not change under it.
                    let mut map_sent = false;
                    let mut on_map = |report: Box<SimilarityReport>| {
                        if stamp(&resolved.files()) != now {
                            return false;
                        }
                        let ev = CheckpointEvent::Loaded {
                            report,
                            new_checkpoint: changed,
                        };
                        map_sent = tx.send(ev).is_ok();
                        map_sent
                    };
                    let computed = match compute_on_pool(&key, req, views, &mut view, &mut on_map) {
                        Computed::Done(r) => *r,
                        Computed::Superseded => {
                            force = true;
                            continue;
                        }
                        Computed::UiGone => return,
                    };
                    let ev = match computed {
                        Ok(r) => {
                            // Changed while it was read? Then the map may mix two versions.
                            if map_sent && !r.map.profile_pending && stamp(&resolved.files()) == now
                            {
                                loaded = Some(now);
                                last_failure = None;
                                force = false;
                                CheckpointEvent::Profiled(Box::new(r))
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
            // A file-system event or the poll tick; let a burst of writes settle.
            recv(wake.wakeups()) -> _ => wake.settle(Duration::from_millis(50)),
        }
    }
}

enum Computed {
    Done(Box<Result<SimilarityReport, Error>>),
    /// Another view was asked for first: compute that one instead.
    Superseded,
    UiGone,
}

/// What the pool job tells the follower.
enum Stage {
    /// The map alone, ready.
    Map(Box<SimilarityReport>),
    /// The whole result (or the panic that ended it).
    Done(Box<std::thread::Result<Result<SimilarityReport, Error>>>),
}

/// Computes `req` on the shared pool, keyed so that a newer request of this follower replaces
/// it while it is still queued; a new view arriving meanwhile supersedes it (and the job
/// skips the profile if it has not started it). `on_map` gets the map as soon as it is
/// ready; returning false drops the profile.
fn compute_on_pool(
    key: &str,
    req: SimilarityRequest,
    views: &Receiver<View>,
    view: &mut View,
    on_map: &mut dyn FnMut(Box<SimilarityReport>) -> bool,
) -> Computed {
    let (tx, rx) = bounded(2);
    let wanted = Arc::new(AtomicBool::new(true));
    let still = wanted.clone();
    pool::shared().submit_keyed(key, move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            compute_similarity_staged(&req, &mut |map| {
                tx.send(Stage::Map(Box::new(map.clone()))).is_ok() && still.load(Ordering::Relaxed)
            })
        }));
        let _ = tx.send(Stage::Done(Box::new(r)));
    });
    let give_up = |why: Computed| {
        wanted.store(false, Ordering::Relaxed);
        why
    };
    loop {
        select! {
            recv(rx) -> r => match r {
                Ok(Stage::Map(map)) => {
                    if !on_map(map) {
                        wanted.store(false, Ordering::Relaxed);
                    }
                }
                Ok(Stage::Done(done)) => match *done {
                    Ok(r) => return Computed::Done(Box::new(r)),
                    // Fails this follower, as when it computed on its own thread.
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                // Replaced in the queue (by another request with this key).
                Err(_) => return Computed::Superseded,
            },
            recv(views) -> v => match v {
                Ok(v) if v != *view => {
                    *view = v;
                    return give_up(Computed::Superseded);
                }
                Ok(_) => {}
                Err(_) => return give_up(Computed::UiGone),
            },
        }
    }
}
