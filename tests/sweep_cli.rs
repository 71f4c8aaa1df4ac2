//! Sweeps, headless: `gnorm SWEEP_DIR` ranks the runs, `--json` writes one line per run,
//! `check` says which runs are out of bounds in its exit code. The sweep is built from the
//! real sample logs (../shared/samples) copied into a temporary folder.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::sample;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainwatch"))
}

fn copy(from: &str, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(sample(from), to).unwrap();
}

/// `calm/` (fairseq, never above its clip), `spiky/` (Megatron, a 3.3e6 explosion) and `hf/`
/// (an HF output_dir: the trainer state in its checkpoint folder).
fn sweep() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy(
        "fairseq-simple-syngec/train.log",
        &root.join("calm/train.log"),
    );
    copy(
        "megatron-104B-spikes-bigscience/iteration_lines.log",
        &root.join("spiky/logs/train.log"),
    );
    copy(
        "hf-trainer-state-tinyllama/trainer_state.json",
        &root.join("hf/checkpoint-5/trainer_state.json"),
    );
    dir
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    bin().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn gnorm_on_a_sweep_ranks_every_run_by_instability() {
    let dir = sweep();
    let out = run(&["gnorm".as_ref(), dir.path().as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let order: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .take(3)
        .collect();
    assert_eq!(order, ["spiky", "hf", "calm"], "{text}");
    assert!(
        text.contains("score = 10×explosions"),
        "the score is said: {text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 runs under"));
}

#[test]
fn gnorm_json_writes_one_object_per_run_with_its_name() {
    let dir = sweep();
    let out = run(&["gnorm".as_ref(), dir.path().as_os_str(), "--json".as_ref()]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = lines.iter().map(|v| v["run"].as_str().unwrap()).collect();
    assert_eq!(names, ["calm", "hf", "spiky"]);
    assert_eq!(lines[2]["explosions"].as_array().unwrap().len(), 1);
    assert_eq!(lines[0]["points"].as_array().unwrap().len(), 1101);

    // One run named in the sweep: exactly the single-run output, no "run" key.
    let one = dir.path().join("calm/train.log");
    let a = run(&["gnorm".as_ref(), one.as_os_str(), "--json".as_ref()]);
    let b = run(&[
        "gnorm".as_ref(),
        sample("fairseq-simple-syngec/train.log").as_os_str(),
        "--json".as_ref(),
    ]);
    let strip = |o: &Output| stdout(o).replacen(&*one.to_string_lossy(), "X", 1);
    let b_text = stdout(&b).replacen(
        &*sample("fairseq-simple-syngec/train.log").to_string_lossy(),
        "X",
        1,
    );
    assert_eq!(strip(&a), b_text);
    assert!(!stdout(&a).contains("\"run\""));
}

#[test]
fn several_paths_are_read_together() {
    let dir = sweep();
    let out = run(&[
        "gnorm".as_ref(),
        dir.path().join("calm").as_os_str(),
        dir.path().join("spiky/logs/train.log").as_os_str(),
    ]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("spiky/logs/train.log") && text.contains(" calm "),
        "{text}"
    );
}

#[test]
fn check_exit_codes_calm_exploding_and_errors() {
    let dir = sweep();
    let calm = dir.path().join("calm");
    let out = run(&["check".as_ref(), calm.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("ok    calm  0 explosions · 0 non-finite · 0.0% above clip"));

    let out = run(&["check".as_ref(), dir.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("FAIL  spiky  1 explosions"), "{text}");
    assert!(text.contains("1 explosions > --max-explosions 0"), "{text}");

    let out = run(&[
        "check".as_ref(),
        dir.path().as_os_str(),
        "--max-explosions".as_ref(),
        "1".as_ref(),
        "--max-clipped".as_ref(),
        "50".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("> --max-clipped 50"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("FAIL  calm"));

    let missing = dir.path().join("nope.log");
    let out = run(&["check".as_ref(), calm.as_os_str(), missing.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("error nope.log"), "{}", stdout(&out));
}

#[test]
fn the_sweep_table_says_how_a_run_ended_and_nothing_for_one_still_going() {
    let dir = sweep();
    // fairseq's own log of a run that ended: its last line is "done training".
    copy(
        "pytorch-fairseq-learned/train-learned.log",
        &dir.path().join("done/train.log"),
    );
    let out = run(&["gnorm".as_ref(), dir.path().as_os_str()]);
    assert!(out.status.success());
    let text = stdout(&out);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().ends_with("score  status"), "{text}");
    let row = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("a row for {name}: {text}"))
    };
    assert!(row("done").ends_with("  finished"), "{text}");
    for going in ["calm", "spiky"] {
        let last = row(going).split_whitespace().last().unwrap();
        assert!(last.parse::<f64>().is_ok(), "no status for {going}: {text}");
    }
}
