//! The `.wandb` file's framing: a 7-byte header (`:W&B`, u16 `0xBEE1` little-endian, u8
//! version 0), then LevelDB-log framing in 32 KiB blocks counted from the start of the file
//! (the header sits in block 0). A chunk is a 7-byte header — u32 CRC-32 (zlib's, over the
//! type byte and the payload, not masked: checked on the real sample), u16 payload length, u8
//! type (1 full, 2 first, 3 middle, 4 last) — then the payload; a block tail shorter than a
//! chunk header is zero padding. A record is one full chunk or a first, middles and a last.
//!
//! [`Framer`] is fed bytes as they are read and hands over whole records, straight from the
//! bytes it is given (a record in one chunk is never copied); a chunk not yet complete (a live
//! writer, or the torn tail a killed run leaves) is held until the rest comes.
//!
//! Blocks make the framing restartable at any block boundary, which [`super::parallel`] uses:
//! a framer started there in *lead* mode keeps the middle and last chunks it meets before a
//! record's start (the end of a record begun before it) for the framer before it to finish.

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

impl Damage {
    pub fn add(&mut self, other: Damage) {
        self.bad_crc += other.bad_crc;
        self.broken += other.broken;
    }
}

/// The chunks a framer started mid-file met before any record's start: they belong to a
/// record the bytes before them began.
#[derive(Debug, Default)]
pub struct Lead {
    /// Middle and last chunks (type, payload), in order.
    pub chunks: Vec<(u8, Vec<u8>)>,
    /// Still open: the bytes ended before a last chunk or anything else.
    pub open: bool,
    /// Ended by what drops a record being assembled (a first or full chunk, damage).
    pub cut: bool,
}

/// Cuts `.wandb` bytes into records.
#[derive(Debug, Default)]
pub struct Framer {
    /// An incomplete unit (chunk or padding) beginning at file offset `pos`.
    held: Vec<u8>,
    pos: u64,
    /// The record being assembled from a first chunk and its middles.
    partial: Vec<u8>,
    in_record: bool,
    /// The last chunk of this block was damaged: a second damage in the same block means its
    /// lengths cannot be trusted, so the rest of the block is skipped.
    resync: bool,
    /// Whether the file header was there (None: not seen yet).
    header_ok: Option<bool>,
    /// File offsets: chunks ending by `verified_to` passed a combined CRC check
    /// ([`super::block_crc`]); the chunks before `checked_to` were looked at by one (those
    /// past `verified_to` are checked one by one).
    verified_to: u64,
    checked_to: u64,
    lead: Option<Lead>,
    pub damage: Damage,
}

/// What the bytes at a unit's start are.
enum Unit {
    /// Not enough bytes to tell.
    Short,
    /// Padding, a zero-filled or damaged rest of block: skipped whole.
    Skip { len: usize, damaged: bool },
    /// A chunk of `len` payload bytes.
    Chunk { crc: u32, len: usize, kind: u8 },
}

impl Framer {
    pub fn new() -> Self {
        Framer::default()
    }

    /// A framer for the bytes from file offset `pos` on (past the header, at a chunk's start),
    /// in lead mode (see [`Lead`]); `resync` as the framer before it left it.
    pub fn lead_at(pos: u64, resync: bool) -> Self {
        Framer {
            pos,
            resync,
            header_ok: Some(true),
            lead: Some(Lead {
                open: true,
                ..Lead::default()
            }),
            ..Framer::default()
        }
    }

    /// Whether the file starts with the `.wandb` header (`None`: not enough bytes yet).
    pub fn header_ok(&self) -> Option<bool> {
        self.header_ok
    }

    /// Bytes held: an incomplete chunk and the pieces of an incomplete record.
    pub fn pending(&self) -> usize {
        self.held.len() + self.partial.len()
    }

    /// File offset up to which every byte was consumed.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// File offset of the next byte to feed (every byte before it was consumed or is held).
    pub fn fed(&self) -> u64 {
        let held = self.held.len() as u64;
        if self.header_ok.is_none() {
            held
        } else {
            self.pos + held
        }
    }

    /// Whether nothing is held mid-unit: the next byte fed starts a chunk (or padding) at
    /// [`position`](Self::position), past the header.
    pub fn at_unit(&self) -> bool {
        self.held.is_empty() && self.header_ok == Some(true)
    }

    pub fn resyncing(&self) -> bool {
        self.resync
    }

    /// Starts over at the beginning of a file (a restart).
    pub fn reset(&mut self) {
        *self = Framer::default();
    }

    /// Feeds the next bytes of the file, handing each whole record's payload to `record`.
    pub fn feed(&mut self, mut bytes: &[u8], record: &mut dyn FnMut(&[u8])) {
        if self.header_ok.is_none() {
            let take = (MAGIC.len() - self.held.len()).min(bytes.len());
            self.held.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.held.len() < MAGIC.len() {
                return;
            }
            self.header_ok = Some(self.held[..] == MAGIC);
            self.held.clear();
            self.pos = MAGIC.len() as u64;
        }
        if self.header_ok == Some(false) {
            return;
        }
        if !self.held.is_empty() {
            // First finish the unit held from the last call (no unit is longer than a block).
            let old = self.held.len();
            let take = (BLOCK as usize).min(bytes.len());
            self.held.extend_from_slice(&bytes[..take]);
            let mut held = std::mem::take(&mut self.held);
            let used = self.units(&held, record);
            if used < old {
                // Still not whole: then every byte given is held (take == bytes.len()).
                held.drain(..used);
                self.held = held;
                return;
            }
            bytes = &bytes[used - old..];
            held.clear();
            self.held = held;
        }
        let used = self.units(bytes, record);
        self.held.extend_from_slice(&bytes[used..]);
    }

    /// What the bytes `b`, at file offset `pos`, start with.
    fn unit(&self, b: &[u8]) -> Unit {
        let block_left = (BLOCK - self.pos % BLOCK) as usize;
        if block_left < CHUNK_HEADER {
            return Unit::Skip {
                len: block_left,
                damaged: false,
            };
        }
        let Some(h) = b.get(..CHUNK_HEADER) else {
            return Unit::Short;
        };
        let crc = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let len = u16::from_le_bytes([h[4], h[5]]) as usize;
        let kind = h[6];
        if kind == 0 && len == 0 && crc == 0 {
            // A zero-filled rest of block (preallocated): nothing more in it.
            return Unit::Skip {
                len: block_left,
                damaged: false,
            };
        }
        if CHUNK_HEADER + len > block_left || !(1..=4).contains(&kind) {
            // An impossible header: the rest of the block cannot be framed.
            return Unit::Skip {
                len: block_left,
                damaged: true,
            };
        }
        Unit::Chunk { crc, len, kind }
    }

    /// Consumes the whole units at the start of `b` (which begins at `pos`); returns how many
    /// bytes they took.
    fn units(&mut self, b: &[u8], record: &mut dyn FnMut(&[u8])) -> usize {
        let mut at = 0;
        loop {
            if self.pos.is_multiple_of(BLOCK) {
                self.resync = false;
            }
            let rest = &b[at..];
            let used = match self.unit(rest) {
                Unit::Short => return at,
                Unit::Skip { len, .. } if rest.len() < len => return at,
                Unit::Skip { len, damaged } => {
                    if damaged {
                        self.damaged();
                    }
                    len
                }
                Unit::Chunk { len, .. } if rest.len() < CHUNK_HEADER + len => return at,
                Unit::Chunk { crc, len, kind } => {
                    let end = self.pos + (CHUNK_HEADER + len) as u64;
                    if end > self.verified_to && self.pos >= self.checked_to {
                        // The whole chunks from here to the block's end at once.
                        let left = (BLOCK - self.pos % BLOCK) as usize;
                        let (ok, walked) = super::block_crc::verified_run(rest, left);
                        self.verified_to = self.pos + ok as u64;
                        self.checked_to = self.pos + walked as u64;
                    }
                    // Else the type byte and the payload are contiguous: one CRC pass.
                    if end <= self.verified_to
                        || crc32fast::hash(&rest[CHUNK_HEADER - 1..CHUNK_HEADER + len]) == crc
                    {
                        self.resync = false;
                        self.chunk(kind, &rest[CHUNK_HEADER..CHUNK_HEADER + len], record);
                        CHUNK_HEADER + len
                    } else if self.resync {
                        // Two damaged chunks running: the length is not to be trusted, the
                        // rest of the block is skipped.
                        let left = (BLOCK - self.pos % BLOCK) as usize;
                        if rest.len() < left {
                            return at;
                        }
                        self.resync = false;
                        left
                    } else {
                        self.damage.bad_crc += 1;
                        self.drop_partial();
                        self.resync = true;
                        CHUNK_HEADER + len
                    }
                }
            };
            at += used;
            self.pos += used as u64;
        }
    }

    fn chunk(&mut self, kind: u8, payload: &[u8], record: &mut dyn FnMut(&[u8])) {
        if let Some(lead) = self.lead.as_mut().filter(|l| l.open) {
            if kind >= 3 {
                lead.chunks.push((kind, payload.to_vec()));
                lead.open = kind == 3;
                return;
            }
        }
        if kind <= 2 {
            self.drop_partial();
        }
        match kind {
            1 => record(payload),
            2 => {
                self.partial.extend_from_slice(payload);
                self.in_record = true;
            }
            _ if !self.in_record => self.damage.broken += 1,
            _ if self.partial.len() + payload.len() > MAX_RECORD => {
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

    /// Drops the record being assembled, counting it (in lead mode: the lead ends here).
    fn drop_partial(&mut self) {
        if let Some(lead) = self.lead.as_mut().filter(|l| l.open) {
            lead.open = false;
            lead.cut = true;
            return;
        }
        if self.in_record {
            self.damage.broken += 1;
        }
        self.partial.clear();
        self.in_record = false;
    }

    /// Goes on where `next` — a [`lead_at`](Self::lead_at) framer fed the bytes right after
    /// this one's — stopped, as if this framer had been fed them itself: its lead finishes
    /// (or drops) the record this one was assembling, handing it to `record`; then its
    /// damage, position, held bytes and the record it was assembling become this one's.
    pub fn follow(&mut self, mut next: Framer, record: &mut dyn FnMut(&[u8])) {
        debug_assert!(self.at_unit() && self.pos <= next.pos);
        let lead = next.lead.take().unwrap_or_default();
        for (kind, payload) in &lead.chunks {
            self.chunk(*kind, payload, record);
        }
        if lead.cut {
            self.drop_partial();
        }
        if !lead.open {
            // It started a record of its own (or dropped this one's).
            self.partial = next.partial;
            self.in_record = next.in_record;
        }
        self.damage.add(next.damage);
        self.pos = next.pos;
        self.verified_to = next.verified_to;
        self.checked_to = next.checked_to;
        self.resync = next.resync;
        self.held = next.held;
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
