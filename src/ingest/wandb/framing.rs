//! The `.wandb` file's framing: a 7-byte header (`:W&B`, u16 `0xBEE1` little-endian, u8
//! version 0), then LevelDB-log framing in 32 KiB blocks counted from the start of the file
//! (the header sits in block 0). A chunk is a 7-byte header — u32 CRC-32 (zlib's, over the
//! type byte and the payload, not masked: checked on the real sample), u16 payload length, u8
//! type (1 full, 2 first, 3 middle, 4 last) — then the payload; a block tail shorter than a
//! chunk header is zero padding. A record is one full chunk or a first, middles and a last.
//!
//! [`Framer`] is fed bytes as they are read and hands over whole records; a chunk not yet
//! complete (a live writer, or the torn tail a killed run leaves) is held until the rest comes.

/// The file's first bytes: `:W&B`, `0xBEE1` (little-endian), version 0.
pub const MAGIC: [u8; 7] = [b':', b'W', b'&', b'B', 0xE1, 0xBE, 0];
/// A LevelDB-log block.
pub const BLOCK: u64 = 32 << 10;
/// A chunk's header: CRC, length, type.
pub const CHUNK_HEADER: usize = 7;
/// A record is never longer than this (a larger one is counted as damaged and dropped).
pub const MAX_RECORD: usize = 64 << 20;

/// What went wrong with the bytes, counted (each damaged chunk or record once).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Damage {
    /// Chunks whose CRC does not match, skipped.
    pub bad_crc: u64,
    /// Records lost in pieces: a middle or last chunk without its first, a first chunk
    /// without its last, a record over [`MAX_RECORD`], an impossible chunk header.
    pub broken: u64,
}

/// Cuts `.wandb` bytes into records.
#[derive(Debug, Default)]
pub struct Framer {
    /// Bytes not consumed yet; `buf[start..]` begins at file offset `pos`.
    buf: Vec<u8>,
    start: usize,
    pos: u64,
    /// The record being assembled from a first chunk and its middles.
    partial: Vec<u8>,
    in_record: bool,
    /// The last chunk was damaged: the next damage in the same block means its length cannot
    /// be trusted, so the rest of the block is skipped.
    resync: bool,
    /// Whether the file header was there (None: not seen yet).
    header_ok: Option<bool>,
    pub damage: Damage,
}

impl Framer {
    pub fn new() -> Self {
        Framer::default()
    }

    /// Whether the file starts with the `.wandb` header (`None`: not enough bytes yet).
    pub fn header_ok(&self) -> Option<bool> {
        self.header_ok
    }

    /// Bytes held: an incomplete chunk and the pieces of an incomplete record.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start + self.partial.len()
    }

    /// File offset up to which every byte was consumed.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Starts over at the beginning of a file (a restart).
    pub fn reset(&mut self) {
        *self = Framer::default();
    }

    /// Feeds the next bytes of the file, handing each whole record's payload to `record`.
    pub fn feed(&mut self, bytes: &[u8], record: &mut dyn FnMut(&[u8])) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
        if self.header_ok.is_none() {
            if self.buf.len() < MAGIC.len() {
                return;
            }
            let ok = self.buf[..MAGIC.len()] == MAGIC;
            self.header_ok = Some(ok);
            self.start = MAGIC.len();
            self.pos = MAGIC.len() as u64;
        }
        if self.header_ok == Some(false) {
            self.buf.clear();
            self.start = 0;
            return;
        }
        self.chunks(record);
        // Keep the held tail at the front (it is at most one block).
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }

    fn chunks(&mut self, record: &mut dyn FnMut(&[u8])) {
        loop {
            let avail = self.buf.len() - self.start;
            let block_left = (BLOCK - self.pos % BLOCK) as usize;
            if block_left < CHUNK_HEADER {
                // Padding to the block's end.
                if avail < block_left {
                    return;
                }
                self.skip(block_left);
                self.resync = false;
                continue;
            }
            if avail < CHUNK_HEADER {
                return;
            }
            let h = &self.buf[self.start..self.start + CHUNK_HEADER];
            let crc = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
            let len = u16::from_le_bytes([h[4], h[5]]) as usize;
            let kind = h[6];
            if kind == 0 && len == 0 && crc == 0 {
                // A zero-filled rest of block (preallocated): nothing more in it.
                if avail < block_left {
                    return;
                }
                self.skip(block_left);
                self.resync = false;
                continue;
            }
            if CHUNK_HEADER + len > block_left || !(1..=4).contains(&kind) {
                // An impossible header: damaged; the rest of the block cannot be framed.
                if avail < block_left {
                    return;
                }
                self.damaged();
                self.skip(block_left);
                continue;
            }
            if avail < CHUNK_HEADER + len {
                // Torn: wait for the rest of the chunk.
                return;
            }
            let at = self.start + CHUNK_HEADER;
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(&[kind]);
            hasher.update(&self.buf[at..at + len]);
            if hasher.finalize() != crc {
                if self.resync {
                    // Two damaged chunks running: the length is not to be trusted.
                    if avail < block_left {
                        return;
                    }
                    self.skip(block_left);
                    self.resync = false;
                    continue;
                }
                self.damage.bad_crc += 1;
                self.drop_partial();
                self.resync = true;
                self.skip(CHUNK_HEADER + len);
                continue;
            }
            self.resync = false;
            self.chunk(kind, at, len, record);
            self.skip(CHUNK_HEADER + len);
        }
    }

    fn chunk(&mut self, kind: u8, at: usize, len: usize, record: &mut dyn FnMut(&[u8])) {
        if kind <= 2 {
            self.drop_partial();
        }
        let payload = &self.buf[at..at + len];
        match kind {
            1 => record(payload),
            2 => {
                self.partial.extend_from_slice(payload);
                self.in_record = true;
            }
            _ if !self.in_record => self.damage.broken += 1,
            _ if self.partial.len() + len > MAX_RECORD => {
                self.damage.broken += 1;
                self.partial.clear();
                self.in_record = false;
            }
            3 => self.partial.extend_from_slice(payload),
            _ => {
                self.partial.extend_from_slice(payload);
                record(&self.partial);
                self.partial.clear();
                self.in_record = false;
            }
        }
    }

    /// A damaged chunk header (counted once per run of damage).
    fn damaged(&mut self) {
        if !self.resync {
            self.damage.bad_crc += 1;
        }
        self.drop_partial();
        self.resync = false;
    }

    /// Drops the record being assembled, counting it.
    fn drop_partial(&mut self) {
        if self.in_record {
            self.damage.broken += 1;
        }
        self.partial.clear();
        self.in_record = false;
    }

    fn skip(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }
}

pub mod write {
    //! A writer of the same framing, for tests (and the benchmark) that need damage the real library never
    //! writes (bad CRCs, torn tails) or records split across blocks.
    use super::*;

    /// Frames `records` as wandb does: header, then chunks that never cross a block.
    pub fn frame(records: &[Vec<u8>]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for r in records {
            let mut rest = &r[..];
            let mut first = true;
            loop {
                let block_left = (BLOCK - out.len() as u64 % BLOCK) as usize;
                if block_left < CHUNK_HEADER {
                    out.resize(out.len() + block_left, 0);
                    continue;
                }
                let room = block_left - CHUNK_HEADER;
                let n = rest.len().min(room);
                let last = n == rest.len();
                let kind = match (first, last) {
                    (true, true) => 1u8,
                    (true, false) => 2,
                    (false, false) => 3,
                    (false, true) => 4,
                };
                let mut h = crc32fast::Hasher::new();
                h.update(&[kind]);
                h.update(&rest[..n]);
                out.extend_from_slice(&h.finalize().to_le_bytes());
                out.extend_from_slice(&(n as u16).to_le_bytes());
                out.push(kind);
                out.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
                first = false;
                if last {
                    break;
                }
            }
        }
        out
    }
}
