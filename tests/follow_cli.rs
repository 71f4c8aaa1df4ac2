//! The fault matrix, on the real binary: `trainwatch gnorm LOG --follow --jsonl` reads a log
//! that is created late, truncated, replaced, deleted, written in pieces, flooded, and fed
//! junk. Each test keeps every stdout line and compares the whole sequence at the end:
//! nothing lost, nothing counted twice. Deadlines are failure timeouts only.

use serde_json::{json, Value};
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

#[path = "common/follow.rs"]
mod follow;
use follow::{Follow, DEADLINE};

fn append(path: &Path, s: impl AsRef<[u8]>) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(s.as_ref()).unwrap();
    f.flush().unwrap();
}

fn lines(from: u64, to: u64, value: f64) -> String {
    (from..=to)
        .map(|s| format!("step={s} gnorm={value}\n"))
        .collect()
}

fn points(from: u64, to: u64, value: f64) -> Vec<Value> {
    (from..=to)
        .map(|s| json!({"step": s, "value": value}))
        .collect()
}

fn restart() -> Value {
    json!({"event": "restart"})
}

fn log_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("train.log")
}

fn cat(parts: Vec<Vec<Value>>) -> Vec<Value> {
    parts.into_iter().flatten().collect()
}

#[test]
fn log_not_yet_created_is_waited_for() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    let mut f = Follow::start(&log, &[]);
    f.until_stderr("waiting");
    append(&log, lines(1, 3, 0.5));
    f.until_lines(3);
    append(&log, lines(4, 5, 0.5));
    f.until_lines(5);
    let (seen, err) = f.finish();
    assert_eq!(seen, points(1, 5, 0.5));
    assert_eq!(err.matches("waiting").count(), 1, "{err}");
    // The summary goes to stderr in --jsonl mode.
    assert!(err.contains("points      5 gnorm"), "{err}");
}

#[test]
fn truncated_to_zero_and_rewritten() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    append(&log, lines(1, 10, 0.5));
    let mut f = Follow::start(&log, &[]);
    f.until_lines(10);
    fs::write(&log, "").unwrap();
    append(&log, lines(1, 3, 0.25));
    f.until_lines(14);
    append(&log, lines(4, 4, 0.25));
    f.until_lines(15);
    let (seen, err) = f.finish();
    assert_eq!(
        seen,
        cat(vec![
            points(1, 10, 0.5),
            vec![restart()],
            points(1, 4, 0.25)
        ])
    );
    assert!(err.contains("restarts 1"), "{err}");
}

#[test]
fn replaced_by_rename_reads_the_old_tail_then_the_new_file() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    append(&log, lines(1, 5, 0.5));
    let mut f = Follow::start(&log, &[]);
    f.until_lines(5);
    // Lines appended to the old file just before it is replaced still count.
    append(&log, lines(6, 7, 0.5));
    let tmp = d.path().join("train.log.new");
    append(&tmp, lines(100, 102, 0.75));
    fs::rename(&tmp, &log).unwrap();
    f.until_lines(11);
    let (seen, _) = f.finish();
    assert_eq!(
        seen,
        cat(vec![
            points(1, 7, 0.5),
            vec![restart()],
            points(100, 102, 0.75)
        ])
    );
}

#[test]
fn deleted_and_recreated() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    append(&log, lines(1, 4, 0.5));
    let mut f = Follow::start(&log, &[]);
    f.until_lines(4);
    fs::remove_file(&log).unwrap();
    f.until_stderr("waiting");
    append(&log, lines(1, 2, 0.125));
    f.until_lines(7);
    let (seen, _) = f.finish();
    assert_eq!(
        seen,
        cat(vec![
            points(1, 4, 0.5),
            vec![restart()],
            points(1, 2, 0.125)
        ])
    );
}

#[test]
fn last_line_written_in_three_pieces_is_one_point() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    append(&log, lines(1, 2, 0.5));
    let mut f = Follow::start(&log, &[]);
    f.until_lines(2);
    for piece in ["step=3 gn", "orm=0.", "875\n"] {
        append(&log, piece);
        // Several polls see each piece.
        std::thread::sleep(Duration::from_millis(250));
    }
    f.until_lines(3);
    append(&log, lines(4, 4, 0.5));
    f.until_lines(4);
    let (seen, _) = f.finish();
    assert_eq!(
        seen,
        cat(vec![
            points(1, 2, 0.5),
            points(3, 3, 0.875),
            points(4, 4, 0.5)
        ])
    );
}

/// Peak resident memory of a process, in KiB.
fn vm_hwm_kib(pid: u32) -> u64 {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn overlong_line(mib: usize) {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    append(&log, lines(1, 1, 0.5));
    let mut f = Follow::start(&log, &[]);
    f.until_lines(1);
    let hwm_before = vm_hwm_kib(f.child.id());
    // The huge line is written in 1 MiB pieces, as a runaway print would be, then more points.
    let chunk = vec![b'x'; 1 << 20];
    let mut file = OpenOptions::new().append(true).open(&log).unwrap();
    file.write_all(b"step=2 gnorm=0.5 ").unwrap();
    for _ in 0..mib {
        file.write_all(&chunk).unwrap();
    }
    file.write_all(b"\n").unwrap();
    drop(file);
    append(&log, lines(3, 4, 0.5));
    f.until_lines(3);
    let hwm_after = vm_hwm_kib(f.child.id());
    let (seen, err) = f.finish();
    assert_eq!(seen, cat(vec![points(1, 1, 0.5), points(3, 4, 0.5)]));
    assert!(err.contains("skipped lines 1"), "{err}");
    // The line is never held whole: the peak grows by far less than its size.
    assert!(
        hwm_after < hwm_before + 32 * 1024,
        "peak RSS {hwm_before} KiB → {hwm_after} KiB for a {mib} MiB line"
    );
}

#[test]
fn one_mib_line_is_skipped_and_counted() {
    overlong_line(1);
}

/// 100 MiB written to a temporary file: under a second here.
#[test]
fn hundred_mib_line_is_skipped_with_bounded_memory() {
    overlong_line(100);
}

#[test]
fn nul_bytes_and_invalid_utf8_do_not_lose_or_invent_points() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    append(&log, lines(1, 1, 0.5));
    let mut f = Follow::start(&log, &[]);
    f.until_lines(1);
    append(&log, b"\0\0\0\0\n\xff\xfe\xfd garbage \xc3\x28\n");
    append(&log, b"step=2 \xff\xfe gnorm=0.25\n");
    append(&log, b"\0\0\0\0\0\0\0\0\0\0\0\0");
    append(&log, b"\nstep=3 gnorm=0.375\n");
    f.until_lines(3);
    let (seen, _) = f.finish();
    assert_eq!(
        seen,
        cat(vec![
            points(1, 1, 0.5),
            points(2, 2, 0.25),
            points(3, 3, 0.375)
        ])
    );
}

#[test]
fn tqdm_carriage_return_flood_between_two_dict_lines_is_two_points() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    fs::write(&log, "").unwrap();
    let mut f = Follow::start(&log, &[]);
    f.until_stderr("following");
    append(
        &log,
        "{'loss': 2.5, 'grad_norm': 0.5, 'learning_rate': 5e-05, 'epoch': 0.01}\n",
    );
    f.until_lines(1);
    let mut flood = String::new();
    for i in 0..100_000u32 {
        let pct = i / 1000;
        flood.push_str(&format!(
            "\r {pct:>3}%|{:<10}| {i}/100000 [00:{:02}<00:10, 9.52it/s]",
            "█".repeat((pct / 10) as usize),
            i % 60
        ));
    }
    // In pieces, as tqdm writes: the follower sees partial frames.
    for piece in flood.as_bytes().chunks(1 << 18) {
        append(&log, piece);
    }
    append(
        &log,
        "\n{'loss': 2.25, 'grad_norm': 0.75, 'learning_rate': 4e-05, 'epoch': 0.02}\n",
    );
    f.until_lines(2);
    let (seen, err) = f.finish();
    assert_eq!(
        seen,
        vec![
            json!({"step": 1, "value": 0.5}),
            json!({"step": 2, "value": 0.75})
        ]
    );
    assert!(err.contains("skipped lines 0"), "{err}");
}

#[test]
fn nan_and_inf_are_null() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    append(&log, "step=1 gnorm=nan\nstep=2 gnorm=inf\n");
    let mut f = Follow::start(&log, &[]);
    f.until_lines(2);
    append(
        &log,
        "step=3 gnorm=-inf\nstep=4 gnorm=NaN\nstep=5 gnorm=0.5\n",
    );
    f.until_lines(5);
    // SIGHUP (the SSH link drops) ends it like SIGTERM.
    let (seen, err) = f.finish_with("-HUP");
    let want: Vec<Value> = (1..=4)
        .map(|s| json!({"step": s, "value": null}))
        .chain([json!({"step": 5, "value": 0.5})])
        .collect();
    assert_eq!(seen, want);
    assert!(err.contains("non-finite 4"), "{err}");
}

#[test]
fn explosion_opens_once_and_runs_the_alert_with_its_environment() {
    let d = tempfile::tempdir().unwrap();
    // A file name that would run a command if it were ever interpolated into shell text.
    let log = d.path().join("run $(touch PWNED) `touch PWNED2`.log");
    append(&log, lines(1, 20, 0.5));
    let out = d.path().join("alerts.txt");
    let cmd = format!(
        "printf '%s|%s|%s\\n' \"$TRAINWATCH_STEP\" \"$TRAINWATCH_PEAK\" \"$TRAINWATCH_FILE\" >> '{}'",
        out.display()
    );
    let mut f = Follow::start(&log, &["--alert-cmd", &cmd]);
    f.until_lines(20);
    // Two exploding points close together are one event; its peak is the first point's value
    // when it opens.
    append(
        &log,
        "step=21 gnorm=40\nstep=22 gnorm=80\nstep=23 gnorm=0.5\n",
    );
    f.until_lines(24);
    let (seen, _) = f.finish();
    assert_eq!(
        seen[20..],
        [
            json!({"step": 21, "value": 40.0}),
            json!({"event": "explosion", "start": 21, "peak_step": 21, "peak": 40.0}),
            json!({"step": 22, "value": 80.0}),
            json!({"step": 23, "value": 0.5}),
        ]
    );
    let deadline = Instant::now() + DEADLINE;
    while !out.exists() {
        assert!(Instant::now() < deadline, "the alert command never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let text = fs::read_to_string(&out).unwrap();
    assert_eq!(text, format!("21|40|{}\n", log.display()));
    assert!(!Path::new("PWNED").exists() && !d.path().join("PWNED").exists());
    assert!(!Path::new("PWNED2").exists() && !d.path().join("PWNED2").exists());
}

#[test]
fn sigint_ends_human_mode_with_the_summary_on_stdout() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    append(&log, lines(1, 3, 0.5));
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg("gnorm")
        .arg(&log)
        .args(["--follow", "--poll-ms", "50"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first, "step 1  gnorm 0.5\n");
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        rest.starts_with("step 2  gnorm 0.5\nstep 3  gnorm 0.5\n"),
        "{rest}"
    );
    assert!(rest.contains("points      3 gnorm"), "{rest}");
}

#[test]
fn closed_stdout_ends_it_quietly() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    append(&log, lines(1, 3, 0.5));
    let mut f = Follow::start(&log, &[]);
    f.until_lines(1);
    // The reader goes away (`| head -1`): the next write fails with EPIPE.
    drop(std::mem::replace(&mut f.lines, channel().1));
    let deadline = Instant::now() + DEADLINE;
    for step in 4.. {
        // Keep writing: once the reader thread notices, the pipe closes and a write fails.
        append(&log, lines(step, step, 0.5));
        if let Some(s) = f.child.try_wait().unwrap() {
            assert!(s.success(), "{s}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "did not stop after stdout closed"
        );
        std::thread::sleep(Duration::from_millis(60));
    }
}

#[test]
fn a_stalled_reader_loses_nothing() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    fs::write(&log, "").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg("gnorm")
        .arg(&log)
        .args(["--follow", "--jsonl", "--poll-ms", "50"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Far more than a pipe holds, written while nobody reads: the follower must wait, not
    // drop lines or queue the whole log in memory.
    let n = 300_000;
    append(&log, lines(1, n, 0.5));
    std::thread::sleep(Duration::from_millis(500));
    let hwm = vm_hwm_kib(child.id());
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut count = 0u64;
    let mut line = String::new();
    while count < n {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "stdout ended early");
        count += 1;
        assert_eq!(line, format!("{{\"step\":{count},\"value\":0.5}}\n"));
    }
    let _ = child.kill();
    let _ = child.wait();
    eprintln!("peak RSS while stalled: {hwm} KiB");
    // A gross bound only (measured ~22 MB): the series itself holds every point.
    assert!(hwm < 96 * 1024, "peak RSS {hwm} KiB while stalled");
}

#[test]
fn a_second_sigterm_ends_it_even_when_stdout_is_blocked() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    // Enough output to fill the pipe, which nobody reads: the follower blocks in write().
    append(&log, lines(1, 100_000, 0.5));
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg("gnorm")
        .arg(&log)
        .args(["--follow", "--jsonl", "--poll-ms", "50"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the main thread really sits in a pipe write (the kernel's wait channel).
    let wchan = format!("/proc/{0}/task/{0}/wchan", child.id());
    let deadline = Instant::now() + DEADLINE;
    loop {
        let w = fs::read_to_string(&wchan).unwrap_or_default();
        if w.contains("pipe_write") {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            // Some kernels hide the wait channel ("0"): nothing to test there.
            assert!(
                w.is_empty() || w == "0",
                "never blocked in a pipe write: {w}"
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = |sig: &str| {
        Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap()
    };
    kill("-TERM");
    std::thread::sleep(Duration::from_millis(200));
    kill("-TERM");
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "a second SIGTERM did not end it");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(128 + 15), "{status}");
}

#[test]
fn human_mode_says_explosions_and_restarts_in_plain_lines() {
    let d = tempfile::tempdir().unwrap();
    let log = log_in(&d);
    append(&log, lines(1, 10, 0.5));
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg("gnorm")
        .arg(&log)
        .args(["--follow", "--poll-ms", "50"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut next = || {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        l
    };
    for s in 1..=10 {
        assert_eq!(next(), format!("step {s}  gnorm 0.5\n"));
    }
    append(&log, "step=11 gnorm=40\n");
    assert_eq!(next(), "step 11  gnorm 40\n");
    assert_eq!(
        next(),
        "!! EXPLOSION at step 11: gnorm 40 (80.0× the median before it)\n"
    );
    fs::write(&log, "").unwrap();
    append(&log, "step=1 gnorm=0.25\n");
    assert_eq!(
        next(),
        "-- log truncated: reading it from the start as a new run --\n"
    );
    assert_eq!(next(), "step 1  gnorm 0.25\n");
    let _ = child.kill();
    let _ = child.wait();
}
