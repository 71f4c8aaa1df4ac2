//! The profile's sums for F32/F16/BF16 tables, straight from the table's bytes, one strip of
//! columns at a time: a worker fills its one reused strip buffer (a few 8-column tiles of
//! every row, the unit values `f32(x · 1/‖row‖)`) and sums every distance over each tile
//! while the strip is in cache. No buffer the size of the table: fresh memory costs a page
//! clear per 4 KiB (on this project's VM that was most of the time), and the table is read
//! twice in all (the map's pass, this one).
//!
//! The order of the additions is fixed by the tiles, not by how the strips were shared out:
//! the sums are those of 8-column tiles `c` (and, when there are fewer tiles than workers,
//! parts of their rows), job `j = c·parts + p` added into sum `j mod W` in ascending `j`,
//! the W sums then added up. Each job's kernel results are recorded and replayed in that
//! order, so the profile does not depend on the strip width or on which thread ran what.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::similarity::{threads_for, TableView};
use super::tile_kernels::{fill, tile_sums_emit, Strip, LANES, MAX_GROUP};
use super::zeroed::Zeroed;
use crate::watch::pool;

/// Bytes of one worker's strip buffer: a row's segment is then 512 B of an F32 table of
/// 8192 rows (one page visit reads 8 cache lines; page walks, not bytes, are the cost of
/// reading a table column-wise), the strip stays in L2/L3, and its fresh pages (each one a
/// fault and a page clear) stay few.
const STRIP_BYTES: usize = 4 << 20;
/// Widest strip, in tiles.
const MAX_STRIP_TILES: usize = 128;
/// Most workers a sum is split over (see `threads_for`).
const MAX_WORKERS: usize = 4;

/// One job's kernel results, in the order they are added: (index into the distances, sum).
type Record = Vec<(u32, f64)>;

/// The workers' strip buffers, reused by every pass of one computation (fresh memory is
/// paid for page by page; on a VM, dearly).
#[derive(Default)]
pub(super) struct Scratch {
    bufs: [Mutex<Lines>; MAX_WORKERS],
}

/// A worker's strip buffer, page-aligned (`Zeroed`). Aligned, a tile of an even number of rows
/// starts on a cache line, and neither the AVX2 kernel's 32-byte loads of a row nor the
/// AVX-512 kernel's 64-byte loads of two (even first) straddle two lines; a `Vec` of this size
/// sits 16 bytes past a page (glibc), and then they did: the AVX2 kernel took 0.46 ns per row
/// and distance on such a tile against 0.33 ns aligned (8192 rows, the 13 profile distances,
/// L2-resident, this VM).
#[derive(Default)]
struct Lines(Zeroed<[f32; LANES]>);

impl Lines {
    /// At least `rows` tile rows (holding anything).
    fn rows(&mut self, rows: usize) -> &mut [[f32; LANES]] {
        if self.0.len() < rows {
            self.0 = Zeroed::new(rows);
        }
        self.0.as_mut_slice()
    }
}

/// `Σ_i u_i · u_{i+d}` for each distance `d` of each set (ascending, each < `inv.len()`) over
/// table rows `lo..lo + inv.len()`; rows whose `inv` is 0 or not finite contribute 0. One
/// read of the table for all sets when their work splits alike (else one read each). Each
/// set's sums are exactly those of a call with that set alone, whatever the other sets and
/// whatever `strip_bytes`.
pub(super) fn unit_sums_sets(
    view: &TableView<'_>,
    inv: &[f64],
    lo: usize,
    sets: &[Vec<usize>],
    scratch: &Scratch,
    strip_bytes: usize,
) -> Vec<Vec<f64>> {
    let n = inv.len();
    let tiles = view.dim().div_ceil(LANES);
    // Per set: how its sums are split (threads, parts of the rows, sums added up).
    let split = |set: &Vec<usize>| {
        let threads = threads_for(n * tiles * LANES * set.len());
        let parts = threads.div_ceil(tiles).clamp(1, n.max(1));
        (parts, threads.min(tiles * parts).max(1))
    };
    let splits: Vec<(usize, usize)> = sets.iter().map(split).collect();
    let parts = splits.first().map_or(1, |s| s.0);
    if splits.iter().any(|s| s.0 != parts) {
        return sets
            .iter()
            .flat_map(|set| {
                unit_sums_sets(
                    view,
                    inv,
                    lo,
                    std::slice::from_ref(set),
                    scratch,
                    strip_bytes,
                )
            })
            .collect();
    }
    let dmaxes: Vec<usize> = sets
        .iter()
        .map(|s| s.last().copied().unwrap_or(0))
        .collect();
    let dmax = dmaxes.iter().copied().max().unwrap_or(0);
    if n == 0 || sets.iter().all(|s| s.is_empty()) {
        return sets.iter().map(|s| vec![0.0; s.len()]).collect();
    }
    let jobs = tiles * parts;
    let scale: Vec<f64> = inv
        .iter()
        .map(|&s| if s.is_finite() { s } else { 0.0 })
        .collect();
    // Each part's own rows and the rows its tiles hold (its own plus their partners).
    let own = |p: usize| n * p / parts..n * (p + 1) / parts;
    let held = |p: usize| own(p).start..(own(p).end + dmax).min(n);
    let most = (0..parts).map(|p| held(p).len()).max().unwrap_or(0);
    let width = (strip_bytes / (most * LANES * 4).max(1)).clamp(1, MAX_STRIP_TILES);
    let strips = tiles.div_ceil(width);
    // Unit u: strip u / parts, part u % parts.
    let units = strips * parts;
    let workers = splits
        .iter()
        .map(|s| s.1)
        .max()
        .unwrap_or(1)
        .min(units)
        .max(1);
    let next = AtomicUsize::new(0);
    let work = |w: usize| -> Vec<(usize, Vec<Record>)> {
        let mut guard = scratch.bufs[w % MAX_WORKERS]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let lines = guard.rows(most * width.min(tiles));
        let mut seg = vec![0.0f32; width.min(tiles) * LANES];
        let mut out = Vec::new();
        // Units are claimed one at a time, not dealt out: a worker that started late (its
        // buffer's pages, a busy core) or whose strips read slower takes fewer of them.
        loop {
            let u = next.fetch_add(1, Ordering::Relaxed);
            if u >= units {
                break;
            }
            let (strip, p) = (u / parts, u % parts);
            let first = strip * width;
            let count = width.min(tiles - first);
            let rows = held(p);
            let len = rows.len();
            let buf = &mut lines[..count * len];
            let strip = Strip {
                row: &|i| view.row_bytes(i),
                dtype: view.dtype(),
                dim: view.dim(),
                rows: lo + rows.start..lo + rows.end,
                col0: first * LANES,
                scale: &scale[rows.clone()],
            };
            fill(&strip, &mut seg[..count * LANES], buf);
            for (t, tile) in buf.chunks_exact(len).enumerate() {
                let records = sets
                    .iter()
                    .zip(&dmaxes)
                    .map(|(set, &dm)| {
                        // The tile as a call with this set alone would hold it.
                        let end = (own(p).end + dm).min(n) - rows.start;
                        job_sums(&tile[..end], own(p).len(), set)
                    })
                    .collect();
                out.push(((first + t) * parts + p, records));
            }
        }
        out
    };
    let work = &work;
    let done: Vec<Vec<(usize, Vec<Record>)>> = if workers == 1 {
        vec![work(0)]
    } else {
        pool::shared().scope(|s| {
            let tasks: Vec<_> = (0..workers).map(|w| s.spawn(move || work(w))).collect();
            tasks.into_iter().map(|t| t.join()).collect()
        })
    };
    let mut records: Vec<Vec<Record>> = vec![Vec::new(); jobs];
    for (j, r) in done.into_iter().flatten() {
        if let Some(slot) = records.get_mut(j) {
            *slot = r;
        }
    }
    sets.iter()
        .zip(&splits)
        .enumerate()
        .map(|(k, (set, &(_, sums)))| replay(records.iter().map(|r| r.get(k)), sums, set.len()))
        .collect()
}

/// One tile's kernel results: its first `count` rows paired with the rows after them.
fn job_sums(tile: &[[f32; LANES]], count: usize, dists: &[usize]) -> Record {
    let mut record = Record::new();
    for (g, group) in dists.chunks(MAX_GROUP).enumerate() {
        let at = g * MAX_GROUP;
        tile_sums_emit(tile, count, group, &mut |k, v| {
            record.push(((at + k) as u32, v))
        });
    }
    record
}

/// Job `j`'s records added into sum `j mod sums`, ascending; then the sums added up.
fn replay<'a>(
    records: impl Iterator<Item = Option<&'a Record>> + Clone,
    sums: usize,
    len: usize,
) -> Vec<f64> {
    let mut total = vec![0.0f64; len];
    for w in 0..sums {
        let mut part = vec![0.0f64; len];
        for record in records.clone().skip(w).step_by(sums).flatten() {
            for &(k, v) in record {
                if let Some(s) = part.get_mut(k as usize) {
                    *s += v;
                }
            }
        }
        for (t, p) in total.iter_mut().zip(part) {
            *t += p;
        }
    }
    total
}

/// The default strip size (tests vary it).
pub(super) const DEFAULT_STRIP_BYTES: usize = STRIP_BYTES;
