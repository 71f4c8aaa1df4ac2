//! Inputs the fuzz targets (fuzz/) found, replayed through the real binary: each must end in
//! a clean error (exit 2, the file named, no panic, nothing a terminal would interpret).
//! The bytes are the libFuzzer crash artifacts, kept in `tests/fixtures/regress/`.

use std::path::Path;
use std::process::Command;

fn replay(fixture: &str, subcommand: &str, name: &str) -> String {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/regress")
            .join(fixture),
    )
    .unwrap();
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg(subcommand)
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked") && err.contains(name), "{err}");
    assert!(
        !err.trim_end().chars().any(|c| c.is_control()),
        "control characters reach the terminal: {err:?}"
    );
    err
}

/// fuzz target `pytorch`: a legacy pickle whose refused global (`nt.…`) carries control
/// characters and NULs in its name; the refusal quoted them raw.
#[test]
fn refused_global_with_control_characters_is_printable() {
    let err = replay(
        "pytorch-refused-global-control-chars.pt",
        "similarity",
        "model.pt",
    );
    assert!(err.contains("refused: the pickle calls nt."), "{err}");
}
