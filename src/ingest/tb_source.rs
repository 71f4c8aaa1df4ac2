//! TensorBoard event files as a [`Source`]: one file, or a folder of them read in the order of
//! their names' timestamps (each file after the first is a restart); a replaced file that starts
//! with the bytes already read (rsync) continues where it was.

use super::follow::RestartReason;
use super::formats::{LogFormat, MetricSpec};
use super::source::{event_files, Source, Update};
use super::tfevents;
use crate::watch::identity::{self, Change, FileIdentity, Prefix, ReadMark};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// One event file being read.
#[derive(Debug)]
struct TbFile {
    path: PathBuf,
    /// The file as last seen (`None`: not yet).
    seen: Option<FileIdentity>,
    offset: u64,
    /// CRC-32C of the bytes before `offset`: a replaced file (rsync) that starts with them is
    /// the same file grown, not a new run. `None` for a one-shot read (never looked at again).
    crc: Option<u32>,
    dec: tfevents::EventDecoder,
}

/// One event file, or a directory of them (a restart writes a new file: each file after the
/// first starts a new run).
#[derive(Debug)]
pub struct TbSource {
    path: PathBuf,
    dir: bool,
    metric: MetricSpec,
    files: Vec<TbFile>,
    tags: Vec<String>,
    buf: Vec<u8>,
    /// Whether each file's CRC-32C is kept ([`Source::one_shot`] turns it off).
    fingerprint: bool,
}

impl TbSource {
    pub fn new(path: &Path, metric: &MetricSpec) -> Self {
        TbSource {
            path: path.to_path_buf(),
            dir: path.is_dir(),
            metric: metric.clone(),
            files: Vec::new(),
            tags: Vec::new(),
            buf: Vec::new(),
            fingerprint: true,
        }
    }

    fn poll(&mut self, out: &mut dyn FnMut(Update)) -> io::Result<bool> {
        let paths = if self.dir {
            event_files(&self.path)
        } else {
            vec![self.path.clone()]
        };
        for p in paths {
            if !self.files.iter().any(|f| f.path == p) {
                self.files.push(TbFile {
                    path: p,
                    seen: None,
                    offset: 0,
                    crc: self.fingerprint.then_some(0),
                    dec: tfevents::EventDecoder::new(&self.metric).collecting_tags(),
                });
            }
        }
        let mut exists = false;
        for i in 0..self.files.len() {
            exists |= self.read_file(i, out)?;
        }
        for f in &mut self.files {
            for t in std::mem::take(&mut f.dec.seen_tags) {
                if self.tags.len() < 64 && !self.tags.contains(&t) {
                    self.tags.push(t);
                }
            }
        }
        Ok(exists)
    }

    fn read_file(&mut self, i: usize, out: &mut dyn FnMut(Update)) -> io::Result<bool> {
        let earlier_open = self.files[..i].iter().any(|g| g.seen.is_some());
        let TbSource { files, buf, .. } = self;
        let f = &mut files[i];
        let Some(now) = FileIdentity::stat(&f.path)? else {
            return Ok(false);
        };
        let mark = f.seen.map(|file| ReadMark {
            file,
            offset: f.offset,
            prefix: f.crc.map_or(Prefix::None, Prefix::Crc),
        });
        let restart = match identity::classify(mark.as_ref(), &f.path, Some(&now))? {
            Change::Appeared if earlier_open => Some(RestartReason::NewFile),
            change => change.restart(),
        };
        if let Some(r) = restart {
            f.offset = 0;
            f.crc = f.crc.map(|_| 0);
            f.dec.reset();
            out(Update::Restart(r));
        }
        f.seen = Some(now);
        let file = match File::open(&f.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let mut emit = |dec: &mut tfevents::EventDecoder| {
            for mut batch in dec.take_batches() {
                if !batch.is_empty() || batch.lines > 0 {
                    batch.detected = Some(LogFormat::TensorBoard);
                    out(Update::Batch(batch));
                }
            }
        };
        if len.saturating_sub(f.offset) > (16 << 20) {
            // Big: one thread reads the next block while the others decode this one.
            f.offset = read_pipelined(&file, f.offset, len, &mut f.dec, &mut f.crc, &mut emit)?;
            return Ok(true);
        }
        if buf.len() < (4 << 20) {
            buf.resize(4 << 20, 0);
        }
        // One batch per block: big files do not pile up one huge batch before the model.
        while f.offset < len {
            let want = ((len - f.offset) as usize).min(buf.len());
            let n = file.read_at(&mut buf[..want], f.offset)?;
            if n == 0 {
                break;
            }
            f.offset += n as u64;
            f.crc = f.crc.map(|c| crc32c::crc32c_append(c, &buf[..n]));
            f.dec.feed(&buf[..n]);
            emit(&mut f.dec);
        }
        Ok(true)
    }
}

/// Reads `file` from `offset` to `len` in blocks on a reader thread, decoding each block on all
/// cores as the next one is read. The reader also carries the CRC of the bytes read (for the
/// replaced-file check; none when `crc` is `None`), off the decoding's path. Returns the
/// offset reached.
fn read_pipelined(
    file: &File,
    offset: u64,
    len: u64,
    dec: &mut tfevents::EventDecoder,
    crc: &mut Option<u32>,
    emit: &mut impl FnMut(&mut tfevents::EventDecoder),
) -> io::Result<u64> {
    const BLOCK: usize = 8 << 20;
    /// A block read: its buffer, the bytes of it filled, the CRC of the file up to its end.
    type Block = (Vec<u8>, usize, Option<u32>);
    let threads = super::scan::default_threads();
    let (full_tx, full_rx) = crossbeam_channel::bounded::<io::Result<Block>>(1);
    let (free_tx, free_rx) = crossbeam_channel::bounded::<Vec<u8>>(2);
    let crc_before = *crc;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut at = offset;
            let mut crc = crc_before;
            // Two buffers, reused: one read while the other is decoded (fresh ones would
            // cost a page fault every 4 KiB).
            let mut made = 0;
            while at < len {
                let mut b = match free_rx.try_recv() {
                    Ok(b) => b,
                    Err(_) if made < 2 => {
                        made += 1;
                        vec![0u8; BLOCK]
                    }
                    Err(_) => match free_rx.recv() {
                        Ok(b) => b,
                        Err(_) => break,
                    },
                };
                let want = ((len - at) as usize).min(BLOCK);
                match file.read_at(&mut b[..want], at) {
                    Ok(0) => break,
                    Ok(n) => {
                        at += n as u64;
                        crc = crc.map(|c| crc32c::crc32c_append(c, &b[..n]));
                        if full_tx.send(Ok((b, n, crc))).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        // Owned here: dropped (unblocking the reader) whenever this closure returns.
        let (full_rx, free_tx) = (full_rx, free_tx);
        let mut at = offset;
        for msg in full_rx.iter() {
            let (b, n, crc_after) = msg?;
            at += n as u64;
            *crc = crc_after;
            dec.feed_parallel(&b[..n], threads);
            emit(dec);
            let _ = free_tx.try_send(b);
        }
        Ok(at)
    })
}

impl Source for TbSource {
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool> {
        self.poll(each)
    }

    fn names(&self) -> Vec<String> {
        self.tags.clone()
    }

    fn one_shot(&mut self) {
        self.fingerprint = false;
        for f in &mut self.files {
            f.crc = None;
        }
    }

    fn pending(&self) -> usize {
        self.files.iter().map(|f| f.dec.pending_len()).sum()
    }
}
