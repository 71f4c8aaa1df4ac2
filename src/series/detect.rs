//! Clip and explosion detection: attached to the gradient-norm series (a loss or
//! learning-rate series has no threshold and no explosions).
//!
//! A point explodes when it is above the clip threshold (or clipping is off) and more than
//! `factor` × the median of the previous `window` finite points; explosion points fewer than
//! `window` points apart form one event.

use std::collections::VecDeque;

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
    window: VecDeque<f64>,
    /// The window's minimum in O(1): a monotonic queue of (sequence number, value) over the
    /// finite values pushed; a point is an explosion candidate only above k × this minimum.
    window_min: VecDeque<(u64, f64)>,
    /// Finite values pushed into the window so far.
    window_seq: u64,
    scratch: Vec<f64>,
    events: Vec<ExplosionEvent>,
    above: usize,
}

impl Detector {
    /// `clip` `None` or 0: clipping off (the median rule alone).
    pub fn new(clip: Option<f64>, params: ExplosionParams) -> Self {
        Detector {
            clip: clip.filter(|c| *c > 0.0),
            params: ExplosionParams {
                factor: params.factor,
                window: params.window.max(1),
            },
            window: VecDeque::new(),
            window_min: VecDeque::new(),
            window_seq: 0,
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
    pub fn classify(&mut self, i: usize, v: f64) -> u8 {
        let mut flags = 0;
        let above = self.clip.is_some_and(|c| v > c);
        if above {
            flags |= FLAG_ABOVE;
            self.above += 1;
        }
        let candidate = self.clip.is_none() || above;
        if candidate && self.window.len() >= MIN_HISTORY.min(self.params.window) {
            // Cheap rejection first: the median is at least the minimum.
            let min = self.window_min.front().map_or(f64::INFINITY, |m| m.1);
            if v > self.params.factor * min {
                let median = self.median();
                if v > self.params.factor * median {
                    flags |= FLAG_EXPLOSION;
                    self.note_explosion(i, v, median);
                }
            }
        }
        if self.window.len() == self.params.window {
            self.window.pop_front();
        }
        self.window.push_back(v);
        let seq = self.window_seq;
        self.window_seq += 1;
        while self.window_min.back().is_some_and(|b| b.1 >= v) {
            self.window_min.pop_back();
        }
        self.window_min.push_back((seq, v));
        let oldest = (seq + 1).saturating_sub(self.params.window as u64);
        while self.window_min.front().is_some_and(|f| f.0 < oldest) {
            self.window_min.pop_front();
        }
        flags
    }

    fn median(&mut self) -> f64 {
        self.scratch.clear();
        self.scratch.extend(self.window.iter().copied());
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
