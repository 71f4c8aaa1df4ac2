//! The number parser against the standard one (`str::parse::<f64>`), bit for bit: the exact
//! paths must round exactly as it does, on random and on hard tokens.

use super::{digits, parse_number};

fn std(s: &str) -> Option<u64> {
    s.parse::<f64>().ok().map(f64::to_bits)
}

fn check(s: &str) {
    assert_eq!(parse_number(s.as_bytes()).map(f64::to_bits), std(s), "{s}");
}

/// A small deterministic generator (xorshift64*): the same cases every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn hard_tokens_round_as_the_standard_parser() {
    let cases = [
        // What wandb writes (json.dumps of floats: shortest round-trip, 16–17 digits).
        "2.030212882363883",
        "0.2938762036037637",
        "1.7961259908018906e+09",
        "3.00867456032544e-05",
        "6.002835156",
        // Halfway between two doubles, and just beside it.
        "9007199254740993",
        "9007199254740993.0",
        "9007199254740992.5",
        "9007199254740994.999",
        "18014398509481985",
        "18014398509481987",
        "1.0000000000000001110223024625156540",
        "0.10000000000000000555",
        "0.1000000000000000055511151231257827",
        "2.2250738585072011e-308",
        "2.2250738585072014e-308",
        "4.9406564584124654e-324",
        "5e-324",
        "2e-324",
        "1.7976931348623157e308",
        "1.7976931348623159e308",
        "1e309",
        "9999999999999999999",
        "99999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "1844674407370955161.5",
        "1234567890123456789e-19",
        "1234567890123456789e-20",
        "1234567890123456789e19",
        "1234567890123456789e20",
        "0.00000000001234567890123456789",
        "-0.0",
        "-0e10",
        "0e-9999",
        "1e-9999",
        "1e+0022",
        "1e23",
        "-1.5E-7",
        ".5e1",
        "-.5",
        "5.e3",
        "7.",
        // Not plain: the standard parser's answer, or none.
        "+1.5",
        "1e",
        "1e+",
        "e5",
        ".",
        "-",
        "--1",
        "1..2",
        "1.2.3",
        "1e5.5",
        "0x10",
        "nan",
        "-inf",
        "Infinity",
    ];
    for c in cases {
        check(c);
    }
}

#[test]
fn random_decimals_round_as_the_standard_parser() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300_000 {
        // 1–21 digits, a point somewhere (or none), an exponent sometimes.
        let n = 1 + rng.below(21) as usize;
        let mut s = String::new();
        if rng.below(4) == 0 {
            s.push('-');
        }
        let dot = rng.below(n as u64 + 2) as usize;
        for i in 0..n {
            if i == dot {
                s.push('.');
            }
            let d = if i == 0 && rng.below(3) == 0 {
                0
            } else {
                rng.below(10)
            };
            s.push(char::from(b'0' + d as u8));
        }
        if rng.below(3) == 0 {
            let e = rng.below(80) as i64 - 40;
            s.push_str(&format!("e{e}"));
        }
        check(&s);
    }
}

#[test]
fn shortest_spellings_of_random_doubles_round_trip() {
    let mut rng = Rng(42);
    for _ in 0..200_000 {
        let x = f64::from_bits(rng.next());
        if !x.is_finite() {
            continue;
        }
        // Rust's `{}` / `{:e}` (and Python's repr, which wandb writes): 17 digits at most.
        for s in [format!("{x}"), format!("{x:e}"), format!("{x:.16e}")] {
            if s.len() <= 40 {
                check(&s);
            }
        }
        // Values of the size that is logged (1e-12 … 1e12), in every spelling.
        let y =
            (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi(rng.below(25) as i32 - 12);
        for s in [
            format!("{y}"),
            format!("{y:e}"),
            format!("{y:.18}"),
            format!("{y:.17e}"),
        ] {
            if s.len() <= 40 {
                check(&s);
            }
        }
    }
}

#[test]
fn just_beside_midpoints_between_neighbouring_doubles() {
    // For x = m·2^(j-52) in [2^j, 2^(j+1)), the midpoint to its neighbour is
    // (2m+1)·2^(j-53): its first 19 digits (exactly, in integers) are just below it, one
    // more in the last digit is just above. The hardest cases for the rounding.
    let mut rng = Rng(7);
    for _ in 0..100_000 {
        let m = (1u128 << 52) | u128::from(rng.next() >> 12);
        let j = rng.below(21) as i32 - 10;
        let odd = 2 * m + 1;
        let shift = (53 - j) as u32;
        for f in (0..=22u32).rev() {
            let digits = (odd * 10u128.pow(f)) >> shift;
            if digits >= 10u128.pow(19) {
                continue;
            }
            check(&format!("{digits}e-{f}"));
            check(&format!("{}e-{f}", digits + 1));
            break;
        }
        // Integers: from 2^54 on the midpoints are whole numbers.
        let x = (1u64 << 63) | (rng.next() >> 1);
        let x = x & !0x7ff;
        for d in [0x3ffu64, 0x400, 0x401, 0xc00] {
            check(&(x + d).to_string());
        }
    }
}

#[test]
fn just_beside_midpoints_of_small_values() {
    // The same for values of 2^-70 … 2^-4 (learning rates, small losses), with as many digits
    // as fit below 10^19 and exponents down to -27: the quotient by a power of five.
    let mut rng = Rng(11);
    let mut deep = 0;
    for _ in 0..100_000 {
        let m = (1u128 << 52) | u128::from(rng.next() >> 12);
        let j = -(rng.below(67) as i32) - 4;
        let odd = 2 * m + 1;
        // (2m+1)·2^(j-53)·10^f = (2m+1)·5^f / 2^(53-j-f), 53 - j > 27 ≥ f.
        for f in (0..=27u32).rev() {
            let digits = (odd * 5u128.pow(f)) >> ((53 - j) as u32 - f);
            if digits >= 10u128.pow(19) {
                continue;
            }
            deep += usize::from(f >= 20 && digits >= 10u128.pow(17));
            check(&format!("{digits}e-{f}"));
            check(&format!("{}e-{f}", digits + 1));
            let point = format!("{digits:0>width$}", width = f as usize + 1);
            let (int, frac) = point.split_at(point.len() - f as usize);
            check(&format!("{int}.{frac}"));
            break;
        }
    }
    // Most of them have 18–19 digits after exponents of -20 and below.
    assert!(deep > 30_000, "{deep}");
}

#[test]
fn digits_read_as_one_by_one() {
    // Runs of digits of every length at every offset, between bytes that are not digits
    // (also 0xFA–0xFF, where the test's addition carries into the next byte).
    fn naive(b: &[u8], mut i: usize, w: &mut u64) -> (usize, bool) {
        while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            match w
                .checked_mul(10)
                .and_then(|x| x.checked_add(u64::from(c - b'0')))
            {
                Some(x) => *w = x,
                None => return (i, true),
            }
            i += 1;
        }
        (i, false)
    }
    let mut rng = Rng(99);
    let others = [b'.', b'e', b'/', b':', 0, 0xfa, 0xff, b' ', b'-'];
    for _ in 0..200_000 {
        let len = rng.below(30) as usize;
        let b: Vec<u8> = (0..len)
            .map(|_| match rng.below(5) {
                0 => others[rng.below(others.len() as u64) as usize],
                _ => b'0' + rng.below(10) as u8,
            })
            .collect();
        let i = rng.below(len as u64 + 1) as usize;
        let start = [0, 7, 99_999_999_999, 100_000_000_000][rng.below(4) as usize];
        let (mut a, mut n) = (start, start);
        assert_eq!(digits(&b, i, &mut a), naive(&b, i, &mut n), "{b:?} {i}");
        assert_eq!(a, n, "{b:?} {i}");
    }
}

#[test]
fn the_length_limit_stays() {
    // More than 40 bytes is not a number (a run of digits is an id), as before.
    let long = format!("0.{}1", "0".repeat(40));
    assert_eq!(parse_number(long.as_bytes()), None);
    assert_eq!(parse_number(b"  2.5  "), Some(2.5));
    assert_eq!(
        parse_number(b"\"2.030212882363883\""),
        Some(2.030212882363883)
    );
    assert_eq!(parse_number(b"12.5%"), Some(12.5));
}
