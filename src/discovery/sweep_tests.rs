//! Sweeps told from single runs, on the real sample logs copied into temporary folders.

use super::*;
use std::fs;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples");

fn sample(rel: &str) -> Vec<u8> {
    fs::read(Path::new(SAMPLES).join(rel)).unwrap()
}

fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

fn gnorm() -> MetricSpec {
    MetricSpec::gnorm()
}

#[test]
fn subfolders_with_logs_are_a_sweep_named_from_the_common_root() {
    let dir = tempfile::tempdir().unwrap();
    let fairseq = sample("fairseq-simple-syngec/train.log");
    let megatron = sample("megatron-104B-spikes-bigscience/iteration_lines.log");
    put(dir.path(), "lr_1e-3/train.log", &fairseq);
    put(dir.path(), "lr_1e-4/logs/train.log", &megatron);
    put(
        dir.path(),
        "hf/checkpoint-10/trainer_state.json",
        &sample("hf-trainer-state-viz/trainer_state.json"),
    );
    put(dir.path(), "hf/checkpoint-10/model.safetensors", b"");
    put(dir.path(), "notes/readme.txt", b"nothing here\n");
    let m = discover(&Request::new(dir.path(), &gnorm())).unwrap();
    assert_eq!(m.root, dir.path());
    assert_eq!(m.names(), ["hf", "lr_1e-3", "lr_1e-4"]);
    let hf = &m.runs[0];
    assert_eq!(hf.found_source().unwrap().kind, SourceKind::TrainerState);
    assert_eq!(hf.checkpoints.found.len(), 1, "the run's own checkpoint");
    assert_eq!(
        m.runs[2].source_path(),
        dir.path().join("lr_1e-4/logs/train.log")
    );
}

#[test]
fn a_log_beside_its_checkpoint_folders_is_one_run() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "train.log",
        &sample("fairseq-simple-syngec/train.log"),
    );
    let state = sample("hf-trainer-state-viz/trainer_state.json");
    for step in [100, 200] {
        put(
            dir.path(),
            &format!("out/checkpoint-{step}/trainer_state.json"),
            &state,
        );
        put(
            dir.path(),
            &format!("out/checkpoint-{step}/model.safetensors"),
            b"",
        );
    }
    let m = discover(&Request::new(dir.path(), &gnorm())).unwrap();
    assert_eq!(m.runs.len(), 1);
    assert_eq!(m.runs[0].source_path(), dir.path().join("train.log"));
    assert_eq!(m.runs[0].checkpoints.found.len(), 2);
    assert_eq!(
        m.names(),
        [dir.path().file_name().unwrap().to_string_lossy()]
    );

    // The log one folder down: still one run, the checkpoints' folder is not a second one.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "logs/train.log",
        &sample("fairseq-simple-syngec/train.log"),
    );
    put(dir.path(), "out/checkpoint-100/trainer_state.json", &state);
    put(dir.path(), "out/checkpoint-100/model.safetensors", b"");
    let m = discover(&Request::new(dir.path(), &gnorm())).unwrap();
    assert_eq!(m.runs.len(), 1);
    assert_eq!(m.runs[0].source_path(), dir.path().join("logs/train.log"));
}

#[test]
fn output_dirs_of_trainer_states_and_nested_sweeps() {
    let dir = tempfile::tempdir().unwrap();
    let state = sample("hf-trainer-state-tinyllama/trainer_state.json");
    put(dir.path(), "a/checkpoint-5/trainer_state.json", &state);
    put(dir.path(), "b/checkpoint-5/trainer_state.json", &state);
    let m = discover(&Request::new(dir.path(), &gnorm())).unwrap();
    assert_eq!(m.names(), ["a", "b"]);

    let dir = tempfile::tempdir().unwrap();
    let log = sample("megatron-ds-gpt2-bigscience/meg_ds_3d_gpt2_perf_n16-ds-off.out");
    for rel in ["lr1/seed1", "lr1/seed2", "lr2/seed1"] {
        put(dir.path(), &format!("{rel}/train.log"), &log);
    }
    let m = discover(&Request::new(dir.path(), &gnorm())).unwrap();
    // A folder holding one run is that run.
    assert_eq!(m.names(), ["lr1/seed1", "lr1/seed2", "lr2"]);
    assert_eq!(
        m.runs[2].source_path(),
        dir.path().join("lr2/seed1/train.log")
    );
}

#[test]
fn several_paths_are_one_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample("fairseq-simple-syngec/train.log");
    put(dir.path(), "x/train.log", &log);
    put(dir.path(), "y/train.log", &log);
    let paths = [dir.path().join("x/train.log"), dir.path().join("y")];
    let m = discover_all(&paths, &Request::new("", &gnorm())).unwrap();
    assert_eq!(m.root, dir.path());
    assert_eq!(m.names(), ["x/train.log", "y"]);
    // One path is exactly `discover`.
    let one = discover_all(&paths[..1], &Request::new("", &gnorm())).unwrap();
    assert_eq!(one, discover(&Request::new(&paths[0], &gnorm())).unwrap());
}

#[test]
fn a_new_run_in_an_open_sweep_is_picked_up_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample("fairseq-simple-syngec/train.log");
    put(dir.path(), "a/train.log", &log);
    put(dir.path(), "b/train.log", &log);
    let req = Request::new(dir.path(), &gnorm());
    let m = discover(&req).unwrap();
    let mut w = sweep_watch::SweepWatch::new(req, &m.runs);
    assert!(w.poll().is_empty());
    // A folder before its log: not a run yet.
    fs::create_dir(dir.path().join("c")).unwrap();
    assert!(w.poll().is_empty());
    put(dir.path(), "c/train.log", &log);
    let new = w.poll();
    assert_eq!(new.len(), 1);
    assert_eq!(w.name_of(&new[0]), "c");
    assert_eq!(new[0].source_path(), dir.path().join("c/train.log"));
    assert!(w.poll().is_empty(), "found once");
}

#[test]
fn loggers_folders_of_one_run_are_not_a_sweep_but_their_versions_are() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample("fairseq-simple-syngec/train.log");
    // One run logging to a text log and to TensorBoard-style folders.
    put(dir.path(), "logs/train.log", &log);
    put(dir.path(), "lightning_logs/version_0/train.log", &log);
    let m = discover(&Request::new(dir.path(), &gnorm())).unwrap();
    assert_eq!(m.runs.len(), 1);
    // Two versions under lightning_logs/: two runs.
    put(dir.path(), "lightning_logs/version_1/train.log", &log);
    let m = discover(&Request::new(dir.path(), &gnorm())).unwrap();
    assert_eq!(m.names(), ["version_0", "version_1"]);
}

#[test]
fn a_resumed_wandb_run_in_an_open_sweep_is_not_a_new_run() {
    let dir = tempfile::tempdir().unwrap();
    let wandb = sample("wandb-offline/offline-run-20261201_071111-odlwprk3/run-odlwprk3.wandb");
    put(
        dir.path(),
        "offline-run-20261201_071111-odlwprk3/run-odlwprk3.wandb",
        &wandb,
    );
    put(
        dir.path(),
        "offline-run-20261201_081111-other01/run-other01.wandb",
        &wandb,
    );
    let req = Request::new(dir.path(), &gnorm());
    let m = discover(&req).unwrap();
    assert_eq!(m.runs.len(), 2);
    let mut w = sweep_watch::SweepWatch::new(req, &m.runs);
    // `resume=` writes a new folder of the same id: the open run reads on into it.
    put(
        dir.path(),
        "offline-run-20261201_091111-odlwprk3/run-odlwprk3.wandb",
        &wandb,
    );
    assert!(w.poll().is_empty());
    put(
        dir.path(),
        "offline-run-20261201_101111-third01/run-third01.wandb",
        &wandb,
    );
    let new = w.poll();
    assert_eq!(new.len(), 1);
    assert_eq!(w.name_of(&new[0]), "offline-run-20261201_101111-third01");
}
