//! Whether a file holds the metric, from its first MBs: enough to rank candidates without
//! reading whole logs.

use crate::ingest::decoder::LogDecoder;
use crate::ingest::lightning_csv;
use crate::ingest::MetricSpec;
use std::io::Read;
use std::path::Path;

/// How much of a candidate file is read to see whether it holds the metric.
pub const PROBE: u64 = 4 << 20;
/// How much of a CSV is read to find its header.
const CSV_HEAD: u64 = 1 << 20;

fn head(path: &Path, len: u64) -> Option<Vec<u8>> {
    let f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(len).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// Whether the first MBs of a text log yield a record of the metric.
pub fn text_has_metric(path: &Path, metric: &MetricSpec) -> bool {
    let Some(buf) = head(path, PROBE) else {
        return false;
    };
    let mut d = LogDecoder::new(metric.clone(), None);
    d.feed(&buf);
    d.finish();
    let b = d.take_batch();
    !b.steps.is_empty() || !b.aggregates.is_empty()
}

/// Whether the first MBs of a file contain one of the metric's names (a substring test).
pub fn bytes_have_metric(path: &Path, metric: &MetricSpec) -> bool {
    head(path, PROBE).is_some_and(|buf| metric.may_match(&buf))
}

/// Whether a CSV's header names a column of the metric.
pub fn csv_has_metric(path: &Path, metric: &MetricSpec) -> bool {
    let Some(buf) = head(path, CSV_HEAD) else {
        return false;
    };
    let header = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    lightning_csv::Columns::from_header(header, metric)
        .metric
        .is_some()
}
