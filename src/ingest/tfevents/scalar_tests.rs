//! The one-scalar fast path and the copy-free feed, against the general decoder: on a real
//! event file (`wild/tfevents-100knock-nognorm`, written by PyTorch's `SummaryWriter`, see
//! MANIFEST.md) and on bytes written by [`encode`] in shapes the fast path must leave alone.

use super::proto::{Field, Fields};
use super::scalar::{scalar_event, Scalar};
use super::*;
use encode::{record, varint};

const SAMPLE: &str = "tfevents-100knock-nognorm/\
    events.out.tfevents.1719128706.WendanoMacBook-Air.local.67792.0";

fn sample() -> Option<Vec<u8>> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/samples/wild")
        .join(SAMPLE);
    std::fs::read(p).ok()
}

/// The payloads of a file's records (a well-formed file).
fn payloads(b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= b.len() {
        let mut l8 = [0u8; 8];
        l8.copy_from_slice(&b[at..at + 8]);
        let len = u64::from_le_bytes(l8) as usize;
        out.push(&b[at + 12..at + 12 + len]);
        at += 16 + len;
    }
    out
}

/// What the general field iterator reads from a one-scalar event.
fn general(ev: &[u8]) -> Option<Scalar<'_>> {
    let mut step = 0i64;
    let mut summary = None;
    for f in Fields::new(ev) {
        match f {
            Field::Varint(2, v) => step = v as i64,
            Field::Bytes(5, s) => summary = summary.or(Some(s)),
            _ => {}
        }
    }
    let value = Fields::new(summary?).find_map(|f| match f {
        Field::Bytes(1, v) => Some(v),
        _ => None,
    })?;
    let (mut tag, mut x) = (None, None);
    for f in Fields::new(value) {
        match f {
            Field::Bytes(1, t) => tag = Some(t),
            Field::Fixed32(2, v) => x = Some(f32::from_bits(v)),
            _ => {}
        }
    }
    Some(Scalar {
        step,
        tag: tag?,
        value: x?,
    })
}

#[test]
fn the_fast_path_reads_what_the_field_iterator_reads_on_a_real_file() {
    let Some(b) = sample() else {
        eprintln!("samples not found: skipped");
        return;
    };
    let events = payloads(&b);
    assert!(events.len() > 3000, "{}", events.len());
    let mut fast = 0;
    for ev in &events {
        if let Some(s) = scalar_event(ev) {
            assert_eq!(Some(s), general(ev));
            assert_ne!(s.value.to_bits(), 0);
            fast += 1;
        }
    }
    // Every record but the file-version event is one scalar.
    assert_eq!(fast, events.len() - 1, "of {}", events.len());
}

/// A summary value with the given fields (already encoded).
fn event_with(step: u64, summary: &[u8], trailer: &[u8]) -> Vec<u8> {
    let mut ev = vec![0x09];
    ev.extend_from_slice(&1.5f64.to_le_bytes());
    ev.push(0x10);
    varint(step, &mut ev);
    ev.push(0x2a);
    varint(summary.len() as u64, &mut ev);
    ev.extend_from_slice(summary);
    ev.extend_from_slice(trailer);
    ev
}

fn value(tag: &str, x: f32) -> Vec<u8> {
    let mut v = vec![0x0a];
    varint(tag.len() as u64, &mut v);
    v.extend_from_slice(tag.as_bytes());
    v.push(0x15);
    v.extend_from_slice(&x.to_le_bytes());
    let mut s = vec![0x0a];
    varint(v.len() as u64, &mut s);
    s.extend(v);
    s
}

#[test]
fn other_shapes_are_left_to_the_general_decoder() {
    let one = value("gnorm", 2.5);
    assert_eq!(
        scalar_event(&event_with(7, &one, &[])),
        Some(Scalar {
            step: 7,
            tag: b"gnorm",
            value: 2.5
        })
    );
    // Step 0 and wall time 0 are not on the wire.
    let mut bare = vec![0x2a, one.len() as u8];
    bare.extend_from_slice(&one);
    assert_eq!(scalar_event(&bare).map(|s| s.step), Some(0));
    // Two values in the summary, a field after the summary, a truncated value.
    let two = [value("loss", 1.0), value("gnorm", 2.0)].concat();
    assert_eq!(scalar_event(&event_with(7, &two, &[])), None);
    assert_eq!(scalar_event(&event_with(7, &one, &[0x10, 0x08])), None);
    assert_eq!(
        scalar_event(&event_with(7, &one[..one.len() - 1], &[])),
        None
    );
    // The decoder reads each of them as the general path does: the last step, both values.
    let mut d = EventDecoder::new(&MetricSpec::gnorm());
    d.feed(&record(&event_with(7, &two, &[])));
    d.feed(&record(&event_with(7, &one, &[0x10, 0x08])));
    let b = d.take_batch();
    let got: Vec<_> = b.steps.iter().map(|r| (r.step, r.values[0])).collect();
    assert_eq!(got, [(Some(7), Some(2.0)), (Some(8), Some(2.5))]);
    assert_eq!(
        b.steps.get(0).and_then(|r| r.values[LOSS_COLUMN]),
        Some(1.0)
    );
}

/// The sample's records with the norm's alias as tag (so that every record is charted),
/// repeated, with damage: a flipped byte, a torn record, junk.
fn damaged_stretch(min_len: usize) -> Option<Vec<u8>> {
    let b = sample()?;
    let mut out = Vec::new();
    let mut i = 0u64;
    while out.len() < min_len {
        for ev in payloads(&b) {
            i += 1;
            let tag = if i.is_multiple_of(3) {
                "train/loss"
            } else {
                "grad_norm"
            };
            let v = scalar_event(ev).map_or(1.0, |s| s.value);
            out.extend(record(&encode::scalar_event(1.0, i / 3, tag, v)));
            match i % 50_000 {
                100 => out.extend_from_slice(&[0u8; 13]),
                200 => {
                    let r = record(&encode::scalar_event(1.0, i, "grad_norm", 3.0));
                    out.extend_from_slice(&r[..r.len() - 6]);
                }
                300 => {
                    let n = out.len();
                    out[n - 10] ^= 0x40;
                }
                _ => {}
            }
        }
    }
    Some(out)
}

fn fed_in(bytes: &[u8], pieces: &[usize], threads: usize) -> (Batch, usize) {
    let mut d = EventDecoder::new(&MetricSpec::gnorm());
    let mut at = 0;
    let mut sizes = pieces.iter().cycle();
    while let Some(p) = sizes.next().filter(|_| at < bytes.len()) {
        let end = (at + p).min(bytes.len());
        d.feed_parallel(&bytes[at..end], threads);
        at = end;
    }
    let held = d.pending_len();
    (d.take_batch(), held)
}

#[test]
fn held_bytes_are_completed_without_copying_and_read_alike_however_the_bytes_arrive() {
    let Some(bytes) = damaged_stretch(20 << 20) else {
        eprintln!("samples not found: skipped");
        return;
    };
    let (whole, held) = fed_in(&bytes, &[bytes.len()], 1);
    assert!(whole.skipped >= 3, "{}", whole.skipped);
    assert!(whole.steps.len() > 250_000, "{}", whole.steps.len());
    // Small pieces, odd pieces, and big blocks decoded in parallel parts after a held tail.
    for (pieces, threads) in [
        (&[1usize, 3, 11, 12, 13, 50, 4093][..], 1),
        (&[65_536 + 7], 1),
        (&[(8 << 20) + 5], 2),
        (&[(8 << 20) - 3, 9 << 20], 3),
    ] {
        let small: Vec<u8>;
        let b = if pieces[0] < 100 {
            // Byte pieces over the whole stretch take long: the first 2 MB.
            small = bytes[..2 << 20].to_vec();
            &small[..]
        } else {
            &bytes[..]
        };
        let (got, h) = fed_in(b, pieces, threads);
        let (want, wh) = if b.len() == bytes.len() {
            (whole.clone(), held)
        } else {
            fed_in(b, &[b.len()], 1)
        };
        assert_eq!(h, wh, "{pieces:?}");
        assert_eq!(
            (got.skipped, got.lines),
            (want.skipped, want.lines),
            "{pieces:?}"
        );
        assert!(got.steps == want.steps, "{pieces:?} on {threads} threads");
    }
}
