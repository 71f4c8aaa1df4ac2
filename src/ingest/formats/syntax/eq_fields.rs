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
    /// The keys whose last byte is `b`, for each byte `b`.
    by_last: Box<[u64; 256]>,
    /// The keys the `=` walk cannot stand in for, as (group, rank, key) in group and rank
    /// order.
    slow: Vec<(usize, usize, Key)>,
    groups: usize,
}

#[derive(Debug, Clone)]
struct FastKey {
    key: Key,
    group: usize,
    rank: usize,
    /// This key and the keys after it in its group: not wanted once this one has a value.
    outranked: u64,
}

impl EqFields {
    pub fn new(groups: &[&[Key]]) -> Self {
        let mut keys: Vec<FastKey> = Vec::new();
        let mut slow = Vec::new();
        for (group, names) in groups.iter().enumerate() {
            let first_bit = keys.len();
            for (rank, key) in names.iter().enumerate() {
                if group < MAX_GROUPS && keys.len() < MAX_FAST && walk_finds(key) {
                    keys.push(FastKey {
                        key: key.clone(),
                        group,
                        rank,
                        outranked: 0,
                    });
                } else {
                    slow.push((group, rank, key.clone()));
                }
            }
            for i in first_bit..keys.len() {
                keys[i].outranked = (i..keys.len()).fold(0, |m, j| m | 1 << j);
            }
        }
        let mut by_last = Box::new([0u64; 256]);
        for (i, k) in keys.iter().enumerate() {
            if let Some(&b) = k.key.bytes().last() {
                by_last[usize::from(b)] |= 1 << i;
            }
        }
        EqFields {
            keys,
            by_last,
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
        let mut wanted = self
            .keys
            .iter()
            .enumerate()
            .fold(0u64, |m, (i, k)| m | u64::from(k.group < groups) << i);
        for e in memchr::memchr_iter(b'=', line) {
            if wanted == 0 {
                break;
            }
            let Some(&before) = e.checked_sub(1).and_then(|i| line.get(i)) else {
                continue;
            };
            let mut cand = self.by_last[usize::from(before)] & wanted;
            while cand != 0 {
                let i = cand.trailing_zeros() as usize;
                cand &= cand - 1;
                let k = &self.keys[i];
                let needle = k.key.bytes();
                let Some(start) = e.checked_sub(needle.len()) else {
                    continue;
                };
                if &line[start..e] != needle {
                    continue;
                }
                let from = if k.key.component {
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

/// Whether the `=` walk finds the same first valid occurrence of `key` as its own search.
fn walk_finds(key: &Key) -> bool {
    let k = key.bytes();
    let overlaps_itself = (1..k.len()).any(|n| k[..n] == k[k.len() - n..]);
    !k.is_empty() && (!overlaps_itself || (!key.component && k.iter().all(|&b| super::is_word(b))))
}

#[cfg(test)]
#[path = "eq_fields_tests.rs"]
mod tests;
