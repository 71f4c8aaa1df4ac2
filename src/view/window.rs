//! The x-window in steps: how many steps a column holds (zoom), where the right edge is
//! (scroll), or none of that (fit the whole run, follow the newest point).

use super::axis::StepAxis;
use crate::series::Series;
use std::ops::Range;

/// A window following the newest point moves on by `1 / PAGES` of its width at a time.
pub const PAGES: u64 = 8;

/// The shared x-window, in axis positions (steps, segments laid end to end).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XWindow {
    /// Steps per column; `None` fits the whole run.
    pub per_col: Option<u64>,
    /// Axis position one past the right edge; `None` follows the newest point.
    pub end: Option<u64>,
}

/// The window in force for one axis and plot width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub per_col: u64,
    /// Axis positions shown: `start..end`, `columns` columns of `per_col` from `start` (the
    /// last one may be short; following a zoomed-in window, up to an eighth of the width is
    /// left empty on the right, for the points to come).
    pub start: u64,
    pub end: u64,
    pub columns: usize,
}

impl Span {
    /// Axis positions of column `k`.
    pub fn column(&self, k: usize) -> Range<u64> {
        let a = self
            .start
            .saturating_add(self.per_col.saturating_mul(k as u64));
        a.min(self.end)..a.saturating_add(self.per_col).min(self.end)
    }

    /// The points in each column: `columns + 1` cuts, column `k` holding `cuts[k]..cuts[k+1]`.
    pub fn cuts(&self, axis: &StepAxis, s: &Series) -> Vec<usize> {
        let mut cuts: Vec<usize> = (0..self.columns)
            .map(|k| axis.points_before(s, self.column(k).start))
            .collect();
        cuts.push(axis.points_before(s, self.end));
        cuts
    }

    /// Steps per column times the width, rounded down to whole point spacings so that a
    /// scrolled window keeps evenly spaced points in the same columns.
    fn part(&self, axis: &StepAxis, width: usize, div: u64) -> u64 {
        let sp = axis.spacing();
        let raw = self.per_col.saturating_mul(width as u64) / div;
        (raw / sp * sp).max(1)
    }
}

impl XWindow {
    /// Steps per column that fit the whole axis in `width` columns; at least one point
    /// spacing per point-per-column, so evenly spaced points group as they would by index.
    pub fn fit(axis: &StepAxis, width: usize) -> u64 {
        let w = width.max(1) as u64;
        let by_steps = axis.end().div_ceil(w);
        let by_points = (axis.len() as u64).div_ceil(w) * axis.spacing();
        by_steps.max(by_points).max(1)
    }

    pub fn span(&self, axis: &StepAxis, width: usize) -> Span {
        let width = width.max(1);
        let fit = Self::fit(axis, width);
        let per_col = self
            .per_col
            .map_or(fit, |p| p.clamp(axis.spacing().min(fit), fit));
        let end = self.end.map_or(axis.end(), |e| e.min(axis.end()));
        let shown = per_col.saturating_mul(width as u64);
        let start = if self.end.is_none() && per_col < fit {
            // Following a zoomed-in window: its right edge moves on in pages of an eighth of
            // the width, on whole columns (as `tail` pages), so a new point fills the next
            // column instead of shifting every column's points (a redraw of every bar).
            let page = per_col.saturating_mul((width as u64 / PAGES).max(1));
            end.div_ceil(page)
                .saturating_mul(page)
                .saturating_sub(shown)
        } else {
            end.saturating_sub(shown)
        };
        Span {
            per_col,
            start,
            end,
            columns: (end - start).div_ceil(per_col) as usize,
        }
    }

    pub fn following(&self) -> bool {
        self.end.is_none()
    }

    /// `+`: half the steps per column, in whole point spacings, down to one.
    pub fn zoom_in(&mut self, axis: &StepAxis, width: usize) {
        let p = self.span(axis, width).per_col;
        let sp = axis.spacing();
        let half = p / 2;
        self.per_col = Some(if half >= sp {
            half / sp * sp
        } else {
            sp.min(p).max(1)
        });
    }

    /// `-`: twice the steps per column, up to fitting the whole run.
    pub fn zoom_out(&mut self, axis: &StepAxis, width: usize) {
        let p = self.span(axis, width).per_col.saturating_mul(2);
        self.per_col = (p < Self::fit(axis, width)).then_some(p);
    }

    pub fn fit_all(&mut self) {
        self.per_col = None;
        self.end = None;
    }

    /// Scrolls back by a quarter of the window, not past the run's start.
    pub fn scroll_back(&mut self, axis: &StepAxis, width: usize) {
        let span = self.span(axis, width);
        let step = span.part(axis, width, 4);
        let min_end = span.per_col.saturating_mul(width as u64).min(axis.end());
        self.end = Some(span.end.saturating_sub(step).max(min_end));
    }

    /// Scrolls forward by a quarter of the window; reaching the newest point follows it.
    pub fn scroll_forward(&mut self, axis: &StepAxis, width: usize) {
        let span = self.span(axis, width);
        let e = span.end.saturating_add(span.part(axis, width, 4));
        self.end = (e < axis.end()).then_some(e);
    }

    pub fn follow(&mut self) {
        self.end = None;
    }

    /// Centres the window on axis position `x` (as far as the run allows).
    pub fn centre_on(&mut self, axis: &StepAxis, width: usize, x: u64) {
        let span = self.span(axis, width);
        let half = span.part(axis, width, 2);
        let end = x
            .saturating_add(half)
            .max(span.per_col.saturating_mul(width as u64))
            .min(axis.end());
        self.end = (end < axis.end()).then_some(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::ExplosionParams;

    fn series(n: u64, spacing: u64) -> Series {
        let mut s = Series::new(None, ExplosionParams::default());
        for i in 0..n {
            s.push(Some(100 + i * spacing), 1.0, None, None);
        }
        s
    }

    /// Evenly spaced steps group into columns exactly as point indices did (whole pages of
    /// columns when following a zoomed-in window).
    #[test]
    fn even_steps_group_like_indices() {
        for (n, spacing, width) in [(1101u64, 100u64, 71usize), (37, 1, 80), (5000, 10, 60)] {
            let s = series(n, spacing);
            let axis = StepAxis::new(&s);
            let mut v = XWindow::default();
            for zoom in 0..4 {
                let span = v.span(&axis, width);
                let cuts = span.cuts(&axis, &s);
                // By index: per_col points per column, aligned like the old view.
                let fit = (n as usize).div_ceil(width).max(1);
                let p = (span.per_col / spacing) as usize;
                assert!(p <= fit && p >= 1);
                let end = n as usize;
                // Zoomed in, the window's right edge is on the next page boundary.
                let page = p * (width / PAGES as usize).max(1);
                let right = if p < fit {
                    end.div_ceil(page) * page
                } else {
                    end
                };
                let start = right.saturating_sub(p * width);
                let by_index: Vec<usize> = (start..end)
                    .step_by(p)
                    .chain(std::iter::once(end))
                    .collect();
                assert_eq!(cuts, by_index, "n {n} spacing {spacing} zoom {zoom}");
                v.zoom_in(&axis, width);
            }
            v.scroll_back(&axis, width);
            assert!(!v.following());
            let cuts = v.span(&axis, width).cuts(&axis, &s);
            let p = (v.span(&axis, width).per_col / spacing) as usize;
            assert!(cuts.windows(2).all(|w| w[1] - w[0] == p), "{cuts:?}");
            v.scroll_forward(&axis, width);
            v.scroll_forward(&axis, width);
            assert!(v.following());
        }
    }

    #[test]
    fn zoom_out_stops_at_fit_and_centre_clamps() {
        let s = series(1000, 1);
        let axis = StepAxis::new(&s);
        let mut v = XWindow::default();
        v.zoom_in(&axis, 50);
        v.zoom_in(&axis, 50);
        v.zoom_out(&axis, 50);
        v.zoom_out(&axis, 50);
        assert_eq!(v.per_col, None);
        v.zoom_in(&axis, 50);
        v.centre_on(&axis, 50, 0);
        let span = v.span(&axis, 50);
        assert_eq!(span.start, 0);
        v.centre_on(&axis, 50, 999);
        assert!(v.following());
    }
}
