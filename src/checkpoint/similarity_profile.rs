//! The profile's pass: the exact sum of cos(i, i + d) over a row range, for several distances
//! at once, cache-blocked by columns.
//!
//! cos(i, j) = uᵢ · uⱼ with uᵢ = xᵢ / ‖xᵢ‖, and a dot product is a sum over columns, so
//! Σᵢ uᵢ · uᵢ₊d = Σ over column strips of Σᵢ uᵢ[strip] · uᵢ₊d[strip]. A strip of 4 columns
//! over all n rows is n × 32 bytes of f64 (256 KiB at n = 8192): it stays in L2 while every
//! distance is accumulated, so each table byte is read from memory once, however far apart the
//! partners are (one pass per distance read the table once per distance).
//!
//! The table is read in super-strips of W columns (W·4 bytes from each row: few page walks per
//! value), decoded and scaled by 1/‖row‖ into a strip-major f64 buffer, and each 4-column strip
//! of it is then swept for up to [`GROUP`] distances per sweep, one accumulator per distance.
//! Zero rows scale to zero and add nothing; pairs are counted from the norms, so they are left
//! out of the mean exactly as before. Rows holding NaN/∞ scale to NaN and make every distance
//! that reaches them NaN.
//!
//! Everything is f64 (decoded values are exact, products and sums rounded as in any f64 dot
//! product); only the order of the additions differs from a row-by-row dot product.

use std::ops::Range;

use super::kernels::kernels;
use super::similarity::{RowNorms, TableView};
use crate::watch::pool;

/// Columns per strip: one f64x4 register.
const LANES: usize = 4;
/// Distances accumulated per sweep of a strip (one register each, plus the row and a partner).
const GROUP: usize = 7;
/// Bytes of the per-thread strip buffer that bound W.
const BUFFER_BYTES: usize = 4 << 20;
/// Widest super-strip, in columns.
const MAX_WIDTH: usize = 128;

/// `(sum over i of cos(i, i + d), pairs counted)` for each distance, i and i + d in `[lo, hi)`,
/// pairs with a zero row left out. `norms` covers at least `[lo, hi)`.
pub(crate) fn lag_sums(
    view: &TableView<'_>,
    norms: &RowNorms,
    (lo, hi): (usize, usize),
    distances: &[usize],
) -> (Vec<f64>, Vec<u64>) {
    let n = hi.saturating_sub(lo);
    let inv = &norms.inv[lo - norms.lo..hi - norms.lo];
    let counts = distances
        .iter()
        .map(|&d| {
            if d >= n {
                return 0;
            }
            let (a, b) = (&inv[..n - d], &inv[d..]);
            a.iter()
                .zip(b)
                .filter(|(x, y)| **x != 0.0 && **y != 0.0)
                .count() as u64
        })
        .collect();
    // Distances the range can hold; the others sum to 0 over 0 pairs.
    let live: Vec<(usize, usize)> = distances
        .iter()
        .enumerate()
        .filter(|(_, &d)| d < n)
        .map(|(k, &d)| (k, d))
        .collect();
    let mut sums = vec![0.0f64; distances.len()];
    if live.is_empty() || n == 0 {
        return (sums, counts);
    }
    let dim = view.dim();
    let width = (BUFFER_BYTES / (n * 8) / LANES * LANES).clamp(LANES, MAX_WIDTH);
    let supers = dim.div_ceil(width);
    let live_ds: Vec<usize> = live.iter().map(|&(_, d)| d).collect();
    let work = n * dim * live.len();
    let threads = if work < (1 << 20) {
        1
    } else {
        pool::shared().workers().clamp(1, 4).min(supers)
    };
    let parts: Vec<Vec<f64>> = if threads <= 1 {
        vec![sweep(view, inv, lo, width, 0..supers, &live_ds)]
    } else {
        let per = supers.div_ceil(threads);
        pool::shared().scope(|s| {
            let tasks: Vec<_> = (0..threads)
                .map(|t| (t * per).min(supers)..((t + 1) * per).min(supers))
                .filter(|r| !r.is_empty())
                .map(|r| {
                    let ds = &live_ds;
                    s.spawn(move || sweep(view, inv, lo, width, r, ds))
                })
                .collect();
            tasks.into_iter().map(|t| t.join()).collect()
        })
    };
    for part in parts {
        for (&(k, _), v) in live.iter().zip(part) {
            sums[k] += v;
        }
    }
    (sums, counts)
}

/// The sums for super-strips `supers` (of `width` columns each) over rows `lo..lo + inv.len()`.
fn sweep(
    view: &TableView<'_>,
    inv: &[f64],
    lo: usize,
    width: usize,
    supers: Range<usize>,
    ds: &[usize],
) -> Vec<f64> {
    let kern = kernels();
    let (n, dim, size) = (inv.len(), view.dim(), view.dtype().size());
    let strips = width / LANES;
    let mut buf = vec![0.0f64; strips * n * LANES];
    let mut row = vec![0.0f64; width];
    let mut sums = vec![0.0f64; ds.len()];
    let bytes = view.bytes();
    for sup in supers {
        let c0 = sup * width;
        let w = width.min(dim - c0);
        let used = w.div_ceil(LANES);
        for (r, &scale) in inv.iter().enumerate() {
            let start = ((lo + r) * dim + c0) * size;
            let src = &bytes[start..start + w * size];
            (kern.decode_sumsq)(src, view.dtype(), &mut row[..w]);
            row[w..].fill(0.0);
            for s in 0..used {
                let dst = &mut buf[(s * n + r) * LANES..(s * n + r + 1) * LANES];
                for (o, v) in dst.iter_mut().zip(&row[s * LANES..(s + 1) * LANES]) {
                    *o = v * scale;
                }
            }
        }
        for s in 0..used {
            let strip = &buf[s * n * LANES..(s + 1) * n * LANES];
            for (g, group) in ds.chunks(GROUP).enumerate() {
                let out = &mut sums[g * GROUP..g * GROUP + group.len()];
                lag_dots(strip, group, out);
            }
        }
    }
    sums
}

/// `out[k] += Σᵢ strip[i] · strip[i + ds[k]]` over rows of [`LANES`] values; every distance
/// is below the strip's row count.
fn lag_dots(strip: &[f64], ds: &[usize], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: AVX2 and FMA were detected just above.
        unsafe { x86::lag_dots(strip, ds, out) };
        return;
    }
    lag_dots_portable(strip, ds, out)
}

pub(crate) fn lag_dots_portable(strip: &[f64], ds: &[usize], out: &mut [f64]) {
    let n = strip.len() / LANES;
    for (o, &d) in out.iter_mut().zip(ds) {
        let mut acc = [0.0f64; LANES];
        for i in 0..n.saturating_sub(d) {
            for l in 0..LANES {
                acc[l] += strip[i * LANES + l] * strip[(i + d) * LANES + l];
            }
        }
        *o += (acc[0] + acc[2]) + (acc[1] + acc[3]);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{lag_dots_portable, GROUP, LANES};

    /// Dispatches on the group size so each accumulator set is a fixed array in registers.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn lag_dots(strip: &[f64], ds: &[usize], out: &mut [f64]) {
        match ds.len() {
            1 => group::<1>(strip, ds, out),
            2 => group::<2>(strip, ds, out),
            3 => group::<3>(strip, ds, out),
            4 => group::<4>(strip, ds, out),
            5 => group::<5>(strip, ds, out),
            6 => group::<6>(strip, ds, out),
            GROUP => group::<GROUP>(strip, ds, out),
            _ => lag_dots_portable(strip, ds, out),
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn group<const K: usize>(strip: &[f64], ds: &[usize], out: &mut [f64]) {
        let n = strip.len() / LANES;
        let mut dk = [0usize; K];
        dk.copy_from_slice(&ds[..K]);
        let far = dk.iter().copied().max().unwrap_or(0);
        if far >= n {
            return lag_dots_portable(strip, ds, out);
        }
        let p = strip.as_ptr();
        let mut acc = [_mm256_setzero_pd(); K];
        // Rows whose partners all exist: no bounds test in the loop.
        for i in 0..n - far {
            // SAFETY: i + dk[k] ≤ i + far < n, so every load reads 4 values inside `strip`.
            let x = _mm256_loadu_pd(p.add(i * LANES));
            for k in 0..K {
                let y = _mm256_loadu_pd(p.add((i + dk[k]) * LANES));
                acc[k] = _mm256_fmadd_pd(x, y, acc[k]);
            }
        }
        for i in n - far..n {
            // SAFETY: i < n, and a partner is loaded only when i + dk[k] < n.
            let x = _mm256_loadu_pd(p.add(i * LANES));
            for k in 0..K {
                if i + dk[k] < n {
                    let y = _mm256_loadu_pd(p.add((i + dk[k]) * LANES));
                    acc[k] = _mm256_fmadd_pd(x, y, acc[k]);
                }
            }
        }
        for k in 0..K {
            let mut lanes = [0.0f64; 4];
            _mm256_storeu_pd(lanes.as_mut_ptr(), acc[k]);
            out[k] += (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Dtype;

    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// The naive reference: each pair's cosine from its rows in f64, summed left to right.
    fn naive(rows: &[Vec<f64>], lo: usize, hi: usize, d: usize) -> (f64, u64) {
        let norm = |r: &Vec<f64>| r.iter().map(|v| v * v).sum::<f64>().sqrt();
        let (mut s, mut c) = (0.0, 0);
        for i in lo..hi.saturating_sub(d) {
            let (a, b) = (&rows[i], &rows[i + d]);
            let (na, nb) = (norm(a), norm(b));
            if na == 0.0 || nb == 0.0 {
                continue;
            }
            s += a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / (na * nb);
            c += 1;
        }
        (s, c)
    }

    /// The blocked kernel against the naive f64 reference on random tables: N a power of two
    /// and not, D not a multiple of the strip or super-strip width, zero rows inside and at the
    /// ends, sub-ranges, distances beyond the range.
    #[test]
    fn blocked_sums_match_naive_reference() {
        for (n, dim, seed) in [(1, 5, 1), (2, 3, 2), (9, 7, 3), (64, 130, 4), (257, 33, 5)] {
            let mut vals = random(n * dim, seed);
            for z in [0, n / 2, n - 1] {
                if n > 3 {
                    vals[z * dim..(z + 1) * dim].fill(0.0);
                }
            }
            let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
            let view = TableView::new(&bytes, Dtype::F32, n, dim).expect("view");
            let rows: Vec<Vec<f64>> = vals
                .chunks(dim)
                .map(|r| r.iter().map(|&v| v as f64).collect())
                .collect();
            let inv = rows
                .iter()
                .map(|r| {
                    let ss: f64 = r.iter().map(|v| v * v).sum();
                    if ss == 0.0 {
                        0.0
                    } else {
                        1.0 / ss.sqrt()
                    }
                })
                .collect();
            let norms = RowNorms { lo: 0, inv };
            let ranges = [(0, n), (n / 3, n), (0, n.div_ceil(2))];
            for (lo, hi) in ranges {
                let ds: Vec<usize> = (1..=9).chain([16, 31, 100, 256, 300]).collect();
                let (sums, counts) = lag_sums(&view, &norms, (lo, hi), &ds);
                for (k, &d) in ds.iter().enumerate() {
                    let (want, pairs) = naive(&rows, lo, hi, d);
                    assert_eq!(counts[k], pairs, "n={n} rows {lo}..{hi} d={d}");
                    assert!(
                        (sums[k] - want).abs() <= 1e-9 * (1.0 + pairs as f64),
                        "n={n} rows {lo}..{hi} d={d}: {} vs {want}",
                        sums[k]
                    );
                }
            }
        }
    }

    #[test]
    fn selected_lag_kernel_matches_portable() {
        let n = 300;
        let strip: Vec<f64> = random(n * LANES, 9).iter().map(|&v| v as f64).collect();
        for len in 1..=GROUP {
            let ds: Vec<usize> = (0..len).map(|k| [1, 2, 4, 64, 3, 299, 150][k]).collect();
            let (mut a, mut b) = (vec![0.0; len], vec![0.0; len]);
            lag_dots(&strip, &ds, &mut a);
            lag_dots_portable(&strip, &ds, &mut b);
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
                    "{len}: {x} vs {y}"
                );
            }
        }
    }

    /// A row holding NaN makes every distance that pairs it NaN, and no other.
    #[test]
    fn nan_row_reaches_only_its_pairs() {
        let (n, dim) = (8, 4);
        let mut vals = random(n * dim, 7);
        vals[5 * dim + 1] = f32::NAN;
        let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = TableView::new(&bytes, Dtype::F32, n, dim).expect("view");
        let mut inv = vec![1.0; n];
        inv[5] = f64::NAN;
        let norms = RowNorms { lo: 0, inv };
        // Rows 0..5 only: the NaN row is outside the range.
        let (sums, _) = lag_sums(&view, &norms, (0, 5), &[1, 2]);
        assert!(sums.iter().all(|s| s.is_finite()));
        let (sums, _) = lag_sums(&view, &norms, (0, n), &[1, 7]);
        assert!(sums[0].is_nan());
        assert!(sums[1].is_finite()); // only (0, 7): row 5 is in no pair at distance 7
    }
}
