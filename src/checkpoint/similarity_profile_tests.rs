//! The tiled profile against a naive f64 reference (decode both rows, cos = a·b / ‖a‖‖b‖):
//! every dtype, widths that are not a multiple of 8, zero and non-finite rows, row ranges,
//! more distances than one kernel call takes, and both ways of splitting the work.
//! Tolerance 1e-6 absolute on a mean cosine: unit values held in f32 carry ~6e-8 relative
//! error each and the f32 lane sums ~1e-7 of at most 128 products; F64 tables stay in f64
//! (1e-12).

use super::*;
use crate::checkpoint::similarity::block_map;
use crate::checkpoint::unit_strips::{unit_sums_sets, Scratch};

fn table(n: usize, d: usize, seed: u64, dtype: Dtype) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::new();
    for i in 0..n {
        for k in 0..d {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let noise = (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            // Similarity that decays with distance, as in a trained table.
            let v = ((i as f64) * (k as f64 + 1.0) / (d as f64 * 7.0)).sin() + 0.5 * noise;
            match dtype {
                Dtype::F32 => out.extend((v as f32).to_le_bytes()),
                Dtype::F64 => out.extend(v.to_le_bytes()),
                Dtype::F16 => out.extend(half::f16::from_f64(v).to_le_bytes()),
                _ => out.extend(half::bf16::from_f64(v).to_le_bytes()),
            }
        }
    }
    out
}

fn set_row(bytes: &mut [u8], dtype: Dtype, d: usize, i: usize, v: f64) {
    let w = dtype.size();
    for k in 0..d {
        let at = (i * d + k) * w;
        match dtype {
            Dtype::F32 => bytes[at..at + 4].copy_from_slice(&(v as f32).to_le_bytes()),
            Dtype::F64 => bytes[at..at + 8].copy_from_slice(&v.to_le_bytes()),
            Dtype::F16 => bytes[at..at + 2].copy_from_slice(&half::f16::from_f64(v).to_le_bytes()),
            _ => bytes[at..at + 2].copy_from_slice(&half::bf16::from_f64(v).to_le_bytes()),
        }
    }
}

fn naive(view: &TableView<'_>, (lo, hi): (usize, usize), dist: usize) -> f64 {
    let d = view.dim();
    let (mut a, mut b) = (vec![0.0; d], vec![0.0; d]);
    let (mut sum, mut count) = (0.0, 0u64);
    for i in lo..hi.saturating_sub(dist) {
        view.decode_row(i, &mut a);
        view.decode_row(i + dist, &mut b);
        let (na, nb) = (
            a.iter().map(|v| v * v).sum::<f64>(),
            b.iter().map(|v| v * v).sum::<f64>(),
        );
        if na == 0.0 || nb == 0.0 {
            continue;
        }
        let dot: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        sum += dot / (na.sqrt() * nb.sqrt());
        count += 1;
    }
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

fn check(
    n: usize,
    d: usize,
    dtype: Dtype,
    rows: (usize, usize),
    dists: &[usize],
    edit: &[(usize, f64)],
) {
    let mut bytes = table(n, d, (n * 31 + d) as u64, dtype);
    for &(i, v) in edit {
        set_row(&mut bytes, dtype, d, i, v);
    }
    let view = TableView::new(&bytes, dtype, n, d).expect("view");
    let tol = if dtype == Dtype::F64 { 1e-12 } else { 1e-6 };
    let norms = block_map(&view, rows, 4).2;
    let got = mean_at(&view, &norms, rows, dists);
    for (&dist, &g) in dists.iter().zip(&got) {
        let want = naive(&view, rows, dist);
        assert!(
            (g.is_nan() && want.is_nan()) || (g - want).abs() <= tol,
            "{dtype} n={n} d={d} rows={rows:?} dist={dist}: {g} vs {want}"
        );
    }
}

#[test]
fn every_dtype_matches_the_f64_reference() {
    for dtype in [Dtype::F32, Dtype::F16, Dtype::BF16, Dtype::F64] {
        check(200, 37, dtype, (0, 200), &profile_distances(200), &[]);
    }
}

#[test]
fn widths_ranges_and_unsorted_repeated_distances() {
    for d in [1usize, 7, 8, 9, 64, 300] {
        check(
            90,
            d,
            Dtype::F32,
            (0, 90),
            &[64, 1, 3, 1, 89, 90, 500, 0],
            &[],
        );
    }
    check(150, 24, Dtype::F32, (17, 133), &[1, 2, 5, 115, 116], &[]);
}

#[test]
fn more_distances_than_one_kernel_call() {
    let dists: Vec<usize> = (1..40).collect();
    check(120, 16, Dtype::F32, (0, 120), &dists, &[]);
    check(120, 16, Dtype::F64, (0, 120), &dists, &[]);
}

#[test]
fn zero_rows_count_for_nothing_and_nan_rows_poison_their_pairs() {
    check(
        40,
        12,
        Dtype::F32,
        (0, 40),
        &profile_distances(40),
        &[(3, 0.0), (4, 0.0)],
    );
    // Rows 0, 2, 3, 4 zero, row 1 NaN: at distances 1 and 2 its partners are all zero rows
    // (those pairs are left out), at 4 and 5 they are not (the mean is NaN).
    let mut bytes = table(12, 8, 5, Dtype::F32);
    for i in [0, 2, 3, 4] {
        set_row(&mut bytes, Dtype::F32, 8, i, 0.0);
    }
    set_row(&mut bytes, Dtype::F32, 8, 1, f64::NAN);
    let view = TableView::new(&bytes, Dtype::F32, 12, 8).expect("view");
    let norms = block_map(&view, (0, 12), 2).2;
    let got = mean_at(&view, &norms, (0, 12), &[1, 2, 4, 5]);
    for (k, dist) in [1, 2].into_iter().enumerate() {
        assert!(
            (got[k] - naive(&view, (0, 12), dist)).abs() <= 1e-6,
            "{got:?}"
        );
    }
    assert!(got[2].is_nan() && got[3].is_nan(), "{got:?}");
}

#[test]
fn both_ways_of_splitting_the_work_agree_with_the_reference() {
    // One super-tile, many rows: the rows are split between workers.
    check(
        3000,
        40,
        Dtype::F32,
        (0, 3000),
        &profile_distances(3000),
        &[(7, 0.0)],
    );
    // Several super-tiles.
    check(
        300,
        1000,
        Dtype::F32,
        (0, 300),
        &profile_distances(300),
        &[],
    );
    // One 8-column tile, fewer tiles than workers: its rows are split into parts.
    check(
        12000,
        8,
        Dtype::BF16,
        (0, 12000),
        &profile_distances(12000),
        &[(40, 0.0)],
    );
}

/// The order of the additions is the tiles', not the strips': any strip width gives the
/// same sums bit for bit (so the profile does not move with the buffer size or the split).
#[test]
fn the_strip_width_does_not_change_a_bit() {
    for (n, d, dtype) in [(700, 300, Dtype::F32), (12000, 8, Dtype::F16)] {
        let bytes = table(n, d, 11, dtype);
        let view = TableView::new(&bytes, dtype, n, d).expect("view");
        let norms = block_map(&view, (0, n), 3).2;
        let dists = profile_distances(n);
        let sums = |sets: &[Vec<usize>], bytes| {
            unit_sums_sets(&view, &norms.inv, 0, sets, &Scratch::default(), bytes)
        };
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let base = sums(std::slice::from_ref(&dists), 1).remove(0);
        // Another set summed in the same pass (the summary's probes) changes nothing either.
        let probes = vec![3usize, 5, 6, 7];
        let alone = sums(std::slice::from_ref(&probes), 1).remove(0);
        // Workers claim strips as they go: whichever ran what, and however often, the same.
        for bytes in [40 << 10, 1 << 20, 64 << 20, 40 << 10, 40 << 10] {
            let got = sums(&[dists.clone(), probes.clone()], bytes);
            assert_eq!(
                bits(&got[0]),
                bits(&base),
                "{dtype} n={n} d={d} strip {bytes}"
            );
            assert_eq!(
                bits(&got[1]),
                bits(&alone),
                "{dtype} n={n} d={d} strip {bytes}"
            );
        }
    }
}

/// Every kernel this CPU has (portable, AVX2, AVX-512) agrees with an f64 sum, on segments of
/// odd and even lengths (AVX-512 takes rows two at a time).
#[test]
fn every_kernel_agrees_with_the_f64_sum() {
    use super::super::tile_kernels::{best_isa, tile_sums_with, Isa};
    let n = 500;
    let tile: Vec<[f32; LANES]> = (0..n)
        .map(|i| std::array::from_fn(|l| ((i * 8 + l) as f32 * 0.37).sin() / 3.0))
        .collect();
    let dists = [1usize, 2, 4, 8, 16, 32, 64, 128, 256, 300, 400, 450, 499];
    let isas: Vec<Isa> = [Isa::Portable, Isa::Avx2, Isa::Avx512]
        .into_iter()
        .filter(|&i| i <= best_isa())
        .collect();
    // `count` below the tile's rows: the last rows are partners only; odd and even counts.
    for count in [n - 20, n - 21, 1, 2, 3] {
        for group in [&dists[..], &dists[..1], &dists[..3], &dists[1..6]] {
            for &isa in &isas {
                let mut got = vec![0.0; group.len()];
                tile_sums_with(isa, &tile, count, group, &mut got);
                for (k, &d) in group.iter().enumerate() {
                    let want: f64 = (0..count.min(n.saturating_sub(d)))
                        .map(|i| {
                            (0..LANES)
                                .map(|l| tile[i][l] as f64 * tile[i + d][l] as f64)
                                .sum::<f64>()
                        })
                        .sum();
                    assert!(
                        (got[k] - want).abs() <= 1e-5 * (1.0 + want.abs()),
                        "{isa:?} count={count} d={d}: {} vs {want}",
                        got[k]
                    );
                }
            }
        }
    }
}
