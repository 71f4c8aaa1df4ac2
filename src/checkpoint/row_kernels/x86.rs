//! The AVX2+FMA+F16C row kernels of [`super`], each in the order of its counterpart in
//! `checkpoint::kernels` (so the results are the same bits); their AVX-512 versions, in the
//! same order again, in `x86_512.rs`.
use std::arch::x86_64::*;

use super::{values, RowKernels};
use crate::checkpoint::kernels::decode_into;
use crate::tensor::Dtype;

// The wrappers are safe fns around `unsafe` target-feature fns: they are reachable only
// through ROW_KERNELS, which `row_kernels()` installs after detecting AVX2, FMA and F16C.
pub(crate) const ROW_KERNELS: RowKernels = RowKernels {
    // SAFETY (both): AVX2+FMA+F16C detected before ROW_KERNELS is installed.
    sumsq: |bytes, dtype| unsafe {
        match dtype {
            Dtype::F32 => sumsq8::<F32>(bytes),
            Dtype::F16 => sumsq8::<F16>(bytes),
            Dtype::BF16 => sumsq8::<BF16>(bytes),
            _ => sumsq16::<F64>(bytes),
        }
    },
    axpy_dot: |acc, row, s, prev, dtype| unsafe {
        match dtype {
            Dtype::F32 => axpy_dot::<F32>(acc, row, s, prev),
            Dtype::F16 => axpy_dot::<F16>(acc, row, s, prev),
            Dtype::BF16 => axpy_dot::<BF16>(acc, row, s, prev),
            _ => axpy_dot::<F64>(acc, row, s, prev),
        }
    },
};

pub(super) const F32: u8 = 0;
pub(super) const F16: u8 = 1;
pub(super) const BF16: u8 = 2;
pub(super) const F64: u8 = 3;

pub(super) const fn size(kind: u8) -> usize {
    match kind {
        F32 => 4,
        F64 => 8,
        _ => 2,
    }
}

pub(super) const fn dtype(kind: u8) -> Dtype {
    match kind {
        F32 => Dtype::F32,
        F16 => Dtype::F16,
        BF16 => Dtype::BF16,
        _ => Dtype::F64,
    }
}

/// Values `i..i + 4` of a row of kind `K` at `p`, as f64 (exact).
///
/// # Safety
/// AVX2+F16C; the bytes of values `i..i + 4` are in bounds.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn load4<const K: u8>(p: *const u8, i: usize) -> __m256d {
    let q = p.add(i * size(K));
    match K {
        F32 => _mm256_cvtps_pd(_mm_loadu_ps(q as *const f32)),
        F64 => _mm256_loadu_pd(q as *const f64),
        F16 => _mm256_cvtps_pd(_mm_cvtph_ps(_mm_loadl_epi64(q as *const __m128i))),
        _ => {
            let wide = _mm_cvtepu16_epi32(_mm_loadl_epi64(q as *const __m128i));
            _mm256_cvtps_pd(_mm_castsi128_ps(_mm_slli_epi32::<16>(wide)))
        }
    }
}

/// Value `i`, decoded one at a time (the tails).
pub(super) fn scalar<const K: u8>(bytes: &[u8], i: usize) -> f64 {
    let mut v = [0.0f64];
    decode_into(&bytes[i * size(K)..(i + 1) * size(K)], dtype(K), &mut v);
    v[0]
}

/// Values each of `acc`, `row` and `prev` holds (the least of them).
pub(super) fn common_len<const K: u8>(
    acc: Option<&[f64]>,
    row: &[u8],
    prev: Option<&[u8]>,
) -> usize {
    let n = values(row, dtype(K));
    let n = acc.map_or(n, |a| n.min(a.len()));
    prev.map_or(n, |p| n.min(values(p, dtype(K))))
}

/// The scalar tail of a sum of squares: `s + Σ row[j]²` over `from..n`, in order.
pub(super) fn sumsq_tail<const K: u8>(bytes: &[u8], from: usize, n: usize, mut s: f64) -> f64 {
    for j in from..n {
        let v = scalar::<K>(bytes, j);
        s += v * v;
    }
    s
}

/// The scalar tails of `axpy_dot`: `acc[j] += row[j] · s` over `axpy_from..n`, and
/// `dot + Σ prev[j] · row[j]` over `dot_from..n`, in order.
pub(super) fn axpy_dot_tails<const K: u8>(
    acc: Option<&mut [f64]>,
    row: &[u8],
    s: f64,
    (axpy_from, dot_from, n): (usize, usize, usize),
    prev: &[u8],
    mut dot: f64,
) -> f64 {
    if let Some(acc) = acc {
        for (j, a) in acc.iter_mut().enumerate().take(n).skip(axpy_from) {
            *a += scalar::<K>(row, j) * s;
        }
    }
    for j in dot_from..n.min(values(prev, dtype(K))) {
        dot += scalar::<K>(prev, j) * scalar::<K>(row, j);
    }
    dot
}

pub(super) fn hsum(v: __m256d) -> f64 {
    let mut lanes = [0.0f64; 4];
    // SAFETY: `lanes` holds 4 f64; unaligned store.
    unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), v) };
    (lanes[0] + lanes[2]) + (lanes[1] + lanes[3])
}

/// `decode_sumsq`'s order for 32- and 16-bit rows: two accumulators, 8 values a step.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn sumsq8<const K: u8>(bytes: &[u8]) -> f64 {
    let n = values(bytes, dtype(K));
    let p = bytes.as_ptr();
    let (mut a0, mut a1) = (_mm256_setzero_pd(), _mm256_setzero_pd());
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 ≤ n bounds the bytes of values i..i + 8.
        let (v0, v1) = (load4::<K>(p, i), load4::<K>(p, i + 4));
        a0 = _mm256_fmadd_pd(v0, v0, a0);
        a1 = _mm256_fmadd_pd(v1, v1, a1);
        i += 8;
    }
    sumsq_tail::<K>(bytes, i, n, hsum(_mm256_add_pd(a0, a1)))
}

/// `dot(row, row)`'s order (what `decode_sumsq` does for F64 rows): four accumulators, 16
/// values a step.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn sumsq16<const K: u8>(bytes: &[u8]) -> f64 {
    let n = values(bytes, dtype(K));
    let p = bytes.as_ptr();
    let mut acc = [_mm256_setzero_pd(); 4];
    let mut i = 0;
    while i + 16 <= n {
        for (k, slot) in acc.iter_mut().enumerate() {
            // SAFETY: i + 16 ≤ n bounds the bytes of values i..i + 16.
            let v = load4::<K>(p, i + 4 * k);
            *slot = _mm256_fmadd_pd(v, v, *slot);
        }
        i += 16;
    }
    let s = hsum(_mm256_add_pd(
        _mm256_add_pd(acc[0], acc[1]),
        _mm256_add_pd(acc[2], acc[3]),
    ));
    sumsq_tail::<K>(bytes, i, n, s)
}

/// `axpy(acc, row, s)` and `dot(prev, row)` in one sweep, each in its own order: the dot's
/// four accumulators over 16 values a step, the axpy 8 values a step (fused multiply-add),
/// and their scalar tails.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn axpy_dot<const K: u8>(
    mut acc: Option<&mut [f64]>,
    row: &[u8],
    s: f64,
    prev: Option<&[u8]>,
) -> f64 {
    let n = common_len::<K>(acc.as_deref(), row, prev);
    let (x, sv) = (row.as_ptr(), _mm256_set1_pd(s));
    let pp = prev.map(|p| p.as_ptr());
    let ap = acc.as_deref_mut().map(|a| a.as_mut_ptr());
    let mut d = [_mm256_setzero_pd(); 4];
    let mut i = 0;
    while i + 16 <= n {
        for (k, dk) in d.iter_mut().enumerate() {
            // SAFETY: i + 16 ≤ n bounds values i..i + 16 of `row`, `prev` and `acc`.
            let v = load4::<K>(x, i + 4 * k);
            if let Some(a) = ap {
                let q = a.add(i + 4 * k);
                _mm256_storeu_pd(q, _mm256_fmadd_pd(v, sv, _mm256_loadu_pd(q)));
            }
            if let Some(p) = pp {
                *dk = _mm256_fmadd_pd(load4::<K>(p, i + 4 * k), v, *dk);
            }
        }
        i += 16;
    }
    let vec_end = i;
    if let Some(a) = ap {
        while i + 8 <= n {
            for k in 0..2 {
                // SAFETY: i + 8 ≤ n bounds values i..i + 8 of `row` and `acc`.
                let q = a.add(i + 4 * k);
                let v = load4::<K>(x, i + 4 * k);
                _mm256_storeu_pd(q, _mm256_fmadd_pd(v, sv, _mm256_loadu_pd(q)));
            }
            i += 8;
        }
    }
    let dot = hsum(_mm256_add_pd(
        _mm256_add_pd(d[0], d[1]),
        _mm256_add_pd(d[2], d[3]),
    ));
    let dot = axpy_dot_tails::<K>(acc, row, s, (i, vec_end, n), prev.unwrap_or(&[]), dot);
    if prev.is_some() {
        dot
    } else {
        f64::NAN
    }
}

#[path = "x86_512.rs"]
pub(super) mod avx512;
