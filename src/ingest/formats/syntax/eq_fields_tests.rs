//! The `=` walk against each key's own search ([`first_of`]), on every line of the real
//! samples and on lines made to trip it.

use super::super::{first_of, Key, Sep};
use super::EqFields;
use crate::ingest::formats::{panels::LR_ALIASES, GNORM_ALIASES, LOSS_ALIASES, STEP_ALIASES};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples");

/// Key groups as the line parsers build them, and awkward ones.
fn group_sets() -> Vec<Vec<Vec<Key>>> {
    let whole = |names: &[&str]| names.iter().map(|n| Key::new(n)).collect::<Vec<_>>();
    let paths = |names: &[&str]| {
        names
            .iter()
            .map(|n| Key::path_suffix(n))
            .collect::<Vec<_>>()
    };
    vec![
        vec![
            paths(&GNORM_ALIASES),
            whole(&STEP_ALIASES),
            whole(&LOSS_ALIASES),
            whole(&LR_ALIASES),
            whole(&["ppl"]),
        ],
        vec![whole(&LOSS_ALIASES), whole(&STEP_ALIASES)],
        // Keys that overlap themselves, hold separators or nothing at all.
        vec![
            whole(&["a a", "aa", "a=a", ""]),
            paths(&["a/a", "aa", "b", "x-y"]),
            whole(&["=", "clip", "clip_norm", "a"]),
        ],
        // More keys than the walk has bits for, and more groups than it tracks.
        vec![whole(&["k"; 70])],
        (0..12)
            .map(|i| whole(&[["a", "b", "gnorm"][i % 3]]))
            .collect(),
    ]
}

fn same_as_first_of(lines: &[&[u8]]) -> usize {
    let mut compared = 0;
    for set in group_sets() {
        let refs: Vec<&[Key]> = set.iter().map(Vec::as_slice).collect();
        let fields = EqFields::new(&refs);
        let mut out = vec![None; set.len()];
        for line in lines {
            fields.find(line, &mut out);
            for (g, keys) in set.iter().enumerate() {
                assert_eq!(
                    out[g],
                    first_of(line, keys, Sep::Eq),
                    "group {g} of {:?} in {:?}",
                    keys.iter()
                        .map(|k| String::from_utf8_lossy(k.bytes()))
                        .collect::<Vec<_>>(),
                    String::from_utf8_lossy(line)
                );
                compared += 1;
            }
        }
    }
    compared
}

fn sample_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            sample_files(&p, out);
        } else if std::fs::metadata(&p).is_ok_and(|m| m.len() < 64 << 20) {
            out.push(p);
        }
    }
}

#[test]
fn every_line_of_every_sample_reads_as_with_one_search_per_key() {
    let mut files = Vec::new();
    sample_files(std::path::Path::new(SAMPLES), &mut files);
    let mut lines_with_eq = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n' || b == b'\r').collect();
        lines_with_eq += lines.iter().filter(|l| l.contains(&b'=')).count();
        same_as_first_of(&lines);
    }
    assert!(files.len() > 30, "{} sample files", files.len());
    assert!(lines_with_eq > 5000, "{lines_with_eq} lines with '='");
}

#[test]
fn lines_made_to_trip_the_walk_read_as_with_one_search_per_key() {
    let lines: Vec<&[u8]> = vec![
        b"",
        b"=",
        b"==",
        b"gnorm",
        b"gnorm=",
        b"=gnorm=1",
        b"gnorm=1.5",
        b"train_gnorm=1 gnorm=2",
        b"xgnorm=1, gnorm=2",
        b"gnorm=\"unclosed gnorm=3",
        b"gnorm=\"quoted\" gnorm=4",
        b"gnorm='q' gnorm=5",
        b"gnorm = 1 gnorm=6",
        b"gnorm=  7, loss= ,num_updates=",
        b"a/b/gnorm=1",
        b"/gnorm=1 a//gnorm=2 a/gnorm=3",
        b"train_inner/gnorm=0.4 gnorm=9",
        b"x.y-z/grad_norm=1 grad_norm/total=2",
        b"grad norm=3 grad_norm=4",
        b"train/grad_norm=1 grad_norm=2",
        b"optim/total_grad_norm=1",
        b"a a a=1",
        b"a aa=1 aaa=2 aa=3",
        b"a=a=1 a=a=a=2",
        b"a/a/a=1 a/a=2",
        b"aa/aa=1",
        b"x-y=1 b=2 a=3",
        b"==clip==1 clip_norm=2 =clip=3",
        b"k=1 kk=2",
        b"a=1 b=2 gnorm=3",
        b"loss=3.1, nll_loss=1.2, lm loss=4, train/loss=5",
        b"lm loss=1 loss=2",
        b"step=1 global_step=2 num_updates=3",
        b"current_steps=4 iteration=5 train/global_step=6",
        b"lr=1e-4 learning_rate=2 lr-AdamW=3 optim/lr=4",
        b"ppl=8.86 gnorm=inf loss=nan",
        b"\xff\xfe=gnorm=\x00 gnorm=\xff",
        b"2023-06-13 17:31:08 | INFO | train_inner | epoch 004:     85 / 282 loss=3.147, \
          nll_loss=1.236, glat_accu=0.518, ppl=8.86, wps=72384.3, ups=1.21, wpb=59997.9, \
          bsz=2186.3, num_updates=99600, lr=0.000157917, gnorm=0.402, clip=0, \
          loss_scale=32768, train_wall=48, wall=0",
        b"Namespace(arch='transformer', clip_norm=1.0, lr=[0.0005], loss='x')",
    ];
    assert!(same_as_first_of(&lines) > 500);
    // Every byte-pair of a small alphabet around the keys, exhaustively.
    let alphabet = b"a =/_\"gnorm1";
    let mut made: Vec<Vec<u8>> = Vec::new();
    for &x in alphabet {
        for &y in alphabet {
            for &z in alphabet {
                for stem in [&b"a"[..], b"aa", b"gnorm", b"a/a", b"clip"] {
                    let mut l = vec![x];
                    l.extend_from_slice(stem);
                    l.extend_from_slice(&[y, z]);
                    l.extend_from_slice(stem);
                    l.extend_from_slice(b"=1");
                    made.push(l);
                }
            }
        }
    }
    let made: Vec<&[u8]> = made.iter().map(Vec::as_slice).collect();
    same_as_first_of(&made);
}
