//! The AVX2+FMA kernel of [`super`]: every distance of a group summed over a tile.
use std::arch::x86_64::*;
use std::ops::Range;

use super::{fill_impl, Strip, Unit, FLUSH, LANES};

#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn fill_avx<T: Unit>(
    strip: &Strip<'_, '_>,
    seg: &mut [T],
    buf: &mut [[T; LANES]],
) {
    fill_impl(strip, seg, buf)
}

/// f32x8 → the sum of its lanes, in f64.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn sum_wide(v: __m256) -> f64 {
    let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(v));
    let s = _mm256_add_pd(lo, hi);
    let mut lanes = [0.0f64; 4];
    _mm256_storeu_pd(lanes.as_mut_ptr(), s);
    (lanes[0] + lanes[2]) + (lanes[1] + lanes[3])
}

/// Each distance's partner offset, in f32s from a row.
fn offsets<const V: usize>(dists: &[usize]) -> [usize; V] {
    let mut off = [0usize; V];
    for (o, &d) in off.iter_mut().zip(dists) {
        *o = d * LANES;
    }
    off
}

/// The per-distance sums of a group added into `out`.
fn add_into<const V: usize>(out: &mut [f64], wide: [f64; V]) {
    for (o, w) in out.iter_mut().zip(wide) {
        *o += w;
    }
}

/// # Safety
/// AVX2+FMA; `i + dists[k] < tile.len()` for every `i` in `rows` and every `k`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn group_avx<const V: usize>(
    tile: &[[f32; LANES]],
    rows: Range<usize>,
    dists: &[usize],
    out: &mut [f64],
) {
    let (base, off) = (tile.as_ptr() as *const f32, offsets::<V>(dists));
    let mut acc = [_mm256_setzero_ps(); V];
    let mut wide = [0.0f64; V];
    let mut i = rows.start;
    while i < rows.end {
        let stop = (i + FLUSH).min(rows.end);
        let (mut p, end) = (base.add(i * LANES), base.add(stop * LANES));
        while p < end {
            let t = _mm256_loadu_ps(p);
            for k in 0..V {
                acc[k] = _mm256_fmadd_ps(t, _mm256_loadu_ps(p.add(off[k])), acc[k]);
            }
            p = p.add(LANES);
        }
        i = stop;
        for k in 0..V {
            wide[k] += sum_wide(acc[k]);
            acc[k] = _mm256_setzero_ps();
        }
    }
    add_into(out, wide);
}

/// f32x16 → the sum of its lanes, in f64 (rows of even index in lanes 0..8, odd in 8..16).
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn sum_wide16(v: __m512) -> f64 {
    let lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    let hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(
        _mm512_castps_pd(v),
    )));
    let mut lanes = [0.0f64; 8];
    _mm512_storeu_pd(lanes.as_mut_ptr(), _mm512_add_pd(lo, hi));
    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
}

/// [`group_avx`] on AVX-512: two rows of the tile per register (rows `i, i + 1` are 64
/// contiguous bytes, and so are their partners `i + d, i + d + 1`), half the instructions;
/// an odd last row of a flush goes in with the upper half masked off. Each distance's sum
/// keeps its even and odd rows in separate lanes until the flush.
///
/// # Safety
/// AVX-512F; `i + dists[k] < tile.len()` for every `i` in `rows` and every `k`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn group_avx512<const V: usize>(
    tile: &[[f32; LANES]],
    rows: Range<usize>,
    dists: &[usize],
    out: &mut [f64],
) {
    let (base, off) = (tile.as_ptr() as *const f32, offsets::<V>(dists));
    let mut acc = [_mm512_setzero_ps(); V];
    let mut wide = [0.0f64; V];
    let mut i = rows.start;
    while i < rows.end {
        let stop = (i + FLUSH).min(rows.end);
        let pairs = (stop - i) / 2;
        let (mut p, end) = (base.add(i * LANES), base.add((i + 2 * pairs) * LANES));
        while p < end {
            // Rows i, i + 1 (< stop ≤ rows.end) and their partners (≤ the tile's last row).
            let t = _mm512_loadu_ps(p);
            for k in 0..V {
                acc[k] = _mm512_fmadd_ps(t, _mm512_loadu_ps(p.add(off[k])), acc[k]);
            }
            p = p.add(2 * LANES);
        }
        if i + 2 * pairs < stop {
            // One row left: its 8 lanes only (masked-off lanes are not read).
            let t = _mm512_maskz_loadu_ps(0x00ff, p);
            for k in 0..V {
                let q = _mm512_maskz_loadu_ps(0x00ff, p.add(off[k]));
                acc[k] = _mm512_fmadd_ps(t, q, acc[k]);
            }
        }
        i = stop;
        for k in 0..V {
            wide[k] += sum_wide16(acc[k]);
            acc[k] = _mm512_setzero_ps();
        }
    }
    add_into(out, wide);
}
