//! The floor under the similarity figure of issue 14 on this machine: what the two reads of
//! the table and the profile's multiply-adds cost by themselves, against `cat FILE > /dev/null`
//! in the same run.
//!
//! Run: `TRAINWATCH_BENCH_TABLE=/tmp/table.safetensors cargo run --release --example
//! bench_similarity` (writes and keeps the F32 [8192, 4096] table), then
//! `cargo run --release --example bench_similarity_floor -- /tmp/table.safetensors`.
//!
//! The map needs each row's norm before its unit row is added to a block, and the profile's
//! pairs at distances of 1,024 rows and more lie further apart than L3 holds, so a computation
//! of both reads the table twice: once in rows, once in column strips. Measured here, each on a
//! fresh mapping (as a run pays for it), on all cores:
//! - a bare read in rows (every value added up: no norms, no block sums);
//! - a bare read in the profile's column strips (4 MiB strips of 512-byte row segments);
//! - the profile's multiply-adds: `mean_at` at 23 distances (13 profile + 10 probes, as the
//!   summary's search asks on this table) minus `mean_at` at one (the same read).
//!
//! Their sum is a floor for any design that reads twice and does not hide the arithmetic under
//! a read. Best of 7, interleaved. `FLOOR_STRIP=BYTES` reads column strips of another size.

use std::path::Path;
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

use trainwatch::checkpoint::similarity::{block_map, mean_at, profile_distances};
use trainwatch::checkpoint::TableView;
use trainwatch::tensor::{ReadMode, SafetensorsStore, TensorStore};

/// Bytes of one column strip (as the profile's fill reads them).
const STRIP_BYTES: usize = 4 << 20;

fn main() -> anyhow::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        anyhow::bail!(
            "usage: bench_similarity_floor TABLE.safetensors (TRAINWATCH_BENCH_TABLE=FILE \
             cargo run --release --example bench_similarity writes one)"
        );
    };
    let path = Path::new(&path);
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let mut best = [Duration::MAX; 5];
    let mut shape = (0, 0);
    for _ in 0..7 {
        best[0] = best[0].min(time(|| Ok(support::cat(path)?))?);
        best[1] = best[1].min(time(|| with_table(path, |v, b| rows_read(v, b, threads)))?);
        best[2] = best[2].min(time(|| {
            with_table(path, |v, b| strips_read(v, b, threads))
        })?);
        // The norms come from a map pass outside the timed part.
        with_table(path, |view, _| {
            shape = (view.rows(), view.dim());
            let n = view.rows();
            let norms = block_map(view, (0, n), 128).2;
            let mut many = profile_distances(n);
            many.extend((36..=60).step_by(4).chain(53..=55));
            let t = Instant::now();
            std::hint::black_box(mean_at(view, &norms, (0, n), &[1]));
            best[3] = best[3].min(t.elapsed());
            let t = Instant::now();
            std::hint::black_box(mean_at(view, &norms, (0, n), &many));
            best[4] = best[4].min(t.elapsed());
        })?;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let cat_t = best[0].as_secs_f64();
    let kernels = best[4].saturating_sub(best[3]);
    let floor = best[1] + best[2] + kernels;
    println!("table [{}, {}], {threads} threads", shape.0, shape.1);
    println!("cat FILE > /dev/null              {:7.1} ms", ms(best[0]));
    let line = |what: &str, d: Duration| {
        println!(
            "{what:34}{:7.1} ms  {:.2}× cat",
            ms(d),
            d.as_secs_f64() / cat_t
        )
    };
    line("bare read in rows", best[1]);
    line("bare read in column strips", best[2]);
    line("profile pass, 1 distance", best[3]);
    line("profile pass, 23 distances", best[4]);
    line("  so 22 distances' multiply-adds", kernels);
    line("floor: two reads + multiply-adds", floor);
    line("  the same, multiply-adds all hidden", best[1] + best[2]);
    Ok(())
}

/// Opens the table afresh (a new mapping) and runs `f` on it and on its bytes.
fn with_table(path: &Path, f: impl FnOnce(&TableView<'_>, &[u8])) -> anyhow::Result<()> {
    let store = SafetensorsStore::open(path, ReadMode::Mapped)?;
    let info = store
        .tensor("wpe.weight")
        .ok_or_else(|| anyhow::anyhow!("{}: no wpe.weight", path.display()))?;
    let (n, d) = (info.shape[0], info.shape[1]);
    let bytes = store.tensor_bytes(info)?;
    let view = TableView::new(&bytes, info.dtype, n, d)
        .ok_or_else(|| anyhow::anyhow!("{}: not an F32/F16/BF16 table", path.display()))?;
    f(&view, &bytes);
    Ok(())
}

/// The cheapest use of every byte: 8-byte words added up (vectorised; no decoding).
fn touch(bytes: &[u8]) -> u64 {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .fold(0u64, u64::wrapping_add)
}

/// Every byte, each thread a contiguous share of the rows.
fn rows_read(view: &TableView<'_>, bytes: &[u8], threads: usize) {
    let (n, w) = (view.rows(), bytes.len() / view.rows().max(1));
    std::thread::scope(|s| {
        for t in 0..threads {
            let mine = &bytes[n * t / threads * w..n * (t + 1) / threads * w];
            s.spawn(move || std::hint::black_box(touch(mine)));
        }
    });
}

/// The profile's read order: strips of columns, each strip's row segments top to bottom,
/// strips shared out between threads.
fn strips_read(view: &TableView<'_>, bytes: &[u8], threads: usize) {
    let (n, w) = (view.rows(), bytes.len() / view.rows().max(1));
    // `FLOOR_STRIP=BYTES` reads strips of another size (wider segments read faster).
    let strip_bytes = std::env::var("FLOOR_STRIP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(STRIP_BYTES);
    let seg = (strip_bytes / n.max(1)).clamp(64, w) / 64 * 64;
    let strips = w.div_ceil(seg);
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let mut sum = 0u64;
                for strip in (t..strips).step_by(threads) {
                    let cols = strip * seg..((strip + 1) * seg).min(w);
                    for i in 0..n {
                        // The segment 8 rows on is asked for now (as the profile's fill does):
                        // a strided read leaves the hardware prefetchers nothing to follow.
                        if let Some(ahead) =
                            bytes.get((i + 8) * w + cols.start..(i + 8) * w + cols.end)
                        {
                            prefetch(ahead);
                        }
                        sum = sum.wrapping_add(touch(&bytes[i * w + cols.start..i * w + cols.end]));
                    }
                }
                std::hint::black_box(sum);
            });
        }
    });
}

fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        // SAFETY: a prefetch is a hint; the pointer is in bounds and never dereferenced.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr() as *const i8
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

fn time(f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed())
}
