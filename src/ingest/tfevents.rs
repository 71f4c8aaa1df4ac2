//! TensorBoard event files (`events.out.tfevents.*`), read incrementally.
//!
//! Framing (TFRecord): `u64 LE length`, `u32 LE masked CRC-32C of the 8 length bytes`,
//! `payload`, `u32 LE masked CRC-32C of the payload`. Both CRCs are verified. A record cut at
//! the end of the bytes seen so far is held until the rest arrives (a writer mid-flush), never
//! an error. A record whose CRC does not match is counted as skipped: a bad payload CRC skips
//! that record (its length was verified); a bad length CRC resyncs at the next offset whose
//! header checks out.
//!
//! Payload: `Event{wall_time=1 double, step=2 int64, summary=5}`, `Summary{value=1 repeated}`,
//! `Summary.Value{tag=1, simple_value=2 float, tensor=8 TensorProto}`, and for TF2 scalars
//! `TensorProto{dtype=1, tensor_content=4, float_val=5, double_val=6}`. The decoder below is
//! hand-written, reads only those fields and never allocates from a claimed length.

use super::decoder::Batch;
use super::formats::{record, MetricSpec, LOSS_COLUMN};

/// Records longer than this are taken as corrupt framing, not waited for.
pub const MAX_RECORD: u64 = 64 << 20;

const MASK_DELTA: u32 = 0xa282_ead8;

/// TFRecord's masked CRC-32C.
pub fn masked_crc(bytes: &[u8]) -> u32 {
    let c = crc32c(bytes);
    (c.rotate_right(15)).wrapping_add(MASK_DELTA)
}

/// CRC-32C. Records are mostly tens of bytes, where the `crc32c` crate's dispatch costs more
/// than the work: short inputs use the SSE4.2 instruction inline when the CPU has it.
fn crc32c(bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if bytes.len() <= 256 && has_sse42() {
            // SAFETY: the CPU supports SSE4.2 (checked above).
            return unsafe { crc32c_sse42(bytes) };
        }
    }
    crc32c::crc32c(bytes)
}

#[cfg(target_arch = "x86_64")]
fn has_sse42() -> bool {
    use std::sync::OnceLock;
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| std::arch::is_x86_feature_detected!("sse4.2"))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn crc32c_sse42(bytes: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};
    let mut c: u64 = 0xffff_ffff;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        c = _mm_crc32_u64(c, u64::from_le_bytes(a));
    }
    let mut c = c as u32;
    for &b in words.remainder() {
        c = _mm_crc32_u8(c, b);
    }
    !c
}

/// Whether `bytes` is named or framed like an event file (a valid first record header).
pub fn looks_like_event_file(name: &str, head: &[u8]) -> bool {
    if name.contains("tfevents") {
        return true;
    }
    head.len() >= 12 && header_ok(head)
}

fn header_ok(b: &[u8]) -> bool {
    let (Some(len), Some(crc)) = (b.get(0..8), b.get(8..12)) else {
        return false;
    };
    let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    masked_crc(len) == crc
}

/// The first offset ≥ `from` where a record starts whose header checks out and is followed by
/// another valid header (or the end of `b`): a safe place to cut for parallel decoding.
fn next_boundary(b: &[u8], from: usize) -> Option<usize> {
    let mut p = from;
    while p + 12 <= b.len() {
        if header_ok(&b[p..]) {
            let mut l8 = [0u8; 8];
            l8.copy_from_slice(&b[p..p + 8]);
            let len = u64::from_le_bytes(l8);
            if len <= MAX_RECORD {
                let next = p + 16 + len as usize;
                if next == b.len() || (next + 12 <= b.len() && header_ok(&b[next..])) {
                    return Some(p);
                }
            }
        }
        p += 1;
    }
    None
}

/// Which tag names the metric: the aliases, exactly or as the tag's last path component
/// (`train/grad_norm`, `train_inner/gnorm`, `train/gnorm`).
#[derive(Debug, Clone)]
pub struct TagMatcher {
    names: Vec<Vec<u8>>,
    loss: Vec<Vec<u8>>,
    is_loss: bool,
    /// For the panels' metrics (columns after the loss).
    metric: MetricSpec,
}

impl TagMatcher {
    pub fn new(metric: &MetricSpec) -> Self {
        TagMatcher {
            names: metric.aliases.iter().map(|k| k.bytes().to_vec()).collect(),
            loss: [b"loss".to_vec(), b"train/loss".to_vec()].to_vec(),
            is_loss: metric.label == "loss",
            metric: metric.clone(),
        }
    }

    fn matches_any(names: &[Vec<u8>], tag: &[u8]) -> bool {
        let last = match memchr::memrchr(b'/', tag) {
            Some(i) => &tag[i + 1..],
            None => tag,
        };
        names.iter().any(|n| n == tag || n == last)
    }

    pub fn matches(&self, tag: &[u8]) -> bool {
        Self::matches_any(&self.names, tag)
    }

    fn is_loss_tag(&self, tag: &[u8]) -> bool {
        !self.is_loss && Self::matches_any(&self.loss, tag)
    }
}

/// Incremental reader of one event file's bytes.
#[derive(Debug)]
pub struct EventDecoder {
    tags: TagMatcher,
    /// Bytes not yet consumed (a record cut at the end, or a chunk being worked through).
    buf: Vec<u8>,
    start: usize,
    batch: Batch,
    /// Loss seen at a step, attached to the metric's record at the same step.
    last_loss: Option<(i64, f64)>,
    /// The same for the panels' metrics, per column.
    last_extra: [Option<(i64, f64)>; crate::core::MAX_COLUMNS],
    /// Tag names seen (for the "no metric" message), capped.
    pub seen_tags: Vec<String>,
    collect_tags: bool,
    /// The last tag looked at and what it was (tags repeat: skip the alias comparisons).
    last_tag: Vec<u8>,
    last_kind: TagKind,
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
            last_loss: None,
            last_extra: Default::default(),
            seen_tags: Vec::new(),
            collect_tags: false,
            last_tag: Vec::new(),
            last_kind: TagKind::Other,
        }
    }

    /// A fresh decoder for the same metric (a parallel chunk).
    fn sibling(&self) -> Self {
        EventDecoder {
            tags: self.tags.clone(),
            buf: Vec::new(),
            start: 0,
            batch: self.batch.empty_like(),
            last_loss: None,
            last_extra: Default::default(),
            seen_tags: Vec::new(),
            collect_tags: self.collect_tags,
            last_tag: Vec::new(),
            last_kind: TagKind::Other,
        }
    }

    /// Like [`feed`](Self::feed), decoding big stretches in `threads` parts on the shared pool
    /// (this thread decodes the last part meanwhile). Chunks are cut
    /// at record boundaries found by two consecutive valid headers; results keep file order.
    pub fn feed_parallel(&mut self, bytes: &[u8], threads: usize) {
        const MIN_CHUNK: usize = 4 << 20;
        if threads <= 1 || self.pending_len() > 0 || bytes.len() < 2 * MIN_CHUNK {
            self.feed(bytes);
            return;
        }
        let parts = threads.min(bytes.len() / MIN_CHUNK).max(1);
        let mut cuts = vec![0usize];
        for k in 1..parts {
            let from = (bytes.len() * k / parts).max(*cuts.last().unwrap_or(&0));
            match next_boundary(bytes, from) {
                Some(b) if b > *cuts.last().unwrap_or(&0) => cuts.push(b),
                _ => break,
            }
        }
        let last = *cuts.last().unwrap_or(&0);
        let next = self.batch.empty_like();
        let before = std::mem::replace(&mut self.batch, next);
        let siblings: Vec<EventDecoder> = cuts.windows(2).map(|_| self.sibling()).collect();
        // The chunks before the last on their own threads; the last (which may end in a torn
        // record to hold) on this thread, through `self`, at the same time.
        let results: Vec<(Batch, Vec<String>)> = crate::watch::pool::shared().scope(|scope| {
            let tasks: Vec<_> = cuts
                .windows(2)
                .zip(siblings)
                .map(|(w, mut d)| {
                    let chunk = &bytes[w[0]..w[1]];
                    // A decoder panic loses its chunk, as a failed thread did before.
                    scope.spawn(move || {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                            d.feed(chunk);
                            (d.take_batch(), d.seen_tags)
                        }))
                        .unwrap_or_default()
                    })
                })
                .collect();
            self.feed(&bytes[last..]);
            tasks.into_iter().map(|t| t.join()).collect()
        });
        let tail = std::mem::replace(&mut self.batch, before);
        for (b, tags) in results {
            self.batch.extend(b);
            for t in tags {
                self.note_tag(t.as_bytes());
            }
        }
        self.batch.extend(tail);
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

    /// Forgets held bytes (the file was truncated or replaced).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.last_loss = None;
        self.last_extra = Default::default();
    }

    pub fn take_batch(&mut self) -> Batch {
        let next = self.batch.empty_like();
        std::mem::replace(&mut self.batch, next)
    }

    /// Feeds the next bytes of the file; complete records are decoded.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start == self.buf.len() {
            // Nothing held: decode straight from the caller's slice, keep only the tail.
            let used = self.decode_records(bytes);
            self.buf.clear();
            self.start = 0;
            self.buf.extend_from_slice(&bytes[used..]);
            return;
        }
        self.buf.drain(..self.start);
        self.start = 0;
        self.buf.extend_from_slice(bytes);
        let buf = std::mem::take(&mut self.buf);
        let used = self.decode_records(&buf);
        self.buf = buf;
        self.start = used;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Decodes whole records from `b`; returns how many bytes were consumed.
    fn decode_records(&mut self, b: &[u8]) -> usize {
        let mut at = 0usize;
        let mut resyncing = false;
        while b.len() - at >= 12 {
            let h = &b[at..at + 12];
            if !header_ok(h) {
                // Count one skip per stretch of garbage, then look for the next good header.
                if !resyncing {
                    self.batch.skipped += 1;
                    resyncing = true;
                }
                at += 1;
                continue;
            }
            let mut l8 = [0u8; 8];
            l8.copy_from_slice(&h[..8]);
            let len = u64::from_le_bytes(l8);
            if len > MAX_RECORD {
                if !resyncing {
                    self.batch.skipped += 1;
                    resyncing = true;
                }
                at += 1;
                continue;
            }
            let len = len as usize;
            let total = 12 + len + 4;
            if b.len() - at < total {
                // Torn record: wait for the rest.
                break;
            }
            resyncing = false;
            let payload = &b[at + 12..at + 12 + len];
            let c = &b[at + 12 + len..at + total];
            let crc = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            if masked_crc(payload) == crc {
                self.event(payload);
            } else {
                self.batch.skipped += 1;
            }
            self.batch.lines += 1;
            at += total;
        }
        at
    }

    fn event(&mut self, ev: &[u8]) {
        // proto3: a step of 0 is not on the wire.
        let mut step: Option<i64> = Some(0);
        let mut summaries: [Option<&[u8]>; 2] = [None, None];
        let mut extra_summaries = false;
        for f in Fields::new(ev) {
            match f {
                Field::Varint(2, v) => step = Some(v as i64),
                Field::Bytes(5, s) => {
                    if summaries[0].is_none() {
                        summaries[0] = Some(s);
                    } else if summaries[1].is_none() {
                        summaries[1] = Some(s);
                    } else {
                        extra_summaries = true;
                    }
                }
                _ => {}
            }
        }
        let _ = extra_summaries;
        for s in summaries.into_iter().flatten() {
            for f in Fields::new(s) {
                if let Field::Bytes(1, value) = f {
                    self.value(step, value);
                }
            }
        }
    }

    fn value(&mut self, step: Option<i64>, v: &[u8]) {
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
        let kind = if tag == &self.last_tag[..] {
            self.last_kind
        } else {
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
        };
        let is_metric = kind == TagKind::Metric;
        let is_loss = kind == TagKind::Loss;
        if let TagKind::Extra(c) = kind {
            return self.extra(c, step, simple.or_else(|| tensor.and_then(tensor_scalar)));
        }
        if !is_metric && !is_loss {
            return;
        }
        let value = simple.or_else(|| tensor.and_then(tensor_scalar));
        let Some(value) = value else {
            if is_metric {
                self.batch.skipped += 1;
            }
            return;
        };
        if is_loss {
            if let Some(s) = step {
                self.last_loss = Some((s, value));
                // The metric may have come first at this step: attach it there.
                if let Some(r) = self.batch.steps.last() {
                    if r.step == u64::try_from(s).ok() && r.values[LOSS_COLUMN].is_none() {
                        self.batch.steps.set_last(LOSS_COLUMN, value);
                    }
                }
            }
            return;
        }
        let loss = match (self.last_loss, step) {
            (Some((ls, l)), Some(s)) if ls == s => Some(l),
            _ => None,
        };
        let mut r = record(step.and_then(|s| u64::try_from(s).ok()), value, loss);
        for (c, e) in self.last_extra.iter().enumerate() {
            if let (Some((es, v)), Some(s)) = (e, step) {
                if *es == s {
                    r.values[c] = Some(*v);
                }
            }
        }
        self.batch.steps.push(r);
    }

    /// A panel metric's value at `step`: attached to the metric's record at the same step
    /// (before or after it).
    fn extra(&mut self, col: usize, step: Option<i64>, value: Option<f64>) {
        let (Some(s), Some(value)) = (step, value) else {
            return;
        };
        if let Some(slot) = self.last_extra.get_mut(col) {
            *slot = Some((s, value));
        }
        if let Some(r) = self.batch.steps.last() {
            if r.step == u64::try_from(s).ok() && r.values.get(col).is_some_and(|v| v.is_none()) {
                self.batch.steps.set_last(col, value);
            }
        }
    }
}

/// The value of a scalar TensorProto (float or double; `tensor_content` or `*_val`).
fn tensor_scalar(t: &[u8]) -> Option<f64> {
    let mut dtype = 0u64;
    let mut content: Option<&[u8]> = None;
    let mut float_val: Option<f64> = None;
    let mut double_val: Option<f64> = None;
    for f in Fields::new(t) {
        match f {
            Field::Varint(1, d) => dtype = d,
            Field::Bytes(4, c) => content = Some(c),
            // float_val: packed (bytes) or one fixed32 per element.
            Field::Fixed32(5, x) if float_val.is_none() => {
                float_val = Some(f32::from_bits(x) as f64)
            }
            Field::Bytes(5, p) if float_val.is_none() && p.len() >= 4 => {
                float_val = Some(f32::from_le_bytes([p[0], p[1], p[2], p[3]]) as f64)
            }
            Field::Fixed64(6, x) if double_val.is_none() => double_val = Some(f64::from_bits(x)),
            Field::Bytes(6, p) if double_val.is_none() && p.len() >= 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&p[..8]);
                double_val = Some(f64::from_le_bytes(b))
            }
            _ => {}
        }
    }
    const DT_FLOAT: u64 = 1;
    const DT_DOUBLE: u64 = 2;
    if let Some(c) = content {
        return match (dtype, c.len()) {
            (DT_FLOAT, 4) => Some(f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64),
            (DT_DOUBLE, 8) => {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                Some(f64::from_le_bytes(b))
            }
            _ => None,
        };
    }
    float_val.or(double_val)
}

/// One protobuf field.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field<'a> {
    Varint(u32, u64),
    Fixed64(u32, u64),
    Bytes(u32, &'a [u8]),
    Fixed32(u32, u32),
}

/// Iterates the fields of a message; stops at the first malformed one.
struct Fields<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(b: &'a [u8]) -> Self {
        Fields { b, at: 0 }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let byte = *self.b.get(self.at)?;
            self.at += 1;
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        if self.at >= self.b.len() {
            return None;
        }
        let key = self.varint()?;
        let num = u32::try_from(key >> 3).ok()?;
        let f = match key & 7 {
            0 => Field::Varint(num, self.varint()?),
            1 => {
                let s = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(s);
                Field::Fixed64(num, u64::from_le_bytes(a))
            }
            2 => {
                let n = usize::try_from(self.varint()?).ok()?;
                Field::Bytes(num, self.take(n)?)
            }
            5 => {
                let s = self.take(4)?;
                Field::Fixed32(num, u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
            }
            _ => {
                // Groups (3, 4) and unknown wire types: stop reading this message.
                self.at = self.b.len();
                return None;
            }
        };
        Some(f)
    }
}

/// The timestamp in an event file's name (`events.out.tfevents.<secs>.<host>...`), for order.
pub fn name_timestamp(name: &str) -> Option<u64> {
    let rest = name.split("tfevents.").nth(1)?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// Writing event files: the inverse of the decoder, for tests, benchmarks and tools that need
/// a real event file without TensorFlow.
pub mod encode {
    use super::masked_crc;

    /// A protobuf varint.
    pub fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// One TFRecord: length, masked CRC-32C of the length, payload, masked CRC-32C of it.
    pub fn record(payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u64).to_le_bytes();
        let mut r = Vec::with_capacity(payload.len() + 16);
        r.extend_from_slice(&len);
        r.extend_from_slice(&masked_crc(&len).to_le_bytes());
        r.extend_from_slice(payload);
        r.extend_from_slice(&masked_crc(payload).to_le_bytes());
        r
    }

    /// An `Event{wall_time, step, summary{value{tag, simple_value}}}` payload.
    pub fn scalar_event(wall_time: f64, step: u64, tag: &str, value: f32) -> Vec<u8> {
        let mut val = vec![0x0a];
        varint(tag.len() as u64, &mut val);
        val.extend_from_slice(tag.as_bytes());
        val.push(0x15);
        val.extend_from_slice(&value.to_le_bytes());
        let mut summary = vec![0x0a];
        varint(val.len() as u64, &mut summary);
        summary.extend(val);
        let mut ev = vec![0x09];
        ev.extend_from_slice(&wall_time.to_le_bytes());
        ev.push(0x10);
        varint(step, &mut ev);
        ev.push(0x2a);
        varint(summary.len() as u64, &mut ev);
        ev.extend(summary);
        ev
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encode::record;

    fn scalar_event(step: u64, tag: &str, v: f32) -> Vec<u8> {
        encode::scalar_event(1.5, step, tag, v)
    }

    #[test]
    fn every_prefix_and_any_garbage_is_safe() {
        let mut bytes = Vec::new();
        for s in 0..20 {
            bytes.extend(record(&scalar_event(s, "train/grad_norm", s as f32)));
        }
        for cut in 0..bytes.len() {
            let mut d = EventDecoder::new(&MetricSpec::gnorm());
            d.feed(&bytes[..cut]);
            d.feed(&bytes[cut..]);
            assert_eq!(d.take_batch().steps.len(), 20, "cut at {cut}");
        }
        // Flip each byte: never a panic, at most one record lost per flip... or resynced.
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            let mut d = EventDecoder::new(&MetricSpec::gnorm());
            d.feed(&b);
            let batch = d.take_batch();
            assert!(
                batch.steps.len() >= 18,
                "flip at {i}: {}",
                batch.steps.len()
            );
            assert!(batch.skipped >= 1, "flip at {i}");
        }
    }

    #[test]
    fn parallel_decoding_equals_sequential() {
        let mut bytes = Vec::new();
        let mut s = 0u64;
        while bytes.len() < (12 << 20) {
            s += 1;
            bytes.extend(record(&scalar_event(s, "gnorm", s as f32)));
        }
        // Damage two records in the middle and cut the last one in half.
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        bytes[mid / 2 + 3] ^= 0x10;
        bytes.truncate(bytes.len() - 5);
        let mut a = EventDecoder::new(&MetricSpec::gnorm());
        a.feed(&bytes);
        let mut b = EventDecoder::new(&MetricSpec::gnorm());
        b.feed_parallel(&bytes, 3);
        assert_eq!(b.pending_len(), a.pending_len());
        let (a, b) = (a.take_batch(), b.take_batch());
        assert_eq!(a.steps.len(), b.steps.len());
        assert_eq!(a.steps, b.steps);
        assert_eq!((a.skipped, a.lines), (b.skipped, b.lines));
        assert!(a.skipped >= 2);
    }

    #[test]
    fn claimed_huge_lengths_are_not_waited_for() {
        // A header whose CRC checks out but claims 1 TB: corrupt, skipped, the next record read.
        let len = (1u64 << 40).to_le_bytes();
        let mut b = len.to_vec();
        b.extend_from_slice(&masked_crc(&len).to_le_bytes());
        b.extend(record(&scalar_event(7, "gnorm", 1.0)));
        let mut d = EventDecoder::new(&MetricSpec::gnorm());
        d.feed(&b);
        assert_eq!(d.pending_len(), 0);
        let batch = d.take_batch();
        assert_eq!(batch.steps.len(), 1);
        assert_eq!(batch.skipped, 1);
        // Pseudo-random garbage of every length up to 2 KB: never a panic.
        let mut x = 0x9e3779b97f4a7c15u64;
        let junk: Vec<u8> = (0..2048)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for n in (0..junk.len()).step_by(37) {
            let mut d = EventDecoder::new(&MetricSpec::gnorm());
            d.feed(&junk[..n]);
            let _ = d.take_batch();
            let _ = tensor_scalar(&junk[..n.min(64)]);
        }
    }

    #[test]
    fn inline_crc_equals_the_crate() {
        let data: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..data.len() {
            assert_eq!(crc32c(&data[..n]), crc32c::crc32c(&data[..n]), "{n}");
        }
    }

    #[test]
    fn tag_last_component_matches() {
        let t = TagMatcher::new(&MetricSpec::gnorm());
        assert!(t.matches(b"train_inner/gnorm"));
        assert!(t.matches(b"train/gnorm"));
        assert!(t.matches(b"train/grad_norm"));
        assert!(!t.matches(b"train/loss"));
        assert_eq!(
            name_timestamp("events.out.tfevents.1700000000.host.1.0"),
            Some(1700000000)
        );
    }
}
