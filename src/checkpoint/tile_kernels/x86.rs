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

/// # Safety
/// AVX2+FMA; `i + dists[k] < tile.len()` for every `i` in `rows` and every `k`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn group_avx<const V: usize>(
    tile: &[[f32; LANES]],
    rows: Range<usize>,
    dists: &[usize],
    out: &mut [f64],
) {
    let base = tile.as_ptr() as *const f32;
    let mut off = [0usize; V];
    for (o, &d) in off.iter_mut().zip(dists) {
        *o = d * LANES;
    }
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
    for (o, w) in out.iter_mut().zip(wide) {
        *o += w;
    }
}
