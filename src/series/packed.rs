//! Append-only columns stored in fixed chunks, each chunk in the narrowest of a few exact
//! encodings that holds every item it has (steps as an arithmetic run, values as decimals,
//! flags as "all zero"): a sweep's 30 M points take a few bytes each instead of 8. Every
//! encoding gives back the very item stored (bit for bit); a chunk that can no longer hold
//! an item in its encoding is re-encoded, whole, in a wider one — at most a few times, since
//! an encoding only ever widens (a set that fits one encoding fits it minus an item too).

use std::ops::Range;

/// Items a chunk holds (the last chunk is filled before the next is started).
pub const CHUNK_BITS: u32 = 12;
pub const CHUNK: usize = 1 << CHUNK_BITS;

/// One chunk's storage: items of type `Item` in some exact encoding.
pub trait Encoding: Sized {
    type Item: Copy + std::fmt::Debug;
    /// A chunk holding `v` alone.
    fn first(v: Self::Item) -> Self;
    /// Appends `v` if the encoding holds it (false: it does not, nothing changed).
    fn try_push(&mut self, v: Self::Item) -> bool;
    /// Replaces item `i` if the encoding holds the new item (false: nothing changed).
    fn try_set(&mut self, i: usize, v: Self::Item) -> bool;
    fn get(&self, i: usize) -> Option<Self::Item>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The narrowest encoding of `items` (never empty).
    fn encode(items: &[Self::Item]) -> Self;
    /// Appends every item to `out`, in order.
    fn decode_into(&self, out: &mut Vec<Self::Item>) {
        out.extend((0..self.len()).filter_map(|i| self.get(i)));
    }
    /// Heap bytes this chunk holds (for the memory accounting).
    fn heap_bytes(&self) -> usize;
}

/// A column of items, chunk by chunk.
///
/// The chunk being filled is kept plain (the *open* chunk, up to [`CHUNK`] items) and encoded
/// once, whole, when it fills: a push is a plain push and the encoder runs once per chunk in
/// a tight loop instead of checking every item as it comes. [`Packed::seal`] encodes a
/// partly filled open chunk (when a batch is over, so that an idle column holds only
/// encoded chunks); a sealed chunk takes further items one by one in its encoding (a live
/// run's few new points), and the chunk after it is open again.
#[derive(Debug, Clone)]
pub struct Packed<E: Encoding> {
    /// Encoded chunks; all full while `open` holds items.
    chunks: Vec<E>,
    /// The open chunk's items: those after the encoded chunks.
    open: Vec<E::Item>,
    len: usize,
}

impl<E: Encoding> Default for Packed<E> {
    fn default() -> Self {
        Packed {
            chunks: Vec::new(),
            open: Vec::new(),
            len: 0,
        }
    }
}

impl<E: Encoding> Packed<E> {
    /// Items held by the encoded chunks.
    fn encoded_len(&self) -> usize {
        self.len - self.open.len()
    }

    #[inline]
    pub fn push(&mut self, v: E::Item) {
        let n = self.open.len();
        if n != 0 && n + 1 < CHUNK {
            // The open chunk takes it and is not full after it.
            self.open.push(v);
            self.len += 1;
        } else {
            self.push_slow(v);
        }
    }

    /// Appends `items` in order: what pushing each does, with the open chunk's share of them
    /// copied at once.
    pub fn extend_from_slice(&mut self, mut items: &[E::Item]) {
        while let Some((&first, rest)) = items.split_first() {
            let n = self.open.len();
            if n == 0 || n + 1 >= CHUNK {
                self.push_slow(first);
                items = rest;
                continue;
            }
            // As many as leave the open chunk short of full (its buffer holds a chunk).
            let k = (CHUNK - 1 - n).min(items.len());
            self.open.extend_from_slice(&items[..k]);
            self.len += k;
            items = &items[k..];
        }
    }

    /// A push that starts, fills or bypasses the open chunk.
    #[cold]
    #[inline(never)]
    fn push_slow(&mut self, v: E::Item) {
        if self.open.is_empty() && !self.len.is_multiple_of(CHUNK) {
            // A sealed, partly filled chunk takes the item in its encoding.
            if let Some(last) = self.chunks.last_mut() {
                if !last.try_push(v) {
                    let mut items = Vec::with_capacity(last.len() + 1);
                    last.decode_into(&mut items);
                    items.push(v);
                    *last = E::encode(&items);
                }
            }
        } else {
            if self.open.capacity() < CHUNK {
                self.open.reserve_exact(CHUNK - self.open.len());
            }
            self.open.push(v);
            if self.open.len() == CHUNK {
                self.chunks.push(E::encode(&self.open));
                self.open.clear();
            }
        }
        self.len += 1;
    }

    /// Encodes the open chunk's items (a partly filled chunk) and lets its buffer go.
    pub fn seal(&mut self) {
        if !self.open.is_empty() {
            self.chunks.push(E::encode(&self.open));
        }
        self.open = Vec::new();
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The last item.
    pub fn last(&self) -> Option<E::Item> {
        match self.open.last() {
            Some(&v) => Some(v),
            None => self.get(self.len.checked_sub(1)?),
        }
    }

    pub fn get(&self, i: usize) -> Option<E::Item> {
        let c = i >> CHUNK_BITS;
        match self.chunks.get(c) {
            Some(chunk) => chunk.get(i & (CHUNK - 1)),
            None => self.open.get(i.checked_sub(self.encoded_len())?).copied(),
        }
    }

    /// Replaces item `i` (nothing when out of range).
    pub fn set(&mut self, i: usize, v: E::Item) {
        if let Some(j) = i.checked_sub(self.encoded_len()) {
            if let Some(slot) = self.open.get_mut(j) {
                *slot = v;
            }
            return;
        }
        let Some(c) = self.chunks.get_mut(i >> CHUNK_BITS) else {
            return;
        };
        let j = i & (CHUNK - 1);
        if j >= c.len() || c.try_set(j, v) {
            return;
        }
        let mut items = Vec::with_capacity(c.len());
        c.decode_into(&mut items);
        items[j] = v;
        *c = E::encode(&items);
    }

    pub fn iter_range(&self, r: Range<usize>) -> impl Iterator<Item = E::Item> + '_ {
        let r = r.start.min(self.len)..r.end.min(self.len);
        r.filter_map(move |i| self.get(i))
    }

    /// Heap bytes held (chunks, the chunk list and the open chunk's buffer).
    pub fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<E>()
            + self.chunks.iter().map(E::heap_bytes).sum::<usize>()
            + self.open.capacity() * std::mem::size_of::<E::Item>()
    }
}

/// Flags of points: almost every chunk is all zeros, and then costs nothing.
#[derive(Debug, Clone)]
pub enum FlagChunk {
    Same { flags: u8, len: u32 },
    Bytes(Vec<u8>),
}

impl Encoding for FlagChunk {
    type Item = u8;

    fn first(flags: u8) -> Self {
        FlagChunk::Same { flags, len: 1 }
    }

    fn try_push(&mut self, v: u8) -> bool {
        match self {
            FlagChunk::Same { flags, len } if *flags == v => *len += 1,
            FlagChunk::Same { .. } => return false,
            FlagChunk::Bytes(b) => b.push(v),
        }
        true
    }

    fn try_set(&mut self, i: usize, v: u8) -> bool {
        match self {
            FlagChunk::Same { flags, .. } => *flags == v,
            FlagChunk::Bytes(b) => b.get_mut(i).map(|s| *s = v).is_some(),
        }
    }

    fn get(&self, i: usize) -> Option<u8> {
        match self {
            FlagChunk::Same { flags, len } => (i < *len as usize).then_some(*flags),
            FlagChunk::Bytes(b) => b.get(i).copied(),
        }
    }

    fn len(&self) -> usize {
        match self {
            FlagChunk::Same { len, .. } => *len as usize,
            FlagChunk::Bytes(b) => b.len(),
        }
    }

    fn encode(items: &[u8]) -> Self {
        match items.first() {
            Some(&f) if items.iter().all(|&x| x == f) => FlagChunk::Same {
                flags: f,
                len: items.len() as u32,
            },
            _ => FlagChunk::Bytes(items.to_vec()),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            FlagChunk::Same { .. } => 0,
            FlagChunk::Bytes(b) => b.capacity(),
        }
    }
}
