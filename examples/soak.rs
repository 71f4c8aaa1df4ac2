//! Soak: a writer appends LINES lines (default 1 M) in random bursts to a log, truncating it
//! once and replacing it (rename over) once on the way, while `trainwatch gnorm LOG --follow
//! --jsonl` follows it. Checks that the follower printed exactly the points written in each
//! of the three runs (consecutive steps, none lost, none twice) and reports its RSS.
//!
//! ```sh
//! cargo build --release && cargo run --release --example soak -- [LINES] [SEED]
//! ```
//! The binary is taken from beside this example (`target/release/trainwatch`), or from
//! `TRAINWATCH_BIN`.

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// What the reader saw: points per run, explosion lines, and any step out of sequence.
#[derive(Default, Debug)]
struct Seen {
    runs: Vec<u64>,
    last_step: Option<u64>,
    explosions: u64,
    out_of_sequence: Vec<String>,
}

#[path = "support/mod.rs"]
mod support;

fn rss_kib(pid: u32, field: &str) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Appends `n` lines, steps `first..first+n`, in random bursts with short pauses.
fn write_run(path: &Path, first: u64, n: u64, rng: &mut Rng, written: &AtomicU64) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open the log for appending");
    let mut step = first;
    let end = first + n;
    let mut buf = String::new();
    while step < end {
        let burst = (1 + rng.below(4000)).min(end - step);
        buf.clear();
        for _ in 0..burst {
            let v = if rng.below(200_000) == 0 {
                40.0
            } else {
                0.4 + rng.below(1000) as f64 / 5000.0
            };
            buf.push_str(&format!("step={step} gnorm={v} loss=2.5\n"));
            step += 1;
        }
        // Sometimes leave the burst's last line half-written for a moment.
        if rng.below(8) == 0 && buf.len() > 10 {
            let cut = buf.len() - 5;
            f.write_all(&buf.as_bytes()[..cut]).expect("write");
            f.flush().expect("flush");
            std::thread::sleep(Duration::from_millis(3));
            f.write_all(&buf.as_bytes()[cut..]).expect("write");
        } else {
            f.write_all(buf.as_bytes()).expect("write");
        }
        written.fetch_add(burst, Ordering::Relaxed);
        std::thread::sleep(Duration::from_micros(rng.below(4000)));
    }
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let total: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(42);
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = dir.path().join("train.log");
    fs::write(&log, "").expect("create the log");
    let bin = support::trainwatch_bin();
    println!("soak: {total} lines, binary {}", bin.display());

    let started = Instant::now();
    let mut child = Command::new(&bin)
        .arg("gnorm")
        .arg(&log)
        .args(["--follow", "--jsonl", "--poll-ms", "200"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start trainwatch (build it first: cargo build --release)");
    let pid = child.id();
    let seen = Arc::new(Mutex::new(Seen {
        runs: vec![0],
        ..Default::default()
    }));
    let stdout = child.stdout.take().expect("piped stdout");
    let s = seen.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let mut s = s.lock().expect("lock");
            if line == r#"{"event":"restart"}"# {
                s.runs.push(0);
                s.last_step = None;
            } else if line.starts_with(r#"{"event":"explosion""#) {
                s.explosions += 1;
            } else if let Some(rest) = line.strip_prefix(r#"{"step":"#) {
                let step: u64 = rest
                    .split(',')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(u64::MAX);
                let want = s.last_step.map_or(1, |p| p + 1);
                if step != want && s.out_of_sequence.len() < 10 {
                    s.out_of_sequence
                        .push(format!("step {step} where {want} was due"));
                }
                s.last_step = Some(step);
                if let Some(r) = s.runs.last_mut() {
                    *r += 1;
                }
            } else {
                s.out_of_sequence.push(format!("unexpected line {line}"));
            }
        }
    });

    let read = || -> u64 { seen.lock().map(|s| s.runs.iter().sum()).unwrap_or(0) };
    let written = AtomicU64::new(0);
    let (a, b) = (total * 2 / 5, total * 3 / 10);
    let c = total - a - b;

    wait_until("the follower to start", || rss_kib(pid, "VmRSS:") > 0);
    let rss_start = rss_kib(pid, "VmRSS:");
    write_run(&log, 1, a, &mut rng, &written);
    // Truncation loses what the follower has not read yet (as with tail -F): let it catch up.
    wait_until("run 1 to be read", || read() >= a);
    let rss_mid1 = rss_kib(pid, "VmRSS:");
    fs::write(&log, "").expect("truncate");
    write_run(&log, 1, b, &mut rng, &written);
    let rss_mid2 = rss_kib(pid, "VmRSS:");
    // Replacement: the old file's unread tail is still drained, so no wait here.
    let tmp = dir.path().join("train.log.tmp");
    write_run(&tmp, 1, 2000.min(c), &mut rng, &written);
    fs::rename(&tmp, &log).expect("rename over the log");
    write_run(&log, 2001.min(c + 1), c - 2000.min(c), &mut rng, &written);
    wait_until("everything to be read", || read() >= total);
    let rss_end = rss_kib(pid, "VmRSS:");
    let hwm = rss_kib(pid, "VmHWM:");
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = child.wait().expect("wait");
    let _ = reader.join();
    let elapsed = started.elapsed().as_secs_f64();

    let s = seen.lock().expect("lock");
    println!(
        "written {} lines in 3 runs ({a}, {b}, {c}); follower printed {:?} points per run, {} explosion events",
        written.load(Ordering::Relaxed),
        s.runs,
        s.explosions
    );
    println!(
        "RSS: start {} KiB, after run 1 {} KiB, after run 2 {} KiB, end {} KiB; peak {} KiB",
        rss_start, rss_mid1, rss_mid2, rss_end, hwm
    );
    println!("{elapsed:.1} s; follower exit: {status}");
    let ok = s.runs == [a, b, c] && s.out_of_sequence.is_empty() && status.success();
    if !s.out_of_sequence.is_empty() {
        println!("out of sequence: {:?}", s.out_of_sequence);
    }
    println!("{}", if ok { "PASS" } else { "FAIL" });
    if !ok {
        std::process::exit(1);
    }
}
