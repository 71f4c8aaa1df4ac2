use super::*;
use std::time::Instant;

fn woken_within(sub: &Subscription, d: Duration) -> bool {
    sub.wakeups().recv_timeout(d).is_ok()
}

fn drain(sub: &Subscription) {
    while sub.wakeups().try_recv().is_ok() {}
}

#[test]
fn an_event_wakes_only_its_subscriber_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let svc = WatchService::new();
    let slow = Duration::from_secs(30);
    let a = svc.subscribe(Target::File(dir.path().join("a.log")), slow);
    let b = svc.subscribe(Target::File(dir.path().join("b.log")), slow);
    // One directory, one watch for both.
    assert_eq!(svc.watched_dirs().len(), 1);
    std::thread::sleep(Duration::from_millis(50));
    drain(&a);
    drain(&b);
    let t = Instant::now();
    std::fs::write(dir.path().join("a.log"), b"x\n").unwrap();
    assert!(woken_within(&a, Duration::from_secs(5)));
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(!woken_within(&b, Duration::from_millis(200)));
}

#[test]
fn polls_wake_each_subscriber_at_its_own_interval() {
    let dir = tempfile::tempdir().unwrap();
    let svc = WatchService::new();
    let fast = svc.subscribe(
        Target::Dir(dir.path().to_path_buf()),
        Duration::from_millis(20),
    );
    let slow = svc.subscribe(
        Target::Dir(dir.path().to_path_buf()),
        Duration::from_secs(30),
    );
    let t = Instant::now();
    let mut ticks = 0;
    while t.elapsed() < Duration::from_millis(300) {
        if woken_within(&fast, Duration::from_millis(100)) {
            ticks += 1;
        }
    }
    assert!(ticks >= 5, "{ticks} ticks");
    assert!(!woken_within(&slow, Duration::from_millis(10)));
}

#[test]
fn dropping_the_last_subscriber_unwatches() {
    let dir = tempfile::tempdir().unwrap();
    let svc = WatchService::new();
    let tree = svc.subscribe(
        Target::Tree(dir.path().to_path_buf()),
        Duration::from_secs(30),
    );
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    // Covered by the tree's watch: no watch of its own.
    let file = svc.subscribe(
        Target::File(dir.path().join("sub").join("x")),
        Duration::from_secs(30),
    );
    assert_eq!(svc.watched_dirs().len(), 1);
    drop(tree);
    assert_eq!(svc.watched_dirs().len(), 1);
    drop(file);
    assert!(svc.watched_dirs().is_empty());
}

#[test]
fn a_missing_directory_is_polled_only() {
    let svc = WatchService::new();
    let sub = svc.subscribe(
        Target::File(PathBuf::from("/nonexistent-trainwatch-dir/x.log")),
        Duration::from_millis(20),
    );
    assert!(svc.watched_dirs().is_empty());
    assert!(woken_within(&sub, Duration::from_secs(2)));
}

#[test]
fn opening_a_file_to_read_it_wakes_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.log");
    std::fs::write(&p, b"x\n").unwrap();
    let svc = WatchService::new();
    let sub = svc.subscribe(Target::File(p.clone()), Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(50));
    drain(&sub);
    let _ = std::fs::read(&p).unwrap();
    assert!(!woken_within(&sub, Duration::from_millis(300)));
}
