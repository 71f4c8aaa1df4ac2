//! The steps of a series' points, a chunk at a time: logs mostly step by a constant (every
//! update, every 10, every `logging_steps`), and such a chunk is three numbers. Restarts,
//! duplicates, irregular strides fall back to 4-byte offsets from the chunk's first step,
//! and steps farther apart than ±2³¹ to the steps themselves.

use super::packed::Encoding;

#[derive(Debug, Clone)]
pub enum StepChunk {
    /// Step `i` is `first + i·stride` (wrapping: a stride may go down).
    Stride {
        first: u64,
        stride: u64,
        len: u32,
    },
    /// Step `i` is `base + offsets[i]`.
    Offsets {
        base: u64,
        offsets: Vec<i32>,
    },
    Steps(Vec<u64>),
}

fn offset(base: u64, s: u64) -> Option<i32> {
    i32::try_from(s.wrapping_sub(base) as i64).ok()
}

impl Encoding for StepChunk {
    type Item = u64;

    fn first(first: u64) -> Self {
        StepChunk::Stride {
            first,
            stride: 0,
            len: 1,
        }
    }

    fn try_push(&mut self, s: u64) -> bool {
        match self {
            StepChunk::Stride { first, stride, len } => {
                if *len == 1 {
                    *stride = s.wrapping_sub(*first);
                } else if first.wrapping_add(stride.wrapping_mul(u64::from(*len))) != s {
                    return false;
                }
                *len += 1;
            }
            StepChunk::Offsets { base, offsets } => match offset(*base, s) {
                Some(o) => offsets.push(o),
                None => return false,
            },
            StepChunk::Steps(v) => v.push(s),
        }
        true
    }

    fn try_set(&mut self, i: usize, s: u64) -> bool {
        if self.get(i) == Some(s) {
            return true;
        }
        match self {
            StepChunk::Stride { .. } => false,
            StepChunk::Offsets { base, offsets } => match (offset(*base, s), offsets.get_mut(i)) {
                (Some(o), Some(slot)) => {
                    *slot = o;
                    true
                }
                _ => false,
            },
            StepChunk::Steps(v) => v.get_mut(i).map(|slot| *slot = s).is_some(),
        }
    }

    fn get(&self, i: usize) -> Option<u64> {
        match self {
            StepChunk::Stride { first, stride, len } => {
                (i < *len as usize).then(|| first.wrapping_add(stride.wrapping_mul(i as u64)))
            }
            StepChunk::Offsets { base, offsets } => offsets
                .get(i)
                .map(|&o| base.wrapping_add(i64::from(o) as u64)),
            StepChunk::Steps(v) => v.get(i).copied(),
        }
    }

    fn len(&self) -> usize {
        match self {
            StepChunk::Stride { len, .. } => *len as usize,
            StepChunk::Offsets { offsets, .. } => offsets.len(),
            StepChunk::Steps(v) => v.len(),
        }
    }

    fn encode(steps: &[u64]) -> Self {
        let Some(&first) = steps.first() else {
            return StepChunk::Steps(Vec::new());
        };
        let stride = steps.get(1).map_or(0, |s| s.wrapping_sub(first));
        let arithmetic = steps
            .iter()
            .enumerate()
            .all(|(i, &s)| first.wrapping_add(stride.wrapping_mul(i as u64)) == s);
        if arithmetic {
            return StepChunk::Stride {
                first,
                stride,
                len: steps.len() as u32,
            };
        }
        match steps.iter().map(|&s| offset(first, s)).collect() {
            Some(offsets) => StepChunk::Offsets {
                base: first,
                offsets,
            },
            None => StepChunk::Steps(steps.to_vec()),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            StepChunk::Stride { .. } => 0,
            StepChunk::Offsets { offsets, .. } => offsets.capacity() * 4,
            StepChunk::Steps(v) => v.capacity() * 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::packed::{Packed, CHUNK};
    use super::*;

    /// The column against a plain `Vec`, at every index, and the encodings it ended in
    /// (sealed).
    fn check(steps: &[u64]) -> Packed<StepChunk> {
        let mut p = Packed::<StepChunk>::default();
        for &s in steps {
            p.push(s);
        }
        assert_eq!(p.len(), steps.len());
        for (i, &s) in steps.iter().enumerate() {
            assert_eq!(p.get(i), Some(s), "step {i}");
        }
        assert_eq!(p.get(steps.len()), None);
        assert_eq!(
            p.iter_range(0..steps.len() + 3).collect::<Vec<_>>(),
            steps.to_vec()
        );
        // Read back from the open (plain) chunk above, from encoded chunks only here.
        p.seal();
        for (i, &s) in steps.iter().enumerate() {
            assert_eq!(p.get(i), Some(s), "step {i}, sealed");
        }
        p
    }

    #[test]
    fn a_constant_stride_costs_nothing_per_step() {
        let steps: Vec<u64> = (0..3 * CHUNK as u64 + 17).map(|i| 100 + 10 * i).collect();
        let p = check(&steps);
        assert!(p.heap_bytes() < 4 * 64, "{} bytes", p.heap_bytes());
    }

    #[test]
    fn restarts_duplicates_non_monotone_and_huge_strides_read_back_exactly() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Restarts: 1..=5000 then back to 2500.. (a resumed run), duplicates, a stall.
        let mut steps: Vec<u64> = (1..=5000).collect();
        steps.extend(2500..9000);
        steps.extend([9000, 9000, 9000, 9001]);
        check(&steps);
        // Random order (a table of several runs merged), and steps near u64's ends.
        let random: Vec<u64> = (0..2 * CHUNK).map(|_| rand() % 1_000_000).collect();
        check(&random);
        let huge: Vec<u64> = (0..CHUNK as u64 + 9)
            .map(|i| if i % 3 == 0 { u64::MAX - i } else { i << 40 })
            .collect();
        check(&huge);
        // A huge constant stride, going down.
        let down: Vec<u64> = (0..CHUNK as u64 + 5)
            .map(|i| u64::MAX - i * (1 << 50))
            .collect();
        check(&down);
        check(&[7]);
        check(&[]);
    }

    #[test]
    fn set_rewrites_one_step_in_any_encoding() {
        let mut steps: Vec<u64> = (0..CHUNK as u64 + 10).collect();
        let mut p = check(&steps);
        for (i, s) in [(5, 5), (6, 1 << 45), (CHUNK + 2, 3), (7, 2)] {
            p.set(i, s);
            steps[i] = s;
        }
        p.set(CHUNK + 10, 1);
        for (i, &s) in steps.iter().enumerate() {
            assert_eq!(p.get(i), Some(s), "step {i}");
        }
    }
}
