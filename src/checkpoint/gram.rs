//! `M·Mᵀ` for the map: the B×B dot products of the block means, each pair of row bands
//! computed once and mirrored.
//!
//! `M·Mᵀ` is symmetric, and bit for bit so: matrixmultiply sums each cell over k in the same
//! order whichever operand a row came from, and `a·b = b·a` exactly. So the bands (i, j) with
//! j ≥ i are multiplied (at 4 bands, 10 products of 16: 62.5 % of the work) and (j, i) is the
//! transpose of (i, j); the tests hold it to the full product, bit for bit.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2};

use crate::watch::pool;

/// Row bands the product is cut into (more: less work on the diagonal, smaller products).
const BANDS: usize = 4;

/// `M·Mᵀ`, its band products on the shared pool when `threads` > 1 (matrixmultiply is
/// single-threaded as configured; at B = 128, D = 4096 the full product was ~15 % of a map).
pub(super) fn gram(means: &ArrayView2<'_, f64>, threads: usize) -> Array2<f64> {
    let b = means.nrows();
    let mut out = Array2::<f64>::zeros((b, b));
    if b < 16 {
        general_mat_mul(1.0, means, &means.t(), 0.0, &mut out);
        return out;
    }
    let band = b.div_ceil(BANDS);
    let bands: Vec<(usize, usize)> = (0..b)
        .step_by(band)
        .map(|lo| (lo, (lo + band).min(b)))
        .collect();
    let pairs: Vec<(usize, usize)> = (0..bands.len())
        .flat_map(|i| (i..bands.len()).map(move |j| (i, j)))
        .collect();
    let product = |&(i, j): &(usize, usize)| {
        let ((ilo, ihi), (jlo, jhi)) = (bands[i], bands[j]);
        let (lhs, rhs) = (means.slice(s![ilo..ihi, ..]), means.slice(s![jlo..jhi, ..]));
        let mut block = Array2::<f64>::zeros((ihi - ilo, jhi - jlo));
        general_mat_mul(1.0, &lhs, &rhs.t(), 0.0, &mut block);
        block
    };
    let blocks: Vec<Array2<f64>> = if threads <= 1 {
        pairs.iter().map(product).collect()
    } else {
        // One task per product; the shared pool runs as many at once as it has workers.
        let product = &product;
        pool::shared().scope(|sc| {
            let tasks: Vec<_> = pairs.iter().map(|p| sc.spawn(move || product(p))).collect();
            tasks.into_iter().map(|t| t.join()).collect()
        })
    };
    for (&(i, j), block) in pairs.iter().zip(&blocks) {
        let ((ilo, ihi), (jlo, jhi)) = (bands[i], bands[j]);
        out.slice_mut(s![ilo..ihi, jlo..jhi]).assign(block);
        out.slice_mut(s![jlo..jhi, ilo..ihi]).assign(&block.t());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::Rng;

    #[test]
    fn the_mirrored_band_products_are_the_full_product_bit_for_bit() {
        let mut rng = Rng::new(7);
        for (b, d) in [
            (1, 5),
            (15, 33),
            (16, 64),
            (37, 100),
            (128, 4096),
            (130, 257),
        ] {
            let m = Array2::from_shape_fn((b, d), |_| rng.normal());
            let mut full = Array2::<f64>::zeros((b, b));
            general_mat_mul(1.0, &m.view(), &m.t(), 0.0, &mut full);
            for threads in [1, 2, 3] {
                let got = gram(&m.view(), threads);
                let same = got
                    .iter()
                    .zip(full.iter())
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "b {b}, d {d}, threads {threads}");
            }
        }
    }
}
