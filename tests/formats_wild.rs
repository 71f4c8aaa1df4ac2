//! The formats of issue 10 on the real logs in `../shared/samples/wild/` (each file's
//! repository, path and commit are in its MANIFEST.md): the format named, exact counts, first
//! and last values and steps, the clip threshold and where it came from, duplicates, fp16
//! overflow notes, and the exactness of every `trainer_state.json` value.

use trainwatch::ingest::{LogFormat, MetricSpec, SourceSpec};
use trainwatch::run::{read_once, ClipSource, RunData};
use trainwatch::series::StepKind;

mod common;
use common::sample;

fn read_metric(rel: &str, metric: Option<&str>) -> RunData {
    let mut o = SourceSpec::new(sample(rel));
    if let Some(m) = metric {
        o.metric = MetricSpec::named(m);
    }
    read_once(&o).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn read(rel: &str) -> RunData {
    read_metric(&format!("wild/{rel}"), None)
}

fn points(m: &RunData) -> Vec<(u64, f64)> {
    m.primary().points().collect()
}

/// Format, count, first and last (step, value).
fn check(m: &RunData, format: LogFormat, n: usize, first: (u64, f64), last: (u64, f64)) {
    assert_eq!(m.format, Some(format));
    let p = points(m);
    assert_eq!(p.len(), n);
    assert_eq!(p[0], first);
    assert_eq!(p[n - 1], last);
}

#[test]
fn build_nanogpt_norm_is_the_gradient_norm() {
    let m = read("buildnanogpt-shakespeare/log.md");
    check(&m, LogFormat::Nanogpt, 26, (0, 6.74), (250, 0.08));
    assert_eq!(m.clip(), (Some(1.0), ClipSource::Default));
    assert_eq!(m.clip_framework(), Some("nanoGPT"));
    let m = read("buildnanogpt-fineweb/nanogpt-train-1806877.out");
    check(&m, LogFormat::Nanogpt, 19073, (0, 15.3421), (19072, 0.3197));
    // `--metric loss` is the key `loss`, not `validation loss: 10.95`.
    let l = read_metric(
        "wild/buildnanogpt-fineweb/nanogpt-train-1806877.out",
        Some("loss"),
    );
    check(
        &l,
        LogFormat::Nanogpt,
        19073,
        (0, 10.95501),
        (19072, 3.08329),
    );
}

#[test]
fn llmc_stdout_and_main_log() {
    let m = read("llmc-stdout-124M/gpt2_train.11685414.log");
    check(&m, LogFormat::Llmc, 19560, (1, 15.0789), (19560, 0.2241));
    // `loss 11.009662 (+nanz)|`: the z-score is not part of the value.
    let l = read_metric(
        "wild/llmc-stdout-124M/gpt2_train.11685414.log",
        Some("loss"),
    );
    check(
        &l,
        LogFormat::Llmc,
        19560,
        (1, 11.009662),
        (19560, 3.253402),
    );
    let m = read("llmc-mainlog-124M/main.log");
    check(&m, LogFormat::Llmc, 19552, (0, 14.96), (19551, 0.23));
    assert_eq!(m.clip_framework(), Some("llm.c"));
    let l = read_metric("wild/llmc-mainlog-124M/main.log", Some("trl"));
    check(&l, LogFormat::Llmc, 19552, (0, 11.0116), (19551, 3.2813));
}

#[test]
fn olmo_records_span_lines() {
    let m = read("olmo-issue692/issue692_excerpt.log");
    check(
        &m,
        LogFormat::Olmo,
        3,
        (1, 231.7),
        (3, 7.725906669975302e-08),
    );
    assert_eq!(points(&m)[1], (2, 0.0002));
    assert_eq!(m.clip().1, ClipSource::Unknown);
    let l = read_metric(
        "wild/olmo-issue692/issue692_excerpt.log",
        Some("train/CrossEntropyLoss"),
    );
    assert_eq!(
        points(&l),
        vec![(1, 12.18), (2, 1.7872662283480167e-06), (3, 0.0)]
    );
}

#[test]
fn mmdet_and_mmengine_with_their_config_clip_and_global_steps() {
    let m = read("mmdet2-eltd-r101/20210427_101754.log");
    // `Epoch [1][50/1581]` → step 50; the last record is `Epoch [13][300/1581]`.
    check(
        &m,
        LogFormat::Mmengine,
        378,
        (50, 6.5141),
        (12 * 1581 + 300, 3.4949),
    );
    assert_eq!(m.step_kind(), StepKind::Step);
    assert_eq!(m.clip(), (Some(10.0), ClipSource::Log));
    let m = read("mmdet2-eltd-r101/20210427_101754.log.json");
    assert_eq!(m.format, Some(LogFormat::Mmengine));
    assert_eq!(points(&m).len(), 372);
    assert_eq!(m.clip(), (Some(10.0), ClipSource::Log));
    let m = read("mmengine-yoloworld-issue190/issue190_excerpt.log");
    check(
        &m,
        LogFormat::Mmengine,
        5,
        (99 * 4309 + 50, 993.286),
        (99 * 4309 + 250, 1011.6809),
    );
    // The excerpt does not print the threshold and mmengine's default is no clipping, which
    // this run did not use: unknown, not an invented 1.0.
    assert_eq!(m.clip(), (None, ClipSource::Unknown));
    assert_eq!(m.primary().above_clip(), 0);
}

#[test]
fn swift_logs_every_step_twice_counted_once() {
    let m = read("swift-logging-jsonl/logging.jsonl");
    check(
        &m,
        LogFormat::JsonLines,
        2956,
        (1, 484.0),
        (14775, 0.00238037),
    );
    assert_eq!(m.primary().merged(), 5911 - 2956);
    assert_eq!(m.clip(), (None, ClipSource::Unknown));
}

#[test]
fn torchtune_steps_and_llamafactory_current_steps() {
    let l = read_metric("wild/torchtune-pr1358/pr1358_excerpt.log", Some("loss"));
    check(
        &l,
        LogFormat::KeyColon,
        12,
        (1, 2.085338592529297),
        (12, 1.1174635887145996),
    );
    let l = read_metric("wild/llamafactory-nsllm/trainer_log.jsonl", Some("loss"));
    check(&l, LogFormat::JsonLines, 435, (5, 2.3475), (2175, 1.9787));
}

#[test]
fn event_file_steps_are_the_events_own() {
    let rel = "wild/tfevents-100knock-nognorm/events.out.tfevents.1719128706.WendanoMacBook-Air.local.67792.0";
    let l = read_metric(rel, Some("Loss/Train_Loss"));
    assert_eq!(l.step_kind(), StepKind::Step);
    check(
        &l,
        LogFormat::TensorBoard,
        844,
        (0, 1.3807648420333862),
        (843, 0.9668583869934082),
    );
}

#[test]
fn any_csv_with_a_header_is_a_metrics_table() {
    let l = read_metric(
        "wild/ultralytics-yolov8/results.csv",
        Some("train/box_loss"),
    );
    check(&l, LogFormat::Csv, 474, (1, 1.14445), (474, 0.26856));
    let e = read_once(&SourceSpec::new(sample(
        "wild/ultralytics-yolov8/results.csv",
    )))
    .unwrap_err()
    .to_string();
    assert!(e.contains("no gradient norm"), "{e}");
    assert!(
        e.contains("metrics found (columns): epoch, time, train/box_loss"),
        "{e}"
    );
}

#[test]
fn framework_defaults_are_named_and_silent_logs_are_unknown() {
    let m = read("torchtitan-aurora-ezpz/output_excerpt.log");
    assert_eq!(m.format, Some(LogFormat::Torchtitan));
    assert_eq!(m.clip(), (Some(1.0), ClipSource::Default));
    assert_eq!(m.clip_framework(), Some("torchtitan"));
    let m = read("megatron-core-deeplink-qwenvl/readme_log_excerpt.md");
    assert_eq!(m.clip_framework(), Some("Megatron"));
    let m = read("hf-trainer-state-mistral-translator/trainer_state.json");
    assert_eq!(m.clip_framework(), Some("HF Trainer"));
    let m = read("fairseq-tqdm-100knock/train_output.log");
    assert_eq!(m.clip(), (None, ClipSource::Unknown));
}

/// Every `"grad_norm": X` of a trainer state, parsed from its text by `str::parse` (correctly
/// rounded), in file order.
fn grad_norms_by_text(text: &str) -> Vec<f64> {
    text.split("\"grad_norm\":")
        .skip(1)
        .map(|rest| {
            let tok: String = rest
                .trim_start()
                .chars()
                .take_while(|c| !matches!(c, ',' | '}' | '\n'))
                .collect();
            tok.trim().parse::<f64>().unwrap()
        })
        .collect()
}

#[test]
fn trainer_state_values_are_exact_to_the_bit() {
    for rel in [
        "llamafactory-nsllm/trainer_state.json",
        "hf-trainer-state-mistral-translator/trainer_state.json",
    ] {
        let text = std::fs::read_to_string(sample(&format!("wild/{rel}"))).unwrap();
        let want = grad_norms_by_text(&text);
        let got: Vec<f64> = points(&read(rel)).iter().map(|p| p.1).collect();
        assert_eq!(got.len(), want.len(), "{rel}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.to_bits(), w.to_bits(), "{rel}: record {i}: {g} vs {w}");
        }
    }
}

#[test]
fn fp16_overflow_notes_are_counted_not_divergence() {
    let m = read_metric("fairseq-simple-syngec/train.log", None);
    assert_eq!(m.overflows, 98);
    assert_eq!(m.loss_scale, Some(32768.0));
    assert_eq!(m.unexplained_nonfinite(), 0);
    // The README's excerpt holds two runs, each with two overflow notes.
    let m = read_metric("fairseq-fsdp-json/extracted_log_lines.log", None);
    assert_eq!(m.overflows, 4);
    assert_eq!(m.loss_scale, Some(1.0));
    assert_eq!(m.restarts(), 1);
}
