//! "Explain the map": two or three plain sentences derived from the numbers, for tab 2, the
//! `similarity` text and JSON outputs and the PNG.
//!
//! [`TableFacts::measure`] takes what the map alone does not hold from the table, in one pass
//! (per-row norms, each row's cosine to the next, whether the rows are sin/cos pairs);
//! [`explain`] is a pure function of those facts and the [`SimilarityMap`].
//!
//! Untrained positions: a row left at a random initialisation is, in D dimensions, nearly
//! orthogonal to every other row (|cos| ~ 1/√D) and its norm is as tightly concentrated as the
//! init's (relative spread ~ 1/√(2D)). A tail of such rows means no training sequence was
//! that long, so those positions never received a gradient.

use super::similarity::{block_map, RowNorms, SimilarityMap, TableView};
use std::f64::consts::PI;

/// Facts about rows `[lo, hi)` of a table, beyond the map.
#[derive(Clone, Debug, PartialEq)]
pub struct TableFacts {
    pub lo: usize,
    /// Row width D.
    pub dim: usize,
    /// ‖row‖ per row of the range (0 for an all-zero row).
    pub norms: Vec<f64>,
    /// cos(i, i+1) for i in `[lo, hi − 1)`; NaN when either row is zero or not finite.
    pub adjacent: Vec<f64>,
    /// Set when every non-zero row is made of sin/cos pairs of one phase each.
    pub sinusoid: Option<Sinusoid>,
}

/// A sinusoidal table: `pairs` sin/cos pairs, each advancing its phase by a fixed angle per
/// position; the shortest and longest of their periods, in positions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sinusoid {
    pub pairs: usize,
    pub shortest: f64,
    pub longest: f64,
}

/// How the sin/cos of one pair sit in a row: `[sin… | cos…]` (fairseq, Whisper, tensor2tensor)
/// or interleaved `[sin, cos, sin, cos…]`.
#[derive(Clone, Copy)]
enum Pairing {
    Halves,
    Interleaved,
}

impl Pairing {
    fn pair(self, d: usize, k: usize) -> (usize, usize) {
        match self {
            Pairing::Halves => (k, k + d / 2),
            Pairing::Interleaved => (2 * k, 2 * k + 1),
        }
    }
}

/// Relative tolerance for `sin² + cos²` being constant (F16 tables hold ~3 digits).
const PAIR_TOLERANCE: f64 = 0.02;

impl TableFacts {
    /// Rows `[lo, hi)` (clamped to the table), measured afresh. Memory: O(rows + D).
    pub fn measure(view: &TableView<'_>, rows: (usize, usize)) -> TableFacts {
        TableFacts::from_norms(view, block_map(view, rows, 1).2)
    }

    /// The facts, from the norms and adjacent cosines the map's pass found; the rows are
    /// decoded again only while every row so far is made of sin/cos pairs.
    pub fn from_norms(view: &TableView<'_>, rows: RowNorms) -> TableFacts {
        let RowNorms {
            lo,
            norm: norms,
            adjacent,
            ..
        } = rows;
        let d = view.dim();
        let (mut prev, mut row) = (vec![0.0f64; d], vec![0.0f64; d]);
        let mut pair_ok = [d >= 2 && d.is_multiple_of(2); 2];
        let mut amplitude: Option<Vec<[f64; 2]>> = None;
        // Rows for the phase steps: the first non-zero row, whether the next one is non-zero
        // too, and the last non-zero row (decoded again at the end).
        let (mut first, mut consecutive, mut last) = (None::<usize>, false, 0usize);
        for (i, &norm) in (lo..).zip(&norms) {
            if !(pair_ok[0] || pair_ok[1]) {
                break;
            }
            if norm > 0.0 && norm.is_finite() {
                view.decode_row(i, &mut row);
                let amp = amplitude.get_or_insert_with(|| pair_squares(&row, d));
                for (slot, how) in [Pairing::Halves, Pairing::Interleaved].iter().enumerate() {
                    if pair_ok[slot] {
                        pair_ok[slot] = (0..d / 2).all(|k| {
                            let (a, b) = how.pair(d, k);
                            let s = row[a] * row[a] + row[b] * row[b];
                            (s - amp[k][slot]).abs() <= PAIR_TOLERANCE * amp[k][slot].max(1e-30)
                        });
                    }
                }
                match first {
                    None => first = Some(i),
                    Some(f) if f + 1 == i => consecutive = true,
                    _ => {}
                }
                last = i;
            }
        }
        let pairing = if pair_ok[0] {
            Some(Pairing::Halves)
        } else if pair_ok[1] {
            Some(Pairing::Interleaved)
        } else {
            None
        };
        let sinusoid = match (pairing, first) {
            (Some(p), Some(f)) if consecutive => {
                let mut r1 = vec![0.0f64; d];
                view.decode_row(f, &mut prev);
                view.decode_row(f + 1, &mut r1);
                view.decode_row(last, &mut row);
                periods(p, d, &prev, &r1, (last - f, &row))
            }
            _ => None,
        };
        TableFacts {
            lo,
            dim: d,
            norms,
            adjacent,
            sinusoid,
        }
    }
}

/// `sin² + cos²` of each pair in both layouts, from the first non-zero row.
fn pair_squares(row: &[f64], d: usize) -> Vec<[f64; 2]> {
    (0..d / 2)
        .map(|k| {
            let sq = |how: Pairing| {
                let (a, b) = how.pair(d, k);
                row[a] * row[a] + row[b] * row[b]
            };
            [sq(Pairing::Halves), sq(Pairing::Interleaved)]
        })
        .collect()
}

/// The periods of each pair, from the phase step between two consecutive rows (refined over
/// the whole span for slow pairs, whose one-row step is below the dtype's precision).
fn periods(
    how: Pairing,
    d: usize,
    r0: &[f64],
    r1: &[f64],
    (span, rl): (usize, &[f64]),
) -> Option<Sinusoid> {
    let phase = |r: &[f64], k: usize| {
        let (a, b) = how.pair(d, k);
        r[a].atan2(r[b])
    };
    let wrap = |x: f64| (x + PI).rem_euclid(2.0 * PI) - PI;
    let mut steps = Vec::with_capacity(d / 2);
    for k in 0..d / 2 {
        let step = wrap(phase(r1, k) - phase(r0, k)).abs();
        let refined = if span > 1 && step * span as f64 * 2.0 < PI {
            wrap(phase(rl, k) - phase(r0, k)).abs() / span as f64
        } else {
            step
        };
        if refined > 0.0 {
            steps.push(refined);
        }
    }
    let fastest = steps.iter().copied().fold(f64::NAN, f64::max);
    let slowest = steps.iter().copied().fold(f64::NAN, f64::min);
    (fastest.is_finite() && slowest.is_finite()).then(|| Sinusoid {
        pairs: d / 2,
        shortest: 2.0 * PI / fastest,
        longest: 2.0 * PI / slowest,
    })
}

/// A tail of rows that look untrained: from `start` (a table row) to the end of the range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UntrainedTail {
    pub start: usize,
    /// Rows in the tail (zero rows not counted).
    pub rows: usize,
    /// Mean norm of the tail's rows, and of the rows before it (None when there are none).
    pub norm: f64,
    pub trained_norm: Option<f64>,
    /// The |cos| bound every adjacent pair in the tail stays under.
    pub bound: f64,
}

/// Narrowest table whose untrained rows can be told apart (4/√32 ≈ 0.71).
const MIN_DIM: usize = 32;

/// The untrained tail of `facts`, if any: the longest run of rows at the end whose cosine to
/// each neighbour stays under 4/√D (random vectors: 4 standard deviations; D ≥ 32), at least
/// max(4, 1 %) rows long, with norms as concentrated as a random init's.
pub fn untrained_tail(facts: &TableFacts) -> Option<UntrainedTail> {
    let n = facts.norms.len();
    // Below 32 dimensions random rows are not near-orthogonal enough to tell from trained ones.
    if facts.dim < MIN_DIM {
        return None;
    }
    let bound = 4.0 / (facts.dim as f64).sqrt();
    // The last correlated pair (i, i+1): row i+1 is like a neighbour, the tail starts after it.
    let start = match facts.adjacent.iter().rposition(|c| c.abs() >= bound) {
        Some(i) => i + 2,
        None => 0,
    };
    let tail: Vec<f64> = facts.norms[start.min(n)..]
        .iter()
        .copied()
        .filter(|v| *v > 0.0)
        .collect();
    if tail.len() < 4.max(n / 100) || tail.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mean = tail.iter().sum::<f64>() / tail.len() as f64;
    let var = tail.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / tail.len() as f64;
    if var.sqrt() / mean > 3.0 / (2.0 * facts.dim as f64).sqrt() + 0.02 {
        return None;
    }
    let before: Vec<f64> = facts.norms[..start.min(n)]
        .iter()
        .copied()
        .filter(|v| *v > 0.0 && v.is_finite())
        .collect();
    Some(UntrainedTail {
        start: facts.lo + start,
        rows: tail.len(),
        norm: mean,
        trained_norm: (!before.is_empty())
            .then(|| before.iter().sum::<f64>() / before.len() as f64),
        bound,
    })
}

fn signed(v: f64) -> String {
    if v < 0.0 {
        format!("\u{2212}{:.2}", -v)
    } else {
        format!("+{v:.2}")
    }
}

fn count(v: f64) -> String {
    if v >= 100.0 {
        format!("{:.0}", v)
    } else {
        format!("{v:.1}")
    }
}

/// The known random initialisations a norm `norm` in `dim` dimensions matches.
fn init_name(norm: f64, dim: usize) -> Option<&'static str> {
    let near = |want: f64| (norm / want - 1.0).abs() < 0.15;
    if near(1.0) {
        Some("N(0, 1/D), fairseq's")
    } else if near(0.02 * (dim as f64).sqrt()) {
        Some("N(0, 0.02²), GPT-2's and BERT's")
    } else if near((dim as f64).sqrt()) {
        Some("N(0, 1), PyTorch's nn.Embedding default")
    } else {
        None
    }
}

/// Two or three sentences about `map`, from the numbers.
pub fn explain(map: &SimilarityMap, facts: &TableFacts) -> Vec<String> {
    let mut out = vec![falloff(map)];
    if let Some(s) = facts.sinusoid {
        let mut t = format!(
            "The table is sinusoidal ({} sin/cos pairs with periods from {} to about {} positions), \
             so similarity depends only on distance: every diagonal of the map is uniform, with \
             ripples from the periodic terms",
            s.pairs,
            count(s.shortest),
            count(s.longest)
        );
        if map.summary.min.is_some_and(|m| m > 0.0) {
            t.push_str(
                "; the periods longer than the table keep even the farthest positions alike",
            );
        }
        t.push('.');
        out.push(t);
    } else if let Some(u) = untrained_tail(facts) {
        out.push(untrained(map, &u, facts.dim));
    }
    if let Some(p) = padding(&map.zero_rows) {
        out.push(p);
    }
    out
}

fn falloff(map: &SimilarityMap) -> String {
    let s = &map.summary;
    let mut t = "The diagonal is each position with itself (cosine 1)".to_string();
    match (s.adjacent, s.below_half, s.max_distance) {
        (None, _, _) => t.push_str("; the range has no pair of neighbouring positions"),
        (Some(a), _, _) if a < 0.5 => t.push_str(&format!(
            "; even neighbouring positions are unlike each other (cosine {})",
            signed(a)
        )),
        (Some(a), Some(d), _) => t.push_str(&format!(
            "; neighbours have cosine {}, and similarity falls to half (below 0.5) at distance {d}",
            signed(a)
        )),
        (Some(a), None, Some(m)) => t.push_str(&format!(
            "; neighbours have cosine {}, and similarity stays above half up to distance {m}: \
             far-apart positions remain alike",
            signed(a)
        )),
        (Some(a), None, None) => t.push_str(&format!("; neighbours have cosine {}", signed(a))),
    }
    if let Some(m) = s.min.filter(|m| *m < 0.5) {
        t.push_str(&format!(
            ", down to {} for the least similar blocks",
            signed(m)
        ));
    }
    t.push('.');
    t
}

fn untrained(map: &SimilarityMap, u: &UntrainedTail, dim: usize) -> String {
    let init = init_name(u.norm, dim)
        .map(|n| format!(", the size the {n} initialisation gives"))
        .unwrap_or_default();
    let norms = match u.trained_norm {
        Some(t) => format!("norms ≈ {:.2}{init}, against {:.2} before", u.norm, t),
        None => format!("norms ≈ {:.2}{init}", u.norm),
    };
    if u.start <= map.rows.0 + 1 {
        return format!(
            "No position is like its neighbours (|cos| < {:.2} for every adjacent pair) and the \
             {norms}: the whole table still looks like its random initialisation (untrained: too \
             few updates, or a table the model does not use).",
            u.bound
        );
    }
    format!(
        "Positions {}–{} look untrained: near-zero cosine to every neighbour (|cos| < {:.2}) and \
         {norms}: the training data never had sequences that long (none reached row {}).",
        u.start,
        map.rows.1 - 1,
        u.bound,
        u.start
    )
}

fn padding(zero: &[usize]) -> Option<String> {
    let list = |z: &[usize]| {
        let shown: Vec<String> = z.iter().take(4).map(|r| r.to_string()).collect();
        let more = if z.len() > 4 { ", …" } else { "" };
        format!("{}{more}", shown.join(", "))
    };
    match zero {
        [] => None,
        [r] => Some(format!(
            "Row {r} is all zeros: a padding row{}; it has no direction and is left out of the map.",
            if *r == 1 { " (fairseq's padding_idx 1)" } else { "" }
        )),
        z => Some(format!(
            "{} rows are all zeros ({}): padding rows; they have no direction and are left out \
             of the map.",
            z.len(),
            list(z)
        )),
    }
}

#[cfg(test)]
#[path = "explain_tests.rs"]
mod tests;
