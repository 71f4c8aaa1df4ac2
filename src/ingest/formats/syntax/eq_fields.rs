//! All the fields a `key=value` record needs, found in one pass over the line's `=` bytes.
//!
//! A `key=value` match needs the `=` right after the key, so every valid occurrence of every
//! wanted key ends at one of the line's `=` bytes: walking those once, left to right, and
//! testing only the keys whose last byte is the byte before each `=`, finds the first valid
//! occurrence of each key — the answer [`first_of`](super::first_of) gives with one search of
//! the whole line per key, not an approximation of it. The validity test is the same function
//! ([`super::value_at`]), so a rejected match (a longer word before it, an unclosed quote)
//! is skipped exactly as before.
//!
//! One difference is allowed for: a key's own search skips occurrences that overlap an
//! earlier one. That changes nothing for a key that cannot overlap itself, nor for a whole
//! key of word bytes (an occurrence overlapping an earlier one has a word byte before it and
//! is rejected anyway); any other key (`a a`, `a/a` as a path suffix) keeps its own search.

use super::{path_start, value_at, Key, Sep};

/// Groups beyond this many are read by their own searches.
const MAX_GROUPS: usize = 8;
/// Keys beyond this many (a bit each) are read by their own searches.
const MAX_FAST: usize = 64;

/// The keys of a few groups (the metric's names, the step's, the loss's, …), each group
/// answered by the first of its keys that has a value, as [`first_of`](super::first_of).
#[derive(Debug, Clone)]
pub struct EqFields {
    /// Every key with a bit, in group order, each group's keys in its order.
    keys: Vec<FastKey>,
    /// The keys that may end with the two bytes `a b`, at [`pair`]`(b, a)` (a one-byte key
    /// under every `a`).
    by_pair: [u64; 256],
    /// The keys the `=` walk cannot stand in for, as (group, rank, key) in group and rank
    /// order.
    slow: Vec<(usize, usize, Key)>,
    groups: usize,
    /// Every key with a bit.
    all: u64,
}

#[derive(Debug, Clone)]
struct FastKey {
    needle: Box<[u8]>,
    /// Also matches as the last component of a `/` path.
    component: bool,
    group: usize,
    rank: usize,
    /// This key and the keys after it in its group: not wanted once this one has a value.
    outranked: u64,
    /// The key's last (up to) 8 bytes where they end an 8-byte little-endian word, and which
    /// bytes of the word they are: most candidates are told apart by one compare.
    tail: u64,
    tail_mask: u64,
}

impl EqFields {
    pub fn new(groups: &[&[Key]]) -> Self {
        let mut keys: Vec<FastKey> = Vec::new();
        let mut slow = Vec::new();
        for (group, names) in groups.iter().enumerate() {
            let first_bit = keys.len();
            for (rank, key) in names.iter().enumerate() {
                if group < MAX_GROUPS && keys.len() < MAX_FAST && walk_finds(key) {
                    let (tail, tail_mask) = tail_word(key.bytes());
                    keys.push(FastKey {
                        needle: key.bytes().into(),
                        component: key.component,
                        group,
                        rank,
                        outranked: 0,
                        tail,
                        tail_mask,
                    });
                } else {
                    slow.push((group, rank, key.clone()));
                }
            }
            for i in first_bit..keys.len() {
                keys[i].outranked = (i..keys.len()).fold(0, |m, j| m | 1 << j);
            }
        }
        let mut by_pair = [0u64; 256];
        for (i, k) in keys.iter().enumerate() {
            match *k.needle {
                [.., a, b] => by_pair[pair(b, a)] |= 1 << i,
                [b] => (0..=255).for_each(|a| by_pair[pair(b, a)] |= 1 << i),
                [] => {}
            }
        }
        EqFields {
            all: keys.iter().enumerate().fold(0, |m, (i, _)| m | 1 << i),
            keys,
            by_pair,
            slow,
            groups: groups.len(),
        }
    }

    /// Fills `out[g]` with the raw value of group `g` in `line` (`None` where none of its
    /// keys has one). `out` has a slot per group.
    pub fn find<'a>(&self, line: &'a [u8], out: &mut [Option<&'a [u8]>]) {
        let groups = self.groups.min(out.len());
        out[..groups].fill(None);
        // The rank of the key each group's value came from.
        let mut best = [usize::MAX; MAX_GROUPS];
        let mut wanted = if groups == self.groups {
            self.all
        } else {
            self.keys
                .iter()
                .enumerate()
                .fold(0u64, |m, (i, k)| m | u64::from(k.group < groups) << i)
        };
        for e in EqBytes::of(line) {
            if wanted == 0 {
                break;
            }
            let Some(&last) = e.checked_sub(1).and_then(|i| line.get(i)) else {
                continue;
            };
            let second = e.checked_sub(2).map_or(0, |i| line[i]);
            let mut cand = self.by_pair[pair(last, second)] & wanted;
            while cand != 0 {
                let i = cand.trailing_zeros() as usize;
                cand &= cand - 1;
                let k = &self.keys[i];
                let needle = &*k.needle;
                let Some(start) = e.checked_sub(needle.len()) else {
                    continue;
                };
                let same = match e.checked_sub(8).and_then(|w| line[w..].first_chunk::<8>()) {
                    Some(word) => {
                        u64::from_le_bytes(*word) & k.tail_mask == k.tail
                            && (needle.len() <= 8
                                || line[start..e - 8] == needle[..needle.len() - 8])
                    }
                    None => &line[start..e] == needle,
                };
                if !same {
                    continue;
                }
                let from = if k.component {
                    path_start(line, start)
                } else {
                    start
                };
                if let Some(v) = value_at(line, from, e, Sep::Eq) {
                    out[k.group] = Some(v);
                    best[k.group] = k.rank;
                    wanted &= !k.outranked;
                    cand &= wanted;
                }
            }
        }
        // The keys with their own search, where no key before them in their group has a
        // value (the first one with a value wins, as in `first_of`).
        for (group, rank, key) in &self.slow {
            let Some(slot) = out.get_mut(*group) else {
                continue;
            };
            let best = best.get_mut(*group);
            let outranks = best.as_ref().is_none_or(|b| *rank < **b);
            if !outranks || (best.is_none() && slot.is_some()) {
                continue;
            }
            if let Some(v) = key.value_in(line, Sep::Eq) {
                *slot = Some(v);
                if let Some(b) = best {
                    *b = *rank;
                }
            }
        }
    }
}

/// The slot of the keys ending in `second last` (a hash: keys that share it are told apart
/// by comparing them).
fn pair(last: u8, second: u8) -> usize {
    usize::from(last ^ second.rotate_left(3))
}

/// The last (up to) 8 bytes of `key` at the high end of a little-endian word (the 8 bytes
/// before a `=`), and the mask of the bytes they take.
fn tail_word(key: &[u8]) -> (u64, u64) {
    let n = key.len().min(8);
    let mut word = [0u8; 8];
    let mut mask = [0u8; 8];
    word[8 - n..].copy_from_slice(&key[key.len() - n..]);
    mask[8 - n..].fill(0xff);
    (u64::from_le_bytes(word), u64::from_le_bytes(mask))
}

/// The positions of a line's `=` bytes, found 64 bytes at a time (a `memchr` per `=` costs
/// more than it saves: they are a few bytes apart).
struct EqBytes<'a> {
    line: &'a [u8],
    /// Where the next 64 bytes start.
    next: usize,
    /// Where the current 64 start, and which of them are `=`.
    base: usize,
    bits: u64,
}

impl<'a> EqBytes<'a> {
    fn of(line: &'a [u8]) -> Self {
        EqBytes {
            line,
            next: 0,
            base: 0,
            bits: 0,
        }
    }
}

impl Iterator for EqBytes<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            let rest = self.line.get(self.next..).filter(|r| !r.is_empty())?;
            self.base = self.next;
            self.next += 64;
            self.bits = match rest.first_chunk::<64>() {
                Some(chunk) => eq_mask(chunk),
                None => {
                    let mut chunk = [0u8; 64];
                    chunk[..rest.len()].copy_from_slice(rest);
                    eq_mask(&chunk)
                }
            };
        }
        let i = self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(self.base + i)
    }
}

/// Bit `i` set where `chunk[i]` is `=`.
#[cfg(target_arch = "x86_64")]
fn eq_mask(chunk: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let mut bits = 0u64;
    for (i, part) in chunk.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of every x86_64 CPU; the load reads exactly the 16 bytes of
        // `part`, with no alignment required.
        let m = unsafe {
            let v = _mm_loadu_si128(part.as_ptr().cast());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'=' as i8)))
        };
        bits |= u64::from(m as u16) << (16 * i);
    }
    bits
}

#[cfg(not(target_arch = "x86_64"))]
fn eq_mask(chunk: &[u8; 64]) -> u64 {
    chunk
        .iter()
        .enumerate()
        .fold(0, |m, (i, &b)| m | u64::from(b == b'=') << i)
}

/// Whether the `=` walk finds the same first valid occurrence of `key` as its own search.
fn walk_finds(key: &Key) -> bool {
    let k = key.bytes();
    let overlaps_itself = (1..k.len()).any(|n| k[..n] == k[k.len() - n..]);
    !k.is_empty() && (!overlaps_itself || (!key.component && k.iter().all(|&b| super::is_word(b))))
}

#[cfg(test)]
#[path = "eq_fields_tests.rs"]
mod tests;
