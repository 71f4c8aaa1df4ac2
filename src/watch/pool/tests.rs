use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[test]
fn scoped_jobs_borrow_and_return_in_order() {
    let pool = Pool::new(3);
    let data: Vec<u64> = (0..1000).collect();
    let sums: Vec<u64> = pool.scope(|s| {
        let tasks: Vec<_> = data
            .chunks(100)
            .map(|c| s.spawn(move || c.iter().sum::<u64>()))
            .collect();
        tasks.into_iter().map(|t| t.join()).collect()
    });
    assert_eq!(sums.len(), 10);
    assert_eq!(sums.iter().sum::<u64>(), 999 * 1000 / 2);
    assert_eq!(sums[0], (0..100).sum::<u64>());
}

#[test]
fn never_more_jobs_at_once_than_workers() {
    let pool = Pool::new(2);
    let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
    pool.scope(|s| {
        for _ in 0..12 {
            s.spawn(|| {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(n, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                now.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    assert_eq!(now.load(Ordering::SeqCst), 0);
    assert!(most.load(Ordering::SeqCst) <= 2);
}

#[test]
fn a_job_waiting_for_jobs_on_a_full_pool_does_not_deadlock() {
    let pool = Pool::new(1);
    let inner = pool.clone();
    let total = pool.scope(|s| {
        s.spawn(move || inner.scope(|s| s.spawn(|| 2 + 2).join()))
            .join()
    });
    assert_eq!(total, 4);
}

#[test]
fn a_panic_reaches_the_joiner() {
    let pool = Pool::new(2);
    let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| s.spawn(|| -> u32 { panic!("boom") }).join())
    }));
    assert!(r.is_err());
    // The pool still works.
    assert_eq!(pool.scope(|s| s.spawn(|| 7).join()), 7);
}

#[test]
fn the_newest_request_per_key_replaces_a_queued_one() {
    let pool = Pool::new(1);
    let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
    let (out_tx, out_rx) = crossbeam_channel::unbounded::<&'static str>();
    // Occupy the only worker so that the next jobs stay queued.
    pool.submit(move || {
        let _ = gate_rx.recv();
    });
    let t = out_tx.clone();
    assert!(!pool.submit_keyed("run-a", move || t.send("a old").unwrap()));
    let t = out_tx.clone();
    assert!(!pool.submit_keyed("run-b", move || t.send("b").unwrap()));
    let t = out_tx.clone();
    assert!(pool.submit_keyed("run-a", move || t.send("a new").unwrap()));
    drop(out_tx);
    gate_tx.send(()).unwrap();
    let got: Vec<_> = out_rx.iter().collect();
    assert_eq!(got, vec!["a new", "b"]);
}
