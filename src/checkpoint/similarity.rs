//! The exact block-mean cosine-similarity map and the similarity-vs-distance profile.
//!
//! For blocks I, J of positions, the mean over i∈I, j∈J of cos(i, j) equals
//! (mean of the unit rows over I) · (mean of the unit rows over J). So one pass over the table
//! (decode, normalise, add into the row's block) gives the B×D matrix M of block means, and the
//! map is M·Mᵀ: O(N·D + B²·D) time, O(B·D) memory, never N×N.
//!
//! Block edges over rows `[lo, hi)`: `edges[k] = lo + floor(k·(hi−lo)/B)`, k = 0..=B, B ≤ hi−lo.
//! All-zero rows (padding) have no direction: they are left out of every mean and reported.
//! A block with only zero rows has no mean: its cells are NaN (JSON null).
//! Rows holding NaN/∞ are kept and make their blocks' cells NaN: the map must not hide them.
//!
//! The profile (the exact mean of cos(i, i+d) at d = 1, 2, 4, …) and its summary are in
//! `similarity_profile`; the pass over the rows in `similarity_rows`, its inner loops in
//! `checkpoint::kernels` (AVX2+FMA when the CPU has it). The work is split in up to 4 parts
//! on the shared worker pool. [`map_only`] and [`add_profile`] are the two stages apart (the
//! TUI shows the map while the profile is computed).

use ndarray::{Array2, ArrayView2};

use super::gram::gram;
use super::kernels::decode_into;
use super::similarity_profile::profile_and_summary;
pub use super::similarity_profile::{mean_at, profile, profile_distances};
pub use super::similarity_profile::{ProfilePoint, ProfileSummary};
use super::similarity_rows::{boundary_cosine, pass1, Pass1};
use super::zeroed::Zeroed;
use crate::tensor::Dtype;
use crate::watch::pool;

/// A `[n, d]` table of one decodable dtype, viewed in place (usually inside a memory map).
#[derive(Clone, Copy, Debug)]
pub struct TableView<'a> {
    bytes: &'a [u8],
    dtype: Dtype,
    n: usize,
    d: usize,
}

impl<'a> TableView<'a> {
    /// `None` unless `dtype` is F16/BF16/F32/F64 and `bytes` holds exactly `n × d` values.
    pub fn new(bytes: &'a [u8], dtype: Dtype, n: usize, d: usize) -> Option<Self> {
        let need = n.checked_mul(d)?.checked_mul(dtype.size())?;
        (dtype.is_decodable() && d > 0 && bytes.len() == need).then_some(TableView {
            bytes,
            dtype,
            n,
            d,
        })
    }

    pub fn rows(&self) -> usize {
        self.n
    }

    pub fn dim(&self) -> usize {
        self.d
    }

    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// Decodes row `i` into `out` (`out.len() == dim()`).
    pub fn decode_row(&self, i: usize, out: &mut [f64]) {
        let w = self.d * self.dtype.size();
        decode_into(&self.bytes[i * w..(i + 1) * w], self.dtype, out);
    }

    pub(super) fn row_bytes(&self, i: usize) -> &'a [u8] {
        let w = self.d * self.dtype.size();
        &self.bytes[i * w..(i + 1) * w]
    }
}

/// The result for one table, one row range and one block count.
#[derive(Clone, Debug)]
pub struct SimilarityMap {
    /// `[lo, hi)` in table rows.
    pub rows: (usize, usize),
    /// `B + 1` block edges in table rows.
    pub edges: Vec<usize>,
    /// `B × B` block-mean cosines; NaN where a block has only zero rows.
    pub matrix: Array2<f64>,
    /// Table rows in `[lo, hi)` that are all zero (excluded from every mean).
    pub zero_rows: Vec<usize>,
    /// Empty, and `summary` has only `min`, while `profile_pending`.
    pub profile: Vec<ProfilePoint>,
    pub summary: ProfileSummary,
    /// The map is ready, its profile not yet (see [`map_only`]).
    pub profile_pending: bool,
}

impl SimilarityMap {
    pub fn blocks(&self) -> usize {
        self.edges.len().saturating_sub(1)
    }

    /// The range a colour map spans for this map: its own finite min and max (widened when
    /// flat; [−1, 1] when there is no finite cell).
    pub fn colour_range(&self) -> (f64, f64) {
        let (lo, hi) = self
            .matrix
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        if lo > hi {
            (-1.0, 1.0)
        } else if hi - lo < 1e-12 {
            (lo - 1e-3, hi + 1e-3)
        } else {
            (lo, hi)
        }
    }
}

/// `edges[k] = lo + floor(k·(hi−lo)/B)`, k = 0..=B (u128: no overflow for any usize inputs).
pub fn block_edges(lo: usize, hi: usize, blocks: usize) -> Vec<usize> {
    let n = hi.saturating_sub(lo) as u128;
    let b = blocks.max(1) as u128;
    (0..=b).map(|k| lo + (k * n / b) as usize).collect()
}

/// What the map's pass learns about each row of `[lo, hi)`, besides the block sums.
#[derive(Clone, Debug, Default)]
pub struct RowNorms {
    pub lo: usize,
    /// Per-row scale: `1/‖row‖`; 0 for an all-zero row; NaN for a row holding NaN/∞.
    pub inv: Vec<f64>,
    /// `‖row‖`; NaN for a row holding NaN/∞.
    pub norm: Vec<f64>,
    /// cos(i, i+1) for i in `[lo, hi − 1)`; NaN when either row is zero or not finite.
    pub adjacent: Vec<f64>,
}

/// The map and everything with it. `rows` is clamped to the table, `blocks` to `[1, hi − lo]`.
pub fn compute_map(view: &TableView<'_>, rows: (usize, usize), blocks: usize) -> SimilarityMap {
    compute_map_and_norms(view, rows, blocks).0
}

/// [`compute_map`], with the row facts its pass found (for [`super::explain::TableFacts`]).
pub fn compute_map_and_norms(
    view: &TableView<'_>,
    rows: (usize, usize),
    blocks: usize,
) -> (SimilarityMap, RowNorms) {
    let (mut map, norms) = map_only(view, rows, blocks);
    add_profile(view, &mut map, &norms);
    (map, norms)
}

/// The map without its profile (`profile_pending`; the summary has only `min`), and the row
/// facts its pass found: the first stage of [`compute_map_and_norms`].
pub fn map_only(
    view: &TableView<'_>,
    rows: (usize, usize),
    blocks: usize,
) -> (SimilarityMap, RowNorms) {
    let (lo, hi) = clamp_rows(view, rows);
    let (edges, matrix, norms) = block_map(view, (lo, hi), blocks);
    let zero_rows = norms
        .inv
        .iter()
        .enumerate()
        .filter(|(_, &v)| v == 0.0)
        .map(|(i, _)| lo + i)
        .collect();
    let min = matrix
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))));
    let map = SimilarityMap {
        rows: (lo, hi),
        edges,
        matrix,
        zero_rows,
        profile: Vec::new(),
        summary: ProfileSummary {
            adjacent: None,
            below_half: None,
            max_distance: None,
            min,
        },
        profile_pending: true,
    };
    (map, norms)
}

/// The second stage: the profile and its summary, from the norms [`map_only`] found for
/// `map` (the table is read once more).
pub fn add_profile(view: &TableView<'_>, map: &mut SimilarityMap, norms: &RowNorms) {
    (map.profile, map.summary) = profile_and_summary(view, norms, map.rows, map.summary.min);
    map.profile_pending = false;
}

pub(super) fn clamp_rows(view: &TableView<'_>, (lo, hi): (usize, usize)) -> (usize, usize) {
    let hi = hi.min(view.n);
    (lo.min(hi), hi)
}

/// The B×B map alone, with the row norms it found (reused by [`profile`]).
pub fn block_map(
    view: &TableView<'_>,
    rows: (usize, usize),
    blocks: usize,
) -> (Vec<usize>, Array2<f64>, RowNorms) {
    let (lo, hi) = clamp_rows(view, rows);
    let n = hi - lo;
    let d = view.d;
    let b = blocks.clamp(1, n.max(1));
    let edges = block_edges(lo, hi, b);
    if n == 0 {
        return (
            edges,
            Array2::from_elem((1, 1), f64::NAN),
            RowNorms {
                lo,
                ..RowNorms::default()
            },
        );
    }
    // Split whole blocks between threads so that each owns its output rows: equal row counts.
    let threads = threads_for(n * d).min(b);
    let mut splits = vec![0usize];
    for t in 1..threads {
        let target = lo + n * t / threads;
        let k = edges.partition_point(|&e| e < target).min(b);
        if k > *splits.last().unwrap_or(&0) {
            splits.push(k);
        }
    }
    splits.push(b);
    // The block sums go straight into the rows of M (each part owns its blocks' rows), then
    // are divided in place: no second B×D buffer.
    let mut sums = Zeroed::<f64>::new(b * d);
    let flat = sums.as_mut_slice();
    let parts: Vec<Pass1> = if splits.len() == 2 {
        vec![pass1(view, &edges, 0..b, flat)]
    } else {
        let mut rest: &mut [f64] = flat;
        let mut owned = Vec::new();
        for w in splits.windows(2) {
            let (mine, tail) = rest.split_at_mut((w[1] - w[0]) * d);
            owned.push((w[0]..w[1], mine));
            rest = tail;
        }
        pool::shared().scope(|s| {
            let tasks: Vec<_> = owned
                .into_iter()
                .map(|(range, sums)| {
                    let edges = &edges;
                    s.spawn(move || pass1(view, edges, range, sums))
                })
                .collect();
            tasks.into_iter().map(|t| t.join()).collect()
        })
    };
    let mut empty = vec![false; b];
    let mut rows = RowNorms {
        lo,
        inv: Vec::with_capacity(n),
        norm: Vec::with_capacity(n),
        adjacent: Vec::with_capacity(n - 1),
    };
    let mut block = 0;
    for part in parts {
        if let Some(&first) = part.norm.first() {
            // The pair across the parts' boundary.
            if let Some(&prev) = rows.norm.last() {
                let i = lo + rows.norm.len();
                rows.adjacent.push(boundary_cosine(view, i, (prev, first)));
            }
        }
        for count in &part.counts {
            if *count == 0 {
                empty[block] = true;
            } else {
                let c = *count as f64;
                for m in &mut flat[block * d..(block + 1) * d] {
                    *m /= c;
                }
            }
            block += 1;
        }
        rows.inv.extend_from_slice(&part.inv);
        rows.norm.extend_from_slice(&part.norm);
        rows.adjacent.extend_from_slice(&part.adjacent);
    }
    let mut matrix = match ArrayView2::from_shape((b, d), sums.as_slice()) {
        Ok(means) => gram(&means, threads),
        Err(_) => Array2::from_elem((b, b), f64::NAN),
    };
    for (k, _) in empty.iter().enumerate().filter(|(_, &e)| e) {
        matrix.row_mut(k).fill(f64::NAN);
        matrix.column_mut(k).fill(f64::NAN);
    }
    (edges, matrix, rows)
}

pub(super) fn threads_for(work: usize) -> usize {
    // Below ~1M element-operations a thread costs more than it saves.
    if work < (1 << 20) {
        return 1;
    }
    // Parts, not threads: the shared pool bounds how many run at once across all runs.
    pool::shared().workers().clamp(1, 4)
}
