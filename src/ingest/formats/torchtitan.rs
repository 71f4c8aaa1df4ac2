//! torchtitan: `step:  10  loss:  7.1234  grad_norm:  1.3000  memory: …  tps: …  mfu: …` (the
//! colours are stripped before parsing). The throughput fields tell it from any other
//! `key: value` log.

use super::{record_with, syntax::Sep, to_parsed, LineParser, Parsed};
use memchr::memmem::find;

pub fn parse(p: &LineParser, line: &[u8]) -> Parsed {
    if !is_torchtitan(line) {
        return Parsed::Nothing;
    }
    to_parsed(record_with(p, line, Sep::Colon), false)
}

/// torchtitan's metrics line: a step and at least one of its throughput fields.
pub fn is_torchtitan(line: &[u8]) -> bool {
    find(line, b"step:").is_some()
        && [&b"memory:"[..], b"tps:", b"wps:", b"mfu:"]
            .iter()
            .any(|k| find(line, k).is_some())
}
