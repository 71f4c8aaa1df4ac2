//! The row kernels against the whole-row kernels of `checkpoint::kernels` on a decoded copy
//! (what the map's pass ran before): the same bits, for every dtype, on lengths around the
//! vector widths, unaligned bytes, and rows holding zeros, infinities and NaN.
use super::*;
use crate::checkpoint::kernels::{self, Kernels};
use crate::demo::Rng;

fn encode(vals: &[f64], dtype: Dtype) -> Vec<u8> {
    let mut bytes = vec![0u8]; // the row starts at an odd address
    for &v in vals {
        match dtype {
            Dtype::F32 => bytes.extend((v as f32).to_le_bytes()),
            Dtype::F64 => bytes.extend(v.to_le_bytes()),
            Dtype::F16 => bytes.extend(half::f16::from_f64(v).to_le_bytes()),
            _ => bytes.extend(half::bf16::from_f64(v).to_le_bytes()),
        }
    }
    bytes
}

/// `(sum of squares, acc after acc += s·row, prev·row)` the old way: decode, then the
/// whole-row kernels.
fn reference(
    k: &Kernels,
    row: &[u8],
    prev: &[u8],
    s: f64,
    acc: &[f64],
    dtype: Dtype,
) -> (f64, Vec<f64>, f64) {
    let n = acc.len();
    let (mut buf, mut pb) = (vec![0.0f64; n], vec![0.0f64; n]);
    let ss = (k.decode_sumsq)(row, dtype, &mut buf);
    let mut acc = acc.to_vec();
    (k.axpy)(&mut acc, &buf, s);
    kernels::decode_into(prev, dtype, &mut pb);
    (ss, acc, (k.dot)(&pb, &buf))
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn check(rk: &RowKernels, k: &Kernels, what: &str) {
    let mut rng = Rng::new(7);
    for n in [
        0usize, 1, 3, 4, 7, 8, 9, 15, 16, 17, 23, 24, 31, 33, 100, 4099,
    ] {
        for dtype in [Dtype::F32, Dtype::F64, Dtype::F16, Dtype::BF16] {
            for special in [None, Some(0.0), Some(f64::INFINITY), Some(f64::NAN)] {
                let mut gen = |_| rng.normal() * 3.0;
                let mut row: Vec<f64> = (0..n).map(&mut gen).collect();
                let prev: Vec<f64> = (0..n).map(&mut gen).collect();
                let acc: Vec<f64> = (0..n).map(&mut gen).collect();
                if let (Some(v), Some(slot)) = (special, row.get_mut(n / 2)) {
                    *slot = v;
                }
                let (rb, pb) = (encode(&row, dtype), encode(&prev, dtype));
                let (rb, pb) = (&rb[1..], &pb[1..]);
                let s = 0.37;
                let (ss, want_acc, want_dot) = reference(k, rb, pb, s, &acc, dtype);
                let at = format!("{what} {dtype} n={n} special={special:?}");
                assert!(same((rk.sumsq)(rb, dtype), ss), "sumsq {at}");
                let mut got = acc.clone();
                let dot = (rk.axpy_dot)(Some(&mut got), rb, s, Some(pb), dtype);
                assert!(same(dot, want_dot), "dot {at}: {dot} vs {want_dot}");
                assert!(
                    got.iter().zip(&want_acc).all(|(a, b)| same(*a, *b)),
                    "axpy {at}"
                );
                // Each half alone gives the same as both together.
                let mut alone = acc.clone();
                assert!((rk.axpy_dot)(Some(&mut alone), rb, s, None, dtype).is_nan());
                assert!(
                    alone.iter().zip(&want_acc).all(|(a, b)| same(*a, *b)),
                    "{at}"
                );
                assert!(
                    same((rk.axpy_dot)(None, rb, s, Some(pb), dtype), want_dot),
                    "{at}"
                );
            }
        }
    }
}

#[test]
fn selected_row_kernels_give_the_whole_row_kernels_bits() {
    check(row_kernels(), kernels::kernels(), "selected");
}

#[test]
fn portable_row_kernels_give_the_portable_bits() {
    check(&PORTABLE, &kernels::PORTABLE, "portable");
}

/// The AVX2 row kernels too, where the selected ones are the AVX-512 ones.
#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_row_kernels_give_the_whole_row_kernels_bits() {
    if crate::checkpoint::tile_kernels::has_avx2() {
        check(&x86::ROW_KERNELS, kernels::kernels(), "avx2");
    }
}
