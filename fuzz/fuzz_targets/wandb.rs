//! `.wandb` transaction logs: framing and records. Two modes, chosen by the first byte:
//! - raw bytes: the framer hands over the same records, and counts the same damage, whatever
//!   way the bytes arrive, holds at most one block plus the record being assembled, and the
//!   record decoder reads the same points twice;
//! - generated: the rest of the input is a list of history rows (step, value), framed as wandb
//!   frames them (records split across 32 KiB blocks included): every record comes back byte
//!   for byte, and the series has one point per row with its step and value.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use trainwatch::ingest::wandb::framing::{write, Framer, BLOCK};
use trainwatch::ingest::wandb::proto::encode;
use trainwatch::ingest::wandb::records::RecordDecoder;
use trainwatch::ingest::MetricSpec;

fn frame(parts: &[&[u8]]) -> (Vec<Vec<u8>>, Framer) {
    let mut f = Framer::new();
    let mut out = Vec::new();
    for p in parts {
        f.feed(p, &mut |r| out.push(r.to_vec()));
    }
    (out, f)
}

fn decode(records: &[Vec<u8>]) -> common::Summary {
    let mut d = RecordDecoder::new(&MetricSpec::gnorm());
    let mut s = common::Summary::default();
    for r in records {
        d.record(r);
    }
    s.add(&d.take_batch());
    s
}

/// A history record: `_step` and `train/grad_norm` (as nested keys), values as JSON.
fn history(step: u64, value: f64, pad: usize) -> Vec<u8> {
    let mut h = Vec::new();
    let mut item = Vec::new();
    encode::bytes(1, b"_step", &mut item);
    encode::bytes(16, step.to_string().as_bytes(), &mut item);
    encode::bytes(1, &item, &mut h);
    let mut item = Vec::new();
    encode::bytes(2, b"train", &mut item);
    encode::bytes(2, b"grad_norm", &mut item);
    encode::bytes(16, format!("{value:?}").as_bytes(), &mut item);
    encode::bytes(1, &item, &mut h);
    let mut item = Vec::new();
    encode::bytes(1, b"note", &mut item);
    encode::bytes(16, format!("\"{}\"", "x".repeat(pad)).as_bytes(), &mut item);
    encode::bytes(1, &item, &mut h);
    let mut r = Vec::new();
    encode::bytes(2, &h, &mut r);
    r
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let (whole, wf) = frame(&[rest]);
        let (cut, cf) = frame(&common::pieces(rest));
        assert_eq!(whole, cut, "records depend on how the bytes arrived");
        assert_eq!(wf.damage, cf.damage, "damage depends on how the bytes arrived");
        assert!(wf.pending() <= rest.len());
        let a = decode(&whole);
        assert_eq!(a, decode(&whole), "decoding twice");
        assert!(a.steps.len() + a.skipped as usize <= whole.len());
        return;
    }
    let mut rows = Vec::new();
    let mut records = Vec::new();
    for c in rest.chunks_exact(5) {
        let step = u16::from_le_bytes([c[0], c[1]]) as u64;
        let value = f32::from_bits((u16::from_le_bytes([c[2], c[3]]) as u32) << 16) as f64;
        // Now and then a long row, so records cross block boundaries.
        let pad = if c[4] > 250 { (c[4] as usize) * 300 } else { 0 };
        if value.is_finite() {
            rows.push((Some(step), Some(value.to_bits())));
            records.push(history(step, value, pad));
        }
    }
    let file = write::frame(&records);
    let (got, f) = frame(&common::pieces(&file));
    assert_eq!(got, records, "the framing lost or changed a record");
    assert_eq!(f.damage, Default::default());
    assert!(f.pending() < BLOCK as usize);
    let s = decode(&got);
    let points: Vec<_> = s.steps.iter().map(|(st, v)| (*st, v[0])).collect();
    assert_eq!(points, rows, "one point per history row");
});
