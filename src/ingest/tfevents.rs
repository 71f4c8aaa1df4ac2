//! TensorBoard event files (`events.out.tfevents.*`), read incrementally.
//!
//! Framing (TFRecord): `u64 LE length`, `u32 LE masked CRC-32C of the 8 length bytes`,
//! `payload`, `u32 LE masked CRC-32C of the payload`. Both CRCs are verified. A record cut at
//! the end of the bytes seen so far is held until the rest arrives (a writer mid-flush), never
//! an error. A record whose CRC does not match is counted as skipped, once, and reading resyncs
//! at the next offset whose header checks out: after a bad length CRC, and after a bad payload
//! CRC too, since a torn record (a header claiming a full record, then the next record's bytes)
//! has a good length CRC and its claimed length runs into the records after it. The resync
//! state is kept between calls, so the count does not depend on how the bytes arrive.
//!
//! Payload: `Event{wall_time=1 double, step=2 int64, summary=5}`, `Summary{value=1 repeated}`,
//! `Summary.Value{tag=1, simple_value=2 float, tensor=8 TensorProto}`, and for TF2 scalars
//! `TensorProto{dtype=1, tensor_content=4, float_val=5, double_val=6}`. The decoder below is
//! hand-written, reads only those fields and never allocates from a claimed length; the
//! one-scalar event nearly every record is takes a straight path (`scalar.rs`), the rest the
//! general field iterator (`proto.rs`).

use super::decoder::Batch;
use super::formats::{record, MetricSpec, LOSS_COLUMN};
use crate::core::Record;
use proto::{tensor_scalar, Field, Fields};

mod batches;
mod crc;
mod files;
mod parallel;
mod proto;
mod scalar;
#[cfg(test)]
mod scalar_tests;
mod tags;
#[cfg(test)]
mod tests;

pub use crc::masked_crc;
pub use files::{looks_like_event_file, name_timestamp};
pub use proto::encode;
pub use tags::TagMatcher;

#[cfg(test)]
use crc::crc32c;
use crc::header_ok;

/// Records longer than this are taken as corrupt framing, not waited for.
pub const MAX_RECORD: u64 = 64 << 20;

/// Incremental reader of one event file's bytes.
#[derive(Debug)]
pub struct EventDecoder {
    tags: TagMatcher,
    /// Bytes not yet consumed (a record cut at the end, or a chunk being worked through).
    buf: Vec<u8>,
    start: usize,
    batch: Batch,
    /// Batches complete before `batch` (the parts of a stretch decoded in parallel, each kept
    /// as decoded rather than copied into one), in order.
    ready: Vec<Batch>,
    /// Inside a stretch of bytes that are not records (one skip counted for all of it).
    resyncing: bool,
    /// Loss seen at a step, attached to the metric's record at the same step.
    last_loss: Option<(i64, f64)>,
    /// The same for the panels' metrics, per column (display only: a panel value logged after
    /// its step's metric record went out in an earlier batch or part is not attached).
    last_extra: [Option<(i64, f64)>; crate::core::MAX_COLUMNS],
    /// The step of the last metric record handed over in an earlier batch, and whether it had
    /// its loss: a loss logged after it at that step goes out as a loss-only record.
    handed_over: Option<(Option<u64>, bool)>,
    /// Tag names seen (for the "no metric" message), capped.
    pub seen_tags: Vec<String>,
    collect_tags: bool,
    /// The last tag looked at and what it was (tags repeat: skip the alias comparisons).
    last_tag: Vec<u8>,
    last_kind: TagKind,
    /// Decoding a part of a stretch cut for parallel decoding: what depends on the records
    /// before the part is noted for [`parallel`] to settle, not guessed.
    part: Option<parallel::PartStart>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagKind {
    Metric,
    Loss,
    /// A panel's metric, read into this column.
    Extra(usize),
    Other,
}

impl EventDecoder {
    pub fn new(metric: &MetricSpec) -> Self {
        EventDecoder {
            tags: TagMatcher::new(metric),
            buf: Vec::new(),
            start: 0,
            batch: Batch::with_columns(metric.columns()),
            ready: Vec::new(),
            resyncing: false,
            last_loss: None,
            last_extra: Default::default(),
            handed_over: None,
            seen_tags: Vec::new(),
            collect_tags: false,
            last_tag: Vec::new(),
            last_kind: TagKind::Other,
            part: None,
        }
    }

    fn note_tag(&mut self, tag: &[u8]) {
        if self.seen_tags.len() < 64 && !self.seen_tags.iter().any(|s| s.as_bytes() == tag) {
            self.seen_tags
                .push(String::from_utf8_lossy(tag).into_owned());
        }
    }

    /// Also remember the tags seen (the first 64 distinct ones).
    pub fn collecting_tags(mut self) -> Self {
        self.collect_tags = true;
        self
    }

    /// Bytes held: a record not yet complete.
    pub fn pending_len(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Forgets held bytes and what the records before said (the file was truncated or
    /// replaced).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.resyncing = false;
        self.last_loss = None;
        self.last_extra = Default::default();
        self.handed_over = None;
    }

    /// Feeds the next bytes of the file; complete records are decoded.
    pub fn feed(&mut self, bytes: &[u8]) {
        // Room for the records of a stretch of scalars (≥ ~48 bytes each), so the columns do
        // not grow by doubling (copies, and page faults on every new block).
        self.batch.steps.reserve(bytes.len() / 48);
        let mut rest = bytes;
        // A record held from the last call is completed with the few bytes it lacks, not by
        // copying all of `bytes` behind it; past it, decoding goes on in `bytes` itself.
        while self.pending_len() > 0 && !rest.is_empty() {
            let held = self.pending_len();
            let k = self.held_needs().min(rest.len());
            self.buf.drain(..self.start);
            self.start = 0;
            self.buf.extend_from_slice(&rest[..k]);
            let buf = std::mem::take(&mut self.buf);
            let used = self.decode_records(&buf);
            self.buf = buf;
            if used >= held {
                // Stopped in `bytes` (at a record cut at their end, or at their end): what is
                // left there is read from `bytes`, not from the copy.
                rest = &rest[used - held..];
                self.buf.clear();
                self.start = 0;
            } else {
                self.start = used;
                rest = &rest[k..];
            }
        }
        if self.pending_len() == 0 && !rest.is_empty() {
            let used = self.decode_records(rest);
            self.buf.clear();
            self.start = 0;
            self.buf.extend_from_slice(&rest[used..]);
        }
    }

    /// How many more bytes the held ones need before decoding can move: the rest of a record
    /// whose header checks out, or the rest of a header.
    fn held_needs(&self) -> usize {
        let held = &self.buf[self.start..];
        if held.len() >= 12 && header_ok(held) {
            let mut l8 = [0u8; 8];
            l8.copy_from_slice(&held[..8]);
            let len = u64::from_le_bytes(l8);
            if len <= MAX_RECORD {
                return (16 + len as usize).saturating_sub(held.len()).max(1);
            }
        }
        12usize.saturating_sub(held.len()).max(1)
    }

    /// Counts the start of a stretch that is not records (once per stretch).
    fn lose_sync(&mut self) {
        if !self.resyncing {
            self.batch.skipped += 1;
            self.resyncing = true;
        }
    }

    /// Decodes whole records from `b`; returns how many bytes were consumed.
    fn decode_records(&mut self, b: &[u8]) -> usize {
        let mut at = 0usize;
        while b.len() - at >= 12 {
            let h = &b[at..at + 12];
            if !header_ok(h) {
                self.lose_sync();
                at += 1;
                continue;
            }
            let mut l8 = [0u8; 8];
            l8.copy_from_slice(&h[..8]);
            let len = u64::from_le_bytes(l8);
            if len > MAX_RECORD {
                self.lose_sync();
                at += 1;
                continue;
            }
            let len = len as usize;
            let total = 12 + len + 4;
            if b.len() - at < total {
                // Torn record: wait for the rest.
                break;
            }
            let payload = &b[at + 12..at + 12 + len];
            let c = &b[at + 12 + len..at + total];
            let crc = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            if masked_crc(payload) != crc {
                // Its claimed length cannot be trusted (a torn record's runs into the next
                // records): one skip, then the next header that checks out.
                self.lose_sync();
                at += 1;
                continue;
            }
            self.resyncing = false;
            self.event(payload);
            self.batch.lines += 1;
            at += total;
        }
        at
    }

    fn event(&mut self, ev: &[u8]) {
        if let Some(s) = scalar::scalar_event(ev) {
            self.found(s.step, s.tag, Some(f64::from(s.value)), None);
            return;
        }
        // proto3: a step of 0 is not on the wire.
        let mut step: i64 = 0;
        let mut summaries: [Option<&[u8]>; 2] = [None, None];
        for f in Fields::new(ev) {
            match f {
                Field::Varint(2, v) => step = v as i64,
                Field::Bytes(5, s) => {
                    if summaries[0].is_none() {
                        summaries[0] = Some(s);
                    } else if summaries[1].is_none() {
                        summaries[1] = Some(s);
                    }
                }
                _ => {}
            }
        }
        for s in summaries.into_iter().flatten() {
            for f in Fields::new(s) {
                if let Field::Bytes(1, value) = f {
                    self.value(step, value);
                }
            }
        }
    }

    fn tag_kind(&mut self, tag: &[u8]) -> TagKind {
        if tag == &self.last_tag[..] {
            return self.last_kind;
        }
        if self.collect_tags {
            self.note_tag(tag);
        }
        let k = if self.tags.matches(tag) {
            TagKind::Metric
        } else if self.tags.is_loss_tag(tag) {
            TagKind::Loss
        } else if let Some(c) = self.tags.metric.companion_column(tag) {
            TagKind::Extra(c)
        } else {
            TagKind::Other
        };
        self.last_tag.clear();
        self.last_tag.extend_from_slice(tag);
        self.last_kind = k;
        k
    }

    fn value(&mut self, step: i64, v: &[u8]) {
        let mut tag: &[u8] = &[];
        let mut simple: Option<f64> = None;
        let mut tensor: Option<&[u8]> = None;
        for f in Fields::new(v) {
            match f {
                Field::Bytes(1, t) => tag = t,
                Field::Fixed32(2, x) => simple = Some(f32::from_bits(x) as f64),
                Field::Bytes(8, t) => tensor = Some(t),
                _ => {}
            }
        }
        self.found(step, tag, simple, tensor);
    }

    /// A summary value read: its tag, and its `simple_value` or scalar tensor.
    fn found(&mut self, step: i64, tag: &[u8], simple: Option<f64>, tensor: Option<&[u8]>) {
        let kind = self.tag_kind(tag);
        if kind == TagKind::Other {
            return;
        }
        let Some(value) = simple.or_else(|| tensor.and_then(tensor_scalar)) else {
            if kind == TagKind::Metric {
                self.batch.skipped += 1;
            }
            return;
        };
        match kind {
            TagKind::Loss => self.loss(step, value),
            TagKind::Extra(c) => self.extra(c, step, value),
            _ => self.metric(step, value),
        }
    }

    /// A loss at `step`: kept for the metric's record at that step, which may also have come
    /// first (in this batch, or in one already handed over).
    fn loss(&mut self, step: i64, value: f64) {
        if let Some(part) = &mut self.part {
            if self.batch.steps.is_empty() {
                // What came before this part decides where it goes.
                part.loss_before_metric(step, value);
                self.last_loss = Some((step, value));
                return;
            }
        }
        self.last_loss = Some((step, value));
        let at = u64::try_from(step).ok();
        match self.batch.steps.last() {
            Some(r) => {
                if r.step == at && r.values[LOSS_COLUMN].is_none() {
                    self.batch.steps.set_last(LOSS_COLUMN, value);
                }
            }
            None => {
                if let Some((s, false)) = self.handed_over {
                    if s == at && at.is_some() {
                        self.handed_over = Some((s, true));
                        self.batch.steps.push(loss_only(at, value));
                    }
                }
            }
        }
    }

    fn metric(&mut self, step: i64, value: f64) {
        if let Some(part) = &mut self.part {
            if self.last_loss.is_none() {
                part.metric_before_loss();
            }
        }
        let loss = match self.last_loss {
            Some((ls, l)) if ls == step => Some(l),
            _ => None,
        };
        let mut r = record(u64::try_from(step).ok(), value, loss);
        for (c, e) in self.last_extra.iter().enumerate() {
            if let Some((es, v)) = e {
                if *es == step {
                    r.values[c] = Some(*v);
                }
            }
        }
        self.batch.steps.push(r);
    }

    /// A panel metric's value at `step`: attached to the metric's record at the same step
    /// (before or after it, within the batch).
    fn extra(&mut self, col: usize, step: i64, value: f64) {
        if let Some(slot) = self.last_extra.get_mut(col) {
            *slot = Some((step, value));
        }
        if let Some(r) = self.batch.steps.last() {
            if r.step == u64::try_from(step).ok() && r.values.get(col).is_some_and(|v| v.is_none())
            {
                self.batch.steps.set_last(col, value);
            }
        }
    }
}

/// A record carrying only the loss logged at `step`, after the metric's record at that step
/// went out in an earlier batch: the reducer gives it to that point.
fn loss_only(step: Option<u64>, loss: f64) -> Record {
    let mut r = Record::new(step, f64::NAN);
    r.values[0] = None;
    r.values[LOSS_COLUMN] = Some(loss);
    r
}
