//! All the `key=value` fields a record needs, found in one pass over the line.
//!
//! [`super::first_of`] searches the line once per key (the metric's names, the step's, the
//! loss's, each panel's): on a fairseq `train_inner` line that is three searches over most of
//! its ~280 bytes, the largest cost of reading such a log. Every `key=value` match ends right
//! before an `=`, so one pass that visits the line's `=` signs in order, and asks which wanted
//! keys end there, finds each key's first valid occurrence — the one the per-key search
//! returns — for all keys at once.
//!
//! The equivalence needs two properties of every key, checked when the index is built (a key
//! set without them is read by the per-key search): a key holds no `=`, and no proper prefix
//! of it is also its suffix (no "border": the per-key search visits non-overlapping
//! occurrences only, and a border-free key's occurrences never overlap, so it visits all).

use super::{path_start, value_at, Key, Sep};

/// Most keys one index holds (one bit each in a candidate mask).
const MAX_KEYS: usize = 64;
/// Buckets of the candidate table, keyed by the two bytes before an `=`.
const BUCKETS: usize = 512;

/// One key of an index.
#[derive(Debug, Clone)]
struct Name {
    key: Key,
    /// Its field.
    field: usize,
    /// Its last (up to) eight bytes as they load from the eight bytes before an `=`, and
    /// which of those bytes it fills.
    tail: u64,
    tail_mask: u64,
    /// The names of its field it wins over (itself and those after it): found, none of them
    /// can be the field's value any more.
    outranks: u64,
}

/// Groups of keys (each a field: its names in order of preference) found together in
/// `key=value` lines.
#[derive(Debug, Clone)]
pub struct EqFields {
    names: Vec<Name>,
    fields: usize,
    /// The names whose last two bytes hash to each bucket.
    candidates: Box<[u64; BUCKETS]>,
    /// Every field's first name: once all are found, nothing later in the line can win.
    firsts: u64,
}

fn bucket(last: u8, before: u8) -> usize {
    ((usize::from(last & 0x1f) << 4) ^ usize::from(before)) % BUCKETS
}

fn border_free(k: &[u8]) -> bool {
    (1..k.len()).all(|n| k[..n] != k[k.len() - n..])
}

/// The eight bytes before `p` as one little-endian word (zeros before the line's start).
fn word_before(line: &[u8], p: usize) -> u64 {
    if p >= 8 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&line[p - 8..p]);
        u64::from_le_bytes(w)
    } else {
        let mut w = [0u8; 8];
        w[8 - p..].copy_from_slice(&line[..p]);
        u64::from_le_bytes(w)
    }
}

impl EqFields {
    /// An index of `fields` (each a list of names, preferred first), or `None` when one of
    /// their keys does not allow the one-pass search (see the module documentation), there
    /// are too many, or a field has no names.
    pub fn new(fields: &[&[Key]]) -> Option<Self> {
        let count: usize = fields.iter().map(|f| f.len()).sum();
        if count > MAX_KEYS || fields.iter().any(|f| f.is_empty()) {
            return None;
        }
        let mut names = Vec::with_capacity(count);
        let mut firsts = 0u64;
        for (field, keys) in fields.iter().enumerate() {
            let start = names.len();
            let end = start + keys.len();
            // Bits start..end: this field's names.
            let field_mask = (u64::MAX >> (64 - end)) & !((1u64 << start) - 1);
            firsts |= 1 << start;
            for (i, k) in keys.iter().enumerate() {
                let b = k.bytes();
                if b.len() < 2 || b.contains(&b'=') || !border_free(b) {
                    return None;
                }
                let n = b.len().min(8);
                let mut w = [0u8; 8];
                w[8 - n..].copy_from_slice(&b[b.len() - n..]);
                let tail_mask = u64::MAX << (8 * (8 - n));
                names.push(Name {
                    key: k.clone(),
                    field,
                    tail: u64::from_le_bytes(w),
                    tail_mask,
                    outranks: field_mask & !((1u64 << (start + i)) - 1),
                });
            }
        }
        let mut candidates = Box::new([0u64; BUCKETS]);
        for (i, n) in names.iter().enumerate() {
            let b = n.key.bytes();
            candidates[bucket(b[b.len() - 1], b[b.len() - 2])] |= 1 << i;
        }
        Some(EqFields {
            names,
            fields: fields.len(),
            candidates,
            firsts,
        })
    }

    /// How many fields the index finds.
    pub fn fields(&self) -> usize {
        self.fields
    }

    /// Fills `out[f]` with the raw value of field `f` in `line` (what [`super::first_of`]
    /// with `Sep::Eq` returns for the field's names), `None` where the line lacks it.
    /// `out` must hold at least [`EqFields::fields`] slots.
    pub fn values_in<'a>(&self, line: &'a [u8], out: &mut [Option<&'a [u8]>]) {
        for slot in out.iter_mut().take(self.fields) {
            *slot = None;
        }
        // Names that can no longer change their field's value: found, or outranked.
        let mut done = 0u64;
        each_eq(line, |p| {
            if p < 2 {
                return true;
            }
            let mut m = self.candidates[bucket(line[p - 1], line[p - 2])] & !done;
            if m == 0 {
                return true;
            }
            let word = word_before(line, p);
            while m != 0 {
                let k = m.trailing_zeros() as usize;
                m &= m - 1;
                let n = &self.names[k];
                if done & (1 << k) != 0 || word & n.tail_mask != n.tail {
                    continue;
                }
                let key = n.key.bytes();
                if p < key.len()
                    || (key.len() > 8 && line[p - key.len()..p - 8] != key[..key.len() - 8])
                {
                    continue;
                }
                let start = p - key.len();
                let from = if n.key.component {
                    path_start(line, start)
                } else {
                    start
                };
                if let Some(v) = value_at(line, from, p, Sep::Eq) {
                    if let Some(slot) = out.get_mut(n.field) {
                        *slot = Some(v);
                    }
                    done |= n.outranks;
                }
            }
            done & self.firsts != self.firsts
        });
    }
}

/// Calls `f` with the position of each `=` in `line`, in order, while it returns true.
/// Eight bytes at a time: a byte of `x = word ^ "========"` is zero exactly where the word
/// has `=`; `(x & 0x7f..) + 0x7f..` sets a byte's high bit when its low seven bits are not all
/// zero (no carry crosses bytes), so `!(that | x) & 0x80..` marks exactly the zero bytes.
fn each_eq(line: &[u8], mut f: impl FnMut(usize) -> bool) {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const EQ: u64 = 0x3d3d_3d3d_3d3d_3d3d;
    let mut at = 0;
    let mut words = line.chunks_exact(8);
    for w in words.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        let x = u64::from_le_bytes(word) ^ EQ;
        let mut hits = !(((x & LOW) + LOW) | x) & HIGH;
        while hits != 0 {
            let byte = hits.trailing_zeros() as usize / 8;
            hits &= hits - 1;
            if !f(at + byte) {
                return;
            }
        }
        at += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == b'=' && !f(at + i) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::first_of;
    use super::*;

    fn keys(names: &[&str], component: bool) -> Vec<Key> {
        names
            .iter()
            .map(|n| {
                if component {
                    Key::path_suffix(n)
                } else {
                    Key::new(n)
                }
            })
            .collect()
    }

    #[test]
    fn finds_every_equals_sign_in_order() {
        let line = b"a=b==c=========d=";
        let mut got = Vec::new();
        each_eq(line, |p| {
            got.push(p);
            true
        });
        let want: Vec<usize> = (0..line.len()).filter(|&i| line[i] == b'=').collect();
        assert_eq!(got, want);
    }

    #[test]
    fn agrees_with_the_per_key_search() {
        let gnorm = keys(
            &["gnorm", "grad_norm", "optim/total_grad_norm", "total_norm"],
            true,
        );
        let steps = keys(&["num_updates", "step"], false);
        let loss = keys(&["loss", "lm loss"], false);
        let idx = EqFields::new(&[&gnorm, &steps, &loss]).unwrap();
        let lines: [&[u8]; 12] = [
            b"x_optim/total_grad_norm=1 yoptim/total_grad_norm=2 total_norm=3 grad_norm=4",
            b"gn=1 rm=2 orm=3 step=",
            b"lm loss=5 loss=6 step=1.0",
            b"2023 | INFO | train_inner | epoch 001:  85 / 282 loss=3.147, nll_loss=1.236, ppl=8.86, num_updates=100, lr=0.0001, gnorm=0.685, clip=0, loss_scale=32768",
            b"train_gnorm=4 x/gnorm=5 step=3",
            b"step=1 train_inner/grad_norm=2.5 gnorm=",
            b"gnorm='unterminated step=2 gnorm=7",
            b"my_loss=1 loss=2 lm loss=3 num_updates=9",
            b"gnorm = 3 grad_norm=4",
            b"no fields at all",
            b"=gnorm=1=step=2=",
            b"a/b/total_norm=1e-3, step=12",
        ];
        for line in lines {
            let mut out = [None; 3];
            idx.values_in(line, &mut out);
            let want = [
                first_of(line, &gnorm, Sep::Eq),
                first_of(line, &steps, Sep::Eq),
                first_of(line, &loss, Sep::Eq),
            ];
            assert_eq!(out, want, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn refuses_keys_the_one_pass_search_cannot_match_exactly() {
        let short = keys(&["s"], false);
        let bordered = keys(&["abab"], false);
        let equals = keys(&["a=b"], false);
        for k in [short, bordered, equals] {
            assert!(EqFields::new(&[&k]).is_none());
        }
        assert!(EqFields::new(&[&[]]).is_none());
    }
}
