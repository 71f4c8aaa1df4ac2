//! `trainwatch gnorm PATH --follow --jsonl` on the real binary, its stdout read line by line
//! and its stderr kept: the fault-matrix tests drive it and compare what it printed. Included
//! with `#[path]` by the tests that follow a source.
#![allow(dead_code)] // each test binary uses a different subset

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Follow {
    pub child: Child,
    pub lines: Receiver<Vec<u8>>,
    /// Every line read so far, parsed.
    pub seen: Vec<Value>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Follow {
    pub fn start(log: &Path, extra: &[&str]) -> Follow {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
            .arg("gnorm")
            .arg(log)
            .args(["--follow", "--jsonl", "--poll-ms", "50"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = channel();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || loop {
            let mut line = Vec::new();
            match out.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let e = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                e.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Follow {
            child,
            lines: rx,
            seen: Vec::new(),
            stderr,
        }
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    fn take(&mut self, line: Vec<u8>) {
        assert_eq!(line.last(), Some(&b'\n'), "a line without its newline");
        let v: Value = serde_json::from_slice(&line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&line)));
        self.seen.push(v);
    }

    /// Waits until `n` lines have been read in all.
    pub fn until_lines(&mut self, n: usize) {
        let deadline = Instant::now() + DEADLINE;
        while self.seen.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.take(l),
                Err(_) => panic!(
                    "{} of {n} lines after the deadline: {:?}\nstderr: {}",
                    self.seen.len(),
                    self.seen,
                    self.stderr()
                ),
            }
        }
    }

    pub fn until_stderr(&self, what: &str) {
        let deadline = Instant::now() + DEADLINE;
        while !self.stderr().contains(what) {
            assert!(
                Instant::now() < deadline,
                "stderr never said {what:?}: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Stops it with `sig` and returns every line it printed and its stderr; checks exit 0.
    pub fn finish_with(mut self, sig: &str) -> (Vec<Value>, String) {
        // Give a late, wrong extra line the chance to show up before the stop.
        std::thread::sleep(Duration::from_millis(300));
        self.signal(sig);
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "did not exit on {sig}");
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.take(l);
        }
        assert!(status.success(), "exit {status}; stderr: {}", self.stderr());
        let err = self.stderr();
        (std::mem::take(&mut self.seen), err)
    }

    pub fn finish(self) -> (Vec<Value>, String) {
        self.finish_with("-TERM")
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
