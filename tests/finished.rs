//! A run's end, as its source says it, on the real samples of ../shared/samples and the
//! fixtures written by the real wandb and mlflow packages (tests/fixtures/*/make_fixtures.py):
//! the frameworks' end lines, W&B `exit` records, MLflow run status, trainer states at
//! `max_steps`; the tracker's name for the run; a finished run that restarts is live again;
//! the runs panel with a finished run (TestBackend snapshot).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use trainwatch::core::{RunEnd, RunLabel};
use trainwatch::ingest::follow::IngestEvent;
use trainwatch::ingest::SourceSpec;
use trainwatch::run::{read_once, Run, RunData, RunId, RunStatus, Workspace};
use trainwatch::tui::runs_table::RunsPanel;
use trainwatch::tui::{App, ColorMode, Theme};

mod common;
use common::sample;

const WANDB: &str = "wandb-offline/offline-run-20261201_071111-odlwprk3/run-odlwprk3.wandb";
const MLFLOW: &str = "mlflow-filestore/mlruns/453133224139511400/36153c248699462fa33acf0b70deae5b";

fn read(p: &Path) -> RunData {
    read_once(&SourceSpec::new(p)).unwrap()
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

#[test]
fn text_logs_that_print_their_end_line_are_finished() {
    // fairseq 0.12 `done training in 41.7 seconds`; the FSDP README's log ends the same way.
    for s in [
        "pytorch-fairseq-learned/train-learned.log",
        "fairseq-fsdp-json/extracted_log_lines.log",
    ] {
        assert_eq!(read(&sample(s)).finished, Some(RunEnd::Finished), "{s}");
    }
    // Cut off mid-validation, killed by Ctrl-C, or a framework that prints no end line.
    for s in [
        "fairseq-simple-syngec/train.log",
        "wild/hf4-trainer-lmsys/train.log",
        "wild/buildnanogpt-fineweb/nanogpt-train-1806877.out",
        "megatron-ds-gpt2-bigscience/meg_ds_3d_gpt2_perf_n16-ds-off.out",
    ] {
        assert_eq!(read(&sample(s)).finished, None, "{s}");
    }
}

#[test]
fn trainer_states_at_max_steps_are_finished() {
    // global_step 12030 of max_steps 12030; the TinyLlama state stopped at 2800 of 2808.
    let viz = read(&sample("hf-trainer-state-viz/trainer_state.json"));
    assert_eq!(viz.finished, Some(RunEnd::Finished));
    let tiny = read(&sample("hf-trainer-state-tinyllama/trainer_state.json"));
    assert_eq!(tiny.finished, None);
}

#[test]
fn trackers_say_the_end_and_the_name() {
    // wandb 0.31.0 offline: the exit record (code 0) and the run record's id.
    let w = read(&sample(WANDB));
    assert_eq!(w.finished, Some(RunEnd::Finished));
    let label = w.label.expect("the run record");
    assert_eq!(label.id.as_deref(), Some("odlwprk3"));
    // A killed run writes no exit record.
    assert_eq!(read(&fixture("wandb/killed.wandb")).finished, None);
    // mlflow-skinny 3.17.2 file store: `status: 3` in meta.yaml, tags/mlflow.runName.
    let m = read(&sample(MLFLOW));
    assert_eq!(m.finished, Some(RunEnd::Finished));
    assert_eq!(
        m.label,
        Some(RunLabel {
            name: Some("every-step".into()),
            id: None,
        })
    );
    // The SQLite store: runs.status FINISHED, runs.name.
    let db = read(&fixture("mlflow/mlflow.db"));
    assert_eq!(db.finished, Some(RunEnd::Finished));
    assert_eq!(db.label.and_then(|l| l.name).as_deref(), Some("clipped"));
}

#[test]
fn gnorm_json_says_finished() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .args(["gnorm", "--json"])
        .arg(sample("pytorch-fairseq-learned/train-learned.log"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["finished"], true);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .args(["gnorm", "--json"])
        .arg(sample("fairseq-simple-syngec/train.log"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["finished"], false);
}

#[test]
fn a_finished_log_rewritten_by_a_new_job_is_live_again() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("train.log");
    let text =
        std::fs::read_to_string(sample("pytorch-fairseq-learned/train-learned.log")).unwrap();
    std::fs::write(&log, &text).unwrap();
    let watch = trainwatch::watch::WatchService::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, rx) = crossbeam_channel::unbounded();
    trainwatch::ingest::follow::spawn_in(
        &watch,
        SourceSpec::new(&log),
        Duration::from_millis(50),
        tx,
        stop.clone(),
    )
    .unwrap();
    let mut data = RunData::empty(&SourceSpec::new(&log));
    let until = |data: &mut RunData, what: &str, cond: &dyn Fn(&RunData) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cond(data) {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev: IngestEvent = rx.recv_timeout(left).unwrap_or_else(|_| panic!("{what}"));
            data.apply(ev);
        }
    };
    until(&mut data, "finished", &|d| d.finished.is_some());
    // The job starts again and rewrites its log: its first lines only, no end line.
    let first: String = text.lines().take(30).map(|l| format!("{l}\n")).collect();
    assert!(!first.contains("done training"));
    std::fs::write(&log, first).unwrap();
    until(&mut data, "the restart", &|d| {
        d.file_restarts > 0 && !d.steps.is_empty()
    });
    assert_eq!(data.finished, None);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// A sweep of a finished fairseq run, the cut-off syngec log and the MLflow sample run, read
/// to its end as `trainwatch SWEEP` shows it.
fn finished_sweep() -> App {
    let runs = [
        ("done", sample("pytorch-fairseq-learned/train-learned.log")),
        ("cut-off", sample("fairseq-simple-syngec/train.log")),
        ("mlruns/every-step", sample(MLFLOW)),
    ];
    let mut ws = Workspace::default();
    let mut first = None;
    for (name, path) in runs {
        let spec = SourceSpec::new(&path);
        let mut r = Run::new(spec.clone(), None);
        let mut data = read_once(&spec).unwrap();
        data.source = PathBuf::from(name);
        if first.is_none() {
            first = Some(data);
        } else {
            r.data = data;
        }
        ws.push(name.to_string(), r);
    }
    let mut a = App::new(first.unwrap(), Theme::new(ColorMode::TrueColor));
    a.runs = RunsPanel::new(ws);
    a.status.following = true;
    a
}

fn screen(app: &App, w: u16, h: u16) -> String {
    common::screen::text(&common::screen::draw(app, w, h))
}

#[test]
fn runs_panel_with_a_finished_run_snapshot() {
    let a = finished_sweep();
    let now = Instant::now();
    let status = |i| a.runs.workspace.get(RunId(i)).unwrap().status(now);
    assert_eq!(status(1), RunStatus::Live);
    assert_eq!(status(2), RunStatus::Finished);
    let s = screen(&a, 100, 30);
    // The MLflow run shows its run name; the shown run's status line says it finished.
    assert!(
        s.lines()
            .any(|l| l.contains("every-step") && l.contains("finished")),
        "{s}"
    );
    assert!(
        s.lines()
            .any(|l| l.contains("cut-off") && l.contains(" live ")),
        "{s}"
    );
    assert!(
        s.lines().last().is_some_and(|l| l.contains("finished")),
        "{s}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn the_title_line_names_a_wandb_run() {
    let data = read(&sample(WANDB));
    let label = data.label.clone().unwrap().display().unwrap();
    assert!(
        label.ends_with("(odlwprk3)") || label == "odlwprk3",
        "{label}"
    );
    let mut a = App::new(data, Theme::new(ColorMode::None));
    a.status.following = true;
    let s = screen(&a, 120, 24);
    let title = s.lines().nth(1).unwrap();
    assert!(title.contains(&label), "{title}");
    assert!(
        s.lines().last().is_some_and(|l| l.contains("finished")),
        "{s}"
    );
}
