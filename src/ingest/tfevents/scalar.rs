//! The event nearly every record of an event file is: one scalar,
//! `Event{wall_time=1, step=2, summary=5{value=1{tag=1, simple_value=2}}}`, as TensorBoard's
//! `EventFileWriter`, PyTorch's `SummaryWriter` and `tf.compat.v1` summaries write it. Read
//! here in one straight pass over the bytes, fields in that order, each message ending exactly
//! where its length says; any other shape (a tensor, several values, other fields, another
//! order) is left to the general field iterator, which then reads it. On the shape read here
//! both give the same step, tag and value.

use super::proto::Cursor;

/// The step, tag and value of a one-scalar event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scalar<'a> {
    pub step: i64,
    pub tag: &'a [u8],
    pub value: f32,
}

/// The one-scalar path's steps: a field key expected next, a message's last field.
impl<'a> Cursor<'a> {
    fn byte_is(&mut self, key: u8) -> bool {
        if self.b.get(self.at) == Some(&key) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// A length-delimited field that runs exactly to the end of the message.
    fn last_bytes(&mut self, key: u8) -> Option<&'a [u8]> {
        if !self.byte_is(key) {
            return None;
        }
        let n = usize::try_from(self.varint()?).ok()?;
        let s = self.take(n)?;
        (self.at == self.b.len()).then_some(s)
    }
}

/// `ev` read as a one-scalar event, or `None` when it has any other shape.
pub(super) fn scalar_event(ev: &[u8]) -> Option<Scalar<'_>> {
    let mut c = Cursor::new(ev);
    // proto3 leaves zero fields out: a wall time or step of 0 is not on the wire.
    if c.byte_is(0x09) {
        c.take(8)?;
    }
    let step = if c.byte_is(0x10) {
        c.varint()? as i64
    } else {
        0
    };
    let summary = c.last_bytes(0x2a)?;
    let value = Cursor::new(summary).last_bytes(0x0a)?;
    let mut v = Cursor::new(value);
    if !v.byte_is(0x0a) {
        return None;
    }
    let n = usize::try_from(v.varint()?).ok()?;
    let tag = v.take(n)?;
    if !v.byte_is(0x15) {
        return None;
    }
    let x = v.take(4)?;
    if v.at != value.len() {
        return None;
    }
    Some(Scalar {
        step,
        tag,
        value: f32::from_le_bytes([x[0], x[1], x[2], x[3]]),
    })
}
