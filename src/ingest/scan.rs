//! Reading a file's existing content fast: one thread reads blocks, cuts them at line ends and
//! hands whole lines to the shared worker pool; batches come back in file order.

use super::decoder::{Batch, LogDecoder};
use crate::watch::pool::{self, Task};
use crossbeam_channel::bounded;
use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bytes per block handed to a pool worker.
pub const BLOCK: usize = 8 << 20;

/// How many blocks of a big read to decode at once: the pool's workers (it bounds what all
/// runs together use).
pub fn default_threads() -> usize {
    pool::shared().workers()
}

/// Reads `file` from `offset` to its current end through `decoder`, calling `on_batch` with
/// each batch in file order and the offset read so far. Returns the offset after the last byte
/// read. A partial last line stays held in `decoder`.
pub fn read_to_end(
    file: &File,
    mut offset: u64,
    decoder: &mut LogDecoder,
    threads: usize,
    stop: &AtomicBool,
    mut on_batch: impl FnMut(Batch, u64),
) -> io::Result<u64> {
    let len = file.metadata()?.len();
    // Blocks are parsed independently only in a known format whose records are single lines:
    // the first block goes alone while the format is unknown (OLMo's records span lines).
    let parallel = |d: &LogDecoder, offset: u64| {
        threads > 1
            && len.saturating_sub(offset) >= (2 * BLOCK) as u64
            && d.format().is_none_or(|f| !f.spans_lines())
    };
    if !parallel(decoder, offset) || decoder.format().is_none() {
        let mut buf = vec![0u8; BLOCK.min((len.saturating_sub(offset) as usize).max(64 << 10))];
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let n = read_some(file, &mut buf, offset)?;
            if n == 0 {
                break;
            }
            offset += n as u64;
            decoder.feed(&buf[..n]);
            on_batch(decoder.take_batch(), offset);
            if decoder.format().is_some() && parallel(decoder, offset) {
                break;
            }
        }
        if !parallel(decoder, offset) {
            return Ok(offset);
        }
    }

    let pool = pool::shared();
    pool.scope(|scope| -> io::Result<u64> {
        // A block's complete lines are decoded on the pool; the buffer comes back through
        // `free` to be read into again (no copies, no re-zeroing). Results are applied in file
        // order: `queue` holds them, finished or not, oldest first.
        let (free_tx, free_rx) = bounded::<Vec<u8>>(threads * 4);
        let mut queue: VecDeque<(Piece<'_, Batch>, u64)> = VecDeque::new();
        let mut running = 0usize;
        let metric = decoder.metric().clone();
        // Applies finished batches from the front; also waits for unfinished ones while more
        // than `limit` blocks are being decoded.
        let mut emit =
            |queue: &mut VecDeque<(Piece<'_, Batch>, u64)>, running: &mut usize, limit: usize| {
                while let Some((piece, _)) = queue.front() {
                    if !piece.is_ready() && *running <= limit {
                        break;
                    }
                    let Some((piece, off)) = queue.pop_front() else {
                        break;
                    };
                    if matches!(piece, Piece::Decoding(_)) {
                        *running -= 1;
                    }
                    on_batch(piece.into_batch(), off);
                }
            };
        let result: io::Result<()> = (|| {
            loop {
                if stop.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let mut buf = free_rx.try_recv().unwrap_or_else(|_| vec![0u8; BLOCK]);
                let n = read_some(file, &mut buf, offset)?;
                if n == 0 {
                    return Ok(());
                }
                offset += n as u64;
                let data = &buf[..n];
                let cut = decoder.format().and_then(|f| {
                    let first = memchr::memchr2(b'\n', b'\r', data)?;
                    let last = memchr::memrchr2(b'\n', b'\r', data)?;
                    Some((f, first, last))
                });
                match cut {
                    Some((format, first, last)) if last > first => {
                        decoder.feed(&data[..=first]);
                        queue.push_back((Piece::Ready(decoder.take_batch()), offset));
                        decoder.feed(&data[last + 1..]);
                        let (metric, free_tx) = (metric.clone(), free_tx.clone());
                        let range = first + 1..last + 1;
                        let task = scope.spawn(move || {
                            let mut d = LogDecoder::new(metric, Some(format));
                            // Metric lines are rarely shorter than ~100 bytes.
                            d.reserve(range.len() / 100);
                            d.feed(&buf[range]);
                            d.finish();
                            let _ = free_tx.try_send(buf);
                            d.take_batch()
                        });
                        queue.push_back((Piece::Decoding(task), offset));
                        running += 1;
                        // Bounded read-ahead: wait for the oldest before reading more.
                        emit(&mut queue, &mut running, threads * 2);
                    }
                    _ => {
                        decoder.feed(data);
                        queue.push_back((Piece::Ready(decoder.take_batch()), offset));
                    }
                }
                emit(&mut queue, &mut running, usize::MAX);
            }
        })();
        emit(&mut queue, &mut running, 0);
        result.map(|()| offset)
    })
}

/// A block's batch in the file-order queue: decoded here, or on the pool.
enum Piece<'env, T> {
    Ready(T),
    Decoding(Task<'env, T>),
}

impl<T> Piece<'_, T> {
    fn is_ready(&self) -> bool {
        match self {
            Piece::Ready(_) => true,
            Piece::Decoding(t) => t.is_done(),
        }
    }

    fn into_batch(self) -> T {
        match self {
            Piece::Ready(b) => b,
            Piece::Decoding(t) => t.join(),
        }
    }
}

fn read_some(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    loop {
        match file.read_at(buf, offset) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}
