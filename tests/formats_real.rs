//! Every parser on the real logs in `../shared/samples/` (see its MANIFEST.md): exact counts,
//! first and last values, and — for fidelity — the whole series compared with an independent
//! extraction written here with plain string splitting.

use trainwatch::ingest::{LogFormat, MetricSpec, SourceSpec};
use trainwatch::run::read_once;
use trainwatch::run::ClipSource;
use trainwatch::series::StepKind;

mod common;
use common::sample;

fn read(rel: &str) -> trainwatch::run::RunData {
    read_once(&SourceSpec::new(sample(rel))).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn points(m: &trainwatch::run::RunData) -> Vec<(u64, f64)> {
    m.primary().points().collect()
}

/// `key=value` from a comma-separated fairseq line, by plain splitting.
fn kv(line: &str, key: &str) -> Option<String> {
    line.split([',', ' ']).find_map(|t| {
        t.trim()
            .strip_prefix(&format!("{key}="))
            .map(str::to_string)
    })
}

#[test]
fn fairseq_simple_syngec() {
    let m = read("fairseq-simple-syngec/train.log");
    assert_eq!(m.format, Some(LogFormat::FairseqSimple));
    let p = points(&m);
    assert_eq!(p.len(), 1101);
    assert_eq!(p[0], (40100, 0.489));
    assert_eq!(p[1100], (150100, 0.668));
    assert_eq!(m.clip(), (Some(5.0), ClipSource::Log));
    assert_eq!(
        m.primary().above_clip(),
        0,
        "MANIFEST: no gnorm above the clip norm"
    );
    assert_eq!(m.primary().events().len(), 0);
    assert_eq!(
        m.epochs.len(),
        390,
        "epoch-end `| train |` summaries kept apart"
    );
    assert_eq!(m.restarts(), 0);
    assert_eq!(m.skipped_records, 0);
    assert!(!m.per_epoch());

    // Fidelity: the series is exactly the train_inner lines, in file order.
    let text = std::fs::read_to_string(sample("fairseq-simple-syngec/train.log")).unwrap();
    let expected: Vec<(u64, f64)> = text
        .lines()
        .filter(|l| l.contains("| train_inner |"))
        .map(|l| {
            (
                kv(l, "num_updates").unwrap().parse().unwrap(),
                kv(l, "gnorm").unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(p, expected);
}

#[test]
fn fairseq_json_fsdp_strings_and_two_runs() {
    let m = read("fairseq-fsdp-json/extracted_log_lines.log");
    assert_eq!(m.format, Some(LogFormat::FairseqJson));
    let p = points(&m);
    assert_eq!(p.len(), 20);
    assert_eq!(p[0], (1, 20.751));
    assert_eq!(p[2], (3, 131.281), "the jump after the overflow NOTEs");
    // No `clip` field in fairseq's output means --clip-norm was 0: clipping off.
    assert_eq!(m.clip(), (None, ClipSource::Log));
    assert_eq!(
        m.restarts(),
        1,
        "the second run starts again at num_updates 1"
    );
    assert_eq!(m.epochs.len(), 2, "the `| train |` summaries (train_gnorm)");

    let text =
        std::fs::read_to_string(sample("fairseq-fsdp-json/extracted_log_lines.log")).unwrap();
    let expected: Vec<(u64, f64)> = text
        .lines()
        .filter(|l| l.contains("train_inner"))
        .map(|l| {
            let obj: serde_json::Value = serde_json::from_str(&l[l.find('{').unwrap()..]).unwrap();
            (
                obj["num_updates"].as_str().unwrap().parse().unwrap(),
                obj["gnorm"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(p, expected);
}

#[test]
fn fairseq_legacy_epoch_lines_are_charted_per_epoch() {
    let m = read("fairseq-legacy-docs/epoch_lines.log");
    assert_eq!(m.format, Some(LogFormat::FairseqLegacy));
    assert!(m.per_epoch(), "nothing finer than epoch summaries");
    assert_eq!(points(&m), vec![(3726, 1.290), (20852, 0.218)]);
}

#[test]
fn megatron_deepspeed_with_argument_dump() {
    let rel = "megatron-ds-gpt2-bigscience/meg_ds_3d_gpt2_perf_n16-ds-off.out";
    let m = read(rel);
    assert_eq!(m.format, Some(LogFormat::Megatron));
    let p = points(&m);
    assert_eq!(p.len(), 62);
    assert_eq!(p[0], (1, 67.593));
    assert_eq!(p[61].1, 8.017);
    assert_eq!(
        m.clip(),
        (Some(1.0), ClipSource::Log),
        "clip_grad ..... 1.0"
    );

    let text = std::fs::read_to_string(sample(rel)).unwrap();
    let expected: Vec<(u64, f64)> = text
        .lines()
        .filter(|l| l.contains("grad norm:"))
        .map(|l| {
            let segs: Vec<&str> = l.split('|').collect();
            let it = segs[0].trim().strip_prefix("iteration").unwrap();
            let step = it.split('/').next().unwrap().trim().parse().unwrap();
            let g = segs
                .iter()
                .find_map(|s| s.trim().strip_prefix("grad norm:"))
                .unwrap();
            (step, g.trim().parse().unwrap())
        })
        .collect();
    assert_eq!(p, expected);
}

#[test]
fn megatron_104b_spikes_are_an_explosion() {
    let m = read("megatron-104B-spikes-bigscience/iteration_lines.log");
    let p = points(&m);
    assert_eq!(p.len(), 18);
    assert_eq!(p[0], (7000, 98258.265));
    assert_eq!(p[17], (9027, 20609.780));
    let max = p.iter().map(|x| x.1).fold(0.0, f64::max);
    assert!((3.27e6..3.28e6).contains(&max));
    let ev = m.primary().events();
    assert_eq!(ev.len(), 1);
    assert_eq!(m.primary().step(ev[0].peak), Some(8741));
    assert_eq!(ev[0].peak_value, max);
    // The excerpts jump back twice (rollbacks to earlier checkpoints).
    assert_eq!(m.restarts(), 2);
}

#[test]
fn metric_flag_charts_loss_from_the_same_log() {
    let mut o = SourceSpec::new(sample("fairseq-simple-syngec/train.log"));
    o.metric = MetricSpec::named("loss");
    let m = read_once(&o).unwrap();
    let p = points(&m);
    assert_eq!(p.len(), 1101);
    assert_eq!(p[0], (40100, 3.147));
    assert_eq!(m.clip().0, None, "loss has no clip threshold");
}

#[test]
fn lightning_csv_without_gnorm_is_a_clear_error() {
    let e = read_once(&SourceSpec::new(sample("lightning-csv-slm/metrics.csv")))
        .expect_err("no gradient norm in that file");
    let msg = e.to_string();
    assert!(msg.contains("metrics.csv"), "{msg}");
    assert!(msg.contains("no gradient norm"), "{msg}");
}

#[test]
fn hf_stdout_fixture_uses_record_index() {
    // transformers 4.x stdout as written through tqdm (`\r` frames, dict after padding):
    // no real file in samples/, so a fixture of the exact shape the MANIFEST gives.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hf.log");
    let mut s = String::new();
    for i in 1..=5 {
        s.push_str(&format!(
            "\r  {}%|##   | {i}/500 [00:0{i}<01:52,  3.74it/s]",
            i
        ));
        s.push_str(&format!(
            "\r                                                  \r{{'loss': 1.{i}, 'grad_norm': {}.5, 'learning_rate': 2e-05, 'epoch': 0.0{i}}}\n",
            i
        ));
    }
    s.push_str(
        "{'loss': '4.389', 'grad_norm': 'nan', 'learning_rate': '0', 'epoch': '0.0006863'}\n",
    );
    std::fs::write(&path, s).unwrap();
    let m = read_once(&SourceSpec::new(&path)).unwrap();
    assert_eq!(m.format, Some(LogFormat::HfTrainer));
    assert_eq!(m.step_kind(), StepKind::Index);
    let p = points(&m);
    assert_eq!(p.len(), 6);
    assert_eq!(p[0], (1, 1.5));
    assert_eq!(p[4], (5, 5.5));
    assert!(p[5].1.is_nan());
    assert_eq!(m.primary().nonfinite(), 1);
}
