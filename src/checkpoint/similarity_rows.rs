//! The map's one pass over the rows: each row is read twice from its mapped bytes (little-endian,
//! any alignment; the next row prefetched), once for its sum of squares and once, from L1, for
//! its unit row added into its block's sum and its dot product with the previous row (still in
//! cache): its norm and its cosine to the previous row (`row_kernels`).

use std::ops::Range;

use super::kernels::kernels;
use super::row_kernels::row_kernels;
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
    let rk = row_kernels();
    let dtype = view.dtype();
    for (k, b) in blocks.enumerate() {
        let acc = &mut sums[k * d..(k + 1) * d];
        for i in edges[b]..edges[b + 1] {
            if i + 1 < row_hi {
                (kern.prefetch)(view.row_bytes(i + 1));
            }
            let row = view.row_bytes(i);
            let ss = (rk.sumsq)(row, dtype);
            let (scale, r) = if ss == 0.0 {
                (0.0, 0.0)
            } else if ss.is_finite() {
                let r = ss.sqrt();
                (1.0 / r, r)
            } else {
                (f64::NAN, f64::NAN)
            };
            // The cosine to the previous row needs the dot only when both norms are > 0
            // (else it is NaN whatever the dot).
            let prev = norm
                .last()
                .filter(|&&p: &&f64| p > 0.0 && r > 0.0)
                .map(|_| view.row_bytes(i - 1));
            let contributes = scale != 0.0;
            let dot = (rk.axpy_dot)(contributes.then_some(&mut *acc), row, scale, prev, dtype);
            if let Some(&p) = norm.last() {
                adjacent.push(cosine(dot, (p, r)));
            }
            inv.push(scale);
            norm.push(r);
            if contributes {
                counts[k] += 1;
            }
        }
    }
    Pass1 {
        counts,
        inv,
        norm,
        adjacent,
    }
}
