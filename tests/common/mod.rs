//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

pub mod screen;

/// A file of `../shared/samples/` (the real logs and tables; see its MANIFEST.md).
pub fn sample(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/samples")
        .join(rel)
}

/// The bytes of a safetensors file holding one F32 tensor `name` of `rows × cols`, values
/// from `f(row, col)`.
pub fn safetensors_f32(
    name: &str,
    rows: usize,
    cols: usize,
    f: impl Fn(usize, usize) -> f32,
) -> Vec<u8> {
    let n = rows * cols * 4;
    let mut header = format!(
        "{{\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{rows},{cols}],\"data_offsets\":[0,{n}]}}}}"
    )
    .into_bytes();
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    for r in 0..rows {
        for c in 0..cols {
            out.extend_from_slice(&f(r, c).to_le_bytes());
        }
    }
    out
}

/// A follower on one path, with the model built from its events, for tests that drive a real
/// file and check what was read.
pub struct Watch {
    pub rx: crossbeam_channel::Receiver<trainwatch::ingest::follow::IngestEvent>,
    pub model: trainwatch::run::RunData,
    pub events: Vec<trainwatch::ingest::follow::IngestEvent>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Watch {
    pub fn start(path: &std::path::Path) -> Self {
        let opts = trainwatch::ingest::SourceSpec::new(path);
        let model = trainwatch::run::RunData::empty(&opts);
        let (tx, rx) = crossbeam_channel::unbounded();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        trainwatch::ingest::follow::spawn(
            opts,
            std::time::Duration::from_millis(40),
            tx,
            stop.clone(),
        )
        .unwrap();
        Watch {
            rx,
            model,
            events: Vec::new(),
            stop,
        }
    }

    /// Applies events until `cond` holds (or fails after 10 s).
    pub fn until(&mut self, what: &str, cond: impl Fn(&Watch) -> bool) {
        use std::time::{Duration, Instant};
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cond(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; steps {:?}; events: {:?}",
                self.steps(),
                self.events
            );
            if let Ok(ev) = self.rx.recv_timeout(left.min(Duration::from_millis(100))) {
                self.model.apply(ev.clone());
                self.events.push(ev);
            }
        }
    }

    /// Keeps applying events for a while (to see that nothing more arrives).
    pub fn settle(&mut self) {
        let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
        self.until("settling", move |_| std::time::Instant::now() >= until);
    }

    pub fn steps(&self) -> Vec<u64> {
        self.model.steps.points().map(|p| p.0).collect()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
