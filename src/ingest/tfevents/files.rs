//! Telling an event file by its name or its first bytes, and ordering a run's event files.

use super::crc::header_ok;

/// Whether `bytes` is named or framed like an event file (a valid first record header).
pub fn looks_like_event_file(name: &str, head: &[u8]) -> bool {
    if name.contains("tfevents") {
        return true;
    }
    head.len() >= 12 && header_ok(head)
}

/// The timestamp in an event file's name (`events.out.tfevents.<secs>.<host>...`), for order.
pub fn name_timestamp(name: &str) -> Option<u64> {
    let rest = name.split("tfevents.").nth(1)?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}
