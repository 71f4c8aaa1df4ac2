use super::*;
use std::fs;

fn gnorm() -> MetricSpec {
    MetricSpec::gnorm()
}

fn only_run(req: &Request) -> Run {
    let m = discover(req).unwrap();
    assert_eq!(m.root, req.path);
    assert_eq!(m.runs.len(), 1);
    m.runs[0].clone()
}

#[test]
fn a_file_is_read_as_named_and_says_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // It need not exist yet: the live view waits for it.
    let log = dir.path().join("train.log");
    let mut req = Request::new(&log, &gnorm());
    req.checkpoint = Some(dir.path().join("ckpt"));
    let run = only_run(&req);
    assert_eq!(run.source_path(), log);
    assert_eq!(run.chosen, Chosen::Named(log.clone()));
    assert_eq!(run.checkpoints.watch, req.checkpoint);
    assert!(run.sources.is_empty() && run.describe().is_none());
}

#[test]
fn log_override_and_event_folders_are_not_searched() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("train.log"), "step=1 gnorm=0.5\n").unwrap();
    let mut req = Request::new(dir.path(), &gnorm());
    req.log = Some(dir.path().join("other.log"));
    let run = only_run(&req);
    assert_eq!(run.source_path(), dir.path().join("other.log"));
    // Tab 2 waits in the run folder.
    assert_eq!(run.checkpoints.watch.as_deref(), Some(dir.path()));

    let tb = tempfile::tempdir().unwrap();
    fs::write(tb.path().join("events.out.tfevents.1.h"), b"").unwrap();
    let run = only_run(&Request::new(tb.path(), &gnorm()));
    assert_eq!(run.source_path(), tb.path());
    assert_eq!(run.checkpoints.watch, None, "only --checkpoint, as before");
    assert!(run.describe().is_none());
}

#[test]
fn a_run_folder_ranks_its_sources_and_finds_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path();
    fs::write(run_dir.join("train.log"), "step=1 gnorm=0.5\n").unwrap();
    fs::write(run_dir.join("notes.txt"), "nothing here\n").unwrap();
    fs::create_dir(run_dir.join("logs")).unwrap();
    fs::write(run_dir.join("logs/metrics.csv"), "step,loss\n1,2.0\n").unwrap();
    fs::create_dir(run_dir.join("checkpoint-20")).unwrap();
    fs::write(run_dir.join("checkpoint-20/model.safetensors"), b"").unwrap();
    let run = only_run(&Request::new(run_dir, &gnorm()));
    let kinds: Vec<(SourceKind, Option<bool>)> =
        run.sources.iter().map(|s| (s.kind, s.has_metric)).collect();
    // The text log holds the metric: the CSV below it is listed, not opened; a text file
    // without the metric is no source.
    assert_eq!(
        kinds,
        vec![
            (SourceKind::TextLog, Some(true)),
            (SourceKind::LightningCsv, None)
        ]
    );
    assert_eq!(run.source_path(), run_dir.join("train.log"));
    assert_eq!(
        run.checkpoints.found,
        vec![FoundCheckpoint {
            path: run_dir.join("checkpoint-20/model.safetensors"),
            step: Some(20),
        }]
    );
    assert_eq!(run.checkpoints.watch.as_deref(), Some(run_dir));
    let line = run.describe().unwrap();
    assert!(line.starts_with("watching "), "{line}");
    assert!(line.ends_with(&format!("; checkpoints from {}", run_dir.display())));
}

#[test]
fn without_the_metric_the_best_source_anyway_then_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("metrics.csv"), "step,loss\n1,2.0\n").unwrap();
    let run = only_run(&Request::new(dir.path(), &gnorm()));
    let src = run.found_source().unwrap();
    assert_eq!(
        (src.kind, src.has_metric),
        (SourceKind::LightningCsv, Some(false))
    );
    assert!(run
        .describe()
        .unwrap()
        .contains(", the metric not seen yet"));

    let empty = tempfile::tempdir().unwrap();
    fs::write(empty.path().join("notes.txt"), "no metric\n").unwrap();
    let err = discover(&Request::new(empty.path(), &MetricSpec::named("lr"))).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(
            "nothing to watch found (looked up to 4 folders deep for a text log with 'lr'"
        ),
        "{msg}"
    );
}
