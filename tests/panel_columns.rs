//! The panels' metrics read beside the gradient norm, from the real logs of
//! `../shared/samples/` (values checked against the files by hand; see MANIFEST.md): every
//! source that builds records fills the loss and learning-rate series point for point with
//! the charted metric, and a read without panels keeps none.

use trainwatch::ingest::SourceSpec;
use trainwatch::run::{read_once, RunData};

mod common;
use common::sample;

fn read(rel: &str) -> RunData {
    let panels: Vec<String> = ["gnorm", "loss", "lr"].map(String::from).to_vec();
    read_once(&SourceSpec::new(sample(rel)).with_panels(&panels)).unwrap()
}

/// The first point's (gnorm, loss, lr), and whether every panel has one point per point.
fn first(d: &RunData) -> (f64, f64, f64) {
    let n = d.steps.len();
    for p in &d.panels {
        assert_eq!(p.series.len(), n, "{} is not point for point", p.key.label);
    }
    let at = |l: &str| d.panel(l).and_then(|s| s.value(0)).unwrap_or(f64::NAN);
    (d.steps.value(0).unwrap_or(f64::NAN), at("loss"), at("lr"))
}

#[test]
fn text_logs_fill_loss_and_lr() {
    // fairseq simple: `loss=3.147, … lr=0.000157917, gnorm=0.489`.
    let d = read("fairseq-simple-syngec/train.log");
    assert_eq!(first(&d), (0.489, 3.147, 0.000157917));
    // Megatron-DeepSpeed: `learning rate: 1.875E-05 | … | lm loss: 1.244238E+01 | … | grad norm: 67.593`.
    let d = read("megatron-ds-gpt2-bigscience/meg_ds_3d_gpt2_perf_n16-ds-off.out");
    assert_eq!(first(&d), (67.593, 12.44238, 1.875e-05));
    // build-nanogpt: `step     0 | loss: 10.955010 | lr 8.3916e-07 | norm: 15.3421`.
    let d = read("wild/buildnanogpt-fineweb/nanogpt-train-1806877.out");
    assert_eq!(first(&d), (15.3421, 10.955010, 8.3916e-07));
    // ms-swift JSON lines: `"loss": 5.04565144, "grad_norm": 484.0, "learning_rate": 1.1e-07`.
    let d = read("wild/swift-logging-jsonl/logging.jsonl");
    assert_eq!(first(&d), (484.0, 5.04565144, 1.1e-07));
    // mmdetection: `lr: 1.236e-04, … loss: 1.5381, grad_norm: 6.5141`.
    let d = read("wild/mmdet2-eltd-r101/20210427_101754.log");
    assert_eq!(first(&d), (6.5141, 1.5381, 1.236e-04));
}

#[test]
fn trainer_state_and_wandb_fill_loss_and_lr() {
    // log_history[0]: grad_norm 1.0048305988311768, loss 2.0762, learning_rate 2.456140350877193e-06.
    let d = read("hf-trainer-state-tinyllama/trainer_state.json");
    assert_eq!(
        first(&d),
        (1.0048305988311768, 2.0762, 2.456140350877193e-06)
    );
    // train_wandb.py: step 1, lr = 1e-2 · 1 / 50 (warm-up).
    let d = read("wandb-offline/offline-run-20261201_071111-odlwprk3/run-odlwprk3.wandb");
    let (g, _, lr) = first(&d);
    assert_eq!((g, lr), (4.444345406625743, 0.0002));
    assert_eq!(d.panel("lr").map(|s| s.len()), Some(1000));
    // The MLflow run of the same maths: one file per metric, joined by step.
    let d = read("mlflow-filestore/mlruns/453133224139511400/36153c248699462fa33acf0b70deae5b");
    let (g, _, lr) = first(&d);
    assert_eq!((g, lr), (4.444345406625743, 0.0002));
    let lr = d.panel("lr").unwrap();
    // Warm-up to 1e-2 at step 50, cosine down to 1e-4 at step 1000.
    assert_eq!((lr.value(49), lr.value(999)), (Some(0.01), Some(0.0001)));
    assert!((0..lr.len()).all(|i| lr.value(i).is_some_and(f64::is_finite)));
}

#[test]
fn a_log_without_lr_has_nan_there_and_no_panels_read_nothing() {
    // fairseq json: values as JSON strings, `"lr": "2e-05", "gnorm": "20.751"`.
    let d = read("fairseq-fsdp-json/extracted_log_lines.log");
    assert_eq!(first(&d), (20.751, 16.475, 2e-05));
    // A TensorBoard file with no gradient norm is not read here; an HF trainer state with
    // learning rates but a panel nobody logs: all gaps (NaN), still point for point.
    let panels: Vec<String> = ["gnorm", "ppl"].map(String::from).to_vec();
    let spec = SourceSpec::new(sample("hf-trainer-state-viz/trainer_state.json"));
    let d = read_once(&spec.with_panels(&panels)).unwrap();
    let ppl = d.panel("ppl").unwrap();
    assert!(ppl.len() == d.steps.len() && !ppl.is_empty());
    assert!((0..ppl.len()).all(|i| ppl.value(i).is_some_and(f64::is_nan)));
    // The headless read: no panels.
    let d = read_once(&SourceSpec::new(sample("fairseq-simple-syngec/train.log"))).unwrap();
    assert!(d.panels.is_empty());
}

#[test]
fn charting_the_loss_puts_the_panels_after_it() {
    let panels: Vec<String> = ["loss", "gnorm", "lr"].map(String::from).to_vec();
    let mut spec = SourceSpec::new(sample("fairseq-simple-syngec/train.log"));
    spec.metric = trainwatch::ingest::MetricSpec::named("loss");
    let d = read_once(&spec.with_panels(&panels)).unwrap();
    let labels: Vec<&str> = d.panels.iter().map(|p| &*p.key.label).collect();
    assert_eq!(labels, ["gnorm", "lr"]);
    assert_eq!(d.steps.value(0), Some(3.147));
    assert_eq!(d.panel("gnorm").and_then(|s| s.value(0)), Some(0.489));
    assert_eq!(d.panel("lr").and_then(|s| s.value(0)), Some(0.000157917));
}
