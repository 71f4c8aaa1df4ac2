//! Large scratch buffers of zeros in anonymous memory the kernel may back with 2 MiB pages.
//!
//! A fresh buffer is paid for page by page: on this project's VM a 4 KiB page fault (and its
//! clear) was ~1–2 µs, so the map's 4 MiB of block sums and each worker's 4 MiB strip cost
//! ~1,000 faults apiece, a few per cent of a whole `similarity` run. Mapped on their own and
//! advised `MADV_HUGEPAGE` (Linux ≥ 6.7 aligns such a map to 2 MiB), they take a couple of
//! faults each. (On a VM whose host has not backed that memory yet, the first run to touch a
//! 2 MiB page pays the host for it: 12 MiB once took 51 ms here against 6 ms in small pages;
//! the pages are then the guest's and later runs take ~2 ms.) Where the map or the advice is
//! refused, the buffer is a plain `Vec`.

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
            if let Ok(mut map) = MmapMut::map_anon(bytes) {
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                // Each page first touched by a write: a first read would map the shared zero
                // page, and the first write then copy it and flush the TLB of every CPU
                // running the process (an interrupt each).
                for page in map.chunks_mut(4096) {
                    // SAFETY: `page` is non-empty (chunks_mut never yields an empty chunk).
                    // Volatile: the compiler knows the memory is zero and would drop the store.
                    unsafe { std::ptr::write_volatile(page.as_mut_ptr(), 0) };
                }
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
