//! The workspace in the TUI, with ratatui's `TestBackend`: a sweep of real-format runs (the
//! sample logs of ../shared/samples copied into a temporary folder) shows every run in the
//! runs panel, ranked by instability; `Enter` shows another run in the chart; a run appended
//! to while open grows in the panel; snapshots at 80×24 and 160×48.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use trainwatch::discovery::{self, Request};
use trainwatch::ingest::{MetricSpec, SourceSpec};
use trainwatch::run::{read_once, Run, RunId, Workspace};
use trainwatch::tui::runs_table::RunsPanel;
use trainwatch::tui::{App, ColorMode, Theme};

mod common;
use common::sample;
use common::screen::{draw, text};

fn copy(from: &str, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(sample(from), to).unwrap();
}

fn sweep() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy(
        "fairseq-simple-syngec/train.log",
        &dir.path().join("calm/train.log"),
    );
    copy(
        "megatron-104B-spikes-bigscience/iteration_lines.log",
        &dir.path().join("spiky/train.log"),
    );
    copy(
        "hf-trainer-state-tinyllama/trainer_state.json",
        &dir.path().join("tinyllama/checkpoint-5/trainer_state.json"),
    );
    dir
}

/// The app as `trainwatch SWEEP` opens it, every run read to its end; the shown run's source
/// renamed so that snapshots do not depend on the temporary folder.
fn app(dir: &Path, mode: ColorMode) -> App {
    let m = discovery::discover(&Request::new(dir, &MetricSpec::gnorm())).unwrap();
    let mut ws = Workspace::default();
    let mut first = None;
    for (name, run) in m.names().into_iter().zip(&m.runs) {
        let spec = SourceSpec::new(run.source_path());
        let mut r = Run::new(spec.clone(), None);
        let mut data = read_once(&spec).unwrap();
        data.source = PathBuf::from(format!(
            "{name}/{}",
            run.source_path().file_name().unwrap().to_string_lossy()
        ));
        if first.is_none() {
            first = Some(data);
        } else {
            r.data = data;
        }
        ws.push(name, r);
    }
    let mut a = App::new(first.unwrap(), Theme::new(mode));
    a.runs = RunsPanel::new(ws);
    a.status.following = true;
    a
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// The run names in the panel's rows, top to bottom.
fn panel_names(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter(|l| l.contains(" live "))
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.chars().any(char::is_alphabetic) && *w != "▶")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn runs_panel_at_80x24_snapshot() {
    let dir = sweep();
    let a = app(dir.path(), ColorMode::TrueColor);
    let screen = text(&draw(&a, 80, 24));
    assert_eq!(
        panel_names(&screen),
        ["spiky", "tinyllama", "calm"],
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn runs_panel_at_160x48_snapshot() {
    let dir = sweep();
    let a = app(dir.path(), ColorMode::TrueColor);
    insta::assert_snapshot!(text(&draw(&a, 160, 48)));
}

#[test]
fn enter_shows_the_selected_run_and_w_hides_the_panel() {
    let dir = sweep();
    let mut a = app(dir.path(), ColorMode::TrueColor);
    assert_eq!(a.model.source, PathBuf::from("calm/train.log"));
    // The top row is the most unstable run.
    a.on_key(key(KeyCode::Enter));
    assert_eq!(a.model.source, PathBuf::from("spiky/train.log"));
    assert_eq!(a.runs.focus, RunId(1));
    assert_eq!(a.model.primary().len(), 18);
    let calm = &a.runs.workspace.get(RunId(0)).unwrap().run.data;
    assert_eq!(calm.primary().len(), 1101, "the shown run's data went back");
    // Down twice: calm; Enter brings it back.
    a.on_key(key(KeyCode::Down));
    a.on_key(key(KeyCode::Down));
    a.on_key(key(KeyCode::Enter));
    assert_eq!(a.model.source, PathBuf::from("calm/train.log"));
    let screen = text(&draw(&a, 80, 24));
    assert!(screen.contains("▶ ■ calm"), "{screen}");
    a.on_key(key(KeyCode::Char('w')));
    let screen = text(&draw(&a, 80, 24));
    assert!(panel_names(&screen).is_empty(), "{screen}");
    // `o` sorts by name.
    a.on_key(key(KeyCode::Char('w')));
    a.on_key(key(KeyCode::Char('o')));
    let screen = text(&draw(&a, 80, 24));
    assert_eq!(
        panel_names(&screen),
        ["calm", "spiky", "tinyllama"],
        "{screen}"
    );
}

#[test]
fn without_colour_each_run_has_its_own_marker() {
    let dir = sweep();
    let a = app(dir.path(), ColorMode::None);
    let screen = text(&draw(&a, 80, 24));
    for (marker, name) in [("●", "calm"), ("▲", "spiky"), ("■", "tinyllama")] {
        assert!(
            screen
                .lines()
                .any(|l| l.contains(marker) && l.contains(name)),
            "{marker} {name}: {screen}"
        );
    }
}

#[test]
fn a_run_appended_to_while_open_grows_in_its_row() {
    let dir = sweep();
    let mut a = app(dir.path(), ColorMode::TrueColor);
    let spiky = dir.path().join("spiky/train.log");
    // Follow `spiky` (run 1) from the start, as the TUI does, tagging its events.
    let mut fresh = Run::new(SourceSpec::new(&spiky), None);
    fresh.data.source = PathBuf::from("spiky/train.log");
    a.runs.workspace.get_mut(RunId(1)).unwrap().run = fresh;
    let watch = trainwatch::watch::WatchService::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, rx) = crossbeam_channel::unbounded();
    trainwatch::ingest::follow::spawn_in(
        &watch,
        SourceSpec::new(&spiky),
        Duration::from_millis(50),
        tx,
        stop.clone(),
    )
    .unwrap();
    let len = |a: &App| {
        a.runs
            .workspace
            .get(RunId(1))
            .unwrap()
            .run
            .data
            .primary()
            .len()
    };
    let pump = |a: &mut App, want: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while len(a) < want && Instant::now() < deadline {
            if let Ok(event) = rx.recv_timeout(Duration::from_millis(100)) {
                a.on_run_event(trainwatch::run::RunEvent {
                    run: RunId(1),
                    source: trainwatch::run::SourceRole::Metrics,
                    event,
                });
            }
        }
    };
    pump(&mut a, 18);
    assert_eq!(len(&a), 18);
    let line = " iteration     9100/  300000 | consumed samples:      1000 | elapsed time per iteration (ms): 1.0 | learning rate: 6.0E-05 | global batch size:  2048 | lm loss: 3.1E+00 | loss scale: 4096.0 | grad norm: 2.5 | number of skipped iterations:   0 | number of nan iterations:   0 |\n";
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&spiky)
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
    pump(&mut a, 19);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(len(&a), 19);
    assert!(a.runs.workspace.get(RunId(1)).unwrap().updated.is_some());
    let screen = text(&draw(&a, 160, 48));
    let row = screen
        .lines()
        .find(|l| l.contains("spiky") && l.contains(" live "))
        .unwrap();
    assert!(row.contains("9100") && row.contains("2.5"), "{row}");
}
