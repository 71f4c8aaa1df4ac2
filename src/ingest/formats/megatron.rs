//! Megatron-LM / Megatron-DeepSpeed:
//! ` iteration     7000/  159576 | … | lm loss: 6.44E+00 | … | grad norm: 98258.265 | …`.

use super::syntax::{parse_step, trim_start, value_after, Sep};
use super::{record_with, LineParser, Parsed, Record};

pub fn parse(p: &LineParser, line: &[u8]) -> Parsed {
    let Some(rec) = record_with(p, line, Sep::Colon) else {
        return Parsed::Nothing;
    };
    let Some(mut rec): Option<Record> = rec else {
        return Parsed::Malformed;
    };
    // "iteration" is followed by spaces, not a colon.
    rec.step = iteration(line).or(rec.step);
    Parsed::Step(rec)
}

fn iteration(line: &[u8]) -> Option<u64> {
    static ITERATION: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("iteration"));
    let at = ITERATION.find(line)?;
    let before_ok = at == 0 || line[at - 1] == b' ' || line[at - 1] == b']';
    if !before_ok {
        return value_after(line, b"iteration", Sep::Colon).and_then(parse_step);
    }
    let rest = trim_start(&line[at + b"iteration".len()..]);
    let rest = rest.strip_prefix(b":").map(trim_start).unwrap_or(rest);
    parse_step(rest)
}
