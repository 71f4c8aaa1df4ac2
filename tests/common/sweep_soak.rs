//! The sweep soak, shared by `tests/fault_sweep.rs` (100 runs × 1 000 lines) and
//! `examples/soak_sweep.rs` (100 × 10 000, the 1 M lines of issue 15): the TUI in a
//! pseudo-terminal follows a sweep of growing logs while writer threads append to all of
//! them at once; then every run is shown in turn and its point count read off the status line
//! (`… · N pts`, the live path's own count), and the process's RSS is sampled throughout.
#![allow(dead_code)] // each user takes a different subset

use crate::pty::{rss_kib, Tui};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a soak measured.
#[derive(Debug)]
pub struct Figures {
    pub runs: usize,
    pub lines: u64,
    /// Seconds from the first append to the last point shown.
    pub secs: f64,
    /// VmRSS (KiB): once every run was open, the peak, when the appends ended, when every
    /// point had been shown, and the highest in the two idle seconds after that.
    pub rss_open: u64,
    pub rss_peak: u64,
    pub rss_written: u64,
    pub rss_shown: u64,
    pub rss_after: u64,
    /// Runs whose count was not the lines written (name, what the screen said).
    pub short: Vec<(String, String)>,
}

fn line(step: u64) -> String {
    format!("step={step} gnorm={}\n", 0.5 + (step % 7) as f64 / 10.0)
}

fn name(i: usize) -> String {
    format!("run_{i:03}")
}

/// Runs the soak: `runs` logs of one line each are opened, then `per_run - 1` more lines are
/// appended to each by four writer threads at once, in bursts.
pub fn soak(bin: &Path, sweep: &Path, runs: usize, per_run: u64) -> Figures {
    for i in 0..runs {
        let dir = sweep.join(name(i));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("train.log"), line(1)).unwrap();
    }
    let mut t = Tui::start_bin(
        bin,
        &[sweep.as_os_str(), "--poll-ms".as_ref(), "200".as_ref()],
        120,
        40,
    );
    // The runs panel is up with every run: its header counts them.
    t.wait_until("the runs panel", 60, |s| s.contains("↓instability"));
    std::thread::sleep(Duration::from_millis(500));
    let pid = t.pid();
    let rss_open = rss_kib(pid).unwrap_or(0);
    let peak = Arc::new(Mutex::new(rss_open));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                if let Some(r) = rss_kib(pid) {
                    let mut p = peak.lock().unwrap();
                    *p = (*p).max(r);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let started = Instant::now();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let mine: Vec<_> = (0..runs)
                .filter(|i| i % 4 == w)
                .map(|i| sweep.join(name(i)).join("train.log"))
                .collect();
            std::thread::spawn(move || {
                let mut files: Vec<_> = mine
                    .iter()
                    .map(|p| std::fs::OpenOptions::new().append(true).open(p).unwrap())
                    .collect();
                let mut next = vec![2u64; files.len()];
                let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ w as u64;
                let mut buf = String::new();
                while next.iter().any(|n| *n <= per_run) {
                    for (f, n) in files.iter_mut().zip(&mut next) {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        let burst = 1 + rng % 120;
                        buf.clear();
                        while *n <= per_run && buf.len() < burst as usize * 24 {
                            buf.push_str(&line(*n));
                            *n += 1;
                        }
                        f.write_all(buf.as_bytes()).unwrap();
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let rss_written = rss_kib(pid).unwrap_or(0);
    // Sorted by name, each run shown in turn: its header names it, its status line counts it.
    t.keys("o");
    t.wait_until("sort by name", 10, |s| s.contains("↓name"));
    let mut short = Vec::new();
    let want = format!("step {per_run} ·");
    let count = format!("· {per_run} pts");
    for i in 0..runs {
        let n = name(i);
        if i > 0 {
            t.keys("j");
            std::thread::sleep(Duration::from_millis(20));
            t.keys("\r");
        }
        // Every point was written before the first look: the last run waits for the rest.
        let deadline = Instant::now() + Duration::from_secs(if short.is_empty() { 60 } else { 1 });
        loop {
            let s = t.screen();
            let header = s.lines().nth(1).unwrap_or_default().to_string();
            let status = s
                .lines()
                .rev()
                .find(|l| l.contains(" pts"))
                .unwrap_or_default();
            if header.contains(&format!("/{n}/train.log")) && status.contains(&want) {
                if !status.contains(&count) {
                    short.push((n.clone(), status.to_string()));
                }
                break;
            }
            if Instant::now() > deadline {
                short.push((n.clone(), format!("{header} | {status}")));
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    // After the last point: RSS for another two seconds, idle.
    let rss_shown = rss_kib(pid).unwrap_or(0);
    let mut rss_after = 0;
    for _ in 0..20 {
        rss_after = rss_after.max(rss_kib(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(100));
    }
    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    let rss_peak = *peak.lock().unwrap();
    t.quit_restored();
    Figures {
        runs,
        lines: runs as u64 * per_run,
        secs,
        rss_open,
        rss_peak,
        rss_written,
        rss_shown,
        rss_after,
        short,
    }
}
