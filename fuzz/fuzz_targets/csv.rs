//! Metrics tables (Lightning `metrics.csv`, any CSV with a header). Must hold: row splitting
//! and the column choice never panic; no more points than data rows; the real source reads the
//! same points whether the file is read whole or as it grows (rows cut anywhere).
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use trainwatch::ingest::lightning_csv::{looks_like, split_row, Columns};
use trainwatch::ingest::{MetricSpec, SourceSpec};

fuzz_target!(|data: &[u8]| {
    let _ = looks_like("metrics.csv", data);
    let _ = looks_like("results.csv", data);
    let mut lines = data.split(|b| *b == b'\n');
    let rows = data.split(|b| *b == b'\n').count().saturating_sub(1);
    if let Some(header) = lines.next() {
        for spec in [MetricSpec::gnorm(), MetricSpec::named("loss")] {
            let cols = Columns::from_header(header, &spec);
            assert!(cols.metric.is_none_or(|m| m < cols.names.len().max(1)));
            for l in data.split(|b| *b == b'\n').skip(1).take(256) {
                let cells = split_row(l);
                assert!(cells.len() <= l.len() + 1);
                let _ = cols.record(l);
            }
        }
    }

    let dir = common::fresh_dir("csv_whole");
    let path = dir.join("metrics.csv");
    std::fs::write(&path, data).expect("scratch write");
    let spec = SourceSpec::new(&path);
    let whole = common::poll_source(&path, &spec, &[]);
    assert!(whole.steps.len() <= rows + 1, "more points than rows");

    let dir = common::fresh_dir("csv_grown");
    let grown_path = dir.join("metrics.csv");
    let grown_spec = SourceSpec::new(&grown_path);
    let grown = common::poll_source(&grown_path, &grown_spec, &common::pieces_at_most(data, 8));
    if grown.restarts == 0 {
        assert_eq!(whole.steps, grown.steps, "points depend on how the file grew");
    }
});
