//! The pieces of tab 1's chart that are arithmetic, not drawing: the y mapping of a panel
//! (linear or log10, the clip threshold kept in view) and the EMA dots of `s`.

use crate::series::{Column, Series, Summary};

/// Points the EMA averages over (span): α = 2 / (span + 1).
const EMA_SPAN: f64 = 20.0;

/// The y mapping: linear or log10, over [lo, hi] in transformed units.
#[derive(Debug, Clone, Copy)]
pub struct YScale {
    pub log: bool,
    pub lo: f64,
    pub hi: f64,
}

impl YScale {
    pub fn t(&self, v: f64) -> Option<f64> {
        if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        }
    }

    /// Fraction of the height (0 at the bottom, 1 at the top), clamped.
    pub fn frac(&self, v: f64) -> f64 {
        match self.t(v) {
            Some(t) => ((t - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0),
            None => 0.0,
        }
    }

    pub fn value_at(&self, frac: f64) -> f64 {
        let t = self.lo + frac * (self.hi - self.lo);
        if self.log {
            10f64.powf(t)
        } else {
            t
        }
    }

    /// The scale for the values summarised by `sum` (None when none is finite).
    pub fn new(sum: &Summary, clip: Option<f64>, log: bool) -> Option<Self> {
        let (mut lo, mut hi) = if log {
            if !sum.min_pos.is_finite() {
                return None;
            }
            (sum.min_pos, sum.max)
        } else if sum.has_finite() {
            (sum.min, sum.max)
        } else {
            return None;
        };
        // Show the threshold when it is near the data; far above it would flatten the bars.
        if let Some(c) = clip {
            if c <= hi * 2.0 && c > 0.0 {
                hi = hi.max(c * 1.05);
                lo = lo.min(c);
            }
        }
        if !log && lo >= 0.0 && lo <= 0.5 * hi {
            lo = 0.0;
        }
        if log {
            lo = lo.log10();
            hi = hi.log10();
        }
        if hi - lo < 1e-12 {
            let pad = if hi.abs() > 1e-12 {
                hi.abs() * 0.1
            } else {
                1.0
            };
            lo -= pad;
            hi += pad;
        }
        Some(YScale { log, lo, hi })
    }
}

/// Points the EMA is warmed up over before a column that is far from the previous one; the
/// weight left on older points is (1 − α)^100 ≈ 5·10⁻⁵, so the dot does not move.
const EMA_WARM: usize = 100;

/// EMA at each column's last point. Near columns continue the previous column's EMA; a far
/// one starts afresh [`EMA_WARM`] points before its end, so a frame costs about the plot
/// width however many points are in view.
pub fn ema_per_column(s: &Series, cols: &[Option<Column>]) -> Vec<Option<f64>> {
    let alpha = 2.0 / (EMA_SPAN + 1.0);
    let mut ema: Option<f64> = None;
    let mut i = cols
        .iter()
        .flatten()
        .next()
        .map_or(0, |c| c.first.saturating_sub(EMA_WARM));
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        let Some(c) = c else {
            out.push(None);
            continue;
        };
        let end = c.last + 1;
        if end.saturating_sub(i) > 4 * EMA_WARM {
            ema = None;
            i = end - EMA_WARM;
        }
        for v in s.values_in(i..end) {
            if v.is_finite() {
                ema = Some(ema.map_or(v, |e| e + alpha * (v - e)));
            }
        }
        i = end;
        out.push(ema);
    }
    out
}
