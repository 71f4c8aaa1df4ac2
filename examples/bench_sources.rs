//! Reading a TensorBoard event file against `grep -c` on a text log of the same record count,
//! measured in the same run, wall and CPU time (user + sys), best of 5:
//!
//! - `events.out.tfevents.*`: N events, each one `train/grad_norm` scalar (`simple_value`),
//!   framed as TFRecord with both CRCs (trainwatch verifies them);
//! - `train.log`: N short `key=value` lines `step=N loss=… gnorm=… lr=…` (short lines make
//!   grep's job the smallest: the strictest baseline).
//!
//! - with `--tensorboard`: the same N scalars written by TensorBoard's own `EventFileWriter`
//!   (or the file given with `--tb-file FILE`), read by TensorBoard's `EventFileLoader` and
//!   `EventAccumulator` (once: they take about a minute) and by trainwatch, in the same run.
//!   TensorBoard comes from a venv the example makes (`target/tb-venv`, or
//!   `$TRAINWATCH_TB_VENV`) with `pip install tensorboard==2.21.0`; without Python it says so
//!   and measures the rest.
//! - with `--baseline BIN`: another trainwatch binary (say, `main` built elsewhere) timed on
//!   the same files in the same run, for before/after ratios.
//!
//! Run: `cargo build --release && cargo run --release --example bench_sources [-- --records N
//! --dir DIR --tensorboard --tb-file FILE --baseline BIN]`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
use trainwatch::ingest::tfevents::encode::{record, scalar_event};

#[path = "support/mod.rs"]
mod support;
use support::cpu::children_cpu;
use support::{arg, trainwatch_bin};

/// The best (least disturbed) wall and CPU time of several runs, in seconds.
#[derive(Debug, Clone, Copy)]
struct Timing {
    wall: f64,
    cpu: f64,
}

impl Timing {
    fn ratio(self, base: Timing) -> String {
        format!(
            "{:.2}× wall, {:.2}× CPU",
            self.wall / base.wall,
            self.cpu / base.cpu.max(1e-6)
        )
    }
}

impl std::fmt::Display for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:>7.3} s wall {:>7.3} s CPU", self.wall, self.cpu)
    }
}

/// Runs `cmd` `n` times (output captured), checking each run with `check`; the best wall
/// and the best CPU time.
fn best(n: usize, cmd: &mut Command, check: impl Fn(&std::process::Output)) -> Timing {
    let mut t = Timing {
        wall: f64::INFINITY,
        cpu: f64::INFINITY,
    };
    for _ in 0..n {
        let before = children_cpu();
        let start = Instant::now();
        let out = cmd.output().expect("run");
        let wall = start.elapsed().as_secs_f64();
        let cpu = children_cpu().saturating_sub(before).as_secs_f64();
        check(&out);
        t.wall = t.wall.min(wall);
        t.cpu = t.cpu.min(cpu);
    }
    t
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = arg(&args, "--records")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let bin = trainwatch_bin();
    println!("trainwatch binary: {}", bin.display());
    let baseline = arg(&args, "--baseline").map(PathBuf::from);
    if let Some(b) = &baseline {
        println!("baseline binary:   {}", b.display());
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    // --dir DIR: write the files there and keep them (for profiling).
    let dir = arg(&args, "--dir")
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
    // Output to a pipe: GNU grep stops at the first match when writing to /dev/null.
    let grep = best(
        5,
        Command::new("grep").args(["-c", "gnorm"]).arg(&text),
        |o| assert!(o.status.success()),
    );
    let points = format!("{n} gnorm");
    let charted = |o: &std::process::Output| {
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(
            s.contains(&points),
            "{s}{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let bins: Vec<(&str, &Path)> = std::iter::once(("trainwatch", bin.as_path()))
        .chain(baseline.as_deref().map(|b| ("baseline", b)))
        .collect();
    println!("\n== whole-file read, {n} records (best of 5) ==");
    println!("grep -c gnorm train.log                  {grep}");
    let mut first: Option<Timing> = None;
    for (name, b) in &bins {
        let ev = best(5, Command::new(b).arg("gnorm").arg(&events), charted);
        // Framing, CRCs and decoding only: a tag no record has (exit 2, nothing charted).
        let decode = best(
            5,
            Command::new(b)
                .args(["gnorm", "--metric", "no_such_tag"])
                .arg(&events),
            |o| assert_eq!(o.status.code(), Some(2)),
        );
        let txt = best(5, Command::new(b).arg("gnorm").arg(&text), |o| {
            assert!(o.status.success())
        });
        println!(
            "{name:<10} gnorm events.out…          {ev}  = grep × {}",
            ev.ratio(grep)
        );
        println!(
            "{name:<10}   decoding alone (no tag)  {decode}  = grep × {}",
            decode.ratio(grep)
        );
        println!(
            "{name:<10} gnorm train.log            {txt}  = grep × {}",
            txt.ratio(grep)
        );
        match first {
            None => {
                println!(
                    "           ({:.0} MB/s, {:.1} M records/s)",
                    eb as f64 / 1e6 / ev.wall,
                    n as f64 / 1e6 / ev.wall
                );
                first = Some(ev);
            }
            Some(mine) => println!("trainwatch / baseline on events: {}", mine.ratio(ev)),
        }
    }
    if args.iter().any(|a| a == "--tensorboard") {
        against_tensorboard(&bins, &dir, n, arg(&args, "--tb-file").map(Path::new));
    }
}

/// TensorBoard's writer makes the file (unless one is given), its loader and accumulator read
/// it, and trainwatch reads it too, in the same run.
fn against_tensorboard(bins: &[(&str, &Path)], dir: &Path, n: u64, given: Option<&Path>) {
    let Some(python) = tensorboard_python() else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_tensorboard.py");
    let file = match given {
        Some(f) => f.to_path_buf(),
        None => match tensorboard_file(&python, &script, dir, n) {
            Some(f) => f,
            None => return,
        },
    };
    let _ = Command::new("cat")
        .arg(&file)
        .stdout(Stdio::null())
        .status();
    let points = format!("{n} gnorm");
    let tw: Vec<(&str, Timing)> = bins
        .iter()
        .map(|(name, b)| {
            let t = best(5, Command::new(b).arg("gnorm").arg(&file), |o| {
                let s = String::from_utf8_lossy(&o.stdout);
                assert!(s.contains(&points), "{s}");
            });
            (*name, t)
        })
        .collect();
    // Once: it takes about a minute.
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
    println!("TensorBoard EventFileLoader        {loader:>8.3} s");
    println!("TensorBoard EventAccumulator       {acc:>8.3} s");
    for (name, t) in tw {
        println!(
            "{name:<10} gnorm (best of 5)   {t}  → {:.0}× the loader, {:.0}× the accumulator (wall)",
            loader / t.wall,
            acc / t.wall
        );
    }
}

/// The file TensorBoard's writer made for `n` scalars in `dir` (written on first use).
fn tensorboard_file(python: &Path, script: &Path, dir: &Path, n: u64) -> Option<PathBuf> {
    let tb_dir = dir.join(format!("tensorboard-{n}"));
    let existing = std::fs::read_dir(&tb_dir).ok().and_then(|mut d| {
        d.find_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().contains("tfevents"))
    });
    if existing.is_some() {
        return existing;
    }
    let _ = std::fs::create_dir_all(&tb_dir);
    let t = Instant::now();
    let ok = Command::new(python)
        .arg(script)
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
            Some(f)
        }
        _ => {
            eprintln!("TensorBoard's writer failed: no TensorBoard figures");
            None
        }
    }
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
