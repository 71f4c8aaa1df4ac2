//! Following a source live: one loop for every kind (text logs, event files, trainer states,
//! metrics CSVs), woken by the process's [`WatchService`] — inotify (via notify) for low
//! latency, and a poll that always runs too, because inotify is silent for writes made by other
//! NFS/Lustre clients (at the interval asked for while the source is active, backing off while
//! it is silent: [`crate::watch::schedule::backoff`]). Each look reads only what is new
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
            let (f, target) = Follower::open(&opts, stop.clone());
            let wake = watch.subscribe(target, poll);
            follow_source(f, &wake, &tx, &stop)
        })
}

/// Let a burst of writes settle into one read.
pub const SETTLE: Duration = Duration::from_millis(2);

/// Follows a source by looking at it at each file-system event or poll tick; each look reads
/// only what is new.
fn follow_source(
    mut f: Follower,
    wake: &Subscription,
    tx: &Sender<IngestEvent>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        if !f.look(&mut |ev| tx.send(ev).is_ok()) {
            return;
        }
        if f.took_news() {
            wake.active();
        }
        wake.wait(SETTLE);
    }
}

/// One source being followed, between looks: what it has told its consumer so far. A thread
/// of its own ([`spawn_in`]) or a thread shared by several ([`super::follow_group`]) calls
/// [`look`](Self::look) at each wake-up.
#[derive(Debug)]
pub struct Follower {
    src: Box<dyn Source>,
    path: std::path::PathBuf,
    said_waiting: bool,
    following: bool,
    last_error: Option<String>,
    parse_error: Option<String>,
    /// The last look read records or a restart (the poll stays quick while a run is active).
    news: bool,
}

impl Follower {
    pub fn new(src: Box<dyn Source>, path: &Path) -> Self {
        Follower {
            src,
            path: path.to_path_buf(),
            said_waiting: false,
            following: false,
            last_error: None,
            parse_error: None,
            news: false,
        }
    }

    /// Opens the source `spec` names and the watch target it needs.
    pub fn open(spec: &SourceSpec, stop: Arc<AtomicBool>) -> (Self, Target) {
        let kind = source::kind_of(&spec.path, spec.format);
        let mut src = kind.open(spec);
        src.stop_with(stop);
        let target = if spec.path.is_dir() {
            Target::Dir(spec.path.clone())
        } else {
            Target::File(spec.path.clone())
        };
        (Follower::new(src, &spec.path), target)
    }

    /// The last [`look`](Self::look) found records or a restart.
    pub fn took_news(&self) -> bool {
        self.news
    }

    /// Looks at the source once, handing each event to `send`; false when `send` said the
    /// consumer is gone.
    pub fn look(&mut self, send: &mut dyn FnMut(IngestEvent) -> bool) -> bool {
        // Updates go out as they are read (a big history fills the screen while it reads).
        let mut alive = true;
        let mut news = false;
        let polled = self.src.poll_each(&mut |u| {
            news |= match &u {
                Update::Batch(b) => !b.is_empty(),
                Update::Restart(_) => true,
                Update::Progress { .. } => false,
            };
            let ev = match u {
                Update::Batch(b) => IngestEvent::Batch(b),
                Update::Restart(r) => IngestEvent::Restart(r),
                Update::Progress { done, total } => IngestEvent::Reading { done, total },
            };
            alive = alive && send(ev);
        });
        self.news = news;
        if !alive {
            return false;
        }
        match polled {
            Ok(exists) => {
                if !exists && !self.said_waiting {
                    self.said_waiting = true;
                    self.following = false;
                    if !send(IngestEvent::Waiting) {
                        return false;
                    }
                }
                if exists {
                    self.said_waiting = false;
                    if !self.following {
                        self.following = true;
                        self.last_error = None;
                        if !send(IngestEvent::Following) {
                            return false;
                        }
                    }
                }
                // A file caught mid-write parses on the next look; one that stays unreadable
                // is reported.
                let err = self.src.error();
                if err.is_some() && err == self.parse_error && err != self.last_error {
                    self.last_error = err.clone();
                    let msg = format!(
                        "{}: cannot parse: {}",
                        printable_path(&self.path),
                        crate::text::printable(err.as_deref().unwrap_or_default())
                    );
                    if !send(IngestEvent::Error(msg)) {
                        return false;
                    }
                }
                self.parse_error = err;
            }
            Err(e) => {
                let msg = format!("{}: {e}", printable_path(&self.path));
                if self.last_error.as_deref() != Some(&msg) {
                    self.last_error = Some(msg.clone());
                    if !send(IngestEvent::Error(msg)) {
                        return false;
                    }
                }
            }
        }
        true
    }
}
