//! The map first, the profile after (issue 14): the checkpoint follower sends the map as soon
//! as it is ready and the same report again with its profile; tab 2 shows "profile…" in
//! between (ratatui's `TestBackend`); the one-call path computes both, as before. On the real
//! whisper-tiny decoder table (`../shared/samples/`, MANIFEST.md).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

#[path = "common/screen.rs"]
mod screen;

use trainwatch::checkpoint::follow::{self, CheckpointEvent, View};
use trainwatch::checkpoint::{
    compute_similarity, compute_similarity_staged, ReadMode, SimilarityReport, SimilarityRequest,
};
use trainwatch::ingest::SourceSpec;
use trainwatch::tui::app::Tab;
use trainwatch::tui::keys::Global;
use trainwatch::tui::{App, ColorMode, Theme};
use trainwatch::watch::WatchService;

fn whisper() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/samples/whisper-tiny-positions/whisper_tiny_positions.safetensors")
}

fn request(blocks: usize) -> SimilarityRequest {
    SimilarityRequest {
        path: whisper(),
        tensor: None,
        rows: None,
        blocks,
        sinusoidal: None,
        read: ReadMode::Positional,
    }
}

/// The report of the map alone (as the follower's first message carries it) and the whole one.
fn stages(blocks: usize) -> (SimilarityReport, SimilarityReport) {
    let mut first = None;
    let full = compute_similarity_staged(&request(blocks), &mut |r| {
        first = Some(r.clone());
        true
    })
    .expect("whisper table");
    (first.expect("the map stage ran"), full)
}

#[test]
fn the_map_stage_has_the_whole_map_and_no_profile_yet() {
    let (first, full) = stages(32);
    assert!(first.map.profile_pending && !full.map.profile_pending);
    assert!(first.map.profile.is_empty() && first.explanation.is_empty());
    assert_eq!(first.map.matrix, full.map.matrix);
    assert_eq!(first.map.edges, full.map.edges);
    assert_eq!(first.map.summary.min, full.map.summary.min);
    assert_eq!(first.source, full.source);
    assert!(!full.map.profile.is_empty() && !full.explanation.is_empty());
    // The one-call path is the staged one run to the end.
    let one = compute_similarity(&request(32)).expect("whisper table");
    assert_eq!(one.map.profile, full.map.profile);
    assert_eq!(one.map.summary, full.map.summary);
    assert_eq!(one.explanation, full.explanation);
    // Declining the profile returns the map alone.
    let map_only = compute_similarity_staged(&request(32), &mut |_| false).expect("map");
    assert!(map_only.map.profile_pending && map_only.map.profile.is_empty());
}

#[test]
fn tab_two_shows_profile_pending_then_the_summary() {
    let (first, full) = stages(32);
    let mut app = App::new(
        trainwatch::run::RunData::empty(&SourceSpec::new("train.log")),
        Theme::new(ColorMode::TrueColor),
    );
    app.sim.path = Some(whisper());
    app.on_checkpoint(CheckpointEvent::Loaded {
        report: Box::new(first),
        new_checkpoint: true,
    });
    app.on_action(Global::Tab2);
    assert_eq!(app.tab, Tab::Similarity);
    app.sim.move_cursor(3, 5);
    let before = screen::text(&screen::draw(&app, 100, 40));
    assert!(app.sim.profile_pending());
    assert!(before.contains("profile…"), "{before}");
    assert!(!before.contains("adjacent"), "{before}");
    assert!(
        before.contains("decoder.position_encodings.encodings"),
        "{before}"
    );
    assert!(
        before.contains("cursor: positions"),
        "the map is usable: {before}"
    );

    app.on_checkpoint(CheckpointEvent::Profiled(Box::new(full)));
    let after = screen::text(&screen::draw(&app, 100, 40));
    assert!(!app.sim.profile_pending());
    assert!(!after.contains("profile…"), "{after}");
    assert!(after.contains("adjacent 0.8"), "{after}");
    assert!(after.contains("The diagonal is each position"), "{after}");
    // The cursor stayed where the user put it while the profile was computed.
    assert_eq!(app.sim.cursor, (3, 5));
    // The map itself did not change: the same rows of half-block cells.
    let map_rows = |s: &str| {
        s.lines()
            .filter(|l| l.contains('▀'))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(map_rows(&before).len() >= 16, "{before}");
    assert_eq!(map_rows(&before), map_rows(&after));
}

#[test]
fn the_follower_sends_the_map_then_the_profile() {
    let watch = WatchService::shared();
    let (view_tx, view_rx) = crossbeam_channel::unbounded();
    let (tx, rx) = crossbeam_channel::unbounded();
    let stop = Arc::new(AtomicBool::new(false));
    let handle = follow::spawn_in(
        &watch,
        whisper(),
        Duration::from_secs(60),
        view_rx,
        tx,
        stop.clone(),
    )
    .expect("follower thread");
    view_tx
        .send(View {
            checkpoint: None,
            tensor: None,
            rows: None,
            blocks: 24,
        })
        .expect("send view");
    let mut map = None;
    let profiled = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(CheckpointEvent::Loaded { report, .. }) => {
                assert!(report.map.profile_pending, "the map comes first");
                assert!(map.is_none(), "one map per computation");
                map = Some(report);
            }
            Ok(CheckpointEvent::Profiled(report)) => break report,
            Ok(CheckpointEvent::Failed { message, .. }) => panic!("failed: {message}"),
            Ok(_) => {}
            Err(e) => panic!("no profile from the follower: {e}"),
        }
    };
    let map = map.expect("the map before the profile");
    assert!(!profiled.map.profile_pending && !profiled.map.profile.is_empty());
    assert_eq!(map.map.matrix, profiled.map.matrix);
    assert_eq!(profiled.map.blocks(), 24);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    drop(view_tx);
    let _ = handle.join();
}
