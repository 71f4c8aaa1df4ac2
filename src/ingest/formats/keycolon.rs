//! `key: value` pairs anywhere in a line, and a leading `Step N` (torchtune:
//! `Step 1 | loss:2.085338592529297 lr:2e-05 tokens_per_second_per_gpu:57.8`).

use super::syntax::{parse_step, trim_start, Sep};
use super::{record_with, to_parsed, LineParser, Parsed};

pub fn parse(p: &LineParser, line: &[u8]) -> Parsed {
    let mut r = record_with(p, line, Sep::Colon);
    if let Some(Some(rec)) = &mut r {
        rec.step = rec.step.or_else(|| leading_step(line));
    }
    to_parsed(r, false)
}

/// `Step N` or `step N` at the start of the line.
pub fn leading_step(line: &[u8]) -> Option<u64> {
    let t = trim_start(line);
    let rest = t
        .strip_prefix(b"Step ")
        .or_else(|| t.strip_prefix(b"step "))?;
    parse_step(token(trim_start(rest)))
}

fn token(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    &s[..end]
}
