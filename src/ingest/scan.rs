//! Reading a file's existing content fast: the shared worker pool's workers each read a block
//! (in pieces that stay in their cache) and decode its whole lines; the lines cut by the
//! blocks' edges are joined in file order by the caller's decoder, and batches come back in
//! file order.

use super::decoder::{Batch, LogDecoder};
use crate::watch::pool::{self, Task};
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
        offset = read_in_order(file, offset, len, decoder, stop, &mut on_batch, |d, at| {
            d.format().is_some() && parallel(d, at)
        })?;
        if !parallel(decoder, offset) {
            return Ok(offset);
        }
    }

    let pool = pool::shared();
    let end = pool.scope(|scope| -> io::Result<u64> {
        // Each worker reads its own block in cache-sized pieces and decodes the whole lines in
        // it while they are still in its cache; the block's first and last partial lines come
        // back as bytes, for `decoder` to join with the neighbours' in file order. Results
        // are applied in file order: `queue` holds them, finished or not, oldest first.
        let mut queue: VecDeque<(Task<'_, io::Result<Block>>, usize)> = VecDeque::new();
        let mut next = offset;
        let metric = decoder.metric().clone();
        let format = decoder.format();
        let mut result = Ok(());
        let mut end = len;
        loop {
            // Bounded read-ahead: at most two blocks per worker in flight.
            while next < end && queue.len() < threads * 2 && !stop.load(Ordering::Relaxed) {
                let (metric, at) = (metric.clone(), next);
                let size = BLOCK.min((end - next) as usize);
                let task = scope.spawn(move || {
                    read_block(file, at, size, LogDecoder::new(metric, format), stop)
                });
                queue.push_back((task, size));
                next += size as u64;
            }
            let Some((task, size)) = queue.pop_front() else {
                break;
            };
            let block = match task.join() {
                Ok(b) => b,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            decoder.feed(&block.head);
            on_batch(decoder.take_batch(), offset + block.head.len() as u64);
            offset += block.read as u64;
            if let Some(batch) = block.lines {
                on_batch(batch, offset);
            }
            decoder.feed(&block.tail);
            // A short block: the file ended (or was cut) there; later blocks are not used.
            if block.read < size || stop.load(Ordering::Relaxed) {
                end = next;
                queue.clear();
            }
        }
        result.map(|()| offset)
    })?;
    if stop.load(Ordering::Relaxed) {
        return Ok(end);
    }
    // Anything written meanwhile, in order.
    read_in_order(file, end, len, decoder, stop, &mut on_batch, |_, _| false)
}

/// Reads `file` from `offset` on, in order on this thread, through `decoder` (each batch to
/// `on_batch` with the offset read so far), until its end, `stop`, or `enough(decoder,
/// offset)` after a read. Returns the offset after the last byte read.
fn read_in_order(
    file: &File,
    mut offset: u64,
    len: u64,
    decoder: &mut LogDecoder,
    stop: &AtomicBool,
    on_batch: &mut impl FnMut(Batch, u64),
    enough: impl Fn(&LogDecoder, u64) -> bool,
) -> io::Result<u64> {
    let mut buf = vec![0u8; BLOCK.min((len.saturating_sub(offset) as usize).max(64 << 10))];
    while !stop.load(Ordering::Relaxed) {
        let n = read_some(file, &mut buf, offset)?;
        if n == 0 {
            break;
        }
        offset += n as u64;
        decoder.feed(&buf[..n]);
        on_batch(decoder.take_batch(), offset);
        if enough(decoder, offset) {
            break;
        }
    }
    Ok(offset)
}

/// What a worker made of one block: its whole lines decoded, its first and last partial
/// lines as bytes.
struct Block {
    /// Up to and including the first line end (the whole block when it has none).
    head: Vec<u8>,
    /// The records of the lines between the first line end and the last.
    lines: Option<Batch>,
    /// After the last line end.
    tail: Vec<u8>,
    /// Bytes read (less than asked when the file ended).
    read: usize,
}

/// Bytes a worker reads at a time: small enough to be decoded from its cache.
const READ_PIECE: usize = 256 << 10;

/// Reads `size` bytes at `at` piece by piece, decoding the whole lines between the first line
/// end and the last with `lines` (a decoder of the file's format).
fn read_block(
    file: &File,
    at: u64,
    size: usize,
    mut lines: LogDecoder,
    stop: &AtomicBool,
) -> io::Result<Block> {
    let mut buf = vec![0u8; READ_PIECE.min(size)];
    let mut head = Vec::new();
    let mut tail = Vec::new();
    let mut started = false;
    let mut read = 0;
    // Metric lines are rarely shorter than ~100 bytes.
    lines.reserve(size / 100);
    while read < size && !stop.load(Ordering::Relaxed) {
        let want = buf.len().min(size - read);
        let n = read_some(file, &mut buf[..want], at + read as u64)?;
        if n == 0 {
            break;
        }
        read += n;
        let mut data = &buf[..n];
        if !started {
            let Some(first) = memchr::memchr2(b'\n', b'\r', data) else {
                head.extend_from_slice(data);
                continue;
            };
            head.extend_from_slice(&data[..=first]);
            data = &data[first + 1..];
            started = true;
        }
        match memchr::memrchr2(b'\n', b'\r', data) {
            Some(last) => {
                lines.feed(&tail);
                tail.clear();
                lines.feed(&data[..=last]);
                tail.extend_from_slice(&data[last + 1..]);
            }
            None => tail.extend_from_slice(data),
        }
    }
    lines.finish();
    Ok(Block {
        head,
        lines: started.then(|| lines.take_batch()),
        tail,
        read,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::{LogFormat, MetricSpec};
    use std::io::Write;

    /// A fairseq log of `blocks` blocks and a bit, with what a real one holds between its
    /// records (config dumps, overflow notes, tqdm frames, colour, a line over the length cap
    /// and one longer than a block, each somewhere across a block's edge).
    fn log(blocks: usize) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"Namespace(arch='transformer', clip_norm=1.0, lr=[0.0005])\n");
        let mut step = 0u64;
        while out.len() < blocks * BLOCK + BLOCK / 3 {
            step += 1;
            let line = format!(
                "2023-06-13 17:31:08 | INFO | train_inner | epoch 001:  85 / 282 loss={}.{}, \
                 nll_loss=1.236, ppl=8.86, num_updates={step}, lr=0.000157917, gnorm={}.{:03}, \
                 clip=0, loss_scale=32768\n",
                step % 7,
                step % 1000,
                step % 13,
                step % 997
            );
            out.extend_from_slice(line.as_bytes());
            match step % 5000 {
                17 => out
                    .extend_from_slice(b"| NOTE: overflow detected, setting loss scale to: 64.0\n"),
                99 => out.extend_from_slice(
                    b"\x1b[31m| INFO | train_inner | gnorm=7.5, num_updates=3\x1b[0m\r\n",
                ),
                400 => out.extend_from_slice(b"gnorm=oops num_updates=1\r"),
                _ => {}
            }
            // Long lines where they cross the block edges.
            let edge = BLOCK - out.len() % BLOCK;
            if out.len() > BLOCK && out.len() < 2 * BLOCK && edge < 300 {
                out.extend(std::iter::repeat_n(
                    b'x',
                    crate::ingest::framing::MAX_LINE + 5,
                ));
                out.push(b'\n');
            }
            if out.len() > 2 * BLOCK + 1000 && out.len() < 2 * BLOCK + 2000 {
                out.extend(std::iter::repeat_n(b'y', BLOCK + 10));
                out.extend_from_slice(b" gnorm=1.5\n");
            }
        }
        // A last line without its end.
        out.extend_from_slice(b"num_updates=9 gnorm=2.5");
        out
    }

    fn read(path: &std::path::Path, threads: usize) -> (Batch, u64) {
        let file = File::open(path).unwrap();
        let mut d = LogDecoder::new(MetricSpec::gnorm(), None);
        let mut all = Batch::default();
        let mut last = 0;
        let stop = AtomicBool::new(false);
        let end = read_to_end(&file, 0, &mut d, threads, &stop, |b, done| {
            assert!(done >= last, "offsets go forward");
            last = done;
            all.extend(b);
        })
        .unwrap();
        d.finish();
        all.extend(d.take_batch());
        (all, end)
    }

    #[test]
    fn blocks_read_by_the_workers_decode_as_one_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.log");
        let bytes = log(3);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&bytes)
            .unwrap();
        let (one, end1) = read(&path, 1);
        let (many, end4) = read(&path, 4);
        assert_eq!(end1, bytes.len() as u64);
        assert_eq!(end4, bytes.len() as u64);
        assert_eq!(one.detected, Some(LogFormat::FairseqSimple));
        assert!(
            one.overflows > 0 && one.skipped > 0,
            "{:?}",
            (one.overflows, one.skipped)
        );
        assert!(one.steps.len() > 100_000);
        assert_eq!(one, many);
    }
}
