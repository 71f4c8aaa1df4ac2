//! The parallel read gives exactly the sequential one: on the real sample run (written by
//! wandb 0.31.0, `../shared/samples/wandb-offline/`) cut into many parts, and on framed
//! records built here whose parts begin inside split records and on damaged chunks.

use super::*;
use crate::core::Batch;
use crate::ingest::wandb::framing::{write, Damage, CHUNK_HEADER};
use crate::ingest::wandb::proto::encode;
use crate::ingest::wandb::RunInfo;
use crate::ingest::MetricSpec;

#[test]
fn cuts_fall_on_block_boundaries() {
    let c = cuts(7, 3 * MIN_PART, 3, MIN_PART);
    assert_eq!(c.len(), 4);
    assert!(c[1..3]
        .iter()
        .all(|&o| (7 + o as u64).is_multiple_of(BLOCK)));
    assert_eq!(cuts(7, MIN_PART, 8, MIN_PART), [0, MIN_PART]);
    assert_eq!(cuts(7, 10 * MIN_PART, 1, MIN_PART), [0, 10 * MIN_PART]);
}

/// Everything a read produced, values by their bits (NaN included).
#[derive(Debug, PartialEq)]
struct Outcome {
    points: Vec<(Option<u64>, Vec<Option<u64>>)>,
    counts: (u64, u64, Option<u64>),
    damage: Damage,
    info: RunInfo,
    seen: Vec<String>,
    pending: usize,
    position: u64,
}

fn outcome(framer: &Framer, dec: &mut RecordDecoder) -> Outcome {
    let b: Batch = dec.take_batch();
    let points = (0..b.steps.len())
        .filter_map(|i| b.steps.get(i))
        .map(|r| {
            (
                r.step,
                r.values.iter().map(|v| v.map(f64::to_bits)).collect(),
            )
        })
        .collect();
    Outcome {
        points,
        counts: (b.skipped, b.lines, b.clip_declared.map(f64::to_bits)),
        damage: framer.damage,
        info: dec.info.clone(),
        seen: dec.seen.clone(),
        pending: framer.pending(),
        position: framer.position(),
    }
}

/// Reads `bytes` fed in `pieces` (their lengths; the rest in one), one go or in parts.
fn read(bytes: &[u8], pieces: &[usize], parts: Option<(usize, usize)>) -> Outcome {
    let mut framer = Framer::new();
    let mut dec = RecordDecoder::new(&MetricSpec::gnorm());
    let mut rest = bytes;
    let mut feed = |b: &[u8]| match parts {
        Some((threads, min_part)) => feed_in(&mut framer, &mut dec, b, threads, min_part),
        None => framer.feed(b, &mut |r| dec.record(r)),
    };
    for &n in pieces {
        let n = n.min(rest.len());
        feed(&rest[..n]);
        rest = &rest[n..];
    }
    feed(rest);
    outcome(&framer, &mut dec)
}

fn assert_same(bytes: &[u8], pieces: &[usize], min_part: usize) -> Outcome {
    let one = read(bytes, pieces, None);
    for threads in 2..=7 {
        let par = read(bytes, pieces, Some((threads, min_part)));
        assert_eq!(par, one, "{threads} parts of at least {min_part} bytes");
    }
    one
}

#[test]
fn the_real_run_in_parts_is_the_run_in_one_go() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/samples/wandb-offline/offline-run-20261201_071111-odlwprk3/run-odlwprk3.wandb"
    );
    let bytes = std::fs::read(path).expect("the shared W&B sample");
    for pieces in [&[][..], &[3], &[100_000, 1], &[7, 65_536 * 2 - 7]] {
        let got = assert_same(&bytes, pieces, 40 << 10);
        assert_eq!(got.points.len(), 1000);
        assert_eq!(got.damage, Damage::default());
        assert!(got.info.finished);
    }
}

/// A history record: `_step`, the gradient norm and `samples/text` padding it to `pad`.
fn history(step: u64, pad: usize) -> Vec<u8> {
    let item = |name: &str, json: &[u8]| {
        let mut i = Vec::new();
        encode::bytes(2, name.as_bytes(), &mut i);
        encode::bytes(16, json, &mut i);
        i
    };
    let mut h = Vec::new();
    encode::bytes(1, &item("_step", step.to_string().as_bytes()), &mut h);
    let g = if step.is_multiple_of(97) {
        "NaN".to_string()
    } else {
        format!("{}", 0.1 * step as f64)
    };
    encode::bytes(1, &item("train/grad_norm", g.as_bytes()), &mut h);
    let text = format!("\"{}\"", "x".repeat(pad));
    encode::bytes(
        1,
        &item(&format!("samples/text{}", step % 5), text.as_bytes()),
        &mut h,
    );
    let mut r = Vec::new();
    encode::uint(1, step, &mut r);
    encode::bytes(2, &h, &mut r);
    r
}

/// About 2 MB: small records between ones that span two to four blocks.
fn framed() -> Vec<u8> {
    let recs: Vec<Vec<u8>> = (1..=400u64)
        .map(|s| {
            history(
                s,
                if s % 3 == 0 {
                    20_000 + (s as usize * 7919) % 90_000
                } else {
                    300
                },
            )
        })
        .collect();
    write::frame(&recs)
}

/// The chunk type at each block's start (the first chunk of every block).
fn block_starts(b: &[u8]) -> Vec<(usize, u8)> {
    (1..b.len() / BLOCK as usize)
        .map(|k| k * BLOCK as usize)
        .filter(|&o| o + CHUNK_HEADER <= b.len())
        .map(|o| (o, b[o + 6]))
        .collect()
}

#[test]
fn parts_that_begin_inside_split_records() {
    let b = framed();
    let starts = block_starts(&b);
    // The cut lands on a middle and on a last chunk for some part counts.
    let kinds: Vec<u8> = (2..=7)
        .flat_map(|t| cuts(7, b.len() - 7, t, 64 << 10))
        .filter_map(|c| starts.iter().find(|s| s.0 == c + 7).map(|s| s.1))
        .collect();
    assert!(kinds.contains(&3) && kinds.contains(&4), "{kinds:?}");
    let got = assert_same(&b, &[], 64 << 10);
    assert_eq!(got.points.len(), 400);
    assert_same(&b, &[1 << 20], 64 << 10);
    // Torn: the file ends inside a split record.
    let torn = assert_same(&b[..b.len() - 50_000], &[], 64 << 10);
    assert!(torn.pending > 0);
}

#[test]
fn damage_at_the_cuts_counts_the_same() {
    let clean = framed();
    // The blocks where some part count cuts.
    let mut at_cuts: Vec<usize> = (2..=7)
        .flat_map(|t| cuts(7, clean.len() - 7, t, 64 << 10))
        .map(|c| c + 7)
        .filter(|&o| o % BLOCK as usize == 0 && o + CHUNK_HEADER < clean.len())
        .collect();
    at_cuts.sort_unstable();
    at_cuts.dedup();
    assert!(at_cuts.len() >= 10);
    let starts = block_starts(&clean);
    for (at, kind) in starts.into_iter().filter(|s| at_cuts.contains(&s.0)) {
        // A bad CRC at a block's start (the cut of some part count), and a second one in
        // the same block (whose rest is then skipped).
        let mut b = clean.clone();
        b[at + CHUNK_HEADER] ^= 0x55;
        assert_same(&b, &[], 64 << 10);
        let len = u16::from_le_bytes([b[at + 4], b[at + 5]]) as usize;
        if at + 2 * CHUNK_HEADER + len + 1 < b.len() && kind != 2 {
            b[at + 2 * CHUNK_HEADER + len] ^= 0x55;
            assert_same(&b, &[], 64 << 10);
        }
        // An impossible header at a block's start.
        let mut b = clean.clone();
        b[at + 4] = 0xff;
        b[at + 5] = 0xff;
        let got = assert_same(&b, &[], 64 << 10);
        assert!(got.damage.bad_crc >= 1, "{kind}");
    }
}

/// Reads the file at `path` through [`FileStretch`] in `piece`-byte reads, `len` bytes asked
/// for, in parts of at least `min_part` bytes on `threads` (1: the serial path), with or
/// without its fingerprint.
fn read_file(
    path: &std::path::Path,
    len: usize,
    (piece, threads, min_part): (usize, usize, usize),
    fingerprint: bool,
) -> (Outcome, usize, u32) {
    let file = File::open(path).unwrap();
    let src = FileStretch {
        file: &file,
        at: 0,
        piece,
        fingerprint,
    };
    let mut framer = Framer::new();
    let mut dec = RecordDecoder::new(&MetricSpec::gnorm());
    let mut taken_in = 0;
    let (n, crc) = feed_stretch(
        &mut framer,
        &mut dec,
        &src,
        len,
        threads,
        min_part,
        &mut |_, _| taken_in += 1,
    )
    .unwrap();
    // Parts cut from the stretch past its first block are handed on one by one.
    assert!(
        threads == 1 || taken_in >= (len - BLOCK as usize) / min_part / 2,
        "{taken_in}"
    );
    let got = outcome(&framer, &mut dec);
    (got, n, crc)
}

#[test]
fn parts_reading_the_file_in_small_pieces_give_the_run_in_one_go() {
    // The file is read by the parts themselves (the path a long `.wandb` takes): pieces far
    // smaller than a block and not dividing it, cuts inside split records, a file that ends
    // before the length asked for (it was cut meanwhile) and inside a record.
    let dir = tempfile::tempdir().unwrap();
    let b = framed();
    for (name, bytes) in [("whole", &b[..]), ("torn", &b[..b.len() - 50_000])] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let one = read(bytes, &[], None);
        for (piece, threads) in [(1000, 2), (4093, 3), (PIECE, 5), (1 << 20, 7)] {
            // A one-shot read skips the fingerprint and reads exactly the same run.
            for fingerprint in [true, false] {
                let len = bytes.len() + 12_345;
                let (got, n, crc) = read_file(&path, len, (piece, threads, 64 << 10), fingerprint);
                assert_eq!(
                    got, one,
                    "{name}: {threads} parts reading {piece} B at a time ({fingerprint})"
                );
                assert_eq!(n, bytes.len(), "{name}: bytes read");
                let want = if fingerprint {
                    crc32c::crc32c(bytes)
                } else {
                    0
                };
                assert_eq!(crc, want, "{name}: the fingerprint ({fingerprint})");
            }
        }
    }
}
