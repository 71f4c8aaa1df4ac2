//! The scale benchmark of issue 12: a generated sweep of 100 runs × 100 k points (fairseq
//! `simple` logs, the line shape of `../shared/samples/pytorch-fairseq-learned/train-learned.log`),
//! opened by the real binary in a pseudo-terminal tall enough for the runs panel to show every
//! run, read through a VT100 parser as the PTY tests do. Measured in one run:
//!
//! - start-up to the first full frame (every run's row shows its last step), against `cat` of
//!   all the files (warm page cache both);
//! - idle CPU with nothing changing (the process's threads' run time, from
//!   `/proc/PID/task/*/schedstat`, over 20 s; target ≤ 0.3 % of a core);
//! - RSS (`VmRSS`, `VmHWM`; ≤ 400 MB), threads, inotify watches (`/proc/PID/fdinfo`);
//! - stat calls and wake-ups per second while idle (`strace -c -f -p PID` for 10 s, when
//!   strace is installed);
//! - the latency from a line appended to one run to the screen showing it (p50, p95, max of
//!   40 appends to runs chosen in turn; ≤ 50 ms).
//!
//! Run: `cargo build --release && cargo run --release --example bench_sweep
//! [-- --runs N --points N --dir DIR --idle-secs S --appends N]`; `-- --account N` instead
//! reads N runs in-process and prints the heap bytes of their series by part. The sweep is generated once
//! into DIR (default `target/bench-sweep`) and reused.

#[path = "support/mod.rs"]
mod support;
use support::{arg, num};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One fairseq `simple` train_inner line (fairseq 0.12's fields and order).
fn line(out: &mut impl Write, update: u64, gnorm: f64) -> std::io::Result<()> {
    let epoch = update / 1000 + 1;
    let of = update % 1000 + 1;
    let loss = 2.0 + 8.0 / (1.0 + update as f64 / 5000.0);
    writeln!(
        out,
        "2026-12-01 07:36:40 | INFO | train_inner | epoch {epoch:03}: {of:>6} / 1000 loss={loss:.3}, nll_loss={:.3}, ppl={:.2}, wps=18271.2, ups=20.13, wpb=907.5, bsz=94, num_updates={update}, lr=0.0005, gnorm={gnorm:.3}, clip=0, train_wall=2, wall={}",
        loss * 0.95,
        2f64.powf(loss * 0.95),
        update / 20
    )
}

/// Writes the sweep (once): `DIR/lrNNN/train.log`, run k with a gradient norm around
/// 0.5 + k/100, noise, and a spike every (k+1) × 7919 updates.
fn generate(dir: &Path, runs: usize, points: u64) -> std::io::Result<Vec<PathBuf>> {
    let done = dir.join(format!(".complete-{runs}x{points}"));
    let logs: Vec<PathBuf> = (0..runs)
        .map(|k| dir.join(format!("lr{k:03}")).join("train.log"))
        .collect();
    if done.exists() {
        return Ok(logs);
    }
    let t = Instant::now();
    let _ = std::fs::remove_dir_all(dir);
    for (k, log) in logs.iter().enumerate() {
        std::fs::create_dir_all(log.parent().unwrap_or(dir))?;
        let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(log)?);
        writeln!(
            w,
            "2026-12-01 07:36:36 | INFO | fairseq_cli.train | Namespace(clip_norm=5.0, lr=[0.0005])"
        )?;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ (k as u64 + 1);
        let spike = (k as u64 + 1) * 7919;
        for u in 1..=points {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let noise = (x >> 11) as f64 / (1u64 << 53) as f64;
            let mut g = 0.5 + k as f64 / 100.0 + 0.2 * noise;
            if u % spike == 0 {
                g *= 40.0;
            }
            line(&mut w, u, g)?;
        }
        w.flush()?;
    }
    std::fs::write(&done, b"")?;
    println!(
        "generated {runs} runs × {points} lines in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    Ok(logs)
}

/// What the screen reader looks for, and when it first saw it.
#[derive(Default)]
struct Probe {
    /// Rows that must be on screen at once: each holds all its words.
    want: Vec<Vec<String>>,
    seen: Option<Instant>,
}

fn satisfied(screen: &str, want: &[Vec<String>]) -> bool {
    want.iter().all(|words| {
        screen
            .lines()
            .any(|l| words.iter().all(|w| l.contains(w.as_str())))
    })
}

/// The sum of the run times of a process's threads (ns).
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
}

fn inotify_watches(pid: u32) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return 0;
    };
    fds.flatten()
        .filter_map(|f| std::fs::read_to_string(f.path()).ok())
        .map(|s| s.lines().filter(|l| l.starts_with("inotify wd:")).count())
        .sum()
}

/// `strace -c -f -p PID` for `secs`: (stat-family calls, all calls) per second.
fn strace_rates(pid: u32, secs: u64) -> Option<(f64, f64, String)> {
    let out = std::env::temp_dir().join(format!("bench-sweep-strace-{pid}.txt"));
    let mut child = std::process::Command::new("strace")
        .args(["-c", "-f", "-o"])
        .arg(&out)
        .args(["-p", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_secs(secs));
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let text = std::fs::read_to_string(&out).ok()?;
    let _ = std::fs::remove_file(&out);
    let (mut stat, mut all) = (0u64, 0u64);
    let mut top = Vec::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        // % time, seconds, usecs/call, calls, [errors], syscall
        if f.len() < 5 || f[0].parse::<f64>().is_err() {
            continue;
        }
        let Some(name) = f.last() else { continue };
        let Ok(calls) = f[3].parse::<u64>() else {
            continue;
        };
        if *name == "total" {
            continue;
        }
        all += calls;
        if name.contains("stat") {
            stat += calls;
        }
        top.push((calls, name.to_string()));
    }
    top.sort_by(|a, b| b.cmp(a));
    let top: Vec<String> = top
        .iter()
        .take(6)
        .map(|(c, n)| format!("{n} {:.1}/s", *c as f64 / secs as f64))
        .collect();
    Some((
        stat as f64 / secs as f64,
        all as f64 / secs as f64,
        top.join(", "),
    ))
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `--account N`: reads the first N runs in this process as the TUI keeps them (the
/// default panels) and prints the heap bytes of their series, part by part.
fn account(logs: &[PathBuf], n: usize) {
    use trainwatch::series::HeapBytes;
    let panels = trainwatch::ingest::formats::panels::DEFAULT_PANELS.map(String::from);
    let (mut sum, mut points, mut series) = (HeapBytes::default(), 0usize, 0usize);
    for log in logs.iter().take(n) {
        let spec = trainwatch::ingest::SourceSpec::new(log).with_panels(&panels);
        let Ok(d) = trainwatch::run::read_once(&spec) else {
            eprintln!("{}: not read", log.display());
            continue;
        };
        for s in std::iter::once(&d.steps).chain(d.panels.iter().map(|p| &p.series)) {
            sum.add(&s.heap_bytes());
            points += s.len();
            series += 1;
        }
    }
    let mb = |b: usize| b as f64 / 1e6;
    let per = |b: usize| b as f64 / points.max(1) as f64;
    println!(
        "{n} runs, {series} series, {points} points: {:.1} MB ({:.2} B/point)",
        mb(sum.total()),
        per(sum.total())
    );
    for (name, b) in [
        ("steps", sum.steps),
        ("values", sum.values),
        ("losses", sum.losses),
        ("flags", sum.flags),
        ("pyramid", sum.pyramid),
        ("other", sum.other),
    ] {
        println!("  {name:8} {:8.1} MB  {:5.2} B/point", mb(b), per(b));
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runs = num(&args, "--runs", 100usize).max(2);
    let points = num(&args, "--points", 100_000usize).max(10) as u64;
    let idle = num(&args, "--idle-secs", 20usize) as u64;
    let appends = num(&args, "--appends", 40usize);
    let dir = PathBuf::from(arg(&args, "--dir").unwrap_or("target/bench-sweep"));
    let bin = support::trainwatch_bin();
    let logs = generate(&dir, runs, points)?;
    if args.iter().any(|a| a == "--account") {
        account(&logs, num(&args, "--account", runs));
        return Ok(());
    }
    let lengths: Vec<u64> = logs
        .iter()
        .map(|l| std::fs::metadata(l).map(|m| m.len()))
        .collect::<std::io::Result<_>>()?;
    let bytes: u64 = lengths.iter().sum();

    // `cat` of every file, warm (the first pass fills the page cache).
    let cat = support::best_of(3, || {
        let _ = std::process::Command::new("cat")
            .args(&logs)
            .stdout(std::process::Stdio::null())
            .status();
    });

    // The real binary in a PTY tall enough for every run's row.
    let (rows, cols) = ((3 * runs + 30) as u16, 140u16);
    let pair = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut cmd = CommandBuilder::new(&bin);
    // The PTY's child starts in the home folder unless told.
    cmd.cwd(std::env::current_dir()?);
    cmd.arg(&dir);
    cmd.env("TERM", "xterm-256color");
    let probe = Arc::new(Mutex::new(Probe {
        want: (0..runs)
            .map(|k| vec![format!("lr{k:03} "), format!(" {points} ")])
            .collect(),
        seen: None,
    }));
    let start = Instant::now();
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    drop(pair.slave);
    let pid = child.process_id().unwrap_or(0);
    let mut reader = pair
        .master
        .try_clone_reader()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut writer = pair
        .master
        .take_writer()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
    let (p, pr) = (parser.clone(), probe.clone());
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut parser = p.lock().unwrap_or_else(|e| e.into_inner());
            parser.process(&buf[..n]);
            let mut probe = pr.lock().unwrap_or_else(|e| e.into_inner());
            if probe.seen.is_none()
                && !probe.want.is_empty()
                && satisfied(&parser.screen().contents(), &probe.want)
            {
                probe.seen = Some(Instant::now());
            }
        }
    });
    let wait_seen = |limit: Duration| -> Option<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(t) = probe.lock().unwrap_or_else(|e| e.into_inner()).seen {
                return Some(t);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    let limit = num(&args, "--timeout", 600usize) as u64;
    let Some(full) = wait_seen(Duration::from_secs(limit)) else {
        let screen = parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default();
        eprintln!("no full frame in {limit} s; screen:\n{screen}");
        let _ = child.kill();
        std::process::exit(1);
    };
    let startup = full.duration_since(start).as_secs_f64();
    let (rss_start, hwm) = (status_kb(pid, "VmRSS:"), status_kb(pid, "VmHWM:"));

    // Idle: nothing changes; let the last frames settle first.
    std::thread::sleep(Duration::from_secs(3));
    let (c0, t0) = (cpu_ns(pid), Instant::now());
    std::thread::sleep(Duration::from_secs(idle));
    let idle_cpu = (cpu_ns(pid) - c0) as f64 / t0.elapsed().as_nanos() as f64 * 100.0;
    let stats = strace_rates(pid, 10);
    let (nthreads, watches) = (threads(pid), inotify_watches(pid));

    // Latency: a line appended to one run → the screen shows its step in that run's row.
    let mut lat = Vec::new();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for i in 0..appends {
        let k = (i * 37) % runs;
        let step = points + 1 + i as u64;
        {
            let mut pr = probe.lock().unwrap_or_else(|e| e.into_inner());
            pr.want = vec![vec![format!("lr{k:03} "), format!(" {step} ")]];
            pr.seen = None;
        }
        let t = Instant::now();
        let mut f = std::fs::OpenOptions::new().append(true).open(&logs[k])?;
        line(&mut f, step, 0.6)?;
        drop(f);
        match wait_seen(Duration::from_secs(5)) {
            Some(seen) => lat.push(seen.saturating_duration_since(t).as_secs_f64() * 1e3),
            None => eprintln!("append {i} to lr{k:03} not seen in 5 s"),
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::thread::sleep(Duration::from_millis(100 + x % 150));
    }
    lat.sort_by(f64::total_cmp);
    let rss_end = status_kb(pid, "VmRSS:");
    let _ = writer.write_all(b"q");
    let _ = writer.flush();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();

    // The appended lines are taken back out, so the next run reads the same sweep.
    for (log, len) in logs.iter().zip(&lengths) {
        std::fs::OpenOptions::new()
            .write(true)
            .open(log)?
            .set_len(*len)?;
    }

    println!(
        "sweep: {runs} runs × {points} points = {} M points, {:.2} GB ({})",
        runs as u64 * points / 1_000_000,
        bytes as f64 / 1e9,
        dir.display()
    );
    println!(
        "start-up to the first full frame (real binary in a {cols}×{rows} PTY): {startup:.2} s; cat of all files: {cat:.2} s; ratio {:.1}×",
        startup / cat
    );
    println!("idle CPU over {idle} s: {idle_cpu:.3} % of a core (target ≤ 0.3 %)");
    println!(
        "RSS: {:.0} MB after start-up, peak {:.0} MB, {:.0} MB at the end (target ≤ 400 MB)",
        rss_start as f64 / 1024.0,
        hwm as f64 / 1024.0,
        rss_end as f64 / 1024.0
    );
    println!("threads: {nthreads}; inotify watches: {watches}");
    match stats {
        Some((stat, all, top)) => println!(
            "idle syscalls (strace -c -f, 10 s): {stat:.1} stat calls/s, {all:.1} calls/s in all; top: {top}"
        ),
        None => println!("idle syscalls: strace not available"),
    }
    println!(
        "append → screen latency over {} appends: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (target p95 ≤ 50 ms)",
        lat.len(),
        pct(&lat, 0.5),
        pct(&lat, 0.95),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}
