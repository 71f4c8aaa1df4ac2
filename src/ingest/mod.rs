//! Sources: files → [`crate::core::Batch`]es of records.
//!
//! [`framing`] cuts bytes into lines, [`formats`] holds one parser per log format,
//! [`decoder`] ties them together per file, [`scan`] reads existing content on all cores and
//! [`follow`] keeps reading as the file grows, is truncated or replaced.
//! [`source`] decides what kind a path is and reads the files that are not text logs
//! ([`tfevents`], [`trainer_state`], [`lightning_csv`]). Which file of a run folder to read
//! is decided above, in [`crate::discovery`].

pub mod csv_source;
pub mod decoder;
pub mod follow;
pub mod follow_group;
pub mod formats;
pub mod framing;
pub mod lightning_csv;
pub mod mlflow;
pub mod scan;
pub mod source;
pub mod state_source;
pub mod tb_source;
pub mod text_source;
pub mod tfevents;
pub mod trainer_state;
pub mod wandb;

pub use formats::{LogFormat, MetricRecord, MetricSpec};

use crate::series::ExplosionParams;
use crate::text::printable_path;
use std::fs::File;
use std::path::{Path, PathBuf};

/// What the user asked to read.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub path: PathBuf,
    pub metric: MetricSpec,
    pub format: Option<LogFormat>,
    pub clip: Option<f64>,
    pub params: ExplosionParams,
}

impl SourceSpec {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SourceSpec {
            path: path.into(),
            metric: MetricSpec::gnorm(),
            format: None,
            clip: None,
            params: ExplosionParams::default(),
        }
    }

    /// Reads tab 1's panels (`--panels`, the picker) beside the charted metric: their
    /// metrics fill the record columns after the loss, and the run keeps a series of each.
    pub fn with_panels(mut self, panels: &[String]) -> Self {
        self.metric = self.metric.with_panels(panels);
        self
    }

    /// The panels read beside the charted metric (empty: the metric and its loss only).
    pub fn panels(&self) -> &[String] {
        self.metric.panels()
    }
}

/// Why a log could not be read. Each message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: no such file (check the path; `trainwatch {path}` waits for a log that does not exist yet)")]
    Missing { path: String },
    #[error(
        "{path}: is a directory, not a log file (pass the log inside it, e.g. {path}/train.log)"
    )]
    Directory { path: String },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {what} found in {lines} lines; {hint}")]
    NoMetric {
        path: String,
        what: String,
        lines: u64,
        hint: String,
    },
    /// A non-text source without the metric: `where_` says what was searched.
    #[error("{path}: {what} in {where_}; {hint}")]
    NoMetricIn {
        path: String,
        what: String,
        where_: String,
        hint: String,
    },
    #[error("{path}: cannot read it as {kind}: {why} (is the file complete? pass --format to read it as another kind)")]
    Unreadable {
        path: String,
        kind: &'static str,
        why: String,
    },
}

pub fn open(path: &Path) -> Result<File, SourceError> {
    let p = printable_path(path);
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SourceError::Missing { path: p })
        }
        Err(e) => return Err(SourceError::Io { path: p, source: e }),
        Ok(m) if m.is_dir() => return Err(SourceError::Directory { path: p }),
        Ok(_) => {}
    }
    File::open(path).map_err(|e| SourceError::Io { path: p, source: e })
}

/// The "nothing to chart" error, listing the metric names the file does have.
pub fn no_metric_error(opts: &SourceSpec, lines: u64) -> SourceError {
    let names = discover_names(&opts.path);
    let what = if opts.metric.is_gnorm() {
        format!("no gradient norm ({})", formats::GNORM_ALIASES.join(", "))
    } else {
        format!("no metric '{}'", crate::text::printable(&opts.metric.label))
    };
    let hint = if names.is_empty() {
        "no metric names found at all: is this a training log?".to_string()
    } else {
        let shown: Vec<String> = names
            .iter()
            .take(12)
            .map(|n| crate::text::printable(n).into_owned())
            .collect();
        format!(
            "metrics found: {}; chart one with --metric NAME",
            shown.join(", ")
        )
    };
    SourceError::NoMetric {
        path: printable_path(&opts.path),
        what,
        lines,
        hint,
    }
}

/// Metric names present in the first 16 MiB of a file, most frequent first.
pub fn discover_names(path: &Path) -> Vec<String> {
    use std::io::Read;
    let Ok(f) = File::open(path) else {
        return Vec::new();
    };
    let mut buf = Vec::new();
    if f.take(16 << 20).read_to_end(&mut buf).is_err() {
        return Vec::new();
    }
    let mut names = formats::discover::MetricNames::default();
    let mut framer = framing::LineFramer::new();
    framer.push(&buf, |l| names.add_line(&framing::strip_ansi(l)));
    framer.finish(|l| names.add_line(&framing::strip_ansi(l)));
    names.names(2)
}
