//! W&B run files (`run-<id>.wandb`, online and offline runs alike) as a live source: the
//! framing ([`framing`]) cut into protobuf records ([`proto`]) that [`records`] turns into
//! the project's batches. The file is read from where the last look stopped, like an event
//! file; a record cut at the end is waited for, a damaged chunk is counted and skipped.
//! A run resumed into a new run folder ([`resume`]) is read on from the new file, after a
//! restart: what was held of the old file's end then is its torn tail, counted as skipped.

pub mod block_crc;
pub mod config;
pub mod framing;
pub mod items;
pub mod parallel;
pub mod proto;
pub mod records;
pub mod resume;

pub use records::RunInfo;

use crate::ingest::formats::MetricSpec;
use crate::ingest::source::{Source, Update};
use crate::watch::identity::{self, FileIdentity, Prefix, ReadMark};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Whether a file is a `.wandb` run file: its header, or its name while it is still empty.
pub fn looks_like(name: &str, head: &[u8]) -> bool {
    if head.len() >= framing::MAGIC.len() {
        return head.starts_with(&framing::MAGIC);
    }
    name.ends_with(".wandb")
}

/// How much is read at a time before a batch is handed over.
const READ: usize = 4 << 20;

/// How much is read at a time while a long stretch is left (the initial read of a long run):
/// all of it, in parts decoded on every pool worker at once and handed over as they are
/// taken in ([`parallel`]).
fn long_read(left: u64) -> usize {
    let workers = crate::watch::pool::shared().workers();
    if workers > 1 && left >= 2 * parallel::MIN_PART as u64 {
        left.min(1 << 30) as usize
    } else {
        READ
    }
}

/// One `.wandb` file, followed.
#[derive(Debug)]
pub struct WandbSource {
    /// The file being read: one of `segments`.
    path: PathBuf,
    /// The run's files, oldest first ([`resume::segments`]), and which is being read.
    segments: Vec<PathBuf>,
    segment: usize,
    /// When the run's `wandb/` folder was listed for them, and the run folders then waiting
    /// for their file.
    listed: Option<std::time::SystemTime>,
    listed_before: bool,
    awaiting: Vec<PathBuf>,
    metric: MetricSpec,
    seen: Option<FileIdentity>,
    offset: u64,
    /// CRC-32C of the bytes before `offset` (a copy over it that starts with them is growth);
    /// `None` for a one-shot read ([`Source::one_shot`]), which never looks again.
    crc: Option<u32>,
    framer: framing::Framer,
    dec: records::RecordDecoder,
    /// Damage already counted into a batch.
    counted: framing::Damage,
    not_wandb: bool,
}

impl WandbSource {
    pub fn new(path: &Path, metric: &MetricSpec) -> Self {
        WandbSource {
            path: path.to_path_buf(),
            segments: vec![path.to_path_buf()],
            segment: 0,
            listed: None,
            listed_before: false,
            awaiting: Vec::new(),
            metric: metric.clone(),
            seen: None,
            offset: 0,
            crc: Some(0),
            framer: framing::Framer::new(),
            dec: records::RecordDecoder::new(metric),
            counted: framing::Damage::default(),
            not_wandb: false,
        }
    }

    /// What the run's records said so far (id, name, whether it ended).
    pub fn info(&self) -> &RunInfo {
        &self.dec.info
    }

    /// Damage seen so far.
    pub fn damage(&self) -> framing::Damage {
        self.framer.damage
    }

    fn restart(&mut self) {
        self.offset = 0;
        self.crc = self.crc.map(|_| 0);
        self.framer.reset();
        self.dec = records::RecordDecoder::new(&self.metric);
        self.counted = framing::Damage::default();
        self.not_wandb = false;
    }

    /// Lists the run's files again when its `wandb/` folder changed (a run folder was
    /// created: the run may have been resumed). Before the first look the oldest is read.
    fn relist(&mut self) {
        let stamp = resume::listing_stamp(&self.path);
        let arrived = self.awaiting.iter().any(|p| p.is_file());
        if stamp.is_none() || (stamp == self.listed && !arrived) {
            return;
        }
        self.listed = stamp;
        let (found, awaiting) = resume::listing(&self.path);
        self.awaiting = awaiting;
        if let Some(i) = found.iter().position(|p| *p == self.path) {
            // The first listing starts the run at its oldest file; later ones keep the place.
            self.segment = if self.listed_before { i } else { 0 };
            self.listed_before = true;
            self.path = found[self.segment].clone();
            self.segments = found;
        }
    }

    /// Looks at the run's files: the one being read, then, when the run was resumed into a
    /// later one, that one after a restart.
    fn look(&mut self, out: &mut dyn FnMut(Update)) -> io::Result<bool> {
        self.relist();
        loop {
            let exists = self.look_file(out)?;
            let Some(next) = self.segments.get(self.segment + 1).cloned() else {
                return Ok(exists);
            };
            // The run was resumed: the file read so far will not grow (its process is gone),
            // and a record it left unfinished is its torn tail.
            if self.framer.pending() > 0 {
                self.dec.skipped(1);
            }
            let batch = self.dec.take_batch();
            if !batch.is_empty() || batch.lines > 0 || batch.skipped > 0 {
                out(Update::Batch(batch));
            }
            self.segment += 1;
            self.path = next;
            self.seen = None;
            self.restart();
            out(Update::Restart(crate::core::RestartReason::Resumed));
        }
    }

    fn look_file(&mut self, out: &mut dyn FnMut(Update)) -> io::Result<bool> {
        let Some(now) = FileIdentity::stat(&self.path)? else {
            return Ok(false);
        };
        let mark = self.seen.map(|file| ReadMark {
            file,
            offset: self.offset,
            prefix: self.crc.map_or(Prefix::None, Prefix::Crc),
        });
        let restart = identity::classify(mark.as_ref(), &self.path, Some(&now))?.restart();
        if let Some(r) = restart {
            self.restart();
            out(Update::Restart(r));
        }
        self.seen = Some(now);
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let workers = crate::watch::pool::shared().workers();
        while self.offset < len {
            let left = len - self.offset;
            let want = (left as usize).min(long_read(left));
            let counted = &mut self.counted;
            let (n, crc) = parallel::read(
                &mut self.framer,
                &mut self.dec,
                &file,
                self.offset,
                want,
                workers,
                self.crc.is_some(),
                &mut |framer, dec| emit(framer, dec, counted, out),
            )?;
            self.offset += n as u64;
            self.crc = self.crc.map(|c| block_crc::crc32c_combine(c, crc, n));
            emit(&self.framer, &mut self.dec, &mut self.counted, out);
            if n < want {
                break;
            }
        }
        if self.framer.header_ok() == Some(false) {
            self.not_wandb = true;
        }
        Ok(true)
    }
}

impl Source for WandbSource {
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool> {
        self.look(each)
    }

    fn names(&self) -> Vec<String> {
        self.dec.seen.clone()
    }

    fn one_shot(&mut self) {
        self.crc = None;
    }

    fn pending(&self) -> usize {
        self.framer.pending()
    }

    fn error(&self) -> Option<String> {
        self.not_wandb
            .then(|| "no W&B header (`:W&B`, 0xBEE1, version 0) at its start".to_string())
    }
}

/// Hands over what `dec` decoded so far, with the damage `framer` met since `counted`.
fn emit(
    framer: &framing::Framer,
    dec: &mut records::RecordDecoder,
    counted: &mut framing::Damage,
    out: &mut dyn FnMut(Update),
) {
    let d = framer.damage;
    let new = (d.bad_crc - counted.bad_crc) + (d.broken - counted.broken);
    *counted = d;
    dec.skipped(new);
    let batch = dec.take_batch();
    if !batch.is_empty() || batch.lines > 0 {
        out(Update::Batch(batch));
    }
}

/// The run record of a `.wandb` file (id, name, project), from its first records: the run
/// record is written right after the header.
pub fn run_info(path: &Path) -> Option<RunInfo> {
    let f = File::open(path).ok()?;
    let mut head = vec![0u8; 256 << 10];
    let n = f.read_at(&mut head, 0).ok()?;
    let mut framer = framing::Framer::new();
    let mut dec = records::RecordDecoder::new(&MetricSpec::gnorm());
    framer.feed(&head[..n], &mut |r| dec.record(r));
    (framer.header_ok() == Some(true)).then_some(dec.info)
}
