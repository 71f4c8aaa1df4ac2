//! The follower on temp files that grow, are truncated, replaced, deleted, and end in half a
//! line. Each test drives a real file and checks the model built from the events: nothing
//! lost, nothing counted twice.

mod common;
use common::Watch;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use trainwatch::ingest::follow::{IngestEvent, RestartReason};

fn append(path: &Path, s: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(s.as_bytes()).unwrap();
    f.flush().unwrap();
}

fn lines(from: u64, to: u64) -> String {
    (from..=to)
        .map(|i| format!("step={i} loss=2.0 gnorm={}.25\n", i % 7))
        .collect()
}

#[test]
fn waits_for_a_missing_log_then_reads_and_follows_appends() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train.log");
    let mut w = Watch::start(&p);
    w.until("waiting", |w| w.events.contains(&IngestEvent::Waiting));
    append(&p, &lines(1, 3));
    w.until("3 points", |w| w.model.steps.len() == 3);
    append(&p, &lines(4, 10));
    w.until("10 points", |w| w.model.steps.len() == 10);
    w.settle();
    assert_eq!(w.steps(), (1..=10).collect::<Vec<_>>());
    assert_eq!(w.model.restarts(), 0);
}

#[test]
fn a_half_written_line_is_held_until_completed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train.log");
    append(&p, &lines(1, 2));
    let mut w = Watch::start(&p);
    w.until("2 points", |w| w.model.steps.len() == 2);
    append(&p, "step=3 loss=2.0 gn");
    w.settle();
    assert_eq!(w.model.steps.len(), 2, "no record from half a line");
    append(&p, "orm=0.");
    w.settle();
    assert_eq!(w.model.steps.len(), 2);
    append(&p, "75\n");
    w.until("3 points", |w| w.model.steps.len() == 3);
    assert_eq!(w.model.steps.value(2), Some(0.75), "not 0. or 0.7");
}

#[test]
fn truncation_is_a_restart_and_nothing_is_counted_twice() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train.log");
    append(&p, &lines(1, 50));
    let mut w = Watch::start(&p);
    w.until("50 points", |w| w.model.steps.len() == 50);
    // A restarted job truncates its log and writes from step 1 again.
    fs::write(&p, lines(1, 5)).unwrap();
    w.until("restart + 5 points", |w| w.model.steps.len() == 55);
    append(&p, &lines(6, 8));
    w.until("58 points", |w| w.model.steps.len() == 58);
    w.settle();
    assert_eq!(w.model.steps.len(), 58);
    assert!(w
        .events
        .contains(&IngestEvent::Restart(RestartReason::Truncated)));
    assert_eq!(w.model.steps.restarts(), &[50]);
}

#[test]
fn truncated_and_rewritten_past_the_old_size_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train.log");
    append(&p, &lines(1, 3));
    let mut w = Watch::start(&p);
    w.until("3 points", |w| w.model.steps.len() == 3);
    // Between two looks the file is rewritten with more bytes than before.
    let mut new = String::from("# new run\n");
    new.push_str(&lines(1, 20));
    fs::write(&p, new).unwrap();
    w.until("23 points", |w| w.model.steps.len() == 23);
    w.settle();
    assert_eq!(w.model.steps.len(), 23);
    assert_eq!(w.model.steps.restarts(), &[3]);
}

#[test]
fn replacement_by_rename_reads_the_rest_of_the_old_file_then_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train.log");
    append(&p, &lines(1, 10));
    let mut w = Watch::start(&p);
    w.until("10 points", |w| w.model.steps.len() == 10);
    let tmp = dir.path().join("train.log.tmp");
    fs::write(&tmp, lines(100, 104)).unwrap();
    fs::rename(&tmp, &p).unwrap();
    w.until("15 points", |w| w.model.steps.len() == 15);
    w.settle();
    assert_eq!(w.steps()[10..], [100, 101, 102, 103, 104]);
    assert!(w
        .events
        .contains(&IngestEvent::Restart(RestartReason::Replaced)));
}

#[test]
fn deleted_and_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train.log");
    append(&p, &lines(1, 4));
    let mut w = Watch::start(&p);
    w.until("4 points", |w| w.model.steps.len() == 4);
    fs::remove_file(&p).unwrap();
    w.until("waiting", |w| w.events.contains(&IngestEvent::Waiting));
    append(&p, &lines(1, 2));
    w.until("6 points", |w| w.model.steps.len() == 6);
    assert!(w
        .events
        .contains(&IngestEvent::Restart(RestartReason::Recreated)));
}

#[test]
fn tqdm_carriage_returns_nul_bytes_and_invalid_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train.log");
    let mut bytes = Vec::new();
    for i in 0..1000 {
        bytes.extend_from_slice(format!("\r 10%|#  | {i}/9999 [00:01<00:09]").as_bytes());
    }
    bytes.extend_from_slice(b"\x00\xff\xfe garbage \x00\n");
    bytes.extend_from_slice(b"{'loss': 1.5, 'grad_norm': 2.5, 'epoch': 0.1}\n");
    for i in 0..1000 {
        bytes.extend_from_slice(format!("\r 20%|##  | {i}/9999 [00:01<00:09]").as_bytes());
    }
    bytes.extend_from_slice(b"\r{'loss': 1.4, 'grad_norm': \xff3.5, 'epoch': 0.2}\n");
    bytes.extend_from_slice(b"{'loss': 1.3, 'grad_norm': 4.5, 'epoch': 0.3}\n");
    fs::write(&p, bytes).unwrap();
    let mut w = Watch::start(&p);
    w.until("2 points", |w| w.model.steps.len() == 2);
    w.settle();
    assert_eq!(
        w.model.steps.points().collect::<Vec<_>>(),
        vec![(1, 2.5), (2, 4.5)]
    );
    assert_eq!(w.model.skipped_records, 1, "the mangled grad_norm line");
}
