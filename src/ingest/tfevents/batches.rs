//! Handing over what an [`EventDecoder`] decoded: as one batch, or as the batches it was
//! decoded in (the parts of a parallel decode, not copied into one).

use super::EventDecoder;
use crate::ingest::decoder::Batch;
use crate::ingest::formats::LOSS_COLUMN;

impl EventDecoder {
    /// What was decoded since the last call, as one batch.
    pub fn take_batch(&mut self) -> Batch {
        let mut parts = self.take_batches().into_iter();
        let mut all = parts.next().unwrap_or_default();
        for b in parts {
            all.extend(b);
        }
        all
    }

    /// What was decoded since the last call, in order, as the batches it was decoded in (the
    /// parts of a parallel decode are not copied into one); at least one batch.
    pub fn take_batches(&mut self) -> Vec<Batch> {
        if let Some(r) = self.batch.steps.last() {
            self.handed_over = Some((r.step, r.values[LOSS_COLUMN].is_some()));
        }
        let next = self.batch.empty_like();
        let last = std::mem::replace(&mut self.batch, next);
        let mut out = std::mem::take(&mut self.ready);
        out.push(last);
        out
    }
}
