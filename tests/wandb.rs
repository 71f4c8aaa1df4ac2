//! W&B `.wandb` run files: the real offline run in `../shared/samples/wandb-offline/` (wandb
//! 0.31.0; facts in its MANIFEST.md), the fixtures `tests/fixtures/wandb/*.wandb` written by
//! the real wandb 0.31.0 with `tests/fixtures/wandb/make_fixtures.py` (a sparse HF-like run with
//! a clip config and an Infinity; a run killed with `os._exit`), and damage the library never
//! writes (bad CRCs, torn tails, records split across blocks) made from those bytes.

mod common;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use trainwatch::core::Record;
use trainwatch::ingest::source::{kind_of, Source, SourceKind, Update};
use trainwatch::ingest::wandb::{framing, proto::encode, run_info, WandbSource};
use trainwatch::ingest::{LogFormat, MetricSpec, SourceSpec};
use trainwatch::run::read_once;

fn sample() -> PathBuf {
    common::sample("wandb-offline/offline-run-20261201_071111-odlwprk3/run-odlwprk3.wandb")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wandb")
        .join(name)
}

/// Everything one poll hands over: records, skipped count, restarts, clip.
#[derive(Default)]
struct Got {
    records: Vec<Record>,
    skipped: u64,
    restarts: usize,
    clip: Option<f64>,
}

fn poll(src: &mut WandbSource, got: &mut Got) {
    src.poll_each(&mut |u| match u {
        Update::Batch(b) => {
            got.records.extend(b.steps.iter());
            got.skipped += b.skipped;
            if b.clip_declared.is_some() {
                got.clip = b.clip_declared;
            }
        }
        Update::Restart(_) => got.restarts += 1,
        Update::Progress { .. } => {}
    })
    .unwrap();
}

fn read(path: &Path, metric: &MetricSpec) -> (Got, WandbSource) {
    let mut src = WandbSource::new(path, metric);
    let mut got = Got::default();
    poll(&mut src, &mut got);
    (got, src)
}

fn at(got: &Got, step: u64) -> f64 {
    got.records
        .iter()
        .find(|r| r.step == Some(step))
        .map(|r| r.value())
        .unwrap()
}

#[test]
fn the_real_offline_run_bit_for_bit() {
    let (got, src) = read(&sample(), &MetricSpec::gnorm());
    let r = &got.records;
    assert_eq!(r.len(), 1000);
    assert!(r.iter().zip(1..).all(|(x, s)| x.step == Some(s)));
    assert_eq!(r[0].value().to_bits(), 4.444345406625743f64.to_bits());
    assert_eq!(r[999].value().to_bits(), 0.7370871686463882f64.to_bits());
    // value_json is the bare text `NaN` at step 700.
    assert!(at(&got, 700).is_nan());
    let finite: Vec<&Record> = r.iter().filter(|x| x.value().is_finite()).collect();
    let max = finite
        .iter()
        .max_by(|a, b| a.value().total_cmp(&b.value()))
        .unwrap();
    assert_eq!((max.step, max.value()), (Some(17), 8.136013858477755));
    assert_eq!(finite.iter().filter(|x| x.value() > 1.0).count(), 435);
    for (step, peak) in [(150, 5.9516), (420, 4.7297), (830, 5.6575)] {
        assert!((at(&got, step) - peak).abs() < 5e-5, "spike at {step}");
    }
    // The loss of the same record beside it.
    assert_eq!(r[0].values[1], Some(2.1870176118827342));
    assert_eq!((got.skipped, src.pending()), (0, 0));
    assert_eq!(src.damage(), framing::Damage::default());
    let names = src.names();
    for n in ["train/grad_norm", "train/loss", "train/learning_rate"] {
        assert!(names.contains(&n.to_string()), "{names:?}");
    }
    let info = src.info();
    assert_eq!(info.id.as_deref(), Some("odlwprk3"));
    assert_eq!(info.name.as_deref(), Some("every-step"));
    assert_eq!(info.project.as_deref(), Some("trainwatch-holdout"));
    assert!(info.finished);
    assert_eq!(info.exit_code, Some(0));
    // The header's run record is enough for discovery.
    let head = run_info(&sample()).unwrap();
    assert_eq!((head.id, head.name), (info.id.clone(), info.name.clone()));
}

#[test]
fn read_once_and_metric_by_name() {
    assert_eq!(kind_of(&sample(), None), SourceKind::Wandb);
    let run = read_once(&SourceSpec::new(sample())).unwrap();
    assert_eq!(run.primary().len(), 1000);
    assert_eq!(run.primary().nonfinite(), 1);
    assert_eq!(run.format, Some(LogFormat::Wandb));
    let mut spec = SourceSpec::new(sample());
    spec.metric = MetricSpec::named("train/learning_rate");
    let lr = read_once(&spec).unwrap();
    assert_eq!(lr.primary().len(), 1000);
    assert_eq!(lr.primary().value(0), Some(0.0002));
    assert_eq!("wandb".parse::<LogFormat>(), Ok(LogFormat::Wandb));
}

#[test]
fn sparse_run_with_a_clip_config_and_an_infinity() {
    let (got, src) = read(&fixture("sparse.wandb"), &MetricSpec::gnorm());
    let steps: Vec<_> = got.records.iter().map(|r| r.step.unwrap()).collect();
    assert_eq!(steps, [5, 10, 15, 20, 25, 30, 35, 40]);
    assert_eq!(at(&got, 20), f64::INFINITY);
    assert_eq!(at(&got, 35), 8.75);
    assert_eq!(got.records[0].values[1], Some(2.0 / 5.0));
    // HF's max_grad_norm in the run's config.
    assert_eq!(got.clip, Some(0.5));
    assert_eq!(src.info().name.as_deref(), Some("sparse-run"));
    assert!(src.info().finished);
}

#[test]
fn a_killed_run_is_read_up_to_what_was_written() {
    let (got, src) = read(&fixture("killed.wandb"), &MetricSpec::gnorm());
    // wandb holds a step's row until the next step: 299 of 300 reached the file.
    assert_eq!(got.records.len(), 299);
    assert_eq!(got.records[298].step, Some(299));
    assert_eq!(got.records[298].value(), 1.0 + 299.0 / 100.0);
    assert!(!src.info().finished);
    assert_eq!(src.info().exit_code, None);
}

/// The offsets and types of every chunk.
fn chunks(b: &[u8]) -> Vec<(usize, usize, u8)> {
    let mut out = Vec::new();
    let mut off = framing::MAGIC.len();
    while off + 7 <= b.len() {
        let left = (framing::BLOCK as usize) - off % framing::BLOCK as usize;
        if left < 7 {
            off += left;
            continue;
        }
        let len = u16::from_le_bytes([b[off + 4], b[off + 5]]) as usize;
        out.push((off, len, b[off + 6]));
        off += 7 + len;
    }
    out
}

fn temp_with(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("run-test.wandb");
    fs::write(&p, bytes).unwrap();
    (dir, p)
}

#[test]
fn a_bad_crc_is_counted_and_skipped() {
    let mut b = fs::read(sample()).unwrap();
    // A full chunk holding one history record (Record.num = 1, then history = field 2).
    let (off, len, _) = chunks(&b)
        .into_iter()
        .find(|&(o, l, t)| {
            let p = &b[o + 7..o + 7 + l];
            t == 1 && p[0] == 0x08 && p.windows(15).any(|w| w == b"train/grad_norm") && {
                let n = p[1..].iter().position(|x| x & 0x80 == 0).unwrap();
                p[2 + n] == 0x12
            }
        })
        .unwrap();
    b[off + 7 + len / 2] ^= 0x40;
    let (_d, p) = temp_with(&b);
    let (got, src) = read(&p, &MetricSpec::gnorm());
    assert_eq!(got.records.len(), 999);
    assert_eq!(src.damage().bad_crc, 1);
    assert_eq!(got.skipped, 1);
    assert_eq!(got.records[999 - 1].step, Some(1000));
}

#[test]
fn a_torn_tail_waits_for_the_rest_of_the_block() {
    let b = fs::read(sample()).unwrap();
    let (off, len, _) = chunks(&b)[1500];
    let cut = off + 7 + len / 2;
    let (_d, p) = temp_with(&b[..cut]);
    let mut src = WandbSource::new(&p, &MetricSpec::gnorm());
    let mut got = Got::default();
    poll(&mut src, &mut got);
    let before = got.records.len();
    assert!(before > 0 && before < 1000);
    assert!(src.pending() > 0);
    // The rest of the block, then the rest of the file.
    let block_end = (cut / framing::BLOCK as usize + 1) * framing::BLOCK as usize;
    let mut f = OpenOptions::new().append(true).open(&p).unwrap();
    f.write_all(&b[cut..block_end.min(b.len())]).unwrap();
    poll(&mut src, &mut got);
    assert!(got.records.len() > before);
    f.write_all(&b[block_end.min(b.len())..]).unwrap();
    poll(&mut src, &mut got);
    assert_eq!(got.records.len(), 1000);
    assert_eq!((got.skipped, got.restarts, src.pending()), (0, 0, 0));
}

#[test]
fn a_run_being_written_block_by_block() {
    let b = fs::read(sample()).unwrap();
    let (_d, p) = temp_with(&[]);
    let mut src = WandbSource::new(&p, &MetricSpec::gnorm());
    let mut got = Got::default();
    let mut f = OpenOptions::new().append(true).open(&p).unwrap();
    let mut counts = Vec::new();
    for piece in b.chunks(framing::BLOCK as usize) {
        f.write_all(piece).unwrap();
        poll(&mut src, &mut got);
        counts.push(got.records.len());
    }
    assert!(counts.windows(2).all(|w| w[0] <= w[1]) && counts[0] < counts[5]);
    assert_eq!(got.records.len(), 1000);
    assert!(got.records.iter().zip(1..).all(|(x, s)| x.step == Some(s)));
    assert_eq!(got.restarts, 0);
    // Rewritten shorter: a restart, read again from the start.
    fs::write(&p, &b[..framing::BLOCK as usize * 2]).unwrap();
    poll(&mut src, &mut got);
    assert_eq!(got.restarts, 1);
}

/// A history record as wandb writes it: `_step`, the gradient norm, and a long other item.
fn history(step: u64, gnorm: &str, pad: usize) -> Vec<u8> {
    let item = |name: &str, json: &[u8]| {
        let mut i = Vec::new();
        encode::bytes(2, name.as_bytes(), &mut i);
        encode::bytes(16, json, &mut i);
        i
    };
    let mut h = Vec::new();
    encode::bytes(1, &item("_step", step.to_string().as_bytes()), &mut h);
    encode::bytes(1, &item("train/grad_norm", gnorm.as_bytes()), &mut h);
    let text = format!("\"{}\"", "x".repeat(pad));
    encode::bytes(1, &item("samples/text", text.as_bytes()), &mut h);
    let mut r = Vec::new();
    encode::uint(1, step, &mut r);
    encode::bytes(2, &h, &mut r);
    r
}

#[test]
fn a_record_split_across_blocks() {
    // 80 KiB: a first, a middle and a last chunk.
    let recs = vec![
        history(1, "0.5", 10),
        history(2, "Infinity", 80 << 10),
        history(3, "-Infinity", 10),
    ];
    let b = framing::write::frame(&recs);
    let types: Vec<u8> = chunks(&b).iter().map(|c| c.2).collect();
    assert_eq!(types, [1, 2, 3, 4, 1]);
    let (_d, p) = temp_with(&b);
    let (got, src) = read(&p, &MetricSpec::gnorm());
    let vals: Vec<_> = got.records.iter().map(|r| (r.step, r.value())).collect();
    assert_eq!(
        vals,
        [
            (Some(1), 0.5),
            (Some(2), f64::INFINITY),
            (Some(3), f64::NEG_INFINITY)
        ]
    );
    assert_eq!(src.pending(), 0);
    // The middle chunk damaged: the split record is lost (counted), the next one read.
    let mut bad = b.clone();
    let (off, _, _) = chunks(&b)[2];
    bad[off + 100] ^= 1;
    let (_d2, p2) = temp_with(&bad);
    let (got, src) = read(&p2, &MetricSpec::gnorm());
    let steps: Vec<_> = got.records.iter().map(|r| r.step).collect();
    assert_eq!(steps, [Some(1), Some(3)]);
    assert_eq!(src.damage().bad_crc, 1);
    assert!(got.skipped >= 1);
}

#[test]
fn not_a_wandb_file_says_so() {
    let (_d, p) = temp_with(b"step=1 gnorm=0.5\n");
    let mut src = WandbSource::new(&p, &MetricSpec::gnorm());
    let mut got = Got::default();
    poll(&mut src, &mut got);
    assert!(got.records.is_empty());
    assert!(src.error().is_some());
}

#[test]
fn a_followed_run_knows_a_copy_over_it_and_a_one_shot_read_reads_the_same() {
    // The real offline run (wandb 0.31, ../shared/samples). Followed: half of it read, then
    // the whole file copied over it (a new inode starting with the same bytes, as rsync
    // does): the fingerprint tells it is the same run grown, so no restart.
    let b = fs::read(sample()).unwrap();
    let (d, p) = temp_with(&b[..b.len() / 2]);
    let mut src = WandbSource::new(&p, &MetricSpec::gnorm());
    let mut followed = Got::default();
    poll(&mut src, &mut followed);
    assert!(followed.records.len() < 1000);
    let tmp = d.path().join("incoming");
    fs::write(&tmp, &b).unwrap();
    fs::rename(&tmp, &p).unwrap();
    poll(&mut src, &mut followed);
    assert_eq!((followed.records.len(), followed.restarts), (1000, 0));
    // A different file copied over it is a new run.
    let mut other = b.clone();
    let last = other.len() - 1;
    other[last / 2] ^= 0x40;
    fs::write(&tmp, &other).unwrap();
    fs::rename(&tmp, &p).unwrap();
    poll(&mut src, &mut followed);
    assert_eq!(followed.restarts, 1);

    // One-shot (no fingerprint kept): exactly the records of a followed read.
    let mut once = WandbSource::new(&sample(), &MetricSpec::gnorm());
    once.one_shot();
    let mut got = Got::default();
    poll(&mut once, &mut got);
    let (whole, _) = read(&sample(), &MetricSpec::gnorm());
    assert_eq!(got.records.len(), whole.records.len());
    assert!(got
        .records
        .iter()
        .zip(&whole.records)
        .all(|(a, w)| a.step == w.step && a.value().to_bits() == w.value().to_bits()));
}
