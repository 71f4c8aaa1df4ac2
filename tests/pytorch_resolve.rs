//! PyTorch checkpoints as users point at them: a folder holding `pytorch_model.bin` beside
//! the HF Trainer's training state, `checkpoint-<step>/` folders, a fairseq checkpoint with
//! no table stored, and many mutated copies of a real file (never a panic). The files are
//! the committed fixtures of `tests/fixtures/pytorch/` (see `make.py` there).

use std::path::{Path, PathBuf};

use trainwatch::checkpoint::{compute_similarity, list_candidates, ReadMode, SimilarityRequest};
use trainwatch::tensor::PytorchStore;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pytorch")
        .join(name)
}

fn req(path: &Path) -> SimilarityRequest {
    SimilarityRequest {
        path: path.to_path_buf(),
        tensor: None,
        rows: None,
        blocks: 8,
        sinusoidal: None,
        read: ReadMode::Mapped,
    }
}

#[test]
fn a_trainer_folder_reads_the_weights_not_the_training_state() {
    // An HF Trainer `checkpoint-<step>/` as `save_pretrained(safe_serialization=False)` and
    // the Trainer leave it: the weights and, written after them, optimizer/scheduler/rng/args
    // (here copies of other fixtures, so that picking one would show).
    let d = tempfile::tempdir().unwrap();
    let ck = d.path().join("out").join("checkpoint-500");
    std::fs::create_dir_all(&ck).unwrap();
    std::fs::copy(fixture("state_dict.bin"), ck.join("pytorch_model.bin")).unwrap();
    for state in [
        "optimizer.pt",
        "scheduler.pt",
        "rng_state.pth",
        "training_args.bin",
    ] {
        std::fs::copy(fixture("dtypes.pt"), ck.join(state)).unwrap();
    }
    let out = d.path().join("out");
    let list = list_candidates(&out, ReadMode::Mapped).unwrap();
    assert_eq!(list.resolved.step, Some(500));
    assert!(list.resolved.main_path().ends_with("pytorch_model.bin"));
    assert_eq!(list.candidates[0].name, "wpe.weight");
    // Without pytorch_model.bin, the newest file that is not training state.
    std::fs::remove_file(ck.join("pytorch_model.bin")).unwrap();
    std::fs::copy(fixture("legacy.pt"), ck.join("model.pt")).unwrap();
    let list = list_candidates(&out, ReadMode::Mapped).unwrap();
    assert!(list.resolved.main_path().ends_with("model.pt"));
}

#[test]
fn a_step_in_a_torch_file_name_is_read() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("checkpoint1200.pt");
    std::fs::copy(fixture("views.pt"), &p).unwrap();
    let report = compute_similarity(&req(&p)).unwrap();
    assert_eq!(report.title.step, Some(1200));
}

#[test]
fn a_fairseq_checkpoint_without_a_table_offers_the_formula_with_its_args() {
    // make.py: fairseq_namespace.pt's args: max_source_positions 1024, encoder_embed_dim 16.
    let e = compute_similarity(&req(&fixture("fairseq_namespace.pt"))).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("try --sinusoidal 1024,16"), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[test]
fn mutated_real_files_never_panic() {
    // A deterministic byte-flipper over the pickle and directory of real archives and the
    // legacy stream: every result is a store or an error.
    for file in [
        "views.pt",
        "legacy.pt",
        "fairseq_omegaconf.pt",
        "lightning.ckpt",
    ] {
        let whole = std::fs::read(fixture(file)).unwrap();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..1500 {
            let mut bytes = whole.clone();
            for _ in 0..3 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let at = (seed >> 33) as usize % bytes.len();
                bytes[at] = (seed >> 13) as u8;
            }
            if let Ok(store) = PytorchStore::from_bytes(file, bytes) {
                use trainwatch::tensor::TensorStore;
                for t in store.tensors() {
                    let _ = store.tensor_bytes(t);
                }
            }
        }
    }
}
