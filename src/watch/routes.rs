//! Which subscriber a file-system event is for, and which directories are watched for them
//! (several subscribers of one directory share one watch; a directory inside a tree watched
//! whole needs no watch of its own).

use super::{parent_dir, Target};
use crossbeam_channel::Sender;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A subscriber's target as events name it: directories canonical, because the watch is put
/// on the canonical directory and events carry paths below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Interest {
    /// `name` in `dir` (`None`: anything in `dir`).
    File {
        dir: PathBuf,
        name: Option<OsString>,
    },
    Dir(PathBuf),
    Tree(PathBuf),
}

impl Interest {
    pub(super) fn of(target: &Target) -> Interest {
        let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        match target {
            Target::File(p) => Interest::File {
                dir: canonical(&parent_dir(p)),
                name: p.file_name().map(|n| n.to_os_string()),
            },
            Target::Dir(p) => Interest::Dir(canonical(p)),
            Target::Tree(p) => Interest::Tree(canonical(p)),
        }
    }

    /// The directory to watch, and whether whole.
    fn watch(&self) -> (&Path, bool) {
        match self {
            Interest::File { dir, .. } | Interest::Dir(dir) => (dir, false),
            Interest::Tree(dir) => (dir, true),
        }
    }

    fn matches(&self, p: &Path) -> bool {
        match self {
            Interest::File { dir, name } => {
                p.parent() == Some(dir.as_path())
                    && name
                        .as_ref()
                        .is_none_or(|n| p.file_name() == Some(n.as_os_str()))
            }
            Interest::Dir(dir) => p == dir || p.parent() == Some(dir.as_path()),
            Interest::Tree(dir) => p.starts_with(dir),
        }
    }
}

struct Subscriber {
    interest: Interest,
    waker: Sender<()>,
    /// The watch it holds a share of (`None`: polled only).
    watch: Option<PathBuf>,
}

struct Watch {
    recursive: bool,
    users: usize,
}

#[derive(Default)]
struct State {
    next_id: u64,
    subscribers: HashMap<u64, Subscriber>,
    watches: HashMap<PathBuf, Watch>,
}

/// The path → subscriber map the notify callback routes through.
#[derive(Default)]
pub(super) struct Routes {
    state: Mutex<State>,
}

impl Routes {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a subscriber. Returns its id and, when a watch must be added (or made
    /// recursive), the directory and whether whole.
    pub(super) fn add(
        &self,
        interest: Interest,
        waker: Sender<()>,
    ) -> (u64, Option<(PathBuf, bool)>) {
        let mut st = self.lock();
        let id = st.next_id;
        st.next_id += 1;
        let (dir, recursive) = interest.watch();
        let (dir, recursive) = (dir.to_path_buf(), recursive);
        let covering = st
            .watches
            .iter()
            .find(|(w, k)| **w == dir && (k.recursive || !recursive))
            .or_else(|| {
                st.watches
                    .iter()
                    .find(|(w, k)| k.recursive && dir.starts_with(w))
            })
            .map(|(w, _)| w.clone());
        let (held, add) = match covering {
            Some(w) => (w, None),
            None => {
                let k = st.watches.entry(dir.clone()).or_insert(Watch {
                    recursive,
                    users: 0,
                });
                k.recursive |= recursive;
                (dir.clone(), Some((dir, recursive)))
            }
        };
        if let Some(k) = st.watches.get_mut(&held) {
            k.users += 1;
        }
        st.subscribers.insert(
            id,
            Subscriber {
                interest,
                waker,
                watch: Some(held),
            },
        );
        (id, add)
    }

    /// notify could not watch `dir`: its subscribers are polled only.
    pub(super) fn watch_failed(&self, dir: &Path) {
        let mut st = self.lock();
        st.watches.remove(dir);
        for s in st.subscribers.values_mut() {
            if s.watch.as_deref() == Some(dir) {
                s.watch = None;
            }
        }
    }

    /// Forgets a subscriber; returns the directory to unwatch when it was the last user.
    pub(super) fn remove(&self, id: u64) -> Option<PathBuf> {
        let mut st = self.lock();
        let dir = st.subscribers.remove(&id)?.watch?;
        let k = st.watches.get_mut(&dir)?;
        k.users -= 1;
        if k.users > 0 {
            return None;
        }
        st.watches.remove(&dir);
        Some(dir)
    }

    /// Wakes the subscribers an event about `paths` concerns (all of them when it names no
    /// path: a queue overflow or rescan).
    pub(super) fn deliver(&self, paths: &[PathBuf]) {
        let st = self.lock();
        for s in st.subscribers.values() {
            if paths.is_empty() || paths.iter().any(|p| s.interest.matches(p)) {
                let _ = s.waker.try_send(());
            }
        }
    }

    pub(super) fn watched(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.lock().watches.keys().cloned().collect();
        v.sort();
        v
    }
}
