//! The inner loops of the similarity pass, chosen once per process: portable Rust, or
//! AVX2+FMA+F16C on x86-64 CPUs that have them (every x86-64 CPU with AVX2 has F16C). The default x86-64 target assumes only SSE2, and the portable
//! f64 reductions do not vectorise well (f64 addition is not reassociated on its own), so the
//! explicit kernels are worth ~2× on the 128 MiB benchmark table.
//!
//! Sums use several independent accumulators, so results differ from a left-to-right sum in
//! the last bits only (far below the 1e-6 the tests demand).

use std::sync::OnceLock;

use crate::tensor::Dtype;

/// Function table; every entry is safe to call (the SIMD ones are only installed after the CPU
/// was checked).
#[derive(Clone, Copy)]
pub(crate) struct Kernels {
    /// Decodes a row into `out` and returns its sum of squares. (It and `axpy` are what the
    /// map's pass ran before `row_kernels`, which the tests hold to their bits.)
    #[cfg_attr(not(test), allow(dead_code))]
    pub decode_sumsq: fn(&[u8], Dtype, &mut [f64]) -> f64,
    /// `acc += s · x`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub axpy: fn(&mut [f64], &[f64], f64),
    /// Hints the CPU to start loading `bytes` (the next row) into cache.
    pub prefetch: fn(&[u8]),
    /// `a · b`.
    pub dot: fn(&[f64], &[f64]) -> f64,
}

pub(crate) fn kernels() -> &'static Kernels {
    static K: OnceLock<Kernels> = OnceLock::new();
    K.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            return x86::KERNELS;
        }
        PORTABLE
    })
}

pub(crate) const PORTABLE: Kernels = Kernels {
    decode_sumsq: |src, dtype, out| {
        decode_into(src, dtype, out);
        dot(out, out)
    },
    axpy,
    prefetch: |_| {},
    dot,
};

/// Little-endian decode of one row; `src` may be unaligned (no casts to &[f32]).
pub(crate) fn decode_into(src: &[u8], dtype: Dtype, out: &mut [f64]) {
    match dtype {
        Dtype::F32 => {
            for (o, c) in out.iter_mut().zip(src.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64;
            }
        }
        Dtype::F64 => {
            for (o, c) in out.iter_mut().zip(src.chunks_exact(8)) {
                *o = f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            }
        }
        Dtype::F16 => {
            for (o, c) in out.iter_mut().zip(src.chunks_exact(2)) {
                *o = half::f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f64();
            }
        }
        Dtype::BF16 => {
            for (o, c) in out.iter_mut().zip(src.chunks_exact(2)) {
                // bf16 is the top half of an f32: exact.
                *o = f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16) as f64;
            }
        }
        // TableView::new admits only the four types above.
        _ => out.fill(f64::NAN),
    }
}

/// 8 independent accumulators so the compiler may vectorise.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

fn axpy(acc: &mut [f64], x: &[f64], s: f64) {
    for (a, v) in acc.iter_mut().zip(x) {
        *a += v * s;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{decode_into, Dtype, Kernels};

    // The wrappers below are safe fns around `unsafe` target-feature fns: they are reachable
    // only through KERNELS, which `kernels()` installs after detecting AVX2, FMA and F16C.
    pub(super) const KERNELS: Kernels = Kernels {
        // SAFETY (all three): AVX2+FMA+F16C detected before KERNELS is installed.
        decode_sumsq: |src, dtype, out| unsafe {
            match dtype {
                Dtype::F32 => decode_sumsq_f32(src, out),
                Dtype::F16 => decode_sumsq_half::<true>(src, out),
                Dtype::BF16 => decode_sumsq_half::<false>(src, out),
                _ => {
                    decode_into(src, dtype, out);
                    dot(out, out)
                }
            }
        },
        axpy: |acc, x, s| unsafe { axpy(acc, x, s) },
        prefetch,
        // SAFETY: as above.
        dot: |a, b| unsafe { dot(a, b) },
    };

    fn prefetch(bytes: &[u8]) {
        for line in bytes.chunks(64) {
            // SAFETY: prefetch is a hint; the pointer is in bounds and never dereferenced.
            #[allow(unused_unsafe)]
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(line.as_ptr() as *const i8)
            };
        }
    }

    fn hsum(v: __m256d) -> f64 {
        let mut lanes = [0.0f64; 4];
        // SAFETY: `lanes` holds 4 f64; unaligned store.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), v) };
        (lanes[0] + lanes[2]) + (lanes[1] + lanes[3])
    }

    /// Decode F32 bytes (any alignment) to f64 and sum squares, 8 values per step.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn decode_sumsq_f32(src: &[u8], out: &mut [f64]) -> f64 {
        let n = out.len().min(src.len() / 4);
        let (mut a0, mut a1) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: i + 8 ≤ n, so bytes [4i, 4i+32) and out[i..i+8] are in bounds.
            let p = src.as_ptr().add(4 * i) as *const f32;
            let v0 = _mm256_cvtps_pd(_mm_loadu_ps(p));
            let v1 = _mm256_cvtps_pd(_mm_loadu_ps(p.add(4)));
            _mm256_storeu_pd(out.as_mut_ptr().add(i), v0);
            _mm256_storeu_pd(out.as_mut_ptr().add(i + 4), v1);
            a0 = _mm256_fmadd_pd(v0, v0, a0);
            a1 = _mm256_fmadd_pd(v1, v1, a1);
            i += 8;
        }
        let mut s = hsum(_mm256_add_pd(a0, a1));
        while i < n {
            let c = &src[4 * i..4 * i + 4];
            let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64;
            out[i] = v;
            s += v * v;
            i += 1;
        }
        s
    }

    /// Eight 16-bit floats at `p` (any alignment) as two f64x4: F16 via F16C, BF16 by shifting
    /// into the top half of an f32 (exact).
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn load8_half<const F16: bool>(p: *const u8) -> (__m256d, __m256d) {
        let raw = _mm_loadu_si128(p as *const __m128i);
        let f = if F16 {
            _mm256_cvtph_ps(raw)
        } else {
            _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(raw)))
        };
        (
            _mm256_cvtps_pd(_mm256_castps256_ps128(f)),
            _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(f)),
        )
    }

    fn half_scalar<const F16: bool>(c: &[u8]) -> f64 {
        let bits = u16::from_le_bytes([c[0], c[1]]);
        if F16 {
            half::f16::from_bits(bits).to_f64()
        } else {
            f32::from_bits((bits as u32) << 16) as f64
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn decode_sumsq_half<const F16: bool>(src: &[u8], out: &mut [f64]) -> f64 {
        let n = out.len().min(src.len() / 2);
        let (mut a0, mut a1) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: i + 8 ≤ n bounds bytes [2i, 2i + 16) and out[i..i + 8].
            let (v0, v1) = load8_half::<F16>(src.as_ptr().add(2 * i));
            _mm256_storeu_pd(out.as_mut_ptr().add(i), v0);
            _mm256_storeu_pd(out.as_mut_ptr().add(i + 4), v1);
            a0 = _mm256_fmadd_pd(v0, v0, a0);
            a1 = _mm256_fmadd_pd(v1, v1, a1);
            i += 8;
        }
        let mut s = hsum(_mm256_add_pd(a0, a1));
        while i < n {
            let v = half_scalar::<F16>(&src[2 * i..2 * i + 2]);
            out[i] = v;
            s += v * v;
            i += 1;
        }
        s
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn axpy(acc: &mut [f64], x: &[f64], s: f64) {
        let n = acc.len().min(x.len());
        let sv = _mm256_set1_pd(s);
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: i + 8 ≤ n bounds both slices.
            let (pa, px) = (acc.as_mut_ptr().add(i), x.as_ptr().add(i));
            let r0 = _mm256_fmadd_pd(_mm256_loadu_pd(px), sv, _mm256_loadu_pd(pa));
            let r1 = _mm256_fmadd_pd(_mm256_loadu_pd(px.add(4)), sv, _mm256_loadu_pd(pa.add(4)));
            _mm256_storeu_pd(pa, r0);
            _mm256_storeu_pd(pa.add(4), r1);
            i += 8;
        }
        while i < n {
            acc[i] += x[i] * s;
            i += 1;
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn dot(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len().min(b.len());
        let mut acc = [_mm256_setzero_pd(); 4];
        let mut i = 0;
        while i + 16 <= n {
            for (k, slot) in acc.iter_mut().enumerate() {
                // SAFETY: i + 16 ≤ n bounds both slices.
                let x = _mm256_loadu_pd(a.as_ptr().add(i + 4 * k));
                let y = _mm256_loadu_pd(b.as_ptr().add(i + 4 * k));
                *slot = _mm256_fmadd_pd(x, y, *slot);
            }
            i += 16;
        }
        let mut s = hsum(_mm256_add_pd(
            _mm256_add_pd(acc[0], acc[1]),
            _mm256_add_pd(acc[2], acc[3]),
        ));
        while i < n {
            s += a[i] * b[i];
            i += 1;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
            })
            .collect()
    }

    /// The selected kernels (SIMD on this machine, if available) agree with the portable ones,
    /// on odd lengths and on byte slices that start at an odd address.
    #[test]
    fn selected_kernels_match_portable() {
        let k = kernels();
        for n in [0usize, 1, 7, 8, 15, 16, 17, 100, 4099] {
            let a = data(n, 1);
            let b = data(n, 2);
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * (1.0 + x.abs());
            let mut acc1 = data(n, 3);
            let mut acc2 = acc1.clone();
            (k.axpy)(&mut acc1, &a, 0.37);
            (PORTABLE.axpy)(&mut acc2, &a, 0.37);
            assert!(
                acc1.iter().zip(&acc2).all(|(x, y)| close(*x, *y)),
                "axpy n={n}"
            );
            for dtype in [Dtype::F32, Dtype::F64, Dtype::F16, Dtype::BF16] {
                let mut bytes = vec![0u8]; // misalign on purpose
                for &v in &b {
                    match dtype {
                        Dtype::F32 => bytes.extend((v as f32).to_le_bytes()),
                        Dtype::F64 => bytes.extend(v.to_le_bytes()),
                        Dtype::F16 => bytes.extend(half::f16::from_f64(v).to_le_bytes()),
                        _ => bytes.extend(half::bf16::from_f64(v).to_le_bytes()),
                    }
                }
                let src = &bytes[1..];
                let (mut o1, mut o2) = (vec![0.0; n], vec![0.0; n]);
                let s1 = (k.decode_sumsq)(src, dtype, &mut o1);
                let s2 = (PORTABLE.decode_sumsq)(src, dtype, &mut o2);
                assert_eq!(o1, o2, "decode {dtype} n={n}");
                assert!(close(s1, s2), "sumsq {dtype} n={n}");
                assert!(
                    close((k.dot)(&a, &o1), (PORTABLE.dot)(&a, &o2)),
                    "dot {dtype} n={n}"
                );
                (k.prefetch)(src);
            }
        }
    }

    #[test]
    fn half_special_values_match_bit_for_bit() {
        let vals = [
            6e-8,
            -0.0,
            65504.0,
            f64::INFINITY,
            -2.5e-5,
            1.0,
            3.0,
            -7.0,
            0.1,
        ];
        for dtype in [Dtype::F16, Dtype::BF16] {
            let mut bytes = Vec::new();
            for &v in &vals {
                match dtype {
                    Dtype::F16 => bytes.extend(half::f16::from_f64(v).to_le_bytes()),
                    _ => bytes.extend(half::bf16::from_f64(v).to_le_bytes()),
                }
            }
            let (mut o1, mut o2) = (vec![0.0; vals.len()], vec![0.0; vals.len()]);
            (kernels().decode_sumsq)(&bytes, dtype, &mut o1);
            (PORTABLE.decode_sumsq)(&bytes, dtype, &mut o2);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&o1), bits(&o2), "{dtype}");
        }
    }

    #[test]
    fn decoding_is_exact_for_each_dtype() {
        let mut out = [0.0f64; 2];
        decode_into(&[0x00, 0x3c, 0x00, 0xc0], Dtype::F16, &mut out);
        assert_eq!(out, [1.0, -2.0]);
        decode_into(&[0x80, 0x3f, 0x40, 0xc0], Dtype::BF16, &mut out);
        assert_eq!(out, [1.0, -3.0]);
        decode_into(&[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0], Dtype::F32, &mut out);
        assert_eq!(out, [1.0, -2.0]);
    }
}
