//! `trainer_state.json`. Must hold: parsing is a function of the bytes (twice: the same bits);
//! a point or a skip per entry at most; the real source reads the same points from the file.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use trainwatch::ingest::trainer_state::{parse, quote_nonfinite};
use trainwatch::ingest::{MetricSpec, SourceSpec};

fuzz_target!(|data: &[u8]| {
    let q = quote_nonfinite(data);
    assert!(q.len() <= data.len() * 3 + 2, "quoting grew the input without bound");
    let spec = MetricSpec::gnorm();
    let a = parse(data, &spec);
    let b = parse(data, &spec);
    match (&a, &b) {
        (Ok(x), Ok(y)) => {
            assert_eq!(common::bits_of(&x.records), common::bits_of(&y.records));
            assert_eq!(x.skipped, y.skipped);
            assert!(x.records.len() as u64 + x.skipped <= x.entries);
            assert!(x.keys.len() <= 64);
        }
        (Err(x), Err(y)) => assert_eq!(x, y),
        _ => panic!("parsing twice disagrees"),
    }
    let _ = parse(data, &MetricSpec::named("loss"));

    let dir = common::fresh_dir("trainer_state");
    let path = dir.join("trainer_state.json");
    std::fs::write(&path, data).expect("scratch write");
    let read = common::poll_source(&path, &SourceSpec::new(&path), &[]);
    if let Ok(x) = &a {
        assert_eq!(read.steps.len(), x.records.len(), "the source and the parser disagree");
    }
});
