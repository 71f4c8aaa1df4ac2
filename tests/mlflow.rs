//! MLflow runs: the real file-store run in `../shared/samples/mlflow-filestore/` (mlflow-skinny
//! 3.17.2; facts in its MANIFEST.md) and the fixture `tests/fixtures/mlflow/filestore/`, written
//! by the real mlflow-skinny 3.17.2 with `tests/fixtures/mlflow/make_fixtures.py` (params
//! `max_grad_norm=0.5`, grad_norm every 2nd step with a NaN, loss every step). Live reading and
//! rewrites are tested on copies of those files.

mod common;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use trainwatch::core::Record;
use trainwatch::discovery::trackers::{mlflow_runs, newest, tracker_runs, wandb_runs};
use trainwatch::discovery::{discover, Request};
use trainwatch::ingest::mlflow::{run_info, FileStoreSource};
use trainwatch::ingest::source::{kind_of, Source, SourceKind, Update};
use trainwatch::ingest::{LogFormat, MetricSpec, SourceSpec};
use trainwatch::run::read_once;

fn sample_run() -> PathBuf {
    common::sample("mlflow-filestore/mlruns/453133224139511400/36153c248699462fa33acf0b70deae5b")
}

fn fixture_store() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mlflow/filestore/mlruns")
}

fn fixture_run() -> PathBuf {
    mlflow_runs(&fixture_store()).pop().unwrap().dir
}

#[derive(Default)]
struct Got {
    records: Vec<Record>,
    restarts: usize,
    clip: Option<f64>,
}

fn poll(src: &mut FileStoreSource, got: &mut Got) {
    src.poll_each(&mut |u| match u {
        Update::Batch(b) => {
            got.records.extend(b.steps.iter());
            if b.clip_declared.is_some() {
                got.clip = b.clip_declared;
            }
        }
        Update::Restart(_) => got.restarts += 1,
        Update::Progress { .. } => {}
    })
    .unwrap();
}

#[test]
fn the_real_file_store_run_bit_for_bit() {
    let dir = sample_run();
    assert_eq!(kind_of(&dir, None), SourceKind::Mlflow);
    let mut src = FileStoreSource::new(&dir, &MetricSpec::gnorm());
    let mut got = Got::default();
    poll(&mut src, &mut got);
    let r = &got.records;
    assert_eq!(r.len(), 1000);
    assert!(r.iter().zip(1..).all(|(x, s)| x.step == Some(s)));
    assert_eq!(r[0].value().to_bits(), 4.444345406625743f64.to_bits());
    assert_eq!(r[999].value().to_bits(), 0.7370871686463882f64.to_bits());
    assert!(r[699].value().is_nan() && r[699].step == Some(700));
    // The same values as the W&B run of the same maths.
    let finite = r.iter().filter(|x| x.value().is_finite());
    assert_eq!(finite.filter(|x| x.value() > 1.0).count(), 435);
    assert!(r[0].values[1].is_some(), "the loss beside it");
    let info = run_info(&dir);
    assert_eq!(info.name.as_deref(), Some("every-step"));
    assert_eq!(info.id.as_deref(), Some("36153c248699462fa33acf0b70deae5b"));
    let mut names = src.names();
    names.sort();
    assert_eq!(
        names,
        ["train/grad_norm", "train/learning_rate", "train/loss"]
    );

    let run = read_once(&SourceSpec::new(&dir)).unwrap();
    assert_eq!(run.primary().len(), 1000);
    assert_eq!(run.format, Some(LogFormat::Mlflow));
}

#[test]
fn clip_from_params_and_sparse_points() {
    let mut src = FileStoreSource::new(&fixture_run(), &MetricSpec::gnorm());
    let mut got = Got::default();
    poll(&mut src, &mut got);
    let steps: Vec<_> = got.records.iter().map(|r| r.step.unwrap()).collect();
    assert_eq!(steps, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    assert!(got.records[4].value().is_nan());
    assert_eq!(got.records[9].value(), 2.0);
    assert_eq!(got.records[0].values[1], Some(1.5)); // loss 3/2 at step 2
    assert_eq!(got.clip, Some(0.5));
    assert_eq!(run_info(&fixture_run()).name.as_deref(), Some("clipped"));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            fs::copy(e.path(), &t).unwrap();
        }
    }
}

#[test]
fn followed_live_and_a_rewrite_is_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    copy_dir(&sample_run(), &run);
    let file = run.join("metrics/train/grad_norm");
    let all = fs::read(&file).unwrap();
    // Half a line at the end: waited for.
    let cut = all.len() / 2 + 3;
    fs::write(&file, &all[..cut]).unwrap();
    let mut src = FileStoreSource::new(&run, &MetricSpec::gnorm());
    let mut got = Got::default();
    poll(&mut src, &mut got);
    let before = got.records.len();
    assert!(before > 400 && before < 600);
    assert!(src.pending() > 0);
    OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap()
        .write_all(&all[cut..])
        .unwrap();
    poll(&mut src, &mut got);
    assert_eq!(got.records.len(), 1000);
    assert!(got.records.iter().zip(1..).all(|(x, s)| x.step == Some(s)));
    assert_eq!(got.restarts, 0);
    // Rewritten shorter (a restarted run): read again from the start.
    fs::write(&file, &all[..all.len() / 4]).unwrap();
    poll(&mut src, &mut got);
    assert_eq!(got.restarts, 1);
}

#[test]
fn runs_are_found_at_every_level() {
    let store = common::sample("mlflow-filestore/mlruns");
    for root in [
        store.clone(),
        store.join("453133224139511400"),
        sample_run(),
        common::sample("mlflow-filestore"),
    ] {
        let runs = tracker_runs(&root);
        assert_eq!(runs.len(), 1, "{}", root.display());
        assert_eq!(runs[0].dir, sample_run());
        assert_eq!(runs[0].kind, SourceKind::Mlflow);
    }
    let m = discover(&Request::new(&store, &MetricSpec::gnorm())).unwrap();
    assert_eq!(m.runs[0].source_path(), sample_run());
    assert!(m.runs[0].describe().unwrap().contains("MLflow run"));
}

#[test]
fn wandb_folders_latest_run_and_several_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let wandb = tmp.path().join("wandb");
    let bytes = fs::read(common::sample(
        "wandb-offline/offline-run-20261201_071111-odlwprk3/run-odlwprk3.wandb",
    ))
    .unwrap();
    for (folder, id) in [
        ("offline-run-20261201_071111-odlwprk3", "odlwprk3"),
        ("run-20261202_080000-abc123", "abc123"),
    ] {
        fs::create_dir_all(wandb.join(folder)).unwrap();
        fs::write(wandb.join(folder).join(format!("run-{id}.wandb")), &bytes).unwrap();
    }
    std::os::unix::fs::symlink(
        wandb.join("offline-run-20261201_071111-odlwprk3"),
        wandb.join("latest-run"),
    )
    .unwrap();
    let runs = wandb_runs(&wandb);
    let ids: Vec<_> = runs.iter().map(|r| r.id.clone().unwrap()).collect();
    assert_eq!(ids, ["odlwprk3", "abc123"]);
    assert_eq!(newest(&runs).unwrap().id.as_deref(), Some("abc123"));
    let latest = wandb_runs(&wandb.join("latest-run"));
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].id.as_deref(), Some("odlwprk3"));
    // The project folder holding `wandb/`.
    assert_eq!(wandb_runs(tmp.path()).len(), 2);
    // A `wandb/` folder of several runs is a sweep: each of its runs is a run, oldest first.
    let m = discover(&Request::new(&wandb, &MetricSpec::gnorm())).unwrap();
    assert_eq!(m.runs.len(), 2);
    assert!(m.runs[1].source_path().ends_with("run-abc123.wandb"));
    assert_eq!(kind_of(m.runs[1].source_path(), None), SourceKind::Wandb);
    // One run: that run.
    let m = discover(&Request::new(
        wandb.join("latest-run"),
        &MetricSpec::gnorm(),
    ))
    .unwrap();
    assert_eq!(m.runs.len(), 1);
    assert!(m.runs[0].source_path().ends_with("run-odlwprk3.wandb"));
}
