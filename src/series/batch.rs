//! Appending a batch of points a column at a time: the shape nearly every batch has (each
//! record names its step, the steps rise, no tqdm frames) takes one pass per column — the
//! steps and values copied into their chunks, the flags, detector and pyramid in one tight
//! loop — instead of a [`Series::push`] per point with every case checked each time. The
//! result is the one pushing each point gives.

use super::{Series, StepKind};

impl Series {
    /// Appends the points `(steps[j], values[j])` with the loss `loss(j)`, as [`Series::push`]
    /// of each would (no frames): returns false, having appended nothing, when the steps do
    /// not rise strictly (a repeat or a regression is for `push` to judge), the lengths
    /// differ, or the series counts records rather than steps.
    pub fn push_rising(
        &mut self,
        steps: &[u64],
        values: &[f64],
        loss: impl Fn(usize) -> Option<f64>,
    ) -> bool {
        if steps.len() != values.len()
            || steps.is_empty()
            || self.step_kind == Some(StepKind::Index)
            || !steps.windows(2).all(|w| w[0] < w[1])
        {
            return false;
        }
        // The first point meets what came before (a repeat, a regression, a restart).
        self.push(Some(steps[0]), values[0], loss(0), None);
        let (steps, values) = (&steps[1..], &values[1..]);
        let Some(&last) = steps.last() else {
            return true;
        };
        let start = self.len();
        self.steps.extend_from_slice(steps);
        self.values.extend_from_slice(values);
        // Losses are stored from the first point that has one.
        let first_loss = if self.losses.is_empty() {
            (0..steps.len()).find(|&j| loss(j + 1).is_some())
        } else {
            Some(0)
        };
        if let Some(k) = first_loss {
            self.pad_losses(start + k);
            for j in k..steps.len() {
                self.losses.push(loss(j + 1).unwrap_or(f64::NAN));
            }
        }
        self.nonfinite += values.iter().filter(|v| !v.is_finite()).count();
        let Series {
            detector,
            flags,
            pyramid,
            ..
        } = self;
        let mut each = |v: f64, f: u8| {
            flags.push(f);
            pyramid.push(v, f);
        };
        match detector {
            Some(d) => d.classify_each(start, values, each),
            None => values.iter().for_each(|&v| each(v, 0)),
        }
        self.last_step = Some(last);
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::series::{ExplosionParams, Series};

    /// A batch appended a column at a time and the same points pushed one by one give the
    /// same series, point for point, with the same flags, events, losses and restarts.
    #[test]
    fn a_rising_batch_builds_what_pushing_each_point_does() {
        let params = ExplosionParams::default();
        for clip in [None, Some(1.0)] {
            let mut one = Series::new(clip, params);
            let mut many = Series::new(clip, params);
            let mut next = 1u64;
            for batch in 0..12u64 {
                let n = [1usize, 4095, 4096, 4097, 5000, 37][batch as usize % 6];
                let steps: Vec<u64> = (0..n as u64).map(|j| next + 2 * j).collect();
                next += 2 * n as u64;
                // Calm values, a spike every 997 points, a NaN now and then.
                let values: Vec<f64> = steps
                    .iter()
                    .map(|s| match s % 997 {
                        0 => 40.0,
                        13 => f64::NAN,
                        r => 0.5 + (r % 10) as f64 / 20.0,
                    })
                    .collect();
                let loss = |j: usize| (batch >= 3 && j % 3 != 1).then_some(j as f64);
                if batch == 7 {
                    // A restart: the next batch starts a new run.
                    one.mark_restart();
                    many.mark_restart();
                    next = 1;
                }
                for (j, (&s, &v)) in steps.iter().zip(&values).enumerate() {
                    one.push(Some(s), v, loss(j), None);
                }
                assert!(many.push_rising(&steps, &values, loss));
                if batch % 2 == 0 {
                    one.seal();
                    many.seal();
                }
            }
            assert_eq!(one.len(), many.len());
            for i in 0..one.len() {
                assert_eq!(one.step(i), many.step(i), "step {i}");
                assert_eq!(
                    one.value(i).map(f64::to_bits),
                    many.value(i).map(f64::to_bits)
                );
                assert_eq!(
                    one.loss(i).map(f64::to_bits),
                    many.loss(i).map(f64::to_bits)
                );
                assert_eq!(one.flags(i), many.flags(i), "flags {i}");
            }
            assert_eq!(one.events(), many.events());
            assert_eq!(one.restarts(), many.restarts());
            assert_eq!(one.nonfinite(), many.nonfinite());
            assert_eq!(one.above_clip(), many.above_clip());
            assert_eq!(one.summary(0..one.len()), many.summary(0..many.len()));
        }
    }

    #[test]
    fn steps_that_do_not_rise_are_left_to_push() {
        let mut s = Series::plain();
        assert!(!s.push_rising(&[3, 3], &[1.0, 1.0], |_| None));
        assert!(!s.push_rising(&[3, 2], &[1.0, 1.0], |_| None));
        assert!(!s.push_rising(&[3], &[1.0, 2.0], |_| None));
        assert!(s.is_empty());
    }

    /// The detector's run over a slice flags what judging each point does, for any window,
    /// factor (0 included) and threshold, through calm stretches, spikes and non-finite values.
    #[test]
    fn the_detector_over_a_slice_judges_as_point_by_point() {
        use crate::series::Detector;
        let mut gen = crate::demo::Rng::new(0x9E37_79B9_7F4A_7C15);
        let mut values = Vec::new();
        for i in 0..6000u64 {
            let rng = gen.next_u64();
            values.push(match rng % 101 {
                0 => 50.0 + (rng % 7) as f64,
                1 if i % 5 == 0 => f64::INFINITY,
                2 => f64::NAN,
                3 => 0.0,
                r => 0.2 + (r % 13) as f64 / 10.0,
            });
        }
        for window in [1usize, 2, 5, 50, 257] {
            for factor in [0.0, 1.5, 3.0] {
                for clip in [None, Some(0.9)] {
                    let params = ExplosionParams { factor, window };
                    let (mut one, mut run) =
                        (Detector::new(clip, params), Detector::new(clip, params));
                    let want: Vec<u8> = values
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| if v.is_finite() { one.classify(i, v) } else { 0 })
                        .collect();
                    let mut got = Vec::new();
                    for (k, part) in values.chunks(777).enumerate() {
                        run.classify_each(k * 777, part, |_, f| got.push(f));
                    }
                    let what = format!("window {window}, factor {factor}, clip {clip:?}");
                    assert_eq!(got, want, "{what}");
                    assert_eq!(one.events(), run.events(), "{what}");
                    assert_eq!(one.above_clip(), run.above_clip(), "{what}");
                }
            }
        }
    }
}
