//! The log read's two halves measured apart, in this process, one thread each, CPU time: line
//! decoding (framing, parsing into records) and the series build (the reducer), on a log file
//! already in memory. For profiling changes to either without the noise of a whole process.
//!
//! Run: `cargo run --release --example bench_decode -- FILE [--format fairseq_simple]`.

use std::time::Instant;
use trainwatch::ingest::decoder::LogDecoder;
use trainwatch::ingest::follow::IngestEvent;
use trainwatch::ingest::formats::MetricSpec;
use trainwatch::ingest::SourceSpec;
use trainwatch::run::RunData;

fn cpu_seconds() -> f64 {
    // utime + stime of this thread, from /proc (no extra dependency).
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: bench_decode FILE");
        std::process::exit(2);
    };
    let bytes = std::fs::read(path).expect("read the log");
    let spec = SourceSpec::new(path);
    let mut batches = Vec::new();
    let mut best_decode = f64::INFINITY;
    let mut best_build = f64::INFINITY;
    for _ in 0..3 {
        batches.clear();
        let (t, c) = (Instant::now(), cpu_seconds());
        let mut d = LogDecoder::new(MetricSpec::gnorm(), None);
        for chunk in bytes.chunks(8 << 20) {
            d.feed(chunk);
            batches.push(d.take_batch());
        }
        d.finish();
        batches.push(d.take_batch());
        let wall = t.elapsed().as_secs_f64();
        let _ = wall;
        best_decode = best_decode.min(cpu_seconds() - c);
        let (t, c) = (Instant::now(), cpu_seconds());
        let mut run = RunData::empty(&spec);
        for b in batches.drain(..) {
            run.apply(IngestEvent::Batch(b));
        }
        let wall = t.elapsed().as_secs_f64();
        let _ = wall;
        best_build = best_build.min(cpu_seconds() - c);
        println!(
            "decode {:.3} s cpu, build {:.3} s, {} points",
            best_decode,
            best_build,
            run.primary().len()
        );
    }
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as f64;
    println!(
        "best: decode {:.1} ns/line, build {:.1} ns/line ({} lines)",
        best_decode * 1e9 / lines,
        best_build * 1e9 / lines,
        lines
    );
}
