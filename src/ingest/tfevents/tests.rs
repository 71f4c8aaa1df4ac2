//! The event-file decoder on bytes written by [`encode`] (the TFRecord framing and the protobuf
//! layout TensorBoard's writer produces).

use super::proto::tensor_scalar;
use super::*;
use crate::ingest::follow::IngestEvent;
use crate::ingest::SourceSpec;
use crate::run::RunData;
use encode::record;

fn scalar_event(step: u64, tag: &str, v: f32) -> Vec<u8> {
    encode::scalar_event(1.5, step, tag, v)
}

#[test]
fn every_prefix_and_any_garbage_is_safe() {
    let mut bytes = Vec::new();
    for s in 0..20 {
        bytes.extend(record(&scalar_event(s, "train/grad_norm", s as f32)));
    }
    for cut in 0..bytes.len() {
        let mut d = EventDecoder::new(&MetricSpec::gnorm());
        d.feed(&bytes[..cut]);
        d.feed(&bytes[cut..]);
        assert_eq!(d.take_batch().steps.len(), 20, "cut at {cut}");
    }
    // Flip each byte: never a panic, at most one record lost per flip... or resynced.
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        let mut d = EventDecoder::new(&MetricSpec::gnorm());
        d.feed(&b);
        let batch = d.take_batch();
        assert!(
            batch.steps.len() >= 18,
            "flip at {i}: {}",
            batch.steps.len()
        );
        assert!(batch.skipped >= 1, "flip at {i}");
    }
}

/// Gradient norms and losses at every step, the loss logged before the norm at even steps and
/// after it at odd ones, so that a cut between two records meets both orders.
fn norms_and_losses(bytes: &mut Vec<u8>, steps: std::ops::Range<u64>) {
    for s in steps {
        let norm = record(&scalar_event(s, "train/grad_norm", s as f32));
        let loss = record(&scalar_event(s, "train/loss", 1.0 / s as f32));
        if s % 2 == 0 {
            bytes.extend(loss);
            bytes.extend(norm);
        } else {
            bytes.extend(norm);
            bytes.extend(loss);
        }
    }
}

fn decode(bytes: &[u8], threads: usize) -> (Batch, usize) {
    let mut d = EventDecoder::new(&MetricSpec::gnorm());
    d.feed_parallel(bytes, threads);
    let pending = d.pending_len();
    (d.take_batch(), pending)
}

#[test]
fn parallel_decoding_equals_sequential() {
    let mut bytes = Vec::new();
    let mut s = 0u64;
    while bytes.len() < (12 << 20) {
        s += 1;
        bytes.extend(record(&scalar_event(s, "gnorm", s as f32)));
    }
    // Damage two records in the middle and cut the last one in half.
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    bytes[mid / 2 + 3] ^= 0x10;
    bytes.truncate(bytes.len() - 5);
    let (a, pa) = decode(&bytes, 1);
    for threads in [2, 3, 4] {
        let (b, pb) = decode(&bytes, threads);
        assert_eq!(pa, pb);
        assert_eq!(a.steps, b.steps, "{threads} threads");
        assert_eq!((a.skipped, a.lines), (b.skipped, b.lines));
    }
    assert_eq!(a.skipped, 2);
    assert_eq!(a.steps.len() as u64, s - 3);
}

/// Issue 15: over 16 MiB, one torn record in the middle (a header claiming a whole record,
/// then the next record's bytes). Before the fix the sequential decoder lost the record after
/// the torn one (its claimed length ran into it) and the parallel one dropped the torn record
/// uncounted when a cut fell right after it: 324 401 points and 2 skipped on one CPU, 324 402
/// and 0 on two. Every complete record is read and the torn one counted once, whatever the
/// number of threads and wherever the tear falls relative to the cuts.
#[test]
fn a_torn_record_in_the_middle_reads_alike_on_any_number_of_threads() {
    let steps = 200_000u64;
    let mut records = Vec::new();
    for s in 1..=steps {
        let mut pair = Vec::new();
        norms_and_losses(&mut pair, s..s + 1);
        let first = pair.len() - record(&scalar_event(s, "train/loss", 0.0)).len();
        let first = if s % 2 == 0 {
            pair.len() - first
        } else {
            first
        };
        records.push(pair[..first].to_vec());
        records.push(pair[first..].to_vec());
    }
    let total: usize = records.iter().map(Vec::len).sum();
    // The record at which the first half of the file ends: two threads cut near there.
    let mut mid = 0;
    let mut offset = 0;
    while offset < total / 2 {
        offset += records[mid].len();
        mid += 1;
    }
    let full = record(&scalar_event(steps + 1, "train/grad_norm", 9.0));
    let torn = &full[..full.len() / 2];
    for shift in [-3isize, -1, 0, 1, 2] {
        // The tear just before the middle, at it, or just after (a cut right after it).
        let at = (mid as isize + shift) as usize;
        let mut bytes = Vec::with_capacity(total + torn.len());
        for r in &records[..at] {
            bytes.extend_from_slice(r);
        }
        bytes.extend_from_slice(torn);
        for r in &records[at..] {
            bytes.extend_from_slice(r);
        }
        assert!(bytes.len() > (16 << 20));
        let (a, pa) = decode(&bytes, 1);
        assert_eq!((a.skipped, pa), (1, 0), "tear {shift}");
        assert_eq!(a.steps.len() as u64, steps, "tear {shift}");
        assert!(a.steps.iter().all(|r| r.values[LOSS_COLUMN].is_some()));
        for threads in [2, 3] {
            let (b, pb) = decode(&bytes, threads);
            assert_eq!(pb, pa);
            assert_eq!(
                (b.skipped, b.lines),
                (a.skipped, a.lines),
                "{threads} threads"
            );
            assert!(a.steps == b.steps, "tear {shift}, {threads} threads");
        }
    }
}

/// Issue 15: the resync state was reset on every call, so 40 garbage bytes then one record
/// counted 1 skipped read whole and 9 read 5 bytes at a time.
#[test]
fn the_skip_count_does_not_depend_on_how_the_bytes_arrive() {
    let mut bytes: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
    bytes.extend(record(&scalar_event(3, "gnorm", 1.5)));
    for piece in 1..=bytes.len() {
        let mut d = EventDecoder::new(&MetricSpec::gnorm());
        for c in bytes.chunks(piece) {
            d.feed(c);
        }
        let b = d.take_batch();
        assert_eq!((b.steps.len(), b.skipped), (1, 1), "{piece}-byte pieces");
    }
}

/// Issue 15: a loss logged after the gradient norm at the same step was lost when the two
/// came in different batches — and it is what the explosion report shows.
#[test]
fn a_loss_after_the_norm_in_a_later_batch_is_kept() {
    let spec = SourceSpec::new("events.out.tfevents.1");
    let mut run = RunData::empty(&spec);
    let mut d = EventDecoder::new(&MetricSpec::gnorm());
    for s in 1..=3u64 {
        d.feed(&record(&scalar_event(s, "train/grad_norm", 0.5)));
        run.apply(IngestEvent::Batch(d.take_batch()));
        d.feed(&record(&scalar_event(s, "train/loss", s as f32)));
        run.apply(IngestEvent::Batch(d.take_batch()));
    }
    // Logged twice: the second is not given to the point again, nor a point of its own.
    d.feed(&record(&scalar_event(3, "train/loss", 7.0)));
    run.apply(IngestEvent::Batch(d.take_batch()));
    let s = run.primary();
    assert_eq!(s.len(), 3);
    for i in 0..3 {
        assert_eq!(s.loss(i), Some((i + 1) as f64), "point {i}");
    }
}

#[test]
fn claimed_huge_lengths_are_not_waited_for() {
    // A header whose CRC checks out but claims 1 TB: corrupt, skipped, the next record read.
    let len = (1u64 << 40).to_le_bytes();
    let mut b = len.to_vec();
    b.extend_from_slice(&masked_crc(&len).to_le_bytes());
    b.extend(record(&scalar_event(7, "gnorm", 1.0)));
    let mut d = EventDecoder::new(&MetricSpec::gnorm());
    d.feed(&b);
    assert_eq!(d.pending_len(), 0);
    let batch = d.take_batch();
    assert_eq!(batch.steps.len(), 1);
    assert_eq!(batch.skipped, 1);
    // Pseudo-random garbage of every length up to 2 KB: never a panic.
    let mut x = 0x9e3779b97f4a7c15u64;
    let junk: Vec<u8> = (0..2048)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    for n in (0..junk.len()).step_by(37) {
        let mut d = EventDecoder::new(&MetricSpec::gnorm());
        d.feed(&junk[..n]);
        let _ = d.take_batch();
        let _ = tensor_scalar(&junk[..n.min(64)]);
    }
}

#[test]
fn inline_crc_equals_the_crate() {
    let data: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
    for n in 0..data.len() {
        assert_eq!(crc32c(&data[..n]), crc32c::crc32c(&data[..n]), "{n}");
    }
}

#[test]
fn tag_last_component_matches() {
    let t = TagMatcher::new(&MetricSpec::gnorm());
    assert!(t.matches(b"train_inner/gnorm"));
    assert!(t.matches(b"train/gnorm"));
    assert!(t.matches(b"train/grad_norm"));
    assert!(!t.matches(b"train/loss"));
    assert_eq!(
        name_timestamp("events.out.tfevents.1700000000.host.1.0"),
        Some(1700000000)
    );
}

/// A panel's metric (the learning rate) logged before or after the norm at its step lands in
/// its column of that step's record, whichever comes first.
#[test]
fn a_panel_metric_joins_its_step_in_either_order() {
    let spec = MetricSpec::gnorm().with_panels(&["gnorm".into(), "loss".into(), "lr".into()]);
    let col = spec
        .companion_column(b"train/learning_rate")
        .expect("lr is a panel");
    let mut bytes = Vec::new();
    for s in 1..=4u64 {
        let norm = record(&scalar_event(s, "train/grad_norm", s as f32));
        let lr = record(&scalar_event(s, "train/learning_rate", s as f32 * 0.5));
        if s % 2 == 0 {
            bytes.extend(lr);
            bytes.extend(norm);
        } else {
            bytes.extend(norm);
            bytes.extend(lr);
        }
    }
    let mut d = EventDecoder::new(&spec);
    d.feed(&bytes);
    let b = d.take_batch();
    let lrs: Vec<Option<f64>> = b.steps.column(col).collect();
    assert_eq!(lrs, [Some(0.5), Some(1.0), Some(1.5), Some(2.0)]);
}
