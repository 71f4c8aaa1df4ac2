//! A short run of each fuzz target (examples/fuzz.rs) on every `cargo test`: no panic on
//! mutated samples. The long runs: `cargo run --release --example fuzz -- all 1000000`.

#[path = "../examples/fuzz.rs"]
mod fuzz;

fn smoke(target: &str, executions: u64) {
    let crashes = tempfile::tempdir().unwrap();
    let o = fuzz::fuzz(target, executions, 7, crashes.path());
    assert_eq!(
        o.crashes,
        0,
        "{target}: crashing inputs saved under {} (kept)",
        crashes.keep().display()
    );
}

#[test]
fn lines_smoke() {
    smoke("lines", 3_000);
}

#[test]
fn framing_smoke() {
    smoke("framing", 3_000);
}

#[test]
fn decoder_smoke() {
    smoke("decoder", 3_000);
}

#[test]
fn safetensors_smoke() {
    smoke("safetensors", 500);
}
