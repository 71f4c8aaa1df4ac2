//! Following a log like `tail -F`: by path, through truncation, replacement (new inode),
//! deletion and re-creation. inotify (via notify) gives low latency; a poll at a fixed interval
//! always runs too, because inotify is silent for writes made by other NFS/Lustre clients.

use super::decoder::{Batch, LogDecoder};
use super::source::{self, Source, Update};
use super::{scan, SourceSpec};
use crate::text::printable_path;
use crossbeam_channel::{bounded, Receiver, Sender};
use notify::{RecursiveMode, Watcher};
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
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

/// Bytes at the start of the file remembered to notice a truncate-and-rewrite that grew past
/// the old size between two looks.
const FINGERPRINT: usize = 64;

struct Open {
    file: File,
    ident: (u64, u64),
    offset: u64,
    head: Vec<u8>,
}

/// Starts following `opts.path` on a thread; events go to `tx` until `stop` is set or `tx`
/// is dropped.
pub fn spawn(
    opts: SourceSpec,
    poll: Duration,
    tx: Sender<IngestEvent>,
    stop: Arc<AtomicBool>,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("trainwatch-follow".into())
        .spawn(move || {
            let kind = source::kind_of(&opts.path, opts.format);
            match kind.open(&opts.path, &opts.metric) {
                Some(src) => follow_source(src, &opts.path, poll, &tx, &stop),
                None => Follower::new(opts, poll, tx, stop).run(),
            }
        })
}

/// Follows a non-text source (event files, trainer state, metrics CSV) by looking at it at
/// each file-system event or poll tick; each look reads only what is new.
fn follow_source(
    mut src: Box<dyn Source>,
    path: &Path,
    poll: Duration,
    tx: &Sender<IngestEvent>,
    stop: &AtomicBool,
) {
    let (wake_tx, wake_rx) = bounded::<()>(1);
    let _watcher = if path.is_dir() {
        watch_dir(path, wake_tx)
    } else {
        watch_parent(path, wake_tx)
    };
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
        wait(&wake_rx, poll);
    }
}

/// Watches a directory's own entries (new event files, appends).
fn watch_dir(dir: &Path, wake: Sender<()>) -> Option<notify::RecommendedWatcher> {
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if res.is_ok() {
            let _ = wake.try_send(());
        }
    })
    .ok()?;
    w.watch(dir, RecursiveMode::NonRecursive).ok()?;
    Some(w)
}

struct Follower {
    opts: SourceSpec,
    poll: Duration,
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
    fn new(
        opts: SourceSpec,
        poll: Duration,
        tx: Sender<IngestEvent>,
        stop: Arc<AtomicBool>,
    ) -> Self {
        let decoder = LogDecoder::new(opts.metric.clone(), opts.format);
        Follower {
            opts,
            poll,
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

    fn run(mut self) {
        let (wake_tx, wake_rx) = bounded::<()>(1);
        // Keep the watcher alive for the whole loop; without it, polling alone still works.
        let _watcher = watch_parent(&self.opts.path, wake_tx);
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
            wait(&wake_rx, self.poll);
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
        let ident = meta.as_ref().map(|m| (m.dev(), m.ino()));

        // The path now names another file, or none: finish the old one first.
        let switched = match (&self.open, ident) {
            (Some(o), Some(id)) => o.ident != id,
            (Some(_), None) => true,
            _ => false,
        };
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
                ident: (meta.dev(), meta.ino()),
                offset: 0,
                head: Vec::new(),
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
        let Some(o) = &self.open else { return Ok(true) };
        let len = o.file.metadata()?.len();
        let rewritten = len < o.offset || !head_matches(&o.file, &o.head)?;
        if rewritten {
            if let Some(o) = &mut self.open {
                o.offset = 0;
                o.head.clear();
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
        let start = o.offset;
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
        o.offset = end;
        if o.head.len() < FINGERPRINT {
            let mut head = vec![0u8; FINGERPRINT.min(end as usize)];
            let n = o.file.read_at(&mut head, 0)?;
            head.truncate(n);
            o.head = head;
        }
        Ok(alive)
    }
}

fn head_matches(file: &File, head: &[u8]) -> io::Result<bool> {
    if head.is_empty() {
        return Ok(true);
    }
    let mut now = vec![0u8; head.len()];
    let n = file.read_at(&mut now, 0)?;
    Ok(n == head.len() && now == head)
}

fn wait(wake: &Receiver<()>, poll: Duration) {
    // Whichever comes first: a file-system event or the poll interval.
    let _ = wake.recv_timeout(poll);
    // Let a burst of writes settle into one read.
    std::thread::sleep(Duration::from_millis(2));
    while wake.try_recv().is_ok() {}
}

/// Watches the log's directory (so creation and rename are seen too). `None` when inotify is
/// unavailable; polling still runs.
fn watch_parent(path: &Path, wake: Sender<()>) -> Option<notify::RecommendedWatcher> {
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name()?.to_os_string();
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if ev.paths.is_empty() || ev.paths.iter().any(|p| p.file_name() == Some(&name)) {
                let _ = wake.try_send(());
            }
        }
    })
    .ok()?;
    w.watch(&dir, RecursiveMode::NonRecursive).ok()?;
    Some(w)
}
