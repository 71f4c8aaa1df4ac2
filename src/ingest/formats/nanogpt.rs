//! nanoGPT and llm.c: a record is a line of fields that starts with the step.
//!
//! - build-nanogpt and its forks: `step 0 | loss: 10.9677 | dt: 25213.31ms | norm: 6.74 | lr: 0.000010`
//!   and `step     0 | loss: 10.955010 | lr 8.3916e-07 | norm: 15.3421 | …`;
//! - modded-nanogpt: `step:1/6200 train_loss:10.9184 train_time:0ms step_avg:nanms`;
//! - llm.c stdout: `step    1/19560 | loss 11.009662 (+nanz)| norm 15.0789 (+nanz)| lr 8.57e-07 | …`
//!   (a parenthesised z-score after a value is not part of it);
//! - llm.c `main.log`: `s:0 trl:11.0116 lr:0.000001 norm:14.96`.
//!
//! Keys are matched whole (`loss` is not `validation loss`). Both frameworks print the value
//! `clip_grad_norm_` returned as `norm`: that is the gradient norm here, and only here.

use super::syntax::{parse_number, parse_step, trim_end, trim_start, Key};
use super::{LineParser, Parsed, Record, LOSS_COLUMN};
use crate::core::LogFormat;

/// Whether `line` is a record line of these formats.
pub fn is_record_line(line: &[u8], format: LogFormat) -> bool {
    let t = trim_start(line);
    let after_step = t.strip_prefix(b"step").map(|r| {
        let r = r.strip_prefix(b":").unwrap_or(r);
        trim_start(r)
    });
    if after_step.is_some_and(|r| r.first().is_some_and(u8::is_ascii_digit)) {
        return true;
    }
    format == LogFormat::Llmc
        && t.strip_prefix(b"s:")
            .is_some_and(|r| r.first().is_some_and(u8::is_ascii_digit))
}

/// Whether a record line is llm.c's rather than nanoGPT's: `main.log`'s `s:N`, or the
/// stdout's z-scores after values (`(+nanz)`, `(+1.23z)`).
pub fn looks_like_llmc(line: &[u8]) -> bool {
    let t = trim_start(line);
    t.starts_with(b"s:") || memchr::memmem::find(line, b"z)|").is_some()
}

pub fn parse(p: &LineParser, line: &[u8]) -> Parsed {
    if !is_record_line(line, p.format) {
        return Parsed::Nothing;
    }
    let Some(raw) = find(line, &p.field_aliases) else {
        return Parsed::Nothing;
    };
    let Some(value) = parse_number(raw) else {
        return Parsed::Malformed;
    };
    let step = find(line, &p.field_steps).and_then(parse_step);
    let mut rec = Record::new(step, value);
    if p.reads_loss {
        rec.values[LOSS_COLUMN] = find(line, &p.field_losses).and_then(parse_number);
    }
    for (col, keys) in &p.extras {
        rec.values[*col] = find(line, keys).and_then(parse_number);
    }
    Parsed::Step(rec)
}

/// The value of the first of `keys` that is a whole key of the line.
fn find<'a>(line: &'a [u8], keys: &[Key]) -> Option<&'a [u8]> {
    keys.iter().find_map(|k| {
        fields(line)
            .find(|(key, _)| *key == k.bytes())
            .map(|(_, v)| v)
    })
}

/// The `(key, value)` pairs of a line: `|`-separated fields when it has any, else
/// whitespace-separated `key:value` tokens.
pub fn fields(line: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let piped = memchr::memchr(b'|', line).is_some();
    let segments: Box<dyn Iterator<Item = &[u8]>> = if piped {
        Box::new(line.split(|&b| b == b'|'))
    } else {
        Box::new(line.split(|b| b.is_ascii_whitespace()))
    };
    segments.filter_map(field)
}

/// One field: `key: value`, `key:value`, or `key words value` (the key runs up to the first
/// token that starts like a number); a `(…)` suffix after the value is dropped.
fn field(seg: &[u8]) -> Option<(&[u8], &[u8])> {
    let seg = trim_end(trim_start(seg));
    if let Some(c) = memchr::memchr(b':', seg) {
        let key = trim_end(&seg[..c]);
        let rest = trim_start(&seg[c + 1..]);
        return (!key.is_empty()).then(|| (key, token(rest)));
    }
    let mut at = 0;
    while at < seg.len() {
        let rest = trim_start(&seg[at..]);
        let start = seg.len() - rest.len();
        if starts_like_number(rest) {
            let key = trim_end(&seg[..start]);
            return (!key.is_empty()).then(|| (key, token(rest)));
        }
        at = start
            + rest
                .iter()
                .position(u8::is_ascii_whitespace)
                .unwrap_or(rest.len());
    }
    None
}

fn token(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'(')
        .unwrap_or(s.len());
    &s[..end]
}

fn starts_like_number(s: &[u8]) -> bool {
    let s = s
        .strip_prefix(b"-")
        .or_else(|| s.strip_prefix(b"+"))
        .unwrap_or(s);
    let s = s.strip_prefix(b".").unwrap_or(s);
    s.first().is_some_and(u8::is_ascii_digit)
        || s.starts_with(b"nan")
        || s.starts_with(b"inf")
        || s.starts_with(b"NaN")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(line: &str) -> Vec<(String, String)> {
        fields(line.as_bytes())
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(k).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn fields_of_each_spelling() {
        let p = pairs("step    1/19560 | loss 11.009662 (+nanz)| norm 15.0789 (+nanz)| lr 8.57e-07 | 4230.95 ms | 31.9% bf16 MFU");
        assert_eq!(p[0], ("step".into(), "1/19560".into()));
        assert_eq!(p[1], ("loss".into(), "11.009662".into()));
        assert_eq!(p[2], ("norm".into(), "15.0789".into()));
        assert_eq!(p[3], ("lr".into(), "8.57e-07".into()));
        assert_eq!(p.len(), 4, "{p:?}");
        let p = pairs("step 0 | loss: 10.9677 | dt: 25213.31ms | tok/sec: 5198.52 | norm: 6.74");
        assert!(p.contains(&("norm".into(), "6.74".into())));
        assert!(p.contains(&("tok/sec".into(), "5198.52".into())));
        let p = pairs("s:0 trl:11.0116 lr:0.000001 norm:14.96");
        assert_eq!(p[0], ("s".into(), "0".into()));
        assert_eq!(p[1], ("trl".into(), "11.0116".into()));
        assert_eq!(pairs("step 10 | train loss 10.98 |")[1].0, "train loss");
    }

    #[test]
    fn record_lines() {
        assert!(is_record_line(b"step 0 | loss: 1", LogFormat::Nanogpt));
        assert!(is_record_line(
            b"step:12/6200 train_loss:3",
            LogFormat::Nanogpt
        ));
        assert!(!is_record_line(
            b"validation loss: 10.95",
            LogFormat::Nanogpt
        ));
        assert!(!is_record_line(b"steps: 3", LogFormat::Nanogpt));
        assert!(is_record_line(b"s:0 trl:1", LogFormat::Llmc));
        assert!(!is_record_line(b"s:0 trl:1", LogFormat::Nanogpt));
        assert!(looks_like_llmc(
            b"step 1/2 | loss 1 (+nanz)| norm 2 (+nanz)|"
        ));
        assert!(!looks_like_llmc(b"step 0 | loss: 1 | norm: 2"));
    }
}
