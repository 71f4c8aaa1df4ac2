//! Sources: log files → [`MetricRecord`]s.
//!
//! [`framing`] cuts bytes into lines, [`formats`] holds one parser per log format,
//! [`decoder`] ties them together per file, [`scan`] reads existing content on all cores and
//! [`follow`] keeps reading as the file grows, is truncated or replaced.

pub mod decoder;
pub mod follow;
pub mod formats;
pub mod framing;
pub mod scan;

pub use formats::{LogFormat, MetricRecord, MetricSpec};

use crate::model::LogModel;
use crate::series::ExplosionParams;
use crate::text::printable_path;
use decoder::LogDecoder;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// What the user asked to read.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub path: PathBuf,
    pub metric: MetricSpec,
    pub format: Option<LogFormat>,
    pub clip: Option<f64>,
    pub params: ExplosionParams,
}

impl LogOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LogOptions {
            path: path.into(),
            metric: MetricSpec::gnorm(),
            format: None,
            clip: None,
            params: ExplosionParams::default(),
        }
    }

    pub fn empty_model(&self) -> LogModel {
        LogModel::new(
            self.path.clone(),
            &self.metric.label,
            self.clip,
            self.params,
        )
    }
}

/// Why a log could not be read. Each message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
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
}

fn open(path: &Path) -> Result<File, LogError> {
    let p = printable_path(path);
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LogError::Missing { path: p })
        }
        Err(e) => return Err(LogError::Io { path: p, source: e }),
        Ok(m) if m.is_dir() => return Err(LogError::Directory { path: p }),
        Ok(_) => {}
    }
    File::open(path).map_err(|e| LogError::Io { path: p, source: e })
}

/// Reads a whole log once (the headless commands). A last line without its newline is read
/// too: the file is taken as finished.
pub fn read_log(opts: &LogOptions) -> Result<LogModel, LogError> {
    let file = open(&opts.path)?;
    let mut model = opts.empty_model();
    let mut decoder = LogDecoder::new(opts.metric.clone(), opts.format);
    let stop = AtomicBool::new(false);
    scan::read_to_end(
        &file,
        0,
        &mut decoder,
        scan::default_threads(),
        &stop,
        |b, _| model.apply(b),
    )
    .map_err(|e| LogError::Io {
        path: printable_path(&opts.path),
        source: e,
    })?;
    decoder.finish();
    model.apply(decoder.take_batch());
    if model.primary().is_empty() {
        return Err(no_metric_error(opts, model.lines));
    }
    Ok(model)
}

/// The "nothing to chart" error, listing the metric names the file does have.
pub fn no_metric_error(opts: &LogOptions, lines: u64) -> LogError {
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
    LogError::NoMetric {
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
