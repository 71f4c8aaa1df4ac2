//! Sources behind one trait ([`Source`]), listed in one [`REGISTRY`]: what kind a path is,
//! and the non-text sources read by polling: TensorBoard event files (one file, or a
//! directory of them read in order), `trainer_state.json` and `metrics.csv`. Every source
//! yields the same [`Batch`]es as a text log, so runs, views and `gnorm --json` do not know
//! which one was read.

use super::decoder::Batch;
use super::follow::RestartReason;
use super::formats::LogFormat;
use super::{lightning_csv, tfevents, trainer_state, SourceSpec};
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

    /// This source is read once and never looked at again (a headless command): it may skip
    /// what only a later look needs, such as the fingerprint of every byte read (which tells a
    /// copy over the file from a new one).
    fn one_shot(&mut self) {}

    /// Long reads (a big history) end early once `stop` is set (the user quit).
    fn stop_with(&mut self, _stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {}
}

/// Opens a source for what the user asked to read.
pub type OpenSource = fn(&SourceSpec) -> Box<dyn Source>;

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
    /// Opens it for reading.
    pub open: OpenSource,
}

/// Every kind of source, tried in this order on a file; the text log, which takes any file,
/// last.
pub static REGISTRY: [SourceType; 6] = [
    SourceType {
        kind: SourceKind::Wandb,
        describe: "W&B run file",
        formats: &[LogFormat::Wandb],
        nouns: ("metrics found (history keys)", "history records"),
        sniff: super::wandb::looks_like,
        open: |s| Box::new(super::wandb::WandbSource::new(&s.path, &s.metric)),
    },
    SourceType {
        kind: SourceKind::Mlflow,
        describe: "MLflow run",
        formats: &[LogFormat::Mlflow],
        nouns: ("metrics", "points"),
        sniff: super::mlflow::looks_like,
        open: |s| super::mlflow::open(&s.path, &s.metric),
    },
    SourceType {
        kind: SourceKind::TensorBoard,
        describe: "TensorBoard event files",
        formats: &[LogFormat::TensorBoard],
        nouns: ("tags", "records"),
        sniff: tfevents::looks_like_event_file,
        open: |s| Box::new(super::tb_source::TbSource::new(&s.path, &s.metric)),
    },
    SourceType {
        kind: SourceKind::TrainerState,
        describe: "HF trainer_state.json",
        formats: &[LogFormat::HfTrainerState],
        nouns: ("metrics found (log_history keys)", "log_history entries"),
        sniff: trainer_state::looks_like,
        open: |s| Box::new(super::state_source::StateSource::new(&s.path, &s.metric)),
    },
    SourceType {
        kind: SourceKind::LightningCsv,
        describe: "metrics CSV",
        formats: &[LogFormat::LightningCsv, LogFormat::Csv],
        nouns: ("metrics found (columns)", "rows"),
        sniff: lightning_csv::looks_like,
        open: |s| Box::new(super::csv_source::CsvSource::new(&s.path, &s.metric)),
    },
    SourceType {
        kind: SourceKind::TextLog,
        describe: "text log",
        formats: &[],
        nouns: ("metrics", "lines"),
        sniff: |_, _| true,
        open: |s| Box::new(super::text_source::TextSource::new(s)),
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

    /// Opens a source of this kind for `spec`.
    pub fn open(self, spec: &SourceSpec) -> Box<dyn Source> {
        (self.source_type().open)(spec)
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
    /// Reading existing content: `done` of `total` bytes (a big history).
    Progress {
        done: u64,
        total: u64,
    },
}
