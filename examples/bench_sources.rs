//! Reading a TensorBoard event file against `grep -c` on a text log of the same record count,
//! measured in the same run:
//!
//! - `events.out.tfevents.*`: N events, each one `train/grad_norm` scalar (`simple_value`),
//!   framed as TFRecord with both CRCs (trainwatch verifies them);
//! - `train.log`: N short `key=value` lines `step=N loss=… gnorm=… lr=…` (short lines make
//!   grep's job the smallest: the strictest baseline).
//!
//! - with `--tensorboard`: the same N scalars written by TensorBoard's own `EventFileWriter`,
//!   read by TensorBoard's `EventFileLoader` and `EventAccumulator` and by trainwatch, in the
//!   same run. TensorBoard comes from a venv the example makes (`target/tb-venv`, or
//!   `$TRAINWATCH_TB_VENV`) with `pip install tensorboard==2.21.0`; without Python it says so
//!   and measures the rest.
//!
//! Run: `cargo build --release && cargo run --release --example bench_sources [-- --records N --dir DIR --tensorboard]`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
use trainwatch::ingest::tfevents::encode::{record, scalar_event};

#[path = "support/mod.rs"]
mod support;
use support::{best_of, trainwatch_bin};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let bin = trainwatch_bin();
    println!("trainwatch binary: {}", bin.display());
    let tmp = tempfile::tempdir().expect("temp dir");
    // --dir DIR: write the files there and keep them (for profiling).
    let dir = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let events = dir.join("events.out.tfevents.1700000000.bench.1.0");
    let text = dir.join("train.log");
    let eb = write_events(&events, n);
    let tb = write_text(&text, n);
    println!(
        "{n} records: event file {:.1} MB, text log {:.1} MB",
        eb as f64 / 1e6,
        tb as f64 / 1e6
    );
    for p in [&events, &text] {
        let _ = Command::new("cat").arg(p).stdout(Stdio::null()).status();
    }
    let grep = best_of(5, || {
        // Output to a pipe: GNU grep stops at the first match when writing to /dev/null.
        let out = Command::new("grep")
            .args(["-c", "gnorm"])
            .arg(&text)
            .output()
            .expect("grep");
        assert!(out.status.success());
    });
    let tw_events = best_of(5, || {
        let out = Command::new(&bin)
            .arg("gnorm")
            .arg(&events)
            .output()
            .expect("trainwatch");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(s.contains(&format!("{n} gnorm")), "{s}");
    });
    // Framing, CRCs and decoding only: a tag no record has (exit 2, nothing charted).
    let tw_decode = best_of(5, || {
        let out = Command::new(&bin)
            .args(["gnorm", "--metric", "no_such_tag"])
            .arg(&events)
            .output()
            .expect("trainwatch");
        assert_eq!(out.status.code(), Some(2));
    });
    let tw_text = best_of(5, || {
        let out = Command::new(&bin)
            .arg("gnorm")
            .arg(&text)
            .output()
            .expect("trainwatch");
        assert!(out.status.success());
    });
    println!("\n== whole-file read, {n} records (best of 5) ==");
    println!("grep -c gnorm train.log            {grep:>8.3} s");
    println!("trainwatch gnorm events.out…       {tw_events:>8.3} s");
    println!("  of which decoding (no tag matches) {tw_decode:>8.3} s");
    println!("trainwatch gnorm train.log         {tw_text:>8.3} s");
    println!(
        "events / grep: {:.2}×  ({:.0} MB/s, {:.1} M records/s)",
        tw_events / grep,
        eb as f64 / 1e6 / tw_events,
        n as f64 / 1e6 / tw_events
    );
    if args.iter().any(|a| a == "--tensorboard") {
        against_tensorboard(&bin, &dir, n);
    }
}

/// TensorBoard's writer makes the file, its loader and accumulator read it, and trainwatch
/// reads it too, in the same run.
fn against_tensorboard(bin: &Path, dir: &Path, n: u64) {
    let Some(python) = tensorboard_python() else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_tensorboard.py");
    let tb_dir = dir.join(format!("tensorboard-{n}"));
    let existing = std::fs::read_dir(&tb_dir).ok().and_then(|mut d| {
        d.find_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().contains("tfevents"))
    });
    let file = match existing {
        Some(f) => f,
        None => {
            let _ = std::fs::create_dir_all(&tb_dir);
            let t = Instant::now();
            let ok = Command::new(&python)
                .arg(&script)
                .arg("write")
                .arg(&tb_dir)
                .arg(n.to_string())
                .status()
                .is_ok_and(|s| s.success());
            let found = std::fs::read_dir(&tb_dir)
                .ok()
                .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path())));
            match found {
                Some(f) if ok => {
                    println!(
                        "TensorBoard's EventFileWriter wrote {} in {:.0} s",
                        f.display(),
                        t.elapsed().as_secs_f64()
                    );
                    f
                }
                _ => {
                    eprintln!("TensorBoard's writer failed: no TensorBoard figures");
                    return;
                }
            }
        }
    };
    let _ = Command::new("cat")
        .arg(&file)
        .stdout(Stdio::null())
        .status();
    let tw = best_of(3, || {
        let out = Command::new(bin)
            .arg("gnorm")
            .arg(&file)
            .output()
            .expect("trainwatch");
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(s.contains(&format!("{n} gnorm")), "{s}");
    });
    // Once: it takes minutes.
    let out = Command::new(&python)
        .arg(&script)
        .arg("load")
        .arg(&file)
        .output()
        .expect("python");
    let text = String::from_utf8_lossy(&out.stdout);
    let secs = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
    };
    let (Some(loader), Some(acc)) = (secs("loader"), secs("accumulator")) else {
        eprintln!(
            "TensorBoard's loader failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    };
    let mb = std::fs::metadata(&file).map_or(0.0, |m| m.len() as f64 / 1e6);
    println!("\n== {n} scalars written by TensorBoard ({mb:.1} MB) ==");
    println!("trainwatch gnorm (best of 3)       {tw:>8.3} s");
    println!(
        "TensorBoard EventFileLoader        {loader:>8.3} s  → trainwatch {:.0}× faster",
        loader / tw
    );
    println!(
        "TensorBoard EventAccumulator       {acc:>8.3} s  → trainwatch {:.0}× faster",
        acc / tw
    );
}

/// The venv's Python with TensorBoard in it, made on first use; `None` (said why) when
/// Python or the install is not there.
fn tensorboard_python() -> Option<PathBuf> {
    let venv = std::env::var_os("TRAINWATCH_TB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tb-venv"));
    let python = venv.join("bin/python");
    let has_tb = |p: &Path| {
        Command::new(p)
            .args(["-c", "import tensorboard"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && has_tb(&python) {
        return Some(python);
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!(
            "no TensorBoard figures: python3 with venv is needed (apt-get install python3-venv) \
             to install TensorBoard's writer and loader into {}",
            venv.display()
        );
        return None;
    }
    let installed = Command::new(&python)
        .args(["-m", "pip", "install", "-q", "tensorboard==2.21.0"])
        .status()
        .is_ok_and(|s| s.success());
    if !installed || !has_tb(&python) {
        eprintln!(
            "no TensorBoard figures: pip could not install tensorboard into {}",
            venv.display()
        );
        return None;
    }
    Some(python)
}

fn write_events(path: &Path, n: u64) -> u64 {
    let f = std::fs::File::create(path).expect("create");
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let mut total = 0u64;
    let mut rng = 0x2545F4914F6CDD1Du64;
    let tag = "train/grad_norm";
    for step in 1..=n {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let v = 0.4 + (rng % 1000) as f32 / 3000.0;
        let rec = record(&scalar_event(1.7e9 + step as f64, step, tag, v));
        w.write_all(&rec).expect("write");
        total += rec.len() as u64;
    }
    w.flush().expect("flush");
    total
}

fn write_text(path: &Path, n: u64) -> u64 {
    let f = std::fs::File::create(path).expect("create");
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let mut total = 0u64;
    let mut rng = 0x2545F4914F6CDD1Du64;
    for step in 1..=n {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let v = 0.4 + (rng % 1000) as f64 / 3000.0;
        let line = format!("step={step} loss=1.702 gnorm={v:.4} lr=2e-05\n");
        w.write_all(line.as_bytes()).expect("write");
        total += line.len() as u64;
    }
    w.flush().expect("flush");
    total
}
