//! Sources: log files → [`MetricRecord`]s.
//!
//! [`framing`] cuts bytes into lines, [`formats`] holds one parser per log format,
//! [`decoder`] ties them together per file, [`scan`] reads existing content on all cores and
//! [`follow`] keeps reading as the file grows, is truncated or replaced.
//! [`source`] decides what kind a path is and reads the files that are not text logs
//! ([`tfevents`], [`trainer_state`], [`lightning_csv`]). Which file of a run folder to read
//! is decided above, in [`crate::discovery`].

pub mod decoder;
pub mod follow;
pub mod formats;
pub mod framing;
pub mod lightning_csv;
pub mod scan;
pub mod source;
pub mod tfevents;
pub mod trainer_state;

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
/// too: the file is taken as finished. Event files (or a folder of them), trainer states and
/// metrics CSVs are read by [`source`]. A run folder is not searched here: pass the source
/// [`crate::discovery::discover`] chose in it.
pub fn read_log(opts: &LogOptions) -> Result<LogModel, LogError> {
    let kind = source::kind_of(&opts.path, opts.format);
    if let Some(src) = source::Source::new(kind, &opts.path, &opts.metric) {
        return read_source(opts, kind, src);
    }
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

fn read_source(
    opts: &LogOptions,
    kind: source::SourceKind,
    mut src: source::Source,
) -> Result<LogModel, LogError> {
    let p = printable_path(&opts.path);
    let mut model = opts.empty_model();
    // Decode on one side, build the model on this thread as batches arrive.
    let (tx, rx) = crossbeam_channel::bounded::<source::Update>(4);
    let polled = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let tx = tx;
            src.poll_each(&mut |u| {
                let _ = tx.send(u);
            })
        });
        for u in rx.iter() {
            match u {
                source::Update::Batch(b) => model.apply(b),
                source::Update::Restart(_) => model.mark_restart(),
            }
        }
        reader
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the reader thread failed")))
    });
    let exists = polled.map_err(|e| LogError::Io {
        path: p.clone(),
        source: e,
    })?;
    if !exists {
        return Err(LogError::Missing { path: p });
    }
    if let Some(why) = src.error() {
        return Err(LogError::Unreadable {
            path: p,
            kind: kind.describe(),
            why: crate::text::printable(&why).into_owned(),
        });
    }
    if let Some(b) = src.finish() {
        model.apply(b);
    }
    // An event file ending in half a record (a writer mid-flush): that record is not read.
    if src.pending() > 0 {
        model.skipped_lines += 1;
    }
    if model.format.is_none() {
        model.format = kind.format();
    }
    if model.primary().is_empty() {
        let names = src.names();
        let what = if opts.metric.is_gnorm() {
            format!("no gradient norm ({})", formats::GNORM_ALIASES.join(", "))
        } else {
            format!("no metric '{}'", crate::text::printable(&opts.metric.label))
        };
        let (noun, unit) = match kind {
            source::SourceKind::LightningCsv => ("columns", "rows"),
            source::SourceKind::TrainerState => ("log_history keys", "log_history entries"),
            _ => ("tags", "records"),
        };
        let hint = if names.is_empty() {
            format!("no {noun} found at all")
        } else {
            let shown: Vec<String> = names
                .iter()
                .take(24)
                .map(|n| crate::text::printable(n).into_owned())
                .collect();
            format!("{noun}: {}; chart one with --metric NAME", shown.join(", "))
        };
        return Err(LogError::NoMetricIn {
            path: p,
            what,
            where_: format!("this {} ({} {unit})", kind.describe(), model.lines),
            hint,
        });
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
