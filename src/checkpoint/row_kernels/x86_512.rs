//! The row kernels on AVX-512: each 8-lane f64 register holds two of the AVX2 kernels' 4-lane
//! accumulators side by side (values `i..i + 4` and `i + 4..i + 8`), and the halves are added
//! as the AVX2 kernels add those accumulators, so the results are the same bits again (the
//! tests hold both to `checkpoint::kernels`). Half the instructions for the same work.
use std::arch::x86_64::*;

use super::{axpy_dot_tails, common_len, dtype, hsum, size, sumsq_tail, BF16, F16, F32, F64};
use crate::checkpoint::row_kernels::{values, RowKernels};
use crate::tensor::Dtype;

// The wrappers are safe fns around `unsafe` target-feature fns: they are reachable only
// through ROW_KERNELS, which `row_kernels()` installs after detecting AVX-512F (with AVX2,
// FMA and F16C).
pub(crate) const ROW_KERNELS: RowKernels = RowKernels {
    // SAFETY (both): AVX-512F, AVX2, FMA and F16C detected before ROW_KERNELS is installed.
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

/// Values `i..i + 8` of a row of kind `K` at `p`, as f64 (exact).
///
/// # Safety
/// AVX-512F+F16C; the bytes of values `i..i + 8` are in bounds.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
unsafe fn load8<const K: u8>(p: *const u8, i: usize) -> __m512d {
    let q = p.add(i * size(K));
    match K {
        F32 => _mm512_cvtps_pd(_mm256_loadu_ps(q as *const f32)),
        F64 => _mm512_loadu_pd(q as *const f64),
        F16 => _mm512_cvtps_pd(_mm256_cvtph_ps(_mm_loadu_si128(q as *const __m128i))),
        _ => {
            let wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(q as *const __m128i));
            _mm512_cvtps_pd(_mm256_castsi256_ps(_mm256_slli_epi32::<16>(wide)))
        }
    }
}

/// The two 4-lane halves added: the AVX2 kernels' `acc[2j] + acc[2j + 1]`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn halves(v: __m512d) -> __m256d {
    _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd::<1>(v))
}

#[target_feature(enable = "avx512f,avx2,fma,f16c")]
unsafe fn sumsq8<const K: u8>(bytes: &[u8]) -> f64 {
    let n = values(bytes, dtype(K));
    let p = bytes.as_ptr();
    let mut a = _mm512_setzero_pd();
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 ≤ n bounds the bytes of values i..i + 8.
        let v = load8::<K>(p, i);
        a = _mm512_fmadd_pd(v, v, a);
        i += 8;
    }
    sumsq_tail::<K>(bytes, i, n, hsum(halves(a)))
}

#[target_feature(enable = "avx512f,avx2,fma,f16c")]
unsafe fn sumsq16<const K: u8>(bytes: &[u8]) -> f64 {
    let n = values(bytes, dtype(K));
    let p = bytes.as_ptr();
    let (mut a0, mut a1) = (_mm512_setzero_pd(), _mm512_setzero_pd());
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 ≤ n bounds the bytes of values i..i + 16.
        let (v0, v1) = (load8::<K>(p, i), load8::<K>(p, i + 8));
        a0 = _mm512_fmadd_pd(v0, v0, a0);
        a1 = _mm512_fmadd_pd(v1, v1, a1);
        i += 16;
    }
    sumsq_tail::<K>(bytes, i, n, hsum(_mm256_add_pd(halves(a0), halves(a1))))
}

#[target_feature(enable = "avx512f,avx2,fma,f16c")]
unsafe fn axpy_dot<const K: u8>(
    mut acc: Option<&mut [f64]>,
    row: &[u8],
    s: f64,
    prev: Option<&[u8]>,
) -> f64 {
    let n = common_len::<K>(acc.as_deref(), row, prev);
    let (x, sv) = (row.as_ptr(), _mm512_set1_pd(s));
    let pp = prev.map(|p| p.as_ptr());
    let ap = acc.as_deref_mut().map(|a| a.as_mut_ptr());
    let (mut d0, mut d1) = (_mm512_setzero_pd(), _mm512_setzero_pd());
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 ≤ n bounds values i..i + 16 of `row`, `prev` and `acc`.
        let (v0, v1) = (load8::<K>(x, i), load8::<K>(x, i + 8));
        if let Some(a) = ap {
            let q = a.add(i);
            _mm512_storeu_pd(q, _mm512_fmadd_pd(v0, sv, _mm512_loadu_pd(q)));
            _mm512_storeu_pd(q.add(8), _mm512_fmadd_pd(v1, sv, _mm512_loadu_pd(q.add(8))));
        }
        if let Some(p) = pp {
            d0 = _mm512_fmadd_pd(load8::<K>(p, i), v0, d0);
            d1 = _mm512_fmadd_pd(load8::<K>(p, i + 8), v1, d1);
        }
        i += 16;
    }
    let vec_end = i;
    if let Some(a) = ap {
        if i + 8 <= n {
            // SAFETY: i + 8 ≤ n bounds values i..i + 8 of `row` and `acc`.
            let q = a.add(i);
            _mm512_storeu_pd(q, _mm512_fmadd_pd(load8::<K>(x, i), sv, _mm512_loadu_pd(q)));
            i += 8;
        }
    }
    let dot = hsum(_mm256_add_pd(halves(d0), halves(d1)));
    let dot = axpy_dot_tails::<K>(acc, row, s, (i, vec_end, n), prev.unwrap_or(&[]), dot);
    if prev.is_some() {
        dot
    } else {
        f64::NAN
    }
}
