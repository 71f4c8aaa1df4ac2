//! fairseq's sinusoidal position table, rebuilt from its formula
//! (`SinusoidalPositionalEmbedding.get_embedding` in `fairseq/modules/sinusoidal_positional_embedding.py`):
//!
//! ```text
//! half = D / 2
//! f_k  = exp(-k · ln(10000) / (half - 1)),  k = 0..half
//! row p = [sin(p·f_0), …, sin(p·f_{half-1}), cos(p·f_0), …, cos(p·f_{half-1})] (+ one 0 if D is odd)
//! row padding_idx = 0
//! ```
//!
//! fairseq builds `N + padding_idx + 1` rows (`PositionalEmbedding(…)` passes
//! `init_size = num_embeddings + padding_idx + 1`) and numbers real positions from
//! `padding_idx + 1 = 2`. We build the same `N + 2` rows, so row indices match fairseq's, and the
//! rows actually used by a model are `2..N+2` (the default `--rows` for this table). Row 0 is
//! `p = 0` (sines 0, cosines 1, never used) and row 1 is the all-zero padding row.
//! fairseq evaluates in float32; we evaluate the same formula in f64.

use super::Error;

pub const PADDING_IDX: usize = 1;

/// Refuse tables beyond this many elements (4 GiB of f64 would be a typo, not a model).
const MAX_ELEMENTS: usize = 1 << 27;

/// The rows a model with `n` positions uses: `[padding_idx + 1, n + padding_idx + 1)`.
pub fn used_rows(n: usize) -> (usize, usize) {
    (PADDING_IDX + 1, n + PADDING_IDX + 1)
}

/// The `(n + 2) × d` table, row-major.
pub fn fairseq_table(n: usize, d: usize) -> Result<Vec<f64>, Error> {
    let bad = |why: &str| Error::BadSinusoidal {
        n,
        d,
        why: why.to_string(),
    };
    if n == 0 {
        return Err(bad("N must be at least 1"));
    }
    if d < 4 {
        // half − 1 must be positive: the formula divides by it.
        return Err(bad("D must be at least 4 (the formula divides by D/2 − 1)"));
    }
    let rows = n
        .checked_add(PADDING_IDX + 1)
        .ok_or_else(|| bad("N too large"))?;
    let elements = rows
        .checked_mul(d)
        .filter(|&e| e <= MAX_ELEMENTS)
        .ok_or_else(|| bad("table too large"))?;
    let half = d / 2;
    let step = 10000f64.ln() / (half - 1) as f64;
    let freqs: Vec<f64> = (0..half).map(|k| (-(k as f64) * step).exp()).collect();
    let mut table = vec![0.0f64; elements];
    for (p, row) in table.chunks_exact_mut(d).enumerate() {
        if p == PADDING_IDX {
            continue;
        }
        for (k, f) in freqs.iter().enumerate() {
            let a = p as f64 * f;
            row[k] = a.sin();
            row[half + k] = a.cos();
        }
    }
    Ok(table)
}
