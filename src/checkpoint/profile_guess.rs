//! A guess of the probes the summary's 8-way search will ask for, so that the profile's pass
//! over the table can sum them too (one read of the table instead of one per round).
//!
//! The search is run on estimated means: the mean cosine at distance d over a few dozen
//! sample rows spread over the range (each row's exact cosine to its partner, in f64). Only
//! the guess is estimated: the search itself then runs on exact means, taking a round's
//! means from the profile's pass when its probes are the ones guessed, and reading the
//! table again when they are not. A wrong guess costs time, never a digit.

use super::row_kernels::row_kernels;
use super::similarity::{RowNorms, TableView};
use super::similarity_profile::{search, ProfilePoint};

/// Sample rows of the estimate.
const SAMPLES: usize = 32;
/// Below this many table values a pass is cheap: no guess.
const WORTH_IT: usize = 1 << 20;

/// The probe sets of the search's rounds, as guessed for rows `[lo, hi)` (`profile`: the
/// profile's distances). Empty when the table is small.
pub(super) fn likely_probes(
    view: &TableView<'_>,
    norms: &RowNorms,
    (lo, hi): (usize, usize),
    profile: &[usize],
) -> Vec<Vec<usize>> {
    let n = hi.saturating_sub(lo);
    let inv = lo
        .checked_sub(norms.lo)
        .and_then(|a| norms.inv.get(a..a + n));
    let Some(inv) = inv else {
        return Vec::new();
    };
    if n.saturating_mul(view.dim()) < WORTH_IT || n < 2 * SAMPLES {
        return Vec::new();
    }
    let mut est = Estimate::new(view, inv, lo);
    let guessed: Vec<ProfilePoint> = profile
        .iter()
        .map(|&distance| ProfilePoint {
            distance,
            mean: est.mean(distance),
        })
        .collect();
    let mut rounds = Vec::new();
    search(&guessed, &mut |probes| {
        rounds.push(probes.to_vec());
        probes.iter().map(|&d| est.mean(d)).collect()
    });
    rounds
}

/// The mean cosine at a distance over [`SAMPLES`] rows spread evenly over the range, each
/// dot product straight from the rows' bytes (`row_kernels`: no decoded copies).
struct Estimate<'a> {
    view: &'a TableView<'a>,
    inv: &'a [f64],
    lo: usize,
    /// Row offsets in the range.
    samples: Vec<usize>,
}

impl<'a> Estimate<'a> {
    fn new(view: &'a TableView<'a>, inv: &'a [f64], lo: usize) -> Self {
        let n = inv.len();
        let samples = (0..SAMPLES)
            .map(|k| k * n / SAMPLES)
            .filter(|&r| inv[r] != 0.0 && inv[r].is_finite())
            .collect();
        Estimate {
            view,
            inv,
            lo,
            samples,
        }
    }

    fn mean(&mut self, dist: usize) -> f64 {
        let k = row_kernels();
        let (mut sum, mut count) = (0.0f64, 0usize);
        for &r in &self.samples {
            let j = r + dist;
            let Some(&s) = self.inv.get(j) else { continue };
            if s == 0.0 || !s.is_finite() {
                continue;
            }
            let (row, partner) = (
                self.view.row_bytes(self.lo + r),
                self.view.row_bytes(self.lo + j),
            );
            let dot = (k.axpy_dot)(None, partner, 0.0, Some(row), self.view.dtype());
            sum += dot * self.inv[r] * s;
            count += 1;
        }
        if count == 0 {
            f64::NAN
        } else {
            sum / count as f64
        }
    }
}
