//! Records built as wandb's `wandb_internal.proto` lays them out (the real files are read in
//! `tests/wandb.rs`): the cases the sample run does not hold.

use super::*;
use crate::ingest::wandb::proto::encode;

fn item(parts: &[&str], field: u32, value: &[u8]) -> Vec<u8> {
    let mut i = Vec::new();
    for p in parts {
        encode::bytes(2, p.as_bytes(), &mut i);
    }
    encode::bytes(field, value, &mut i);
    i
}

fn record(field: u32, items: &[Vec<u8>]) -> Vec<u8> {
    let mut m = Vec::new();
    for it in items {
        encode::bytes(1, it, &mut m);
    }
    let mut r = Vec::new();
    encode::bytes(field, &m, &mut r);
    r
}

#[test]
fn nested_keys_typed_values_and_the_record_step() {
    let mut d = RecordDecoder::new(&MetricSpec::gnorm());
    let mut typed = Vec::new();
    encode::bytes(2, b"optim", &mut typed);
    encode::bytes(2, b"grad_norm", &mut typed);
    typed.push(6 << 3 | 1); // number = 6, a double
    typed.extend_from_slice(&2.5f64.to_le_bytes());
    let mut h = Vec::new();
    encode::bytes(1, &typed, &mut h);
    let mut step = Vec::new();
    encode::uint(1, 41, &mut step);
    encode::bytes(2, &step, &mut h);
    let mut r = Vec::new();
    encode::bytes(2, &h, &mut r);
    d.record(&r);
    // A value that is not a number: counted, not charted.
    d.record(&record(2, &[item(&["train/grad_norm"], 16, b"\"n/a\"")]));
    let b = d.take_batch();
    let got: Vec<_> = b.steps.iter().map(|x| (x.step, x.value())).collect();
    assert_eq!(got, [(Some(41), 2.5)]);
    assert_eq!((b.skipped, b.lines), (1, 2));
    assert_eq!(d.seen, ["optim/grad_norm", "train/grad_norm"]);
}

#[test]
fn clip_from_config_keys_and_nested_objects() {
    let mut d = RecordDecoder::new(&MetricSpec::gnorm());
    d.record(&record(5, &[item(&["gradient_clipping"], 16, b"1.5")]));
    assert_eq!(d.take_batch().clip_declared, Some(1.5));
    let nested = br#"{"name": "adamw", "clip_grad": {"max_norm": 2}, "grad_clip": 0.25}"#;
    d.record(&record(5, &[item(&["optim"], 16, nested)]));
    assert_eq!(d.take_batch().clip_declared, Some(0.25));
    d.record(&record(5, &[item(&["clip_grad"], 16, b"null")]));
    assert_eq!(d.take_batch().clip_declared, None);
}

#[test]
fn exit_codes_and_a_damaged_record() {
    let mut d = RecordDecoder::new(&MetricSpec::gnorm());
    let mut exit = Vec::new();
    encode::uint(1, (-9i64) as u64, &mut exit);
    let mut r = Vec::new();
    encode::bytes(18, &exit, &mut r);
    d.record(&r);
    assert!(d.info.finished);
    assert_eq!(d.info.exit_code, Some(-9));
    d.record(&[0x12, 0xff, 0xff, 0x01]); // a length past the end
    assert!(d.take_batch().steps.is_empty());
}
