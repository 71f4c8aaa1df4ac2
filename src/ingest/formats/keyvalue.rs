//! `key=value` anywhere in a line: tqdm postfixes (`… 23/782 [00:05<02:41, loss=5.3, gnorm=1.2]`)
//! and custom training loops. A tqdm frame's counter is kept so that frames repeating the
//! previous one are not counted twice.

use super::syntax::parse_step;
use super::{record_with, syntax::Sep, LineParser, Parsed};

pub fn parse(p: &LineParser, line: &[u8]) -> Parsed {
    match record_with(p, line, Sep::Eq) {
        None => Parsed::Nothing,
        Some(None) => Parsed::Malformed,
        Some(Some(mut rec)) => {
            rec.frame = tqdm_counter(line);
            Parsed::Step(rec)
        }
    }
}

/// The `N` of a tqdm frame's `| N/M [` counter.
fn tqdm_counter(line: &[u8]) -> Option<u64> {
    static BRACKET: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(" ["));
    let bracket = BRACKET.find(line)?;
    let head = &line[..bracket];
    let slash = memchr::memrchr(b'/', head)?;
    let digits_start = head[..slash]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    parse_step(&head[digits_start..slash])
}
