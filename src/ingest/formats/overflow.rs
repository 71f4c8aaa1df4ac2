//! Mixed-precision overflow notes: steps the optimizer skipped because the fp16 gradients
//! overflowed. They are not divergence: the loss scaler lowers the scale and training goes on.
//!
//! - fairseq: `NOTE: overflow detected, setting loss scale to: 32768.0`, or
//!   `NOTE: gradient overflow detected, ignoring gradient, setting loss scale to: 64.0`;
//! - DeepSpeed: `[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768`;
//! - Megatron: `| number of skipped iterations:   3 |` on each iteration line (skips since the
//!   previous line).

use super::syntax::{parse_number, parse_step, trim_start, value_after, Sep};
use super::LogFormat;
use memchr::memmem::Finder;
use std::sync::LazyLock;

static FAIRSEQ: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("overflow detected"));
static DEEPSPEED: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("OVERFLOW!"));
static MEGATRON: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new("number of skipped iterations:"));

/// Skipped steps a line reports, with the loss scale set after them when it says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overflow {
    pub skipped: u64,
    pub loss_scale: Option<f64>,
}

/// Whether a stretch of bytes may hold an overflow note (one search per chunk, not per line).
pub fn may_occur(bytes: &[u8]) -> bool {
    may_occur_in(None, bytes)
}

/// [`may_occur`] for a log of a known format: only the notes its framework prints are looked
/// for (each search is a pass over the whole stretch; three of them cost a fairseq read 15 %).
/// Megatron-DeepSpeed and the Hugging Face Trainer under DeepSpeed print DeepSpeed's note.
/// Lines are read with [`note_in`] and the same format, so that what counts does not depend on
/// where a read was cut.
pub fn may_occur_in(format: Option<LogFormat>, bytes: &[u8]) -> bool {
    let (fairseq, deepspeed, megatron) = spellings(format);
    (fairseq && FAIRSEQ.find(bytes).is_some())
        || (deepspeed && DEEPSPEED.find(bytes).is_some())
        || (megatron && MEGATRON.find(bytes).is_some())
}

/// Which notes (fairseq's, DeepSpeed's, Megatron's) a log of `format` may carry.
fn spellings(format: Option<LogFormat>) -> (bool, bool, bool) {
    match format {
        Some(LogFormat::FairseqSimple | LogFormat::FairseqJson | LogFormat::FairseqLegacy) => {
            (true, false, false)
        }
        Some(LogFormat::Megatron) => (false, true, true),
        Some(LogFormat::HfTrainer) => (false, true, false),
        _ => (true, true, true),
    }
}

/// The overflow this line reports, if it is an overflow note.
pub fn note(line: &[u8]) -> Option<Overflow> {
    note_in(None, line)
}

/// [`note`] in a log of a known format: only the notes its framework prints.
pub fn note_in(format: Option<LogFormat>, line: &[u8]) -> Option<Overflow> {
    let (fairseq, deepspeed, megatron) = spellings(format);
    if let Some(at) = megatron.then(|| MEGATRON.find(line)).flatten() {
        let rest = trim_start(&line[at + b"number of skipped iterations:".len()..]);
        let end = rest
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(rest.len());
        let skipped = parse_step(&rest[..end]).filter(|n| *n > 0)?;
        return Some(Overflow {
            skipped,
            loss_scale: value_after(line, b"loss scale", Sep::Colon).and_then(parse_number),
        });
    }
    if let Some(at) = fairseq.then(|| FAIRSEQ.find(line)).flatten() {
        let rest = &line[at..];
        return Some(Overflow {
            skipped: 1,
            loss_scale: number_after(rest, b"loss scale to:"),
        });
    }
    if let Some(at) = deepspeed.then(|| DEEPSPEED.find(line)).flatten() {
        return Some(Overflow {
            skipped: 1,
            loss_scale: number_after(&line[at..], b"reducing to"),
        });
    }
    None
}

/// The number right after `label` (spaces skipped).
fn number_after(s: &[u8], label: &[u8]) -> Option<f64> {
    let r = trim_start(&s[memchr::memmem::find(s, label)? + label.len()..]);
    let end = r
        .iter()
        .position(|b| !(b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')))
        .unwrap_or(r.len());
    parse_number(&r[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_framework() {
        let f = note(b"2023-06-14 | INFO | fairseq.trainer | NOTE: overflow detected, setting loss scale to: 32768.0");
        assert_eq!(
            f,
            Some(Overflow {
                skipped: 1,
                loss_scale: Some(32768.0)
            })
        );
        let f = note(
            b"NOTE: gradient overflow detected, ignoring gradient, setting loss scale to: 64.0",
        );
        assert_eq!(
            f,
            Some(Overflow {
                skipped: 1,
                loss_scale: Some(64.0)
            })
        );
        let d = note(b"[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768");
        assert_eq!(
            d,
            Some(Overflow {
                skipped: 1,
                loss_scale: Some(32768.0)
            })
        );
        let m = b" iteration 10/ 100 | loss scale: 4096.0 | grad norm: 1.0 | number of skipped iterations:   3 | number of nan iterations:   0 |";
        assert_eq!(
            note(m),
            Some(Overflow {
                skipped: 3,
                loss_scale: Some(4096.0)
            })
        );
        assert_eq!(note(b"| number of skipped iterations:   0 |"), None);
        assert_eq!(note(b"step 10 loss 3.1"), None);
        assert!(may_occur(b"..NOTE: overflow detected, .."));
        assert!(!may_occur(b"step 10 loss 3.1"));
    }
}
