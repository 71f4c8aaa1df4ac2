//! One column of a [`super::Records`] batch: the values in a plain vector (8 bytes each) and
//! the gaps in a bitmap beside it, which holds nothing until the first gap and then one bit
//! per entry up to the last gap. A column with its gaps costs half what `Option<f64>` (16
//! bytes) does, for the decoder's writes and for the pages they touch; a value that is there
//! is stored bit for bit (a NaN stays that NaN), and a gap is never confused with one.

/// Which entries of a column are gaps: bit `i` of the words; entries past the last word are
/// not gaps (so a column without gaps holds no words).
#[derive(Debug, Clone, Default)]
struct Gaps {
    words: Vec<u64>,
}

impl Gaps {
    fn is_gap(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| (w >> (i % 64)) & 1 == 1)
    }

    fn mark(&mut self, i: usize) {
        let w = i / 64;
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (i % 64);
    }

    fn clear(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w &= !(1 << (i % 64));
        }
    }

    /// The gaps of a column of `len` entries followed by a column with `later`'s gaps.
    fn append(&mut self, len: usize, later: &Gaps) {
        if len % 64 == 0 && !later.words.is_empty() {
            self.words.resize(len / 64, 0);
            self.words.extend_from_slice(&later.words);
            return;
        }
        for (k, &word) in later.words.iter().enumerate() {
            let mut w = word;
            while w != 0 {
                let bit = w.trailing_zeros() as usize;
                self.mark(len + k * 64 + bit);
                w &= w - 1;
            }
        }
    }
}

/// A column of `T` with gaps (`None`); a gap's slot holds `T::default()`.
#[derive(Debug, Clone, Default)]
pub(super) struct Column<T> {
    data: Vec<T>,
    gaps: Gaps,
}

impl<T: Copy + Default> Column<T> {
    pub(super) fn len(&self) -> usize {
        self.data.len()
    }

    pub(super) fn reserve(&mut self, n: usize) {
        self.data.reserve(n);
    }

    #[inline]
    pub(super) fn push(&mut self, v: Option<T>) {
        match v {
            Some(x) => self.data.push(x),
            None => {
                self.gaps.mark(self.data.len());
                self.data.push(T::default());
            }
        }
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<T> {
        let v = *self.data.get(i)?;
        (!self.gaps.is_gap(i)).then_some(v)
    }

    /// Fills the gap (or replaces the value) at `i`, if the column has an entry there.
    pub(super) fn set(&mut self, i: usize, v: T) {
        if let Some(slot) = self.data.get_mut(i) {
            *slot = v;
            self.gaps.clear(i);
        }
    }

    /// Grows the column to `n` entries with gaps.
    pub(super) fn pad_to(&mut self, n: usize) {
        while self.data.len() < n {
            self.push(None);
        }
    }

    pub(super) fn append(&mut self, later: Column<T>) {
        if self.data.is_empty() {
            *self = later;
            return;
        }
        self.gaps.append(self.data.len(), &later.gaps);
        self.data.extend(later.data);
    }

    /// The entries, when the column has no gap.
    pub(super) fn dense(&self) -> Option<&[T]> {
        self.gaps
            .words
            .iter()
            .all(|w| *w == 0)
            .then_some(&self.data[..])
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = Option<T>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_kept_apart_from_values_nan_included() {
        let mut c = Column::<f64>::default();
        let odd_nan = f64::from_bits(0x7ff8_0000_0000_0001);
        c.push(Some(1.0));
        c.push(None);
        c.push(Some(odd_nan));
        assert_eq!(c.get(0), Some(1.0));
        assert_eq!(c.get(1), None);
        assert_eq!(c.get(2).map(f64::to_bits), Some(odd_nan.to_bits()));
        assert_eq!(c.get(3), None);
        c.set(1, 2.0);
        assert_eq!(c.get(1), Some(2.0));
    }

    #[test]
    fn appending_keeps_every_gap_at_any_offset() {
        for first in [0usize, 1, 63, 64, 65, 130] {
            let mut a = Column::<u64>::default();
            for i in 0..first {
                a.push((i % 3 != 0).then_some(i as u64));
            }
            let mut b = Column::<u64>::default();
            for i in 0..200u64 {
                b.push((i % 5 != 1).then_some(i));
            }
            let want: Vec<Option<u64>> = a.iter().chain(b.iter()).collect();
            a.append(b);
            assert_eq!(a.iter().collect::<Vec<_>>(), want, "after {first}");
        }
    }
}
