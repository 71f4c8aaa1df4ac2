//! One thread that wakes every subscriber at its own poll interval (instead of a timed wait in
//! every follower). It runs only while someone is subscribed.

use crossbeam_channel::Sender;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

struct Due {
    every: Duration,
    next: Instant,
    waker: Sender<()>,
}

#[derive(Default)]
struct State {
    due: HashMap<u64, Due>,
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
        st.due.insert(
            id,
            Due {
                every,
                next: Instant::now() + every,
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
            let mut next = now + Duration::from_secs(3600);
            for d in st.due.values_mut() {
                if d.next <= now {
                    let _ = d.waker.try_send(());
                    d.next += d.every;
                    if d.next <= now {
                        // Late (a suspended machine): keep the interval, skip the backlog.
                        d.next = now + d.every;
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
