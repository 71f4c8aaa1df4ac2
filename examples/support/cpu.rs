//! CPU time (user + sys) from `getrusage`: of this process, or of the children it has waited
//! for (the benchmarks' commands, so a command's CPU time is the difference around it).

use std::time::Duration;

#[cfg(target_os = "linux")]
fn rusage(who: i32) -> Duration {
    #[repr(C)]
    struct Timeval {
        sec: i64,
        usec: i64,
    }
    #[repr(C)]
    struct Rusage {
        utime: Timeval,
        stime: Timeval,
        rest: [i64; 14],
    }
    extern "C" {
        fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }
    let mut u = Rusage {
        utime: Timeval { sec: 0, usec: 0 },
        stime: Timeval { sec: 0, usec: 0 },
        rest: [0; 14],
    };
    // SAFETY: `u` is a valid, writable struct rusage (the Linux x86-64/aarch64 layout).
    if unsafe { getrusage(who, &mut u) } != 0 {
        return Duration::ZERO;
    }
    let us = |t: &Timeval| Duration::from_micros((t.sec * 1_000_000 + t.usec).max(0) as u64);
    us(&u.utime) + us(&u.stime)
}

#[cfg(not(target_os = "linux"))]
fn rusage(_who: i32) -> Duration {
    Duration::ZERO
}

/// This process's CPU time so far (`RUSAGE_SELF`).
pub fn self_cpu() -> Duration {
    rusage(0)
}

/// The CPU time of every child waited for so far (`RUSAGE_CHILDREN`).
pub fn children_cpu() -> Duration {
    rusage(-1)
}
