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

/// `b` as field `n`, its length a two-byte varint even where one byte would do: a valid
/// (non-minimal) encoding that every protobuf reader takes as the same field.
fn wide_bytes(n: u32, b: &[u8], out: &mut Vec<u8>) {
    encode::varint(u64::from(n) << 3 | 2, out);
    match u8::try_from(b.len()) {
        Ok(l) if l < 0x80 => out.extend_from_slice(&[l | 0x80, 0]),
        _ => encode::varint(b.len() as u64, out),
    }
    out.extend_from_slice(b);
}

#[test]
fn items_in_wandbs_own_layout_read_as_in_any_other() {
    // The quick path for wandb's usual item (one name field, then `value_json`, both under
    // 128 bytes) against the general one: the same items with every length written in two
    // bytes never take it. Names, values and layouts drawn at random; both decoders must make
    // the same records, counts and names of them.
    let long = "x".repeat(150);
    let names = [
        "train/grad_norm",
        "train/loss",
        "_step",
        "train/epoch",
        "_runtime",
        &long,
        "grad_norm",
    ];
    let mut rng = crate::demo::Rng::new(5);
    let mut below = |n: usize| (rng.next_u64() % n as u64) as usize;
    let (mut quick, mut general) = (
        RecordDecoder::new(&MetricSpec::gnorm()),
        RecordDecoder::new(&MetricSpec::gnorm()),
    );
    for step in 0..4000u64 {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..=below(6) {
            let name = names[below(names.len())].as_bytes();
            let value = match below(5) {
                0 => b"NaN".to_vec(),
                1 => step.to_string().into_bytes(),
                2 => format!("{}", step as f64 / 7.0).into_bytes(),
                3 => format!("{}1.5", "0".repeat(130)).into_bytes(),
                _ => b"\"text\"".to_vec(),
            };
            let layout = below(5);
            let build = |wide: bool| {
                let put = |n: u32, v: &[u8], o: &mut Vec<u8>| match wide {
                    true => wide_bytes(n, v, o),
                    false => encode::bytes(n, v, o),
                };
                let mut it = Vec::new();
                match layout {
                    // wandb's layout; `key` instead of `nested_key`; two values (the last
                    // counts); a typed double; a name in two parts.
                    0 => put(2, name, &mut it),
                    1 => put(1, name, &mut it),
                    2 => {
                        put(2, name, &mut it);
                        put(16, b"7", &mut it);
                    }
                    3 => {
                        put(2, name, &mut it);
                        it.push(6 << 3 | 1);
                        it.extend_from_slice(&(step as f64).to_le_bytes());
                    }
                    _ => {
                        put(2, b"train", &mut it);
                        put(2, name, &mut it);
                    }
                }
                if layout != 3 {
                    put(16, &value, &mut it);
                }
                it
            };
            encode::bytes(1, &build(false), &mut a);
            wide_bytes(1, &build(true), &mut b);
        }
        for (d, h) in [(&mut quick, a), (&mut general, b)] {
            let mut r = Vec::new();
            encode::bytes(2, &h, &mut r);
            d.record(&r);
        }
    }
    let (q, g) = (quick.take_batch(), general.take_batch());
    let records = |b: &Batch| b.steps.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>();
    assert!(q.steps.len() > 1000, "{}", q.steps.len());
    assert_eq!(records(&q), records(&g));
    assert_eq!((q.skipped, q.lines), (g.skipped, g.lines));
    assert_eq!(quick.seen, general.seen);
}
