//! The bottom layer that tells readers when to look again: one notify watcher for the whole
//! process (inotify instances are scarce: often 128 per user) with a path → subscriber map, and
//! one poll scheduler that wakes every subscriber at its own interval (polling always runs
//! beside notify, because inotify is silent for writes made by other NFS/Lustre clients).
//! Also file identity and restarts ([`identity`]) and the bounded worker pool ([`pool`]).
//! Uses no ingest or checkpoint types.

pub mod identity;
pub mod pool;
mod routes;
pub mod schedule;

use crossbeam_channel::{bounded, Receiver};
use notify::{RecursiveMode, Watcher as _};
use routes::{Interest, Routes};
use schedule::Schedule;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// What a subscriber wants to hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One file, by path: its directory is watched, so creation, deletion and renames of the
    /// name are seen too.
    File(PathBuf),
    /// A directory's own entries (new files, appends to them).
    Dir(PathBuf),
    /// A directory and everything below it (a checkpoint folder gains `checkpoint-N/`).
    Tree(PathBuf),
}

/// A handle on the watcher service; clones share one notify watcher and one scheduler.
#[derive(Clone)]
pub struct WatchService {
    inner: Arc<Inner>,
}

struct Inner {
    routes: Arc<Routes>,
    schedule: Arc<Schedule>,
    /// `None`: notify is unavailable; polling alone still works. Also serialises every change
    /// to the set of watches (notify's `watch` waits on its event thread, which takes the
    /// routes lock, so that lock is never held across it).
    notify: Mutex<Option<notify::RecommendedWatcher>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.schedule.shut_down();
    }
}

impl Default for WatchService {
    fn default() -> Self {
        Self::new()
    }
}

impl WatchService {
    /// A new service (its notify watcher and scheduler thread start with the first subscriber).
    pub fn new() -> Self {
        let routes = Arc::new(Routes::default());
        WatchService {
            inner: Arc::new(Inner {
                routes,
                schedule: Arc::new(Schedule::default()),
                notify: Mutex::new(None),
            }),
        }
    }

    /// The process's service, for callers that are not handed one.
    pub fn shared() -> WatchService {
        static SHARED: OnceLock<WatchService> = OnceLock::new();
        SHARED.get_or_init(WatchService::new).clone()
    }

    /// Wakes the returned subscription at once on every file-system event about `target`, and
    /// every `poll` in any case. Dropping the subscription unwatches.
    pub fn subscribe(&self, target: Target, poll: Duration) -> Subscription {
        let (waker, wakeups) = bounded::<()>(1);
        let interest = Interest::of(&target);
        let mut notify = self.inner.notify.lock().unwrap_or_else(|e| e.into_inner());
        if notify.is_none() {
            let routes = self.inner.routes.clone();
            *notify = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                match res {
                    // A reader opening a file changes nothing; waking on it would make every
                    // look (which opens the file) wake the next one.
                    Ok(ev) if only_read(&ev.kind) => {}
                    Ok(ev) => routes.deliver(&ev.paths),
                    Err(_) => {}
                }
            })
            .ok();
        }
        let (id, add) = self.inner.routes.add(interest, waker.clone());
        if let (Some(w), Some((dir, recursive))) = (notify.as_mut(), add) {
            let mode = if recursive {
                // A directory watched on its own before: watch it again, whole.
                let _ = w.unwatch(&dir);
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            if w.watch(&dir, mode).is_err() {
                self.inner.routes.watch_failed(&dir);
            }
        }
        drop(notify);
        self.inner.schedule.add(id, poll, waker);
        Subscription {
            id,
            service: self.clone(),
            wakeups,
        }
    }

    /// Directories watched now (for tests and the report on inotify use).
    pub fn watched_dirs(&self) -> Vec<PathBuf> {
        self.inner.routes.watched()
    }

    fn unsubscribe(&self, id: u64) {
        self.inner.schedule.remove(id);
        let mut notify = self.inner.notify.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dir) = self.inner.routes.remove(id) {
            if let Some(w) = notify.as_mut() {
                let _ = w.unwatch(&dir);
            }
        }
    }
}

/// One subscriber's wake-ups; dropping it unsubscribes.
pub struct Subscription {
    id: u64,
    service: WatchService,
    wakeups: Receiver<()>,
}

impl Subscription {
    /// The channel that receives a `()` per wake-up (coalesced), for `select!`.
    pub fn wakeups(&self) -> &Receiver<()> {
        &self.wakeups
    }

    /// Blocks until the next event or poll tick, then lets a burst of writes settle for
    /// `settle` into one wake-up.
    pub fn wait(&self, settle: Duration) {
        if self.wakeups.recv().is_err() {
            // Cannot happen while the service holds the waker; never spin if it does.
            std::thread::sleep(Duration::from_millis(100));
        }
        self.settle(settle);
    }

    /// The subscriber found something new: its poll, backed off while it was silent
    /// ([`schedule::backoff`]), returns to the interval it asked for.
    pub fn active(&self) {
        self.service.inner.schedule.active(self.id);
    }

    /// After a wake-up: waits `settle`, then swallows the wake-ups that came meanwhile.
    pub fn settle(&self, settle: Duration) {
        std::thread::sleep(settle);
        while self.wakeups.try_recv().is_ok() {}
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.service.unsubscribe(self.id);
    }
}

fn only_read(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    matches!(
        kind,
        EventKind::Access(
            AccessKind::Open(_) | AccessKind::Read | AccessKind::Close(AccessMode::Read)
        )
    )
}

/// The directory a file lives in ("." for a bare name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests;
