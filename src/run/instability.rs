//! How unstable a run is, as one number to rank a sweep by (the runs panel's default order,
//! `gnorm A B …`'s table, `check`'s figures). For the series shown (the gradient norm unless
//! `--metric`):
//!
//! ```text
//! score = 10 × explosions
//!       + 10 × log10(1 + non-finite values)
//!       + 0.5 × % of points above the clip threshold
//!       + 5 × log2(worst finite peak / median of the finite values)   (when above 1)
//! ```
//!
//! An explosion weighs most (it is the event the user must look at); the first non-finite
//! value weighs as much as about one more, more of them grow slowly; a run clipped on every
//! step adds 50; a peak 1000× its median adds 50. A calm run scores a few points.

use super::RunData;

/// The figures the score is made of, and the score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instability {
    pub explosions: usize,
    pub nonfinite: usize,
    /// Percentage of points above the clip threshold; `None` when no threshold is known or
    /// clipping is off.
    pub clipped_pct: Option<f64>,
    /// The worst finite value over the median of the finite values (`None`: no finite value,
    /// or a median ≤ 0).
    pub peak_over_median: Option<f64>,
    pub score: f64,
}

impl Instability {
    /// The figures of `data`'s shown series.
    pub fn of(data: &RunData) -> Instability {
        let s = data.primary();
        let explosions = s.events().len();
        let nonfinite = s.nonfinite();
        let clipped_pct = match data.clip() {
            (Some(_), _) if !s.is_empty() => Some(100.0 * s.above_clip() as f64 / s.len() as f64),
            _ => None,
        };
        let mut finite: Vec<f64> = s.values_in(0..s.len()).filter(|v| v.is_finite()).collect();
        let peak_over_median = median(&mut finite).and_then(|med| {
            let peak = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (med > 0.0 && peak.is_finite()).then(|| peak / med)
        });
        let score = 10.0 * explosions as f64
            + 10.0 * (1.0 + nonfinite as f64).log10()
            + 0.5 * clipped_pct.unwrap_or(0.0)
            + 5.0 * peak_over_median.map_or(0.0, |r| r.max(1.0).log2());
        Instability {
            explosions,
            nonfinite,
            clipped_pct,
            peak_over_median,
            score,
        }
    }
}

/// The median (the upper one of an even count), reordering `v`.
fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::SourceSpec;

    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples");

    fn read(rel: &str) -> RunData {
        super::super::read_once(&SourceSpec::new(format!("{SAMPLES}/{rel}"))).unwrap()
    }

    #[test]
    fn an_exploding_run_outranks_a_calm_one() {
        let calm = Instability::of(&read("fairseq-simple-syngec/train.log"));
        assert_eq!((calm.explosions, calm.nonfinite), (0, 0));
        assert_eq!(calm.clipped_pct, Some(0.0));
        assert!(calm.score < 5.0, "{calm:?}");
        let wild = Instability::of(&read("megatron-104B-spikes-bigscience/iteration_lines.log"));
        assert!(wild.explosions >= 1, "{wild:?}");
        assert!(wild.peak_over_median.unwrap() > 10.0, "{wild:?}");
        assert_eq!(wild.clipped_pct, Some(100.0));
        assert!(wild.score > calm.score + 50.0, "{wild:?}");
    }

    #[test]
    fn the_median_of_nothing_is_none() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
    }
}
