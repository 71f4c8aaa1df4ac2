//! Checking the CRC-32s of a run of chunks at once, with one long CRC pass over their bytes.
//!
//! A chunk's CRC (zlib's CRC-32) covers its type byte and payload; wandb's chunks are ~50–250
//! bytes, where a CRC call costs mostly its set-up and final reduction. CRC is linear over
//! GF(2), so the CRC register after the whole run of chunks (headers included) can be
//! *predicted* from the stored CRCs and lengths alone, as if every chunk were intact: the sum
//! of what each chunk adds — its 6 header bytes (stored CRC, length) and the register its
//! bytes must give if intact (`stored CRC ⊕ ~0 ⊕ (~0 × x^(8n))`) — each shifted to the run's
//! end (`× x^(8d) mod P`: carry-less multiplications by a table of powers). One long CRC pass
//! over the same bytes (fast: long-buffer throughput) gives the actual register. When every
//! chunk is intact they are equal, always.
//!
//! What it does not detect: the difference of the two is the sum of every damaged chunk's CRC
//! error shifted to the run's end. Damage in a single chunk is always seen (its error is not
//! zero and a shift is invertible), so are identical errors in several chunks (no shift inside
//! a block is the identity); errors in two or more chunks that cancel each other out would be
//! missed — for random damage with a chance of 2^-32, the same as CRC-32 missing random
//! damage in one chunk. A run whose check fails is checked again chunk by chunk (exactly as
//! without this), so damage is always counted and skipped as before.

use std::sync::OnceLock;

/// zlib's CRC-32 polynomial, reflected (bit `k` is the coefficient of `x^(31-k)`).
const POLY: u32 = 0xEDB8_8320;

/// The longest shift needed: a chunk within a 32 KiB block.
const MAX_SHIFT: usize = super::framing::BLOCK as usize;

struct Tables {
    /// Slicing tables: `slice[k][b]` is the register holding byte `b` shifted over `k + 1`
    /// zero bytes.
    slice: [[u32; 256]; 4],
    /// `shift[n]` = `x^(8n) mod P`.
    shift: Vec<u32>,
    /// Whether the CPU multiplies carry-less (PCLMULQDQ).
    clmul: bool,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut slice = [[0u32; 256]; 4];
        for b in 0..256u32 {
            let mut c = b;
            for _ in 0..8 {
                c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            }
            slice[0][b as usize] = c;
        }
        for k in 1..4 {
            for b in 0..256 {
                let prev = slice[k - 1][b];
                slice[k][b] = (prev >> 8) ^ slice[0][(prev & 0xff) as usize];
            }
        }
        let mut shift = Vec::with_capacity(MAX_SHIFT + 1);
        let mut s = 0x8000_0000u32; // x^0
        for _ in 0..=MAX_SHIFT {
            shift.push(s);
            s = (s >> 8) ^ slice[0][(s & 0xff) as usize];
        }
        Tables {
            slice,
            shift,
            clmul: has_clmul(),
        }
    })
}

#[cfg(target_arch = "x86_64")]
fn has_clmul() -> bool {
    std::arch::is_x86_feature_detected!("pclmulqdq")
}

#[cfg(not(target_arch = "x86_64"))]
fn has_clmul() -> bool {
    false
}

impl Tables {
    /// The register `s` shifted over 4 zero bytes: `s × x^32 mod P`.
    #[inline(always)]
    fn shift4(&self, s: u32) -> u32 {
        self.slice[3][(s & 0xff) as usize]
            ^ self.slice[2][((s >> 8) & 0xff) as usize]
            ^ self.slice[1][((s >> 16) & 0xff) as usize]
            ^ self.slice[0][(s >> 24) as usize]
    }

    /// The register `s` shifted over 2 zero bytes.
    #[inline(always)]
    fn shift2(&self, s: u32) -> u32 {
        let s = (s >> 8) ^ self.slice[0][(s & 0xff) as usize];
        (s >> 8) ^ self.slice[0][(s & 0xff) as usize]
    }

    /// `a × b mod P` from their carry-less product `p` (of the two reflected 32-bit values).
    #[inline(always)]
    fn reduce(&self, p: u64) -> u32 {
        // Shifted left once, bit k is the coefficient of x^(63-k): the low half is the part
        // times x^32, reduced by a 4-byte shift; the high half is already reduced.
        let p = p << 1;
        self.shift4(p as u32) ^ (p >> 32) as u32
    }
}

/// Carry-less product of two 32-bit values, portable.
#[inline(always)]
fn clmul_soft(a: u32, b: u32) -> u64 {
    let a = u64::from(a);
    (0..32)
        .filter(|i| b >> i & 1 == 1)
        .fold(0u64, |r, i| r ^ (a << i))
}

/// The CRC register after feeding `bytes` to a register holding 0 (no pre- or post-inversion).
fn register_of(bytes: &[u8]) -> u32 {
    // crc32fast keeps the register inverted: an initial value of !0 is a register of 0.
    let mut h = crc32fast::Hasher::new_with_initial(!0);
    h.update(bytes);
    !h.finalize()
}

/// The longest run of whole chunks at the start of `b` (which begins at a chunk's start,
/// `block_left` bytes before its block ends): the chunks the framer would take one by one,
/// walked the same way (it stops at padding, an impossible header or bytes not there yet).
/// Returns `(checked, walked)`: the bytes of the run when the combined check holds (0 when it
/// does not, or when the run is shorter than two chunks), and the bytes walked.
pub fn verified_run(b: &[u8], block_left: usize) -> (usize, usize) {
    let t = tables();
    #[cfg(target_arch = "x86_64")]
    if t.clmul {
        // SAFETY: the CPU has PCLMULQDQ (checked at run time).
        return unsafe { verified_run_clmul(t, b, block_left) };
    }
    walk(t, b, block_left, clmul_soft)
}

/// Carry-less product of two 32-bit values, with PCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn clmul_hw(a: u32, b: u32) -> u64 {
    use std::arch::x86_64::*;
    let p = _mm_clmulepi64_si128(
        _mm_cvtsi64_si128(i64::from(a)),
        _mm_cvtsi64_si128(i64::from(b)),
        0,
    );
    _mm_cvtsi128_si64(p) as u64
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn verified_run_clmul(t: &Tables, b: &[u8], block_left: usize) -> (usize, usize) {
    #[allow(unused_unsafe)]
    // SAFETY: this function (and so the closure in it) runs with PCLMULQDQ enabled.
    walk(t, b, block_left, |a, c| unsafe { clmul_hw(a, c) })
}

#[inline(always)]
fn walk(
    t: &Tables,
    b: &[u8],
    block_left: usize,
    clmul: impl Fn(u32, u32) -> u64,
) -> (usize, usize) {
    use super::framing::CHUNK_HEADER;
    let mut at = 0usize;
    let mut chunks = 0usize;
    let end = b.len().min(block_left);
    // What every chunk adds to the register, shifted to `end` (not to the run's end, not
    // known yet: the whole prediction is shifted as far, which is invertible), summed
    // unreduced (reduction is linear): the chunks do not wait for each other.
    let mut predicted = 0u64;
    while end - at >= CHUNK_HEADER {
        let h = &b[at..at + CHUNK_HEADER];
        let crc = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let len16 = u16::from_le_bytes([h[4], h[5]]);
        let len = usize::from(len16);
        let kind = h[6];
        if (kind == 0 && len == 0 && crc == 0) || !(1..=4).contains(&kind) {
            break;
        }
        if CHUNK_HEADER + len > end - at {
            break;
        }
        // The register is fed the header's 6 bytes (CRC, length), then the n = 1 + len bytes
        // the CRC covers; what was in it before is shifted over all of them. What the chunk
        // adds: its header's bytes shifted over the n, and (intact) the register of its n
        // bytes, `CRC ⊕ ~0 ⊕ (~0 × x^(8n))`.
        let n = len + 1;
        let fed = t.shift2(t.shift4(crc) ^ u32::from(len16));
        let adds = t.reduce(clmul(fed ^ !0, t.shift[n])) ^ crc ^ !0;
        at += CHUNK_HEADER + len;
        predicted ^= clmul(adds, t.shift[end - at]);
        chunks += 1;
    }
    if chunks < 2 {
        return (0, at);
    }
    let actual = t.reduce(clmul(register_of(&b[..at]), t.shift[end - at]));
    (if actual == t.reduce(predicted) { at } else { 0 }, at)
}

/// CRC-32C's polynomial, reflected.
const CASTAGNOLI: u32 = 0x82F6_3B78;

/// `a × b mod P` for the reflected polynomial `poly`, bit by bit (portable).
fn multiply_mod(a: u32, mut b: u32, poly: u32) -> u32 {
    let mut m = 1u32 << 31;
    let mut p = 0;
    while m != 0 {
        if a & m != 0 {
            p ^= b;
        }
        m >>= 1;
        b = if b & 1 == 1 { (b >> 1) ^ poly } else { b >> 1 };
    }
    p
}

/// The CRC-32C of `A ‖ B` from the CRC-32Cs of `A` and of `B` and `B`'s length: the same as
/// `crc32c::crc32c_combine`, with `x^(8n) mod P` by squaring (some 40 multiplications)
/// instead of 32×32 matrices (the file's fingerprint is combined once a part).
pub fn crc32c_combine(a: u32, b: u32, len_b: usize) -> u32 {
    if len_b == 0 {
        // Nothing after `A` (as the crate: `b` is then taken for the CRC of nothing).
        return a;
    }
    let (mut shift, mut square) = (0x8000_0000u32, 0x0080_0000u32); // x^0, x^8
    let mut n = len_b as u64;
    while n != 0 {
        if n & 1 == 1 {
            shift = multiply_mod(shift, square, CASTAGNOLI);
        }
        square = multiply_mod(square, square, CASTAGNOLI);
        n >>= 1;
    }
    multiply_mod(a, shift, CASTAGNOLI) ^ b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::Rng;
    use crate::ingest::wandb::framing::{write, BLOCK, CHUNK_HEADER, MAGIC};

    #[test]
    fn crc32c_combines_as_the_crate_does() {
        let mut rng = Rng::new(77);
        let data: Vec<u8> = (0..3000).map(|_| rng.next_u64() as u8).collect();
        for _ in 0..200 {
            let i = rng.next_u64() as usize % data.len();
            let (a, b) = data.split_at(i);
            let (ca, cb) = (crc32c::crc32c(a), crc32c::crc32c(b));
            assert_eq!(crc32c_combine(ca, cb, b.len()), crc32c::crc32c(&data));
        }
        for n in [0usize, 1, 7, 1 << 20, 600_000_000, usize::MAX / 3] {
            let (a, b) = (rng.next_u64() as u32, rng.next_u64() as u32);
            assert_eq!(
                crc32c_combine(a, b, n),
                crc32c::crc32c_combine(a, b, n),
                "{n}"
            );
        }
    }

    #[test]
    fn the_arithmetic_matches_crc32fast() {
        let t = tables();
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
        let data: Vec<u8> = (0..5000).map(|_| rng.next_u64() as u8).collect();
        for _ in 0..300 {
            let i = rng.next_u64() as usize % data.len();
            let j = i + rng.next_u64() as usize % (data.len() - i);
            let k = j + rng.next_u64() as usize % (data.len() - j + 1);
            let (a, b) = (&data[i..j], &data[j..k]);
            // Linearity: register(A ‖ B) = register(A) × x^(8|B|) ⊕ register(B).
            let whole = register_of(&data[i..k]);
            for clmul in [clmul_soft as fn(u32, u32) -> u64, clmul_hw_or_soft] {
                let shifted = t.reduce(clmul(register_of(a), t.shift[b.len()]));
                assert_eq!(shifted ^ register_of(b), whole, "{i} {j} {k}");
            }
            // zlib's CRC is the register started at ~0, inverted.
            let z = t.reduce(clmul_soft(!0, t.shift[a.len()]));
            assert_eq!(register_of(a) ^ z ^ !0, crc32fast::hash(a));
        }
    }

    fn clmul_hw_or_soft(a: u32, b: u32) -> u64 {
        #[cfg(target_arch = "x86_64")]
        if has_clmul() {
            // SAFETY: the CPU has PCLMULQDQ (checked).
            return unsafe { clmul_hw(a, b) };
        }
        clmul_soft(a, b)
    }

    fn framed(rng: &mut Rng, records: usize) -> Vec<u8> {
        let recs: Vec<Vec<u8>> = (0..records)
            .map(|_| {
                let n = 1 + rng.next_u64() as usize % 400;
                (0..n).map(|_| rng.next_u64() as u8).collect()
            })
            .collect();
        write::frame(&recs)
    }

    #[test]
    fn intact_runs_pass_and_any_damaged_chunk_fails() {
        let mut rng = Rng::new(12345);
        let bytes = framed(&mut rng, 400);
        let start = MAGIC.len();
        let left = BLOCK as usize - start;
        let (ok, walked) = verified_run(&bytes[start..], left);
        assert!(ok > 0 && ok == walked);
        let block_end = BLOCK as usize;
        assert!(start + walked <= block_end && block_end - (start + walked) < CHUNK_HEADER + 400);
        // The portable multiplication gives the same.
        assert_eq!(
            walk(tables(), &bytes[start..], left, clmul_soft),
            (ok, walked)
        );
        // Any byte flipped in the run (header or payload) fails the check, or shortens the walk
        // (a damaged length or type ends it), never passes a damaged chunk.
        for _ in 0..500 {
            let mut bad = bytes.clone();
            let at = start + rng.next_u64() as usize % walked;
            bad[at] ^= 1 << (rng.next_u64() % 8);
            let (ok2, walked2) = verified_run(&bad[start..], left);
            assert!(
                ok2 == 0 || start + walked2 <= at,
                "byte {at}: {ok2} {walked2}"
            );
        }
        // Two chunks with the same damage, and bytes cut short.
        let mut bad = bytes.clone();
        bad[start + 10] ^= 4;
        let second = start
            + CHUNK_HEADER
            + usize::from(u16::from_le_bytes([bytes[start + 4], bytes[start + 5]]));
        bad[second + 10] ^= 4;
        assert_eq!(verified_run(&bad[start..], left).0, 0);
        let (ok3, walked3) = verified_run(&bytes[start..start + 1000], left);
        assert!(walked3 <= 1000 && (ok3 == walked3 || walked3 == 0 || ok3 == 0));
    }
}
