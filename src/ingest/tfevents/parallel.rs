//! Decoding a big stretch of an event file in parts on the shared pool, with the result the
//! sequential decoder gives on the same bytes — whatever the number of threads.
//!
//! The stretch is cut where a record starts whose header checks out and is followed by another
//! valid header. The first part is decoded by the decoder itself (after the bytes it holds from
//! the stretch before: a record cut at a block's end), the others by fresh decoders
//! that note what depends on the records before them (a loss logged before the part's first
//! metric record; metric records before the part's first loss). The parts are then joined in
//! order, settling those notes with the decoder's state as it stands at the cut. When a part
//! does not end exactly at the next cut (a torn or corrupt record across it, bytes being
//! resynced), the parts after it are dropped and the rest is decoded sequentially from where
//! that part stopped: the sequential decoder might not pass through the cut at all.

use super::{header_ok, EventDecoder, MAX_RECORD};
use crate::ingest::formats::LOSS_COLUMN;

/// Parts smaller than this are not worth a thread.
const MIN_PART: usize = 4 << 20;
/// Losses noted before a part's first metric record; past this the part is redone in order.
const MAX_EARLY_LOSSES: usize = 64;

/// What a part's records depend on from before the part.
#[derive(Debug, Default)]
pub(super) struct PartStart {
    /// Losses (step, value) seen before the part's first metric record, in order.
    early_losses: Vec<(i64, f64)>,
    /// More of them than are kept.
    overflowed: bool,
    /// Metric records decoded before the part's first loss (their loss is the one before).
    metrics_before_loss: usize,
}

impl PartStart {
    pub(super) fn loss_before_metric(&mut self, step: i64, value: f64) {
        if self.early_losses.len() < MAX_EARLY_LOSSES {
            self.early_losses.push((step, value));
        } else {
            self.overflowed = true;
        }
    }

    pub(super) fn metric_before_loss(&mut self) {
        self.metrics_before_loss += 1;
    }
}

/// A decoded part: its decoder, and where in the stretch it starts and ends.
struct Part {
    decoder: EventDecoder,
    start: usize,
    end: usize,
}

/// The first offset ≥ `from` where a record starts whose header checks out and is followed by
/// another valid header (or the end of `b`): a place to cut for parallel decoding.
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

impl EventDecoder {
    /// A fresh decoder for the same metric, for the part of a stretch starting at a cut.
    fn part_decoder(&self) -> Self {
        EventDecoder {
            tags: self.tags.clone(),
            buf: Vec::new(),
            start: 0,
            batch: self.batch.empty_like(),
            ready: Vec::new(),
            resyncing: false,
            last_loss: None,
            last_extra: Default::default(),
            handed_over: None,
            seen_tags: Vec::new(),
            collect_tags: self.collect_tags,
            last_tag: Vec::new(),
            last_kind: super::TagKind::Other,
            part: Some(PartStart::default()),
        }
    }

    /// Like [`feed`](Self::feed), decoding big stretches in up to `threads` parts on the
    /// shared pool; the result is the sequential one (see the module comment).
    pub fn feed_parallel(&mut self, bytes: &[u8], threads: usize) {
        if threads <= 1 || self.resyncing || bytes.len() < 2 * MIN_PART {
            self.feed(bytes);
            return;
        }
        let parts = threads.min(bytes.len() / MIN_PART).max(1);
        let mut cuts = vec![0usize];
        for k in 1..parts {
            let from = (bytes.len() * k / parts).max(*cuts.last().unwrap_or(&0));
            match next_boundary(bytes, from) {
                Some(b) if b > *cuts.last().unwrap_or(&0) => cuts.push(b),
                _ => break,
            }
        }
        cuts.push(bytes.len());
        let decoders: Vec<EventDecoder> = (2..cuts.len()).map(|_| self.part_decoder()).collect();
        // Parts after the first on the pool; the first through `self` meanwhile.
        let parts: Vec<Option<Part>> = crate::watch::pool::shared().scope(|scope| {
            let tasks: Vec<_> = cuts[1..]
                .windows(2)
                .zip(decoders)
                .map(|(w, mut d)| {
                    let (start, end) = (w[0], w[1]);
                    let part = &bytes[start..end];
                    // A decoder panic loses the part: it is then decoded again in order.
                    scope.spawn(move || {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                            d.feed(part);
                            Part {
                                decoder: d,
                                start,
                                end,
                            }
                        }))
                        .ok()
                    })
                })
                .collect();
            self.feed(&bytes[..cuts[1]]);
            tasks.into_iter().map(|t| t.join()).collect()
        });
        let mut next = cuts[1];
        for part in parts {
            if self.pending_len() > 0 || self.resyncing {
                break;
            }
            let Some(part) = part.filter(|p| p.start == next) else {
                break;
            };
            let Some(end) = self.join(part) else {
                break;
            };
            next = end;
        }
        if next < bytes.len() {
            // Stopped at a part that could not be joined: in order from where it starts
            // (held bytes of the part before included).
            self.feed(&bytes[next..]);
        }
    }

    /// Appends a part decoded from the offset this decoder has reached, settling what it
    /// noted; returns the offset after it, or `None` when it must be decoded again in order.
    fn join(&mut self, mut part: Part) -> Option<usize> {
        let d = &mut part.decoder;
        let start = d.part.take().unwrap_or_default();
        if start.overflowed {
            return None;
        }
        // The losses before its first metric record meet the records before the part.
        for (step, value) in start.early_losses {
            self.loss(step, value);
        }
        // Its first metric records took no loss: the one before the part, at their step.
        let mut batch = std::mem::take(&mut d.batch);
        if let Some((ls, l)) = self.last_loss {
            let at = u64::try_from(ls).ok();
            for i in 0..start.metrics_before_loss.min(batch.steps.len()) {
                let r = batch.steps.get(i);
                if r.is_some_and(|r| r.step == at && r.values[LOSS_COLUMN].is_none()) {
                    batch.steps.set(i, LOSS_COLUMN, l);
                }
            }
        }
        if self.batch.steps.is_empty() || batch.steps.is_empty() {
            self.batch.extend(batch);
        } else {
            // Records on both sides: the part's batch goes on as it is (no copy); what came
            // before it is complete.
            let done = std::mem::replace(&mut self.batch, batch);
            self.ready.push(done);
        }
        self.last_loss = d.last_loss.or(self.last_loss);
        for (mine, theirs) in self.last_extra.iter_mut().zip(d.last_extra) {
            *mine = theirs.or(*mine);
        }
        self.resyncing = d.resyncing;
        for t in std::mem::take(&mut d.seen_tags) {
            self.note_tag(t.as_bytes());
        }
        std::mem::swap(&mut self.last_tag, &mut d.last_tag);
        self.last_kind = d.last_kind;
        // A torn record at its end is held here, as the sequential decoder would hold it.
        self.buf.clear();
        self.start = 0;
        self.buf.extend_from_slice(&d.buf[d.start..]);
        Some(part.end)
    }
}
