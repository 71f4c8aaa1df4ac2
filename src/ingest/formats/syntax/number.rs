//! Reading a logged number, correctly rounded (the same `f64` as `str::parse`, bit for bit),
//! fast for what logs and JSON writers print: a plain decimal or scientific token of up to 19
//! significant digits is converted in one pass over its bytes, with exact integer arithmetic
//! (no string checks, no second parse); anything else goes through the standard parser.

/// Powers of ten that are exact in an `f64` (Clinger's fast path) and in a `u64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Tokens longer than this are not numbers (as before: a run of digits is an id, not a value).
const MAX_TOKEN: usize = 40;

/// Parses a logged number: plain or scientific, optionally quoted, `%`-suffixed, or a
/// non-finite spelling (`nan`, `NaN`, `inf`, `-inf`, `Infinity`).
pub fn parse_number(tok: &[u8]) -> Option<f64> {
    // Nearly every logged value is a plain JSON number as it stands: no trimming, quotes or
    // `%` to take off first (the fast path accepts only `-`, digits, one `.` and an exponent,
    // which none of those steps would change).
    if tok.len() <= MAX_TOKEN {
        match plain_decimal(tok) {
            Plain::Value(v) => return Some(v),
            Plain::Std => return std_parse(tok),
            Plain::Other => {}
        }
    }
    let tok = super::trim_end(super::trim_start(tok));
    let tok = tok.strip_suffix(b"%").unwrap_or(tok);
    let tok = match tok {
        [q, inner @ .., q2] if q == q2 && (*q == b'"' || *q == b'\'') => inner,
        _ => tok,
    };
    if tok.is_empty() || tok.len() > MAX_TOKEN {
        return None;
    }
    match plain_decimal(tok) {
        Plain::Value(v) => Some(v),
        Plain::Std | Plain::Other => std_parse(tok),
    }
}

fn std_parse(tok: &[u8]) -> Option<f64> {
    // `f64::from_str` takes scientific notation and nan/inf/infinity in any case.
    std::str::from_utf8(tok).ok()?.parse::<f64>().ok()
}

/// What [`plain_decimal`] made of a token.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plain {
    /// The correctly rounded value.
    Value(f64),
    /// A plain number, but beyond the exact arithmetic here: the standard parser's.
    Std,
    /// Not `-?digits[.digits][(e|E)[+-]digits]`.
    Other,
}

/// Whether the 8 bytes of `v` (little-endian) are all ASCII digits.
#[inline]
fn eight_digits(v: u64) -> bool {
    ((v & 0xF0F0_F0F0_F0F0_F0F0)
        | ((v.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4))
        == 0x3333_3333_3333_3333
}

/// The number the 8 ASCII digits of `v` (little-endian: the first byte is the most
/// significant digit) spell: pairs, then quadruples, then the eight, in three multiplications.
#[inline]
fn eight_digit_value(v: u64) -> u64 {
    let v = v - 0x3030_3030_3030_3030;
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let lo = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let hi = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    lo.wrapping_add(hi) >> 32
}

/// Reads the digits of `b` from `i` on into `w` (eight at a time while they fit); returns
/// where they end, and whether `w` would overflow there (then the digit at the end is unread).
#[inline]
fn digits(b: &[u8], mut i: usize, w: &mut u64) -> (usize, bool) {
    while *w < 100_000_000_000 {
        let Some(chunk) = b.get(i..i + 8) else { break };
        let v = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        if !eight_digits(v) {
            break;
        }
        // w < 10^11: w·10^8 + 8 digits < 10^19, no overflow.
        *w = *w * 100_000_000 + eight_digit_value(v);
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        let d = c.wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        match w.checked_mul(10).and_then(|x| x.checked_add(u64::from(d))) {
            Some(x) => *w = x,
            None => return (i, true),
        }
        i += 1;
    }
    (i, false)
}

/// The exact conversion of `[-]digits[.digits][(e|E)[+-]digits]` (at least one digit before
/// the exponent) whose digits make a `u64` (at least 19 significant digits): the token is
/// `w × 10^q`, and `f64(w × 10^q)` is rounded once, exactly:
/// - `w ≤ 2^53`, `|q| ≤ 22`: both exact in `f64`, one IEEE multiplication or division
///   (Clinger's fast path);
/// - `0 ≤ q ≤ 19`: `w × 10^q` is an exact `u128`, cast once;
/// - `-27 ≤ q < 0`: `w × 10^q = (w·2^s / 5^-q) × 2^(q-s)`; the quotient to at least 56
///   bits (`5^27 < 2^63`, so `w·2^s` fits in a `u128`), the remainder folded into its last
///   bit (sticky), cast once (round-to-nearest-even sees exactly the bits that matter), then
///   scaled by `2^(q-s)` (exact: the result, at least `10^-27`, is a normal number). This
///   covers Python's `repr` of learning rates (`0.00011808077159824811`: `q = -20`).
fn plain_decimal(tok: &[u8]) -> Plain {
    let (neg, body) = match tok.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, tok),
    };
    let mut w: u64 = 0;
    let (mut i, overflow) = digits(body, 0, &mut w);
    if overflow {
        return finish_scan(body, i);
    }
    let mut count = i;
    let mut decimals = 0i32;
    if body.get(i) == Some(&b'.') {
        let (j, overflow) = digits(body, i + 1, &mut w);
        if overflow {
            return finish_scan(body, j);
        }
        decimals = (j - i - 1) as i32;
        count += j - i - 1;
        i = j;
    }
    if count == 0 {
        return Plain::Other;
    }
    let mut exp = 0i32;
    if i < body.len() {
        if !matches!(body[i], b'e' | b'E') {
            return Plain::Other;
        }
        // The exponent: a sign, then 1–4 digits (a longer one is left to the standard parser).
        let e = &body[i + 1..];
        let (negative, e) = match e.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, e),
        };
        if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
            return Plain::Other;
        }
        if e.len() > 4 {
            return Plain::Std;
        }
        exp = e.iter().fold(0, |n, d| n * 10 + i32::from(d - b'0'));
        if negative {
            exp = -exp;
        }
    }
    match exact(w, exp - decimals) {
        Some(v) => Plain::Value(if neg { -v } else { v }),
        None => Plain::Std,
    }
}

/// A token whose digits overflow a `u64`: still checked for being plain (so that what is not
/// a number stays not a number), then left to the standard parser.
fn finish_scan(body: &[u8], from: usize) -> Plain {
    let mut seen_dot = body[..from].contains(&b'.');
    for (j, &b) in body.iter().enumerate().skip(from) {
        match b {
            b'0'..=b'9' => {}
            b'.' if !seen_dot => seen_dot = true,
            b'e' | b'E' => {
                let e = &body[j + 1..];
                let e = e
                    .strip_prefix(b"-")
                    .or_else(|| e.strip_prefix(b"+"))
                    .unwrap_or(e);
                return if !e.is_empty() && e.iter().all(u8::is_ascii_digit) {
                    Plain::Std
                } else {
                    Plain::Other
                };
            }
            _ => return Plain::Other,
        }
    }
    Plain::Std
}

/// `f64(w × 10^q)`, correctly rounded, where the arithmetic here is exact (`None`: elsewhere).
fn exact(w: u64, q: i32) -> Option<f64> {
    if w == 0 {
        return Some(0.0);
    }
    if w <= 1 << 53 && (-22..=22).contains(&q) {
        let p = POW10[q.unsigned_abs() as usize];
        return Some(if q >= 0 { w as f64 * p } else { w as f64 / p });
    }
    if (0..=19).contains(&q) {
        let n = u128::from(w) * u128::from(10u64.pow(q as u32));
        return Some(n as f64);
    }
    if (-27..0).contains(&q) {
        let k = q.unsigned_abs();
        let d = 5u64.pow(k);
        let lw = 64 - w.leading_zeros() as i32;
        let ld = 64 - d.leading_zeros() as i32;
        // w·2^s ≥ 2^(lw-1+s) and d < 2^ld: the quotient has at least 56 bits (< 2^57);
        // w·2^s < 2^max(lw, 56+ld) ≤ 2^119.
        let s = (56 + ld - lw).max(0) as u32;
        let n = u128::from(w) << s;
        let (quot, rem) = (n / u128::from(d), n % u128::from(d));
        let sticky = u64::try_from(quot).ok()? | u64::from(rem != 0);
        // 2^-(s+k), s + k ≤ 118 + 27: a normal power of two.
        let scale = f64::from_bits(u64::from(1023 - (s + k)) << 52);
        return Some(sticky as f64 * scale);
    }
    None
}

#[cfg(test)]
#[path = "number_tests.rs"]
mod tests;
