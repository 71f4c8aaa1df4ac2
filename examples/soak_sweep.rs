//! Soak, sweep: the TUI (in a pseudo-terminal) follows a sweep of RUNS growing logs while
//! four writer threads append PER_RUN lines to each at once (default 100 × 10 000 = 1 M
//! lines); then every run is shown in turn and its point count read off the status line.
//! Prints the figures (time, VmRSS once open / peak / when the appends ended / when every
//! point was shown / idle after) and exits 1 when a run is short of points or RSS grew once
//! every point was shown. `tests/fault_sweep.rs` runs the same driver at 100 × 1 000.
//!
//! ```sh
//! cargo build --release && cargo run --release --example soak_sweep -- [RUNS] [PER_RUN]
//! ```
//! The binary is taken from beside this example (`target/release/trainwatch`), or from
//! `TRAINWATCH_BIN`.

#[path = "support/mod.rs"]
mod support;

#[path = "../tests/common/pty.rs"]
mod pty;
#[path = "../tests/common/sweep_soak.rs"]
mod sweep_soak;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100);
    let per_run: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let bin = support::trainwatch_bin();
    let dir = tempfile::tempdir().expect("temporary directory");
    println!(
        "soak_sweep: {runs} runs × {per_run} lines, binary {}",
        bin.display()
    );
    let f = sweep_soak::soak(&bin, &dir.path().join("sweep"), runs, per_run.max(2));
    println!(
        "{} lines in {:.1} s; VmRSS open {} KiB, peak {} KiB, appends done {} KiB, all shown {} KiB, idle after {} KiB",
        f.lines, f.secs, f.rss_open, f.rss_peak, f.rss_written, f.rss_shown, f.rss_after
    );
    println!(
        "{:.0} bytes per point held (peak over open)",
        f.rss_peak.saturating_sub(f.rss_open) as f64 * 1024.0 / f.lines as f64
    );
    for (run, said) in &f.short {
        println!("short: {run}: {said}");
    }
    let grew = f.rss_after > f.rss_shown + 1024;
    if grew {
        println!("RSS grew after every point was shown");
    }
    if !f.short.is_empty() || grew {
        std::process::exit(1);
    }
    println!("0 lost");
}
