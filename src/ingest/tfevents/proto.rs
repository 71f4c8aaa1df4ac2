//! The protobuf wire format, as much of it as event files need: a field iterator that never
//! allocates from a claimed length and stops at the first malformed field, the scalar of a
//! `TensorProto`, and the writer side ([`encode`]) for tests and benchmarks.

/// The value of a scalar TensorProto (float or double; `tensor_content` or `*_val`).
pub(super) fn tensor_scalar(t: &[u8]) -> Option<f64> {
    let mut dtype = 0u64;
    let mut content: Option<&[u8]> = None;
    let mut float_val: Option<f64> = None;
    let mut double_val: Option<f64> = None;
    for f in Fields::new(t) {
        match f {
            Field::Varint(1, d) => dtype = d,
            Field::Bytes(4, c) => content = Some(c),
            // float_val: packed (bytes) or one fixed32 per element.
            Field::Fixed32(5, x) if float_val.is_none() => {
                float_val = Some(f32::from_bits(x) as f64)
            }
            Field::Bytes(5, p) if float_val.is_none() && p.len() >= 4 => {
                float_val = Some(f32::from_le_bytes([p[0], p[1], p[2], p[3]]) as f64)
            }
            Field::Fixed64(6, x) if double_val.is_none() => double_val = Some(f64::from_bits(x)),
            Field::Bytes(6, p) if double_val.is_none() && p.len() >= 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&p[..8]);
                double_val = Some(f64::from_le_bytes(b))
            }
            _ => {}
        }
    }
    const DT_FLOAT: u64 = 1;
    const DT_DOUBLE: u64 = 2;
    if let Some(c) = content {
        return match (dtype, c.len()) {
            (DT_FLOAT, 4) => Some(f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64),
            (DT_DOUBLE, 8) => {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                Some(f64::from_le_bytes(b))
            }
            _ => None,
        };
    }
    float_val.or(double_val)
}

/// One protobuf field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Field<'a> {
    Varint(u32, u64),
    Fixed64(u32, u64),
    Bytes(u32, &'a [u8]),
    Fixed32(u32, u32),
}

/// A cursor over a message's bytes: what the field iterator and the one-scalar path
/// ([`super::scalar`]) read with.
pub(super) struct Cursor<'a> {
    pub b: &'a [u8],
    pub at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Cursor { b, at: 0 }
    }

    /// A varint (at most 10 bytes; the bits past 64 are dropped).
    pub fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let byte = *self.b.get(self.at)?;
            self.at += 1;
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
}

/// Iterates the fields of a message; stops at the first malformed one.
pub(super) struct Fields<'a> {
    c: Cursor<'a>,
}

impl<'a> Fields<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Fields { c: Cursor::new(b) }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        let c = &mut self.c;
        if c.at >= c.b.len() {
            return None;
        }
        let key = c.varint()?;
        let num = u32::try_from(key >> 3).ok()?;
        let f = match key & 7 {
            0 => Field::Varint(num, c.varint()?),
            1 => {
                let s = c.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(s);
                Field::Fixed64(num, u64::from_le_bytes(a))
            }
            2 => {
                let n = usize::try_from(c.varint()?).ok()?;
                Field::Bytes(num, c.take(n)?)
            }
            5 => {
                let s = c.take(4)?;
                Field::Fixed32(num, u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
            }
            _ => {
                // Groups (3, 4) and unknown wire types: stop reading this message.
                c.at = c.b.len();
                return None;
            }
        };
        Some(f)
    }
}

/// Writing event files: the inverse of the decoder, for tests, benchmarks and tools that need
/// a real event file without TensorFlow.
pub mod encode {
    use super::super::masked_crc;

    /// A protobuf varint.
    pub fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// One TFRecord: length, masked CRC-32C of the length, payload, masked CRC-32C of it.
    pub fn record(payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u64).to_le_bytes();
        let mut r = Vec::with_capacity(payload.len() + 16);
        r.extend_from_slice(&len);
        r.extend_from_slice(&masked_crc(&len).to_le_bytes());
        r.extend_from_slice(payload);
        r.extend_from_slice(&masked_crc(payload).to_le_bytes());
        r
    }

    /// An `Event{wall_time, step, summary{value{tag, simple_value}}}` payload.
    pub fn scalar_event(wall_time: f64, step: u64, tag: &str, value: f32) -> Vec<u8> {
        let mut val = vec![0x0a];
        varint(tag.len() as u64, &mut val);
        val.extend_from_slice(tag.as_bytes());
        val.push(0x15);
        val.extend_from_slice(&value.to_le_bytes());
        let mut summary = vec![0x0a];
        varint(val.len() as u64, &mut summary);
        summary.extend(val);
        let mut ev = vec![0x09];
        ev.extend_from_slice(&wall_time.to_le_bytes());
        ev.push(0x10);
        varint(step, &mut ev);
        ev.push(0x2a);
        varint(summary.len() as u64, &mut ev);
        ev.extend(summary);
        ev
    }
}
