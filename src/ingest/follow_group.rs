//! Many sources followed by a few threads: a sweep of 100 runs would otherwise take a
//! follower thread per run. A [`FollowGroup`] hands each source to one of its threads (a new
//! thread per [`RUNS_PER_THREAD`] sources); each thread waits on all of its sources' wake-ups
//! at once and looks only at the sources that were woken. Events go out tagged with the key
//! the source was added with, all through one channel.
//!
//! A big first read (a long history) holds up the other sources of its thread until it is
//! done; the reads themselves run on the shared worker pool ([`crate::watch::pool`]). Looks
//! take one of a few permits shared by all the group's threads (as many as the pool has
//! workers): a sweep's histories are read a few at a time instead of all at once, which
//! costs no time (the pool is the bottleneck) and keeps the blocks in flight, and so the
//! memory they take, to a few runs' worth.

use super::follow::{Follower, IngestEvent, SETTLE};
use super::SourceSpec;
use crate::watch::{Subscription, WatchService};
use crossbeam_channel::{unbounded, Select, Sender};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Looks that may run at once across a group's threads.
#[derive(Debug)]
struct Permits {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Permits {
    fn new(n: usize) -> Self {
        Permits {
            free: Mutex::new(n.max(1)),
            freed: Condvar::new(),
        }
    }

    /// Runs `f` holding a permit.
    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        drop(free);
        let out = f();
        *self.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.freed.notify_one();
        out
    }
}

/// Sources one thread follows at most.
pub const RUNS_PER_THREAD: usize = 16;

/// How often an idle thread checks `stop` (it is woken by its sources otherwise, and at once
/// when the group is dropped): rarely, as every check is a wake-up of an idle sweep.
const STOP_CHECK: Duration = Duration::from_secs(10);

/// A source with its wake-ups and its key.
struct Member {
    key: usize,
    follower: Follower,
    wake: Subscription,
}

/// Followers sharing threads; events go to one channel as `(key, event)`.
pub struct FollowGroup {
    watch: WatchService,
    poll: Duration,
    tx: Sender<(usize, IngestEvent)>,
    stop: Arc<AtomicBool>,
    /// Each thread's inbox for new sources, and how many it has.
    threads: Vec<(Sender<Member>, usize)>,
    permits: Arc<Permits>,
}

impl FollowGroup {
    pub fn new(
        watch: &WatchService,
        poll: Duration,
        tx: Sender<(usize, IngestEvent)>,
        stop: Arc<AtomicBool>,
    ) -> Self {
        FollowGroup {
            watch: watch.clone(),
            poll,
            tx,
            stop,
            threads: Vec::new(),
            permits: Arc::new(Permits::new(crate::watch::pool::shared().workers())),
        }
    }

    /// Threads started so far.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    /// Starts following `spec`; its events carry `key`.
    pub fn add(&mut self, key: usize, spec: &SourceSpec) -> io::Result<()> {
        let (follower, target) = Follower::open(spec, self.stop.clone());
        let wake = self.watch.subscribe(target, self.poll);
        let mut m = Member {
            key,
            follower,
            wake,
        };
        if let Some((inbox, n)) = self.threads.last_mut() {
            if *n < RUNS_PER_THREAD {
                match inbox.send(m) {
                    Ok(()) => {
                        *n += 1;
                        return Ok(());
                    }
                    // The thread ended (its consumer went away): start another.
                    Err(e) => m = e.into_inner(),
                }
            }
        }
        let (inbox, rx) = unbounded::<Member>();
        let (tx, stop, permits) = (self.tx.clone(), self.stop.clone(), self.permits.clone());
        std::thread::Builder::new()
            .name("trainwatch-follow-group".into())
            .spawn(move || serve(rx, tx, stop, &permits))?;
        inbox
            .send(m)
            .map_err(|_| io::Error::other("a follower thread ended at its start"))?;
        self.threads.push((inbox, 1));
        Ok(())
    }
}

/// One thread's loop: take new sources from `inbox`, look at each woken source.
fn serve(
    inbox: crossbeam_channel::Receiver<Member>,
    tx: Sender<(usize, IngestEvent)>,
    stop: Arc<AtomicBool>,
    permits: &Permits,
) {
    let mut members: Vec<Member> = Vec::new();
    let mut inbox_open = true;
    let look = |m: &mut Member| {
        let key = m.key;
        let alive = permits.with(|| m.follower.look(&mut |ev| tx.send((key, ev)).is_ok()));
        if m.follower.took_news() {
            m.wake.active();
        }
        alive
    };
    while !stop.load(Ordering::Relaxed) {
        let mut sel = Select::new();
        let never = crossbeam_channel::never();
        sel.recv(if inbox_open { &inbox } else { &never });
        for m in &members {
            sel.recv(m.wake.wakeups());
        }
        let Ok(op) = sel.select_timeout(STOP_CHECK) else {
            continue;
        };
        let i = op.index();
        if i == 0 {
            let r = op.recv(if inbox_open { &inbox } else { &never });
            match r {
                Ok(mut m) => {
                    if !look(&mut m) {
                        return;
                    }
                    members.push(m);
                }
                Err(_) => inbox_open = false,
            }
            continue;
        }
        let _ = op.recv(members[i - 1].wake.wakeups());
        // Let a burst of writes settle, then look at every source woken meanwhile.
        std::thread::sleep(SETTLE);
        for (j, m) in members.iter_mut().enumerate() {
            let woken = m.wake.wakeups().try_recv().is_ok();
            if (j == i - 1 || woken) && !look(m) {
                return;
            }
        }
        if !inbox_open && members.is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn many_sources_share_threads_and_keep_their_keys() {
        let dir = tempfile::tempdir().unwrap();
        let watch = WatchService::new();
        let (tx, rx) = unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let mut g = FollowGroup::new(&watch, Duration::from_millis(50), tx, stop.clone());
        let n = RUNS_PER_THREAD + 3;
        let mut files = Vec::new();
        for k in 0..n {
            let p = dir.path().join(format!("run{k}.log"));
            std::fs::write(&p, format!("step=1 gnorm={k}.5\n")).unwrap();
            g.add(k, &SourceSpec::new(&p)).unwrap();
            files.push(p);
        }
        assert_eq!(g.threads(), 2);
        // Every run's first point arrives under its own key; then an append to one run.
        let mut seen = vec![0usize; n];
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut appended = false;
        while seen.contains(&0) || seen[7] < 2 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let (k, ev) = rx.recv_timeout(left).expect("events from every run");
            if let IngestEvent::Batch(b) = ev {
                for r in b.steps.iter() {
                    assert_eq!(
                        r.value(),
                        k as f64 + 0.5 + if r.step == Some(2) { 1.0 } else { 0.0 }
                    );
                    seen[k] += 1;
                }
            }
            if !appended && seen.iter().all(|s| *s > 0) {
                appended = true;
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&files[7])
                    .unwrap();
                f.write_all(b"step=2 gnorm=8.5\n").unwrap();
            }
        }
        assert_eq!(seen[7], 2);
        stop.store(true, Ordering::Relaxed);
    }
}
