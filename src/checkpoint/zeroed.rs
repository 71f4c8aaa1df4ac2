//! Large scratch buffers of zeros, page-aligned, in anonymous memory of their own.
//!
//! Page-aligned so that the profile's tiles start on cache lines (a `Vec` this large sits 16
//! bytes past a page: every other 32-byte load of the tile kernel straddled two lines), and
//! populated when mapped (`MAP_POPULATE`): its pages are made in one call, writable, rather
//! than by a fault each — and never by a first read mapping the shared zero page, which the
//! first write then copies while flushing the TLB of every CPU running the process. 12 MiB
//! took 4.3–4.7 ms populated against 5.9–6.1 ms faulted page by page here.
//!
//! Not advised onto 2 MiB pages: that took ~1,800 faults off a run (of ~3,700) but did not
//! move the whole command's time beyond noise here, and it costs where it can least be
//! afforded — a fragmented machine compacts memory inside the fault (`defrag = madvise`), and
//! on this VM the first run to touch a 2 MiB page the host had not backed yet paid 51 ms for
//! 12 MiB (6 ms in small pages). Where the map is refused, the buffer is a plain `Vec`.

use memmap2::MmapMut;

/// A value whose all-zero bytes are a valid zero.
///
/// # Safety
/// Every bit pattern of zeros must be a valid `Self`, and `Self` must need no more than page
/// alignment.
pub(super) unsafe trait Zero: Copy + Default {}

// SAFETY: all-zero bytes are 0.0 (and a tile row of it); alignment ≤ 8.
unsafe impl Zero for f32 {}
// SAFETY: as above.
unsafe impl Zero for f64 {}
// SAFETY: as above.
unsafe impl Zero for [f32; 8] {}

/// Below this a buffer is a plain `Vec` (a map of its own costs more than it saves).
const WORTH_A_MAP: usize = 1 << 20;

/// `len` zeros of `T`.
pub(super) struct Zeroed<T: Zero> {
    map: Option<MmapMut>,
    vec: Vec<T>,
    len: usize,
}

impl<T: Zero> Zeroed<T> {
    pub(super) fn new(len: usize) -> Self {
        let bytes = len.saturating_mul(std::mem::size_of::<T>());
        if bytes >= WORTH_A_MAP {
            // Populated up front (`MAP_POPULATE`: written pages, faulted in one call).
            if let Ok(map) = memmap2::MmapOptions::new().len(bytes).populate().map_anon() {
                return Zeroed {
                    map: Some(map),
                    vec: Vec::new(),
                    len,
                };
            }
        }
        Zeroed {
            map: None,
            vec: vec![T::default(); len],
            len,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [T] {
        match &mut self.map {
            // SAFETY: the map is `len · size_of::<T>()` bytes, page-aligned, zero-filled by
            // the kernel and written only as `T`s (`T: Zero`), and the slice borrows `self`.
            Some(map) => unsafe {
                std::slice::from_raw_parts_mut(map.as_mut_ptr() as *mut T, self.len)
            },
            None => &mut self.vec,
        }
    }

    pub(super) fn as_slice(&self) -> &[T] {
        match &self.map {
            // SAFETY: as in `as_mut_slice`.
            Some(map) => unsafe { std::slice::from_raw_parts(map.as_ptr() as *const T, self.len) },
            None => &self.vec,
        }
    }
}

impl<T: Zero> Default for Zeroed<T> {
    fn default() -> Self {
        Zeroed::new(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_buffers_start_at_zero_and_keep_what_is_written() {
        for len in [0usize, 3, 1 << 18, (1 << 20) + 5] {
            let mut z = Zeroed::<f64>::new(len);
            assert_eq!(z.len(), len);
            assert!(z.as_slice().iter().all(|&v| v == 0.0), "len {len}");
            for (i, v) in z.as_mut_slice().iter_mut().enumerate() {
                *v = i as f64;
            }
            assert!(z.as_slice().iter().enumerate().all(|(i, &v)| v == i as f64));
        }
        let mut tiles = Zeroed::<[f32; 8]>::new(1 << 16);
        assert_eq!(tiles.as_mut_slice()[(1 << 16) - 1], [0.0; 8]);
    }
}
