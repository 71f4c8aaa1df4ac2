//! `trainwatch demo` removes its temporary folder on every way out: `q`, SIGTERM, SIGINT,
//! SIGHUP, and the terminal closing under it (the kernel hangs up the session). The real
//! binary in a pseudo-terminal, with `TMPDIR` pointed at a folder of the test's own, so what
//! is left behind can be listed.

use std::path::Path;

#[path = "common/pty.rs"]
mod pty;
use pty::Tui;

/// `trainwatch demo` with `TMPDIR` at `tmp`, once it has drawn its banner.
fn start(tmp: &Path) -> Tui {
    let tmp = tmp.to_str().expect("a UTF-8 temporary folder");
    let t = Tui::start(&["demo".as_ref()], &[("TMPDIR", tmp)], 100, 30);
    t.wait_for("SIMULATED DATA");
    t
}

fn demo_dirs(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("trainwatch-demo-"))
        .collect()
}

fn ends_clean(how: impl FnOnce(&mut Tui)) {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = start(tmp.path());
    assert_eq!(
        demo_dirs(tmp.path()).len(),
        1,
        "the demo writes into TMPDIR"
    );
    how(&mut d);
    d.wait_exit(10);
    assert_eq!(demo_dirs(tmp.path()), Vec::<String>::new(), "left behind");
}

#[test]
fn demo_folder_removed_on_q() {
    ends_clean(|d| d.keys("q"));
}

#[test]
fn demo_folder_removed_on_sigterm() {
    ends_clean(|d| d.signal("-TERM"));
}

#[test]
fn demo_folder_removed_on_sigint() {
    ends_clean(|d| d.signal("-INT"));
}

#[test]
fn demo_folder_removed_on_sighup() {
    ends_clean(|d| d.signal("-HUP"));
}

#[test]
fn demo_folder_removed_when_the_terminal_closes() {
    ends_clean(|d| {
        // Closing the master side is what a terminal emulator does when its window closes
        // (the demo redraws as its run advances, so the reader wakes and lets go too).
        d.hang_up();
    });
}
