//! Clip and explosion detection: attached to the gradient-norm series (a loss or
//! learning-rate series has no threshold and no explosions).
//!
//! A point explodes when it is above the clip threshold (or clipping is off) and more than
//! `factor` × the median of the previous `window` finite points; explosion points fewer than
//! `window` points apart form one event.

/// Explosion detection parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExplosionParams {
    /// A point explodes when it is more than `factor` × the median of the previous points…
    pub factor: f64,
    /// …over the previous `window` finite points; explosion points fewer than `window` points
    /// apart form one event.
    pub window: usize,
}

impl Default for ExplosionParams {
    fn default() -> Self {
        ExplosionParams {
            factor: 3.0,
            window: 50,
        }
    }
}

/// Fewest previous finite points needed before a point can be judged an explosion.
pub const MIN_HISTORY: usize = 5;

/// One explosion: a run of exploding points, each fewer than `window` points from the last.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExplosionEvent {
    /// Point index of the first exploding point.
    pub start: usize,
    /// Point index of the last exploding point.
    pub end: usize,
    /// Point index of the highest value.
    pub peak: usize,
    pub peak_value: f64,
    /// Peak over the median of the `window` finite points before the event started.
    pub factor: f64,
    baseline: f64,
}

impl ExplosionEvent {
    /// Median of the finite points before the event.
    pub fn baseline(&self) -> f64 {
        self.baseline
    }
}

pub const FLAG_ABOVE: u8 = 1;
pub const FLAG_EXPLOSION: u8 = 2;

/// The detection state of one series.
#[derive(Debug, Clone)]
pub struct Detector {
    clip: Option<f64>,
    params: ExplosionParams,
    /// The last `window` finite values, as a ring: slot `next` takes the next one.
    ring: Vec<f64>,
    next: usize,
    /// Values the current block still takes.
    block_left: usize,
    /// The minimum of the current block of `window` finite values and of the block before
    /// it: the two cover the window, so the smaller is at most the window's minimum, which
    /// is at most its median — a point at most `factor` × that cannot explode, and most
    /// points are rejected by one multiplication.
    block_min: f64,
    prev_block_min: f64,
    scratch: Vec<f64>,
    events: Vec<ExplosionEvent>,
    above: usize,
}

impl Detector {
    /// `clip` `None` or 0: clipping off (the median rule alone).
    pub fn new(clip: Option<f64>, params: ExplosionParams) -> Self {
        let window = params.window.max(1);
        Detector {
            clip: clip.filter(|c| *c > 0.0),
            params: ExplosionParams {
                factor: params.factor,
                window,
            },
            ring: Vec::new(),
            next: 0,
            block_left: window,
            block_min: f64::INFINITY,
            prev_block_min: f64::INFINITY,
            scratch: Vec::new(),
            events: Vec::new(),
            above: 0,
        }
    }

    pub fn clip(&self) -> Option<f64> {
        self.clip
    }

    pub fn params(&self) -> ExplosionParams {
        self.params
    }

    pub fn events(&self) -> &[ExplosionEvent] {
        &self.events
    }

    /// Points above the clip threshold.
    pub fn above_clip(&self) -> usize {
        self.above
    }

    /// Sets a new threshold and forgets everything seen; false when it is the same threshold
    /// (nothing to re-run).
    pub fn reset(&mut self, clip: Option<f64>) -> bool {
        let clip = clip.filter(|c| *c > 0.0);
        if clip == self.clip {
            return false;
        }
        *self = Detector::new(clip, self.params);
        true
    }

    /// Judges finite point `i` of value `v` (points come in order); returns its flags.
    ///
    /// The rule: above the threshold (or clipping off), at least [`MIN_HISTORY`] finite
    /// points before it, more than `factor` × the window's minimum and more than `factor` ×
    /// its median.
    #[inline]
    pub fn classify(&mut self, i: usize, v: f64) -> u8 {
        let mut flags = 0;
        let above = self.clip.is_some_and(|c| v > c);
        if above {
            flags |= FLAG_ABOVE;
            self.above += 1;
        }
        let candidate = self.clip.is_none() || above;
        let f = self.params.factor;
        if candidate && self.ring.len() >= MIN_HISTORY.min(self.params.window) {
            // Multiplying by a factor ≥ 0 keeps the order, so the bound rejects no point
            // the rule would flag.
            let bound = self.block_min.min(self.prev_block_min);
            let rejected = f >= 0.0 && f.is_finite() && v <= f * bound;
            if !rejected && v > f * self.window_min() {
                let median = self.median();
                if v > f * median {
                    flags |= FLAG_EXPLOSION;
                    self.note_explosion(i, v, median);
                }
            }
        }
        self.remember(v);
        flags
    }

    /// Judges the points `values`, point `start` on, as [`Detector::classify`] of each finite
    /// one would (a value that is not finite is not judged: flags 0), handing each value and
    /// its flags to `each`. A calm point (at most `factor` × the bound the block minima give,
    /// once the window is full) is only remembered, with the window's state kept in
    /// registers; any other goes through `classify`.
    pub fn classify_each(&mut self, start: usize, values: &[f64], mut each: impl FnMut(f64, u8)) {
        let f = self.params.factor;
        let w = self.params.window;
        let clip = self.clip;
        let mut j = 0;
        while j < values.len() {
            if !(f >= 0.0 && f.is_finite() && self.ring.len() == w && self.next < w) {
                let v = values[j];
                each(
                    v,
                    if v.is_finite() {
                        self.classify(start + j, v)
                    } else {
                        0
                    },
                );
                j += 1;
                continue;
            }
            let (mut next, mut left) = (self.next, self.block_left);
            let (mut block_min, mut prev_min) = (self.block_min, self.prev_block_min);
            let mut above = self.above;
            let ring = &mut self.ring[..w];
            while let Some(&v) = values.get(j) {
                if !v.is_finite() {
                    each(v, 0);
                    j += 1;
                    continue;
                }
                let is_above = clip.is_some_and(|c| v > c);
                // As `classify` rejects (a NaN bound rejects nothing).
                let rejected = v <= f * block_min.min(prev_min);
                if (clip.is_none() || is_above) && !rejected {
                    // Not calm: judged in full, from the state as it stands.
                    break;
                }
                above += usize::from(is_above);
                each(v, if is_above { FLAG_ABOVE } else { 0 });
                ring[next] = v;
                next += 1;
                if next == w {
                    next = 0;
                }
                block_min = block_min.min(v);
                left -= 1;
                if left == 0 {
                    left = w;
                    prev_min = block_min;
                    block_min = f64::INFINITY;
                }
                j += 1;
            }
            self.next = next;
            self.block_left = left;
            self.block_min = block_min;
            self.prev_block_min = prev_min;
            self.above = above;
            if let Some(&v) = values.get(j) {
                each(v, self.classify(start + j, v));
                j += 1;
            }
        }
    }

    /// Adds finite value `v` to the window (and its block minimum).
    #[inline]
    fn remember(&mut self, v: f64) {
        let w = self.params.window;
        if self.ring.len() < w {
            self.ring.push(v);
        } else if let Some(slot) = self.ring.get_mut(self.next) {
            *slot = v;
        }
        self.next += 1;
        if self.next == w {
            self.next = 0;
        }
        self.block_min = self.block_min.min(v);
        self.block_left -= 1;
        if self.block_left == 0 {
            self.block_left = w;
            self.prev_block_min = self.block_min;
            self.block_min = f64::INFINITY;
        }
    }

    fn window_min(&self) -> f64 {
        self.ring.iter().copied().fold(f64::INFINITY, f64::min)
    }

    fn median(&mut self) -> f64 {
        // Oldest first, as the points came (the order the selection starts from).
        self.scratch.clear();
        let (newer, older) = self.ring.split_at(self.next.min(self.ring.len()));
        if self.ring.len() == self.params.window {
            self.scratch.extend_from_slice(older);
            self.scratch.extend_from_slice(newer);
        } else {
            self.scratch.extend_from_slice(&self.ring);
        }
        let n = self.scratch.len();
        let mid = n / 2;
        let (_, m, _) = self.scratch.select_nth_unstable_by(mid, f64::total_cmp);
        let m = *m;
        if n % 2 == 1 {
            m
        } else {
            let lower = self.scratch[..mid]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            (lower + m) / 2.0
        }
    }

    fn note_explosion(&mut self, i: usize, v: f64, median: f64) {
        let window = self.params.window;
        if let Some(e) = self.events.last_mut() {
            if i - e.end < window {
                e.end = i;
                if v > e.peak_value {
                    e.peak = i;
                    e.peak_value = v;
                    e.factor = if e.baseline > 0.0 {
                        v / e.baseline
                    } else {
                        f64::INFINITY
                    };
                }
                return;
            }
        }
        self.events.push(ExplosionEvent {
            start: i,
            end: i,
            peak: i,
            peak_value: v,
            factor: if median > 0.0 {
                v / median
            } else {
                f64::INFINITY
            },
            baseline: median,
        });
    }
}
