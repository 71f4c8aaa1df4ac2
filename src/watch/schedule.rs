//! One thread that wakes every subscriber at its own poll interval (instead of a timed wait in
//! every follower). It runs only while someone is subscribed.
//!
//! The poll backs off for a subscriber that has been silent: inotify still wakes it at once on
//! a local file system, and the poll is only the fallback for writes notify does not see (other
//! NFS/Lustre clients). A subscriber polls at its own interval while it has been active within
//! [`BACKOFF_AFTER`]; after that every third of its silence ([`backoff`]), at most every
//! [`MAX_POLL`]. `Schedule::active` (new data found) brings it back to its own interval.
//!
//! Backed-off polls fall on a common grid ([`aligned`]): the silent runs of a sweep are polled
//! together, one wake-up of this thread and of each follower thread for all of them, rather
//! than one wake-up per run spread over every second.

use crossbeam_channel::Sender;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Silence after which a subscriber's poll starts to back off.
pub const BACKOFF_AFTER: Duration = Duration::from_secs(3);

/// The longest a backed-off poll waits.
pub const MAX_POLL: Duration = Duration::from_secs(15);

/// The grid backed-off polls of [`GRID`] or more are aligned to (a second's below it, and
/// [`MAX_POLL`]'s own once they reach it).
pub const GRID: Duration = Duration::from_secs(5);

/// `t` moved up to the next point of the grid a backed-off interval `every` falls on,
/// counted from `epoch`: polls that back off alike meet at the same instants.
pub fn aligned(epoch: Instant, t: Instant, every: Duration) -> Instant {
    let grid = if every >= MAX_POLL {
        MAX_POLL
    } else if every >= GRID {
        GRID
    } else {
        Duration::from_secs(1)
    };
    let (since, g) = (
        t.saturating_duration_since(epoch).as_nanos(),
        grid.as_nanos(),
    );
    let up = since.div_ceil(g).saturating_mul(g);
    epoch + Duration::from_nanos(u64::try_from(up).unwrap_or(u64::MAX))
}

/// The poll interval of a subscriber asking for `every` that has been silent for `silent`.
pub fn backoff(every: Duration, silent: Duration) -> Duration {
    if silent < BACKOFF_AFTER {
        return every;
    }
    (silent / 3).clamp(every, MAX_POLL.max(every))
}

struct Due {
    /// The interval asked for.
    every: Duration,
    next: Instant,
    /// When the subscriber last found something new (or subscribed).
    active: Instant,
    waker: Sender<()>,
}

#[derive(Default)]
struct State {
    due: HashMap<u64, Due>,
    /// Where the grid of backed-off polls starts (the first subscription).
    epoch: Option<Instant>,
    running: bool,
    shutdown: bool,
}

#[derive(Default)]
pub(super) struct Schedule {
    state: Mutex<State>,
    changed: Condvar,
}

impl Schedule {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn add(self: &Arc<Self>, id: u64, every: Duration, waker: Sender<()>) {
        let every = every.max(Duration::from_millis(1));
        let mut st = self.lock();
        let now = Instant::now();
        st.epoch.get_or_insert(now);
        st.due.insert(
            id,
            Due {
                every,
                next: now + every,
                active: now,
                waker,
            },
        );
        if !st.running {
            let me = self.clone();
            let started = std::thread::Builder::new()
                .name("trainwatch-poll".into())
                .spawn(move || me.run());
            // Without the thread, notify events still wake subscribers; the next
            // subscription tries again.
            st.running = started.is_ok();
        }
        self.changed.notify_all();
    }

    /// Subscriber `id` found something new: back to its own interval.
    pub(super) fn active(&self, id: u64) {
        let mut st = self.lock();
        let Some(d) = st.due.get_mut(&id) else {
            return;
        };
        let now = Instant::now();
        let backed_off = d.next > now + d.every;
        d.active = now;
        if backed_off {
            d.next = now + d.every;
            self.changed.notify_all();
        }
    }

    pub(super) fn remove(&self, id: u64) {
        self.lock().due.remove(&id);
        self.changed.notify_all();
    }

    pub(super) fn shut_down(&self) {
        self.lock().shutdown = true;
        self.changed.notify_all();
    }

    fn run(&self) {
        let mut st = self.lock();
        loop {
            if st.shutdown || st.due.is_empty() {
                st.running = false;
                return;
            }
            let now = Instant::now();
            let epoch = *st.epoch.get_or_insert(now);
            let mut next = now + Duration::from_secs(3600);
            for d in st.due.values_mut() {
                if d.next <= now {
                    let _ = d.waker.try_send(());
                    let every = backoff(d.every, now.saturating_duration_since(d.active));
                    d.next += every;
                    if d.next <= now {
                        // Late (a suspended machine): keep the interval, skip the backlog.
                        d.next = now + every;
                    }
                    if every > d.every {
                        d.next = aligned(epoch, d.next, every);
                    }
                }
                next = next.min(d.next);
            }
            st = match self.changed.wait_timeout(st, next - now) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_subscriber_polls_less_often_up_to_a_bound() {
        let s = Duration::from_secs;
        let every = s(1);
        assert_eq!(backoff(every, s(0)), every);
        assert_eq!(backoff(every, s(2)), every);
        assert_eq!(backoff(every, s(6)), s(2));
        assert_eq!(backoff(every, s(30)), s(10));
        assert_eq!(backoff(every, s(3600)), MAX_POLL);
        // An interval asked for above the bound is kept.
        assert_eq!(backoff(s(30), s(3600)), s(30));
        assert_eq!(
            backoff(Duration::from_millis(50), s(2)),
            Duration::from_millis(50)
        );
    }

    #[test]
    fn backed_off_polls_meet_on_a_common_grid() {
        let epoch = Instant::now();
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        // Short backed-off intervals meet at whole seconds.
        assert_eq!(aligned(epoch, epoch + ms(1234), s(2)), epoch + s(2));
        // Backed off: the next multiple of the grid, the same for every subscriber.
        assert_eq!(aligned(epoch, epoch + ms(6100), s(6)), epoch + s(10));
        assert_eq!(aligned(epoch, epoch + ms(9900), s(7)), epoch + s(10));
        assert_eq!(aligned(epoch, epoch + s(10), s(7)), epoch + s(10));
        assert_eq!(aligned(epoch, epoch + s(31), MAX_POLL), epoch + s(45));
        assert_eq!(aligned(epoch, epoch + s(45), MAX_POLL), epoch + s(45));
    }

    #[test]
    fn activity_brings_a_backed_off_subscriber_back_to_its_interval() {
        let sched = Arc::new(Schedule::default());
        let (tx, rx) = crossbeam_channel::bounded(1);
        let every = Duration::from_millis(20);
        sched.add(1, every, tx);
        {
            // Pretend it has been silent for an hour and is due in a long while.
            let mut st = sched.lock();
            let d = st.due.get_mut(&1).expect("subscribed");
            d.active = Instant::now() - Duration::from_secs(3600);
            d.next = Instant::now() + MAX_POLL;
        }
        while rx.try_recv().is_ok() {}
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
        sched.active(1);
        assert!(rx.recv_timeout(Duration::from_secs(2)).is_ok());
        sched.remove(1);
        sched.shut_down();
    }
}
