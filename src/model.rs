//! What trainwatch knows about one log: its series (per-step and per-epoch), format, clip
//! threshold and where it came from, and the counts a user should see. Built from
//! [`Batch`]es by the one-shot reader and the live follower alike.

use crate::ingest::decoder::Batch;
use crate::ingest::formats::LogFormat;
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

#[derive(Debug, Clone)]
pub struct LogModel {
    pub source: PathBuf,
    pub metric: String,
    pub format: Option<LogFormat>,
    /// Per-step records.
    pub steps: Series,
    /// Epoch aggregates (fairseq `| train |` summaries): shown only when there are no steps.
    pub epochs: Series,
    clip_flag: Option<f64>,
    clip_declared: Option<f64>,
    clip_field: Option<bool>,
    pub skipped_lines: u64,
    /// Truncations and replacements of the file seen while following it.
    pub file_restarts: u64,
    pub lines: u64,
}

impl LogModel {
    pub fn new(
        source: PathBuf,
        metric: &str,
        clip_flag: Option<f64>,
        params: ExplosionParams,
    ) -> Self {
        let mut m = LogModel {
            source,
            metric: metric.to_string(),
            format: None,
            steps: Series::new(None, params),
            epochs: Series::new(None, params),
            clip_flag,
            clip_declared: None,
            clip_field: None,
            skipped_lines: 0,
            file_restarts: 0,
            lines: 0,
        };
        m.refresh_clip();
        m
    }

    /// The threshold in force (`None`: clipping off) and its source.
    pub fn clip(&self) -> (Option<f64>, ClipSource) {
        // Clipping thresholds apply to gradient norms only; another metric has none unless a
        // flag sets one.
        let gnorm = self.metric == "gnorm";
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

    fn refresh_clip(&mut self) {
        let (c, _) = self.clip();
        self.steps.set_clip(c);
        self.epochs.set_clip(c);
    }

    pub fn apply(&mut self, batch: Batch) {
        if self.format.is_none() {
            self.format = batch.detected;
        }
        let clip_before = (self.clip_declared, self.clip_field);
        if batch.clip_declared.is_some() {
            self.clip_declared = batch.clip_declared;
        }
        if self.clip_field.is_none() {
            self.clip_field = batch.clip_field;
        }
        if (self.clip_declared, self.clip_field) != clip_before {
            self.refresh_clip();
        }
        self.skipped_lines += batch.skipped;
        self.lines += batch.lines;
        for r in batch.steps {
            self.steps.push(r.step, r.value, r.loss, r.frame);
        }
        for r in batch.aggregates {
            self.epochs.push(r.step, r.value, r.loss, None);
        }
    }

    /// The file was truncated or replaced: the next record starts a new run.
    pub fn mark_restart(&mut self) {
        self.file_restarts += 1;
        self.steps.mark_restart();
        self.epochs.mark_restart();
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
