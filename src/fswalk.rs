//! The one directory walker: breadth first, bounded in depth and in entries, so that pointing
//! trainwatch at a home directory or a dataset folder costs a bounded number of system calls.
//! Run discovery walks run folders with it, the checkpoint resolver and the event-file reader
//! list one folder with it. It depends on nothing else in the crate.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// How deep a run folder is searched (the root is depth 0).
pub const MAX_DEPTH: usize = 4;
/// How many entries a walk reads at most, counting the ones it skips.
pub const MAX_ENTRIES: usize = 50_000;

/// What an entry is (after following a symbolic link, when the walk follows them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File,
    /// A FIFO, socket, device, or a link the walk does not follow.
    Other,
}

/// One entry of a walked folder.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    /// The file name, lossily decoded (names are compared, not used to open).
    pub name: String,
    /// 1 for the root's own entries.
    pub depth: usize,
    pub kind: EntryKind,
    /// Known when the walk followed links (it read the metadata anyway).
    meta: Option<Metadata>,
}

impl Entry {
    /// The modification time (of the link's target); the epoch when it cannot be read, so a
    /// file that vanished sorts as the oldest.
    pub fn modified(&self) -> SystemTime {
        let meta = match &self.meta {
            Some(m) => m.modified(),
            None => std::fs::metadata(&self.path).and_then(|m| m.modified()),
        };
        meta.unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// The folder this entry is in.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// A walk's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// Folders up to this depth are entered (0: only the root is listed).
    pub max_depth: usize,
    pub max_entries: usize,
    /// Follow symbolic links (checkpoints are often linked into place); else a link is
    /// [`EntryKind::Other`] and is never entered, so a walk cannot loop.
    pub follow_links: bool,
    /// Skip hidden folders and tool folders (`node_modules`, `__pycache__`, `site-packages`,
    /// `venv`): they hold no training output and can be huge.
    pub skip_tool_dirs: bool,
}

impl Walk {
    /// A run folder: [`MAX_DEPTH`] deep, tool folders skipped, links not followed.
    pub fn run_folder() -> Walk {
        Walk {
            max_depth: MAX_DEPTH,
            max_entries: MAX_ENTRIES,
            follow_links: false,
            skip_tool_dirs: true,
        }
    }

    /// One folder's own entries, links followed.
    pub fn listing() -> Walk {
        Walk {
            max_depth: 0,
            max_entries: MAX_ENTRIES,
            follow_links: true,
            skip_tool_dirs: false,
        }
    }

    /// The entries under `root`, breadth first: each folder's entries together, folders in the
    /// order they were found. Failing to open the root is an error; a folder below it that
    /// cannot be read (permissions, deleted meanwhile) is passed over, and so is an entry that
    /// cannot be read or vanished between listing and looking at it.
    pub fn entries(&self, root: &Path) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        let mut folders = vec![(root.to_path_buf(), 0usize)];
        let mut next = 0;
        let mut seen = 0usize;
        while next < folders.len() {
            let (dir, depth) = folders[next].clone();
            next += 1;
            let listing = match std::fs::read_dir(&dir) {
                Ok(l) => l,
                Err(e) if depth == 0 => return Err(e),
                Err(_) => continue,
            };
            for entry in listing {
                let Ok(entry) = entry else { continue };
                seen += 1;
                if seen > self.max_entries {
                    return Ok(out);
                }
                let path = entry.path();
                let (kind, meta) = if self.follow_links {
                    let Ok(m) = std::fs::metadata(&path) else {
                        continue;
                    };
                    (kind_of(m.file_type()), Some(m))
                } else {
                    let Ok(t) = entry.file_type() else { continue };
                    (kind_of(t), None)
                };
                let name = entry.file_name().to_string_lossy().into_owned();
                if kind == EntryKind::Dir
                    && depth < self.max_depth
                    && !(self.skip_tool_dirs && is_tool_dir(&name))
                {
                    folders.push((path.clone(), depth + 1));
                }
                out.push(Entry {
                    path,
                    name,
                    depth: depth + 1,
                    kind,
                    meta,
                });
            }
        }
        Ok(out)
    }
}

fn kind_of(t: std::fs::FileType) -> EntryKind {
    if t.is_dir() {
        EntryKind::Dir
    } else if t.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    }
}

pub fn is_tool_dir(name: &str) -> bool {
    name.starts_with('.')
        || matches!(
            name,
            "node_modules" | "__pycache__" | "site-packages" | "venv"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn names(entries: &[Entry]) -> Vec<String> {
        let mut v: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
        v.sort();
        v
    }

    #[test]
    fn depth_and_tool_folders_bound_a_run_folder_walk() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c/d/e");
        fs::create_dir_all(&deep).unwrap();
        fs::write(dir.path().join("a/b/c/d/in.log"), "").unwrap();
        fs::write(deep.join("too_deep.log"), "").unwrap();
        for skipped in [".git", "node_modules", "__pycache__", "venv"] {
            fs::create_dir_all(dir.path().join(skipped)).unwrap();
            fs::write(dir.path().join(skipped).join("hidden.log"), "").unwrap();
        }
        let found = Walk::run_folder().entries(dir.path()).unwrap();
        let files: Vec<&Entry> = found.iter().filter(|e| e.kind == EntryKind::File).collect();
        assert_eq!(files.len(), 1, "{found:?}");
        assert_eq!(files[0].name, "in.log");
        assert_eq!(files[0].depth, 5);
        assert_eq!(files[0].dir(), dir.path().join("a/b/c/d"));
        // The skipped folders are entries themselves, only not entered.
        assert!(names(&found).contains(&".git".to_string()));
    }

    #[test]
    fn breadth_first_and_bounded_in_entries() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/inner.txt"), "").unwrap();
        fs::write(dir.path().join("top.txt"), "").unwrap();
        let all = Walk::run_folder().entries(dir.path()).unwrap();
        assert_eq!(all.last().map(|e| e.name.as_str()), Some("inner.txt"));
        let capped = Walk {
            max_entries: 2,
            ..Walk::run_folder()
        };
        assert_eq!(capped.entries(dir.path()).unwrap().len(), 2);
    }

    #[test]
    fn a_listing_stays_in_its_folder_and_an_unreadable_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("checkpoint-5")).unwrap();
        fs::write(dir.path().join("checkpoint-5/model.safetensors"), "").unwrap();
        let listed = Walk::listing().entries(dir.path()).unwrap();
        assert_eq!(names(&listed), vec!["checkpoint-5"]);
        assert_eq!(listed[0].kind, EntryKind::Dir);
        assert!(Walk::listing()
            .entries(&dir.path().join("missing"))
            .is_err());
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("real.safetensors"), "x").unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("real.safetensors"),
            dir.path().join("link.safetensors"),
        )
        .unwrap();
        let kind = |w: Walk| {
            w.entries(dir.path())
                .unwrap()
                .into_iter()
                .find(|e| e.name == "link.safetensors")
                .map(|e| e.kind)
        };
        assert_eq!(kind(Walk::listing()), Some(EntryKind::File));
        let plain = Walk {
            follow_links: false,
            ..Walk::listing()
        };
        assert_eq!(kind(plain), Some(EntryKind::Other));
    }
}
