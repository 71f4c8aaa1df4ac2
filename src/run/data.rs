//! What trainwatch knows about one run's metric: its series (per-step and per-epoch), format,
//! clip threshold and where it came from, and the counts a user should see. Changed only by
//! the reducer ([`super::reduce`]), which the one-shot reader, the TUI and `--follow` share.

use crate::core::{CheckpointRef, LogFormat, MetricKey, Role, RunEnd, RunLabel};
use crate::series::{ExplosionParams, Series, StepKind};
use std::path::PathBuf;

/// Where the clipping threshold came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipSource {
    /// `--clip`.
    Flag,
    /// The log printed it (a config dump, a command line), or fairseq's missing `clip=` field
    /// said "off".
    Log,
    /// The writing framework's own default ([`LogFormat::clip_default`]); for a metric that is
    /// not the gradient norm: none.
    Default,
    /// Nothing says, and the format does not identify a framework with a default: no
    /// threshold is invented.
    Unknown,
}

impl ClipSource {
    /// As written to `gnorm --json` (`"clip": {"from": …}`).
    pub fn name(self) -> &'static str {
        match self {
            ClipSource::Flag => "flag",
            ClipSource::Log => "log",
            ClipSource::Default => "default",
            ClipSource::Unknown => "unknown",
        }
    }
}

/// A panel's metric (the loss, the learning rate, …): a plain series with one point per point
/// of [`RunData::steps`] (NaN where the record lacked it), so the charted metric's x-axis,
/// window and columns apply to it unchanged.
#[derive(Debug, Clone)]
pub struct PanelSeries {
    pub key: MetricKey,
    pub series: Series,
}

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
    /// Steps skipped for mixed-precision overflow, as the log's notes report them.
    pub overflows: u64,
    /// The run's checkpoints, in step order (for "the last good checkpoint" of an explosion).
    pub checkpoints: Vec<CheckpointRef>,
    /// The loss scale the last overflow note set.
    pub loss_scale: Option<f64>,
    /// Explosions already announced as changes, per series (steps, epochs).
    pub(super) announced: [usize; 2],
    /// Tab 1's panels below the charted metric (empty for the headless commands).
    pub panels: Vec<PanelSeries>,
    /// The source said the run ended (and nothing was logged after that); a restart or new
    /// records make it live again.
    pub finished: Option<RunEnd>,
    /// What the tracker that wrote the run calls it (W&B, MLflow).
    pub label: Option<RunLabel>,
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
            overflows: 0,
            checkpoints: Vec::new(),
            loss_scale: None,
            announced: [0, 0],
            panels: Vec::new(),
            finished: None,
            label: None,
        };
        m.refresh_clip();
        m
    }

    /// Nothing read yet, for what `spec` asks.
    pub fn empty(spec: &crate::ingest::SourceSpec) -> Self {
        let mut d = RunData::new(spec.path.clone(), spec.metric.key(), spec.clip, spec.params);
        d.panels = spec
            .metric
            .panel_keys()
            .into_iter()
            .map(|key| PanelSeries {
                key,
                series: Series::plain(),
            })
            .collect();
        d
    }

    /// The series of the panel metric labelled `label`, if the run keeps one.
    pub fn panel(&self, label: &str) -> Option<&Series> {
        self.panels
            .iter()
            .find(|p| p.key.label == label)
            .map(|p| &p.series)
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
        } else if let Some((d, _)) = self.format.and_then(LogFormat::clip_default) {
            (Some(d), ClipSource::Default)
        } else {
            (None, ClipSource::Unknown)
        };
        (v.filter(|c| *c > 0.0), src)
    }

    /// The framework whose default threshold is in force ([`ClipSource::Default`]).
    pub fn clip_framework(&self) -> Option<&'static str> {
        self.format
            .and_then(LogFormat::clip_default)
            .map(|(_, name)| name)
    }

    /// Sets the format when it is not known yet (the clip default depends on it).
    pub fn set_format(&mut self, format: Option<LogFormat>) {
        if self.format.is_none() && format.is_some() {
            self.format = format;
            self.refresh_clip();
        }
    }

    /// The newest checkpoint saved before the explosion `e` of the series shown started.
    pub fn last_good(&self, e: &crate::series::ExplosionEvent) -> Option<&CheckpointRef> {
        let start = self.primary().step(e.start)?;
        crate::core::checkpoint::last_before(&self.checkpoints, start)
    }

    /// Non-finite values that overflow notes do not explain: the run is diverging.
    pub fn unexplained_nonfinite(&self) -> u64 {
        (self.primary().nonfinite() as u64).saturating_sub(self.overflows)
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
