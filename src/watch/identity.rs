//! Which file a path names, and how it changed since a reader last looked: the one place that
//! tells growth from truncation, replacement and deletion, for every append-only source.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

/// Bytes at the start of a file kept to notice a truncate-and-rewrite that grew past the old
/// size between two looks.
pub const FINGERPRINT: usize = 64;

/// A file as `stat` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
    pub len: u64,
    /// Modification time (seconds, nanoseconds): a file rewritten in place at the same size.
    pub mtime: (i64, i64),
}

impl FileIdentity {
    pub fn of(m: &Metadata) -> Self {
        FileIdentity {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
        }
    }

    /// `None` when nothing is at `path`.
    pub fn stat(path: &Path) -> io::Result<Option<Self>> {
        match std::fs::metadata(path) {
            Ok(m) => Ok(Some(Self::of(&m))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The same file (inode), whatever its size or time now.
    pub fn same_file(&self, other: &FileIdentity) -> bool {
        (self.dev, self.ino) == (other.dev, other.ino)
    }
}

/// What a reader remembers of the start of what it has read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Prefix {
    #[default]
    None,
    /// The first bytes (a [`FINGERPRINT`], or a header): cheap, compared at every look.
    Head(Vec<u8>),
    /// CRC-32C of every byte read: a new inode that starts with them is the same content
    /// copied over (rsync), so only compared when the inode changed.
    Crc(u32),
}

/// How far a reader got in which file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMark {
    pub file: FileIdentity,
    /// Bytes consumed.
    pub offset: u64,
    pub prefix: Prefix,
}

/// How the file at a path changed since a [`ReadMark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing new (or still nothing there).
    Unchanged,
    /// More bytes after the offset.
    Grown,
    /// Shorter than what was read, or its first bytes differ: rewritten in place.
    Truncated,
    /// The path names another file now (rename over it: logrotate, rsync).
    Replaced,
    /// Nothing at the path any more.
    Deleted,
    /// A file where there was none (or none read yet).
    Appeared,
}

impl Change {
    /// The restart a source reports for this change of the file it reads in place (a
    /// truncation or a replacement; a deletion waits for the file to come back).
    pub fn restart(self) -> Option<crate::core::RestartReason> {
        match self {
            Change::Truncated => Some(crate::core::RestartReason::Truncated),
            Change::Replaced => Some(crate::core::RestartReason::Replaced),
            _ => None,
        }
    }
}

/// Classifies the file at `path` (as `now` from [`FileIdentity::stat`]) against `mark`.
/// Reads the file only to compare a remembered prefix.
pub fn classify(
    mark: Option<&ReadMark>,
    path: &Path,
    now: Option<&FileIdentity>,
) -> io::Result<Change> {
    let (mark, now) = match (mark, now) {
        (None, None) => return Ok(Change::Unchanged),
        (None, Some(_)) => return Ok(Change::Appeared),
        (Some(_), None) => return Ok(Change::Deleted),
        (Some(m), Some(n)) => (m, n),
    };
    if !mark.file.same_file(now) {
        let copied = match mark.prefix {
            Prefix::Crc(crc) => starts_with_crc(path, mark.offset, crc)?,
            _ => false,
        };
        if !copied {
            return Ok(Change::Replaced);
        }
    } else if now.len < mark.offset {
        return Ok(Change::Truncated);
    } else if let Prefix::Head(head) = &mark.prefix {
        // A file whose size and time are those of the reader's last look was not written
        // since: no need to open it (an idle run's poll stays one `stat`, and no inotify
        // open event wakes the watcher).
        if mark.file != *now && !starts_with(path, head)? {
            return Ok(Change::Truncated);
        }
    }
    Ok(if now.len > mark.offset {
        Change::Grown
    } else {
        Change::Unchanged
    })
}

/// The first `upto` bytes of `file` (fewer when it is shorter).
pub fn head_of(file: &File, upto: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; upto];
    let n = file.read_at(&mut head, 0)?;
    head.truncate(n);
    Ok(head)
}

fn open(path: &Path) -> io::Result<Option<File>> {
    match File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether the file at `path` starts with `head` (anything does with an empty one).
fn starts_with(path: &Path, head: &[u8]) -> io::Result<bool> {
    if head.is_empty() {
        return Ok(true);
    }
    let Some(file) = open(path)? else {
        return Ok(false);
    };
    Ok(head_of(&file, head.len())? == head)
}

/// Whether the file at `path` starts with the `len` bytes whose CRC-32C is `crc`.
fn starts_with_crc(path: &Path, len: u64, crc: u32) -> io::Result<bool> {
    let Some(file) = open(path)? else {
        return Ok(false);
    };
    if file.metadata()?.len() < len {
        return Ok(false);
    }
    let mut buf = vec![0u8; (len as usize).clamp(1, 4 << 20)];
    let (mut at, mut c) = (0u64, 0u32);
    while at < len {
        let want = ((len - at) as usize).min(buf.len());
        let n = file.read_at(&mut buf[..want], at)?;
        if n == 0 {
            return Ok(false);
        }
        c = crc32c::crc32c_append(c, &buf[..n]);
        at += n as u64;
    }
    Ok(c == crc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn mark(path: &Path, offset: u64, prefix: Prefix) -> ReadMark {
        let file = FileIdentity::stat(path).unwrap().unwrap();
        ReadMark {
            file,
            offset,
            prefix,
        }
    }

    fn look(m: Option<&ReadMark>, path: &Path) -> Change {
        let now = FileIdentity::stat(path).unwrap();
        classify(m, path, now.as_ref()).unwrap()
    }

    #[test]
    fn growth_truncation_rewrite_replacement_deletion() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        assert_eq!(look(None, &p), Change::Unchanged);
        std::fs::write(&p, b"first line\n").unwrap();
        assert_eq!(look(None, &p), Change::Appeared);
        let m = mark(&p, 11, Prefix::Head(b"first line\n".to_vec()));
        assert_eq!(look(Some(&m), &p), Change::Unchanged);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"more\n")
            .unwrap();
        assert_eq!(look(Some(&m), &p), Change::Grown);
        // Rewritten in place, longer than before: the head tells.
        std::fs::write(&p, b"other start, and longer\n").unwrap();
        assert_eq!(look(Some(&m), &p), Change::Truncated);
        std::fs::write(&p, b"x\n").unwrap();
        assert_eq!(look(Some(&m), &p), Change::Truncated);
        let q = dir.path().join("b.log");
        std::fs::write(&q, b"first line\nmore\n").unwrap();
        std::fs::rename(&q, &p).unwrap();
        assert_eq!(look(Some(&m), &p), Change::Replaced);
        std::fs::remove_file(&p).unwrap();
        assert_eq!(look(Some(&m), &p), Change::Deleted);
    }

    #[test]
    fn an_unchanged_stat_is_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, b"first line\n").unwrap();
        // The remembered head is not what the file holds, but nothing was written since the
        // look that took the stat: the stat alone says unchanged.
        let m = mark(&p, 11, Prefix::Head(b"other line\n".to_vec()));
        assert_eq!(look(Some(&m), &p), Change::Unchanged);
        // Written since (the time moved): compared, and found rewritten.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(look(Some(&m), &p), Change::Truncated);
    }

    #[test]
    fn a_copy_of_the_bytes_read_is_the_same_file_grown() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events");
        std::fs::write(&p, b"0123456789").unwrap();
        let m = mark(&p, 10, Prefix::Crc(crc32c::crc32c(b"0123456789")));
        // Keep the first inode alive: a freed one may be reused by the next file.
        std::fs::hard_link(&p, dir.path().join("keep")).unwrap();
        let q = dir.path().join("copy");
        std::fs::write(&q, b"0123456789abc").unwrap();
        std::fs::rename(&q, &p).unwrap();
        assert_eq!(look(Some(&m), &p), Change::Grown);
        std::fs::write(&q, b"9876543210abc").unwrap();
        std::fs::rename(&q, &p).unwrap();
        assert_eq!(look(Some(&m), &p), Change::Replaced);
    }
}
