//! A min/max pyramid over a series, kept up to date as points arrive: level k holds one
//! [`Summary`] per 2^(k+5) points, so the summary of any point range costs O(log n) plus at
//! most two partial leaves of raw points, and a frame costs about the plot width whatever the
//! length of the run.

use std::ops::Range;

/// Points per leaf: the raw points at the ends of a range are scanned, the rest comes from
/// the levels. 32 keeps the levels at 2 bytes per point (a 32-byte summary per 32 points,
/// and as much again for the levels above), which is as much as the values of a sweep's
/// loss and lr panels take; 16 doubled that, for a frame that is no faster to see.
const LEAF_BITS: u32 = 5;
pub const LEAF: usize = 1 << LEAF_BITS;

/// The point is not finite (NaN or ±inf); beside the series' own point flags (above clip,
/// explosion).
pub const FLAG_NONFINITE: u8 = 0x80;

/// What the chart needs to know about a run of points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Finite minimum and maximum (±inf when there is no finite value).
    pub min: f64,
    pub max: f64,
    /// Smallest finite value above zero (+inf when none), for log scales.
    pub min_pos: f64,
    /// The point flags, or-ed, and [`FLAG_NONFINITE`].
    pub flags: u8,
}

impl Summary {
    pub const EMPTY: Summary = Summary {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        min_pos: f64::INFINITY,
        flags: 0,
    };

    pub fn point(v: f64, flags: u8) -> Summary {
        if v.is_finite() {
            Summary {
                min: v,
                max: v,
                min_pos: if v > 0.0 { v } else { f64::INFINITY },
                flags,
            }
        } else {
            Summary {
                flags: flags | FLAG_NONFINITE,
                ..Summary::EMPTY
            }
        }
    }

    pub fn merge(&mut self, o: &Summary) {
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.min_pos = self.min_pos.min(o.min_pos);
        self.flags |= o.flags;
    }

    pub fn has_finite(&self) -> bool {
        self.min <= self.max
    }

    pub fn nonfinite(&self) -> bool {
        self.flags & FLAG_NONFINITE != 0
    }
}

#[derive(Debug, Clone)]
pub struct Pyramid {
    /// `levels[k][j]` summarises points `j·2^(k+5) .. (j+1)·2^(k+5)`; only complete nodes.
    levels: Vec<Vec<Summary>>,
    /// The leaf being filled ([`Summary::EMPTY`] when it has no point yet).
    pending: Summary,
    len: usize,
}

impl Default for Pyramid {
    fn default() -> Self {
        Pyramid {
            levels: Vec::new(),
            pending: Summary::EMPTY,
            len: 0,
        }
    }
}

impl Pyramid {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held by the levels.
    pub fn heap_bytes(&self) -> usize {
        self.levels.capacity() * std::mem::size_of::<Vec<Summary>>()
            + self
                .levels
                .iter()
                .map(|l| l.capacity() * std::mem::size_of::<Summary>())
                .sum::<usize>()
    }

    /// Adds the next point (value and its flags).
    #[inline]
    pub fn push(&mut self, v: f64, flags: u8) {
        let leaf = &mut self.pending;
        if v.is_finite() {
            leaf.min = leaf.min.min(v);
            leaf.max = leaf.max.max(v);
            if v > 0.0 {
                leaf.min_pos = leaf.min_pos.min(v);
            }
            leaf.flags |= flags;
        } else {
            leaf.flags |= flags | FLAG_NONFINITE;
        }
        self.len += 1;
        if self.len.is_multiple_of(LEAF) {
            let leaf = std::mem::replace(&mut self.pending, Summary::EMPTY);
            self.complete(leaf);
        }
    }

    /// Adds a complete leaf and every node it completes above it.
    fn complete(&mut self, mut node: Summary) {
        let mut k = 0;
        loop {
            if self.levels.len() == k {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[k];
            level.push(node);
            let n = level.len();
            if n % 2 == 1 {
                return;
            }
            node = level[n - 2];
            node.merge(&level[n - 1]);
            k += 1;
        }
    }

    /// Summary of the points in `range`; `raw` summarises a range shorter than a leaf from the
    /// points themselves.
    pub fn summary(&self, range: Range<usize>, raw: impl Fn(Range<usize>) -> Summary) -> Summary {
        let (a, b) = (range.start, range.end.min(self.len));
        if a >= b {
            return Summary::EMPTY;
        }
        let (mut lo, mut hi) = (a.div_ceil(LEAF), b / LEAF);
        if lo >= hi {
            return raw(a..b);
        }
        let mut out = raw(a..lo * LEAF);
        out.merge(&raw(hi * LEAF..b));
        let mut k = 0;
        while lo < hi {
            let level = &self.levels[k];
            if lo % 2 == 1 {
                out.merge(&level[lo]);
                lo += 1;
            }
            if hi % 2 == 1 {
                hi -= 1;
                out.merge(&level[hi]);
            }
            lo /= 2;
            hi /= 2;
            k += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(points: &[(f64, u8)], r: Range<usize>) -> Summary {
        let mut s = Summary::EMPTY;
        for &(v, f) in &points[r.start.min(points.len())..r.end.min(points.len())] {
            s.merge(&Summary::point(v, f));
        }
        s
    }

    #[test]
    fn every_range_matches_a_brute_force_scan() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut points = Vec::new();
        let mut p = Pyramid::default();
        for i in 0..700usize {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = match x % 50 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => -((x >> 20) as f64 / 1e6),
                3 => 0.0,
                _ => (x >> 11) as f64 / (1u64 << 53) as f64 * 10.0,
            };
            let flags = (x >> 8) as u8 & 3 & if x.is_multiple_of(7) { 3 } else { 0 };
            points.push((v, flags));
            p.push(v, flags);
            // Checked as the series grows, so partial leaves and levels are covered.
            if i % 37 == 0 || i == 699 {
                let n = points.len();
                for a in (0..=n).step_by(3) {
                    for b in (a..=n + 2).step_by(5) {
                        let got = p.summary(a..b, |r| brute(&points, r));
                        assert_eq!(got, brute(&points, a..b), "{a}..{b} of {n}");
                    }
                }
            }
        }
        assert_eq!(p.len(), 700);
    }

    #[test]
    fn nonfinite_points_are_flagged_and_not_in_the_range() {
        let mut p = Pyramid::default();
        let pts: Vec<(f64, u8)> = (0..64)
            .map(|i| (if i == 40 { f64::NAN } else { i as f64 }, 0))
            .collect();
        for &(v, f) in &pts {
            p.push(v, f);
        }
        let s = p.summary(0..64, |r| brute(&pts, r));
        assert!(s.nonfinite());
        assert_eq!((s.min, s.max, s.min_pos), (0.0, 63.0, 1.0));
        let s = p.summary(48..64, |r| brute(&pts, r));
        assert!(!s.nonfinite() && s.has_finite());
    }
}

#[cfg(test)]
mod series_tests {
    use super::*;
    use crate::series::{ExplosionParams, Series};

    /// `Series::summary` (pyramid fed by `push`, rebuilt by `set_clip`) against a scan of the
    /// points' own values and flags.
    #[test]
    fn series_summary_follows_pushes_and_clip_changes() {
        let mut s = Series::new(Some(1.0), ExplosionParams::default());
        for i in 0..900u64 {
            let v = match i % 97 {
                13 => f64::NAN,
                50 => 9.0,
                _ => 0.2 + (i % 11) as f64 * 0.05,
            };
            s.push(Some(i), v, None, None);
        }
        let scan = |s: &Series, r: Range<usize>| {
            let mut out = Summary::EMPTY;
            for i in r {
                out.merge(&Summary::point(s.value(i).unwrap_or(f64::NAN), s.flags(i)));
            }
            out
        };
        for clip in [Some(1.0), Some(0.5), None] {
            s.set_clip(clip);
            for (a, b) in [
                (0, 900),
                (3, 17),
                (16, 48),
                (5, 899),
                (100, 612),
                (880, 900),
            ] {
                assert_eq!(s.summary(a..b), scan(&s, a..b), "{a}..{b} clip {clip:?}");
            }
        }
        assert!(s.summary(0..900).flags & crate::series::FLAG_EXPLOSION != 0);
    }
}
