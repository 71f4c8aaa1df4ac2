//! fairseq: `simple`, `json` and the pre-0.10 pipe format.

use super::syntax::{first_of, value_after, Sep};
use super::{record_with, to_parsed, LineParser, Parsed};
use memchr::memmem::Finder;
use std::sync::LazyLock;

static TRAIN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("| train |"));
static VALID: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("| valid"));
static VALID_ON: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("valid on"));

/// `… | train_inner | epoch 143: 85 / 282 loss=3.147, …, num_updates=40100, gnorm=0.489, clip=0`
/// per step; `… | train | epoch 143 | loss 3.14 | … | gnorm 0.485 |` per epoch (aggregate).
pub fn parse_simple(p: &LineParser, line: &[u8]) -> Parsed {
    match record_with(p, line, Sep::Eq) {
        Some(r) => to_parsed(Some(r), false),
        None if TRAIN.find(line).is_some() => to_parsed(record_with(p, line, Sep::Pipe), true),
        None => Parsed::Nothing,
    }
}

/// `… | train_inner | {"epoch": 1, "num_updates": "1", "gnorm": "20.751", …}` per step;
/// `… | train | {"train_gnorm": "36.26", "train_num_updates": "10", …}` per epoch.
pub fn parse_json(p: &LineParser, line: &[u8]) -> Parsed {
    if TRAIN.find(line).is_some() {
        let Some(raw) = first_of(line, &p.train_prefixed, Sep::Json) else {
            return Parsed::Nothing;
        };
        let Some(value) = super::syntax::parse_number(raw) else {
            return Parsed::Malformed;
        };
        let step =
            value_after(line, b"train_num_updates", Sep::Json).and_then(super::syntax::parse_step);
        let mut rec = super::Record::new(step, value);
        if p.reads_loss {
            rec.values[super::LOSS_COLUMN] =
                value_after(line, b"train_loss", Sep::Json).and_then(super::syntax::parse_number);
        }
        return Parsed::Aggregate(rec);
    }
    if VALID.find(line).is_some() {
        return Parsed::Nothing;
    }
    to_parsed(record_with(p, line, Sep::Json), false)
}

/// fairseq ≤ 0.9: per-update `| epoch 001:   1 / 43 loss=…, num_updates=2, gnorm=0.833`
/// (running averages), per-epoch `| epoch 052 | loss 4.027 | … | gnorm 0.218 | clip 0% |`.
pub fn parse_legacy(p: &LineParser, line: &[u8]) -> Parsed {
    if VALID_ON.find(line).is_some() {
        return Parsed::Nothing;
    }
    match record_with(p, line, Sep::Eq) {
        Some(r) => to_parsed(Some(r), false),
        None => to_parsed(record_with(p, line, Sep::Pipe), true),
    }
}
