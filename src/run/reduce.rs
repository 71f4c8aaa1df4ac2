//! The one reducer: what a source event does to a run's data. The one-shot reader, the TUI and
//! `--follow` all apply events here, so they cannot disagree about what a batch means.
//!
//! Records are applied one at a time, and each change is handed to the caller as it happens:
//! a new point, an explosion as it stood when it opened (a later point of the same batch may
//! raise its peak), a restart. `--follow` prints them; the TUI and the one-shot reader only
//! need the sums in [`Changes`].

use super::data::RunData;
use crate::core::{Batch, Records, RestartReason, Role};
use crate::ingest::follow::IngestEvent;
use crate::series::{ExplosionEvent, Series};

/// Which of a run's series a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesId {
    /// Per-step records.
    Steps,
    /// Epoch aggregates (fairseq `| train |` summaries).
    Epochs,
}

impl SeriesId {
    fn slot(self) -> usize {
        match self {
            SeriesId::Steps => 0,
            SeriesId::Epochs => 1,
        }
    }
}

/// One change, in source order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// Point `index` of the series was added.
    Point { series: SeriesId, index: usize },
    /// An explosion opened (or was found again after the clip threshold changed); the event
    /// as it stood then.
    Explosion {
        series: SeriesId,
        event: ExplosionEvent,
    },
    /// The source restarted: what follows is a new run of the job.
    Restart(RestartReason),
}

/// What one event changed, in sum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Changes {
    /// How much the series shown ([`RunData::primary`]) grew (or changed length, when epoch
    /// aggregates gave way to per-step records).
    pub points: usize,
    /// Explosions announced.
    pub explosions: usize,
    pub restart: Option<RestartReason>,
}

impl RunData {
    /// Applies one source event (status events change nothing here).
    pub fn apply(&mut self, ev: IngestEvent) -> Changes {
        self.apply_changes(ev, false, &mut |_, _| {})
    }

    /// Applies one source event, handing each change to `each` as it happens, with the data
    /// as it stands right after it.
    pub fn apply_each(
        &mut self,
        ev: IngestEvent,
        each: &mut dyn FnMut(&RunData, Change),
    ) -> Changes {
        self.apply_changes(ev, true, each)
    }

    /// [`RunData::apply_each`]; `points` false: no [`Change::Point`] is handed out (the sums
    /// need none, and a read of millions of points saves a call for each).
    fn apply_changes(
        &mut self,
        ev: IngestEvent,
        points: bool,
        each: &mut dyn FnMut(&RunData, Change),
    ) -> Changes {
        let mut sum = Changes::default();
        let had = self.primary().len();
        let mut tell = |data: &RunData, c: Change| {
            if matches!(c, Change::Explosion { .. }) {
                sum.explosions += 1;
            }
            each(data, c);
        };
        match ev {
            IngestEvent::Batch(b) => self.apply_batch(b, points, &mut tell),
            IngestEvent::Restart(r) => {
                self.mark_restart();
                sum.restart = Some(r);
                tell(self, Change::Restart(r));
            }
            IngestEvent::Waiting
            | IngestEvent::Reading { .. }
            | IngestEvent::Following
            | IngestEvent::Error(_) => {}
        }
        sum.points = self.primary().len().abs_diff(had);
        sum
    }

    /// The source was truncated or replaced: the next record starts a new run.
    pub fn mark_restart(&mut self) {
        self.file_restarts += 1;
        self.finished = None;
        self.steps.mark_restart();
        self.epochs.mark_restart();
        for p in &mut self.panels {
            p.series.mark_restart();
        }
    }

    fn apply_batch(&mut self, mut b: Batch, points: bool, tell: &mut dyn FnMut(&RunData, Change)) {
        self.set_format(b.detected);
        self.overflows += b.overflows;
        if b.loss_scale.is_some() {
            self.loss_scale = b.loss_scale;
        }
        let clip_before = (self.clip_declared, self.clip_field);
        if b.clip_declared.is_some() {
            self.clip_declared = b.clip_declared;
        }
        if self.clip_field.is_none() {
            self.clip_field = b.clip_field;
        }
        if (self.clip_declared, self.clip_field) != clip_before {
            self.refresh_clip();
        }
        self.skipped_records += b.skipped;
        self.lines += b.lines;
        if let Some(label) = b.label.take() {
            self.label = Some(*label);
        }
        if b.ended.is_some() {
            self.finished = b.ended;
        } else if b.has_records() {
            self.finished = None;
        }
        // A new threshold re-ran detection: the events it found are announced now.
        self.announce(SeriesId::Steps, tell);
        let steps = std::mem::take(&mut b.steps);
        self.push_all(SeriesId::Steps, &steps, points, tell);
        let aggregates = std::mem::take(&mut b.aggregates);
        self.push_all(SeriesId::Epochs, &aggregates, points, tell);
        self.steps.seal();
        self.epochs.seal();
        for p in &mut self.panels {
            p.series.seal();
        }
    }

    fn series_mut(&mut self, id: SeriesId) -> &mut Series {
        match id {
            SeriesId::Steps => &mut self.steps,
            SeriesId::Epochs => &mut self.epochs,
        }
    }

    fn series(&self, id: SeriesId) -> &Series {
        match id {
            SeriesId::Steps => &self.steps,
            SeriesId::Epochs => &self.epochs,
        }
    }

    fn push_all(
        &mut self,
        id: SeriesId,
        records: &Records,
        points: bool,
        tell: &mut dyn FnMut(&RunData, Change),
    ) {
        let loss_col = records.column_of(Role::Loss);
        // Epoch aggregates have no tqdm frames to drop.
        let frames = id == SeriesId::Steps && !records.frames().is_empty();
        // The panels follow the per-step records, point for point.
        let panel_cols: Vec<Option<usize>> = match id {
            SeriesId::Steps => self
                .panels
                .iter()
                .map(|p| {
                    records.keys()[..records.width().min(records.keys().len())]
                        .iter()
                        .position(|k| k.label == p.key.label)
                })
                .collect(),
            SeriesId::Epochs => Vec::new(),
        };
        // Nothing to hand out per point: a batch of rising steps goes in a column at a time.
        if !points && panel_cols.is_empty() && !frames {
            if let (Some(steps), Some(values)) = (records.dense_steps(), records.dense_column(0)) {
                let loss = |i: usize| loss_col.and_then(|c| records.value(c, i));
                if self.series_mut(id).push_rising(steps, values, loss) {
                    if self.series(id).events().len() != self.announced[id.slot()] {
                        self.announce(id, tell);
                    }
                    return;
                }
            }
        }
        for i in 0..records.len() {
            let loss = loss_col.and_then(|c| records.value(c, i));
            let step = records.step(i);
            let Some(value) = records.value(0, i) else {
                // A loss logged after the metric at the same step, once the metric's record
                // had gone out (event files): the point at that step takes it.
                if let (Some(loss), Some(step)) = (loss, step) {
                    self.series_mut(id).attach_loss(step, loss);
                }
                continue;
            };
            let frame = if frames { records.frame(i) } else { None };
            let s = self.series_mut(id);
            if s.push(step, value, loss, frame) {
                let index = s.len() - 1;
                for (p, col) in self.panels.iter_mut().zip(&panel_cols) {
                    let v = col.and_then(|c| records.value(c, i));
                    p.series.push(None, v.unwrap_or(f64::NAN), None, None);
                }
                if points {
                    tell(self, Change::Point { series: id, index });
                }
            }
            if self.series(id).events().len() != self.announced[id.slot()] {
                self.announce(id, tell);
            }
        }
    }

    /// Announces the explosions of series `id` not announced yet.
    fn announce(&mut self, id: SeriesId, tell: &mut dyn FnMut(&RunData, Change)) {
        let n = self.series(id).events().len();
        // A re-detection may have found fewer events than were announced before it.
        let mut next = self.announced[id.slot()].min(n);
        while next < n {
            let event = self.series(id).events()[next];
            next += 1;
            self.announced[id.slot()] = next;
            tell(self, Change::Explosion { series: id, event });
        }
        self.announced[id.slot()] = next;
    }
}
