//! Line framing and ANSI stripping. Must hold: the lines are the input's non-empty
//! `\n`/`\r`-separated pieces, whatever way the bytes arrive (no byte lost, none invented);
//! a line over `MAX_LINE` is dropped and counted, never kept; no ESC survives `strip_ansi`.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use trainwatch::ingest::framing::{strip_ansi, LineFramer, MAX_LINE};

fn frame(parts: &[&[u8]]) -> (Vec<Vec<u8>>, u64) {
    let mut lines = Vec::new();
    let mut f = LineFramer::new();
    for p in parts {
        f.push(p, |l| lines.push(l.to_vec()));
    }
    f.finish(|l| lines.push(l.to_vec()));
    (lines, f.overlong_lines())
}

fuzz_target!(|data: &[u8]| {
    // A first byte 0xff asks for the rest repeated past MAX_LINE: the over-long path.
    let grown;
    let input: &[u8] = match data.split_first() {
        Some((0xff, rest)) if !rest.is_empty() => {
            grown = rest.repeat(MAX_LINE / rest.len() + 2);
            &grown
        }
        _ => data,
    };
    let pieces: Vec<&[u8]> = input
        .split(|b| *b == b'\n' || *b == b'\r')
        .filter(|p| !p.is_empty())
        .collect();
    let expected: Vec<Vec<u8>> = pieces
        .iter()
        .filter(|p| p.len() <= MAX_LINE)
        .map(|p| p.to_vec())
        .collect();
    let overlong = pieces.iter().filter(|p| p.len() > MAX_LINE).count() as u64;

    let (whole, whole_over) = frame(&[input]);
    assert_eq!(whole, expected, "lines read whole");
    assert_eq!(whole_over, overlong, "over-long lines read whole");
    let (cut, cut_over) = frame(&common::pieces(input));
    assert_eq!(cut, expected, "lines read in pieces");
    assert_eq!(cut_over, overlong, "over-long lines read in pieces");

    let s = strip_ansi(data);
    assert!(!s.contains(&0x1b), "ESC left after strip_ansi");
    assert!(s.len() <= data.len());
    // Stripping is idempotent: what is left holds no sequence to remove.
    assert_eq!(strip_ansi(&s).as_ref(), s.as_ref());
});
