//! A long stretch of a `.wandb` file (the initial read of a finished or long-running run)
//! decoded in parts at once on the shared pool ([`crate::watch::pool`]), with exactly the
//! result of decoding it in one go.
//!
//! The parts are cut at 32 KiB block boundaries, where framing can always restart. Each part
//! gets its own [`Framer`] (in lead mode: the middle and last chunks before its first record
//! are kept for the part before) and its own [`RecordDecoder`]. Then, in file order, the
//! calling thread's framer [`follow`](Framer::follow)s each part — the record split across
//! the cut is finished and decoded there, damage is added up — and its decoder
//! [`absorb`](RecordDecoder::absorb)s the part's batch, names and run info.

use super::framing::{Framer, BLOCK, MAGIC};
use super::records::RecordDecoder;

/// Parts are at least this long (shorter stretches are decoded on the calling thread).
pub const MIN_PART: usize = 4 << 20;

/// Feeds `bytes` to `framer`, decoding its records with `dec`: the same as
/// `framer.feed(bytes, &mut |r| dec.record(r))`, in up to `threads` parts at once.
pub fn feed(framer: &mut Framer, dec: &mut RecordDecoder, bytes: &[u8], threads: usize) {
    feed_in(framer, dec, bytes, threads, MIN_PART);
}

/// [`feed`] with parts of at least `min_part` bytes.
fn feed_in(
    framer: &mut Framer,
    dec: &mut RecordDecoder,
    mut bytes: &[u8],
    threads: usize,
    min_part: usize,
) {
    if framer.header_ok().is_none() && framer.pending() == 0 {
        // The header first, on its own: the parts start after it.
        let n = MAGIC.len().min(bytes.len());
        framer.feed(&bytes[..n], &mut |r| dec.record(r));
        bytes = &bytes[n..];
    }
    let cuts = cuts(framer.position(), bytes.len(), threads, min_part);
    if cuts.len() < 3 || !framer.at_unit() {
        framer.feed(bytes, &mut |r| dec.record(r));
        return;
    }
    let start = framer.position();
    let resync = framer.resyncing();
    let parts: Vec<Option<(Framer, RecordDecoder)>> = crate::watch::pool::shared().scope(|scope| {
        let decode = |i: usize| {
            let (from, to) = (cuts[i], cuts[i + 1]);
            let mut f = Framer::lead_at(start + from as u64, resync && i == 0);
            let mut d = dec.sibling();
            let part = &bytes[from..to];
            move || {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    f.feed(part, &mut |r| d.record(r));
                }))
                .ok()
                .map(|()| (f, d))
            }
        };
        let last = cuts.len() - 2;
        let tasks: Vec<_> = (0..last).map(|i| scope.spawn(decode(i))).collect();
        // The last part (which may end in a torn chunk to hold) on this thread meanwhile.
        let mine = decode(last)();
        let mut all: Vec<_> = tasks.into_iter().map(|t| t.join()).collect();
        all.push(mine);
        all
    });
    if parts.iter().any(Option::is_none) {
        // A part failed (it never should): decode the stretch again in one go.
        framer.feed(bytes, &mut |r| dec.record(r));
        return;
    }
    for (f, d) in parts.into_iter().flatten() {
        framer.follow(f, &mut |r| dec.record(r));
        dec.absorb(d);
    }
}

/// Where the parts of `len` bytes from file offset `start` begin (and the last one ends):
/// block boundaries, about evenly apart; just `[0, len]` when one part will do.
fn cuts(start: u64, len: usize, threads: usize, min_part: usize) -> Vec<usize> {
    let parts = threads.min(len / min_part.max(1));
    let mut cuts = vec![0usize];
    for k in 1..parts.max(1) {
        let target = start + (len as u64 * k as u64 / parts as u64);
        let boundary = target.div_ceil(BLOCK) * BLOCK;
        let off = (boundary - start) as usize;
        if off > cuts[cuts.len() - 1] && off < len {
            cuts.push(off);
        }
    }
    cuts.push(len);
    cuts
}

#[cfg(test)]
#[path = "parallel_tests.rs"]
mod tests;
