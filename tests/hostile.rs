//! Hostile inputs on the real binary (issue 6): a tensor name with control characters in
//! `similarity --list`, and safetensors headers that are huge for real (not just claimed),
//! refused or read with bounded memory. Claimed-only lengths, absurd shapes and bad offsets
//! are covered in tests/checkpoint.rs.

use std::io::Write;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainwatch"))
}

/// A header of `header` bytes, then `data`.
fn raw_file(path: &std::path::Path, header: &[u8], data: &[u8]) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(&(header.len() as u64).to_le_bytes()).unwrap();
    f.write_all(header).unwrap();
    f.write_all(data).unwrap();
}

#[test]
fn similarity_list_never_prints_a_tensor_names_escapes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("evil.safetensors");
    let name = r"evil\u001b]52;c;ZXZpbA==\u0007\u001b]0;pwned\u0007\u001b[2J\u009b2J.wpe.weight";
    let header =
        format!("{{\"{name}\":{{\"dtype\":\"F32\",\"shape\":[4,2],\"data_offsets\":[0,32]}}}}");
    raw_file(&p, header.as_bytes(), &[0x3f; 32]);
    for args in [&["--list"][..], &[][..], &["--json"][..]] {
        let out = bin().arg("similarity").arg(&p).args(args).output().unwrap();
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(text.contains("wpe.weight"), "{args:?}: {text}");
        assert!(
            !all.contains(&0x1b),
            "{args:?}: ESC reached the terminal: {text:?}"
        );
        assert!(
            !text.contains('\u{9b}'),
            "{args:?}: C1 CSI reached the terminal"
        );
    }
}

/// Runs the binary with its address space capped at `mib` MiB (`ulimit -v`): a memory bound
/// that needs no timing and no extra tools. The checkpoint is mapped, so the map counts too.
fn run_capped(mib: u64, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", mib * 1024))
        .arg(env!("CARGO_BIN_EXE_trainwatch"))
        .args(args);
    cmd.output().unwrap()
}

#[test]
fn a_real_150_mb_header_is_refused_without_reading_it() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("huge.safetensors");
    // 150 MB of header really present (sparse: '{' then zeros), past the 100 MB limit.
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(&150_000_000u64.to_le_bytes()).unwrap();
    f.write_all(b"{").unwrap();
    f.set_len(8 + 150_000_000 + 64).unwrap();
    drop(f);
    // 256 MiB of address space: the 150 MB map fits, a heap copy of the header beside it
    // would not. (Measured: 6 MB peak RSS, refused at once.)
    let out = run_capped(
        256,
        &["similarity".as_ref(), "--list".as_ref(), p.as_os_str()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("huge.safetensors") && err.contains("exceeds"),
        "{err}"
    );
}

#[test]
fn a_99_mb_header_of_junk_metadata_is_read_with_bounded_memory() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("big.safetensors");
    // Just under the limit: a valid header whose metadata is one 99 MB string, and a table.
    let mut header =
        br#"{"wpe.weight":{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]},"__metadata__":{"junk":""#
            .to_vec();
    header.resize(header.len() + 99_000_000, b'a');
    header.extend_from_slice(b"\"}}");
    raw_file(&p, &header, &[0x3f; 32]);
    // Measured: ~200 MB peak RSS (the mapped header plus the parsed metadata string).
    let out = run_capped(
        256,
        &["similarity".as_ref(), "--list".as_ref(), p.as_os_str()],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("wpe.weight"), "{text}");
}
