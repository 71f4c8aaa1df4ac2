//! A `HistoryItem` / `ConfigItem` (`key` = 1, `nested_key` = 2 (repeated, joined with `/`),
//! `value_json` = 16, typed `integer` = 5 (sint64), `number` = 6 (double)): its name and value.
//!
//! A run logs the same keys at every step, and wandb writes an item's name fields first: the
//! raw bytes of those leading name fields ([`split_name`]) are the same from record to record,
//! so the decoder tells an item's role by them, without joining or comparing names, and reads
//! the value from the rest ([`value_after_name`]) only when the item is charted.

use super::proto::{fields, Value};
use crate::ingest::formats::syntax::parse_number;
use std::borrow::Cow;

/// An item's value as written: JSON text, or a typed number.
#[derive(Debug, Clone, Copy)]
pub enum ItemValue<'a> {
    Json(&'a [u8]),
    Number(f64),
}

impl ItemValue<'_> {
    /// The number (`None`: not a number).
    pub fn number(self) -> Option<f64> {
        match self {
            ItemValue::Json(j) => parse_number(j),
            ItemValue::Number(v) => Some(v),
        }
    }

    /// The value as a step: a whole number ≥ 0 (plain digits read directly: the same value
    /// [`parse_number`] and [`as_step`] give, without the float).
    pub fn step(self) -> Option<u64> {
        if let ItemValue::Json(j) = self {
            if (1..=15).contains(&j.len()) && j.iter().all(u8::is_ascii_digit) {
                return Some(j.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')));
            }
        }
        self.number().and_then(as_step)
    }
}

/// Takes an item's value field in: the last `value_json` wins, a typed value counts only
/// before any other value.
fn take_value<'a>(value: &mut Option<ItemValue<'a>>, n: u32, v: Value<'a>) {
    match (n, v) {
        (16, Value::Bytes(j)) => *value = Some(ItemValue::Json(j)),
        (6, Value::Fixed64(bits)) if value.is_none() => {
            *value = Some(ItemValue::Number(f64::from_bits(bits)))
        }
        (5, Value::Varint(z)) if value.is_none() => {
            let i = (z >> 1) as i64 ^ -((z & 1) as i64);
            *value = Some(ItemValue::Number(i as f64));
        }
        _ => {}
    }
}

/// An item's name (`key`, or the `nested_key` parts joined with `/`) and its value.
pub fn item_of<'a>(item: &'a [u8], joined: &mut Vec<u8>) -> Option<(Cow<'a, [u8]>, ItemValue<'a>)> {
    let mut key: &[u8] = &[];
    let mut parts = 0usize;
    let mut first: &[u8] = &[];
    let mut value: Option<ItemValue<'a>> = None;
    joined.clear();
    for (n, v) in fields(item) {
        match (n, v) {
            (1, Value::Bytes(k)) => key = k,
            (2, Value::Bytes(k)) => {
                if parts == 0 {
                    first = k;
                } else {
                    if parts == 1 {
                        joined.extend_from_slice(first);
                    }
                    joined.push(b'/');
                    joined.extend_from_slice(k);
                }
                parts += 1;
            }
            _ => take_value(&mut value, n, v),
        }
    }
    let name: Cow<'a, [u8]> = if !key.is_empty() {
        Cow::Borrowed(key)
    } else if parts == 1 {
        Cow::Borrowed(first)
    } else if parts > 1 {
        Cow::Owned(joined.clone())
    } else {
        return None;
    };
    Some((name, value?))
}

/// The item's leading length-delimited `key` / `nested_key` fields, raw, and the rest.
#[inline]
pub fn split_name(item: &[u8]) -> (&[u8], &[u8]) {
    let mut at = 0;
    // Tags 0x0a (field 1) and 0x12 (field 2), length-delimited; lengths of one or two bytes.
    while let Some(0x0a | 0x12) = item.get(at) {
        let Some(&l0) = item.get(at + 1) else { break };
        let (len, m) = if l0 < 0x80 {
            (usize::from(l0), 1)
        } else {
            match item.get(at + 2) {
                Some(&l1) if l1 < 0x80 => (usize::from(l0 & 0x7f) | usize::from(l1) << 7, 2),
                _ => break,
            }
        };
        let end = at + 1 + m + len;
        if end > item.len() {
            break;
        }
        at = end;
    }
    item.split_at(at)
}

/// wandb's own layout of nearly every item — one name field, then `value_json`, each shorter
/// than 128 bytes, nothing else — as its raw name field and its value, found without walking
/// the fields (`None`: any other layout; [`split_name`] and [`value_after_name`] read it).
#[inline]
pub fn usual_layout(item: &[u8]) -> Option<(&[u8], &[u8])> {
    let [0x0a | 0x12, l, ..] = *item else {
        return None;
    };
    let name_end = 2 + usize::from(l);
    let &[0x82, 0x01, v] = item.get(name_end..name_end + 3)? else {
        return None;
    };
    (l < 0x80 && v < 0x80 && name_end + 3 + usize::from(v) == item.len())
        .then(|| (&item[..name_end], &item[name_end + 3..]))
}

/// An item's raw leading name fields, compared fast: by length and their first, middle and
/// last 8 bytes (which are all of it up to 24 bytes), only then byte by byte.
#[derive(Debug, Clone)]
pub struct RawName {
    key: RawKey,
    bytes: Vec<u8>,
}

/// The first, the middle and the last (up to) 8 bytes of `b`, as numbers.
#[inline]
fn words(b: &[u8]) -> [u64; 3] {
    if let (Some(h), Some(t)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        let mid = b.len() / 2 - 4;
        let m = b[mid..mid + 8]
            .first_chunk::<8>()
            .map_or(0, |m| u64::from_le_bytes(*m));
        return [u64::from_le_bytes(*h), m, u64::from_le_bytes(*t)];
    }
    let w = b.iter().rev().fold(0u64, |w, &x| w << 8 | u64::from(x));
    [w, w, w]
}

/// What a [`RawName`] is compared by, taken once for the name looked up.
#[derive(Debug, Clone, Copy, Eq)]
pub struct RawKey {
    len: usize,
    words: [u64; 3],
}

impl PartialEq for RawKey {
    /// Word by word, in general registers: the derived comparison loaded the key's words
    /// as one vector from where they had just been stored one by one (a store-forwarding
    /// stall on every lookup; ~2 % of a W&B read's CPU).
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        let [a0, a1, a2] = self.words;
        let [b0, b1, b2] = other.words;
        ((self.len ^ other.len) as u64 | (a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2)) == 0
    }
}

impl RawKey {
    #[inline]
    pub fn of(raw: &[u8]) -> Self {
        RawKey {
            len: raw.len(),
            words: words(raw),
        }
    }
}

impl RawName {
    pub fn new(raw: &[u8]) -> Self {
        RawName {
            key: RawKey::of(raw),
            bytes: raw.to_vec(),
        }
    }

    /// Whether these are the bytes `raw`, whose key is `key`.
    #[inline]
    pub fn is(&self, key: RawKey, raw: &[u8]) -> bool {
        self.key == key && (raw.len() <= 24 || self.bytes == raw)
    }
}

/// Raw names met and what each is to the decoder, found by a hash of their [`RawKey`] in one
/// probe (a name whose slot another took is found by a walk).
#[derive(Debug, Clone)]
pub struct RawNames<T> {
    names: Vec<(RawName, T)>,
    /// Index into `names` by hash (`u8::MAX`: free).
    slots: [u8; 64],
}

impl<T: Copy> RawNames<T> {
    /// At most this many names.
    pub const MAX: usize = 64;

    pub fn new() -> Self {
        RawNames {
            names: Vec::new(),
            slots: [u8::MAX; 64],
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    #[inline]
    fn slot(key: RawKey) -> usize {
        let h = key.len as u64 ^ key.words[0] ^ key.words[2].rotate_left(29);
        (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize
    }

    #[inline(always)]
    pub fn get(&self, key: RawKey, raw: &[u8]) -> Option<T> {
        let slot = self.slots[Self::slot(key)];
        let (n, v) = self.names.get(usize::from(slot))?;
        if n.is(key, raw) {
            return Some(*v);
        }
        self.names
            .iter()
            .find(|(n, _)| n.is(key, raw))
            .map(|(_, v)| *v)
    }

    /// Remembers `raw` (not met before) as `v`, while there is room.
    pub fn insert(&mut self, raw: &[u8], v: T) {
        if self.names.len() >= Self::MAX {
            return;
        }
        let key = RawKey::of(raw);
        let slot = &mut self.slots[Self::slot(key)];
        if *slot == u8::MAX {
            *slot = self.names.len() as u8;
        }
        self.names.push((RawName::new(raw), v));
    }
}

impl<T: Copy> Default for RawNames<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The value in what follows an item's leading name fields, as [`item_of`] reads it; `None`
/// when a name field comes later too (then the leading ones are not the whole name).
#[inline]
pub fn value_after_name(rest: &[u8]) -> Option<Option<ItemValue<'_>>> {
    let mut value = None;
    for (n, v) in fields(rest) {
        if n == 1 || n == 2 {
            return None;
        }
        take_value(&mut value, n, v);
    }
    Some(value)
}

pub fn as_step(v: f64) -> Option<u64> {
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1.8e19).then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::wandb::proto::encode;

    fn item(fields: &[(u32, &[u8])]) -> Vec<u8> {
        let mut i = Vec::new();
        for (n, b) in fields {
            encode::bytes(*n, b, &mut i);
        }
        i
    }

    #[test]
    fn the_name_fields_lead_and_the_value_follows() {
        let long = vec![b'x'; 200];
        for names in [
            vec![(2u32, &b"train"[..]), (2, b"grad_norm")],
            vec![(1, &b"loss"[..])],
            vec![(2, &long[..])],
        ] {
            let mut f = names.clone();
            f.push((16, b"2.5"));
            let it = item(&f);
            let (name, rest) = split_name(&it);
            assert_eq!(name, &item(&names)[..]);
            let v = value_after_name(rest)
                .and_then(|v| v)
                .and_then(ItemValue::number);
            assert_eq!(v, Some(2.5));
            let (_, whole) = item_of(&it, &mut Vec::new()).unwrap();
            assert_eq!(whole.number(), Some(2.5));
            // wandb's usual layout: the same name bytes and value, found at once.
            let usual = names.len() == 1 && names[0].1.len() < 128;
            let want = usual.then_some((name, &b"2.5"[..]));
            assert_eq!(usual_layout(&it), want);
        }
        for (a, b) in [
            (&b"ab"[..], &b"ab"[..]),
            (b"abc", b"abd"),
            (b"", b""),
            (&long, &long),
        ] {
            assert_eq!(RawName::new(a).is(RawKey::of(b), b), a == b);
        }
        let mut names = RawNames::new();
        for (i, n) in [&b"ab"[..], b"abc", b"", &long].into_iter().enumerate() {
            assert_eq!(names.get(RawKey::of(n), n), None);
            names.insert(n, i);
        }
        for i in 0..100u32 {
            let n = format!("name{i}");
            names.insert(n.as_bytes(), 4 + i as usize);
        }
        assert_eq!(names.len(), RawNames::<usize>::MAX);
        assert_eq!(names.get(RawKey::of(b"abc"), b"abc"), Some(1));
        assert_eq!(names.get(RawKey::of(&long), &long), Some(3));
        assert_eq!(names.get(RawKey::of(b"name59"), b"name59"), Some(63));
        assert_eq!(names.get(RawKey::of(b"name60"), b"name60"), None);
        // Names of 17 to 24 bytes are told apart by their key alone, whichever byte differs.
        for len in 1..=24 {
            let a: Vec<u8> = (0..len as u8).collect();
            for i in 0..len {
                let mut b = a.clone();
                b[i] ^= 0x20;
                assert_ne!(RawKey::of(&a), RawKey::of(&b), "{len} {i}");
            }
        }
        let mut other = long.clone();
        other[100] = b'y';
        assert!(!RawName::new(&long).is(RawKey::of(&other), &other));
        // A name field after the value: the leading fields are not the name.
        let it = item(&[(2, b"a"), (16, b"1"), (2, b"b")]);
        assert!(value_after_name(split_name(&it).1).is_none());
        // A length past the end stops the name there; nothing is read past it.
        let cut = [0x12, 9, b'a'];
        assert_eq!(split_name(&cut), (&[][..], &cut[..]));
        assert!(matches!(value_after_name(&cut), Some(None)));
    }
}
