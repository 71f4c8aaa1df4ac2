//! Following a source live: one loop for every kind (text logs, event files, trainer states,
//! metrics CSVs), woken by the process's [`WatchService`] — inotify (via notify) for low
//! latency, and a poll at a fixed interval that always runs too, because inotify is silent for
//! writes made by other NFS/Lustre clients. Each look reads only what is new
//! ([`Source::poll_each`]); restarts (truncation, replacement, re-creation) are the source's.

use super::decoder::Batch;
use super::source::{self, Source, Update};
use super::SourceSpec;
use crate::text::printable_path;
use crate::watch::{Subscription, Target, WatchService};
use crossbeam_channel::Sender;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use crate::core::RestartReason;

/// What the follower tells its consumer, in order.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // one event per batch through a bounded channel
pub enum IngestEvent {
    /// The log does not exist (yet, or any more): waiting for it.
    Waiting,
    /// Reading existing content: `done` of `total` bytes.
    Reading { done: u64, total: u64 },
    /// New records.
    Batch(Batch),
    /// The existing content has been read; now following appends.
    Following,
    /// The file restarted; records after this belong to a new run.
    Restart(RestartReason),
    /// A read failed; the follower keeps trying.
    Error(String),
}

/// Starts following `opts.path` on a thread, woken by the process's [`WatchService`]; events
/// go to `tx` until `stop` is set or `tx` is dropped.
pub fn spawn(
    opts: SourceSpec,
    poll: Duration,
    tx: Sender<IngestEvent>,
    stop: Arc<AtomicBool>,
) -> io::Result<JoinHandle<()>> {
    spawn_in(&WatchService::shared(), opts, poll, tx, stop)
}

/// Like [`spawn`], woken by `watch` (one notify watcher and one poll scheduler for all the
/// followers of a process).
pub fn spawn_in(
    watch: &WatchService,
    opts: SourceSpec,
    poll: Duration,
    tx: Sender<IngestEvent>,
    stop: Arc<AtomicBool>,
) -> io::Result<JoinHandle<()>> {
    let watch = watch.clone();
    std::thread::Builder::new()
        .name("trainwatch-follow".into())
        .spawn(move || {
            let kind = source::kind_of(&opts.path, opts.format);
            let mut src = kind.open(&opts);
            src.stop_with(stop.clone());
            let target = if opts.path.is_dir() {
                Target::Dir(opts.path.clone())
            } else {
                Target::File(opts.path.clone())
            };
            let wake = watch.subscribe(target, poll);
            follow_source(src, &opts.path, &wake, &tx, &stop)
        })
}

/// Let a burst of writes settle into one read.
const SETTLE: Duration = Duration::from_millis(2);

/// Follows a source by looking at it at each file-system event or poll tick; each look reads
/// only what is new.
fn follow_source(
    mut src: Box<dyn Source>,
    path: &Path,
    wake: &Subscription,
    tx: &Sender<IngestEvent>,
    stop: &AtomicBool,
) {
    let mut said_waiting = false;
    let mut following = false;
    let mut last_error: Option<String> = None;
    let mut parse_error: Option<String> = None;
    while !stop.load(Ordering::Relaxed) {
        // Updates go out as they are read (a big history fills the screen while it reads).
        let mut alive = true;
        let polled = src.poll_each(&mut |u| {
            let ev = match u {
                Update::Batch(b) => IngestEvent::Batch(b),
                Update::Restart(r) => IngestEvent::Restart(r),
                Update::Progress { done, total } => IngestEvent::Reading { done, total },
            };
            alive = alive && tx.send(ev).is_ok();
        });
        if !alive {
            return;
        }
        match polled {
            Ok(exists) => {
                if !exists && !said_waiting {
                    said_waiting = true;
                    following = false;
                    if tx.send(IngestEvent::Waiting).is_err() {
                        return;
                    }
                }
                if exists {
                    said_waiting = false;
                    if !following {
                        following = true;
                        last_error = None;
                        if tx.send(IngestEvent::Following).is_err() {
                            return;
                        }
                    }
                }
                // A file caught mid-write parses on the next look; one that stays unreadable
                // is reported.
                let err = src.error();
                if err.is_some() && err == parse_error && err != last_error {
                    last_error = err.clone();
                    let msg = format!(
                        "{}: cannot parse: {}",
                        printable_path(path),
                        crate::text::printable(err.as_deref().unwrap_or_default())
                    );
                    if tx.send(IngestEvent::Error(msg)).is_err() {
                        return;
                    }
                }
                parse_error = err;
            }
            Err(e) => {
                let msg = format!("{}: {e}", printable_path(path));
                if last_error.as_deref() != Some(&msg) {
                    last_error = Some(msg.clone());
                    if tx.send(IngestEvent::Error(msg)).is_err() {
                        return;
                    }
                }
            }
        }
        wake.wait(SETTLE);
    }
}
