//! Fault matrix, sweeps, on the real binary in a pseudo-terminal: a run folder deleted while
//! the sweep is open and a new one created (the TUI keeps running and what it showed, marks
//! the deleted run `gone`, picks the new one up within the folder poll, hands the terminal
//! back), and the soak: 100 runs appended to at once, every point on the live path, memory
//! bounded. The full 1 M-line soak is `examples/soak_sweep.rs` (release build; too slow for
//! a debug test on a loaded 2-core machine): here 100 × 1 000 lines.

#[path = "common/pty.rs"]
mod pty;
#[path = "common/sweep_soak.rs"]
mod sweep_soak;

use pty::Tui;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn log_lines(first: u64, last: u64, value: f64) -> String {
    (first..=last)
        .map(|s| format!("step={s} gnorm={value}\n"))
        .collect()
}

fn append(path: &Path, s: &str) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(s.as_bytes()))
        .unwrap();
}

/// The runs panel's row of run `name` (its cells split on blanks).
fn row(t: &Tui, name: &str) -> Vec<String> {
    t.row_with(&format!(" {name} "))
        .map(|r| {
            let from = r.find(name).unwrap_or(0);
            r[from..].split_whitespace().map(str::to_string).collect()
        })
        .unwrap_or_default()
}

#[test]
fn sweep_run_deleted_while_open_and_a_new_one_created() {
    let d = tempfile::tempdir().unwrap();
    let sweep = d.path().join("sweep");
    for (name, v) in [("run_a", 0.25), ("run_b", 0.5), ("run_c", 0.75)] {
        std::fs::create_dir_all(sweep.join(name)).unwrap();
        std::fs::write(sweep.join(name).join("train.log"), log_lines(1, 20, v)).unwrap();
    }
    let mut t = Tui::start_bin(
        Path::new(env!("CARGO_BIN_EXE_trainwatch")),
        &[sweep.as_os_str(), "--poll-ms".as_ref(), "100".as_ref()],
        120,
        40,
    );
    t.wait_until("three runs at step 20", 30, |_| {
        ["run_a", "run_b", "run_c"]
            .iter()
            .all(|n| row(&t, n).get(2).is_some_and(|s| s == "20"))
    });
    // `run_b` deleted whole while open; `run_d` created; `run_a` goes on.
    std::fs::remove_dir_all(sweep.join("run_b")).unwrap();
    let created = Instant::now();
    std::fs::create_dir_all(sweep.join("run_d")).unwrap();
    std::fs::write(sweep.join("run_d/train.log"), log_lines(1, 30, 1.5)).unwrap();
    append(&sweep.join("run_a/train.log"), &log_lines(21, 25, 0.25));
    t.wait_until("run_d picked up", 20, |_| {
        row(&t, "run_d").get(2).is_some_and(|s| s == "30")
    });
    // Within the sweep folder's poll (SWEEP_POLL, 3 s) and a look at the new log.
    let took = created.elapsed();
    assert!(took < Duration::from_secs(8), "run_d took {took:?}");
    t.wait_until("run_b marked gone, its last step kept", 10, |_| {
        row(&t, "run_b").starts_with(&["run_b".into(), "gone".into(), "20".into(), "0.5".into()])
    });
    t.wait_until("run_a goes on", 10, |_| {
        row(&t, "run_a").get(2).is_some_and(|s| s == "25")
    });
    assert_eq!(row(&t, "run_c")[1..3], ["live", "20"]);
    // The deleted run shown alone still has every point it had.
    t.keys("o");
    t.wait_until("sorted by name", 10, |s| s.contains("↓name"));
    t.keys("j\r");
    t.wait_until("run_b shown", 10, |s| {
        s.lines()
            .nth(1)
            .is_some_and(|l| l.contains("/run_b/train.log"))
            && s.contains("step 20 · gnorm 0.5 · 20 pts")
    });
    // Back: the folder re-created is read again.
    std::fs::create_dir_all(sweep.join("run_b")).unwrap();
    std::fs::write(sweep.join("run_b/train.log"), log_lines(1, 3, 0.5)).unwrap();
    t.wait_until("run_b back", 20, |_| {
        row(&t, "run_b").get(1).is_some_and(|s| s != "gone")
    });
    t.quit_restored();
}

#[test]
fn soak_100_runs_appended_at_once_lose_nothing_in_bounded_memory() {
    let d = tempfile::tempdir().unwrap();
    let (runs, per_run) = (100, 1_000);
    let f = sweep_soak::soak(
        Path::new(env!("CARGO_BIN_EXE_trainwatch")),
        &d.path().join("sweep"),
        runs,
        per_run,
    );
    eprintln!("{f:?}");
    assert_eq!(
        f.short,
        Vec::<(String, String)>::new(),
        "runs short of points"
    );
    // Memory: bounded by what is held — at most 256 bytes per point over the RSS once the
    // runs were open, plus 16 MiB of read buffers (measured: ~85 bytes per point, here and
    // at 1 M lines) — and flat once every point is shown.
    let held = f.lines * 256 / 1024;
    assert!(
        f.rss_peak <= f.rss_open + held + 16 * 1024,
        "peak {} KiB, open {} KiB",
        f.rss_peak,
        f.rss_open
    );
    assert!(
        f.rss_after <= f.rss_shown + 1024,
        "RSS grew once every point was shown: {f:?}"
    );
}
