//! `trainwatch demo` removes its temporary folder on every way out: `q`, SIGTERM, SIGINT,
//! SIGHUP, and the terminal closing under it (the kernel hangs up the session). The real
//! binary in a pseudo-terminal, with `TMPDIR` pointed at a folder of the test's own, so what
//! is left behind can be listed.

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Demo {
    screen: Arc<Mutex<vt100::Parser>>,
    /// Set: the reader lets go of its copy of the master after its next read.
    hang_up: Arc<AtomicBool>,
    child: Box<dyn Child + Send + Sync>,
    writer: Option<Box<dyn Write + Send>>,
    master: Option<Box<dyn MasterPty + Send>>,
}

fn start(tmp: &Path) -> Demo {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 30,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_trainwatch"));
    cmd.arg("demo");
    cmd.env("TERM", "xterm-256color");
    cmd.env("TMPDIR", tmp);
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer = pair.master.take_writer().unwrap();
    let screen = Arc::new(Mutex::new(vt100::Parser::new(30, 100, 0)));
    let s = screen.clone();
    let hang_up = Arc::new(AtomicBool::new(false));
    let h = hang_up.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || h.load(Ordering::Relaxed) {
                break;
            }
            s.lock().unwrap().process(&buf[..n]);
        }
    });
    let d = Demo {
        screen,
        hang_up,
        child,
        writer: Some(writer),
        master: Some(pair.master),
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !d
        .screen
        .lock()
        .unwrap()
        .screen()
        .contents()
        .contains("SIMULATED DATA")
    {
        assert!(Instant::now() < deadline, "the demo never drew its banner");
        std::thread::sleep(Duration::from_millis(20));
    }
    d
}

fn demo_dirs(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("trainwatch-demo-"))
        .collect()
}

impl Demo {
    fn signal(&self, sig: &str) {
        let pid = self.child.process_id().unwrap();
        let ok = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    fn wait_exit(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the demo did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn ends_clean(how: impl FnOnce(&mut Demo)) {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = start(tmp.path());
    assert_eq!(
        demo_dirs(tmp.path()).len(),
        1,
        "the demo writes into TMPDIR"
    );
    how(&mut d);
    d.wait_exit();
    assert_eq!(demo_dirs(tmp.path()), Vec::<String>::new(), "left behind");
}

#[test]
fn demo_folder_removed_on_q() {
    ends_clean(|d| {
        let w = d.writer.as_mut().unwrap();
        w.write_all(b"q").unwrap();
        w.flush().unwrap();
    });
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
        d.hang_up.store(true, Ordering::Relaxed);
        d.writer = None;
        d.master = None;
    });
}
