//! One column of a [`super::Records`] batch: the values in a plain vector (8 bytes each) and
//! the gaps in a bitmap beside it, which holds nothing until the first gap and then one bit
//! per entry up to the last gap; gaps after the last value take no room at all. A column with its gaps costs half what `Option<f64>` (16
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
        if len.is_multiple_of(64) && !later.words.is_empty() {
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

/// A column of `T` with gaps (`None`): entries past `data` are gaps (so a column that is all
/// gaps, like a loss an event file never logs, stores nothing); before, a gap's slot holds
/// `T::default()` and its bit is set.
#[derive(Debug, Clone, Default)]
pub(super) struct Column<T> {
    data: Vec<T>,
    gaps: Gaps,
    len: usize,
}

impl<T: Copy + Default> Column<T> {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn reserve(&mut self, n: usize) {
        self.data.reserve(n);
    }

    /// Stores the gaps before entry `n` (those past `data`) as slots with their bits.
    fn fill_to(&mut self, n: usize) {
        while self.data.len() < n {
            self.gaps.mark(self.data.len());
            self.data.push(T::default());
        }
    }

    #[inline]
    pub(super) fn push(&mut self, v: Option<T>) {
        if let Some(x) = v {
            if self.data.len() < self.len {
                self.fill_to(self.len);
            }
            self.data.push(x);
        }
        self.len += 1;
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<T> {
        let v = *self.data.get(i)?;
        (!self.gaps.is_gap(i)).then_some(v)
    }

    /// Fills the gap (or replaces the value) at `i`, if the column has an entry there.
    pub(super) fn set(&mut self, i: usize, v: T) {
        if i >= self.len {
            return;
        }
        self.fill_to(i + 1);
        self.data[i] = v;
        self.gaps.clear(i);
    }

    /// Grows the column to `n` entries with gaps.
    pub(super) fn pad_to(&mut self, n: usize) {
        self.len = self.len.max(n);
    }

    pub(super) fn append(&mut self, later: Column<T>) {
        if self.len == 0 {
            *self = later;
            return;
        }
        if !later.data.is_empty() {
            self.fill_to(self.len);
            self.gaps.append(self.len, &later.gaps);
            self.data.extend(later.data);
        }
        self.len += later.len;
    }

    /// The entries, when the column has no gap.
    pub(super) fn dense(&self) -> Option<&[T]> {
        (self.data.len() == self.len && self.gaps.words.iter().all(|w| *w == 0))
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
        // Trailing gaps, then a value set among them and one pushed after them.
        c.push(None);
        c.push(None);
        assert_eq!((c.len(), c.get(3), c.get(4)), (5, None, None));
        c.set(4, 5.0);
        c.push(None);
        c.push(Some(7.0));
        let all: Vec<_> = c.iter().map(|v| v.map(f64::to_bits)).collect();
        let want = [
            Some(1.0),
            Some(2.0),
            Some(odd_nan),
            None,
            Some(5.0),
            None,
            Some(7.0),
        ];
        assert_eq!(all, want.map(|v| v.map(f64::to_bits)));
        assert!(c.dense().is_none());
        c.set(3, 4.0);
        c.set(5, 6.0);
        assert_eq!(c.dense().map(<[f64]>::len), Some(7));
        c.set(9, 1.0);
        assert_eq!(c.len(), 7, "no entry 9: nothing set");
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
                b.push((i % 5 != 1 && i < 150).then_some(i));
            }
            let want: Vec<Option<u64>> = a.iter().chain(b.iter()).collect();
            let mut gaps_only = Column::<u64>::default();
            gaps_only.pad_to(3);
            let want: Vec<Option<u64>> = want.into_iter().chain([None; 3]).collect();
            a.append(b);
            a.append(gaps_only);
            assert_eq!(a.iter().collect::<Vec<_>>(), want, "after {first}");
            a.push(Some(9));
            assert_eq!(a.get(a.len() - 1), Some(9));
            assert_eq!(a.get(a.len() - 2), None);
        }
    }
}
