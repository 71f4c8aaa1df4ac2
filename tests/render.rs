//! Rendering with ratatui's `TestBackend`: what lands in which cell, in which colour, for
//! truecolor, 256 colours and NO_COLOR, at 80×24 and at absurd sizes.

use ratatui::buffer::Buffer;
use ratatui::style::Color;
use std::path::PathBuf;
use trainwatch::ingest::SourceSpec;
use trainwatch::run::read_once;
use trainwatch::tui::app::Tab;
use trainwatch::tui::gnorm_tab::ChartAction;
use trainwatch::tui::keys::Global;
use trainwatch::tui::panel::Panel;
use trainwatch::tui::{App, ColorMode, Theme};
use trainwatch::view::StepAxis;

mod common;
use common::sample;
use common::screen::{draw, row, text};

fn app(rel: &str, mode: ColorMode) -> App {
    let model = read_once(&SourceSpec::new(sample(rel))).unwrap();
    let mut a = App::new(model, Theme::new(mode));
    a.status.following = true;
    a
}

#[test]
fn gnorm_tab_at_80x24_snapshot() {
    let mut a = app("fairseq-simple-syngec/train.log", ColorMode::TrueColor);
    // Keep the snapshot independent of the checkout path.
    a.model.source = PathBuf::from("train.log");
    let buf = draw(&a, 80, 24);
    insta::assert_snapshot!(text(&buf));
}

/// Issue 10 in the header: the framework's default named, the gradient norm's printed name,
/// an unknown threshold that says how to give it, and non-finite values no overflow note
/// explains.
#[test]
fn header_names_the_clip_default_unknown_thresholds_and_divergence() {
    let a = app("wild/llmc-mainlog-124M/main.log", ColorMode::TrueColor);
    let header = row(&draw(&a, 120, 24), 1);
    assert!(header.contains("llmc (gradient norm ← norm)"), "{header}");
    assert!(header.contains("clip 1 (llm.c's default)"), "{header}");

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("run.jsonl");
    let lines: String = (1..=20)
        .map(|i| {
            let v = if i == 15 {
                "NaN".to_string()
            } else {
                format!("{}", 1.0 + i as f64 / 100.0)
            };
            format!("{{\"step\": {i}, \"grad_norm\": {v}}}\n")
        })
        .collect();
    std::fs::write(&p, lines).unwrap();
    let mut a = App::new(
        read_once(&SourceSpec::new(&p)).unwrap(),
        Theme::new(ColorMode::TrueColor),
    );
    a.status.following = true;
    let buf = draw(&a, 120, 24);
    let header = row(&buf, 1);
    assert!(
        header.contains("clip unknown: give it with --clip X"),
        "{header}"
    );
    assert!(header.contains("DIVERGING"), "{header}");
    let status = row(&buf, 23);
    assert!(
        !status.contains(">clip"),
        "no threshold, no share above it: {status}"
    );
}

/// However deep the checkout, the path gives way: the format and the clip source stay whole.
#[test]
fn a_long_path_is_shortened_before_the_clip_source_is_cut() {
    let mut a = app("wild/llmc-mainlog-124M/main.log", ColorMode::TrueColor);
    for depth in [0, 40, 200] {
        a.model.source = PathBuf::from(format!("/{}/main.log", "d".repeat(depth)));
        for w in [80u16, 120] {
            let header = row(&draw(&a, w, 24), 1);
            assert!(header.contains("clip 1 (llm.c's default)"), "{w}: {header}");
            assert!(header.contains("main.log"), "{w}: {header}");
        }
    }
}

#[test]
fn header_and_status_say_what_the_file_is() {
    let a = app("fairseq-simple-syngec/train.log", ColorMode::TrueColor);
    let buf = draw(&a, 80, 24);
    let header = row(&buf, 1);
    assert!(
        header.contains("train.log") && header.contains("fairseq_simple"),
        "{header}"
    );
    assert!(header.contains("clip 5 (log)"), "{header}");
    let status = row(&buf, 23);
    assert!(
        status.contains("step 150100") && status.contains("0.668"),
        "{status}"
    );
    assert!(
        status.contains("1101 pts") && status.contains("0.0% >clip"),
        "{status}"
    );
}

#[test]
fn explosions_are_marked_in_their_own_style_and_listed() {
    let a = app(
        "megatron-104B-spikes-bigscience/iteration_lines.log",
        ColorMode::TrueColor,
    );
    let buf = draw(&a, 100, 30);
    let explosion_fg = Theme::new(ColorMode::TrueColor).explosion.fg;
    let above_fg = Theme::new(ColorMode::TrueColor).above.fg;
    let mut markers = 0;
    let mut above_cells = 0;
    for y in 0..30 {
        for x in 0..100 {
            let c = &buf[(x, y)];
            if c.symbol() == "▼" && c.fg == explosion_fg.unwrap() {
                markers += 1;
            }
            if c.symbol() == "█" && Some(c.fg) == above_fg {
                above_cells += 1;
            }
        }
    }
    // The 104B run: the event spans 3 exploding points; every point is above clip 1.0.
    assert!(markers >= 1, "no explosion marker drawn:\n{}", text(&buf));
    assert!(above_cells > 10, "above-clip bars not highlighted");
    let all = text(&buf);
    assert!(all.contains("explosions: 1"), "{all}");
    assert!(all.contains("8740–8743"), "{all}");
}

#[test]
fn threshold_line_and_axis_labels() {
    let mut a = app(
        "megatron-ds-gpt2-bigscience/meg_ds_3d_gpt2_perf_n16-ds-off.out",
        ColorMode::TrueColor,
    );
    a.on_action(ChartAction::ToggleLog); // auto picked log (67 → 1 spans < 2 decades? check both)
    let buf = draw(&a, 80, 24);
    let all = text(&buf);
    assert!(
        all.contains('╌') || all.contains("clip"),
        "threshold not drawn:\n{all}"
    );
    assert!(all.contains("┤"), "no y-axis labels:\n{all}");
    assert!(all.contains("step"), "x-axis label missing:\n{all}");
}

#[test]
fn colour_modes_degrade() {
    let a = app(
        "megatron-104B-spikes-bigscience/iteration_lines.log",
        ColorMode::Ansi256,
    );
    let buf = draw(&a, 80, 24);
    let colours: Vec<Color> = buf.content().iter().map(|c| c.fg).collect();
    assert!(colours.iter().any(|c| matches!(c, Color::Indexed(_))));
    assert!(
        !colours.iter().any(|c| matches!(c, Color::Rgb(..))),
        "no truecolor in 256 mode"
    );

    let a = app(
        "megatron-104B-spikes-bigscience/iteration_lines.log",
        ColorMode::None,
    );
    let buf = draw(&a, 80, 24);
    assert!(
        buf.content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "NO_COLOR: no colours at all"
    );
    // …and the meaning survives in glyphs.
    let all = text(&buf);
    assert!(all.contains('▼') && all.contains('▓'), "{all}");
}

#[test]
fn help_lists_every_key_and_closes() {
    let mut a = app("fairseq-simple-syngec/train.log", ColorMode::TrueColor);
    a.on_action(Global::Help);
    let all = text(&draw(&a, 80, 30));
    let whats = (trainwatch::tui::keys::GLOBAL.iter().map(|b| b.what))
        .chain(a.gnorm.bindings().iter().map(|b| b.what))
        .chain(a.sim.bindings().iter().map(|b| b.what));
    for what in whats {
        assert!(all.contains(what), "help lacks '{what}':\n{all}");
    }
    a.on_action(ChartAction::ZoomIn);
    assert!(!a.help, "any key closes the help");
}

/// The x-window in force: steps per column, and the points in view.
fn window(a: &App) -> (u64, std::ops::Range<usize>) {
    let s = a.model.primary();
    let axis = StepAxis::new(s);
    let span = a.view.span(&axis, a.plot_width());
    let points = axis.points_before(s, span.start)..axis.points_before(s, span.end);
    (span.per_col, points)
}

#[test]
fn keys_zoom_scroll_follow_and_jump() {
    let mut a = app("fairseq-simple-syngec/train.log", ColorMode::TrueColor);
    draw(&a, 80, 24);
    let (per_col, r) = window(&a);
    assert_eq!(r, 0..1101, "fits the whole run by default");
    a.on_action(ChartAction::ZoomIn);
    let (p2, r2) = window(&a);
    assert_eq!(p2, per_col / 2);
    assert_eq!(r2.end, 1101, "newest point at the right edge");
    a.on_action(ChartAction::ScrollLeft);
    assert!(!a.view.following());
    assert!(window(&a).1.end < 1101);
    a.on_action(ChartAction::Follow);
    assert!(a.view.following());
    a.on_action(ChartAction::ZoomOut);
    a.on_action(ChartAction::ZoomOut);
    assert_eq!(a.view.per_col, None, "zooming out stops at the whole run");

    let mut a = app(
        "megatron-104B-spikes-bigscience/iteration_lines.log",
        ColorMode::TrueColor,
    );
    draw(&a, 80, 24);
    a.on_action(ChartAction::NextExplosion);
    assert_eq!(a.gnorm.selected, Some(0));
    let all = text(&draw(&a, 80, 24));
    assert!(all.contains("8740"), "{all}");
}

#[test]
fn tab_two_explains_how_to_pass_a_checkpoint() {
    let mut a = app("fairseq-simple-syngec/train.log", ColorMode::TrueColor);
    a.on_action(Global::Tab2);
    assert_eq!(a.tab, Tab::Similarity);
    let all = text(&draw(&a, 80, 24));
    assert!(all.contains("--checkpoint"), "{all}");
}

#[test]
fn absurd_sizes_do_not_panic() {
    let a = app("fairseq-simple-syngec/train.log", ColorMode::TrueColor);
    for (w, h) in [
        (1, 1),
        (2, 1),
        (10, 3),
        (19, 4),
        (20, 5),
        (30, 6),
        (300, 3),
        (5, 200),
    ] {
        draw(&a, w, h);
    }
}

#[test]
fn nan_is_drawn_as_a_distinct_marker_without_breaking_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.log");
    let mut s = String::new();
    for i in 1..=40 {
        let v = if i == 20 {
            "nan".to_string()
        } else {
            format!("{}", 0.5 + (i % 3) as f64 * 0.1)
        };
        s.push_str(&format!("step={i} gnorm={v}\n"));
    }
    std::fs::write(&p, s).unwrap();
    let mut o = SourceSpec::new(&p);
    o.clip = Some(0.0);
    let model = read_once(&o).unwrap();
    let a = App::new(model, Theme::new(ColorMode::TrueColor));
    let buf = draw(&a, 80, 24);
    let all = text(&buf);
    assert!(all.contains('×'), "{all}");
    assert!(
        row(&buf, 2).starts_with("     0.7┤"),
        "y-range from the finite values:\n{all}"
    );
    assert!(row(&buf, 23).contains("1 NaN/inf"), "{}", row(&buf, 23));
}

#[test]
fn e_writes_the_figure_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let a = app(
        "megatron-104B-spikes-bigscience/iteration_lines.log",
        ColorMode::TrueColor,
    );
    let p = a.export_figure(dir.path()).unwrap().unwrap();
    assert!(
        p.ends_with("trainwatch-gnorm-step9027.png"),
        "{}",
        p.display()
    );
    let second = a.export_figure(dir.path()).unwrap().unwrap();
    assert!(
        second.ends_with("trainwatch-gnorm-step9027-2.png"),
        "never overwrites"
    );
    let img = image::open(&p).unwrap();
    assert_eq!((img.width(), img.height()), (1400, 700));
    // Tab 2 without a checkpoint: nothing to draw, no file.
    let mut a = a;
    a.on_action(Global::Tab2);
    assert!(a.export_figure(dir.path()).unwrap().is_none());
}

#[test]
fn every_window_size_with_help_zoom_and_smoothing() {
    let mut a = app(
        "megatron-104B-spikes-bigscience/iteration_lines.log",
        ColorMode::TrueColor,
    );
    a.on_action(ChartAction::ToggleSmooth);
    a.on_action(ChartAction::NextExplosion);
    for help in [false, true] {
        a.help = help;
        for w in (1..=140).step_by(7) {
            for h in (1..=50).step_by(3) {
                draw(&a, w, h);
            }
        }
    }
}

/// The keys column of each help section, as tokens: (section title, keys shown).
fn help_keys(buf: &Buffer) -> Vec<(String, Vec<String>)> {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for y in 0..buf.area.height {
        let r = row(buf, y);
        let Some(inner) = r.split('│').nth(1) else {
            continue;
        };
        if let Some(keys) = inner.strip_prefix("  ") {
            let keys: String = keys.chars().take(16).collect();
            if let Some(s) = sections.last_mut() {
                s.1.extend(keys.split_whitespace().map(String::from));
            }
        } else if !inner.trim().is_empty() {
            sections.push((inner.trim().to_string(), Vec::new()));
        }
    }
    sections
}

#[test]
fn every_key_the_key_maps_handle_is_in_the_help() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use trainwatch::tui::keys::Key;
    let mut codes: Vec<KeyCode> = (' '..='~').map(KeyCode::Char).collect();
    codes.extend([
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Enter,
        KeyCode::Backspace,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Insert,
        KeyCode::Delete,
    ]);
    codes.extend((1..=12).map(KeyCode::F));
    for (tab, section) in [(Global::Tab1, "tab 1"), (Global::Tab2, "tab 2")] {
        let mut a = app("fairseq-simple-syngec/train.log", ColorMode::TrueColor);
        a.on_action(tab);
        a.on_action(Global::Help);
        let buf = draw(&a, 100, 40);
        let shown: Vec<String> = help_keys(&buf)
            .into_iter()
            .filter(|(title, _)| title == "everywhere" || title.starts_with(section))
            .flat_map(|(_, keys)| keys)
            .collect();
        assert!(shown.len() > 10, "help not parsed:\n{}", text(&buf));
        let mut handled = 0;
        for &code in &codes {
            for mods in [
                KeyModifiers::NONE,
                KeyModifiers::SHIFT,
                KeyModifiers::CONTROL,
            ] {
                if a.action_for(&KeyEvent::new(code, mods)).is_none() {
                    continue;
                }
                handled += 1;
                // A Ctrl press of a key bound without Ctrl is that key.
                let plain = a.action_for(&KeyEvent::new(code, KeyModifiers::NONE));
                let key = Key {
                    code,
                    ctrl: mods == KeyModifiers::CONTROL && plain.is_none(),
                };
                assert!(
                    shown.contains(&key.label()),
                    "{section}: {} is handled but not in the help:\n{}",
                    key.label(),
                    text(&buf)
                );
            }
        }
        assert!(handled > 20, "{section}: only {handled} keys handled");
    }
    // `e` was bound but missing from the help before the help was built from the key maps.
    let a = app("fairseq-simple-syngec/train.log", ColorMode::TrueColor);
    assert!(a
        .action_for(&KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE))
        .is_some());
}
