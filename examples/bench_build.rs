//! The series build alone (issue 14): a source is decoded once into its batches, kept in
//! memory, and then applied to a fresh [`RunData`] through the one reducer, best of N — so
//! the cost of building the model (series columns, pyramid, detector, the batch hand-over)
//! is seen without the decoding. CPU time (of the building thread) and wall per pass.
//!
//! Run: `cargo run --release --example bench_build -- FILE [FILE…] [--runs N] [--panels]`
//! (e.g. `/tmp/speed/big.log`, a 1 M-scalar event file, a `.wandb`). `--panels` reads the
//! TUI's default panels beside the charted metric (the loss and learning-rate series).
//! Without a file it generates a fairseq-shaped log of 1 M lines in a temporary folder.

#[path = "support/mod.rs"]
mod support;
use support::num;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;
use trainwatch::core::Batch;
use trainwatch::ingest::follow::IngestEvent;
use trainwatch::ingest::source::{self, Update};
use trainwatch::ingest::SourceSpec;
use trainwatch::run::RunData;

/// CPU seconds this thread has run (`/proc/thread-self/schedstat`, in ns; the build runs on
/// this one thread).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e9)
}

/// The batches a whole read of `spec` produces, in order (restarts kept as events).
fn decode(spec: &SourceSpec) -> Vec<IngestEvent> {
    let kind = source::kind_of(&spec.path, spec.format);
    let mut src = kind.open(spec);
    let mut out = Vec::new();
    let polled = src.poll_each(&mut |u| match u {
        Update::Batch(b) => out.push(IngestEvent::Batch(b)),
        Update::Restart(r) => out.push(IngestEvent::Restart(r)),
        Update::Progress { .. } => {}
    });
    if let Err(e) = polled {
        eprintln!("{}: {e}", spec.path.display());
        std::process::exit(1);
    }
    if let Some(b) = src.finish() {
        out.push(IngestEvent::Batch(b));
    }
    out
}

fn copy(ev: &IngestEvent) -> IngestEvent {
    match ev {
        IngestEvent::Batch(b) => IngestEvent::Batch(Batch::clone(b)),
        IngestEvent::Restart(r) => IngestEvent::Restart(*r),
        _ => IngestEvent::Waiting,
    }
}

fn generated() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("train.log");
    let f = std::fs::File::create(&path).expect("create the log");
    let mut w = BufWriter::new(f);
    for i in 1..=1_000_000u64 {
        let g = 0.4 + (i * 7919 % 1000) as f64 / 1000.0;
        let _ = writeln!(
            w,
            "2024-01-01 00:00:00 | INFO | train_inner | epoch 001:  {i} / 9999 loss=3.{:03}, \
             nll_loss=2.1, ppl=4.29, wps=1234.5, ups=1.2, wpb=2048, bsz=64, num_updates={i}, \
             lr=0.0005, gnorm={g:.3}, clip=0, train_wall=12, wall=34",
            i % 1000
        );
    }
    w.flush().expect("write the log");
    (dir, path)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = num(&args, "--runs", 5);
    let panels = args.iter().any(|a| a == "--panels");
    let mut files: Vec<PathBuf> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--runs"))
        .map(|(_, a)| PathBuf::from(a))
        .collect();
    let _tmp = if files.is_empty() {
        let (dir, path) = generated();
        files.push(path);
        Some(dir)
    } else {
        None
    };
    let default_panels = trainwatch::ingest::formats::panels::DEFAULT_PANELS.map(String::from);
    for file in &files {
        let mut spec = SourceSpec::new(file);
        if panels {
            spec = spec.with_panels(&default_panels);
        }
        let events = decode(&spec);
        let records: usize = events
            .iter()
            .map(|e| match e {
                IngestEvent::Batch(b) => b.steps.len() + b.aggregates.len(),
                _ => 0,
            })
            .sum();
        let (mut wall, mut cpu, mut points) = (f64::INFINITY, f64::INFINITY, 0);
        for _ in 0..runs {
            // The copies are made outside the timed part: the reducer takes its batches by
            // value, as it does from the reader's channel.
            let batch: Vec<IngestEvent> = events.iter().map(copy).collect();
            let (c0, t0) = (cpu_seconds(), Instant::now());
            let mut data = RunData::empty(&spec);
            for ev in batch {
                data.apply(ev);
            }
            let (t, c) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
            points = data.primary().len();
            wall = wall.min(t);
            cpu = cpu.min(c);
            drop(std::hint::black_box(data));
        }
        let per = |s: f64| s * 1e9 / records.max(1) as f64;
        println!(
            "{}: {} batches, {records} records, {points} points{}: build best of {runs}: \
             wall {:.1} ms ({:.1} ns/record), cpu {:.1} ms ({:.1} ns/record)",
            file.display(),
            events.len(),
            if panels { " (with panels)" } else { "" },
            wall * 1e3,
            per(wall),
            cpu * 1e3,
            per(cpu),
        );
    }
}
