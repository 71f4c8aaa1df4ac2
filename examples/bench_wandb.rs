//! Reading a `.wandb` run file against `cat` of the same file, measured in the same run.
//!
//! The file is generated here in wandb 0.31's exact layout (the header, 32 KiB LevelDB-log
//! blocks with CRC-32 chunks, per step a `history` record with `_timestamp`, `_runtime`,
//! `_step`, `train/grad_norm`, `train/loss`, `train/learning_rate` as `nested_key` +
//! `value_json`, and the `summary` record wandb writes after every `log`): about 480 bytes a
//! step, like the real sample. (The 1 M-step file written by wandb itself takes
//! minutes; this one takes seconds and has the same shape.)
//!
//! Run: `cargo run --release --example bench_wandb [-- --steps N]` (default 1 000 000).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use trainwatch::ingest::source::{Source, Update};
use trainwatch::ingest::wandb::{framing, proto::encode, WandbSource};
use trainwatch::ingest::MetricSpec;

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

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(v);
    }
    (best, last.expect("at least one run"))
}

fn read_all(path: &Path) -> usize {
    let mut src = WandbSource::new(path, &MetricSpec::gnorm());
    let mut n = 0;
    let _ = src.poll_each(&mut |u| {
        if let Update::Batch(b) = u {
            n += b.steps.len();
        }
    });
    n
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let steps: u64 = args
        .iter()
        .position(|a| a == "--steps")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = tmp.path().join("run-bench.wandb");
    let mut recs = Vec::new();
    for s in 1..=steps {
        step_records(s, &mut recs);
    }
    let bytes = framing::write::frame(&recs);
    drop(recs);
    std::fs::write(&path, &bytes).expect("write the file");
    println!("{steps} steps, {} bytes", bytes.len());
    drop(bytes);
    let (cat, _) = best(3, || {
        Command::new("cat")
            .arg(&path)
            .stdout(Stdio::null())
            .status()
            .expect("cat")
    });
    let (tw, n) = best(3, || read_all(&path));
    assert_eq!(n as u64, steps);
    println!("cat        {:8.3} s", cat);
    println!(
        "trainwatch {:8.3} s  ({:.1}× cat, {n} points)",
        tw,
        tw / cat
    );
}
