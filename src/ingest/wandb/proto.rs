//! Just enough of the protobuf wire format to walk a message's fields and skip the ones not
//! needed by their tag and length (nothing is decoded that is not read).

/// One field of a message: its number and its value as the wire carries it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// The fields of one message, in order; stops (with [`Fields::damaged`] set) at the first
/// byte that is not a field.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    rest: &'a [u8],
    pub damaged: bool,
}

#[inline]
pub fn fields(msg: &[u8]) -> Fields<'_> {
    Fields {
        rest: msg,
        damaged: false,
    }
}

#[inline]
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    // Tags and lengths: mostly one or two bytes.
    match b {
        [b0, ..] if *b0 < 0x80 => return Some((u64::from(*b0), 1)),
        [b0, b1, ..] if *b1 < 0x80 => {
            return Some((u64::from(b0 & 0x7f) | u64::from(*b1) << 7, 2));
        }
        _ => {}
    }
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

impl<'a> Fields<'a> {
    #[inline]
    fn next_field(&mut self) -> Option<(u32, Value<'a>)> {
        let (tag, n) = varint(self.rest)?;
        let b = &self.rest[n..];
        let number = u32::try_from(tag >> 3).ok()?;
        let (value, used) = match tag & 7 {
            0 => {
                let (v, m) = varint(b)?;
                (Value::Varint(v), m)
            }
            1 => {
                let raw: [u8; 8] = b.get(..8)?.try_into().ok()?;
                (Value::Fixed64(u64::from_le_bytes(raw)), 8)
            }
            2 => {
                let (len, m) = varint(b)?;
                let len = usize::try_from(len).ok()?;
                let end = m.checked_add(len)?;
                (Value::Bytes(b.get(m..end)?), end)
            }
            5 => {
                let raw: [u8; 4] = b.get(..4)?.try_into().ok()?;
                (Value::Fixed32(u32::from_le_bytes(raw)), 4)
            }
            _ => return None,
        };
        self.rest = &b[used..];
        Some((number, value))
    }
}

/// A varint of one to four bytes: its value and length (`None`: longer, or cut). Four:
/// a long run's record numbers pass 2^21 after two million records.
#[inline(always)]
fn short_varint(b: &[u8]) -> Option<(usize, usize)> {
    let low = |x: u8| usize::from(x & 0x7f);
    match *b {
        [b0, ..] if b0 < 0x80 => Some((usize::from(b0), 1)),
        [b0, b1, ..] if b1 < 0x80 => Some((low(b0) | usize::from(b1) << 7, 2)),
        [b0, b1, b2, ..] if b2 < 0x80 => Some((low(b0) | low(b1) << 7 | usize::from(b2) << 14, 3)),
        [b0, b1, b2, b3, ..] if b3 < 0x80 => Some((
            low(b0) | low(b1) << 7 | low(b2) << 14 | usize::from(b3) << 21,
            4,
        )),
        _ => None,
    }
}

impl<'a> Fields<'a> {
    /// The next field when its tag and its length or varint value are one to four bytes each
    /// and it is whole (`None`: anything else, left to [`next_field`](Self::next_field)).
    #[inline(always)]
    fn short_field(&mut self) -> Option<(u32, Value<'a>)> {
        let b = self.rest;
        let (tag, at) = short_varint(b)?;
        let number = (tag >> 3) as u32;
        let rest = &b[at..];
        match tag & 7 {
            2 => {
                let (len, m) = short_varint(rest)?;
                let v = rest.get(m..m + len)?;
                self.rest = &rest[m + len..];
                Some((number, Value::Bytes(v)))
            }
            0 => {
                let (v, m) = short_varint(rest)?;
                self.rest = &rest[m..];
                Some((number, Value::Varint(v as u64)))
            }
            _ => None,
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (u32, Value<'a>);

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.damaged {
            return None;
        }
        // The fields met most (an item in its history record, an item's name and value, a
        // record, its number) have a tag and a length or value of one to four bytes each:
        // taken here at once; anything else by the general walk.
        if let Some(f) = self.short_field() {
            return Some(f);
        }
        let f = self.next_field();
        if f.is_none() {
            self.damaged = true;
        }
        f
    }
}

impl<'a> Value<'a> {
    pub fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn varint(self) -> Option<u64> {
        match self {
            Value::Varint(v) => Some(v),
            _ => None,
        }
    }
}

/// Encoding, for tests that build records the real library would write.
pub mod encode {
    pub fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    pub fn bytes(field: u32, b: &[u8], out: &mut Vec<u8>) {
        varint(u64::from(field) << 3 | 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }

    pub fn uint(field: u32, v: u64, out: &mut Vec<u8>) {
        varint(u64::from(field) << 3, out);
        varint(v, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_fields_and_stops_at_damage() {
        let mut m = Vec::new();
        encode::uint(1, 300, &mut m);
        encode::bytes(16, b"NaN", &mut m);
        m.extend_from_slice(&[0x0d, 1, 2, 3, 4]); // field 1, fixed32
        let got: Vec<_> = fields(&m).collect();
        assert_eq!(
            got,
            [
                (1, Value::Varint(300)),
                (16, Value::Bytes(b"NaN")),
                (1, Value::Fixed32(0x0403_0201))
            ]
        );
        // Two-byte tags and lengths, and a length past the end of a short field.
        let mut m = Vec::new();
        encode::bytes(16, &[7; 200], &mut m);
        encode::bytes(2047, b"x", &mut m);
        encode::uint(3, 1 << 40, &mut m);
        encode::uint(4, 5, &mut m);
        // Three-byte values and lengths (a record number past 2^14, a long record).
        encode::uint(5, 300_000, &mut m);
        encode::bytes(6, &[1; 20_000], &mut m);
        // Four bytes: a record number past 2^21, a field number past 2^18, a 2 MiB length.
        encode::uint(7, 3_000_000, &mut m);
        encode::uint(300_000, (1 << 28) - 1, &mut m);
        encode::bytes(8, &[2; 1 << 21], &mut m);
        let got: Vec<_> = fields(&m).collect();
        assert_eq!(
            got,
            [
                (16, Value::Bytes(&[7; 200][..])),
                (2047, Value::Bytes(b"x")),
                (3, Value::Varint(1 << 40)),
                (4, Value::Varint(5)),
                (5, Value::Varint(300_000)),
                (6, Value::Bytes(&[1; 20_000][..])),
                (7, Value::Varint(3_000_000)),
                (300_000, Value::Varint((1 << 28) - 1)),
                (8, Value::Bytes(&[2; 1 << 21][..]))
            ]
        );
        // Cut inside a four-byte length: damage, not a short read past the end.
        let mut f = fields(&[0x0a, 0x80, 0x80, 0x80, 0x01, 1]);
        assert_eq!(f.next(), None);
        assert!(f.damaged);
        let mut f = fields(&[0x82, 0x01, 9, 1]);
        assert_eq!(f.next(), None);
        assert!(f.damaged);
        let mut f = fields(&[0x0a, 9, 1]); // a length past the end
        assert_eq!(f.next(), None);
        assert!(f.damaged);
    }
}
