//! The unit rows of an F32/F16/BF16 table, written as f32 column tiles by the map's pass (which
//! decodes every row anyway and knows its norm), so the profile and the summary's probes read
//! contiguous 256 KiB tiles instead of the table's bytes a few hundred at a time, one page
//! after another. At most [`MAX_BYTES`] (the table's size in f32, rounded up to 8 columns);
//! larger tables build their tiles from the table's bytes instead (`similarity_profile`).
//! The memory is an anonymous map with transparent huge pages where the kernel grants them
//! (one page-table walk per 2 MiB, and 64 page faults instead of 32768 for 128 MiB).

use std::fmt;

use memmap2::MmapMut;

use super::tile_kernels::LANES;

/// The most memory the tiles may take.
const MAX_BYTES: usize = 256 << 20;

/// `tiles` column tiles of `rows` unit rows each (`[tiles][rows][8]` f32), rows from table
/// row `lo`; zero and non-finite rows hold 0.
pub(crate) struct UnitTiles {
    mem: MmapMut,
    pub lo: usize,
    pub rows: usize,
    pub tiles: usize,
}

impl fmt::Debug for UnitTiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UnitTiles({} × {} rows from {})",
            self.tiles, self.rows, self.lo
        )
    }
}

impl UnitTiles {
    /// Zeroed tiles for rows `lo..lo + rows` of `dim` columns; `None` past [`MAX_BYTES`] or
    /// when the memory cannot be had.
    pub fn new(lo: usize, rows: usize, dim: usize) -> Option<UnitTiles> {
        let tiles = dim.div_ceil(LANES);
        let bytes = tiles
            .checked_mul(rows)?
            .checked_mul(LANES * 4)
            .filter(|&b| b > 0 && b <= MAX_BYTES)?;
        let mem = MmapMut::map_anon(bytes).ok()?;
        #[cfg(target_os = "linux")]
        let _ = mem.advise(memmap2::Advice::HugePage); // a hint; fine if refused
        Some(UnitTiles {
            mem,
            lo,
            rows,
            tiles,
        })
    }

    fn all(&self) -> &[[f32; LANES]] {
        // SAFETY: the map is page-aligned, `tiles·rows·32` bytes long, and every bit pattern
        // is a valid f32.
        unsafe {
            std::slice::from_raw_parts(
                self.mem.as_ptr() as *const [f32; LANES],
                self.tiles * self.rows,
            )
        }
    }

    fn all_mut(&mut self) -> &mut [[f32; LANES]] {
        // SAFETY: as in `all`, and `&mut self` makes the borrow unique.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.mem.as_mut_ptr() as *mut [f32; LANES],
                self.tiles * self.rows,
            )
        }
    }

    /// Tile `c`: its `rows` rows of 8 columns.
    pub fn tile(&self, c: usize) -> &[[f32; LANES]] {
        &self.all()[c * self.rows..(c + 1) * self.rows]
    }

    /// Each part's rows of every tile, for parts ending at row offsets `ends` (ascending, the
    /// last = `rows`): disjoint, so the parts can be written on different threads.
    pub fn parts_mut(&mut self, ends: &[usize]) -> Vec<TileRows<'_>> {
        let rows = self.rows;
        let mut parts: Vec<TileRows<'_>> = ends
            .iter()
            .map(|_| TileRows { tiles: Vec::new() })
            .collect();
        for mut tile in self.all_mut().chunks_exact_mut(rows) {
            let mut start = 0;
            for (part, &end) in parts.iter_mut().zip(ends) {
                let (mine, rest) = tile.split_at_mut(end.clamp(start, rows) - start);
                part.tiles.push(mine);
                tile = rest;
                start = end.clamp(start, rows);
            }
        }
        parts
    }
}

/// One part's rows of every tile.
pub(crate) struct TileRows<'a> {
    tiles: Vec<&'a mut [[f32; LANES]]>,
}

impl TileRows<'_> {
    /// Writes row `r` of the part: `row · scale`, in f32.
    pub fn put(&mut self, r: usize, row: &[f64], scale: f64) {
        #[cfg(target_arch = "x86_64")]
        if super::tile_kernels::has_avx2() {
            // SAFETY: AVX2 detected.
            unsafe { put_avx(&mut self.tiles, r, row, scale) };
            return;
        }
        put_impl(&mut self.tiles, r, row, scale)
    }
}

#[inline(always)]
fn put_impl(tiles: &mut [&mut [[f32; LANES]]], r: usize, row: &[f64], scale: f64) {
    for (tile, chunk) in tiles.iter_mut().zip(row.chunks(LANES)) {
        if let Some(out) = tile.get_mut(r) {
            let mut v = [0.0f32; LANES];
            for (o, &x) in v.iter_mut().zip(chunk) {
                *o = (x * scale) as f32;
            }
            *out = v;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn put_avx(tiles: &mut [&mut [[f32; LANES]]], r: usize, row: &[f64], scale: f64) {
    put_impl(tiles, r, row, scale)
}
