//! Where a store's bytes come from: an open file read through a memory map, an open file read
//! with positional reads, or bytes already in memory.
//!
//! Mapping is the fast path (only the pages a reader touches are read, nothing is copied) but
//! has one hazard: if another process truncates the file *while* it is read, the kernel raises
//! SIGBUS and the process dies. Trainers that overwrite a checkpoint in place (`save_file` to
//! the same path) do exactly that, so a process that must never die — the TUI, which owns the
//! terminal — opens its stores with [`ReadMode::Positional`]: every range is then read into
//! memory (one extra copy) and a file that shrinks under us is a read error, not a signal.
//! The mode is chosen per source, by whoever opens it.

use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use crate::text::{printable, printable_path};

/// How a file is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReadMode {
    /// Through a read-only memory map (headless commands: fastest, no copy).
    #[default]
    Mapped,
    /// With positional reads into memory (the TUI: a file truncated under us cannot kill it).
    Positional,
}

/// Why a file could not become a [`ByteSource`]; each store words it for its own format.
#[derive(Debug)]
pub enum OpenProblem {
    Io(io::Error),
    /// A FIFO, a device or a directory (checked before opening: opening a FIFO would block).
    NotRegular,
    /// Longer than this platform's address space.
    TooLarge,
    /// The file's length changed between `stat` and mapping it.
    ChangedSize,
}

#[derive(Debug)]
enum Backing {
    Mapped(Mmap),
    Positional(File),
    Memory(Arc<[u8]>),
}

/// Bytes a tensor store reads ranges of. The length is fixed when the source is opened.
#[derive(Debug)]
pub struct ByteSource {
    backing: Backing,
    len: usize,
    path: Option<PathBuf>,
    /// For messages, already printable.
    label: String,
}

impl ByteSource {
    /// Opens `path` (a regular file) to be read in `mode`. Reads nothing yet.
    pub fn open(path: &Path, mode: ReadMode) -> Result<Self, OpenProblem> {
        let meta = std::fs::metadata(path).map_err(OpenProblem::Io)?;
        if !meta.is_file() {
            return Err(OpenProblem::NotRegular);
        }
        let file = File::open(path).map_err(OpenProblem::Io)?;
        let len = file.metadata().map_err(OpenProblem::Io)?.len();
        let len = usize::try_from(len).map_err(|_| OpenProblem::TooLarge)?;
        let backing = match mode {
            ReadMode::Positional => Backing::Positional(file),
            ReadMode::Mapped => {
                // SAFETY: the map is read-only and private to us; the bytes are only read as
                // plain integers after bounds checks. Another process modifying the file
                // changes what we read (stores validate everything) and truncating it while
                // we read raises SIGBUS (see the module documentation: `Positional` avoids it).
                let mmap = unsafe { Mmap::map(&file) }.map_err(OpenProblem::Io)?;
                if mmap.len() != len {
                    return Err(OpenProblem::ChangedSize);
                }
                Backing::Mapped(mmap)
            }
        };
        Ok(ByteSource {
            backing,
            len,
            path: Some(path.to_path_buf()),
            label: printable_path(path),
        })
    }

    /// Bytes already in memory (a fuzz input, a zip entry read whole); `label` names them in
    /// messages and is made printable here. An `Arc<[u8]>` is shared as is; a `Vec` or a
    /// slice is copied once into one.
    pub fn from_bytes(label: &str, bytes: impl Into<Arc<[u8]>>) -> Self {
        let bytes = bytes.into();
        ByteSource {
            len: bytes.len(),
            backing: Backing::Memory(bytes),
            path: None,
            label: printable(label).into_owned(),
        }
    }

    /// The length when opened.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file, when the bytes come from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The printable path, or the label given to in-memory bytes.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// `len` bytes at `offset`: borrowed from the map or the memory (the kernel is advised to
    /// read mapped pages ahead), read into a buffer in positional mode. Only a range inside
    /// [`ByteSource::len`] is ever read; a range outside it, or a file that shrank since it
    /// was opened, is an `UnexpectedEof` error.
    pub fn read_at(&self, offset: usize, len: usize) -> io::Result<Cow<'_, [u8]>> {
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= self.len)
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        match &self.backing {
            Backing::Mapped(mmap) => {
                let bytes = mmap
                    .get(offset..end)
                    .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
                if !bytes.is_empty() {
                    // A hint only: failure changes nothing but speed.
                    let _ = mmap.advise_range(memmap2::Advice::WillNeed, offset, len);
                }
                Ok(Cow::Borrowed(bytes))
            }
            Backing::Memory(bytes) => Ok(Cow::Borrowed(&bytes[offset..end])),
            Backing::Positional(file) => {
                // Bounded by the length at open, never by what a header claims alone.
                let mut buf = vec![0u8; len];
                file.read_exact_at(&mut buf, offset as u64)?;
                Ok(Cow::Owned(buf))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backing_reads_the_same_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bytes");
        let data: Vec<u8> = (0..=255).collect();
        std::fs::write(&p, &data).unwrap();
        let sources = [
            ByteSource::open(&p, ReadMode::Mapped).unwrap(),
            ByteSource::open(&p, ReadMode::Positional).unwrap(),
            ByteSource::from_bytes("mem", data.clone()),
        ];
        for s in &sources {
            assert_eq!(s.len(), 256);
            assert_eq!(&*s.read_at(10, 3).unwrap(), &[10, 11, 12]);
            assert_eq!(s.read_at(256, 0).unwrap().len(), 0);
            assert!(s.read_at(250, 7).is_err());
            assert!(s.read_at(usize::MAX, 2).is_err());
        }
        assert!(matches!(sources[1].read_at(0, 1).unwrap(), Cow::Owned(_)));
        assert_eq!(sources[2].label(), "mem");
        assert!(sources[2].path().is_none());
    }

    #[test]
    fn a_file_that_shrinks_is_a_read_error_in_positional_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("shrinks");
        std::fs::write(&p, [7u8; 100]).unwrap();
        let s = ByteSource::open(&p, ReadMode::Positional).unwrap();
        std::fs::write(&p, [7u8; 10]).unwrap();
        assert!(s.read_at(0, 10).is_ok());
        assert!(s.read_at(50, 20).is_err());
    }

    #[test]
    fn a_directory_is_not_a_source() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            ByteSource::open(dir.path(), ReadMode::Mapped),
            Err(OpenProblem::NotRegular)
        ));
    }
}
