//! A long stretch of a `.wandb` file (the initial read of a finished or long-running run)
//! read and decoded in parts at once on the shared pool ([`crate::watch::pool`]), with exactly
//! the result of decoding it in one go.
//!
//! The parts are cut at 32 KiB block boundaries, where framing can always restart. Each part
//! reads its own bytes in small pieces ([`PIECE`]: decoded while they are in the cache, into
//! a buffer that is reused, not one big fresh one) with its own [`Framer`] (in lead mode: the
//! middle and last chunks before its first record are kept for the part before) and its own
//! [`RecordDecoder`], and takes the CRC-32C of its bytes (the file's fingerprint, combined).
//! The parts (about [`MIN_PART`] each, many more than threads) are taken one after the other
//! by whichever thread is free — the calling one and pool workers — so that all of them end
//! together, at most `AHEAD` parts ahead of the one taken in. The calling thread takes the
//! parts in, in file order, as soon as each is done: its framer [`follow`](Framer::follow)s
//! the part — the record split across the cut is finished and decoded there, damage is added
//! up — its decoder [`absorb`](RecordDecoder::absorb)s the part's batch, names and run info,
//! and the batch so far is handed on (the series is built meanwhile, not after the read).

use super::framing::{Framer, BLOCK};
use super::records::RecordDecoder;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Parts are about this long (shorter stretches are decoded on the calling thread).
pub const MIN_PART: usize = 1 << 20;

/// How much a part reads at a time: small enough to stay in the core's cache while it is
/// framed and decoded.
pub const PIECE: usize = 256 << 10;

/// Where a stretch's bytes come from: the file (read piece by piece) or memory (tests).
trait Stretch: Sync {
    /// Hands `each` the bytes `from..to` of the stretch, in order, in pieces; returns how
    /// many it handed (fewer than asked: the file ends there).
    fn pieces(&self, from: usize, to: usize, each: &mut dyn FnMut(&[u8])) -> io::Result<usize>;

    /// Whether the CRC-32C of the bytes is wanted (not when nothing will look again).
    fn fingerprint(&self) -> bool {
        true
    }
}

/// Bytes in memory.
#[cfg(test)]
struct Memory<'a>(&'a [u8]);

#[cfg(test)]
impl Stretch for Memory<'_> {
    fn pieces(&self, from: usize, to: usize, each: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        let to = to.min(self.0.len());
        let from = from.min(to);
        each(&self.0[from..to]);
        Ok(to - from)
    }
}

/// Bytes of a file from offset `at` on.
struct FileStretch<'a> {
    file: &'a File,
    at: u64,
    piece: usize,
    fingerprint: bool,
}

impl Stretch for FileStretch<'_> {
    fn pieces(&self, from: usize, to: usize, each: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        let mut buf = vec![0u8; self.piece.min(to.saturating_sub(from)).max(1)];
        let mut pos = from;
        while pos < to {
            let want = (to - pos).min(buf.len());
            let n = match self.file.read_at(&mut buf[..want], self.at + pos as u64) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            each(&buf[..n]);
            pos += n;
        }
        Ok(pos - from)
    }

    fn fingerprint(&self) -> bool {
        self.fingerprint
    }
}

/// Reads `len` bytes of `file` from offset `at` (where `framer` stopped taking bytes) and
/// feeds them to `framer`, decoding its records with `dec`, in up to `threads` parts at once:
/// the same as feeding them in one go. Returns how many bytes were read (fewer: the file
/// ended) and their CRC-32C (0 unless `fingerprint`: a one-shot read has no use for it, and
/// it was ~5% of the decode's time).
#[allow(clippy::too_many_arguments)]
pub fn read(
    framer: &mut Framer,
    dec: &mut RecordDecoder,
    file: &File,
    at: u64,
    len: usize,
    threads: usize,
    fingerprint: bool,
    each: &mut dyn FnMut(&mut Framer, &mut RecordDecoder),
) -> io::Result<(usize, u32)> {
    let src = FileStretch {
        file,
        at,
        piece: PIECE,
        fingerprint,
    };
    feed_stretch(framer, dec, &src, len, threads, MIN_PART, each)
}

/// Feeds `bytes` to `framer`, decoding its records with `dec`: the same as
/// `framer.feed(bytes, &mut |r| dec.record(r))`, in up to `threads` parts of at least
/// `min_part` bytes at once.
#[cfg(test)]
fn feed_in(
    framer: &mut Framer,
    dec: &mut RecordDecoder,
    bytes: &[u8],
    threads: usize,
    min_part: usize,
) {
    let done = feed_stretch(
        framer,
        dec,
        &Memory(bytes),
        bytes.len(),
        threads,
        min_part,
        &mut |_, _| {},
    );
    assert!(matches!(done, Ok((n, _)) if n == bytes.len()));
}

/// Feeds the stretch's first bytes one after the other, adding them to `crc` (when the
/// stretch wants its fingerprint).
fn serial(
    framer: &mut Framer,
    dec: &mut RecordDecoder,
    src: &dyn Stretch,
    from: usize,
    to: usize,
    crc: &mut u32,
) -> io::Result<usize> {
    let fingerprint = src.fingerprint();
    src.pieces(from, to, &mut |p| {
        if fingerprint {
            *crc = crc32c::crc32c_append(*crc, p);
        }
        framer.feed(p, &mut |r| dec.record(r));
    })
}

/// A part's outcome: its framer and decoder, the CRC-32C and count of its bytes (`None`: it
/// panicked, which it never should).
type Part = Option<io::Result<(Framer, RecordDecoder, u32, usize)>>;

/// Parts decoded ahead of the one the calling thread takes in next, at most (what is held in
/// memory at once).
const AHEAD: usize = 24;

/// Who decodes which part, and what is done (shared by the calling thread and the workers).
struct Board {
    /// The next part to hand out.
    next: usize,
    /// Parts taken in, in order, by the calling thread.
    taken_in: usize,
    /// A part failed: no more are handed out.
    stop: bool,
    done: Vec<Option<Part>>,
}

struct Shared {
    board: std::sync::Mutex<Board>,
    changed: std::sync::Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next part to decode, when one may be handed out now.
    fn hand_out(b: &mut Board) -> Option<usize> {
        (!b.stop && b.next < b.done.len() && b.next < b.taken_in + AHEAD).then(|| {
            b.next += 1;
            b.next - 1
        })
    }

    fn finished(&self, i: usize, part: Part) {
        self.lock().done[i] = Some(part);
        self.changed.notify_all();
    }
}

/// Feeds the stretch's bytes `0..len` to `framer` (its first ones on this thread, up to a
/// block boundary), decoding with `dec`: in parts cut at block boundaries, decoded on up to
/// `threads` threads at once (this one and pool workers, each taking the next part when it
/// is free) and taken in here in file order as they are done — `each` is called after each
/// (the batch so far can be handed on). Returns the bytes read and their CRC-32C.
fn feed_stretch(
    framer: &mut Framer,
    dec: &mut RecordDecoder,
    src: &dyn Stretch,
    len: usize,
    threads: usize,
    min_part: usize,
    each: &mut dyn FnMut(&mut Framer, &mut RecordDecoder),
) -> io::Result<(usize, u32)> {
    let mut crc = 0u32;
    let mut head = 0usize;
    if !framer.at_unit() {
        // The header, or a unit held from the last read: up to the next block boundary on
        // this thread (framing restarts there, nothing held).
        let fed = framer.fed();
        let to_boundary = match (BLOCK - fed % BLOCK) % BLOCK {
            0 => BLOCK as usize,
            n => n as usize,
        };
        let want = to_boundary.min(len);
        head = serial(framer, dec, src, 0, want, &mut crc)?;
        if head < want || !framer.at_unit() {
            let n = serial(framer, dec, src, head, len, &mut crc)?;
            return Ok((head + n, crc));
        }
    }
    // Parts of about `min_part` bytes (more than one a thread: whoever is free takes the
    // next, so the threads end together).
    let parts = if threads > 1 {
        (len - head) / min_part.max(1)
    } else {
        1
    };
    let cuts: Vec<usize> = cuts(framer.position(), len - head, parts, min_part)
        .into_iter()
        .map(|c| head + c)
        .collect();
    if cuts.len() < 3 {
        let n = serial(framer, dec, src, head, len, &mut crc)?;
        return Ok((head + n, crc));
    }
    let start = framer.position() - head as u64;
    let resync = framer.resyncing();
    let template = dec.sibling();
    let n = cuts.len() - 1;
    let shared = Shared {
        board: std::sync::Mutex::new(Board {
            next: 0,
            taken_in: 0,
            stop: false,
            done: (0..n).map(|_| None).collect(),
        }),
        changed: std::sync::Condvar::new(),
    };
    let decode = |i: usize| -> Part {
        let (from, to) = (cuts[i], cuts[i + 1]);
        let mut f = Framer::lead_at(start + from as u64, resync && i == 0);
        let mut d = template.sibling();
        // A history record with its summary takes ~450–560 bytes in wandb's files.
        d.reserve((to - from) / 400);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut c = 0u32;
            let got = serial(&mut f, &mut d, src, from, to, &mut c)?;
            Ok((f, d, c, got))
        }))
        .ok()
    };
    let worker = || loop {
        let i = {
            let mut b = shared.lock();
            loop {
                if b.stop || b.next >= n {
                    return;
                }
                if let Some(i) = Shared::hand_out(&mut b) {
                    break i;
                }
                b = match shared.changed.wait(b) {
                    Ok(g) => g,
                    Err(e) => e.into_inner(),
                };
            }
        };
        shared.finished(i, decode(i));
    };
    let mut total = head;
    // Where the stretch is read again in one go, when a part failed (a read error, the file
    // cut meanwhile): the parts before it were taken in.
    let mut redo: Option<usize> = None;
    crate::watch::pool::shared().scope(|scope| {
        for _ in 1..threads.min(n) {
            scope.spawn(worker);
        }
        let mut taken = 0;
        while taken < n {
            let mut b = shared.lock();
            if let Some(part) = b.done[taken].take() {
                drop(b);
                // Read to its end (the last one may stop short: the file ends there).
                let whole = matches!(&part, Some(Ok((_, _, _, got)))
                    if *got == cuts[taken + 1] - cuts[taken] || cuts[taken + 1] == len);
                match part {
                    Some(Ok((f, d, c, got))) if whole => {
                        framer.follow(f, &mut |r| dec.record(r));
                        dec.absorb(d);
                        crc = super::block_crc::crc32c_combine(crc, c, got);
                        total += got;
                        each(framer, dec);
                    }
                    _ => {
                        redo = Some(cuts[taken]);
                        shared.lock().stop = true;
                        shared.changed.notify_all();
                        return;
                    }
                }
                taken += 1;
                shared.lock().taken_in = taken;
                shared.changed.notify_all();
                continue;
            }
            // Not done yet: decode the next part meanwhile, or wait for it.
            match Shared::hand_out(&mut b) {
                Some(i) => {
                    drop(b);
                    shared.finished(i, decode(i));
                }
                None => {
                    drop(match shared.changed.wait(b) {
                        Ok(g) => g,
                        Err(e) => e.into_inner(),
                    });
                }
            }
        }
    });
    if let Some(from) = redo {
        let got = serial(framer, dec, src, from, len, &mut crc)?;
        return Ok((from + got, crc));
    }
    Ok((total, crc))
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
