//! TensorBoard event files. Two modes, chosen by the first byte:
//! - raw bytes: the decoder never panics, holds at most what it was given, and reads the same
//!   gradient-norm points whatever way the bytes arrive;
//! - generated: the rest of the input is a list of scalar events written as a real event file
//!   (optionally with garbage and a torn record spliced in): the series has exactly one point
//!   per gradient-norm event, in order, with its value.
//!
//! Both modes also check that the skipped-record count and the loss column do not depend on
//! how the bytes arrive (issue 15's event-file bugs), and that a good record after damage is
//! kept.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use trainwatch::ingest::tfevents::{encode, EventDecoder};
use trainwatch::ingest::MetricSpec;

const TAGS: [&str; 5] = ["train/grad_norm", "gnorm", "train/loss", "lr", "eval/grad_norm_x"];

fn decode(parts: &[&[u8]]) -> (common::Summary, usize) {
    let mut d = EventDecoder::new(&MetricSpec::gnorm());
    let mut s = common::Summary::default();
    let mut given = 0;
    for p in parts {
        d.feed(p);
        given += p.len();
        assert!(d.pending_len() <= given, "holds more than it was given");
        s.add(&d.take_batch());
    }
    (s.settled(), d.pending_len())
}

fn metric_only(s: &common::Summary) -> Vec<(Option<u64>, Option<u64>)> {
    s.steps.iter().map(|(st, v)| (*st, v[0])).collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let (whole, pending) = decode(&[rest]);
        let (cut, cut_pending) = decode(&common::pieces(rest));
        assert_eq!(metric_only(&whole), metric_only(&cut), "points depend on the chunking");
        assert_eq!(pending, cut_pending);
        assert_eq!(whole, cut, "records or skipped count depend on the chunking");
        return;
    }
    // Generated: 6 bytes per event (tag, step u16, value f16-ish as u16 → f32, garbage).
    let mut file = Vec::new();
    let mut expected = Vec::new();
    for ev in rest.chunks_exact(6) {
        let tag = TAGS[ev[0] as usize % TAGS.len()];
        let step = u16::from_le_bytes([ev[1], ev[2]]) as u64;
        let value = f32::from_bits((u16::from_le_bytes([ev[3], ev[4]]) as u32) << 16);
        let rec = encode::record(&encode::scalar_event(1.0, step, tag, value));
        match ev[5] {
            // Garbage between records: resynchronised over, the next record still read.
            0 => file.extend_from_slice(&[0xAB; 13]),
            // A torn record: its header, then the next record.
            1 => file.extend_from_slice(&rec[..rec.len() / 2]),
            _ => {}
        }
        file.extend_from_slice(&rec);
        if tag.ends_with("grad_norm") || tag == "gnorm" {
            expected.push((Some(step), Some((value as f64).to_bits())));
        }
    }
    let (whole, pending) = decode(&[&file]);
    let damaged = rest.chunks_exact(6).any(|e| e[5] <= 1);
    if !damaged {
        assert_eq!(pending, 0, "a file of whole records leaves nothing held");
        assert_eq!(metric_only(&whole), expected, "one point per gradient-norm event");
        assert_eq!(whole.skipped, 0);
    } else {
        assert_eq!(metric_only(&whole), expected, "a good record after damage is lost");
    }
    let (cut, _) = decode(&common::pieces(&file));
    assert_eq!(metric_only(&whole), metric_only(&cut), "points depend on the chunking");
    assert_eq!(whole, cut, "records or skipped count depend on the chunking");
});
