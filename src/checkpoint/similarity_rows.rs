//! The map's one pass over the rows: each row is decoded once (straight from the mapped bytes,
//! little-endian, any alignment, into one reusable f64 buffer; decode and sum of squares in
//! one sweep, the next row prefetched), and gives its norm, its cosine to the previous row
//! (both rows still in cache) and its unit row added into its block's sum.

use std::ops::Range;

use super::kernels::kernels;
use super::similarity::TableView;

/// cos(i − 1, i) from the rows' norms, NaN when either is zero or not finite (or the cosine
/// is not finite).
fn cosine(dot: f64, (a, b): (f64, f64)) -> f64 {
    let c = dot / (a * b);
    if a > 0.0 && b > 0.0 && c.is_finite() {
        c
    } else {
        f64::NAN
    }
}

pub(super) fn boundary_cosine(view: &TableView<'_>, i: usize, norms: (f64, f64)) -> f64 {
    let (mut a, mut b) = (vec![0.0f64; view.dim()], vec![0.0f64; view.dim()]);
    view.decode_row(i - 1, &mut a);
    view.decode_row(i, &mut b);
    cosine((kernels().dot)(&a, &b), norms)
}

pub(super) struct Pass1 {
    /// Per block: rows that contributed (non-zero).
    pub counts: Vec<usize>,
    /// Per row of this part: `1/‖row‖`, 0 for zero rows, NaN for non-finite rows.
    pub inv: Vec<f64>,
    /// Per row: `‖row‖`, NaN for non-finite rows.
    pub norm: Vec<f64>,
    /// Per pair of consecutive rows of this part: their cosine.
    pub adjacent: Vec<f64>,
}

/// Decodes each row once: its norm, its cosine to the previous row (both rows still in
/// cache) and its unit row added into its block's sum, `sums[k·d..(k+1)·d]` for the k-th of
/// `blocks` (zeros before).
pub(super) fn pass1(
    view: &TableView<'_>,
    edges: &[usize],
    blocks: Range<usize>,
    sums: &mut [f64],
) -> Pass1 {
    let kern = kernels();
    let d = view.dim();
    let nb = blocks.len();
    let mut counts = vec![0usize; nb];
    let row_lo = edges[blocks.start];
    let row_hi = edges[blocks.end];
    let rows = row_hi - row_lo;
    let mut inv = Vec::with_capacity(rows);
    let mut norm = Vec::with_capacity(rows);
    let mut adjacent = Vec::with_capacity(rows.saturating_sub(1));
    let (mut buf, mut prev) = (vec![0.0f64; d], vec![0.0f64; d]);
    for (k, b) in blocks.enumerate() {
        let acc = &mut sums[k * d..(k + 1) * d];
        for i in edges[b]..edges[b + 1] {
            if i + 1 < row_hi {
                (kern.prefetch)(view.row_bytes(i + 1));
            }
            let ss = (kern.decode_sumsq)(view.row_bytes(i), view.dtype(), &mut buf);
            let (scale, r) = if ss == 0.0 {
                (0.0, 0.0)
            } else if ss.is_finite() {
                let r = ss.sqrt();
                (1.0 / r, r)
            } else {
                (f64::NAN, f64::NAN)
            };
            if let Some(&p) = norm.last() {
                adjacent.push(cosine((kern.dot)(&prev, &buf), (p, r)));
            }
            inv.push(scale);
            norm.push(r);
            if scale != 0.0 {
                counts[k] += 1;
                (kern.axpy)(acc, &buf, scale);
            }
            std::mem::swap(&mut buf, &mut prev);
        }
    }
    Pass1 {
        counts,
        inv,
        norm,
        adjacent,
    }
}
