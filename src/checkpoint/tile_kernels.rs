//! The profile's inner loops, on column tiles of unit rows.
//!
//! A tile is 8 columns of every row of a range, stored row after row (`[rows][8]`): at
//! 8192 rows it is 256 KiB and stays in L2 while every distance is summed over it. For one
//! row `t_i` (one ymm register) the kernel adds `t_i · t_{i+d}` into one accumulator per
//! distance, up to [`MAX_GROUP`] distances at once (13 accumulators + `t_i` + a load = 15 of
//! the 16 ymm registers). F32 products are summed in f32 lanes for [`FLUSH`] rows, then added
//! into f64: every product of unit values is at most 1 in magnitude, so a lane holds at most
//! `FLUSH` and keeps ~7 significant digits of it; the f64 sums over lanes, tiles and flushes
//! then average those rounding errors down (the tests hold the means to 1e-6 of an f64
//! reference). F64 tiles (F64 tables) are summed in f64.
//!
//! [`fill`] builds the tiles of a "super-tile" (a run of columns) from the table's bytes:
//! one contiguous segment per row (many cache lines per page visit, not one), decoded exactly
//! to f32 (F32/F16/BF16) or kept f64 (F64), scaled by the row's `1/‖row‖` in f64 (an f32 unit
//! value is `f32(x · (1/‖row‖))`, one rounding).

use std::ops::{Add, Mul, Range};
use std::sync::OnceLock;

use crate::tensor::Dtype;

/// Columns per tile (one ymm of f32).
pub(crate) const LANES: usize = 8;
/// Distances one kernel call sums at once.
pub(crate) const MAX_GROUP: usize = 13;
/// Rows summed in f32 lanes before they are added into f64.
const FLUSH: usize = 128;
/// Rows ahead that [`fill`] prefetches.
const AHEAD: usize = 8;

/// A value a tile holds: f32 (F32/F16/BF16 tables) or f64 (F64 tables).
pub(crate) trait Unit:
    Copy + Default + PartialEq + Send + Sync + Add<Output = Self> + Mul<Output = Self> + 'static
{
    fn wide(self) -> f64;
    /// `self · s`, computed in f64 and rounded once to `Self`.
    fn scaled(self, s: f64) -> Self;
    /// Decodes `out.len()` values of `dtype` from `src` (little-endian, any alignment).
    fn decode(dtype: Dtype, src: &[u8], out: &mut [Self]);
}

impl Unit for f32 {
    fn wide(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn scaled(self, s: f64) -> f32 {
        (self as f64 * s) as f32
    }
    #[inline(always)]
    fn decode(dtype: Dtype, src: &[u8], out: &mut [f32]) {
        match dtype {
            Dtype::F32 => {
                for (o, c) in out.iter_mut().zip(src.chunks_exact(4)) {
                    *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                }
            }
            Dtype::F16 => {
                for (o, c) in out.iter_mut().zip(src.chunks_exact(2)) {
                    *o = half::f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32();
                }
            }
            Dtype::BF16 => {
                for (o, c) in out.iter_mut().zip(src.chunks_exact(2)) {
                    *o = f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16);
                }
            }
            // F64 tables use f64 tiles; nothing else reaches a TableView.
            _ => out.fill(0.0),
        }
    }
}

impl Unit for f64 {
    fn wide(self) -> f64 {
        self
    }
    #[inline(always)]
    fn scaled(self, s: f64) -> f64 {
        self * s
    }
    fn decode(dtype: Dtype, src: &[u8], out: &mut [f64]) {
        super::kernels::decode_into(src, dtype, out);
    }
}

/// The rows and columns of the table a strip of tiles is filled from ([`fill`]).
pub(crate) struct Strip<'a, 'r> {
    /// Table row `i`'s bytes.
    pub row: &'r dyn Fn(usize) -> &'a [u8],
    pub dtype: Dtype,
    /// The table's width.
    pub dim: usize,
    /// The table rows the tiles hold.
    pub rows: Range<usize>,
    /// The strip's first column.
    pub col0: usize,
    /// Per row of `rows`, its `1/‖row‖` (0 for rows that must contribute nothing).
    pub scale: &'r [f64],
}

/// Tiles `0..ntiles` of a super-tile starting at column `col0`, for table rows `rows`:
/// `buf[c·len + r][l] = row_{rows.start+r}[col0 + 8c + l] · scale[r]` (columns past the
/// table's width are 0). `seg` is scratch of `8·ntiles` values. `buf` is written whole: it
/// may hold anything before.
#[inline(always)]
fn fill_impl<T: Unit>(strip: &Strip<'_, '_>, seg: &mut [T], buf: &mut [[T; LANES]]) {
    let Strip {
        row,
        dtype,
        dim,
        ref rows,
        col0,
        scale,
    } = *strip;
    let len = rows.len();
    let ntiles = seg.len() / LANES;
    let cols = dim.saturating_sub(col0).min(seg.len());
    let size = dtype.size();
    for (r, i) in rows.clone().enumerate() {
        // Far enough ahead to cover the page walk and the memory latency of a row that is
        // a page (or more) away from the last one.
        if r + AHEAD < len {
            prefetch(&row(i + AHEAD)[col0 * size..(col0 + cols) * size]);
        }
        let s = scale[r];
        if s == 0.0 {
            // Zero and non-finite rows contribute nothing (NaN · 0 would be NaN).
            seg.fill(T::default());
        } else {
            let src = &row(i)[col0 * size..(col0 + cols) * size];
            T::decode(dtype, src, &mut seg[..cols]);
            seg[cols..].fill(T::default());
        }
        for (c, chunk) in seg.chunks_exact(LANES).enumerate().take(ntiles) {
            let out = &mut buf[c * len + r];
            for (o, &v) in out.iter_mut().zip(chunk) {
                *o = v.scaled(s);
            }
        }
    }
}

fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        // SAFETY: prefetch is a hint (SSE, part of x86-64); the pointer is in bounds and never
        // dereferenced.
        #[allow(unused_unsafe)]
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr() as *const i8
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// See [`fill_impl`]; compiled for AVX2 where the CPU has it (the decode and scale loops
/// vectorise 8-wide there, 4-wide on the x86-64 baseline).
pub(crate) fn fill<T: Unit>(strip: &Strip<'_, '_>, seg: &mut [T], buf: &mut [[T; LANES]]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: AVX2, FMA and F16C were detected.
        unsafe { x86::fill_avx(strip, seg, buf) };
        return;
    }
    fill_impl(strip, seg, buf)
}

/// The kernels a tile can be summed with: the best one the CPU has is used; the tests run
/// each of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Isa {
    Portable,
    /// AVX2+FMA (and F16C for the fill).
    Avx2,
    /// AVX-512F, on top of the above.
    Avx512,
}

/// The best kernel this CPU runs.
pub(crate) fn best_isa() -> Isa {
    static BEST: OnceLock<Isa> = OnceLock::new();
    *BEST.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            return if std::arch::is_x86_feature_detected!("avx512f") {
                Isa::Avx512
            } else {
                Isa::Avx2
            };
        }
        Isa::Portable
    })
}

/// `out[k] += Σ t_i · t_{i+d_k}` over `i < count` with `i + d_k < tile.len()`, for ascending
/// `dists` (at most [`MAX_GROUP`]).
pub(crate) fn tile_sums<T: Unit>(
    tile: &[[T; LANES]],
    count: usize,
    dists: &[usize],
    out: &mut [f64],
) {
    by_segments(tile, count, dists, out, best_isa())
}

/// [`tile_sums`], each kernel call's per-distance sums handed to `emit(k, sum)` (`k` into
/// `dists`) in the order [`tile_sums`] adds them into `out`: replaying them as `out[k] += sum`
/// gives `tile_sums`'s result bit for bit.
pub(crate) fn tile_sums_emit<T: Unit>(
    tile: &[[T; LANES]],
    count: usize,
    dists: &[usize],
    emit: &mut dyn FnMut(usize, f64),
) {
    segments(tile, count, dists, &mut |v, rows| {
        let mut wide = [0.0f64; MAX_GROUP];
        run_group(tile, rows, &dists[..v], &mut wide[..v], best_isa());
        for (k, &w) in wide[..v].iter().enumerate() {
            emit(k, w);
        }
    })
}

/// [`tile_sums`] on the kernel `isa` (which the CPU must have; the tests ask only for those
/// up to [`best_isa`]).
#[cfg(test)]
pub(crate) fn tile_sums_with<T: Unit>(
    isa: Isa,
    tile: &[[T; LANES]],
    count: usize,
    dists: &[usize],
    out: &mut [f64],
) {
    by_segments(tile, count, dists, out, isa.min(best_isa()))
}

fn by_segments<T: Unit>(
    tile: &[[T; LANES]],
    count: usize,
    dists: &[usize],
    out: &mut [f64],
    isa: Isa,
) {
    let m = dists.len().min(out.len());
    segments(tile, count, &dists[..m], &mut |v, rows| {
        run_group(tile, rows, &dists[..v], &mut out[..v], isa)
    })
}

/// The kernel calls of one tile: `call(v, rows)` sums the first `v` distances over `rows`.
fn segments<T: Unit>(
    tile: &[[T; LANES]],
    count: usize,
    dists: &[usize],
    call: &mut dyn FnMut(usize, Range<usize>),
) {
    debug_assert!(dists.len() <= MAX_GROUP && dists.windows(2).all(|w| w[0] <= w[1]));
    let len = tile.len();
    let m = dists.len().min(MAX_GROUP);
    // Rows whose first v distances have a partner inside the tile: i < len − d_{v−1}, and
    // i ≥ len − d_v unless every distance does.
    for v in (1..=m).rev() {
        let end = len.saturating_sub(dists[v - 1]).min(count);
        let begin = if v == m {
            0
        } else {
            len.saturating_sub(dists[v]).min(count)
        };
        if begin < end {
            call(v, begin..end);
        }
    }
}

macro_rules! by_group_size {
    ($v:expr, $f:ident $(::<$t:ty>)?, ($($arg:expr),*)) => {
        match $v {
            1 => $f::<$($t,)? 1>($($arg),*),
            2 => $f::<$($t,)? 2>($($arg),*),
            3 => $f::<$($t,)? 3>($($arg),*),
            4 => $f::<$($t,)? 4>($($arg),*),
            5 => $f::<$($t,)? 5>($($arg),*),
            6 => $f::<$($t,)? 6>($($arg),*),
            7 => $f::<$($t,)? 7>($($arg),*),
            8 => $f::<$($t,)? 8>($($arg),*),
            9 => $f::<$($t,)? 9>($($arg),*),
            10 => $f::<$($t,)? 10>($($arg),*),
            11 => $f::<$($t,)? 11>($($arg),*),
            12 => $f::<$($t,)? 12>($($arg),*),
            _ => $f::<$($t,)? 13>($($arg),*),
        }
    };
}

/// Every `i` in `rows` has all of its partners `i + dists[k]` inside `tile`.
fn run_group<T: Unit>(
    tile: &[[T; LANES]],
    rows: Range<usize>,
    dists: &[usize],
    out: &mut [f64],
    isa: Isa,
) {
    let last = rows.end - 1 + dists[dists.len() - 1];
    if last >= tile.len() {
        return; // not reachable from tile_sums; never read past the tile
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(t) = as_f32(tile) {
        match isa.min(best_isa()) {
            // SAFETY: AVX-512F detected (best_isa); every index read is ≤ `last` < tile.len().
            Isa::Avx512 => unsafe {
                by_group_size!(dists.len(), group_avx512, (t, rows, dists, out))
            },
            // SAFETY: AVX2+FMA detected; every index read is ≤ `last` < tile.len().
            Isa::Avx2 => unsafe { by_group_size!(dists.len(), group_avx, (t, rows, dists, out)) },
            Isa::Portable => {
                by_group_size!(dists.len(), group_portable::<T>, (tile, rows, dists, out))
            }
        }
        return;
    }
    by_group_size!(dists.len(), group_portable::<T>, (tile, rows, dists, out))
}

#[cfg(target_arch = "x86_64")]
fn as_f32<T: Unit>(tile: &[[T; LANES]]) -> Option<&[[f32; LANES]]> {
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()).then(|| {
        // SAFETY: T is f32 (same TypeId), so the slice's layout is the same.
        unsafe { std::slice::from_raw_parts(tile.as_ptr() as *const [f32; LANES], tile.len()) }
    })
}

fn group_portable<T: Unit, const V: usize>(
    tile: &[[T; LANES]],
    rows: Range<usize>,
    dists: &[usize],
    out: &mut [f64],
) {
    let mut acc = [[T::default(); LANES]; V];
    let mut wide = [0.0f64; V];
    let mut i = rows.start;
    while i < rows.end {
        let stop = (i + FLUSH).min(rows.end);
        while i < stop {
            let t = tile[i];
            for (a, &d) in acc.iter_mut().zip(dists) {
                let p = tile[i + d];
                for l in 0..LANES {
                    a[l] = a[l] + t[l] * p[l];
                }
            }
            i += 1;
        }
        for (w, a) in wide.iter_mut().zip(acc.iter_mut()) {
            *w += a.iter().map(|v| v.wide()).sum::<f64>();
            *a = [T::default(); LANES];
        }
    }
    for (o, w) in out.iter_mut().zip(wide) {
        *o += w;
    }
}

pub(crate) fn has_avx2() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
                && std::arch::is_x86_feature_detected!("f16c")
        }
        #[cfg(not(target_arch = "x86_64"))]
        false
    })
}

#[cfg(target_arch = "x86_64")]
use x86::{group_avx, group_avx512};

#[cfg(target_arch = "x86_64")]
#[path = "tile_kernels/x86.rs"]
mod x86;
