//! The metric store: an append-only series of (step, value) with clipping and explosion
//! detection, and min/max summaries for display (a [`pyramid`], so a column costs O(log n)).
//!
//! Every column grows in fixed chunks, each in the narrowest exact encoding of what it holds
//! ([`packed`]): a log that steps by a constant and prints a few decimals costs about 4 bytes
//! a point for the value (8 for a number that is no short decimal nor a float32), nothing
//! for the step, and nothing for the flags of calm points; the loss logged beside the
//! gradient norm as much as a value; the pyramid about 2 bytes a point (see [`Series::heap_bytes`]).

use std::ops::Range;

mod batch;
mod heap;
pub mod packed;
pub mod pyramid;
mod step_kind;
pub mod steps;
pub mod values;
pub use heap::HeapBytes;
pub use pyramid::{Pyramid, Summary, FLAG_NONFINITE};
pub use step_kind::StepKind;

use packed::{FlagChunk, Packed};
use steps::StepChunk;
use values::ValueChunk;

pub mod detect;

pub use detect::{
    Detector, ExplosionEvent, ExplosionParams, FLAG_ABOVE, FLAG_EXPLOSION, MIN_HISTORY,
};

/// The store.
#[derive(Debug, Clone)]
pub struct Series {
    steps: Packed<StepChunk>,
    values: Packed<ValueChunk>,
    /// The loss logged with each point; empty until a point has one (a panel's series never
    /// does), then filled with NaN for the points before.
    losses: Packed<ValueChunk>,
    flags: Packed<FlagChunk>,
    step_kind: Option<StepKind>,
    /// Point indices at which a restart was seen (the log was truncated or replaced, or its
    /// step went backwards).
    restarts: Vec<usize>,
    /// Clip and explosion detection, for the series that need it (the gradient norm).
    detector: Option<Detector>,
    nonfinite: usize,
    last_frame: Option<(u64, u64)>,
    pending_restart: bool,
    last_step: Option<u64>,
    /// Records that repeated the previous record's step and value (logged twice): not added.
    merged: usize,
    /// Min/max summaries for display, kept as points arrive.
    pyramid: Pyramid,
}

impl Series {
    /// A series with clip and explosion detection (`clip` `None` or 0: clipping off).
    pub fn new(clip: Option<f64>, params: ExplosionParams) -> Self {
        Series::with_detector(Some(Detector::new(clip, params)))
    }

    /// A series that only stores its points (a loss or learning-rate panel).
    pub fn plain() -> Self {
        Series::with_detector(None)
    }

    fn with_detector(detector: Option<Detector>) -> Self {
        Series {
            steps: Packed::default(),
            values: Packed::default(),
            losses: Packed::default(),
            flags: Packed::default(),
            step_kind: None,
            restarts: Vec::new(),
            detector,
            nonfinite: 0,
            last_frame: None,
            pending_restart: false,
            last_step: None,
            merged: 0,
            pyramid: Pyramid::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Step kind, decided by the first record (a step in the log, or none).
    pub fn step_kind(&self) -> StepKind {
        self.step_kind.unwrap_or(StepKind::Step)
    }

    pub fn clip(&self) -> Option<f64> {
        self.detector.as_ref().and_then(Detector::clip)
    }

    pub fn params(&self) -> ExplosionParams {
        self.detector
            .as_ref()
            .map_or_else(ExplosionParams::default, Detector::params)
    }

    pub fn detector(&self) -> Option<&Detector> {
        self.detector.as_ref()
    }

    pub fn step(&self, i: usize) -> Option<u64> {
        self.steps.get(i)
    }

    pub fn value(&self, i: usize) -> Option<f64> {
        self.values.get(i)
    }

    /// The loss logged with point `i`, if the log had one.
    pub fn loss(&self, i: usize) -> Option<f64> {
        self.losses.get(i).filter(|l| !l.is_nan())
    }

    pub fn flags(&self, i: usize) -> u8 {
        self.flags.get(i).unwrap_or(0)
    }

    pub fn points(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        self.steps
            .iter_range(0..self.len())
            .zip(self.values.iter_range(0..self.len()))
    }

    pub fn values_in(&self, r: Range<usize>) -> impl Iterator<Item = f64> + '_ {
        self.values.iter_range(r)
    }

    pub fn events(&self) -> &[ExplosionEvent] {
        self.detector.as_ref().map_or(&[], Detector::events)
    }

    pub fn above_clip(&self) -> usize {
        self.detector.as_ref().map_or(0, Detector::above_clip)
    }

    /// Records dropped as repeats of the one before (same step, same value).
    pub fn merged(&self) -> usize {
        self.merged
    }

    pub fn nonfinite(&self) -> usize {
        self.nonfinite
    }

    pub fn restarts(&self) -> &[usize] {
        &self.restarts
    }

    /// Marks that the source restarted (truncated/replaced): the next point starts a new run.
    pub fn mark_restart(&mut self) {
        self.pending_restart = true;
        self.last_frame = None;
    }

    /// Appends one record. Returns false when it was a repeat of the previous tqdm frame, or
    /// the previous record logged again (the same step and value).
    pub fn push(
        &mut self,
        step: Option<u64>,
        value: f64,
        loss: Option<f64>,
        frame: Option<u64>,
    ) -> bool {
        if let Some(f) = frame {
            if self.last_frame == Some((f, value.to_bits())) {
                return false;
            }
            self.last_frame = Some((f, value.to_bits()));
        }
        let kind = *self.step_kind.get_or_insert(if step.is_some() {
            StepKind::Step
        } else {
            StepKind::Index
        });
        let i = self.len();
        let prev = self.last_step;
        let explicit = step.is_some();
        let step = match kind {
            StepKind::Index => i as u64 + 1,
            StepKind::Step => step.or(prev).unwrap_or(0),
        };
        // The same record logged twice (ms-swift writes every step twice): counted once.
        if kind == StepKind::Step
            && explicit
            && !self.pending_restart
            && prev == Some(step)
            && self.values.last().map(f64::to_bits) == Some(value.to_bits())
        {
            self.merged += 1;
            return false;
        }
        let regressed = kind == StepKind::Step && prev.is_some_and(|p| step < p);
        if self.pending_restart || regressed {
            if i > 0 {
                self.restarts.push(i);
            }
            self.pending_restart = false;
        }
        self.last_step = Some(step);
        self.steps.push(step);
        self.values.push(value);
        if loss.is_some() || !self.losses.is_empty() {
            self.pad_losses(i);
            self.losses.push(loss.unwrap_or(f64::NAN));
        }
        let flags = self.judge(i, value);
        self.flags.push(flags);
        self.pyramid.push(value, flags);
        true
    }

    /// Encodes the points of the chunk being filled (kept plain while a batch is applied):
    /// called when a batch is over, so that an idle series holds only encoded chunks.
    pub fn seal(&mut self) {
        self.steps.seal();
        self.values.seal();
        self.losses.seal();
        self.flags.seal();
    }

    /// Gives the last point the loss logged at its step after it (when it has none yet).
    pub fn attach_loss(&mut self, step: u64, loss: f64) {
        let Some(i) = self.len().checked_sub(1) else {
            return;
        };
        if self.steps.get(i) == Some(step) && self.losses.get(i).is_none_or(f64::is_nan) {
            self.pad_losses(i + 1);
            self.losses.set(i, loss);
        }
    }

    /// Fills the losses of the points up to `n` that have none with NaN (at most the series'
    /// length).
    fn pad_losses(&mut self, n: usize) {
        while self.losses.len() < n.min(self.steps.len()) {
            self.losses.push(f64::NAN);
        }
    }

    /// Changes the clip threshold (`None` or 0: clipping off) and re-runs detection.
    pub fn set_clip(&mut self, clip: Option<f64>) {
        let Some(d) = &mut self.detector else { return };
        if !d.reset(clip) {
            return;
        }
        self.nonfinite = 0;
        self.pyramid = Pyramid::default();
        for i in 0..self.len() {
            self.flags.set(i, 0);
            if let Some(v) = self.values.get(i) {
                self.classify(i, v);
                self.pyramid.push(v, self.flags(i));
            }
        }
    }

    fn classify(&mut self, i: usize, v: f64) {
        let flags = self.judge(i, v);
        if flags != 0 {
            self.flags.set(i, flags);
        }
    }

    /// The flags of point `i` of value `v` (points come in order), counting it if not finite.
    fn judge(&mut self, i: usize, v: f64) -> u8 {
        if !v.is_finite() {
            self.nonfinite += 1;
            return 0;
        }
        self.detector.as_mut().map_or(0, |d| d.classify(i, v))
    }

    /// Min/max summary of the points in `range`, from the pyramid: O(log n).
    pub fn summary(&self, range: Range<usize>) -> Summary {
        self.pyramid.summary(range, |r| {
            let mut out = Summary::EMPTY;
            let flags = self.flags.iter_range(r.clone());
            for (v, f) in self.values.iter_range(r).zip(flags) {
                out.merge(&Summary::point(v, f));
            }
            out
        })
    }

    /// The display column of the points in `points` (`None` when it holds none).
    pub fn column(&self, points: Range<usize>) -> Option<Column> {
        let end = points.end.min(self.len());
        if points.start >= end {
            return None;
        }
        let sum = self.summary(points.start..end);
        let r = self.restarts.partition_point(|&r| r < points.start);
        Some(Column {
            first: points.start,
            last: end - 1,
            min: sum.min,
            max: sum.max,
            min_pos: sum.min_pos,
            nonfinite: sum.nonfinite(),
            flags: sum.flags & !FLAG_NONFINITE,
            restart: self.restarts.get(r).is_some_and(|&r| r < end),
        })
    }

    /// The first point in `points` whose step is at least `step`; `points` must not span a
    /// restart, so that its steps do not go down (binary search).
    pub fn first_at_or_after(&self, points: Range<usize>, step: u64) -> usize {
        let (mut lo, mut hi) = (points.start, points.end.min(self.len()));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.steps.get(mid).is_some_and(|s| s < step) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Min/max summary of `per_col` consecutive points per column over `range`, so that a
    /// spike is never lost when many points share a column.
    pub fn columns(&self, range: Range<usize>, per_col: usize) -> Vec<Column> {
        let per_col = per_col.max(1);
        let end = range.end.min(self.len());
        (range.start..end)
            .step_by(per_col)
            .filter_map(|start| self.column(start..(start + per_col).min(end)))
            .collect()
    }

    /// Heap bytes the series holds, by column, for the memory figures.
    pub fn heap_bytes(&self) -> HeapBytes {
        HeapBytes {
            steps: self.steps.heap_bytes(),
            values: self.values.heap_bytes(),
            losses: self.losses.heap_bytes(),
            flags: self.flags.heap_bytes(),
            pyramid: self.pyramid.heap_bytes(),
            other: self.restarts.capacity() * std::mem::size_of::<usize>()
                + std::mem::size_of_val(self.events()),
        }
    }

    /// Finite min and max over `range` (None when there is no finite value).
    pub fn value_range(&self, range: Range<usize>) -> Option<(f64, f64)> {
        let s = self.summary(range);
        s.has_finite().then_some((s.min, s.max))
    }
}

/// One display column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    pub first: usize,
    pub last: usize,
    /// Finite min/max (±inf when the column has no finite value).
    pub min: f64,
    pub max: f64,
    /// Smallest finite value above zero (+inf when none), for log scales.
    pub min_pos: f64,
    pub nonfinite: bool,
    pub flags: u8,
    pub restart: bool,
}

impl Column {
    pub fn has_finite(&self) -> bool {
        self.min <= self.max
    }
}

#[cfg(test)]
mod tests;
