//! Copying reads (what the TUI uses, so that a checkpoint truncated in place cannot kill it
//! with SIGBUS): the same results as the memory-mapped path, and the same errors.

use std::path::PathBuf;
use std::process::Command;
use trainwatch::checkpoint::safetensors::use_copying_reads;
use trainwatch::checkpoint::{compute_similarity, SimilarityRequest};

fn whisper() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/samples/whisper-tiny-positions/whisper_tiny_positions.safetensors")
}

#[test]
fn copying_reads_match_the_mapped_results_and_report_truncation() {
    use_copying_reads();
    let r = compute_similarity(&SimilarityRequest {
        path: whisper(),
        tensor: None,
        rows: None,
        blocks: 32,
        sinusoidal: None,
    })
    .unwrap();
    // The binary (mapped reads) on the same file.
    let out = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .args(["similarity", "--json", "--size", "32"])
        .arg(whisper())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for i in 0..32 {
        for j in 0..32 {
            let mapped = v["matrix"][i][j].as_f64().unwrap();
            assert!((mapped - r.map.matrix[[i, j]]).abs() < 1e-12, "({i}, {j})");
        }
    }
    // A file cut short: an incomplete checkpoint, not a crash.
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.safetensors");
    let bytes = std::fs::read(whisper()).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = compute_similarity(&SimilarityRequest {
        path: cut,
        tensor: None,
        rows: None,
        blocks: 8,
        sinusoidal: None,
    })
    .unwrap_err();
    assert!(e.is_incomplete(), "{e}");
}
