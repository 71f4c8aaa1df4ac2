//! Fault matrix, hostile pickles through the real binary: `trainwatch similarity FILE.pt` on a
//! REDUCE of `os.system`, a memo reference to a missing key, a 10⁹-element `torch.Size` and a
//! self-referencing list ends in a clean error that names the file and the refusal (exit 2,
//! no panic) within a bounded time, and nothing is executed. The files are hand-written
//! pickles in `torch.save`'s zip layout (`tests/pytorch_common`), as in `pytorch_hostile.rs`
//! (which checks the library); these check what a user sees.

mod pytorch_common;

use pytorch_common::{archive, f32_bytes, P};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `similarity` on `bytes` written as `name`; returns (exit code, stderr, stdout).
fn similarity(dir: &Path, name: &str, bytes: &[u8]) -> (Option<i32>, String, String) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg("similarity")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{name}: took {:?}",
        started.elapsed()
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{name}: {err}");
    (
        out.status.code(),
        err,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn reduce_of_os_system_is_refused_by_name_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let witness = dir.path().join("pwned");
    let p = P::proto(2)
        .global("os", "system")
        .str(&format!("touch {}", witness.display()))
        .op(b"\x85R")
        .stop();
    let (code, err, _) = similarity(dir.path(), "evil.pt", &archive(&p, &[]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("evil.pt") && err.contains("os.system"),
        "{err}"
    );
    assert!(!witness.exists(), "the pickle's command ran");
}

#[test]
fn memo_reference_to_a_missing_key_is_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = P::proto(2).op(b"h\x05").stop();
    let (code, err, _) = similarity(dir.path(), "memo.pt", &archive(&p, &[]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("memo.pt") && err.contains("memo entry 5"),
        "{err}"
    );
}

#[test]
fn billion_element_size_is_refused_without_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let p = P::proto(2)
        .op(b"}(")
        .str("w")
        .tensor("0", 4, 0, &[1_000_000_000], &[1])
        .op(b"u")
        .stop();
    let bytes = archive(&p, &[("0", &f32_bytes(&[0.; 4]))]);
    let (code, err, _) = similarity(dir.path(), "huge.pt", &bytes);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("huge.pt") && err.contains("tensor w"), "{err}");
}

#[test]
fn self_referencing_list_ends_and_the_table_beside_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // l = []; l.append(l); {"l": l, "wpe.weight": a 4×2 table}
    let table: Vec<f32> = (0..8).map(|i| (i as f32 * 0.7).sin()).collect();
    let p = P::proto(2)
        .op(b"}(")
        .str("l")
        .op(b"]q\x00h\x00a")
        .str("wpe.weight")
        .tensor("0", 8, 0, &[4, 2], &[2, 1])
        .op(b"u")
        .stop();
    let bytes = archive(&p, &[("0", &f32_bytes(&table))]);
    let (code, err, out) = similarity(dir.path(), "loop.pt", &bytes);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("wpe.weight"), "{out}");
}
