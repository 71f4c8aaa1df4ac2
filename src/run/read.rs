//! Reading a run's source once, to its end (the headless commands): the same reducer as the
//! live views, fed from a one-shot scan.

use super::RunData;
use crate::ingest::follow::IngestEvent;
use crate::ingest::{formats, no_metric_error, open, source, SourceError, SourceSpec};
use crate::text::printable_path;

/// Reads a whole source once (the headless commands). A last line without its newline is read
/// too: the file is taken as finished. Event files (or a folder of them), trainer states and
/// metrics CSVs are read through their [`source::Source`]. A run folder is not searched here:
/// pass the source [`crate::discovery::discover`] chose in it.
pub fn read_once(opts: &SourceSpec) -> Result<RunData, SourceError> {
    let kind = source::kind_of(&opts.path, opts.format);
    if kind == source::SourceKind::TextLog {
        // A missing file or a directory, said as such.
        open(&opts.path)?;
    }
    read_source(opts, kind, kind.open(opts))
}

fn read_source(
    opts: &SourceSpec,
    kind: source::SourceKind,
    mut src: Box<dyn source::Source>,
) -> Result<RunData, SourceError> {
    let p = printable_path(&opts.path);
    let mut model = RunData::empty(opts);
    src.one_shot();
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
                source::Update::Batch(b) => model.apply(IngestEvent::Batch(b)),
                source::Update::Restart(r) => model.apply(IngestEvent::Restart(r)),
                source::Update::Progress { .. } => Default::default(),
            };
        }
        reader
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the reader thread failed")))
    });
    let exists = polled.map_err(|e| SourceError::Io {
        path: p.clone(),
        source: e,
    })?;
    if !exists {
        return Err(SourceError::Missing { path: p });
    }
    if let Some(why) = src.error() {
        return Err(SourceError::Unreadable {
            path: p,
            kind: kind.describe(),
            why: crate::text::printable(&why).into_owned(),
        });
    }
    if let Some(b) = src.finish() {
        model.apply(IngestEvent::Batch(b));
    }
    // An event file ending in half a record (a writer mid-flush): that record is not read.
    if src.pending() > 0 {
        model.skipped_records += 1;
    }
    model.set_format(kind.format());
    if model.primary().is_empty() && kind == source::SourceKind::TextLog {
        return Err(no_metric_error(opts, model.lines));
    }
    if model.primary().is_empty() {
        let names = src.names();
        let what = if opts.metric.is_gnorm() {
            format!("no gradient norm ({})", formats::GNORM_ALIASES.join(", "))
        } else {
            format!("no metric '{}'", crate::text::printable(&opts.metric.label))
        };
        let (noun, unit) = kind.source_type().nouns;
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
        return Err(SourceError::NoMetricIn {
            path: p,
            what,
            where_: format!("this {} ({} {unit})", kind.describe(), model.lines),
            hint,
        });
    }
    Ok(model)
}
