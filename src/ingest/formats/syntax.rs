//! The small lexical pieces every log format is made of: find `key` in one of the syntaxes that
//! frameworks print, and read the number after it. All work on bytes, allocate nothing, and
//! check word boundaries so that `train_gnorm` is not `gnorm` and `clip` is not `clip_norm`.

use memchr::memmem;

mod eq_fields;
mod number;
pub use eq_fields::EqFields;
pub use number::parse_number;

/// How a key is joined to its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sep {
    /// `key=value` (fairseq simple, tqdm postfix).
    Eq,
    /// `key: value` (Megatron, torchtitan).
    Colon,
    /// `'key': value` (Python dict repr: Hugging Face Trainer stdout).
    PyDict,
    /// `"key": value` (JSON).
    Json,
    /// `| key value |` (fairseq pipe summaries).
    Pipe,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'/' || b == b'.' || b == b'-'
}

/// A key with its searcher built once (building a searcher per line costs more than the
/// search itself).
#[derive(Debug, Clone)]
pub struct Key {
    finder: memmem::Finder<'static>,
    /// Also matches as the last component of a `/` path (`train_inner/gnorm`).
    component: bool,
}

impl Key {
    /// A key matched whole.
    pub fn new(key: &str) -> Self {
        Key {
            finder: memmem::Finder::new(key.as_bytes()).into_owned(),
            component: false,
        }
    }

    /// A key matched whole or as the last component of a path (`optim/total_grad_norm` for
    /// `total_grad_norm`): the gradient norm's names.
    pub fn path_suffix(key: &str) -> Self {
        Key {
            component: true,
            ..Key::new(key)
        }
    }

    pub fn bytes(&self) -> &[u8] {
        self.finder.needle()
    }

    /// Returns the raw value token that follows this key in `line`, in syntax `sep`.
    pub fn value_in<'a>(&self, line: &'a [u8], sep: Sep) -> Option<&'a [u8]> {
        let len = self.finder.needle().len();
        if len == 0 {
            // No key names nothing (it would "occur" between every two bytes).
            return None;
        }
        self.finder.find_iter(line).find_map(|start| {
            let from = if self.component {
                path_start(line, start)
            } else {
                start
            };
            value_at(line, from, start + len, sep)
        })
    }

    /// Whether `line` contains the key anywhere.
    pub fn occurs_in(&self, line: &[u8]) -> bool {
        self.finder.find(line).is_some()
    }
}

/// Returns the raw value token that follows `key` in `line`, in syntax `sep` (one-off
/// searches; hot paths keep a [`Key`]). An empty key has no value.
pub fn value_after<'a>(line: &'a [u8], key: &[u8], sep: Sep) -> Option<&'a [u8]> {
    if key.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(rel) = line.get(from..).and_then(|rest| memmem::find(rest, key)) {
        let start = from + rel;
        let end = start + key.len();
        from = start + 1;
        if let Some(v) = value_at(line, start, end, sep) {
            return Some(v);
        }
    }
    None
}

/// Where the `/` path that ends with the key at `start` begins (`start` when no `/` is
/// before it).
fn path_start(line: &[u8], start: usize) -> usize {
    let mut from = start;
    while from > 0 && line[from - 1] == b'/' {
        let seg = line[..from - 1]
            .iter()
            .rposition(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'))
            .map_or(0, |p| p + 1);
        if seg == from - 1 {
            break;
        }
        from = seg;
    }
    from
}

/// Whether the key at `start` is a whole key in `key: value` syntax: not the end of a longer
/// word (`train_loss`), nor the last word of a longer name (`validation loss`).
fn whole_colon_key(line: &[u8], start: usize) -> bool {
    let before = &line[..start];
    match before.last() {
        None => true,
        Some(&b) if is_word(b) => false,
        Some(_) => !trim_end(before).last().is_some_and(u8::is_ascii_alphabetic),
    }
}

/// The bytes that end an unquoted value (one table look-up per byte of the hottest loop of a
/// log read).
static ENDS_VALUE: [bool; 256] = {
    let mut t = [false; 256];
    let ends = b", \t|}]);";
    let mut i = 0;
    while i < ends.len() {
        t[ends[i] as usize] = true;
        i += 1;
    }
    t
};

fn value_at(line: &[u8], start: usize, end: usize, sep: Sep) -> Option<&[u8]> {
    let before = if start > 0 {
        Some(line[start - 1])
    } else {
        None
    };
    let rest = &line[end..];
    let value = match sep {
        Sep::Eq => {
            if before.is_some_and(is_word) {
                return None;
            }
            rest.strip_prefix(b"=")?
        }
        Sep::Colon => {
            if !whole_colon_key(line, start) {
                return None;
            }
            rest.strip_prefix(b":")?
        }
        Sep::PyDict | Sep::Json => {
            let q = if sep == Sep::PyDict { b'\'' } else { b'"' };
            if before != Some(q) {
                return None;
            }
            let r = rest.strip_prefix(&[q])?;
            trim_start(r).strip_prefix(b":")?
        }
        Sep::Pipe => {
            if start < 2 || &line[start - 2..start] != b"| " {
                return None;
            }
            let r = rest.strip_prefix(b" ")?;
            // The value runs to the next " |" (or the end of the line).
            let r = trim_start(r);
            let stop = memmem::find(r, b" |").unwrap_or(r.len());
            return Some(trim_end(&r[..stop]));
        }
    };
    let value = trim_start(value);
    let stop = match value.first() {
        Some(&q @ (b'\'' | b'"')) => {
            // A quoted value: up to the closing quote.
            return memchr::memchr(q, &value[1..]).map(|e| &value[1..1 + e]);
        }
        _ => value
            .iter()
            .position(|&b| ENDS_VALUE[usize::from(b)])
            .unwrap_or(value.len()),
    };
    Some(&value[..stop])
}

pub fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &s[n..]
}

pub fn trim_end(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    &s[..s.len() - n]
}

/// Parses a step counter: digits, possibly written as a float (`"1"`, `3.0`) by JSON writers.
pub fn parse_step(tok: &[u8]) -> Option<u64> {
    // The common case, digits alone: one pass.
    if (1..=19).contains(&tok.len()) {
        let mut v = 0u64;
        let mut digits = true;
        for &b in tok {
            let d = b.wrapping_sub(b'0');
            digits &= d < 10;
            v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        }
        // 19 digits always fit in a u64.
        if digits {
            return Some(v);
        }
    }
    let tok = trim_end(trim_start(tok));
    let tok = match tok {
        [q, inner @ .., q2] if q == q2 && (*q == b'"' || *q == b'\'') => inner,
        _ => tok,
    };
    let digits = tok.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return None;
    }
    let (int, frac) = tok.split_at(digits);
    // Allow a trailing ".0" or "/ total" (Megatron "7000/  159576"), nothing else.
    let ok = frac.is_empty()
        || frac.first() == Some(&b'/')
        || (frac.first() == Some(&b'.') && frac[1..].iter().all(|&b| b == b'0'));
    if !ok {
        return None;
    }
    int.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// The first of `keys` found in `line` with syntax `sep`, with its raw value.
pub fn first_of<'a>(line: &'a [u8], keys: &[Key], sep: Sep) -> Option<&'a [u8]> {
    keys.iter().find_map(|k| k.value_in(line, sep))
}

#[cfg(test)]
mod tests;
