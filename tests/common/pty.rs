//! The real binary in a pseudo-terminal, its screen read through a VT100 parser (ratatui
//! redraws only changed cells, so the parsed screen is searched, not the raw bytes): one
//! harness for the end-to-end tests (`tests/pty.rs`), the demo's ways out
//! (`tests/fault_demo.rs`) and the fault and soak tests that watch what the TUI shows.
#![allow(dead_code)] // each user takes a different subset

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Raw output kept: beyond this only the tail is (the terminal handed back is looked at
/// there; a soak's megabytes of frames are not needed).
const RAW_CAP: usize = 16 << 20;

pub struct Tui {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    pub child: Box<dyn Child + Send + Sync>,
    writer: Option<Box<dyn Write + Send>>,
    master: Option<Box<dyn MasterPty + Send>>,
    /// Set: the reader lets go of its copy of the master after its next read.
    hang_up: Arc<AtomicBool>,
}

fn size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

impl Tui {
    /// `trainwatch ARGS…` on a `cols × rows` terminal, with `env` set (and `NO_COLOR` unset).
    pub fn start(args: &[&OsStr], env: &[(&str, &str)], cols: u16, rows: u16) -> Tui {
        Self::spawn(bin(), None, args, env, cols, rows)
    }

    /// [`start`](Self::start) in the folder `cwd`.
    pub fn start_in(
        cwd: Option<&Path>,
        args: &[&OsStr],
        env: &[(&str, &str)],
        cols: u16,
        rows: u16,
    ) -> Tui {
        Self::spawn(bin(), cwd, args, env, cols, rows)
    }

    /// `BIN ARGS…` on a `cols × rows` terminal (a release binary, for the soaks).
    pub fn start_bin(bin: &Path, args: &[&OsStr], cols: u16, rows: u16) -> Tui {
        Self::spawn(bin, None, args, &[], cols, rows)
    }

    fn spawn(
        bin: &Path,
        cwd: Option<&Path>,
        args: &[&OsStr],
        env: &[(&str, &str)],
        cols: u16,
        rows: u16,
    ) -> Tui {
        let pair = native_pty_system().openpty(size(cols, rows)).unwrap();
        let mut cmd = CommandBuilder::new(bin);
        for a in args {
            cmd.arg(a);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        if let Some(d) = cwd {
            cmd.cwd(d);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let hang_up = Arc::new(AtomicBool::new(false));
        let (p, r, h) = (parser.clone(), raw.clone(), hang_up.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || h.load(Ordering::Relaxed) {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
                let mut raw = r.lock().unwrap();
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > RAW_CAP {
                    let cut = raw.len() - 4096;
                    raw.drain(..cut);
                }
            }
        });
        Tui {
            parser,
            raw,
            child,
            writer: Some(writer),
            master: Some(pair.master),
            hang_up,
        }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Everything the program wrote (up to [`RAW_CAP`]).
    pub fn raw(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().unwrap()
    }

    /// Waits up to 15 s for `what` on the screen.
    pub fn wait_for(&self, what: &str) {
        self.wait_until(what, 15, |s| s.contains(what));
    }

    /// Waits up to `secs` for the screen to satisfy `cond`.
    pub fn wait_until(&self, what: &str, secs: u64, cond: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !cond(&self.screen()) {
            assert!(
                self.child_alive(),
                "the TUI exited waiting for {what}; screen:\n{}",
                self.screen()
            );
            assert!(
                Instant::now() < deadline,
                "'{what}' never appeared; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn child_alive(&self) -> bool {
        // `try_wait` needs `&mut`; /proc tells without reaping.
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .is_ok_and(|s| !s.contains(") Z "))
    }

    pub fn keys(&mut self, s: &str) {
        let w = self.writer.as_mut().expect("the terminal was closed");
        w.write_all(s.as_bytes()).unwrap();
        w.flush().unwrap();
    }

    /// The screen row holding `needle`, if one does.
    pub fn row_with(&self, needle: &str) -> Option<String> {
        self.screen()
            .lines()
            .find(|l| l.contains(needle))
            .map(str::to_string)
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.parser
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(rows, cols);
        let master = self.master.as_ref().expect("the terminal was closed");
        master.resize(size(cols, rows)).unwrap();
    }

    /// Sends `sig` (`-TERM`, `-HUP`, …) to the program.
    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Closes the terminal under the program, as a terminal emulator does when its window
    /// closes (the reader lets go of its copy of the master after its next read).
    pub fn hang_up(&mut self) {
        self.hang_up.store(true, Ordering::Relaxed);
        self.writer = None;
        self.master = None;
    }

    /// Waits up to `secs` for the program to end; its exit status.
    pub fn wait_exit(&mut self, secs: u64) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "did not exit; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the program to end and checks the terminal was handed back: alternate
    /// screen left, cursor shown, no panic message.
    pub fn assert_exits_restored(&mut self) {
        self.wait_exit(10);
        std::thread::sleep(Duration::from_millis(100));
        let raw = self.raw();
        let tail = &raw[raw.len().saturating_sub(400)..];
        let has = |needle: &[u8]| tail.windows(needle.len()).any(|w| w == needle);
        assert!(
            has(b"\x1b[?1049l"),
            "alternate screen not left: {:?}",
            String::from_utf8_lossy(tail)
        );
        assert!(
            has(b"\x1b[?25h"),
            "cursor not shown: {:?}",
            String::from_utf8_lossy(tail)
        );
        assert!(!self.parser.lock().unwrap().screen().alternate_screen());
        assert!(
            !String::from_utf8_lossy(&raw).contains("panicked"),
            "a panic message reached the terminal"
        );
    }

    /// Quits with `q`: the terminal handed back and exit status 0.
    pub fn quit_restored(&mut self) {
        self.keys("q");
        let status = self.wait_exit(15);
        assert!(status.success(), "exit status {status:?}");
        self.assert_exits_restored();
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary cargo built for the integration tests (examples pass theirs to
/// [`Tui::start_bin`]).
fn bin() -> &'static Path {
    match option_env!("CARGO_BIN_EXE_trainwatch") {
        Some(bin) => Path::new(bin),
        None => panic!("no trainwatch binary: pass one to `Tui::start_bin`"),
    }
}

/// A process's resident memory in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
