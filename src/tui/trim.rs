//! Giving the allocator's freed memory back to the system once a big read is over: reading a
//! sweep's histories frees hundreds of MB of blocks and batches that glibc keeps for reuse
//! (measured on the 100-run bench: 140–190 MB of the resident set). The event loop calls
//! [`Trimmer::idle`] when it goes idle; it trims after enough records were applied since the
//! last trim, at most every [`EVERY`]; and [`Trimmer::applied`] trims during a long read.
//! (No trim happens without records applied: an idle screen does not trim again.)

use std::time::{Duration, Instant};

/// Batches applied before a trim is worth it (a sweep's read applies hundreds).
const BATCHES: usize = 8;

/// The shortest time between two trims (a trim of a large heap takes some milliseconds).
pub const EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Default)]
pub struct Trimmer {
    batches: usize,
    last: Option<Instant>,
}

impl Trimmer {
    /// `n` more events were applied at `now`. A long read (a sweep's histories) is trimmed
    /// as it goes, every [`EVERY`]: the resident set stays near what the series hold instead
    /// of growing by what the read freed until the read is over.
    pub fn applied(&mut self, n: usize, now: Instant) {
        self.batches = self.batches.saturating_add(n);
        if self.last.is_none() {
            // The first records: the read has only begun.
            self.last = Some(now);
        }
        self.trim_if_due(now);
    }

    /// The loop is idle at `now`: trims what the last records freed.
    pub fn idle(&mut self, now: Instant) {
        self.trim_if_due(now);
    }

    fn trim_if_due(&mut self, now: Instant) {
        if self.batches < BATCHES || self.last.is_some_and(|t| now < t + EVERY) {
            return;
        }
        self.batches = 0;
        self.last = Some(now);
        release_freed();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_freed() {
    extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: glibc's malloc_trim only returns free pages of its own heaps to the kernel; it
    // takes no pointers and is thread-safe.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_after_enough_records_and_not_too_often() {
        let mut t = Trimmer::default();
        let now = Instant::now();
        t.applied(3, now);
        t.idle(now + EVERY);
        assert_eq!(t.last, Some(now), "a few records: no trim");
        t.applied(BATCHES, now + EVERY / 2);
        assert_eq!(t.last, Some(now), "not within EVERY of the read's start");
        t.applied(BATCHES, now + EVERY);
        assert_eq!(
            t.last,
            Some(now + EVERY),
            "a long read is trimmed as it goes"
        );
        t.applied(BATCHES, now + EVERY + EVERY / 2);
        assert_eq!(t.last, Some(now + EVERY), "not again within EVERY");
        t.idle(now + EVERY * 2);
        assert_eq!(
            t.last,
            Some(now + EVERY * 2),
            "what the read freed, once idle"
        );
        t.idle(now + EVERY * 4);
        assert_eq!(
            t.last,
            Some(now + EVERY * 2),
            "nothing applied since: no trim"
        );
    }
}
