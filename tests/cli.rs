//! The real binary, headless: `trainwatch gnorm` output and its errors.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainwatch"))
}

mod common;
use common::sample;

#[test]
fn gnorm_json_has_exactly_the_documented_shape() {
    let path = sample("megatron-104B-spikes-bigscience/iteration_lines.log");
    let out = bin()
        .arg("gnorm")
        .arg(&path)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    for k in [
        "source",
        "format",
        "metric",
        "step_kind",
        "clip",
        "points",
        "above_clip",
        "nonfinite",
        "explosions",
        "skipped_lines",
        "restarts",
        "overflows",
    ] {
        assert!(keys.contains(&k), "missing {k} in {keys:?}");
    }
    assert_eq!(v["source"], path.to_string_lossy().as_ref());
    assert_eq!(v["format"], "megatron");
    assert_eq!(v["metric"], "gnorm");
    assert_eq!(v["step_kind"], "step");
    assert_eq!(
        v["clip"],
        serde_json::json!({"value": 1.0, "from": "default"})
    );
    assert_eq!(v["points"].as_array().unwrap().len(), 18);
    assert_eq!(
        v["points"][0],
        serde_json::json!({"step": 7000, "value": 98258.265})
    );
    assert_eq!(v["above_clip"], 18);
    assert_eq!(v["nonfinite"], 0);
    assert_eq!(v["explosions"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["explosions"][0],
        serde_json::json!({"start": 8740, "end": 8743, "peak_step": 8741, "peak": 3273877.676,
            "last_checkpoint": null})
    );
    assert_eq!(v["skipped_lines"], 0);
    assert_eq!(v["restarts"], 2);
    assert_eq!(v["overflows"], 0);
}

/// A run folder: the log beside nested HF checkpoints; each explosion names the newest
/// checkpoint saved before it started, in the JSON and in the report.
#[test]
fn explosions_name_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::copy(
        sample("megatron-104B-spikes-bigscience/iteration_lines.log"),
        run.join("train.log"),
    )
    .unwrap();
    for s in [8000, 8700, 9000] {
        let d = run.join(format!("out/checkpoint-{s}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("model.safetensors"), b"weights").unwrap();
    }
    let out = bin().arg("gnorm").arg(&run).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let good = run.join("out/checkpoint-8700");
    assert_eq!(
        v["explosions"][0]["last_checkpoint"],
        serde_json::json!({"path": good.to_string_lossy(), "step": 8700})
    );
    let out = bin().arg("gnorm").arg(&run).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("last good: ") && text.contains("checkpoint-8700 (40 steps before)"),
        "{text}"
    );
    // `--checkpoint` names them for a log read on its own.
    let out = bin()
        .arg("gnorm")
        .arg(run.join("train.log"))
        .arg("--checkpoint")
        .arg(run.join("out"))
        .arg("--json")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["explosions"][0]["last_checkpoint"]["step"], 8700);
}

#[test]
fn clip_flag_wins_and_nan_is_null() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.log");
    std::fs::write(
        &p,
        "Namespace(clip_norm=5.0)\nstep=1 gnorm=0.5\nstep=2 gnorm=nan\nstep=3 gnorm=bogus\nstep=4 gnorm=2.5\n",
    )
    .unwrap();
    let out = bin()
        .args(["gnorm", "--clip", "2", "--json"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["clip"], serde_json::json!({"value": 2.0, "from": "flag"}));
    assert_eq!(
        v["points"][1],
        serde_json::json!({"step": 2, "value": null})
    );
    assert_eq!(v["nonfinite"], 1);
    assert_eq!(
        v["skipped_lines"], 1,
        "the unreadable value is counted, not charted"
    );
    assert_eq!(v["above_clip"], 1);
    let out = bin().args(["gnorm", "--json"]).arg(&p).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["clip"], serde_json::json!({"value": 5.0, "from": "log"}));
    let out = bin()
        .args(["gnorm", "--clip", "0", "--json"])
        .arg(&p)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["clip"],
        serde_json::json!({"value": null, "from": "flag"})
    );
}

#[test]
fn errors_name_the_file_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.log");
    let out = bin().arg("gnorm").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nope.log") && err.contains("no such file"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    // An empty run directory: one line saying what was looked for.
    let out = bin().arg("gnorm").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing to watch found"), "{err}");
    for looked in [
        "*.log",
        "events.out.tfevents",
        "metrics.csv",
        "trainer_state.json",
    ] {
        assert!(err.contains(looked), "{looked}: {err}");
    }
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    let p = dir.path().join("loss_only.log");
    std::fs::write(
        &p,
        "epoch 1: loss=3.1, ppl=8.8\nepoch 2: loss=3.0, ppl=8.1\n",
    )
    .unwrap();
    let out = bin().arg("gnorm").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("loss_only.log") && err.contains("loss") && err.contains("--metric"),
        "{err}"
    );
}

#[test]
fn summary_reports_format_clip_and_ranked_explosions() {
    let out = bin()
        .arg("gnorm")
        .arg(sample("fairseq-simple-syngec/train.log"))
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("fairseq_simple"), "{s}");
    assert!(s.contains("clip        5 (from the log)"), "{s}");
    assert!(s.contains("1101 gnorm (step 40100 … 150100)"), "{s}");
    let out = bin()
        .arg("gnorm")
        .arg(sample(
            "megatron-104B-spikes-bigscience/iteration_lines.log",
        ))
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    let row = s
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .expect(&s);
    assert!(
        row.contains("8740") && row.contains("8741") && row.contains("3.274e6"),
        "{row}"
    );
    assert!(row.contains("3.4171 → 7.0246"), "loss before/after: {row}");
}

#[test]
fn hostile_bytes_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("evil\x1b]0;pwned\x07.log");
    std::fs::write(&p, "step=1 \x1b]52;c;ZXZpbA==\x07 gnorm=0.5\n").unwrap();
    let out = bin().arg("gnorm").arg(&p).output().unwrap();
    assert!(out.status.success());
    assert!(
        !out.stdout.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}
