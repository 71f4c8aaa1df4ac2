//! Tab 1's stacked panels and the overlay of runs, with ratatui's `TestBackend`, on the real
//! logs of `../shared/samples/`: the gradient norm above the loss and the learning rate at
//! 80×24 and 160×48, explosions marked down every panel, the cursor's read-out, the overlay
//! of two runs in their colours, and NO_COLOR's marker per run.

use std::path::PathBuf;
use trainwatch::ingest::SourceSpec;
use trainwatch::run::read_once;
use trainwatch::tui::gnorm_tab::ChartAction;
use trainwatch::tui::{App, ColorMode, Theme};

mod common;
use common::sample;
use common::screen::{draw, text};

fn spec(rel: &str) -> SourceSpec {
    let panels: Vec<String> = ["gnorm", "loss", "lr"].map(String::from).to_vec();
    SourceSpec::new(sample(rel)).with_panels(&panels)
}

fn app(rel: &str, mode: ColorMode) -> App {
    let mut model = read_once(&spec(rel)).unwrap();
    model.source = PathBuf::from(rel.rsplit('/').next().unwrap_or(rel));
    let mut a = App::new(model, Theme::new(mode));
    a.status.following = true;
    a
}

#[test]
fn stacked_panels_at_80x24_snapshot() {
    let a = app(
        "megatron-104B-spikes-bigscience/iteration_lines.log",
        ColorMode::TrueColor,
    );
    insta::assert_snapshot!(text(&draw(&a, 80, 24)));
}

#[test]
fn stacked_panels_at_160x48_snapshot() {
    let a = app("fairseq-simple-syngec/train.log", ColorMode::TrueColor);
    insta::assert_snapshot!(text(&draw(&a, 160, 48)));
}

/// Two real runs whose steps overlap (Megatron-DeepSpeed iterations 1…, fairseq json updates
/// 1…10), the Megatron one shown, as `trainwatch A B` opens them.
fn two_runs(mode: ColorMode) -> App {
    use trainwatch::run::{Run, Workspace};
    let a = "megatron-ds-gpt2-bigscience/meg_ds_3d_gpt2_perf_n16-ds-off.out";
    let b = "fairseq-fsdp-json/extracted_log_lines.log";
    let mut app = app(a, mode);
    let mut ws = Workspace::default();
    ws.push("megatron".into(), Run::new(spec(a), None));
    let mut other = Run::new(spec(b), None);
    other.data = read_once(&spec(b)).unwrap();
    ws.push("fairseq".into(), other);
    app.runs = trainwatch::tui::runs_table::RunsPanel::new(ws);
    app
}

fn press(app: &mut App, c: char) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

/// Selects run `name` in the runs panel.
fn select(app: &mut App, name: &str) {
    let rows = app.runs.rows(&app.model);
    let ws = &app.runs.workspace;
    let at = rows
        .iter()
        .position(|(id, _)| ws.get(*id).is_some_and(|m| m.name == name))
        .unwrap();
    app.runs.selected = at;
}

#[test]
fn overlay_of_two_runs_snapshot() {
    let mut a = two_runs(ColorMode::TrueColor);
    select(&mut a, "fairseq");
    press(&mut a, ' ');
    assert_eq!(a.runs.overlay, [trainwatch::run::RunId(1)]);
    a.on_action(ChartAction::ZoomIn);
    let buf = draw(&a, 100, 30);
    let t = text(&buf);
    // The legend names both runs with their swatches; the fairseq run's markers are drawn in
    // its Okabe–Ito colour (sky blue), the shown run's bars in orange.
    assert!(t.contains("■ megatron") && t.contains("■ fairseq"), "{t}");
    let sky = ratatui::style::Color::Rgb(86, 180, 233);
    let marks = (0..buf.area.height)
        .flat_map(|y| (0..buf.area.width).map(move |x| (x, y)))
        .filter(|&(x, y)| buf[(x, y)].symbol() == "■" && buf[(x, y)].fg == sky)
        .count();
    assert!(marks > 3, "{marks} overlay markers");
    insta::assert_snapshot!(t);
    // `a` takes every run off again (all were on), Space puts it back, Enter shows one alone.
    press(&mut a, 'a');
    assert!(a.runs.overlay.is_empty());
    press(&mut a, 'a');
    assert_eq!(a.runs.overlay.len(), 1);
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(a.runs.overlay.is_empty());
}

#[test]
fn no_color_overlay_gives_each_run_its_own_marker() {
    let mut a = two_runs(ColorMode::None);
    press(&mut a, 'a');
    let t = text(&draw(&a, 100, 30));
    // Run 0 is drawn as bars and named with ●, run 1 with ▲ (the runs panel's markers).
    assert!(t.contains("● megatron") && t.contains("▲ fairseq"), "{t}");
    let chart: String = t.lines().skip(3).take(10).collect();
    assert!(chart.matches('▲').count() > 3, "{t}");
}

#[test]
fn stacks_overlays_and_the_cursor_draw_at_any_size() {
    let mut a = two_runs(ColorMode::None);
    press(&mut a, 'a');
    for c in [',', ',', ','] {
        press(&mut a, c);
    }
    assert!(a.gnorm.cursor.is_some());
    for w in (1..=170).step_by(9) {
        for h in (1..=52).step_by(3) {
            draw(&a, w, h);
        }
    }
    // The cursor's read-out: every panel's title names its value at the cursor's step.
    let t = text(&draw(&a, 120, 40));
    assert!(
        t.contains("gnorm ") && t.contains("at step") && t.contains("loss ") && t.contains("lr "),
        "{t}"
    );
}
