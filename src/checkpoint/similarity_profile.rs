//! The similarity-vs-distance profile: the exact mean of cos(i, i+d) over all pairs at
//! distance d = 1, 2, 4, … < n, and the one-line summary read from it.
//!
//! The sum over rows of `u_i · u_{i+d}` (unit rows `u`) splits over columns, so the table is
//! read once, one run of columns (a strip, a super-tile) at a time: each row's segment of it
//! is decoded, scaled by the row's `1/‖row‖` (known from the map's pass) and written into
//! 8-column tiles, and every distance is summed over each tile while it sits in L2
//! (`tile_kernels`). F32/F16/BF16 tables: `unit_strips` (f32 tiles, a fixed order of the
//! additions); F64 tables: [`tiled_sums`] here (f64 tiles). The work is split over the shared
//! pool (by strips, or, when there are fewer of them than workers, by rows too).
//!
//! Zero rows contribute nothing and count for nothing; a pair with a row holding NaN/∞ makes
//! its distance's mean NaN. Pair counts and that NaN come from the norms (O(n) per distance),
//! so the tiles hold 0 for both kinds of row.

use std::fmt;
use std::ops::Range;

use super::profile_guess::likely_probes;
use super::similarity::{clamp_rows, threads_for, RowNorms, TableView};
use super::tile_kernels::{fill, tile_sums, Strip, Unit, LANES, MAX_GROUP};
use super::unit_strips::{unit_sums_sets, Scratch, DEFAULT_STRIP_BYTES};
use crate::tensor::Dtype;
use crate::watch::pool;

/// Bytes of one worker's super-tile (its tiles together): several tiles at once keep a
/// row's segment contiguous (many cache lines per page visit), and the whole stays in L3.
const SUPER_TILE_BYTES: usize = 8 << 20;
/// Widest super-tile, in columns.
const MAX_WIDTH: usize = 256;

/// One point of the similarity-vs-distance profile; `mean` is NaN when no pair exists.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProfilePoint {
    pub distance: usize,
    pub mean: f64,
}

/// The one-line reading of a map: "adjacent 0.85 · falls below 0.5 at distance 12 · min −0.74".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProfileSummary {
    /// Mean cosine of neighbouring positions (distance 1).
    pub adjacent: Option<f64>,
    /// First distance where the mean cosine is below 0.5: the first profile distance (1, 2, 4,
    /// …) below it, refined by searching between it and the previous profile distance with
    /// exact means at each probe (an 8-way search, so it assumes the profile crosses 0.5 once
    /// inside that bracket).
    pub below_half: Option<usize>,
    /// The last distance examined (when `below_half` is `None`, the mean stays ≥ 0.5 up to it).
    pub max_distance: Option<usize>,
    /// Smallest cell of the map (block means: at B = N, the smallest pairwise cosine).
    pub min: Option<f64>,
}

fn signed(v: f64) -> String {
    // A real minus sign: reads better than a hyphen next to "·".
    if v < 0.0 {
        format!("\u{2212}{:.2}", -v)
    } else {
        format!("{v:.2}")
    }
}

impl fmt::Display for ProfileSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        match self.adjacent {
            Some(a) => parts.push(format!("adjacent {}", signed(a))),
            None => parts.push("no adjacent pairs".to_string()),
        }
        match (self.below_half, self.max_distance) {
            (Some(d), _) => parts.push(format!("falls below 0.5 at distance {d}")),
            (None, Some(m)) => parts.push(format!("stays ≥ 0.5 up to distance {m}")),
            (None, None) => {}
        }
        if let Some(m) = self.min {
            parts.push(format!("min {}", signed(m)));
        }
        f.write_str(&parts.join(" · "))
    }
}

/// Distances 1, 2, 4, … below `n`.
pub fn profile_distances(n: usize) -> Vec<usize> {
    std::iter::successors(Some(1usize), |d| d.checked_mul(2))
        .take_while(|&d| d < n)
        .collect()
}

/// The exact mean cosine at each of [`profile_distances`].
pub fn profile(view: &TableView<'_>, norms: &RowNorms, rows: (usize, usize)) -> Vec<ProfilePoint> {
    let (lo, hi) = clamp_rows(view, rows);
    let ds = profile_distances(hi - lo);
    mean_at(view, norms, (lo, hi), &ds)
        .into_iter()
        .zip(ds)
        .map(|(mean, distance)| ProfilePoint { distance, mean })
        .collect()
}

/// The profile and its summary (`min`: the map's smallest cell), in one read of the table
/// when the summary's probes were guessed right: the probes the 8-way search will ask for
/// are guessed first (`profile_guess`, from a sample of rows) and summed in the same pass as
/// the profile, each round's probes as a set of its own, so every mean is exactly what a
/// pass of its own would give. A round that was not guessed reads the table again.
pub(super) fn profile_and_summary(
    view: &TableView<'_>,
    norms: &RowNorms,
    rows: (usize, usize),
    min: Option<f64>,
) -> (Vec<ProfilePoint>, ProfileSummary) {
    let (lo, hi) = clamp_rows(view, rows);
    let ds = profile_distances(hi - lo);
    let scratch = Scratch::default();
    let guessed = likely_probes(view, norms, (lo, hi), &ds);
    let mut sets = vec![ds.clone()];
    sets.extend(guessed.iter().cloned());
    let mut means = means_sets(view, norms, (lo, hi), &sets, &scratch).into_iter();
    let profile: Vec<ProfilePoint> = means
        .next()
        .unwrap_or_default()
        .into_iter()
        .zip(ds)
        .map(|(mean, distance)| ProfilePoint { distance, mean })
        .collect();
    let known: Vec<(Vec<usize>, Vec<f64>)> = guessed.into_iter().zip(means).collect();
    let mut evaluate = |probes: &[usize]| match known.iter().find(|(p, _)| p == probes) {
        Some((_, m)) => m.clone(),
        None => means_sets(view, norms, (lo, hi), &[probes.to_vec()], &scratch)
            .pop()
            .unwrap_or_default(),
    };
    let below_half = search(&profile, &mut evaluate);
    let summary = ProfileSummary {
        adjacent: profile.first().map(|p| p.mean).filter(|m| !m.is_nan()),
        below_half,
        max_distance: profile.last().map(|p| p.distance),
        min,
    };
    (profile, summary)
}

/// The first distance where the mean cosine is below 0.5 (see [`ProfileSummary::below_half`]),
/// `means(probes)` giving the mean at each probe.
pub(super) fn search(
    profile: &[ProfilePoint],
    means: &mut dyn FnMut(&[usize]) -> Vec<f64>,
) -> Option<usize> {
    let k = profile.iter().position(|p| p.mean < 0.5)?;
    if k == 0 {
        return Some(profile[0].distance);
    }
    let (mut ok, mut below) = (profile[k - 1].distance, profile[k].distance);
    // An 8-way search: each round evaluates up to 7 distances in the bracket in one pass
    // over the table, so a bracket of width W takes log8(W) passes instead of log2(W).
    while below - ok > 1 {
        let width = below - ok;
        let m = (width - 1).min(7);
        let mut probes: Vec<usize> = (1..=m).map(|t| ok + t * width / (m + 1)).collect();
        probes.dedup();
        probes.retain(|&p| p > ok && p < below);
        let got = means(&probes);
        match got.iter().position(|&m| m < 0.5) {
            Some(0) => below = probes[0],
            Some(p) => (ok, below) = (probes[p - 1], probes[p]),
            None => ok = probes.last().copied().unwrap_or(below - 1),
        }
    }
    Some(below)
}

/// Exact mean of cos(i, i+d) over rows `[lo, hi)` for each distance, skipping zero rows.
/// `norms` must cover the rows (from [`super::similarity::block_map`] over them); NaN where
/// a distance has no pair, or where it does not.
pub fn mean_at(
    view: &TableView<'_>,
    norms: &RowNorms,
    rows: (usize, usize),
    distances: &[usize],
) -> Vec<f64> {
    let sets = [distances.to_vec()];
    let mut out = means_sets(view, norms, rows, &sets, &Scratch::default());
    out.pop().unwrap_or_default()
}

/// [`mean_at`] for each set of distances, in one read of the table where that can be done
/// (F32/F16/BF16 tables); each set's means exactly as [`mean_at`] gives them.
fn means_sets(
    view: &TableView<'_>,
    norms: &RowNorms,
    (lo, hi): (usize, usize),
    sets: &[Vec<usize>],
    scratch: &Scratch,
) -> Vec<Vec<f64>> {
    let none = || sets.iter().map(|s| vec![f64::NAN; s.len()]).collect();
    let (lo, hi) = clamp_rows(view, (lo, hi));
    let inv = lo
        .checked_sub(norms.lo)
        .and_then(|a| norms.inv.get(a..a + (hi - lo)));
    let Some(inv) = inv.filter(|inv| inv.len() > 1) else {
        return none();
    };
    let todos: Vec<Vec<usize>> = sets
        .iter()
        .map(|set| {
            let mut todo: Vec<usize> = set.iter().copied().filter(|&d| d < inv.len()).collect();
            todo.sort_unstable();
            todo.dedup();
            todo
        })
        .collect();
    let sums = match view.dtype() {
        Dtype::F64 => todos
            .iter()
            .map(|todo| tiled_sums::<f64>(view, inv, lo, todo))
            .collect(),
        _ => unit_sums_sets(view, inv, lo, &todos, scratch, DEFAULT_STRIP_BYTES),
    };
    sets.iter()
        .zip(&todos)
        .zip(sums)
        .map(|((set, todo), sums)| {
            let pairs = pair_counts(inv, todo);
            set.iter()
                .map(|d| match todo.binary_search(d) {
                    Ok(k) if pairs[k].0 > 0 && !pairs[k].1 => sums[k] / pairs[k].0 as f64,
                    _ => f64::NAN,
                })
                .collect()
        })
        .collect()
}

/// Per distance: pairs with both rows non-zero, and whether one of them is not finite.
fn pair_counts(inv: &[f64], dists: &[usize]) -> Vec<(u64, bool)> {
    dists
        .iter()
        .map(|&d| {
            inv.iter()
                .zip(&inv[d..])
                .filter(|(&a, &b)| a != 0.0 && b != 0.0)
                .fold((0u64, false), |(c, nan), (a, b)| {
                    (c + 1, nan || a.is_nan() || b.is_nan())
                })
        })
        .collect()
}

/// `work(w)` for each worker `w` in `0..workers` (on the shared pool when more than one), the
/// per-distance sums added up.
fn on_workers<F: Fn(usize) -> Vec<f64> + Sync>(workers: usize, len: usize, work: F) -> Vec<f64> {
    let work = &work;
    let outs: Vec<Vec<f64>> = if workers == 1 {
        vec![work(0)]
    } else {
        pool::shared().scope(|s| {
            let tasks: Vec<_> = (0..workers).map(|w| s.spawn(move || work(w))).collect();
            tasks.into_iter().map(|t| t.join()).collect()
        })
    };
    add_up(outs, len)
}

fn add_up(outs: Vec<Vec<f64>>, len: usize) -> Vec<f64> {
    let mut sums = vec![0.0f64; len];
    for out in outs {
        for (s, o) in sums.iter_mut().zip(out) {
            *s += o;
        }
    }
    sums
}

/// One worker's share: a super-tile (columns `col0..`) and the rows `i` it sums pairs from.
struct Job {
    col0: usize,
    rows: Range<usize>,
}

/// `Σ_i u_i · u_{i+d}` for each of `dists` (ascending, each < `inv.len()`), rows `lo..` of
/// the table; rows with a zero or non-finite `inv` contribute 0.
fn tiled_sums<T: Unit>(view: &TableView<'_>, inv: &[f64], lo: usize, dists: &[usize]) -> Vec<f64> {
    let (n, dim) = (inv.len(), view.dim());
    let Some(&dmax) = dists.last() else {
        return Vec::new();
    };
    let scale: Vec<f64> = inv
        .iter()
        .map(|&s| if s.is_finite() { s } else { 0.0 })
        .collect();
    let unit = std::mem::size_of::<T>();
    let width = (SUPER_TILE_BYTES / (n * unit).max(1) / LANES * LANES).clamp(LANES, MAX_WIDTH);
    let strips = dim.div_ceil(width);
    let threads = threads_for(n * dim * dists.len());
    // Fewer strips than workers: split each strip's rows as well.
    let parts = threads.div_ceil(strips).clamp(1, n);
    let jobs: Vec<Job> = (0..strips)
        .flat_map(|s| {
            (0..parts).map(move |p| Job {
                col0: s * width,
                rows: n * p / parts..n * (p + 1) / parts,
            })
        })
        .filter(|j| !j.rows.is_empty())
        .collect();
    let workers = threads.min(jobs.len()).max(1);
    let work = |w: usize| {
        let mine: Vec<&Job> = jobs.iter().skip(w).step_by(workers).collect();
        worker::<T>(view, &scale, lo, width, dmax, dists, &mine)
    };
    on_workers(workers, dists.len(), work)
}

#[allow(clippy::too_many_arguments)]
fn worker<T: Unit>(
    view: &TableView<'_>,
    scale: &[f64],
    lo: usize,
    width: usize,
    dmax: usize,
    dists: &[usize],
    jobs: &[&Job],
) -> Vec<f64> {
    let (n, dim) = (scale.len(), view.dim());
    let mut out = vec![0.0f64; dists.len()];
    // Each job's tile rows: its own rows plus the partners after them.
    let tile_rows = |j: &Job| j.rows.start..(j.rows.end + dmax).min(n);
    let most = jobs.iter().map(|j| tile_rows(j).len()).max().unwrap_or(0);
    let mut buf = vec![[T::default(); LANES]; most * (width / LANES)];
    let mut seg = vec![T::default(); width];
    let row = |i: usize| view.row_bytes(i);
    for job in jobs {
        let rows = tile_rows(job);
        let len = rows.len();
        let cols = dim.saturating_sub(job.col0).min(width);
        let ntiles = cols.div_ceil(LANES);
        let seg = &mut seg[..ntiles * LANES];
        let table_rows = lo + rows.start..lo + rows.end;
        let buf = &mut buf[..ntiles * len];
        let strip = Strip {
            row: &row,
            dtype: view.dtype(),
            dim,
            rows: table_rows,
            col0: job.col0,
            scale: &scale[rows],
        };
        fill(&strip, seg, buf);
        for tile in buf.chunks_exact(len) {
            for (k, group) in dists.chunks(MAX_GROUP).enumerate() {
                let at = k * MAX_GROUP;
                tile_sums(tile, job.rows.len(), group, &mut out[at..at + group.len()]);
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "similarity_profile_tests.rs"]
mod tests;
