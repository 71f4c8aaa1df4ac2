//! The series: storage, restarts, merging and detection, on made-up points.

use super::*;

fn series(values: &[f64], clip: Option<f64>) -> Series {
    let mut s = Series::new(clip, ExplosionParams::default());
    for (i, &v) in values.iter().enumerate() {
        s.push(Some(i as u64 * 10), v, None, None);
    }
    s
}

#[test]
fn losses_are_stored_only_from_the_first_point_that_has_one() {
    let mut s = Series::plain();
    for i in 0..5000u64 {
        s.push(Some(i), 1.0, None, None);
    }
    assert_eq!(s.losses.len(), 0, "no loss: nothing stored");
    assert_eq!(s.loss(10), None);
    s.push(Some(5000), 1.0, Some(2.5), None);
    s.push(Some(5001), 1.0, None, None);
    assert_eq!(s.losses.len(), 5002);
    assert_eq!(
        (s.loss(4999), s.loss(5000), s.loss(5001)),
        (None, Some(2.5), None)
    );
    // A loss logged after its point (event files) also starts the column.
    let mut t = Series::plain();
    t.push(Some(1), 1.0, None, None);
    t.push(Some(2), 1.0, None, None);
    t.attach_loss(2, 0.75);
    assert_eq!((t.loss(0), t.loss(1)), (None, Some(0.75)));
}

#[test]
fn explosion_needs_clip_and_factor() {
    let mut v = vec![0.5; 60];
    v[30] = 1.2; // above clip 1.0 but only 2.4× the median
    v[40] = 2.0; // above clip and 4× the median
    let s = series(&v, Some(1.0));
    assert_eq!(s.above_clip(), 2);
    assert_eq!(s.events().len(), 1);
    assert_eq!(s.events()[0].peak, 40);
    assert!((s.events()[0].factor - 4.0).abs() < 1e-12);
}

#[test]
fn clipping_off_uses_the_median_rule_alone() {
    let mut v = vec![10.0; 60];
    v[20] = 31.0;
    let s = series(&v, None);
    assert_eq!(s.above_clip(), 0);
    assert_eq!(s.events().len(), 1);
    let mut s2 = series(&v, Some(100.0));
    assert_eq!(s2.events().len(), 0);
    s2.set_clip(Some(0.0));
    assert_eq!(s2.events().len(), 1, "clip 0 means clipping off");
}

#[test]
fn close_explosions_merge_far_ones_do_not() {
    let mut v = vec![1.0; 300];
    v[100] = 10.0;
    v[120] = 20.0; // within 50 points: same event, new peak
    v[250] = 10.0; // far: a second event
    let s = series(&v, Some(1.5));
    let e = s.events();
    assert_eq!(e.len(), 2);
    assert_eq!((e[0].start, e[0].end, e[0].peak), (100, 120, 120));
    assert_eq!(e[1].start, 250);
}

#[test]
fn nonfinite_values_are_counted_not_exploded_and_do_not_enter_the_window() {
    let mut v = vec![1.0; 20];
    v[10] = f64::NAN;
    v[11] = f64::INFINITY;
    let s = series(&v, Some(0.5));
    assert_eq!(s.nonfinite(), 2);
    assert!(s.events().is_empty());
    assert_eq!(s.value_range(0..20), Some((1.0, 1.0)));
    let cols = s.columns(0..20, 4);
    assert!(cols[2].nonfinite && !cols[1].nonfinite);
}

#[test]
fn downsampling_keeps_the_spike() {
    let mut v = vec![1.0; 1000];
    v[537] = 99.0;
    let s = series(&v, None);
    let cols = s.columns(0..1000, 100);
    assert_eq!(cols.len(), 10);
    assert_eq!(cols[5].max, 99.0);
    assert!(cols[5].flags & FLAG_EXPLOSION != 0);
    assert_eq!(cols[4].max, 1.0);
}

#[test]
fn index_steps_restarts_and_tqdm_repeats() {
    let mut s = Series::new(None, ExplosionParams::default());
    assert!(s.push(None, 1.0, None, Some(3)));
    assert!(!s.push(None, 1.0, None, Some(3)), "same frame repeated");
    assert!(s.push(None, 1.0, None, Some(4)));
    assert_eq!(s.step_kind(), StepKind::Index);
    assert_eq!(s.step(1), Some(2));
    let mut s = Series::new(None, ExplosionParams::default());
    for st in [1, 2, 3, 1, 2] {
        s.push(Some(st), 1.0, None, None);
    }
    assert_eq!(s.restarts(), &[3]);
    s.mark_restart();
    s.push(Some(3), 1.0, None, None);
    assert_eq!(s.restarts(), &[3, 5]);
}

#[test]
fn detection_matches_a_brute_force_reference() {
    // The fast path (sliding minimum) must flag exactly the points the rule flags.
    let mut rng = 0x9E3779B97F4A7C15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % 10_000) as f64 / 1000.0
    };
    let values: Vec<f64> = (0..3000)
        .map(|i| {
            let v = next();
            if i % 97 == 0 {
                v * 20.0
            } else if i % 211 == 0 {
                f64::NAN
            } else {
                v
            }
        })
        .collect();
    for clip in [None, Some(2.0), Some(8.0)] {
        let s = series(&values, clip);
        let p = ExplosionParams::default();
        let mut window: Vec<f64> = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            let above = clip.is_some_and(|c| v > c);
            let mut want = false;
            if (clip.is_none() || above) && window.len() >= MIN_HISTORY {
                let mut w = window.clone();
                w.sort_by(f64::total_cmp);
                let n = w.len();
                let median = if n % 2 == 1 {
                    w[n / 2]
                } else {
                    (w[n / 2 - 1] + w[n / 2]) / 2.0
                };
                want = v > p.factor * median;
            }
            assert_eq!(
                s.flags(i) & FLAG_EXPLOSION != 0,
                want,
                "point {i} (clip {clip:?})"
            );
            window.push(v);
            if window.len() > p.window {
                window.remove(0);
            }
        }
    }
}

#[test]
fn chunked_storage_crosses_chunks() {
    use packed::CHUNK;
    let mut c = Packed::<StepChunk>::default();
    for i in 0..(CHUNK * 2 + 5) {
        c.push(i as u64);
    }
    assert_eq!(c.get(CHUNK), Some(CHUNK as u64));
    assert_eq!(
        c.iter_range(CHUNK - 1..CHUNK + 2).collect::<Vec<_>>().len(),
        3
    );
    assert_eq!(c.get(CHUNK * 3), None);
}

/// The open (plain) chunk, sealed at any point (a batch ends) and written to again: every
/// column gives back exactly what a plain `Vec` holds, at every index, after `set` too.
#[test]
fn open_and_sealed_chunks_read_back_like_a_vec() {
    use packed::CHUNK;
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut steps = Packed::<StepChunk>::default();
    let mut values = Packed::<ValueChunk>::default();
    let mut flags = Packed::<FlagChunk>::default();
    let (mut vs, mut vv, mut vf) = (Vec::new(), Vec::new(), Vec::new());
    let check = |steps: &Packed<StepChunk>,
                 values: &Packed<ValueChunk>,
                 flags: &Packed<FlagChunk>,
                 vs: &[u64],
                 vv: &[f64],
                 vf: &[u8]| {
        assert_eq!(steps.len(), vs.len());
        for i in 0..vs.len() + 2 {
            assert_eq!(steps.get(i), vs.get(i).copied(), "step {i}");
            assert_eq!(
                values.get(i).map(f64::to_bits),
                vv.get(i).map(|v| v.to_bits()),
                "value {i}"
            );
            assert_eq!(flags.get(i), vf.get(i).copied(), "flags {i}");
        }
        assert_eq!(
            values.last().map(f64::to_bits),
            vv.last().map(|v| v.to_bits())
        );
    };
    // Batches of every size around the chunk's: 1 point (a live append), a few, one short
    // of a chunk, exactly one, more than two.
    let sizes = [
        1,
        3,
        CHUNK - 1,
        1,
        CHUNK,
        2,
        2 * CHUNK + 7,
        1,
        1,
        CHUNK / 2,
        5,
    ];
    let mut step = 0u64;
    for (b, &n) in sizes.iter().enumerate() {
        for k in 0..n {
            let r = rand();
            step += if r % 97 == 0 { 3 } else { 1 };
            // A stretch of decimals, then floats, NaN and any bits (every encoding widens).
            let v = match (b, r % 41) {
                (_, 0) => f64::NAN,
                (_, 1) => f64::from_bits(r),
                (0..=3, _) => (r % 10_000) as f64 / 1000.0,
                (4..=6, _) => f64::from((r % 1000) as f32 / 3.0),
                _ => (r >> 11) as f64 / 7.0,
            };
            let f = u8::from(r % 500 == 0) | if k == 0 { 2 } else { 0 };
            steps.push(step);
            values.push(v);
            flags.push(f);
            vs.push(step);
            vv.push(v);
            vf.push(f);
        }
        check(&steps, &values, &flags, &vs, &vv, &vf);
        // Rewrites in the open chunk and in an encoded one.
        for i in [vs.len() - 1, vs.len() / 2, 0] {
            steps.set(i, vs[i] + 1_000_000_000_000);
            vs[i] += 1_000_000_000_000;
            values.set(i, 0.1 + 0.2);
            vv[i] = 0.1 + 0.2;
            flags.set(i, 7);
            vf[i] = 7;
        }
        check(&steps, &values, &flags, &vs, &vv, &vf);
        if b % 2 == 0 {
            steps.seal();
            values.seal();
            flags.seal();
            check(&steps, &values, &flags, &vs, &vv, &vf);
        }
    }
    // A sealed column holds no open buffer.
    let mut lr = Packed::<ValueChunk>::default();
    for _ in 0..CHUNK + 10 {
        lr.push(0.0005);
    }
    assert!(lr.heap_bytes() >= CHUNK * 8, "the open chunk is plain");
    lr.seal();
    assert!(
        lr.heap_bytes() < 256,
        "{} bytes once sealed",
        lr.heap_bytes()
    );
}

/// Detection with a window that is not full, a window of one and a factor below one: the
/// block minimum's quick rejection must not change a flag.
#[test]
fn detection_matches_the_rule_for_any_window_and_factor() {
    let mut rng = crate::demo::Rng::new(0x9E37_79B9_7F4A_7C15);
    let mut next = || rng.next_u64();
    let values: Vec<f64> = (0..2000)
        .map(|i| {
            let r = next();
            let base = 1.0 + (i as f64 / 300.0).sin() * 0.8; // a slow drift down and up
            match r % 53 {
                0 => base * 9.0,
                1 => f64::INFINITY,
                2 => 0.0,
                _ => base + (r % 100) as f64 / 500.0,
            }
        })
        .collect();
    for (window, factor) in [(1, 3.0), (2, 1.5), (7, 3.0), (50, 0.5), (120, 2.0)] {
        let params = ExplosionParams { factor, window };
        let mut s = Series::new(None, params);
        for (i, &v) in values.iter().enumerate() {
            s.push(Some(i as u64), v, None, None);
        }
        let mut win: Vec<f64> = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            let mut want = false;
            if win.len() >= MIN_HISTORY.min(window) {
                let mut w = win.clone();
                w.sort_by(f64::total_cmp);
                let n = w.len();
                let median = if n % 2 == 1 {
                    w[n / 2]
                } else {
                    (w[n / 2 - 1] + w[n / 2]) / 2.0
                };
                want = v > factor * w[0] && v > factor * median;
            }
            assert_eq!(
                s.flags(i) & FLAG_EXPLOSION != 0,
                want,
                "point {i} (window {window}, factor {factor})"
            );
            win.push(v);
            if win.len() > window {
                win.remove(0);
            }
        }
    }
}
