//! Following a log like `tail -F`: by path, through truncation, replacement (new inode),
//! deletion and re-creation. inotify (via notify) gives low latency; a poll at a fixed interval
//! always runs too, because inotify is silent for writes made by other NFS/Lustre clients.

use super::decoder::{Batch, LogDecoder};
use super::source::{self, Source, Update};
use super::{scan, SourceSpec};
use crate::text::printable_path;
use crate::watch::identity::{self, Change, FileIdentity, Prefix, ReadMark, FINGERPRINT};
use crate::watch::{Subscription, Target, WatchService};
use crossbeam_channel::Sender;
use std::fs::File;
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

/// The file being read: its handle (kept across a rename, to finish it) and how far.
struct Open {
    file: File,
    mark: ReadMark,
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
            match kind.open(&opts.path, &opts.metric) {
                Some(src) => {
                    let target = if opts.path.is_dir() {
                        Target::Dir(opts.path.clone())
                    } else {
                        Target::File(opts.path.clone())
                    };
                    let wake = watch.subscribe(target, poll);
                    follow_source(src, &opts.path, &wake, &tx, &stop)
                }
                None => {
                    let wake = watch.subscribe(Target::File(opts.path.clone()), poll);
                    Follower::new(opts, tx, stop).run(&wake)
                }
            }
        })
}

/// Let a burst of writes settle into one read.
const SETTLE: Duration = Duration::from_millis(2);

/// Follows a non-text source (event files, trainer state, metrics CSV) by looking at it at
/// each file-system event or poll tick; each look reads only what is new.
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
        match src.poll() {
            Ok((updates, exists)) => {
                for u in updates {
                    let ev = match u {
                        Update::Batch(b) => IngestEvent::Batch(b),
                        Update::Restart(r) => IngestEvent::Restart(r),
                    };
                    if tx.send(ev).is_err() {
                        return;
                    }
                }
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

struct Follower {
    opts: SourceSpec,
    tx: Sender<IngestEvent>,
    stop: Arc<AtomicBool>,
    decoder: LogDecoder,
    open: Option<Open>,
    /// A file was open before: the next one opened is a restart.
    had_file: bool,
    said_waiting: bool,
    last_error: Option<String>,
}

impl Follower {
    fn new(opts: SourceSpec, tx: Sender<IngestEvent>, stop: Arc<AtomicBool>) -> Self {
        let decoder = LogDecoder::new(opts.metric.clone(), opts.format);
        Follower {
            opts,
            tx,
            stop,
            decoder,
            open: None,
            had_file: false,
            said_waiting: false,
            last_error: None,
        }
    }

    fn send(&self, e: IngestEvent) -> bool {
        self.tx.send(e).is_ok()
    }

    fn run(mut self, wake: &Subscription) {
        let mut first = true;
        while !self.stop.load(Ordering::Relaxed) {
            match self.step(first) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    let msg = format!("{}: {e}", printable_path(&self.opts.path));
                    if self.last_error.as_deref() != Some(&msg) {
                        self.last_error = Some(msg.clone());
                        if !self.send(IngestEvent::Error(msg)) {
                            return;
                        }
                    }
                }
            }
            first = false;
            wake.wait(SETTLE);
        }
    }

    /// One look at the file. Returns Ok(false) when the consumer is gone.
    fn step(&mut self, first: bool) -> io::Result<bool> {
        let path = self.opts.path.clone();
        let meta = match std::fs::metadata(&path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if let Some(m) = &meta {
            if m.is_dir() {
                return Err(io::Error::other("is a directory, not a log file"));
            }
        }
        let now = meta.as_ref().map(FileIdentity::of);
        let change = identity::classify(self.open.as_ref().map(|o| &o.mark), &path, now.as_ref())?;

        // The path now names another file, or none: finish the old one first.
        let switched = matches!(change, Change::Replaced | Change::Deleted);
        if switched {
            if !self.drain_open()? {
                return Ok(false);
            }
            self.open = None;
            self.decoder.reset();
        }

        let Some(meta) = meta else {
            if !self.said_waiting {
                self.said_waiting = true;
                return Ok(self.send(IngestEvent::Waiting));
            }
            return Ok(true);
        };

        if self.open.is_none() {
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
                Err(e) => return Err(e),
            };
            let reason = if switched {
                RestartReason::Replaced
            } else {
                RestartReason::Recreated
            };
            if self.had_file && !self.send(IngestEvent::Restart(reason)) {
                return Ok(false);
            }
            self.had_file = true;
            self.said_waiting = false;
            self.open = Some(Open {
                file,
                mark: ReadMark {
                    file: FileIdentity::of(&meta),
                    offset: 0,
                    prefix: Prefix::Head(Vec::new()),
                },
            });
            let total = meta.len();
            let ok = self.read_new(true, total)?;
            self.last_error = None;
            if first || total > 0 {
                return Ok(ok && self.send(IngestEvent::Following));
            }
            return Ok(ok);
        }

        // Same file: truncated, rewritten, or grown?
        let len = meta.len();
        if change == Change::Truncated {
            if let Some(o) = &mut self.open {
                o.mark.offset = 0;
                o.mark.prefix = Prefix::Head(Vec::new());
            }
            self.decoder.reset();
            if !self.send(IngestEvent::Restart(RestartReason::Truncated)) {
                return Ok(false);
            }
        }
        let ok = self.read_new(false, len)?;
        self.last_error = None;
        Ok(ok)
    }

    /// Reads the rest of the currently open file (it is being replaced).
    fn drain_open(&mut self) -> io::Result<bool> {
        let len = match &self.open {
            Some(o) => o.file.metadata()?.len(),
            None => return Ok(true),
        };
        self.read_new(false, len)
    }

    /// Reads from the open file's offset to its end, sending batches in order.
    fn read_new(&mut self, initial: bool, total: u64) -> io::Result<bool> {
        let Some(o) = &mut self.open else {
            return Ok(true);
        };
        let start = o.mark.offset;
        if total <= start {
            return Ok(true);
        }
        let show_progress = initial && total - start > (32 << 20);
        let tx = &self.tx;
        let mut alive = true;
        let mut pending = Batch::default();
        let threads = if initial { scan::default_threads() } else { 1 };
        let end = scan::read_to_end(
            &o.file,
            start,
            &mut self.decoder,
            threads,
            &self.stop,
            |b, off| {
                if !alive {
                    return;
                }
                pending.extend(b);
                // Coalesce small batches; flush big ones so the screen fills while reading.
                if pending.steps.len() + pending.aggregates.len() >= 65_536 || show_progress {
                    let b = std::mem::take(&mut pending);
                    if !b.is_empty() {
                        alive &= tx.send(IngestEvent::Batch(b)).is_ok();
                    }
                    if show_progress {
                        alive &= tx.send(IngestEvent::Reading { done: off, total }).is_ok();
                    }
                }
            },
        )?;
        if !pending.is_empty() {
            alive &= tx.send(IngestEvent::Batch(pending)).is_ok();
        }
        o.mark.offset = end;
        if !matches!(&o.mark.prefix, Prefix::Head(h) if h.len() >= FINGERPRINT) {
            let upto = FINGERPRINT.min(end as usize);
            o.mark.prefix = Prefix::Head(identity::head_of(&o.file, upto)?);
        }
        Ok(alive)
    }
}
