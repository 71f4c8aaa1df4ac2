//! Sources behind one trait ([`Source`]), listed in one [`REGISTRY`]: what kind a path is,
//! and the non-text sources read by polling: TensorBoard event files (one file, or a
//! directory of them read in order), `trainer_state.json` and `metrics.csv`. Every source
//! yields the same [`Batch`]es as a text log, so runs, views and `gnorm --json` do not know
//! which one was read.

use super::decoder::Batch;
use super::follow::RestartReason;
use super::formats::{LogFormat, MetricSpec};
use super::{lightning_csv, tfevents, trainer_state};
use crate::watch::identity::{self, Change, FileIdentity, Prefix, ReadMark};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The kinds of source trainwatch reads: the key of the [`REGISTRY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A text log (every [`LogFormat`] that is line-based).
    TextLog,
    /// A TensorBoard event file, or a directory holding event files.
    TensorBoard,
    /// Hugging Face `trainer_state.json`.
    TrainerState,
    /// Lightning `metrics.csv`.
    LightningCsv,
    /// A W&B run file (`run-<id>.wandb`).
    Wandb,
    /// An MLflow run (a file-store run folder, or an `mlflow.db`).
    Mlflow,
}

/// A source of records, read by looking at it again: each look reads only what is new and
/// hands it over in order. Every kind yields the same [`Batch`]es, so runs and views do not
/// know which one was read.
pub trait Source: Send + std::fmt::Debug {
    /// Reads what is new, handing each update over as soon as it is read (a big event file
    /// is applied to the run while the rest is still being decoded). `Ok(false)`: the source
    /// does not exist (yet).
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool>;

    /// Like [`poll_each`](Self::poll_each), collecting the updates.
    fn poll(&mut self) -> io::Result<(Vec<Update>, bool)> {
        let mut out = Vec::new();
        let exists = self.poll_each(&mut |u| out.push(u))?;
        Ok((out, exists))
    }

    /// Metric names the source holds (tags, keys, columns), for the "no metric" message.
    fn names(&self) -> Vec<String>;

    /// Bytes still waiting to complete a record (a torn record at the end of a file).
    fn pending(&self) -> usize {
        0
    }

    /// Why the last look could not parse the source (whole-file sources).
    fn error(&self) -> Option<String> {
        None
    }

    /// Reads what is left as complete (a one-shot read of a finished file).
    fn finish(&mut self) -> Option<Batch> {
        None
    }
}

/// Opens a source for a metric.
pub type OpenSource = fn(&Path, &MetricSpec) -> Box<dyn Source>;

/// What the program knows of one kind of source: how to recognise it, how to open it, and
/// how to talk about it. Adding a source is a module that implements [`Source`] plus one
/// entry here (and its [`SourceKind`]).
pub struct SourceType {
    pub kind: SourceKind,
    /// As named in messages: "TensorBoard event files".
    pub describe: &'static str,
    /// The formats it reads (`--format` names), the one reported by default first (none:
    /// detected from the lines).
    pub formats: &'static [LogFormat],
    /// What it holds names of, and what its records are called, for the "no metric"
    /// message: ("columns", "rows").
    pub nouns: (&'static str, &'static str),
    /// Whether a file of this name starting with these bytes is of this kind.
    pub sniff: fn(name: &str, head: &[u8]) -> bool,
    /// Opens it for reading (`None`: a text log, read by the line decoder).
    pub open: Option<OpenSource>,
}

/// Every kind of source, tried in this order on a file; the text log, which takes any file,
/// last.
pub static REGISTRY: [SourceType; 6] = [
    SourceType {
        kind: SourceKind::Wandb,
        describe: "W&B run file",
        formats: &[LogFormat::Wandb],
        nouns: ("history keys", "history records"),
        sniff: super::wandb::looks_like,
        open: Some(|p, m| Box::new(super::wandb::WandbSource::new(p, m))),
    },
    SourceType {
        kind: SourceKind::Mlflow,
        describe: "MLflow run",
        formats: &[LogFormat::Mlflow],
        nouns: ("metrics", "points"),
        sniff: super::mlflow::looks_like,
        open: Some(super::mlflow::open),
    },
    SourceType {
        kind: SourceKind::TensorBoard,
        describe: "TensorBoard event files",
        formats: &[LogFormat::TensorBoard],
        nouns: ("tags", "records"),
        sniff: tfevents::looks_like_event_file,
        open: Some(|p, m| Box::new(TbSource::new(p, m))),
    },
    SourceType {
        kind: SourceKind::TrainerState,
        describe: "HF trainer_state.json",
        formats: &[LogFormat::HfTrainerState],
        nouns: ("metrics found (log_history keys)", "log_history entries"),
        sniff: trainer_state::looks_like,
        open: Some(|p, m| Box::new(StateSource::new(p, m))),
    },
    SourceType {
        kind: SourceKind::LightningCsv,
        describe: "metrics CSV",
        formats: &[LogFormat::LightningCsv, LogFormat::Csv],
        nouns: ("metrics found (columns)", "rows"),
        sniff: lightning_csv::looks_like,
        open: Some(|p, m| Box::new(CsvSource::new(p, m))),
    },
    SourceType {
        kind: SourceKind::TextLog,
        describe: "text log",
        formats: &[],
        nouns: ("metrics", "lines"),
        sniff: |_, _| true,
        open: None,
    },
];

impl SourceKind {
    /// This kind's entry in the [`REGISTRY`].
    pub fn source_type(self) -> &'static SourceType {
        REGISTRY
            .iter()
            .find(|t| t.kind == self)
            .unwrap_or(&REGISTRY[REGISTRY.len() - 1])
    }

    pub fn format(self) -> Option<LogFormat> {
        self.source_type().formats.first().copied()
    }

    /// The kind `--format F` asks for.
    pub fn from_format(f: LogFormat) -> SourceKind {
        REGISTRY
            .iter()
            .find(|t| t.formats.contains(&f))
            .map_or(SourceKind::TextLog, |t| t.kind)
    }

    pub fn describe(self) -> &'static str {
        self.source_type().describe
    }

    /// Opens a source of this kind (`None` for a text log).
    pub fn open(self, path: &Path, metric: &MetricSpec) -> Option<Box<dyn Source>> {
        self.source_type().open.map(|open| open(path, metric))
    }
}

/// Decides the kind of `path` from its name and first bytes (a missing file: from its name).
/// A directory is TensorBoard when it directly holds event files. `forced`: the `--format`
/// flag.
pub fn kind_of(path: &Path, forced: Option<LogFormat>) -> SourceKind {
    if let Some(f) = forced {
        return SourceKind::from_format(f);
    }
    if path.is_dir() {
        if super::mlflow::is_run_dir(path) {
            return SourceKind::Mlflow;
        }
        return if event_files(path).is_empty() {
            SourceKind::TextLog
        } else {
            SourceKind::TensorBoard
        };
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut head = vec![0u8; 64 << 10];
    let n = File::open(path)
        .and_then(|f| f.read_at(&mut head, 0))
        .unwrap_or(0);
    head.truncate(n);
    REGISTRY
        .iter()
        .find(|t| (t.sniff)(&name, &head))
        .map_or(SourceKind::TextLog, |t| t.kind)
}

/// The event files directly in `dir`, ordered by the timestamp in their names (then name).
pub fn event_files(dir: &Path) -> Vec<PathBuf> {
    let walk = crate::fswalk::Walk {
        follow_links: false,
        ..crate::fswalk::Walk::listing()
    };
    let mut v: Vec<(u64, String, PathBuf)> = walk
        .entries(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.kind == crate::fswalk::EntryKind::File && e.name.contains("tfevents"))
        .map(|e| {
            (
                tfevents::name_timestamp(&e.name).unwrap_or(0),
                e.name,
                e.path,
            )
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, _, p)| p).collect()
}

/// What a poll of a non-text source found, in order.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // moved once per poll, never stored in bulk
pub enum Update {
    Batch(Batch),
    Restart(RestartReason),
}

impl Source for TbSource {
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool> {
        self.poll(each)
    }

    fn names(&self) -> Vec<String> {
        self.tags.clone()
    }

    fn pending(&self) -> usize {
        self.files.iter().map(|f| f.dec.pending_len()).sum()
    }
}

impl Source for StateSource {
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool> {
        let (updates, exists) = self.look()?;
        updates.into_iter().for_each(each);
        Ok(exists)
    }

    fn names(&self) -> Vec<String> {
        self.keys.clone()
    }

    fn error(&self) -> Option<String> {
        self.last_error.clone()
    }
}

impl Source for CsvSource {
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool> {
        let (updates, exists) = self.look()?;
        updates.into_iter().for_each(each);
        Ok(exists)
    }

    fn names(&self) -> Vec<String> {
        self.cols
            .as_ref()
            .map(|c| c.names.clone())
            .unwrap_or_default()
    }

    fn finish(&mut self) -> Option<Batch> {
        Some(self.finish_rows())
    }
}

/// One event file being read.
#[derive(Debug)]
struct TbFile {
    path: PathBuf,
    /// The file as last seen (`None`: not yet).
    seen: Option<FileIdentity>,
    offset: u64,
    /// CRC-32C of the bytes before `offset`: a replaced file (rsync) that starts with them is
    /// the same file grown, not a new run.
    crc: u32,
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
}

impl TbSource {
    fn new(path: &Path, metric: &MetricSpec) -> Self {
        TbSource {
            path: path.to_path_buf(),
            dir: path.is_dir(),
            metric: metric.clone(),
            files: Vec::new(),
            tags: Vec::new(),
            buf: Vec::new(),
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
                    crc: 0,
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
            prefix: Prefix::Crc(f.crc),
        });
        let restart = match identity::classify(mark.as_ref(), &f.path, Some(&now))? {
            Change::Appeared if earlier_open => Some(RestartReason::NewFile),
            Change::Replaced => Some(RestartReason::Replaced),
            Change::Truncated => Some(RestartReason::Truncated),
            _ => None,
        };
        if let Some(r) = restart {
            f.offset = 0;
            f.crc = 0;
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
            let mut batch = dec.take_batch();
            if !batch.is_empty() || batch.lines > 0 {
                batch.detected = Some(LogFormat::TensorBoard);
                out(Update::Batch(batch));
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
            f.crc = crc32c::crc32c_append(f.crc, &buf[..n]);
            f.dec.feed(&buf[..n]);
            emit(&mut f.dec);
        }
        Ok(true)
    }
}

/// Reads `file` from `offset` to `len` in blocks on a reader thread, decoding each block on all
/// cores as the next one is read. Returns the offset reached.
fn read_pipelined(
    file: &File,
    offset: u64,
    len: u64,
    dec: &mut tfevents::EventDecoder,
    crc: &mut u32,
    emit: &mut impl FnMut(&mut tfevents::EventDecoder),
) -> io::Result<u64> {
    const BLOCK: usize = 8 << 20;
    let threads = super::scan::default_threads();
    let (full_tx, full_rx) = crossbeam_channel::bounded::<io::Result<(Vec<u8>, usize)>>(1);
    let (free_tx, free_rx) = crossbeam_channel::bounded::<Vec<u8>>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut at = offset;
            while at < len {
                let mut b = free_rx.try_recv().unwrap_or_else(|_| vec![0u8; BLOCK]);
                let want = ((len - at) as usize).min(BLOCK);
                match file.read_at(&mut b[..want], at) {
                    Ok(0) => break,
                    Ok(n) => {
                        at += n as u64;
                        if full_tx.send(Ok((b, n))).is_err() {
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
        let full_rx = full_rx;
        let mut at = offset;
        for msg in full_rx.iter() {
            let (b, n) = msg?;
            at += n as u64;
            *crc = crc32c::crc32c_append(*crc, &b[..n]);
            dec.feed_parallel(&b[..n], threads);
            emit(dec);
            let _ = free_tx.try_send(b);
        }
        Ok(at)
    })
}

/// `trainer_state.json`, re-read whole when it changes; only entries beyond those already sent
/// are sent when the earlier ones are unchanged, else everything again after a restart.
#[derive(Debug)]
pub struct StateSource {
    path: PathBuf,
    metric: MetricSpec,
    /// The file as last parsed: unchanged, it is not read again.
    seen: Option<FileIdentity>,
    sent: Vec<(Option<u64>, u64)>,
    keys: Vec<String>,
    /// Why the last read could not be parsed (a write caught half-way is retried).
    pub last_error: Option<String>,
}

impl StateSource {
    fn new(path: &Path, metric: &MetricSpec) -> Self {
        StateSource {
            path: path.to_path_buf(),
            metric: metric.clone(),
            seen: None,
            sent: Vec::new(),
            keys: Vec::new(),
            last_error: None,
        }
    }

    fn look(&mut self) -> io::Result<(Vec<Update>, bool)> {
        let Some(sig) = FileIdentity::stat(&self.path)? else {
            return Ok((Vec::new(), false));
        };
        if self.seen == Some(sig) {
            return Ok((Vec::new(), true));
        }
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), false)),
            Err(e) => return Err(e),
        };
        let parsed = match trainer_state::parse(&bytes, &self.metric) {
            Ok(p) => p,
            Err(e) => {
                // Probably caught mid-write: look again next time.
                self.last_error = Some(e);
                return Ok((Vec::new(), true));
            }
        };
        self.last_error = None;
        self.seen = Some(sig);
        self.keys = parsed.keys;
        let now: Vec<(Option<u64>, u64)> = parsed
            .records
            .iter()
            .map(|r| (r.step, r.value().to_bits()))
            .collect();
        let mut out = Vec::new();
        let keep = if now.len() >= self.sent.len() && now[..self.sent.len()] == self.sent[..] {
            self.sent.len()
        } else {
            out.push(Update::Restart(RestartReason::Truncated));
            0
        };
        let first = self.sent.is_empty() && keep == 0 && out.is_empty();
        let mut steps = crate::core::Records::new(self.metric.columns());
        parsed.records[keep..].iter().for_each(|r| steps.push(*r));
        let batch = Batch {
            steps,
            skipped: if keep == 0 { parsed.skipped } else { 0 },
            detected: Some(LogFormat::HfTrainerState),
            lines: if first || keep == 0 {
                parsed.entries
            } else {
                0
            },
            ..Batch::default()
        };
        self.sent = now;
        out.push(Update::Batch(batch));
        Ok((out, true))
    }
}

/// `metrics.csv`: new complete rows are read from where the last look stopped; a changed
/// header (the logger rewrote the file with a new column) or a shrink starts over.
#[derive(Debug)]
pub struct CsvSource {
    path: PathBuf,
    metric: MetricSpec,
    /// Rows read up to `offset`; the prefix is the header line (a new header: rewritten).
    mark: Option<ReadMark>,
    cols: Option<lightning_csv::Columns>,
    partial: Vec<u8>,
}

impl CsvSource {
    fn new(path: &Path, metric: &MetricSpec) -> Self {
        CsvSource {
            path: path.to_path_buf(),
            metric: metric.clone(),
            mark: None,
            cols: None,
            partial: Vec::new(),
        }
    }

    fn look(&mut self) -> io::Result<(Vec<Update>, bool)> {
        let Some(now) = FileIdentity::stat(&self.path)? else {
            return Ok((Vec::new(), false));
        };
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), false)),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let mut out = Vec::new();
        let had = self.mark.is_some();
        // The header as it is now (up to its newline; none yet: wait).
        let mut head = vec![0u8; (len as usize).min(1 << 20)];
        let n = file.read_at(&mut head, 0)?;
        head.truncate(n);
        let Some(nl) = memchr::memchr(b'\n', &head) else {
            return Ok((out, true));
        };
        let header = &head[..nl];
        let change = identity::classify(self.mark.as_ref(), &self.path, Some(&now))?;
        let rewritten = had && matches!(change, Change::Replaced | Change::Truncated);
        if rewritten {
            out.push(Update::Restart(if change == Change::Replaced {
                RestartReason::Replaced
            } else {
                RestartReason::Truncated
            }));
        }
        if !had || rewritten {
            self.cols = Some(lightning_csv::Columns::from_header(header, &self.metric));
            self.mark = Some(ReadMark {
                file: now,
                offset: nl as u64 + 1,
                prefix: Prefix::Head(head[..=nl].to_vec()),
            });
            self.partial.clear();
        }
        let (Some(cols), Some(mark)) = (&self.cols, &mut self.mark) else {
            return Ok((out, true));
        };
        mark.file = now;
        let mut batch = Batch {
            detected: Some(lightning_csv::format_of(&self.path)),
            ..Batch::with_columns(self.metric.columns())
        };
        let mut buf = vec![0u8; 1 << 20];
        while mark.offset < len {
            let want = ((len - mark.offset) as usize).min(buf.len());
            let n = file.read_at(&mut buf[..want], mark.offset)?;
            if n == 0 {
                break;
            }
            mark.offset += n as u64;
            self.partial.extend_from_slice(&buf[..n]);
            let Some(last) = memchr::memrchr(b'\n', &self.partial) else {
                continue;
            };
            for line in self.partial[..last].split(|&b| b == b'\n') {
                if line.is_empty() || line == b"\r" {
                    continue;
                }
                batch.lines += 1;
                match cols.record(line) {
                    Ok(Some(r)) => batch.steps.push(r),
                    Ok(None) => {}
                    Err(_) => batch.skipped += 1,
                }
            }
            self.partial.drain(..=last);
        }
        if !batch.steps.is_empty() || batch.lines > 0 || !had {
            out.push(Update::Batch(batch));
        }
        Ok((out, true))
    }

    /// The last row without its newline, read as complete (the file is taken as finished).
    fn finish_rows(&mut self) -> Batch {
        let mut b = Batch::with_columns(self.metric.columns());
        let line = std::mem::take(&mut self.partial);
        if let (Some(cols), false) = (&self.cols, line.is_empty()) {
            b.lines += 1;
            match cols.record(&line) {
                Ok(Some(r)) => b.steps.push(r),
                Ok(None) => {}
                Err(_) => b.skipped += 1,
            }
        }
        b
    }
}
