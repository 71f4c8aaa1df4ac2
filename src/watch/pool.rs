//! One bounded set of workers for every CPU-heavy job of the process (history scans, event-file
//! decoding, similarity maps), so that 20 runs share the cores instead of each taking all of
//! them. Queued jobs with a key are replaced by a newer job with the same key (the newest
//! request per run wins). Workers start when first needed.

use std::any::Any;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A worker with nothing to do for this long ends (an idle run keeps no pool threads).
const IDLE_EXIT: std::time::Duration = std::time::Duration::from_secs(5);

struct Queued {
    key: Option<String>,
    job: Job,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Queued>,
    spawned: usize,
    idle: usize,
}

struct Shared {
    queue: Mutex<Queue>,
    work: Condvar,
    workers: usize,
}

/// A handle on a pool; clones share its workers.
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
}

thread_local! {
    static ON_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Workers of the process's pool: the cores, at most 8.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// The process's pool.
pub fn shared() -> &'static Pool {
    static SHARED: OnceLock<Pool> = OnceLock::new();
    SHARED.get_or_init(|| Pool::new(default_workers()))
}

impl Pool {
    pub fn new(workers: usize) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue::default()),
                work: Condvar::new(),
                workers: workers.max(1),
            }),
        }
    }

    pub fn workers(&self) -> usize {
        self.shared.workers
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.shared.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`.
    pub fn submit(&self, job: impl FnOnce() + Send + 'static) {
        self.push(None, Box::new(job));
    }

    /// Queues `job`, replacing a queued (not yet started) job with the same key. Returns
    /// whether one was replaced.
    pub fn submit_keyed(&self, key: &str, job: impl FnOnce() + Send + 'static) -> bool {
        self.push(Some(key.to_owned()), Box::new(job))
    }

    fn push(&self, key: Option<String>, job: Job) -> bool {
        let mut q = self.lock();
        let older = key
            .as_ref()
            .and_then(|k| q.jobs.iter_mut().find(|j| j.key.as_ref() == Some(k)));
        let replaced = match older {
            Some(slot) => {
                slot.job = job;
                true
            }
            None => {
                q.jobs.push_back(Queued { key, job });
                false
            }
        };
        if q.jobs.len() > q.idle && q.spawned < self.shared.workers {
            let shared = self.shared.clone();
            let n = q.spawned;
            let started = std::thread::Builder::new()
                .name(format!("trainwatch-pool-{n}"))
                .spawn(move || work(&shared));
            // Without a new worker, the running ones (or a waiting worker) take the job.
            if started.is_ok() {
                q.spawned += 1;
            }
        }
        drop(q);
        self.shared.work.notify_one();
        replaced
    }

    fn try_pop(&self) -> Option<Job> {
        self.lock().jobs.pop_front().map(|j| j.job)
    }

    /// Runs `f`, whose [`Scope::spawn`]ed jobs may borrow from the caller; returns when all of
    /// them have finished. A job's panic is re-raised by its [`Task::join`], or here.
    pub fn scope<'env, R>(&self, f: impl FnOnce(&Scope<'env>) -> R) -> R {
        let scope = Scope {
            pool: self.clone(),
            open: Arc::new(Pending::default()),
            _env: PhantomData,
        };
        let r = {
            let _wait = WaitAll(&scope);
            f(&scope)
        };
        if scope.open.panicked() {
            panic!("a pool job panicked");
        }
        r
    }

    /// Blocks until `done`, running queued jobs meanwhile when called on a worker (a job that
    /// waits for other jobs must not hold a worker idle: with all of them waiting, none
    /// would be left to run what they wait for).
    fn wait_until(&self, pending: &Pending, done: impl Fn(&PendingState) -> bool) {
        let on_worker = ON_WORKER.with(|w| w.get());
        let mut st = pending.lock();
        while !done(&st) {
            if on_worker {
                drop(st);
                if let Some(job) = self.try_pop() {
                    let _ = catch_unwind(AssertUnwindSafe(job));
                }
                st = pending.lock();
                if done(&st) {
                    break;
                }
                st = match pending
                    .changed
                    .wait_timeout(st, std::time::Duration::from_millis(1))
                {
                    Ok((g, _)) => g,
                    Err(e) => e.into_inner().0,
                };
            } else {
                st = match pending.changed.wait(st) {
                    Ok(g) => g,
                    Err(e) => e.into_inner(),
                };
            }
        }
    }
}

fn work(shared: &Shared) {
    ON_WORKER.with(|w| w.set(true));
    loop {
        let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        let job = loop {
            if let Some(j) = q.jobs.pop_front() {
                break j.job;
            }
            q.idle += 1;
            let (g, waited) = match shared.work.wait_timeout(q, IDLE_EXIT) {
                Ok(r) => r,
                Err(e) => e.into_inner(),
            };
            q = g;
            q.idle -= 1;
            if waited.timed_out() && q.jobs.is_empty() {
                // Idle: give the thread back; the next job starts one again.
                q.spawned -= 1;
                return;
            }
        };
        drop(q);
        // A job's panic is its submitter's business (scoped jobs hand theirs to `join`); the
        // worker stays.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

#[derive(Default)]
struct PendingState {
    running: usize,
    panicked: bool,
    /// A task's own job has finished.
    done: bool,
}

/// Jobs of one scope not finished yet.
#[derive(Default)]
struct Pending {
    state: Mutex<PendingState>,
    changed: Condvar,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, PendingState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn panicked(&self) -> bool {
        self.lock().panicked
    }
}

/// Where a job's result waits for its [`Task::join`].
struct Slot<T> {
    result: Mutex<Option<std::thread::Result<T>>>,
    pending: Pending,
}

/// Jobs spawned here may borrow anything that outlives the [`Pool::scope`] call.
pub struct Scope<'env> {
    pool: Pool,
    open: Arc<Pending>,
    /// Invariant in `'env`, so a job cannot borrow what lives only inside the scope's closure.
    _env: PhantomData<fn(&'env ()) -> &'env ()>,
}

/// Waits for every job of the scope, also when its closure panics.
struct WaitAll<'a, 'env>(&'a Scope<'env>);

impl Drop for WaitAll<'_, '_> {
    fn drop(&mut self) {
        self.0.pool.wait_until(&self.0.open, |st| st.running == 0);
    }
}

impl<'env> Scope<'env> {
    /// Queues `f` on the pool.
    pub fn spawn<T: Send + 'env>(&self, f: impl FnOnce() -> T + Send + 'env) -> Task<'env, T> {
        let slot = Arc::new(Slot {
            result: Mutex::new(None),
            pending: Pending::default(),
        });
        self.open.lock().running += 1;
        let (open, out) = (self.open.clone(), slot.clone());
        let job: Box<dyn FnOnce() + Send + 'env> = Box::new(move || {
            let r = catch_unwind(AssertUnwindSafe(f));
            let failed = r.is_err();
            *out.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            {
                let mut st = out.pending.lock();
                st.done = true;
                out.pending.changed.notify_all();
            }
            drop(out);
            let mut st = open.lock();
            st.running -= 1;
            st.panicked |= failed;
            open.changed.notify_all();
        });
        // SAFETY: the job only borrows data that outlives 'env, and `Pool::scope` does not
        // return (nor unwind past its frame) before every job it spawned has run (`WaitAll`).
        let job: Job = unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + 'env>, Job>(job) };
        self.pool.push(None, job);
        Task {
            slot,
            pool: self.pool.clone(),
            _env: PhantomData,
        }
    }
}

/// A job spawned in a [`Scope`].
pub struct Task<'env, T> {
    slot: Arc<Slot<T>>,
    pool: Pool,
    _env: PhantomData<fn(&'env ()) -> &'env ()>,
}

impl<T> Task<'_, T> {
    /// Whether the job has finished (its `join` will not wait).
    pub fn is_done(&self) -> bool {
        self.slot.pending.lock().done
    }

    /// The job's result; its panic is re-raised here.
    pub fn join(self) -> T {
        self.pool.wait_until(&self.slot.pending, |st| st.done);
        let r = self
            .slot
            .result
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match r {
            Some(Ok(v)) => v,
            Some(Err(p)) => resume_unwind(p),
            None => resume_unwind(Box::new("a pool job vanished") as Box<dyn Any + Send>),
        }
    }
}

#[cfg(test)]
mod tests;
