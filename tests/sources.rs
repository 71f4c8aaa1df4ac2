//! Sources beyond text logs: TensorBoard event files written here with the documented TFRecord
//! framing (a tiny encoder below), HF `trainer_state.json` and Lightning `metrics.csv` (the
//! real samples in `../shared/samples/`), and run directories.

mod common;
use common::Watch;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use trainwatch::ingest::follow::IngestEvent;
use trainwatch::ingest::tfevents::encode::{record, varint};
use trainwatch::ingest::{LogFormat, MetricSpec, SourceError, SourceSpec};
use trainwatch::run::read_once;
use trainwatch::run::{ClipSource, RunData};

// ---- a minimal event-file writer (TFRecord framing + the protobuf fields we read) ----

fn key(field: u32, wire: u32, out: &mut Vec<u8>) {
    varint(u64::from(field << 3 | wire), out);
}

fn bytes_field(field: u32, b: &[u8], out: &mut Vec<u8>) {
    key(field, 2, out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

/// What a Summary.Value carries.
enum Val<'a> {
    Simple(f32),
    /// TensorProto with dtype and tensor_content.
    Content(u64, &'a [u8]),
    PackedFloat(f32),
    UnpackedDouble(f64),
}

fn event(step: i64, values: &[(&str, Val)]) -> Vec<u8> {
    let mut summary = Vec::new();
    for (tag, v) in values {
        let mut val = Vec::new();
        bytes_field(1, tag.as_bytes(), &mut val);
        match v {
            Val::Simple(x) => {
                key(2, 5, &mut val);
                val.extend_from_slice(&x.to_le_bytes());
            }
            Val::Content(dtype, c) => {
                let mut t = Vec::new();
                key(1, 0, &mut t);
                varint(*dtype, &mut t);
                bytes_field(2, &[], &mut t); // empty shape: a scalar
                bytes_field(4, c, &mut t);
                bytes_field(8, &t, &mut val);
            }
            Val::PackedFloat(x) => {
                let mut t = Vec::new();
                key(1, 0, &mut t);
                varint(1, &mut t);
                bytes_field(5, &x.to_le_bytes(), &mut t); // packed
                bytes_field(8, &t, &mut val);
            }
            Val::UnpackedDouble(x) => {
                let mut t = Vec::new();
                key(1, 0, &mut t);
                varint(2, &mut t);
                key(6, 1, &mut t); // not packed
                t.extend_from_slice(&x.to_le_bytes());
                bytes_field(8, &t, &mut val);
            }
        }
        bytes_field(1, &val, &mut summary);
    }
    let mut ev = Vec::new();
    key(1, 1, &mut ev);
    ev.extend_from_slice(&1.7e9f64.to_le_bytes());
    key(2, 0, &mut ev);
    varint(step as u64, &mut ev);
    bytes_field(5, &summary, &mut ev);
    record(&ev)
}

/// The first record of every event file: `file_version` (field 3), no summary.
fn header_record() -> Vec<u8> {
    let mut ev = Vec::new();
    key(1, 1, &mut ev);
    ev.extend_from_slice(&1.7e9f64.to_le_bytes());
    bytes_field(3, b"brain.Event:2", &mut ev);
    record(&ev)
}

fn gnorm_file(steps: impl Iterator<Item = u64>, tag: &str) -> Vec<u8> {
    let mut b = header_record();
    for s in steps {
        b.extend(event(
            s as i64,
            &[
                ("train/loss", Val::Simple(10.0 - s as f32 / 10.0)),
                (tag, Val::Simple(s as f32 * 0.25)),
            ],
        ));
    }
    b
}

fn sample(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/samples")
        .join(rel)
}

fn points(m: &RunData) -> Vec<(u64, f64)> {
    m.primary().points().collect()
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainwatch"))
}

// ---- event files, read once ----

#[test]
fn event_file_with_simple_values() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("events.out.tfevents.1700000000.host.1.0");
    let mut b = gnorm_file(1..=100, "train/grad_norm");
    // An unrelated tag and an eval event: not points.
    b.extend(event(100, &[("eval/loss", Val::Simple(3.0))]));
    fs::write(&p, b).unwrap();
    let m = read_once(&SourceSpec::new(&p)).unwrap();
    assert_eq!(m.format, Some(LogFormat::TensorBoard));
    let pts = points(&m);
    assert_eq!(pts.len(), 100);
    assert_eq!(pts[0], (1, 0.25));
    assert_eq!(pts[99], (100, 25.0));
    assert_eq!(m.skipped_records, 0);
    assert_eq!(m.restarts(), 0);
    assert_eq!(m.clip(), (Some(1.0), ClipSource::Default));
    assert_eq!(m.primary().above_clip(), 96);

    // --metric TAG: any other tag, exactly.
    let mut o = SourceSpec::new(&p);
    o.metric = MetricSpec::named("eval/loss");
    let m = read_once(&o).unwrap();
    assert_eq!(points(&m), vec![(100, 3.0)]);
}

#[test]
fn event_file_with_tf2_tensor_scalars() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("events.out.tfevents.1700000000.host.2.v2");
    let mut b = header_record();
    b.extend(event(
        10,
        &[("train_inner/gnorm", Val::Content(1, &1.5f32.to_le_bytes()))],
    ));
    b.extend(event(
        20,
        &[("train_inner/gnorm", Val::Content(2, &2.25f64.to_le_bytes()))],
    ));
    b.extend(event(30, &[("train/gnorm", Val::PackedFloat(3.5))]));
    b.extend(event(40, &[("gnorm", Val::UnpackedDouble(f64::NAN))]));
    // A non-scalar tensor under the metric's tag: counted as skipped, not charted.
    b.extend(event(50, &[("gnorm", Val::Content(1, &[0u8; 8]))]));
    fs::write(&p, b).unwrap();
    let m = read_once(&SourceSpec::new(&p)).unwrap();
    let pts = points(&m);
    assert_eq!(pts.len(), 4);
    assert_eq!(&pts[..3], &[(10, 1.5), (20, 2.25), (30, 3.5)]);
    assert_eq!(pts[3].0, 40);
    assert!(pts[3].1.is_nan());
    assert_eq!(m.primary().nonfinite(), 1);
    assert_eq!(m.skipped_records, 1);
}

#[test]
fn bad_crcs_are_skipped_counted_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let good = gnorm_file(1..=10, "gnorm");
    // Record boundaries: header record, then 10 equal-sized events.
    let head = header_record().len();
    let rec = (good.len() - head) / 10;

    // A payload byte of the 3rd event (step 3): its CRC fails, the record is skipped.
    let mut b = good.clone();
    b[head + 2 * rec + 20] ^= 0x01;
    let p = dir.path().join("payload.tfevents");
    fs::write(&p, &b).unwrap();
    let m = read_once(&SourceSpec::new(&p)).unwrap();
    let steps: Vec<u64> = points(&m).iter().map(|p| p.0).collect();
    assert_eq!(steps, vec![1, 2, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(m.skipped_records, 1);

    // A length byte of the 5th event: the header CRC fails, reading resyncs at the next record.
    let mut b = good.clone();
    b[head + 4 * rec] ^= 0x40;
    let p = dir.path().join("length.tfevents");
    fs::write(&p, &b).unwrap();
    let m = read_once(&SourceSpec::new(&p)).unwrap();
    let steps: Vec<u64> = points(&m).iter().map(|p| p.0).collect();
    assert_eq!(steps, vec![1, 2, 3, 4, 6, 7, 8, 9, 10]);
    assert_eq!(m.skipped_records, 1);

    // Read once while a writer is mid-record: the torn record is counted, not charted.
    let p = dir.path().join("torn.tfevents");
    fs::write(&p, &good[..good.len() - rec / 2]).unwrap();
    let m = read_once(&SourceSpec::new(&p)).unwrap();
    assert_eq!(m.primary().len(), 9);
    assert_eq!(m.skipped_records, 1);
}

#[test]
fn several_event_files_in_a_dir_are_read_in_timestamp_order_with_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    // By name "1000…" sorts before "999…": the order must come from the timestamp.
    fs::write(
        dir.path().join("events.out.tfevents.999.host.1.0"),
        gnorm_file(1..=5, "train/grad_norm"),
    )
    .unwrap();
    fs::write(
        dir.path().join("events.out.tfevents.1000.host.2.0"),
        gnorm_file(3..=6, "train/grad_norm"),
    )
    .unwrap();
    let m = read_once(&SourceSpec::new(dir.path())).unwrap();
    let steps: Vec<u64> = points(&m).iter().map(|p| p.0).collect();
    assert_eq!(steps, vec![1, 2, 3, 4, 5, 3, 4, 5, 6]);
    assert_eq!(m.file_restarts, 1);
    assert_eq!(m.restarts(), 1);

    // The CLI: same JSON shape, format named, the directory as the source.
    let out = bin()
        .args(["gnorm", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "tensorboard");
    assert_eq!(v["points"].as_array().unwrap().len(), 9);
    assert_eq!(v["restarts"], 1);
    assert_eq!(
        v["points"][5],
        serde_json::json!({"step": 3, "value": 0.75})
    );
}

// ---- following ----

fn append(path: &Path, b: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(b).unwrap();
    f.flush().unwrap();
}

#[test]
fn followed_event_file_grows_and_a_torn_record_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("events.out.tfevents.1700000000.host");
    fs::write(&p, gnorm_file(1..=3, "train/grad_norm")).unwrap();
    let mut w = Watch::start(&p);
    w.until("the first 3 points", |w| w.model.steps.len() == 3);

    // Appended whole.
    append(&p, &event(4, &[("train/grad_norm", Val::Simple(4.0))]));
    w.until("step 4", |w| w.model.steps.len() == 4);

    // Torn: half a record, then the rest.
    let rec = event(5, &[("train/grad_norm", Val::Simple(5.0))]);
    let (a, b) = rec.split_at(rec.len() / 2);
    append(&p, a);
    w.settle();
    assert_eq!(w.steps(), vec![1, 2, 3, 4], "half a record is not a point");
    assert!(
        !w.events.iter().any(|e| matches!(e, IngestEvent::Error(_))),
        "a torn record is not an error: {:?}",
        w.events
    );
    append(&p, b);
    w.until("step 5", |w| w.model.steps.len() == 5);
    w.settle();
    assert_eq!(w.steps(), vec![1, 2, 3, 4, 5], "exactly one new point");
    assert_eq!(w.model.steps.points().last(), Some((5, 5.0)));
    assert_eq!(w.model.skipped_records, 0);
    assert_eq!(w.model.format, Some(LogFormat::TensorBoard));
}

#[test]
fn event_file_replaced_by_a_longer_copy_continues_without_a_restart() {
    // rsync writes a temporary file and renames it over the old one: a new inode with the old
    // bytes first. That is the same run, grown; a different file in its place is a restart.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("events.out.tfevents.1700000000.host");
    let all = gnorm_file(1..=6, "gnorm");
    let head = header_record().len();
    let rec = (all.len() - head) / 6;
    fs::write(&p, &all[..head + 3 * rec]).unwrap();
    let mut w = Watch::start(&p);
    w.until("3 points", |w| w.model.steps.len() == 3);
    let tmp = dir.path().join(".events.tmp");
    fs::write(&tmp, &all).unwrap();
    fs::rename(&tmp, &p).unwrap();
    w.until("6 points", |w| w.model.steps.len() == 6);
    w.settle();
    assert_eq!(w.steps(), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(w.model.file_restarts, 0);

    fs::write(&tmp, gnorm_file(1..=2, "gnorm")).unwrap();
    fs::rename(&tmp, &p).unwrap();
    w.until("the new run", |w| w.model.steps.len() == 8);
    assert_eq!(w.steps(), vec![1, 2, 3, 4, 5, 6, 1, 2]);
    assert_eq!(w.model.file_restarts, 1);
}

#[test]
fn followed_event_dir_picks_up_a_new_file_as_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("events.out.tfevents.100.host"),
        gnorm_file(1..=4, "gnorm"),
    )
    .unwrap();
    let mut w = Watch::start(dir.path());
    w.until("4 points", |w| w.model.steps.len() == 4);
    fs::write(
        dir.path().join("events.out.tfevents.200.host"),
        gnorm_file(1..=2, "gnorm"),
    )
    .unwrap();
    w.until("6 points", |w| w.model.steps.len() == 6);
    assert_eq!(w.steps(), vec![1, 2, 3, 4, 1, 2]);
    assert_eq!(w.model.file_restarts, 1);
}

// ---- trainer_state.json ----

#[test]
fn trainer_state_real_samples_exact() {
    let m = read_once(&SourceSpec::new(sample(
        "hf-trainer-state-tinyllama/trainer_state.json",
    )))
    .unwrap();
    assert_eq!(m.format, Some(LogFormat::HfTrainerState));
    let p = points(&m);
    assert_eq!(p.len(), 186, "MANIFEST: 186 entries with grad_norm");
    assert_eq!(p[0], (15, 1.0048305988311768));
    assert_eq!(p[185], (2790, 1.9084734916687012));
    assert_eq!(m.clip(), (Some(1.0), ClipSource::Default));
    assert_eq!(m.lines, 200, "log_history entries, eval ones included");

    let m = read_once(&SourceSpec::new(sample(
        "hf-trainer-state-viz/trainer_state.json",
    )))
    .unwrap();
    let p = points(&m);
    assert_eq!(p.len(), 30, "MANIFEST: 30 train entries with grad_norm");
    assert_eq!(p[0], (401, 5.49674654006958));
    assert_eq!(p[29], (12030, 1.7071932554244995));
    assert_eq!(m.skipped_records, 0);
}

fn state_json(entries: &[(u64, &str)]) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|(s, v)| format!("{{\"step\": {s}, \"loss\": 2.0, \"grad_norm\": {v}}}"))
        .collect();
    format!(
        "{{\"global_step\": 9, \"log_history\": [{}, {{\"step\": 1, \"eval_loss\": NaN}}]}}",
        items.join(", ")
    )
}

#[test]
fn trainer_state_with_bare_nan_and_its_rewrites_when_followed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("trainer_state.json");
    fs::write(&p, state_json(&[(1, "0.5"), (2, "NaN"), (3, "Infinity")])).unwrap();
    let m = read_once(&SourceSpec::new(&p)).unwrap();
    assert_eq!(m.primary().len(), 3);
    assert_eq!(m.primary().nonfinite(), 2);

    let mut w = Watch::start(&p);
    w.until("3 points", |w| w.model.steps.len() == 3);
    // Rewritten with more entries: only the new ones are sent.
    let tmp = dir.path().join("t.json");
    fs::write(
        &tmp,
        state_json(&[(1, "0.5"), (2, "NaN"), (3, "Infinity"), (4, "0.7")]),
    )
    .unwrap();
    fs::rename(&tmp, &p).unwrap();
    w.until("4 points", |w| w.model.steps.len() == 4);
    w.settle();
    assert_eq!(w.steps(), vec![1, 2, 3, 4]);
    assert_eq!(w.model.file_restarts, 0);
    // Rewritten with different history (a new run): a restart, everything again.
    fs::write(&tmp, state_json(&[(1, "0.9"), (2, "0.8")])).unwrap();
    fs::rename(&tmp, &p).unwrap();
    w.until("the new run", |w| w.model.steps.len() == 6);
    assert_eq!(w.steps(), vec![1, 2, 3, 4, 1, 2]);
    assert_eq!(w.model.file_restarts, 1);
}

// ---- metrics.csv ----

#[test]
fn lightning_csv_without_gnorm_says_so_and_lists_the_columns() {
    let p = sample("lightning-csv-slm/metrics.csv");
    let err = read_once(&SourceSpec::new(&p)).unwrap_err();
    assert!(matches!(err, SourceError::NoMetricIn { .. }), "{err}");

    let out = bin().arg("gnorm").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("metrics.csv") && err.contains("no gradient norm"),
        "{err}"
    );
    assert!(
        err.contains(
            "epoch, epoch_time, step, train_epoch_perplexity, train_loss_epoch, train_loss_step"
        ),
        "{err}"
    );
    assert!(err.contains("--metric NAME"), "{err}");

    let out = bin()
        .args(["gnorm", "--json", "--metric", "train_loss_step"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "lightning_csv");
    assert_eq!(v["metric"], "train_loss_step");
    let pts = v["points"].as_array().unwrap();
    assert_eq!(pts.len(), 2814);
    assert_eq!(
        pts[0],
        serde_json::json!({"step": 49, "value": 7.628580570220947})
    );
    assert_eq!(
        pts[2813],
        serde_json::json!({"step": 140699, "value": 3.565943479537964})
    );
    assert_eq!(v["skipped_lines"], 0);

    let mut o = SourceSpec::new(&p);
    o.metric = MetricSpec::named("val_loss");
    let m = read_once(&o).unwrap();
    let p = points(&m);
    assert_eq!(p.len(), 10);
    assert_eq!(p[0], (14073, 4.132571697235107));
    assert_eq!(p[9], (140739, 3.570486068725586));
}

#[test]
fn lightning_csv_followed_through_a_new_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("metrics.csv");
    fs::write(
        &p,
        "epoch,step,train/grad_norm\n0,10,0.5\n0,20,\n0,30,0.7\n",
    )
    .unwrap();
    let mut w = Watch::start(&p);
    w.until("2 points", |w| w.model.steps.len() == 2);
    append(&p, b"0,40,0.9\n0,50,1.");
    w.until("3 points", |w| w.model.steps.len() == 3);
    w.settle();
    assert_eq!(
        w.steps(),
        vec![10, 30, 40],
        "a row without its newline waits"
    );
    // The logger rewrites the file with a new column: read again from the start.
    fs::write(
        &p,
        "epoch,step,train/grad_norm,val_loss\n0,10,0.5,\n0,20,,\n0,30,0.7,\n0,40,0.9,\n0,50,1.1,\n0,50,,2.0\n",
    )
    .unwrap();
    w.until("the rewrite", |w| w.model.steps.len() == 7);
    w.settle();
    assert_eq!(w.steps(), vec![10, 30, 40, 10, 30, 40, 50]);
    assert_eq!(w.model.file_restarts, 1);
}

// ---- run directories ----

#[test]
fn run_directory_picks_in_order_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path();
    // Only a trainer state in two checkpoints: the newest checkpoint's.
    for (ck, v) in [("checkpoint-500", "0.5"), ("checkpoint-1000", "0.9")] {
        fs::create_dir_all(run.join(ck)).unwrap();
        fs::write(
            run.join(ck).join("trainer_state.json"),
            state_json(&[(1, v)]),
        )
        .unwrap();
    }
    let pick = |run: &Path| {
        let req = trainwatch::discovery::Request::new(run, &MetricSpec::gnorm());
        let manifest = trainwatch::discovery::discover(&req).unwrap();
        assert_eq!(manifest.runs.len(), 1);
        let run = manifest.runs[0].clone();
        let src = run.found_source().unwrap().clone();
        (src, run)
    };
    let (p, _) = pick(run);
    assert_eq!(p.path, run.join("checkpoint-1000/trainer_state.json"));

    // A metrics.csv with the metric beats it.
    fs::create_dir_all(run.join("lightning_logs/version_0")).unwrap();
    let csv = run.join("lightning_logs/version_0/metrics.csv");
    fs::write(&csv, "step,grad_norm\n1,0.5\n").unwrap();
    assert_eq!(pick(run).0.path, csv);

    // Event files beat it (several in one folder: the folder).
    let tb = run.join("runs/Nov26/train_inner");
    fs::create_dir_all(&tb).unwrap();
    fs::write(
        tb.join("events.out.tfevents.1.h"),
        gnorm_file(1..=2, "gnorm"),
    )
    .unwrap();
    fs::write(
        tb.join("events.out.tfevents.2.h"),
        gnorm_file(1..=2, "gnorm"),
    )
    .unwrap();
    // A folder of event files without the metric is not preferred.
    let valid = run.join("runs/Nov26/valid");
    fs::create_dir_all(&valid).unwrap();
    fs::write(
        valid.join("events.out.tfevents.3.h"),
        gnorm_file(1..=2, "loss_only"),
    )
    .unwrap();
    assert_eq!(pick(run).0.path, tb);

    // A text log without gradient norms is passed over; one with them wins.
    fs::write(run.join("stdout.log"), "epoch 1 loss=3.0\n").unwrap();
    assert_eq!(
        pick(run).0.kind,
        trainwatch::ingest::source::SourceKind::TensorBoard
    );
    fs::write(
        run.join("train.out"),
        "step=1 gnorm=0.5\nstep=2 gnorm=0.6\n",
    )
    .unwrap();
    let (p, found) = pick(run);
    assert_eq!(p.path, run.join("train.out"));
    assert_eq!(p.has_metric, Some(true));
    assert_eq!(found.checkpoints.found, vec![], "no safetensors in the run");

    // The CLI says what it picked, on stderr; the JSON names the file read.
    let out = bin().args(["gnorm", "--json"]).arg(run).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("watching") && err.contains("train.out"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["source"],
        run.join("train.out").to_string_lossy().as_ref()
    );
    assert_eq!(v["points"].as_array().unwrap().len(), 2);
}

/// Reference files written by TensorBoard itself, when python3 with the `tensorboard` package
/// is installed: its `tensorboard.summary.Writer` (TF2-style tensor scalars) and its
/// `EventFileWriter` with `simple_value` (what torch's `SummaryWriter` writes). CI usually has
/// neither: the hand-written files above are the real coverage.
#[test]
fn reference_files_from_tensorboard_itself_if_available() {
    let dir = tempfile::tempdir().unwrap();
    let py = r#"
import sys, os
try:
    from tensorboard.summary import Writer
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
except Exception:
    sys.exit(3)
w = Writer(os.path.join(sys.argv[1], "v2"))
for s in range(1, 51):
    w.add_scalar("train/grad_norm", s * 0.5, step=s)
    w.add_scalar("train/loss", 1.0, step=s)
w.close()
w = EventFileWriter(os.path.join(sys.argv[1], "v1"))
for s in range(1, 51):
    w.add_event(Event(step=s, wall_time=1.0, summary=Summary(value=[
        Summary.Value(tag="train_inner/gnorm", simple_value=s * 0.25),
        Summary.Value(tag="train_inner/loss", simple_value=1.0)])))
w.close()
"#;
    let status = Command::new("python3")
        .arg("-c")
        .arg(py)
        .arg(dir.path())
        .status();
    match status {
        Ok(s) if s.success() => {}
        _ => {
            eprintln!("skipped: python3 with the tensorboard package is not available");
            return;
        }
    }
    for (sub, last) in [("v2", 25.0), ("v1", 12.5)] {
        let m = read_once(&SourceSpec::new(dir.path().join(sub))).unwrap();
        let p = points(&m);
        assert_eq!(p.len(), 50, "{sub}");
        assert_eq!(p[49], (50, last), "{sub}");
        assert_eq!(m.skipped_records, 0, "{sub}");
        assert_eq!(
            m.primary().loss(0),
            Some(1.0),
            "{sub}: the loss at the same step"
        );
    }
}

#[test]
fn hostile_tags_and_empty_run_dirs_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("events.out.tfevents.1.evil");
    let mut b = header_record();
    b.extend(event(1, &[("evil\x1b]0;pwned\x07/acc", Val::Simple(1.0))]));
    fs::write(&p, b).unwrap();
    let out = bin().arg("gnorm").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.stderr.contains(&0x1b), "{err:?}");
    assert!(
        err.contains("no gradient norm") && err.contains("tags: evil"),
        "{err}"
    );
    assert!(err.contains("--metric NAME"), "{err}");

    // The live view on a run directory with nothing in it: the same one-line error, before
    // any terminal set-up.
    let empty = dir.path().join("run");
    fs::create_dir(&empty).unwrap();
    let out = bin().arg(&empty).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing to watch found"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
