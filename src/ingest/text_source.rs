//! A text log as a [`Source`]: followed by path like `tail -F` — through truncation,
//! replacement (new inode: logrotate, rsync), deletion and re-creation — and decoded by the
//! line decoder. The first look reads the existing content on the shared pool (big files in
//! parallel blocks, with progress); later looks read what was appended.

use super::decoder::{Batch, LogDecoder};
use super::source::{Source, Update};
use super::{scan, SourceSpec};
use crate::core::RestartReason;
use crate::watch::identity::{self, Change, FileIdentity, Prefix, ReadMark, FINGERPRINT};
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Existing content above this is read with progress updates.
const PROGRESS_ABOVE: u64 = 32 << 20;
/// Small batches are joined up to this many records before they are handed over.
const COALESCE: usize = 65_536;

/// The file being read: its handle (kept across a rename, to finish it) and how far.
#[derive(Debug)]
struct Open {
    file: File,
    mark: ReadMark,
}

/// A text log, read by looking at it again.
#[derive(Debug)]
pub struct TextSource {
    path: PathBuf,
    decoder: LogDecoder,
    open: Option<Open>,
    /// A file was open before: the next one opened is a restart.
    had_file: bool,
    stop: Arc<AtomicBool>,
}

impl TextSource {
    pub fn new(spec: &SourceSpec) -> Self {
        TextSource {
            path: spec.path.clone(),
            decoder: LogDecoder::new(spec.metric.clone(), spec.format),
            open: None,
            had_file: false,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Reads the rest of the currently open file (it is being replaced).
    fn drain_open(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<()> {
        let len = match &self.open {
            Some(o) => o.file.metadata()?.len(),
            None => return Ok(()),
        };
        self.read_new(false, len, each)
    }

    /// Reads from the open file's offset to `total`, handing batches over in order.
    fn read_new(
        &mut self,
        initial: bool,
        total: u64,
        each: &mut dyn FnMut(Update),
    ) -> io::Result<()> {
        let Some(o) = &mut self.open else {
            return Ok(());
        };
        if total <= o.mark.offset {
            return Ok(());
        }
        // The fingerprint is taken before the read (and before any batch goes out): taken
        // after, a rewrite made in between would become the "old" start and go unnoticed.
        let known = match &o.mark.prefix {
            Prefix::Head(h) if h.len() >= FINGERPRINT => None,
            Prefix::Head(h) => Some(h.clone()),
            _ => Some(Vec::new()),
        };
        if let Some(known) = known {
            let head = identity::head_of(&o.file, FINGERPRINT.min(total as usize))?;
            if !head.starts_with(&known) {
                // Rewritten since it was classified: read it from the start as a restart.
                o.mark.offset = 0;
                self.decoder.reset();
                each(Update::Restart(RestartReason::Truncated));
            }
            o.mark.prefix = Prefix::Head(head);
        }
        let start = o.mark.offset;
        let progress = initial && total - start > PROGRESS_ABOVE;
        let mut pending = Batch::default();
        let threads = if initial { scan::default_threads() } else { 1 };
        let end = scan::read_to_end(
            &o.file,
            start,
            &mut self.decoder,
            threads,
            &self.stop,
            |b, done| {
                pending.extend(b);
                // Coalesce small batches; hand big ones over so the screen fills while reading.
                if pending.steps.len() + pending.aggregates.len() >= COALESCE || progress {
                    let b = std::mem::take(&mut pending);
                    if !b.is_empty() || b.lines > 0 {
                        each(Update::Batch(b));
                    }
                    if progress {
                        each(Update::Progress { done, total });
                    }
                }
            },
        )?;
        // Lines read count even when they held no record ("no gnorm in N lines").
        if !pending.is_empty() || pending.lines > 0 {
            each(Update::Batch(pending));
        }
        o.mark.offset = end;
        Ok(())
    }
}

impl Source for TextSource {
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(io::Error::other("is a directory, not a log file"));
        }
        let now = meta.as_ref().map(FileIdentity::of);
        let change = identity::classify(
            self.open.as_ref().map(|o| &o.mark),
            &self.path,
            now.as_ref(),
        )?;
        // The path now names another file, or none: finish the old one first.
        let switched = matches!(change, Change::Replaced | Change::Deleted);
        if switched {
            self.drain_open(each)?;
            self.open = None;
            self.decoder.reset();
        }
        let Some(meta) = meta else {
            return Ok(false);
        };
        if self.open.is_none() {
            let file = match File::open(&self.path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(e),
            };
            if self.had_file {
                each(Update::Restart(if switched {
                    RestartReason::Replaced
                } else {
                    RestartReason::Recreated
                }));
            }
            self.had_file = true;
            self.open = Some(Open {
                file,
                mark: ReadMark {
                    file: FileIdentity::of(&meta),
                    offset: 0,
                    prefix: Prefix::Head(Vec::new()),
                },
            });
            self.read_new(true, meta.len(), each)?;
            return Ok(true);
        }
        // Same file: truncated and rewritten, or grown?
        if change == Change::Truncated {
            if let Some(o) = &mut self.open {
                o.mark.offset = 0;
                o.mark.prefix = Prefix::Head(Vec::new());
            }
            self.decoder.reset();
            each(Update::Restart(RestartReason::Truncated));
        }
        self.read_new(false, meta.len(), each)?;
        // The stat this look began with: the next look with the same one need not read.
        if let Some(o) = &mut self.open {
            o.mark.file = FileIdentity::of(&meta);
        }
        Ok(true)
    }

    fn names(&self) -> Vec<String> {
        super::discover_names(&self.path)
    }

    fn finish(&mut self) -> Option<Batch> {
        self.decoder.finish();
        Some(self.decoder.take_batch())
    }

    fn stop_with(&mut self, stop: Arc<AtomicBool>) {
        self.stop = stop;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(from: u64, to: u64) -> String {
        (from..=to)
            .map(|i| format!("step={i} loss=2.0 gnorm={i}.5\n"))
            .collect()
    }

    /// The race CI once hit: the consumer sees the first batch and the job rewrites the log at
    /// once, before the reader has finished its look. The rewrite must still be a restart.
    #[test]
    fn a_rewrite_while_the_first_batch_is_handed_over_is_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("train.log");
        std::fs::write(&p, lines(1, 3)).unwrap();
        let mut src = TextSource::new(&SourceSpec::new(&p));
        let mut rewritten = false;
        src.poll_each(&mut |u| {
            if matches!(u, Update::Batch(_)) && !rewritten {
                rewritten = true;
                std::fs::write(&p, format!("# new run\n{}", lines(1, 20))).unwrap();
            }
        })
        .unwrap();
        assert!(rewritten);
        let mut restarts = 0;
        let mut steps = Vec::new();
        src.poll_each(&mut |u| match u {
            Update::Restart(RestartReason::Truncated) => restarts += 1,
            Update::Batch(b) => steps.extend(b.steps.steps().flatten()),
            _ => {}
        })
        .unwrap();
        assert_eq!(restarts, 1);
        assert_eq!(steps, (1..=20).collect::<Vec<u64>>());
    }
}
