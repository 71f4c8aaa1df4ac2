//! Where each point of a series sits on the x-axis: its step, offset by its restart segment.

use crate::series::Series;
use std::ops::Range;

/// One monotonic stretch of a series between restarts.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub points: Range<usize>,
    pub first_step: u64,
    pub last_step: u64,
    /// Axis position of the first point.
    pub base: u64,
}

/// A series' segments on the axis; built in O(restarts), so once per frame is cheap.
#[derive(Debug, Clone, PartialEq)]
pub struct StepAxis {
    segments: Vec<Segment>,
    spacing: u64,
}

impl StepAxis {
    pub fn new(s: &Series) -> Self {
        let n = s.len();
        let mut cuts = vec![0];
        cuts.extend(s.restarts().iter().copied().filter(|&r| r > 0 && r < n));
        cuts.push(n);
        let mut segments: Vec<Segment> = cuts
            .windows(2)
            .filter(|w| w[0] < w[1])
            .map(|w| Segment {
                points: w[0]..w[1],
                first_step: s.step(w[0]).unwrap_or(0),
                last_step: s.step(w[1] - 1).unwrap_or(0),
                base: 0,
            })
            .collect();
        // The typical distance between two points: segments are placed that far apart.
        let (steps, gaps) = segments.iter().fold((0u64, 0u64), |(st, g), seg| {
            (
                st.saturating_add(seg.last_step.saturating_sub(seg.first_step)),
                g + (seg.points.len() as u64 - 1),
            )
        });
        let spacing = steps.checked_div(gaps).unwrap_or(1).max(1);
        let mut base = 0u64;
        for seg in &mut segments {
            seg.base = base;
            base = base
                .saturating_add(seg.last_step.saturating_sub(seg.first_step))
                .saturating_add(spacing);
        }
        StepAxis { segments, spacing }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The typical step distance between two points (at least 1).
    pub fn spacing(&self) -> u64 {
        self.spacing
    }

    /// Points on the axis.
    pub fn len(&self) -> usize {
        self.segments.last().map_or(0, |s| s.points.end)
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// One past the newest point's position (0 when there is none).
    pub fn end(&self) -> u64 {
        self.segments.last().map_or(0, |s| {
            s.base
                .saturating_add(s.last_step.saturating_sub(s.first_step))
                .saturating_add(1)
        })
    }

    /// Axis position of point `i`.
    pub fn x(&self, s: &Series, i: usize) -> Option<u64> {
        let k = self.segments.partition_point(|seg| seg.points.end <= i);
        let seg = self.segments.get(k)?;
        let step = s.step(i)?;
        Some(seg.base + step.saturating_sub(seg.first_step))
    }

    /// How many points sit before axis position `x`: a binary search over the segments,
    /// then over the steps of one.
    pub fn points_before(&self, s: &Series, x: u64) -> usize {
        let k = self.segments.partition_point(|seg| seg.base <= x);
        let Some(seg) = k.checked_sub(1).and_then(|k| self.segments.get(k)) else {
            return 0;
        };
        let step = seg.first_step.saturating_add(x - seg.base);
        s.first_at_or_after(seg.points.clone(), step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::ExplosionParams;

    fn series(steps: &[u64]) -> Series {
        let mut s = Series::new(None, ExplosionParams::default());
        // Distinct values: a repeated step with the same value is a duplicate, merged.
        for (i, &st) in steps.iter().enumerate() {
            s.push(Some(st), 1.0 + i as f64 / 1000.0, None, None);
        }
        s
    }

    #[test]
    fn even_steps_sit_like_indices() {
        let s = series(&[100, 200, 300, 400]);
        let a = StepAxis::new(&s);
        assert_eq!(a.spacing(), 100);
        let xs: Vec<_> = (0..4).map(|i| a.x(&s, i)).collect();
        assert_eq!(xs, [Some(0), Some(100), Some(200), Some(300)]);
        assert_eq!(a.end(), 301);
        assert_eq!(a.points_before(&s, 0), 0);
        assert_eq!(a.points_before(&s, 1), 1);
        assert_eq!(a.points_before(&s, 200), 2);
        assert_eq!(a.points_before(&s, 301), 4);
        assert_eq!(a.points_before(&s, u64::MAX), 4);
    }

    #[test]
    fn a_restart_starts_a_segment_one_spacing_on() {
        // Resumed from step 200 after reaching 400: the new segment follows the old one.
        let s = series(&[100, 200, 300, 400, 200, 300, 400, 500]);
        assert_eq!(s.restarts(), &[4]);
        let a = StepAxis::new(&s);
        assert_eq!(a.segments().len(), 2);
        let xs: Vec<_> = (0..8).filter_map(|i| a.x(&s, i)).collect();
        assert_eq!(xs, [0, 100, 200, 300, 400, 500, 600, 700]);
        for (i, &x) in xs.iter().enumerate() {
            assert_eq!(a.points_before(&s, x), i, "x {x}");
            assert_eq!(a.points_before(&s, x + 1), i + 1, "x {x} + 1");
        }
    }

    #[test]
    fn uneven_steps_leave_gaps_and_repeats_share_a_position() {
        let s = series(&[1, 2, 3, 50, 50, 51]);
        let a = StepAxis::new(&s);
        assert_eq!(a.spacing(), 10);
        assert_eq!(a.points_before(&s, 3), 3);
        assert_eq!(a.points_before(&s, 49), 3);
        assert_eq!(a.points_before(&s, 50), 5);
        assert_eq!(a.end(), 51);
        assert!(StepAxis::new(&series(&[])).is_empty());
    }
}
