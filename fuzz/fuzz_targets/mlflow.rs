//! MLflow file-store metric files (`<timestamp> <value> <step>` lines). Must hold: the points
//! are exactly the input's lines that parse as points, in order, and every other non-empty
//! line is counted as skipped, whether the file is read whole or as it grows (lines cut
//! anywhere); the run-folder source reads the same points.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use std::io::Write;
use trainwatch::ingest::mlflow::points::{parse_line, MetricFile, Point};
use trainwatch::ingest::SourceSpec;

fn bits(p: &[Point]) -> Vec<(u64, u64)> {
    p.iter().map(|p| (p.step, p.value.to_bits())).collect()
}

fuzz_target!(|data: &[u8]| {
    let mut expected = Vec::new();
    let mut skipped = 0u64;
    let mut lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let last = lines.pop().unwrap_or_default();
    for l in lines {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if l.is_empty() {
            continue;
        }
        match parse_line(l) {
            Some(p) => expected.push(p),
            None => skipped += 1,
        }
    }

    let dir = common::fresh_dir("mlflow");
    let run = dir.join("run");
    std::fs::create_dir_all(run.join("metrics/train")).expect("scratch dir");
    std::fs::write(run.join("meta.yaml"), "run_id: fuzz\n").expect("scratch write");
    let path = run.join("metrics/train/grad_norm");
    let mut file = MetricFile::new(path.clone());
    let mut buf = Vec::new();
    let (mut points, mut skips) = (Vec::new(), 0);
    for piece in common::pieces_at_most(data, 8) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .expect("scratch file");
        f.write_all(piece).expect("scratch write");
        drop(f);
        let r = file.look(&mut buf).expect("reading the scratch file");
        assert!(!r.restarted, "appending is not a rewrite");
        points.extend(r.points);
        skips += r.skipped;
    }
    assert_eq!(bits(&points), bits(&expected), "points read as the file grew");
    assert_eq!(skips, skipped, "lines skipped as the file grew");
    let tail = file.finish();
    if last.len() < 1 << 16 {
        let want = parse_line(last.strip_suffix(b"\r").unwrap_or(last));
        assert_eq!(bits(tail.as_slice()), bits(want.as_slice()), "the last line");
    }

    let whole = common::poll_source(&run, &SourceSpec::new(&run), &[]);
    let n = expected.len() + usize::from(tail.is_some());
    assert_eq!(whole.steps.len(), n, "the run source and the metric file disagree");
});
