//! The values of a series, a chunk at a time, each exactly the f64 the log gave: a text log
//! prints a few decimals (`gnorm=0.833`, `lr=0.0005`), and such a number is an integer over
//! a power of ten — 4 bytes; a learning rate held constant is one number for the chunk; a
//! float32 written out in full (Hugging Face's `grad_norm`) is its 4 bytes. Anything else
//! is kept as the 8 bytes it is. Every encoding is checked to give back the same bits.

use super::packed::Encoding;

const POW10: [f64; 10] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// Mantissas that stand for the non-finite values (f64's own NaN, ±inf).
const NAN: i32 = i32::MIN;
const INF: i32 = i32::MIN + 1;
const NEG_INF: i32 = i32::MIN + 2;

#[derive(Debug, Clone)]
pub enum ValueChunk {
    /// Every value the same (bits).
    Same {
        bits: u64,
        len: u32,
    },
    /// Value `i` is `mantissas[i] / 10^scale`.
    Decimal {
        scale: u8,
        mantissas: Vec<i32>,
    },
    /// Values that are float32s.
    Single(Vec<f32>),
    Double(Vec<f64>),
}

/// `v` as a mantissa over 10^scale, when that gives back `v` exactly.
fn decimal(v: f64, scale: u8) -> Option<i32> {
    let p = POW10[usize::from(scale)];
    let x = v * p;
    // The common case first: a finite value in range (NaN fails the comparison). The
    // nearest integer by truncation (no call to `round`); the check decides.
    if x.abs() < f64::from(i32::MAX) {
        let m = (x + 0.5f64.copysign(x)) as i32;
        return (m > NEG_INF && (f64::from(m) / p).to_bits() == v.to_bits()).then_some(m);
    }
    if v.to_bits() == f64::NAN.to_bits() {
        return Some(NAN);
    }
    if v.is_infinite() {
        return Some(if v > 0.0 { INF } else { NEG_INF });
    }
    let m = x.round();
    if !(f64::from(NEG_INF + 1)..=f64::from(i32::MAX)).contains(&m) {
        return None;
    }
    let m = m as i32;
    (undecimal(m, scale).to_bits() == v.to_bits()).then_some(m)
}

/// Every value as a mantissa over one power of ten (the fewest decimals that hold them all,
/// found as the values come), or `None`.
fn decimals(values: &[f64]) -> Option<(u8, Vec<i32>)> {
    let mut scale = 0u8;
    let mut out = Vec::with_capacity(values.len());
    'scale: loop {
        out.clear();
        for &v in values {
            match decimal(v, scale) {
                Some(m) => out.push(m),
                None => {
                    // More decimals, and the values so far again at that scale.
                    scale = (scale + 1..POW10.len() as u8).find(|&k| decimal(v, k).is_some())?;
                    continue 'scale;
                }
            }
        }
        return Some((scale, out));
    }
}

fn undecimal(m: i32, scale: u8) -> f64 {
    match m {
        NAN => f64::NAN,
        INF => f64::INFINITY,
        NEG_INF => f64::NEG_INFINITY,
        _ => f64::from(m) / POW10[usize::from(scale)],
    }
}

fn single(v: f64) -> Option<f32> {
    let f = v as f32;
    (f64::from(f).to_bits() == v.to_bits()).then_some(f)
}

impl Encoding for ValueChunk {
    type Item = f64;

    fn first(v: f64) -> Self {
        ValueChunk::Same {
            bits: v.to_bits(),
            len: 1,
        }
    }

    fn try_push(&mut self, v: f64) -> bool {
        match self {
            ValueChunk::Same { bits, len } if *bits == v.to_bits() => *len += 1,
            ValueChunk::Same { .. } => return false,
            ValueChunk::Decimal { scale, mantissas } => match decimal(v, *scale) {
                Some(m) => mantissas.push(m),
                None => return false,
            },
            ValueChunk::Single(s) => match single(v) {
                Some(f) => s.push(f),
                None => return false,
            },
            ValueChunk::Double(d) => d.push(v),
        }
        true
    }

    fn try_set(&mut self, i: usize, v: f64) -> bool {
        if self.get(i).map(f64::to_bits) == Some(v.to_bits()) {
            return true;
        }
        match self {
            ValueChunk::Same { .. } => false,
            ValueChunk::Decimal { scale, mantissas } => {
                match (decimal(v, *scale), mantissas.get_mut(i)) {
                    (Some(m), Some(slot)) => {
                        *slot = m;
                        true
                    }
                    _ => false,
                }
            }
            ValueChunk::Single(s) => match (single(v), s.get_mut(i)) {
                (Some(f), Some(slot)) => {
                    *slot = f;
                    true
                }
                _ => false,
            },
            ValueChunk::Double(d) => d.get_mut(i).map(|slot| *slot = v).is_some(),
        }
    }

    fn get(&self, i: usize) -> Option<f64> {
        match self {
            ValueChunk::Same { bits, len } => (i < *len as usize).then(|| f64::from_bits(*bits)),
            ValueChunk::Decimal { scale, mantissas } => {
                mantissas.get(i).map(|&m| undecimal(m, *scale))
            }
            ValueChunk::Single(s) => s.get(i).map(|&f| f64::from(f)),
            ValueChunk::Double(d) => d.get(i).copied(),
        }
    }

    fn len(&self) -> usize {
        match self {
            ValueChunk::Same { len, .. } => *len as usize,
            ValueChunk::Decimal { mantissas, .. } => mantissas.len(),
            ValueChunk::Single(s) => s.len(),
            ValueChunk::Double(d) => d.len(),
        }
    }

    fn encode(values: &[f64]) -> Self {
        if let Some(&v) = values.first() {
            if values.iter().all(|x| x.to_bits() == v.to_bits()) {
                return ValueChunk::Same {
                    bits: v.to_bits(),
                    len: values.len() as u32,
                };
            }
        }
        if let Some((scale, mantissas)) = decimals(values) {
            return ValueChunk::Decimal { scale, mantissas };
        }
        match values.iter().map(|&v| single(v)).collect() {
            Some(s) => ValueChunk::Single(s),
            None => ValueChunk::Double(values.to_vec()),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            ValueChunk::Same { .. } => 0,
            ValueChunk::Decimal { mantissas, .. } => mantissas.capacity() * 4,
            ValueChunk::Single(s) => s.capacity() * 4,
            ValueChunk::Double(d) => d.capacity() * 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::packed::{Packed, CHUNK};
    use super::*;

    /// The column against a plain `Vec`, bit for bit at every index (then sealed).
    fn check(values: &[f64]) -> Packed<ValueChunk> {
        let mut p = Packed::<ValueChunk>::default();
        for &v in values {
            p.push(v);
        }
        for (i, &v) in values.iter().enumerate() {
            assert_eq!(
                p.get(i).map(f64::to_bits),
                Some(v.to_bits()),
                "value {i}: {v}"
            );
        }
        assert_eq!(p.get(values.len()), None);
        // Read back from the open (plain) chunk above, from encoded chunks only here.
        p.seal();
        for (i, &v) in values.iter().enumerate() {
            assert_eq!(
                p.get(i).map(f64::to_bits),
                Some(v.to_bits()),
                "value {i}, sealed"
            );
        }
        p
    }

    #[test]
    fn printed_decimals_and_constants_take_four_bytes_or_none() {
        // fairseq's three decimals, a constant lr, HF's float32 norms: 4 bytes or fewer.
        let gnorm: Vec<f64> = (0..2 * CHUNK)
            .map(|i| {
                format!("{:.3}", 0.5 + (i % 977) as f64 * 0.00137)
                    .parse()
                    .unwrap()
            })
            .collect();
        assert!(check(&gnorm).heap_bytes() <= 4 * gnorm.len() + 256);
        let lr = vec![0.0005; 3 * CHUNK];
        assert!(check(&lr).heap_bytes() < 256);
        let hf: Vec<f64> = (0..CHUNK)
            .map(|i| f64::from(0.983_754_4_f32 + i as f32 * 1e-4))
            .collect();
        assert!(check(&hf).heap_bytes() <= 4 * hf.len() + 256);
    }

    #[test]
    fn every_value_reads_back_bit_for_bit() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut v: Vec<f64> = Vec::new();
        for i in 0..3 * CHUNK {
            let r = rand();
            v.push(match i % 13 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                3 => -0.0,
                4 => f64::from_bits(r), // any bits: NaN payloads, subnormals
                5 => (r % 1_000_000) as f64 / 1000.0,
                6 => 2.147_483_647e9,
                7 => 3_273_877.676,
                8 => 1e-9 * (r % 7) as f64,
                _ => (r % 5000) as f64 / 100.0,
            });
        }
        check(&v);
        // Decimals, then one value that needs more, then a NaN and one float that is none.
        let mut w: Vec<f64> = (0..CHUNK / 2).map(|i| i as f64 / 10.0).collect();
        w.extend([0.000123, f64::NAN, -f64::NAN, 0.1 + 0.2, 7.0]);
        w.extend((0..CHUNK).map(|i| i as f64));
        check(&w);
        check(&[]);
        check(&[f64::MAX, f64::MIN_POSITIVE, -1e300]);
    }

    #[test]
    fn set_rewrites_one_value_in_any_encoding() {
        let mut v = vec![1.5; CHUNK + 20];
        let mut p = check(&v);
        for (i, x) in [(3, 1.5), (4, 2.25), (5, 0.1 + 0.2), (CHUNK + 1, f64::NAN)] {
            p.set(i, x);
            v[i] = x;
        }
        for (i, &x) in v.iter().enumerate() {
            assert_eq!(p.get(i).map(f64::to_bits), Some(x.to_bits()), "value {i}");
        }
    }
}
