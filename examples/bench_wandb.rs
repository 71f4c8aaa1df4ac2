//! Reading a `.wandb` run file against `cat` of the same file, measured in the same run:
//!
//! - `decode`: the `WandbSource` read to its end (the points of every batch counted);
//! - `series`: `read_once` — the same read through the reducer into `RunData`, the full
//!   series the TUI and `trainwatch gnorm` show (what the target is about);
//! - `process`: the whole `trainwatch gnorm FILE` (the binary built beside this example, or
//!   `$TRAINWATCH_BIN`), and with `--against BIN` another build of it, in the same run.
//!
//! Each line: the best wall time of the runs and the CPU time (user + sys, every thread) of
//! that run, both also as ratios to `cat`'s.
//!
//! The file is either a real one (`--file PATH`: e.g. the 1 M-step run written by wandb itself
//! with `scripts/make_wandb_1m.py`, kept outside the repository) or generated here in wandb
//! 0.31's exact layout (the header, 32 KiB LevelDB-log blocks with CRC-32 chunks, per step a
//! `history` record with `_timestamp`, `_runtime`, `_step`, `train/grad_norm`, `train/loss`,
//! `train/learning_rate` as `nested_key` + `value_json`, and the `summary` record wandb writes
//! after every `log`): about 435 bytes a step, for machines without Python.
//!
//! Run: `cargo build --release && cargo run --release --example bench_wandb [-- --steps N
//! [--out PATH] | --file PATH] [--runs R] [--against BIN]` (default 1 000 000 generated steps,
//! best of 3).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use trainwatch::ingest::source::{Source, Update};
use trainwatch::ingest::wandb::{framing, proto::encode, WandbSource};
use trainwatch::ingest::{MetricSpec, SourceSpec};

#[path = "support/mod.rs"]
mod support;
use support::arg;
use support::cpu::{children_cpu, self_cpu};

fn item(name: &str, json: &str, out: &mut Vec<u8>) {
    let mut i = Vec::new();
    encode::bytes(2, name.as_bytes(), &mut i);
    encode::bytes(16, json.as_bytes(), &mut i);
    encode::bytes(1, &i, out);
}

fn step_records(step: u64, out: &mut Vec<Vec<u8>>) {
    let g = 1.0 + ((step as f64) * 0.37).sin() * 0.5;
    let fields = [
        ("_timestamp", format!("{:e}", 1.796e9 + step as f64 * 1e-3)),
        ("_runtime", format!("{}", step as f64 * 1e-3)),
        ("_step", step.to_string()),
        ("train/grad_norm", g.to_string()),
        ("train/loss", (2.0 / (1.0 + step as f64)).to_string()),
        ("train/learning_rate", (1e-4 * g).to_string()),
    ];
    for (record_field, with_step) in [(2u32, true), (3, false)] {
        let mut m = Vec::new();
        for (k, v) in &fields {
            item(k, v, &mut m);
        }
        if with_step {
            let mut s = Vec::new();
            encode::uint(1, step, &mut s);
            encode::bytes(2, &s, &mut m);
        }
        let mut r = Vec::new();
        encode::uint(1, step * 2 + u64::from(with_step), &mut r);
        encode::bytes(record_field, &m, &mut r);
        out.push(r);
    }
}

/// The best wall time of `runs` runs of `f`, the CPU time of that run (`cpu` says how much
/// was spent so far), and `f`'s result.
fn best<T>(runs: usize, cpu: fn() -> Duration, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let (mut best, mut best_cpu) = (f64::INFINITY, 0.0);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let (c, t) = (cpu(), Instant::now());
        let v = f();
        let wall = t.elapsed().as_secs_f64();
        if wall < best {
            best = wall;
            best_cpu = cpu().saturating_sub(c).as_secs_f64();
        }
        last = Some(v);
    }
    (best, best_cpu, last.expect("at least one run"))
}

/// The `trainwatch` binary beside this example (or `$TRAINWATCH_BIN`).
fn trainwatch_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TRAINWATCH_BIN") {
        return Some(p.into());
    }
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("trainwatch");
    bin.exists().then_some(bin)
}

fn decode_all(path: &Path) -> usize {
    let mut src = WandbSource::new(path, &MetricSpec::gnorm());
    let mut n = 0;
    let _ = src.poll_each(&mut |u| {
        if let Update::Batch(b) = u {
            n += b.steps.len();
        }
    });
    n
}

fn series(path: &Path) -> usize {
    let data = trainwatch::run::read_once(&SourceSpec::new(path)).expect("read the run");
    data.primary().len()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = arg(&args, "--runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let tmp = tempfile::tempdir().expect("temp dir");
    let (path, expect) = match arg(&args, "--file") {
        Some(f) => (PathBuf::from(f), None),
        None => {
            let steps: u64 = arg(&args, "--steps")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1_000_000);
            // --out PATH: keep the generated file there (to profile it with --file).
            let path = arg(&args, "--out")
                .map(PathBuf::from)
                .unwrap_or_else(|| tmp.path().join("run-bench.wandb"));
            let mut recs = Vec::new();
            for s in 1..=steps {
                step_records(s, &mut recs);
            }
            let bytes = framing::write::frame(&recs);
            drop(recs);
            std::fs::write(&path, &bytes).expect("write the file");
            (path, Some(steps as usize))
        }
    };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("{}: {:.1} MB", path.display(), size as f64 / 1e6);
    // Warm the page cache: every reader below reads from memory.
    let cat_once = || {
        Command::new("cat")
            .arg(&path)
            .stdout(Stdio::null())
            .status()
            .expect("cat")
    };
    cat_once();
    let (cat, cat_cpu, _) = best(runs, children_cpu, cat_once);
    let (dec, dec_cpu, n) = best(runs, self_cpu, || decode_all(&path));
    let (ser, ser_cpu, m) = best(runs, self_cpu, || series(&path));
    if let Some(e) = expect {
        assert_eq!((n, m), (e, e), "every generated step read");
    }
    let line = |what: &str, wall: f64, cpu: f64, note: &str| {
        println!(
            "{what:<10} {wall:8.3} s ({:5.1}× cat)  cpu {cpu:7.3} s ({:5.1}× cat){note}",
            wall / cat,
            cpu / cat_cpu.max(1e-9)
        );
    };
    line("cat", cat, cat_cpu, "");
    line("decode", dec, dec_cpu, &format!("  {n} points"));
    line("series", ser, ser_cpu, &format!("  {m} points"));
    let mut bins: Vec<(String, PathBuf)> = Vec::new();
    if let Some(b) = trainwatch_bin() {
        bins.push(("process".into(), b));
    }
    if let Some(b) = arg(&args, "--against") {
        bins.push(("against".into(), PathBuf::from(b)));
    }
    for (what, bin) in bins {
        let run = || {
            Command::new(&bin)
                .arg("gnorm")
                .arg(&path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        let (wall, cpu, ok) = best(runs, children_cpu, run);
        let note = format!("  {}{}", bin.display(), if ok { "" } else { " (failed)" });
        line(&what, wall, cpu, &note);
    }
}
