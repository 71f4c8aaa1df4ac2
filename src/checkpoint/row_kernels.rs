//! The map pass's per-row loops straight from the table's bytes, with no decoded copy of the
//! row: [`RowKernels::sumsq`] (a first sweep: the row's sum of squares, which gives its
//! scale) and [`RowKernels::axpy_dot`] (a second sweep over the same bytes, now in L1: the
//! scaled row added into its block's sum, and its dot product with the previous row).
//!
//! The decoded f64 copy they replace cost a 32 KiB store and two 32 KiB reloads per row,
//! beside the 32 KiB block sum and the previous row: more than L1 holds, so every row went
//! through L2 several times. Here a row is 16 KiB of F32 bytes (8 KiB of F16/BF16), read
//! twice from L1, and the previous row's bytes are read once.
//!
//! Each result is bit for bit what `checkpoint::kernels` gives on the decoded row (the same
//! accumulators, in the same order, the same tails): `decode_sumsq`'s sum of squares, `axpy`
//! and `dot`. The tests check it on every dtype, odd lengths and unaligned bytes.

use std::sync::OnceLock;

use super::kernels::decode_into;
use crate::tensor::Dtype;

/// Function table; every entry is safe to call (the SIMD ones are only installed after the CPU
/// was checked).
#[derive(Clone, Copy)]
pub(crate) struct RowKernels {
    /// The sum of squares of the row `bytes` holds (as `decode_sumsq` computes it).
    pub sumsq: fn(bytes: &[u8], Dtype) -> f64,
    /// With `acc`: `acc += s · row` (as `axpy` on the decoded row). With `prev`: returns
    /// `prev · row` (as `dot`), else NaN. `acc`, `row` and `prev` hold as many values.
    pub axpy_dot: AxpyDot,
}

/// See [`RowKernels::axpy_dot`].
pub(crate) type AxpyDot =
    fn(acc: Option<&mut [f64]>, row: &[u8], s: f64, prev: Option<&[u8]>, Dtype) -> f64;

pub(crate) fn row_kernels() -> &'static RowKernels {
    static K: OnceLock<RowKernels> = OnceLock::new();
    K.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return x86::avx512::ROW_KERNELS;
            }
            return x86::ROW_KERNELS;
        }
        PORTABLE
    })
}

/// Values of `dtype` in `bytes`.
pub(super) fn values(bytes: &[u8], dtype: Dtype) -> usize {
    bytes.len() / dtype.size().max(1)
}

/// The portable kernels decode 64 values at a time onto the stack and run the portable
/// `checkpoint::kernels` loops over them in the same order as over the whole row.
pub(crate) const PORTABLE: RowKernels = RowKernels {
    sumsq: portable_sumsq,
    axpy_dot: portable_axpy_dot,
};

const CHUNK: usize = 64;

fn portable_sumsq(bytes: &[u8], dtype: Dtype) -> f64 {
    let n = values(bytes, dtype);
    let size = dtype.size();
    let mut acc = [0.0f64; 8];
    let mut buf = [0.0f64; CHUNK];
    let whole = n / 8 * 8;
    let mut i = 0;
    while i < whole {
        let m = CHUNK.min(whole - i);
        decode_into(&bytes[i * size..(i + m) * size], dtype, &mut buf[..m]);
        for x in buf[..m].chunks_exact(8) {
            for l in 0..8 {
                acc[l] += x[l] * x[l];
            }
        }
        i += m;
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    let m = n - whole;
    decode_into(&bytes[whole * size..n * size], dtype, &mut buf[..m]);
    for x in &buf[..m] {
        s += x * x;
    }
    s
}

fn portable_axpy_dot(
    mut acc: Option<&mut [f64]>,
    row: &[u8],
    s: f64,
    prev: Option<&[u8]>,
    dtype: Dtype,
) -> f64 {
    let n = values(row, dtype);
    let size = dtype.size();
    let (mut x, mut p) = ([0.0f64; CHUNK], [0.0f64; CHUNK]);
    let mut lanes = [0.0f64; 8];
    let whole = n / 8 * 8;
    let mut i = 0;
    while i < n {
        let m = CHUNK.min(n - i);
        decode_into(&row[i * size..(i + m) * size], dtype, &mut x[..m]);
        if let Some(acc) = acc.as_deref_mut() {
            for (a, v) in acc[i..i + m].iter_mut().zip(&x[..m]) {
                *a += v * s;
            }
        }
        if let Some(prev) = prev {
            decode_into(&prev[i * size..(i + m) * size], dtype, &mut p[..m]);
            let vec = m.min(whole.saturating_sub(i));
            for (a, b) in p[..vec].chunks_exact(8).zip(x[..vec].chunks_exact(8)) {
                for l in 0..8 {
                    lanes[l] += a[l] * b[l];
                }
            }
        }
        i += m;
    }
    let Some(prev) = prev else {
        return f64::NAN;
    };
    let l = lanes;
    let mut dot = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    let m = n - whole;
    decode_into(&row[whole * size..n * size], dtype, &mut x[..m]);
    decode_into(&prev[whole * size..n * size], dtype, &mut p[..m]);
    for (a, b) in p[..m].iter().zip(&x[..m]) {
        dot += a * b;
    }
    dot
}

#[cfg(target_arch = "x86_64")]
#[path = "row_kernels/x86.rs"]
pub(super) mod x86;

#[cfg(test)]
#[path = "row_kernels_tests.rs"]
mod tests;
