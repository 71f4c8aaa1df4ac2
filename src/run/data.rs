//! What trainwatch knows about one run's metric: its series (per-step and per-epoch), format,
//! clip threshold and where it came from, and the counts a user should see. Changed only by
//! the reducer ([`super::reduce`]), which the one-shot reader, the TUI and `--follow` share.

use crate::core::{LogFormat, MetricKey, Role};
use crate::series::{ExplosionParams, Series, StepKind};
use std::path::PathBuf;

/// Where the clipping threshold came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipSource {
    Flag,
    Log,
    Default,
}

impl ClipSource {
    pub fn name(self) -> &'static str {
        match self {
            ClipSource::Flag => "flag",
            ClipSource::Log => "log",
            ClipSource::Default => "default",
        }
    }
}

/// The clip threshold the framework used when nothing says otherwise (HF `max_grad_norm`).
pub const DEFAULT_CLIP: f64 = 1.0;

/// A run's data: the charted metric's series and what its source said about itself.
#[derive(Debug, Clone)]
pub struct RunData {
    pub source: PathBuf,
    /// The charted metric (its label, as shown and written to JSON, and its role).
    pub metric: MetricKey,
    pub format: Option<LogFormat>,
    /// Per-step records.
    pub steps: Series,
    /// Epoch aggregates (fairseq `| train |` summaries): shown only when there are no steps.
    pub epochs: Series,
    clip_flag: Option<f64>,
    pub(super) clip_declared: Option<f64>,
    pub(super) clip_field: Option<bool>,
    /// Records that could not be read: lines naming the metric with an unreadable value, lines
    /// over the length cap, torn or corrupt records (`skipped_lines` in `gnorm --json`).
    pub skipped_records: u64,
    /// Truncations and replacements of the file seen while following it.
    pub file_restarts: u64,
    pub lines: u64,
    /// Explosions already announced as changes, per series (steps, epochs).
    pub(super) announced: [usize; 2],
}

impl RunData {
    pub fn new(
        source: PathBuf,
        metric: MetricKey,
        clip_flag: Option<f64>,
        params: ExplosionParams,
    ) -> Self {
        let mut m = RunData {
            source,
            metric,
            format: None,
            steps: Series::new(None, params),
            epochs: Series::new(None, params),
            clip_flag,
            clip_declared: None,
            clip_field: None,
            skipped_records: 0,
            file_restarts: 0,
            lines: 0,
            announced: [0, 0],
        };
        m.refresh_clip();
        m
    }

    /// Nothing read yet, for what `spec` asks.
    pub fn empty(spec: &crate::ingest::SourceSpec) -> Self {
        RunData::new(spec.path.clone(), spec.metric.key(), spec.clip, spec.params)
    }

    /// The threshold in force (`None`: clipping off) and its source.
    pub fn clip(&self) -> (Option<f64>, ClipSource) {
        // Clipping thresholds apply to gradient norms only; another metric has none unless a
        // flag sets one.
        let gnorm = self.metric.role == Role::GradNorm;
        let (v, src) = if let Some(f) = self.clip_flag {
            (Some(f), ClipSource::Flag)
        } else if !gnorm {
            (None, ClipSource::Default)
        } else if let Some(d) = self.clip_declared {
            (Some(d), ClipSource::Log)
        } else if self.clip_field == Some(false) {
            // fairseq prints `clip=` only when --clip-norm > 0: its absence says "off".
            (None, ClipSource::Log)
        } else {
            (Some(DEFAULT_CLIP), ClipSource::Default)
        };
        (v.filter(|c| *c > 0.0), src)
    }

    pub(super) fn refresh_clip(&mut self) {
        let (c, _) = self.clip();
        self.steps.set_clip(c);
        self.epochs.set_clip(c);
    }

    /// The series to show: per-step records, or the epoch aggregates when the log has nothing
    /// finer.
    pub fn primary(&self) -> &Series {
        if self.steps.is_empty() && !self.epochs.is_empty() {
            &self.epochs
        } else {
            &self.steps
        }
    }

    pub fn per_epoch(&self) -> bool {
        self.steps.is_empty() && !self.epochs.is_empty()
    }

    pub fn step_kind(&self) -> StepKind {
        self.primary().step_kind()
    }

    /// Restarts: file truncations/replacements plus step regressions in the series.
    pub fn restarts(&self) -> usize {
        self.primary().restarts().len()
    }
}
