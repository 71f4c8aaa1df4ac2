//! torchtitan: `step:  10  loss:  7.1234  grad_norm:  1.3000  memory: …` (the colours are
//! stripped before parsing).

use super::{record_with, syntax::Sep, to_parsed, LineParser, Parsed};

pub fn parse(p: &LineParser, line: &[u8]) -> Parsed {
    to_parsed(record_with(p, line, Sep::Colon), false)
}
