//! MMDetection 2.x (mmcv's `TextLoggerHook`) and mmengine:
//! `… - mmdet - INFO - Epoch [1][50/1581]\tlr: 1.236e-04, …, loss: 1.5381, grad_norm: 6.5141`,
//! `… - mmengine - INFO - Epoch(train) [100][  50/4309]  base_lr: … grad_norm: 993.2860  loss: …`,
//! `Iter(train) [  50/90000]  …`, and MMDetection's `.log.json` lines
//! `{"mode": "train", "epoch": 1, "iter": 50, …, "grad_norm": 6.51409}`.
//!
//! They print the iteration within the epoch and the epoch's length, so the global step is
//! `(epoch − 1) · n + i`; the `.log.json` lines do not give `n`, and are numbered by record.

use super::syntax::{parse_step, trim_start, Sep};
use super::{record_with, to_parsed, LineParser, Parsed};
use memchr::memmem::{find, Finder};
use std::sync::LazyLock;

static EPOCH: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("Epoch"));
static ITER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("Iter(train)"));

/// Whether the line is a training record line of these frameworks (not `Epoch(val)`).
pub fn is_train_line(line: &[u8]) -> bool {
    if line.first() == Some(&b'{') || trim_start(line).first() == Some(&b'{') {
        return find(line, b"\"mode\": \"train\"").is_some();
    }
    EPOCH.find(line).is_some_and(|at| {
        let rest = &line[at + 5..];
        rest.starts_with(b"(train)") || rest.starts_with(b" [")
    }) || ITER.find(line).is_some()
}

pub fn parse(p: &LineParser, line: &[u8]) -> Parsed {
    if !is_train_line(line) {
        return Parsed::Nothing;
    }
    if let Some(open) = memchr::memchr(b'{', line) {
        let mut r = record_with(p, &line[open..], Sep::Json);
        if let Some(Some(rec)) = &mut r {
            rec.step = None;
        }
        return to_parsed(r, false);
    }
    let mut r = record_with(p, line, Sep::Colon);
    if let Some(Some(rec)) = &mut r {
        rec.step = global_step(line);
    }
    to_parsed(r, false)
}

/// `Epoch(train) [e][i/n]` → (e − 1)·n + i; `Iter(train) [i/n]` → i.
pub fn global_step(line: &[u8]) -> Option<u64> {
    if let Some(at) = ITER.find(line) {
        let (i, _) = bracket(&line[at + b"Iter(train)".len()..])?;
        return parse_step(i);
    }
    let at = EPOCH.find(line)?;
    let rest = &line[at + 5..];
    let rest = rest.strip_prefix(b"(train)").unwrap_or(rest);
    let (e, rest) = bracket(rest)?;
    let (i_n, _) = bracket(rest)?;
    let slash = memchr::memchr(b'/', i_n)?;
    let e = parse_step(e)?;
    let i = parse_step(&i_n[..slash])?;
    let n = parse_step(&i_n[slash + 1..])?;
    e.checked_sub(1)?.checked_mul(n)?.checked_add(i)
}

/// The text inside the next `[…]` and what follows it.
fn bracket(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = trim_start(s).strip_prefix(b"[")?;
    let close = memchr::memchr(b']', s)?;
    Some((trim_start(&s[..close]), &s[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_steps() {
        assert_eq!(global_step(b"Epoch [1][50/1581]\tlr: 1"), Some(50));
        assert_eq!(
            global_step(b"Epoch [3][100/1581]\tlr: 1"),
            Some(2 * 1581 + 100)
        );
        assert_eq!(
            global_step(b"Epoch(train) [100][  50/4309]  base_lr: 2"),
            Some(99 * 4309 + 50)
        );
        assert_eq!(global_step(b"Iter(train) [  50/90000]  lr: 1"), Some(50));
        assert!(!is_train_line(
            b"Epoch(val) [100][50/500]  coco/bbox_mAP: 0.1"
        ));
        assert!(is_train_line(
            b"{\"mode\": \"train\", \"epoch\": 1, \"iter\": 50}"
        ));
        assert!(!is_train_line(b"{\"mode\": \"val\", \"epoch\": 1}"));
    }
}
