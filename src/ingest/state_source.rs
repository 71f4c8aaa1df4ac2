//! Hugging Face `trainer_state.json` as a [`Source`]: rewritten whole at every save, so it is
//! re-read when it changes and only the entries beyond those already sent are new.

use super::decoder::Batch;
use super::follow::RestartReason;
use super::formats::{LogFormat, MetricSpec};
use super::source::{Source, Update};
use super::trainer_state;
use crate::watch::identity::FileIdentity;
use std::io;
use std::path::{Path, PathBuf};

/// `trainer_state.json`, re-read whole when it changes; only entries beyond those already sent
/// are sent when the earlier ones are unchanged, else everything again after a restart.
#[derive(Debug)]
pub struct StateSource {
    path: PathBuf,
    metric: MetricSpec,
    /// The file as last parsed: unchanged, it is not read again.
    seen: Option<FileIdentity>,
    sent: Vec<(Option<u64>, u64)>,
    keys: Vec<String>,
    /// Why the last read could not be parsed (a write caught half-way is retried).
    pub last_error: Option<String>,
}

impl StateSource {
    pub fn new(path: &Path, metric: &MetricSpec) -> Self {
        StateSource {
            path: path.to_path_buf(),
            metric: metric.clone(),
            seen: None,
            sent: Vec::new(),
            keys: Vec::new(),
            last_error: None,
        }
    }

    fn look(&mut self) -> io::Result<(Vec<Update>, bool)> {
        let Some(sig) = FileIdentity::stat(&self.path)? else {
            return Ok((Vec::new(), false));
        };
        if self.seen == Some(sig) {
            return Ok((Vec::new(), true));
        }
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), false)),
            Err(e) => return Err(e),
        };
        let parsed = match trainer_state::parse(&bytes, &self.metric) {
            Ok(p) => p,
            Err(e) => {
                // Probably caught mid-write: look again next time.
                self.last_error = Some(e);
                return Ok((Vec::new(), true));
            }
        };
        self.last_error = None;
        self.seen = Some(sig);
        self.keys = parsed.keys;
        let now: Vec<(Option<u64>, u64)> = parsed
            .records
            .iter()
            .map(|r| (r.step, r.value().to_bits()))
            .collect();
        let mut out = Vec::new();
        let keep = if now.len() >= self.sent.len() && now[..self.sent.len()] == self.sent[..] {
            self.sent.len()
        } else {
            out.push(Update::Restart(RestartReason::Truncated));
            0
        };
        let first = self.sent.is_empty() && keep == 0 && out.is_empty();
        let mut steps = crate::core::Records::new(self.metric.columns());
        parsed.records[keep..].iter().for_each(|r| steps.push(*r));
        let batch = Batch {
            steps,
            skipped: if keep == 0 { parsed.skipped } else { 0 },
            detected: Some(LogFormat::HfTrainerState),
            ended: parsed.finished.then_some(crate::core::RunEnd::Finished),
            lines: if first || keep == 0 {
                parsed.entries
            } else {
                0
            },
            ..Batch::default()
        };
        self.sent = now;
        out.push(Update::Batch(batch));
        Ok((out, true))
    }
}

impl Source for StateSource {
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool> {
        let (updates, exists) = self.look()?;
        updates.into_iter().for_each(each);
        Ok(exists)
    }

    fn names(&self) -> Vec<String> {
        self.keys.clone()
    }

    fn error(&self) -> Option<String> {
        self.last_error.clone()
    }
}
