//! Bytes on the wire (issue 14): what the real binary writes to a 120×40 pseudo-terminal for
//! each point appended to a followed fairseq `simple` log, after the start-up frames have
//! settled; and, before the appends, what an idle screen writes per second (the "updated …
//! ago" clock). Every byte range is decoded by [`trainwatch::tui::wire::WireStats`]: text,
//! cursor moves, SGR (colour) sets, mode switches (synchronized updates, cursor hiding).
//!
//! Cases: histories of 1 k and 100 k points; the terminal's colours as `--color auto` finds
//! them (truecolor by `COLORTERM`, 256 colours, `NO_COLOR`); and a history with explosions,
//! so the events panel beside the chart lists them; and a window zoomed in to one point per
//! column that follows the newest point.
//!
//! Run: `cargo build --release && cargo run --release --example bench_wire
//! [-- --points 1000,100000 --appends 200 --interval-ms 100 --idle-secs 10 --only NAME --dump N]`.
//! The logs are written to `target/bench-wire/`.

#[path = "support/mod.rs"]
mod support;
use support::arg;

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trainwatch::tui::wire::WireStats;

const COLS: u16 = 120;
const ROWS: u16 = 40;

/// One fairseq 0.12 `simple` train_inner line; a spike now and then when `spikes`.
fn line(out: &mut impl Write, update: u64, x: &mut u64, spikes: bool) -> std::io::Result<()> {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    let noise = (*x >> 11) as f64 / (1u64 << 53) as f64;
    let mut gnorm = 0.4 + 0.3 * noise;
    if spikes && (update / 100).is_multiple_of(397) {
        gnorm *= 60.0;
    }
    writeln!(
        out,
        "2026-12-01 07:36:40 | INFO | train_inner | epoch {:03}: {:>6} / 1000 loss=3.147, nll_loss=1.236, ppl=8.86, wps=72384.3, ups=1.21, wpb=59997.9, bsz=2186.3, num_updates={update}, lr=0.000157917, gnorm={gnorm:.3}, clip=0, loss_scale=32768, train_wall=48, wall=0",
        update / 1000 + 1,
        update % 1000 + 1
    )
}

/// The history: `points` lines of updates 100, 200, …; returns the next update and the
/// generator's state.
fn write_history(path: &Path, points: u64, spikes: bool) -> std::io::Result<(u64, u64)> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        w,
        "2026-12-01 07:36:36 | INFO | fairseq_cli.train | Namespace(clip_norm=5.0, lr=[0.0005])"
    )?;
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in 1..=points {
        line(&mut w, 100 * i, &mut x, spikes)?;
    }
    w.flush()?;
    Ok((100 * (points + 1), x))
}

/// Everything the program wrote so far, and the screen it draws.
struct Capture {
    raw: Arc<Mutex<Vec<u8>>>,
    parser: Arc<Mutex<vt100::Parser>>,
}

impl Capture {
    fn len(&self) -> usize {
        self.raw.lock().map_or(0, |r| r.len())
    }
    fn bytes(&self, a: usize, b: usize) -> Vec<u8> {
        self.raw.lock().map_or(Vec::new(), |r| r[a..b].to_vec())
    }
    fn screen(&self) -> String {
        self.parser
            .lock()
            .map_or(String::new(), |p| p.screen().contents())
    }
    /// Waits for `what` on screen (at most `secs`).
    fn wait_for(&self, what: &str, secs: u64) -> bool {
        let until = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < until {
            if self.screen().contains(what) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

struct Case {
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    spikes: bool,
    /// Keys pressed once the history is shown.
    keys: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "truecolor",
        env: &[("COLORTERM", "truecolor")],
        spikes: false,
        keys: "",
    },
    Case {
        name: "256",
        env: &[],
        spikes: false,
        keys: "",
    },
    Case {
        name: "NO_COLOR",
        env: &[("NO_COLOR", "1")],
        spikes: false,
        keys: "",
    },
    Case {
        name: "explosions",
        env: &[("COLORTERM", "truecolor")],
        spikes: true,
        keys: "",
    },
    Case {
        name: "zoomed",
        env: &[("COLORTERM", "truecolor")],
        spikes: false,
        // Zoomed in to one point per column, following the newest.
        keys: "++++++++++++++",
    },
];

struct Opts {
    appends: usize,
    interval: Duration,
    idle: u64,
    /// Print the first `dump` appends' bytes.
    dump: usize,
}

struct Measured {
    per_point: Vec<usize>,
    sum: WireStats,
    idle_per_sec: f64,
    idle: WireStats,
}

fn run_case(case: &Case, points: u64, opts: &Opts) -> Measured {
    let (appends, interval, idle, dump) = (opts.appends, opts.interval, opts.idle, opts.dump);
    let dir = std::env::current_dir()
        .expect("the working directory")
        .join("target/bench-wire");
    std::fs::create_dir_all(&dir).expect("creating target/bench-wire");
    let log = dir.join(format!("{}-{points}.log", case.name));
    let (mut update, mut x) = write_history(&log, points, case.spikes).expect("writing the log");
    let last = format!("step {}", update - 100);

    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("openpty");
    // Absolute: the pty's command is looked up on PATH otherwise.
    let bin = support::trainwatch_bin();
    let mut cmd = CommandBuilder::new(std::fs::canonicalize(&bin).unwrap_or(bin));
    cmd.arg(&log);
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("NO_COLOR");
    cmd.env_remove("COLORTERM");
    for (k, v) in case.env {
        cmd.env(k, v);
    }
    let mut child = pair.slave.spawn_command(cmd).expect("spawning trainwatch");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    let mut keys = pair.master.take_writer().expect("pty writer");
    let cap = Capture {
        raw: Arc::new(Mutex::new(Vec::new())),
        parser: Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0))),
    };
    let (raw, parser) = (cap.raw.clone(), cap.parser.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut p) = parser.lock() {
                p.process(&buf[..n]);
            }
            if let Ok(mut r) = raw.lock() {
                r.extend_from_slice(&buf[..n]);
            }
        }
    });
    if !cap.wait_for(&last, 60) {
        eprintln!("{} never appeared; screen:\n{}", last, cap.screen());
        std::process::exit(1);
    }
    for k in case.keys.bytes() {
        let _ = keys.write_all(&[k]);
        let _ = keys.flush();
        std::thread::sleep(Duration::from_millis(50));
    }
    // Settled: the start-up frames are out, the clock ticks on.
    std::thread::sleep(Duration::from_millis(1500));
    let a = cap.len();
    std::thread::sleep(Duration::from_secs(idle));
    let idle_bytes = cap.bytes(a, cap.len());

    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("opening the log to append");
    let mut marks = Vec::with_capacity(appends + 1);
    for _ in 0..appends {
        marks.push(cap.len());
        line(&mut f, update, &mut x, false).expect("appending");
        f.flush().ok();
        update += 100;
        std::thread::sleep(interval);
    }
    marks.push(cap.len());
    let shown = cap.wait_for(&format!("step {}", update - 100), 5);
    if dump > 0 {
        println!("{}", cap.screen());
    }
    let _ = keys.write_all(b"q");
    let _ = keys.flush();
    let _ = child.wait();
    if !shown {
        eprintln!("the last append never appeared; screen:\n{}", cap.screen());
    }
    let mut per_point = Vec::new();
    let mut sum = WireStats::default();
    for (k, w) in marks.windows(2).enumerate() {
        let b = cap.bytes(w[0], w[1]);
        if k < dump {
            println!("append {k}: {}", String::from_utf8_lossy(&b).escape_debug());
        }
        per_point.push(b.len());
        sum = sum.plus(&WireStats::of(&b));
    }
    Measured {
        per_point,
        sum,
        idle_per_sec: idle_bytes.len() as f64 / idle as f64,
        idle: WireStats::of(&idle_bytes),
    }
}

fn pct(sorted: &[usize], p: f64) -> usize {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let points: Vec<u64> = arg(&args, "--points")
        .unwrap_or("1000,100000")
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let appends: usize = arg(&args, "--appends")
        .unwrap_or("200")
        .parse()
        .unwrap_or(200)
        .max(1);
    let interval = Duration::from_millis(
        arg(&args, "--interval-ms")
            .unwrap_or("100")
            .parse()
            .unwrap_or(100),
    );
    let idle: u64 = arg(&args, "--idle-secs")
        .unwrap_or("10")
        .parse()
        .unwrap_or(10)
        .max(1);
    let only = arg(&args, "--only").unwrap_or("");
    let dump: usize = arg(&args, "--dump").unwrap_or("0").parse().unwrap_or(0);
    let opts = Opts {
        appends,
        interval,
        idle,
        dump,
    };
    println!(
        "bytes written to a {COLS}×{ROWS} pty per appended point ({appends} appends, {} ms apart), binary {}",
        interval.as_millis(),
        support::trainwatch_bin().display()
    );
    println!(
        "{:<11} {:>7} | {:>6} {:>5} {:>5} {:>5} | {:>6} {:>6} {:>6} {:>6} {:>5} | {:>7} {:>6}",
        "case",
        "points",
        "mean",
        "p50",
        "p95",
        "max",
        "text",
        "moves",
        "sgr",
        "modes",
        "frm",
        "idle/s",
        "idle#"
    );
    for case in CASES.iter().filter(|c| only.is_empty() || c.name == only) {
        for &n in &points {
            let m = run_case(case, n, &opts);
            let mut s = m.per_point.clone();
            s.sort_unstable();
            let k = m.per_point.len().max(1) as f64;
            let mean = m.per_point.iter().sum::<usize>() as f64 / k;
            println!(
                "{:<11} {:>7} | {:>6.0} {:>5} {:>5} {:>5} | {:>6.0} {:>6.0} {:>6.0} {:>6.0} {:>5.2} | {:>7.0} {:>6.0}",
                case.name,
                n,
                mean,
                pct(&s, 0.5),
                pct(&s, 0.95),
                s.last().copied().unwrap_or(0),
                m.sum.text as f64 / k,
                m.sum.moves as f64 / k,
                m.sum.sgr as f64 / k,
                m.sum.modes as f64 / k,
                m.sum.frames as f64 / k,
                m.idle_per_sec,
                m.idle.frames as f64 / idle as f64,
            );
        }
    }
    println!("text/moves/sgr/modes: mean bytes per point of each kind; frm: frames wrapped in a synchronized update per point; idle#: the same per idle second");
}
