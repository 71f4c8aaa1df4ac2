//! The legacy (pre-1.6, or `_use_new_zipfile_serialization=False`) `torch.save` layout: five
//! pickles in a row — the magic number, the protocol version, the writer's sys info, the
//! object, the list of storage keys — then each storage in that order, as a little-endian
//! u64 element count followed by its bytes (torch writes these little-endian on every host).

use std::collections::HashMap;

use super::pickle::{unpickle, Unpickled};
use super::store::Span;
use super::value::Heap;
use super::Problem;

/// `0x1950a86a20f9469cfc6c`, as LONG1 stores it (little-endian).
const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// True when `bytes` start with the legacy magic number's pickle (protocol 2, LONG1 10).
pub fn is_legacy(bytes: &[u8]) -> bool {
    bytes.len() >= 14
        && bytes[..2] == [0x80, 0x02]
        && bytes[2] == 0x8a
        && bytes[3] == 10
        && bytes[4..14] == MAGIC
}

/// The object pickle and where each storage's bytes are.
pub(super) fn read(bytes: &[u8]) -> Result<(Unpickled, HashMap<String, Span>), Problem> {
    let magic = unpickle(bytes, 0)?;
    match magic.arena.get(magic.root) {
        Some(Heap::BigInt(b)) if b[..] == MAGIC => {}
        _ => return Err(Problem::Corrupt("no legacy torch.save magic number".into())),
    }
    let protocol = unpickle(bytes, magic.end)?;
    if protocol.arena.uint(protocol.root) != Some(1001) {
        return Err(Problem::Corrupt(
            "unknown legacy torch.save protocol version (expected 1001)".into(),
        ));
    }
    let sys_info = unpickle(bytes, protocol.end)?;
    let object = unpickle(bytes, sys_info.end)?;
    let keys = unpickle(bytes, object.end)?;
    let key_list: Vec<String> = keys
        .arena
        .seq(keys.root)
        .ok_or_else(|| Problem::Corrupt("the storage key list is not a list".into()))?
        .iter()
        .map(|k| keys.arena.str(*k).map(str::to_string))
        .collect::<Option<_>>()
        .ok_or_else(|| Problem::Corrupt("a storage key is not a string".into()))?;
    // Element sizes come from the object pickle's persistent ids.
    let mut elem_size: HashMap<&str, u64> = HashMap::new();
    for h in object.arena.items() {
        if let Heap::Storage(s) = h {
            let es = s.dtype.map(|d| (d.bits() / 8).max(1));
            if let Some(es) = es {
                elem_size.insert(s.key.as_str(), es);
            }
        }
    }
    let mut spans = HashMap::new();
    let mut at = keys.end as u64;
    let len = bytes.len() as u64;
    for key in &key_list {
        let shown = crate::text::printable(key).into_owned();
        let es = *elem_size.get(key.as_str()).ok_or_else(|| {
            Problem::Corrupt(format!(
                "storage {shown} has an element type trainwatch does not know, so the storages after it cannot be found"
            ))
        })?;
        let head = bytes
            .get(at as usize..at as usize + 8)
            .ok_or_else(|| Problem::Incomplete(format!("the file ends before storage {shown}")))?;
        let mut n = [0u8; 8];
        n.copy_from_slice(head);
        let numel = u64::from_le_bytes(n);
        let size = numel
            .checked_mul(es)
            .filter(|s| {
                s.checked_add(8)
                    .and_then(|x| x.checked_add(at))
                    .is_some_and(|e| e <= len)
            })
            .ok_or_else(|| {
                Problem::Incomplete(format!(
                    "storage {shown} claims {numel} elements, more than the rest of the file holds"
                ))
            })?;
        spans.insert(
            key.clone(),
            Span {
                offset: (at + 8) as usize,
                len: size as usize,
            },
        );
        at += 8 + size;
    }
    Ok((object, spans))
}
