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

use std::sync::Mutex;

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
/// The largest buffer kept as a [`Spare`].
const MAX_SPARE: usize = 64 << 20;

/// `len` zeros of `T`.
pub(super) struct Zeroed<T: Zero> {
    buf: Buf<T>,
    len: usize,
}

enum Buf<T> {
    /// Page-aligned, at least `len · size_of::<T>()` bytes; handed to `spare` when dropped.
    Map(MmapMut, &'static Spare),
    Vec(Vec<T>),
}

/// One large buffer's pages, kept for the next one: the map's block sums become a profile
/// worker's strip buffer, and the TUI's next checkpoint reuses the last one's. Making 4 MiB of
/// pages took 1.4–2 ms here; clearing them ~0.2 ms.
#[derive(Default)]
pub(super) struct Spare(Mutex<Option<MmapMut>>);

/// The process's spare.
static SPARE: Spare = Spare(Mutex::new(None));

impl Spare {
    /// The kept map when it holds `bytes` and is not more than twice as large.
    fn take(&self, bytes: usize) -> Option<MmapMut> {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let fits = kept
            .as_ref()
            .is_some_and(|m| m.len() >= bytes && m.len() / 2 <= bytes);
        fits.then(|| kept.take()).flatten()
    }

    /// Keeps `map` unless a map is kept already or it is too large (then it is unmapped).
    fn keep(&self, map: MmapMut) {
        if map.len() <= MAX_SPARE {
            let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if kept.is_none() {
                *kept = Some(map);
            }
        }
    }
}

impl<T: Zero> Zeroed<T> {
    pub(super) fn new(len: usize) -> Self {
        Zeroed::new_in(len, &SPARE)
    }

    fn new_in(len: usize, spare: &'static Spare) -> Self {
        let bytes = len.saturating_mul(std::mem::size_of::<T>());
        let map = if bytes < WORTH_A_MAP {
            None
        } else if let Some(mut map) = spare.take(bytes) {
            map.fill(0);
            Some(map)
        } else {
            // Populated up front (`MAP_POPULATE`: written pages, faulted in one call).
            memmap2::MmapOptions::new()
                .len(bytes)
                .populate()
                .map_anon()
                .ok()
        };
        let buf = match map {
            Some(map) => Buf::Map(map, spare),
            None => Buf::Vec(vec![T::default(); len]),
        };
        Zeroed { buf, len }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [T] {
        match &mut self.buf {
            // SAFETY: the map holds at least `len · size_of::<T>()` bytes, page-aligned,
            // zero-filled (by the kernel or by `new_in`) and written only as `T`s (`T: Zero`),
            // and the slice borrows `self`.
            Buf::Map(map, _) => unsafe {
                std::slice::from_raw_parts_mut(map.as_mut_ptr() as *mut T, self.len)
            },
            Buf::Vec(vec) => vec,
        }
    }

    pub(super) fn as_slice(&self) -> &[T] {
        match &self.buf {
            // SAFETY: as in `as_mut_slice`.
            Buf::Map(map, _) => unsafe {
                std::slice::from_raw_parts(map.as_ptr() as *const T, self.len)
            },
            Buf::Vec(vec) => vec,
        }
    }
}

impl<T: Zero> Drop for Zeroed<T> {
    fn drop(&mut self) {
        if let Buf::Map(map, spare) = std::mem::replace(&mut self.buf, Buf::Vec(Vec::new())) {
            spare.keep(map);
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

    #[test]
    fn a_spare_is_reused_cleared_and_only_when_it_fits() {
        let spare: &'static Spare = Box::leak(Box::default());
        let len = (4 << 20) / 8 + 100;
        let mut a = Zeroed::<f64>::new_in(len, spare);
        a.as_mut_slice().fill(7.0);
        let at = a.as_slice().as_ptr();
        drop(a);
        // Half the size still fits; the same pages come back, cleared.
        let b = Zeroed::<f64>::new_in(len * 3 / 4, spare);
        assert_eq!(b.as_slice().as_ptr(), at);
        assert!(b.as_slice().iter().all(|&v| v == 0.0));
        drop(b);
        // Too small a request for it (under half): a buffer of its own; the spare stays.
        let c = Zeroed::<f64>::new_in((1 << 20) / 8, spare);
        assert_ne!(c.as_slice().as_ptr(), at);
        let d = Zeroed::<[f32; 8]>::new_in(len * 3 / 16, spare);
        assert_eq!(d.as_slice().as_ptr() as *const f64, at);
        assert!(d.as_slice().iter().all(|t| t.iter().all(|&v| v == 0.0)));
    }
}
