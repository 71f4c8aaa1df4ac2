//! One JSON object per line (custom loops, wandb-style dumps), with any of the aliases; values
//! may be numbers, strings, or Python's bare `NaN`/`Infinity`.

use super::{record_with, syntax::Sep, to_parsed, LineParser, Parsed};

pub fn parse(p: &LineParser, line: &[u8]) -> Parsed {
    let Some(open) = memchr::memchr(b'{', line) else {
        return Parsed::Nothing;
    };
    to_parsed(record_with(p, &line[open..], Sep::Json), false)
}
