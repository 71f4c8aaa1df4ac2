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
    /// The previous `window` finite values, oldest first…
    window: VecDeque<f64>,
    /// …and the same values sorted, so the median is one look (a window of w costs O(w)
    /// moves per point instead of a selection of w per candidate point).
    sorted: Vec<f64>,
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
            sorted: Vec::new(),
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
            let median = self.median();
            if v > self.params.factor * median {
                flags |= FLAG_EXPLOSION;
                self.note_explosion(i, v, median);
            }
        }
        if self.window.len() == self.params.window {
            if let Some(old) = self.window.pop_front() {
                let at = self.sorted.partition_point(|x| x.total_cmp(&old).is_lt());
                self.sorted.remove(at);
            }
        }
        self.window.push_back(v);
        let at = self.sorted.partition_point(|x| x.total_cmp(&v).is_lt());
        self.sorted.insert(at, v);
        flags
    }

    /// The median of the window (the mean of the two middle values when it is even).
    fn median(&self) -> f64 {
        let n = self.sorted.len();
        let mid = n / 2;
        if n % 2 == 1 {
            self.sorted[mid]
        } else {
            (self.sorted[mid - 1] + self.sorted[mid]) / 2.0
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
