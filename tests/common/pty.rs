//! The real binary in a pseudo-terminal, its screen read through a VT100 parser (ratatui
//! redraws only changed cells, so the parsed screen is searched, not the raw bytes), for the
//! fault tests that watch what the TUI shows.
#![allow(dead_code)] // each user takes a different subset

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Tui {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    pub child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    _master: Box<dyn MasterPty + Send>,
}

impl Tui {
    /// `BIN ARGS…` on a `cols × rows` terminal.
    pub fn start_bin(
        bin: &std::path::Path,
        args: &[&std::ffi::OsStr],
        cols: u16,
        rows: u16,
    ) -> Tui {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(bin);
        for a in args {
            cmd.arg(a);
        }
        cmd.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (p, r) = (parser.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
                let mut raw = r.lock().unwrap();
                raw.extend_from_slice(&buf[..n]);
                // Only the tail is looked at (the terminal handed back).
                if raw.len() > 1 << 20 {
                    let cut = raw.len() - 4096;
                    raw.drain(..cut);
                }
            }
        });
        Tui {
            parser,
            raw,
            child,
            writer,
            _master: pair.master,
        }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().unwrap()
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
                "{what} never showed; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn child_alive(&self) -> bool {
        // `try_wait` needs `&mut`; /proc tells without reaping.
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .is_ok_and(|s| !s.contains(") Z "))
    }

    pub fn keys(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// The screen row holding `needle`, if one does.
    pub fn row_with(&self, needle: &str) -> Option<String> {
        self.screen()
            .lines()
            .find(|l| l.contains(needle))
            .map(str::to_string)
    }

    /// Quits with `q` and checks the terminal was handed back: alternate screen left, cursor
    /// shown, exit status 0.
    pub fn quit_restored(&mut self) {
        self.keys("q");
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "did not exit on q");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "exit status {status:?}");
        std::thread::sleep(Duration::from_millis(100));
        let raw = self.raw.lock().unwrap().clone();
        let tail = &raw[raw.len().saturating_sub(400)..];
        let has = |needle: &[u8]| tail.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"\x1b[?1049l"), "alternate screen not left");
        assert!(has(b"\x1b[?25h"), "cursor not shown");
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains("panicked"), "{text}");
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
