//! Reading a file's existing content fast: one thread reads blocks, cuts them at line ends and
//! hands whole lines to parser threads; batches come back in file order.

use super::decoder::{Batch, LogDecoder};
use crossbeam_channel::{bounded, Receiver, Sender};
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bytes per block handed to a parser thread.
pub const BLOCK: usize = 8 << 20;

/// How many parser threads to use for a big read.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
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

    std::thread::scope(|scope| -> io::Result<u64> {
        // A job is a whole block buffer and the range of complete lines in it; the buffer
        // comes back through `free` to be read into again (no copies, no re-zeroing).
        type Job = (u64, Vec<u8>, std::ops::Range<usize>);
        let (job_tx, job_rx): (Sender<Job>, Receiver<Job>) = bounded(threads * 2);
        let (res_tx, res_rx) = bounded::<(u64, Batch)>(threads * 4);
        let (free_tx, free_rx) = bounded::<Vec<u8>>(threads * 4);
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let res_tx = res_tx.clone();
            let free_tx = free_tx.clone();
            let metric = decoder.metric().clone();
            let format = decoder.format();
            scope.spawn(move || {
                let mut format = format;
                for (seq, block, range) in job_rx {
                    let mut d = LogDecoder::new(metric.clone(), format);
                    // Metric lines are rarely shorter than ~100 bytes.
                    d.reserve(range.len() / 100);
                    d.feed(&block[range]);
                    d.finish();
                    format = format.or(d.format());
                    let _ = free_tx.try_send(block);
                    if res_tx.send((seq, d.take_batch())).is_err() {
                        break;
                    }
                }
            });
        }
        drop(job_rx);
        drop(res_tx);
        drop(free_tx);

        let mut ready: BTreeMap<u64, (Batch, u64)> = BTreeMap::new();
        let mut jobs_offset: BTreeMap<u64, u64> = BTreeMap::new();
        let mut next_emit = 0u64;
        let mut seq = 0u64;
        let mut emit = |ready: &mut BTreeMap<u64, (Batch, u64)>, next_emit: &mut u64| {
            while let Some((b, off)) = ready.remove(next_emit) {
                on_batch(b, off);
                *next_emit += 1;
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
                let cut = decoder.format().and_then(|_| {
                    let first = memchr::memchr2(b'\n', b'\r', data)?;
                    let last = memchr::memrchr2(b'\n', b'\r', data)?;
                    Some((first, last))
                });
                match cut {
                    Some((first, last)) if last > first => {
                        decoder.feed(&data[..=first]);
                        ready.insert(seq, (decoder.take_batch(), offset));
                        seq += 1;
                        decoder.feed(&data[last + 1..]);
                        jobs_offset.insert(seq, offset);
                        // While waiting for room, collect finished batches.
                        let mut job = Some((seq, buf, first + 1..last + 1));
                        while let Some(j) = job.take() {
                            match job_tx.try_send(j) {
                                Ok(()) => {}
                                Err(crossbeam_channel::TrySendError::Full(j)) => {
                                    job = Some(j);
                                    if let Ok((s, b)) = res_rx.recv() {
                                        let off = jobs_offset.remove(&s).unwrap_or(offset);
                                        ready.insert(s, (b, off));
                                    }
                                }
                                Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
                                    return Err(io::Error::other("parser thread stopped"));
                                }
                            }
                        }
                        seq += 1;
                    }
                    _ => {
                        decoder.feed(data);
                        ready.insert(seq, (decoder.take_batch(), offset));
                        seq += 1;
                    }
                }
                while let Ok((s, b)) = res_rx.try_recv() {
                    let off = jobs_offset.remove(&s).unwrap_or(offset);
                    ready.insert(s, (b, off));
                }
                emit(&mut ready, &mut next_emit);
            }
        })();
        drop(job_tx);
        for (s, b) in res_rx.iter() {
            let off = jobs_offset.remove(&s).unwrap_or(offset);
            ready.insert(s, (b, off));
        }
        emit(&mut ready, &mut next_emit);
        result.map(|()| offset)
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
