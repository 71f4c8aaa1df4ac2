//! The record batch every source produces: one step column and a column per metric the read
//! asked for, with gaps, plus what the stretch of the source said about itself (a clip
//! threshold, the format, how many records could not be read).
//!
//! Column 0 is the metric being charted; a parser emits a record when that metric is present,
//! and the other columns (the loss, for the explosion report; further panels' metrics) are
//! read from the same record where they are there.

use super::format::LogFormat;
use super::metric::{MetricKey, Role};
use super::run_end::{RunEnd, RunLabel};
use std::sync::Arc;

mod column;
use column::Column;

/// The most metric columns one read extracts (the charted metric and its companions).
pub const MAX_COLUMNS: usize = 4;

/// One record as a parser reads it, before it joins a [`Records`] batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    /// The training step, when the source names one; `None` means "use the record's index".
    pub step: Option<u64>,
    /// A tqdm frame's counter, used to drop frames that repeat the previous one.
    pub frame: Option<u64>,
    /// The value of each column (NaN and ±inf kept as such); `None` is a gap.
    pub values: [Option<f64>; MAX_COLUMNS],
}

impl Record {
    /// A record of the charted metric (column 0) alone.
    pub fn new(step: Option<u64>, value: f64) -> Self {
        let mut values = [None; MAX_COLUMNS];
        values[0] = Some(value);
        Record {
            step,
            frame: None,
            values,
        }
    }

    /// The charted metric's value (NaN for a record without it).
    pub fn value(&self) -> f64 {
        self.values[0].unwrap_or(f64::NAN)
    }
}

/// Records in columns: `step(i)`, `frame(i)` and `value(j, i)` describe record `i`. Each
/// column is a plain vector with its gaps in a bitmap beside it ([`column`]), 8 bytes an entry.
#[derive(Debug, Clone)]
pub struct Records {
    keys: Arc<[MetricKey]>,
    step: Column<u64>,
    /// Empty until a record has a frame (only tqdm bars have them), then one per record.
    frame: Vec<Option<u64>>,
    values: Vec<Column<f64>>,
}

impl PartialEq for Records {
    /// The same columns and the same records (however the gaps are stored).
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys
            && self.values.len() == other.values.len()
            && self.len() == other.len()
            && self.iter().eq(other.iter())
    }
}

impl Default for Records {
    /// Records whose columns are not named yet (they take the names of the first batch
    /// appended to them).
    fn default() -> Self {
        Records {
            keys: Arc::from(Vec::new()),
            step: Column::default(),
            frame: Vec::new(),
            values: vec![Column::default(); MAX_COLUMNS],
        }
    }
}

impl Records {
    /// An empty batch with one column per key (at most [`MAX_COLUMNS`]).
    pub fn new(keys: Arc<[MetricKey]>) -> Self {
        let width = keys.len().min(MAX_COLUMNS);
        Records {
            keys,
            step: Column::default(),
            frame: Vec::new(),
            values: vec![Column::default(); width],
        }
    }

    pub fn keys(&self) -> &[MetricKey] {
        &self.keys
    }

    /// The column of the metric with this role, if the read extracts one.
    pub fn column_of(&self, role: Role) -> Option<usize> {
        self.keys
            .iter()
            .take(self.values.len())
            .position(|k| k.role == role)
    }

    /// How many metric columns the records have.
    pub fn width(&self) -> usize {
        self.values.len()
    }

    pub fn len(&self) -> usize {
        self.step.len()
    }

    pub fn is_empty(&self) -> bool {
        self.step.len() == 0
    }

    pub fn reserve(&mut self, n: usize) {
        self.step.reserve(n);
        for c in &mut self.values {
            c.reserve(n);
        }
    }

    #[inline]
    pub fn push(&mut self, r: Record) {
        if r.frame.is_some() || !self.frame.is_empty() {
            self.frame.resize(self.step.len(), None);
            self.frame.push(r.frame);
        }
        self.step.push(r.step);
        for (c, v) in self.values.iter_mut().zip(r.values) {
            c.push(v);
        }
    }

    /// Record `i` (gaps where the batch has fewer columns than a record).
    pub fn get(&self, i: usize) -> Option<Record> {
        if i >= self.len() {
            return None;
        }
        let mut values = [None; MAX_COLUMNS];
        for (v, c) in values.iter_mut().zip(&self.values) {
            *v = c.get(i);
        }
        Some(Record {
            step: self.step.get(i),
            frame: self.frame(i),
            values,
        })
    }

    pub fn last(&self) -> Option<Record> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = Record> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The step of record `i` (`None`: a gap, or no such record).
    #[inline]
    pub fn step(&self, i: usize) -> Option<u64> {
        self.step.get(i)
    }

    /// The tqdm frame of record `i`.
    #[inline]
    pub fn frame(&self, i: usize) -> Option<u64> {
        self.frame.get(i).copied().flatten()
    }

    /// The value of column `col` in record `i` (`None`: a gap, or no such column or record).
    #[inline]
    pub fn value(&self, col: usize, i: usize) -> Option<f64> {
        self.values.get(col).and_then(|c| c.get(i))
    }

    /// Every record's step, when each has one (for building a series a column at a time).
    pub fn dense_steps(&self) -> Option<&[u64]> {
        self.step.dense()
    }

    /// Column `col`'s values, when every record has one.
    pub fn dense_column(&self, col: usize) -> Option<&[f64]> {
        self.values.get(col).and_then(Column::dense)
    }

    /// Fills the gap (or replaces the value) of column `col` in the last record.
    pub fn set_last(&mut self, col: usize, value: f64) {
        if let Some(i) = self.len().checked_sub(1) {
            self.set(i, col, value);
        }
    }

    /// Fills the gap (or replaces the value) of column `col` in record `i`.
    pub fn set(&mut self, i: usize, col: usize, value: f64) {
        if let Some(c) = self.values.get_mut(col) {
            c.set(i, value);
        }
    }

    /// The tqdm frame of each record; empty when no record has one.
    pub fn frames(&self) -> &[Option<u64>] {
        &self.frame
    }

    /// The step of each record, in order.
    pub fn steps(&self) -> impl Iterator<Item = Option<u64>> + '_ {
        self.step.iter()
    }

    /// The values of column `col`, in order (nothing for a column the records lack).
    pub fn column(&self, col: usize) -> impl Iterator<Item = Option<f64>> + '_ {
        self.values.get(col).into_iter().flat_map(Column::iter)
    }

    /// Appends `later`, which has the same columns (or `self` is still without any).
    pub fn extend(&mut self, later: Records) {
        if self.is_empty() {
            *self = later;
            return;
        }
        let n = self.len() + later.len();
        if !later.frame.is_empty() {
            self.frame.resize(self.step.len(), None);
            self.frame.extend(later.frame);
        } else if !self.frame.is_empty() {
            self.frame.resize(n, None);
        }
        self.step.append(later.step);
        for (c, l) in self.values.iter_mut().zip(later.values) {
            c.append(l);
        }
        // A column `later` lacks (it had fewer) is padded with gaps.
        for c in &mut self.values {
            c.pad_to(n);
        }
    }
}

/// What a stretch of a source contributed, in source order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Batch {
    /// Per-step records.
    pub steps: Records,
    /// Aggregates over an epoch (fairseq `| train |` summaries): charted only when a source
    /// holds nothing finer.
    pub aggregates: Records,
    /// The last clipping threshold the stretch declared.
    pub clip_declared: Option<f64>,
    /// Whether the first step record carried fairseq's `clip` field (None: not known here).
    pub clip_field: Option<bool>,
    /// Records that could not be read: lines naming the metric with an unreadable value,
    /// lines over the length cap, torn or corrupt records.
    pub skipped: u64,
    /// The format, when it was detected in this stretch.
    pub detected: Option<LogFormat>,
    /// Lines (or records, for binary sources) read.
    pub lines: u64,
    /// Steps skipped for mixed-precision overflow, as the source's notes report them.
    pub overflows: u64,
    /// The loss scale the last overflow note set.
    pub loss_scale: Option<f64>,
    /// The source said the run ended, and no record came after that in this stretch.
    pub ended: Option<RunEnd>,
    /// What the tracker calls the run (W&B, MLflow), when this stretch said it.
    pub label: Option<Box<RunLabel>>,
}

impl Batch {
    /// An empty batch whose record columns are `keys`.
    pub fn with_columns(keys: Arc<[MetricKey]>) -> Self {
        Batch {
            steps: Records::new(keys.clone()),
            aggregates: Records::new(keys),
            ..Batch::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
            && self.aggregates.is_empty()
            && self.clip_declared.is_none()
            && self.clip_field.is_none()
            && self.skipped == 0
            && self.detected.is_none()
            && self.overflows == 0
            && self.ended.is_none()
            && self.label.is_none()
    }

    /// Whether the stretch holds records (a run that said it ended and then logged more is
    /// live again).
    pub fn has_records(&self) -> bool {
        !self.steps.is_empty() || !self.aggregates.is_empty()
    }

    /// Appends `later` (which comes after `self` in the source).
    pub fn extend(&mut self, later: Batch) {
        let later_records = later.has_records();
        self.steps.extend(later.steps);
        self.aggregates.extend(later.aggregates);
        if later.clip_declared.is_some() {
            self.clip_declared = later.clip_declared;
        }
        if self.clip_field.is_none() {
            self.clip_field = later.clip_field;
        }
        self.skipped += later.skipped;
        if self.detected.is_none() {
            self.detected = later.detected;
        }
        self.lines += later.lines;
        self.overflows += later.overflows;
        if later.loss_scale.is_some() {
            self.loss_scale = later.loss_scale;
        }
        if later.ended.is_some() {
            self.ended = later.ended;
        } else if later_records {
            self.ended = None;
        }
        if later.label.is_some() {
            self.label = later.label;
        }
    }

    /// A copy with the same columns and no records (a decoder's next batch).
    pub fn empty_like(&self) -> Batch {
        Batch::with_columns(self.steps.keys.clone())
    }
}

#[cfg(test)]
mod tests;
