//! OLMo (`olmo.train`): a record spread over several lines — a header naming the step,
//! `… INFO    [step=1/739328,epoch=0]`, then one indented `key=value` line per metric:
//! `    optim/total_grad_norm=231.7`. Values may carry thousands separators (`195,153`).

use super::syntax::{parse_number, parse_step, trim_end, trim_start};
use super::{LineParser, Parsed, Record};
use memchr::memmem::Finder;
use std::sync::LazyLock;

static HEADER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("[step="));

/// The step of a header line.
pub fn header_step(line: &[u8]) -> Option<u64> {
    let at = HEADER.find(line)?;
    parse_step(&line[at + b"[step=".len()..])
}

pub fn parse(p: &LineParser, line: &[u8]) -> Parsed {
    if let Some(step) = header_step(line) {
        return Parsed::Header(step);
    }
    // Metric lines are indented; anything else (other log lines) is not part of a record.
    if !line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return Parsed::Nothing;
    }
    let body = trim_end(trim_start(line));
    let Some(eq) = memchr::memrchr(b'=', body) else {
        return Parsed::Nothing;
    };
    let key = &body[..eq];
    if !p.metric.aliases.iter().any(|a| a.bytes() == key) {
        return Parsed::Nothing;
    }
    let raw: Vec<u8> = body[eq + 1..]
        .iter()
        .copied()
        .filter(|&b| b != b',')
        .collect();
    match parse_number(&raw) {
        // The step comes from the header, which the decoder carries.
        Some(v) => Parsed::Step(Record::new(None, v)),
        None => Parsed::Malformed,
    }
}
