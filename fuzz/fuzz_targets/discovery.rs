//! Run-folder discovery on a generated tree (sweeps, Lightning versions, W&B and MLflow runs,
//! event files, checkpoints), then a one-shot read of every run it finds, as the CLI does.
//! Must hold: discovery is a function of the tree (twice: the same manifest); every chosen
//! source lies inside the root; reading a found source never panics and its error names it
//! without control characters.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use trainwatch::discovery::{discover, Request};
use trainwatch::ingest::{MetricSpec, SourceSpec};

const DIRS: [&str; 16] = [
    "",
    "run_a",
    "run_b",
    "run_a/lightning_logs/version_0",
    "run_a/lightning_logs/version_1",
    "wandb/offline-run-20260101_000000-abc",
    "wandb/run-20260101_000001-def/files",
    "mlruns/1/abcd",
    "mlruns/1/abcd/metrics",
    "mlruns/1/abcd/metrics/train",
    "runs/exp1",
    "checkpoint-100",
    "run_a/checkpoint-200",
    "run_b/checkpoints",
    "logs",
    "run_b/tb",
];

const FILES: [&str; 16] = [
    "train.log",
    "events.out.tfevents.1700000000.host",
    "trainer_state.json",
    "metrics.csv",
    "run-abc.wandb",
    "model.safetensors",
    "meta.yaml",
    "grad_norm",
    "checkpoint_last.pt",
    "pytorch_model.bin",
    "output.log",
    "mlflow.db",
    "model.safetensors.index.json",
    "results.csv",
    "events.out.tfevents.1600000000.x",
    "stdout.txt",
];

fn templates() -> Vec<Vec<u8>> {
    use trainwatch::ingest::tfevents::encode;
    vec![
        Vec::new(),
        b"step=1 gnorm=0.5\nstep=2 gnorm=0.7\n".to_vec(),
        br#"{"log_history":[{"step":1,"grad_norm":0.5}]}"#.to_vec(),
        b"epoch,step,grad_norm\n0,1,0.5\n".to_vec(),
        trainwatch::ingest::wandb::framing::MAGIC.to_vec(),
        b"1700000000000 0.5 1\n".to_vec(),
        b"PK\x03\x04".to_vec(),
        b"run_id: x\n".to_vec(),
        encode::record(&encode::scalar_event(1.0, 3, "train/grad_norm", 0.25)),
        b"\x80\x02}q\x00.".to_vec(),
        b"SQLite format 3\0".to_vec(),
        b"{\"weight_map\":{\"a\":\"model.safetensors\"}}".to_vec(),
    ]
}

fuzz_target!(|data: &[u8]| {
    let root = common::fresh_dir("discovery");
    let t = templates();
    let mut rest = data;
    let mut made = 0;
    while let [d, f, c, tail @ ..] = rest {
        let n = (*c as usize / t.len()).min(tail.len());
        let (extra, next) = tail.split_at(n);
        rest = next;
        let dir = root.join(DIRS[*d as usize % DIRS.len()]);
        let _ = std::fs::create_dir_all(&dir);
        let mut content = t[*c as usize % t.len()].clone();
        content.extend_from_slice(extra);
        let _ = std::fs::write(dir.join(FILES[*f as usize % FILES.len()]), content);
        made += 1;
        if made >= 24 {
            break;
        }
    }
    let req = Request::new(&root, &MetricSpec::gnorm());
    let a = discover(&req);
    let b = discover(&req);
    match (&a, &b) {
        (Ok(x), Ok(y)) => assert_eq!(x, y, "discovery is not a function of the tree"),
        (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
        _ => panic!("discovering twice disagrees"),
    }
    let Ok(m) = a else { return };
    assert!(!m.runs.is_empty());
    for run in &m.runs {
        let p = run.source_path();
        assert!(p.starts_with(&root), "{} outside the root", p.display());
        let _ = run.describe();
        if let Err(e) = trainwatch::run::read_once(&SourceSpec::new(p)) {
            let s = e.to_string();
            assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        }
    }
    let _ = m.names();
});
