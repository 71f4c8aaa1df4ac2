//! Tab 2 with ratatui's `TestBackend`: the heatmap's cells carry the magma colour of the
//! matrix values they stand for, in truecolor, 256 colours and NO_COLOR; the colour bar, the
//! labels, the title; a failed reload keeps the map and says so.

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;
use std::path::PathBuf;
use trainwatch::checkpoint::{compute_similarity, SimilarityRequest};
use trainwatch::colormap::MAGMA;
use trainwatch::ingest::SourceSpec;
use trainwatch::tui::app::Tab;
use trainwatch::tui::keys::Global;
use trainwatch::tui::similarity_panel::SimAction;
use trainwatch::tui::theme::rgb_to_256;
use trainwatch::tui::{App, ColorMode, Theme};

fn whisper() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/samples/whisper-tiny-positions/whisper_tiny_positions.safetensors")
}

/// An app on tab 2 holding the map of the whisper decoder table at `blocks`.
fn app(mode: ColorMode, blocks: usize) -> App {
    let mut a = App::new(
        trainwatch::run::RunData::empty(&SourceSpec::new("train.log")),
        Theme::new(mode),
    );
    a.sim.path = Some(whisper());
    let r = compute_similarity(&SimilarityRequest {
        path: whisper(),
        tensor: None,
        rows: None,
        blocks,
        sinusoidal: None,
        read: trainwatch::checkpoint::ReadMode::Mapped,
    })
    .unwrap();
    a.sim.loaded(Box::new(r));
    a.on_action(Global::Tab2);
    assert_eq!(a.tab, Tab::Similarity);
    a
}

fn draw(app: &App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| f.render_widget(app, f.area())).unwrap();
    t.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-left cell of the map: the first row whose label column shows position 0.
fn map_origin(buf: &Buffer) -> (u16, u16) {
    for y in 0..buf.area.height {
        let row: String = (0..6).map(|x| buf[(x, y)].symbol()).collect();
        if row.trim() == "0" && buf[(6, y)].symbol() == "▀" {
            return (6, y);
        }
    }
    panic!("no map found:\n{}", text(buf));
}

#[test]
fn cells_have_the_magma_colour_of_their_values() {
    let a = app(ColorMode::TrueColor, 32);
    let buf = draw(&a, 80, 30);
    let r = a.sim.report.as_ref().unwrap();
    let m = &r.map.matrix;
    let (lo, hi) = m
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let expect = |v: f64| {
        let [r, g, b] = MAGMA[(((v - lo) / (hi - lo)) * 255.0).round() as usize];
        Color::Rgb(r, g, b)
    };
    let (x0, y0) = map_origin(&buf);
    for (i, j) in [(0, 0), (2, 5), (10, 10), (31, 0), (17, 30)] {
        let cell = &buf[(x0 + j as u16, y0 + (i / 2) as u16)];
        if (i, j) == a.sim.cursor {
            continue;
        }
        let got = if i % 2 == 0 { cell.fg } else { cell.bg };
        assert_eq!(
            got,
            expect(m[[i, j]]),
            "cell ({i}, {j}) value {}",
            m[[i, j]]
        );
    }
    // A position block is more like itself than like a far one.
    assert!(m[[10, 10]] > m[[10, 31]]);
    let all = text(&buf);
    assert!(
        all.contains("decoder.position_encodings.encodings"),
        "{all}"
    );
    assert!(all.contains("F16 [448, 384]"), "{all}");
    assert!(all.contains("table 1/2"), "{all}");
    assert!(all.contains("448"), "row/column labels in positions");
    assert!(all.contains("adjacent 0.8"), "profile summary:\n{all}");
    // Colour bar: magma's top colour at its top, its bottom colour at its bottom.
    let bar_x = x0 + 32 + 2;
    assert_eq!(
        buf[(bar_x, y0)].fg,
        Color::Rgb(MAGMA[255][0], MAGMA[255][1], MAGMA[255][2])
    );
    assert_eq!(
        buf[(bar_x, y0 + 15)].bg,
        Color::Rgb(MAGMA[0][0], MAGMA[0][1], MAGMA[0][2])
    );
    assert!(
        all.contains(&format!("{hi:.2}")) && all.contains(&format!("{lo:.2}")),
        "range labels"
    );
}

#[test]
fn fixed_range_changes_the_colours() {
    let mut a = app(ColorMode::TrueColor, 16);
    let buf = draw(&a, 60, 20);
    let (x0, y0) = map_origin(&buf);
    let v = a.sim.report.as_ref().unwrap().map.matrix[[4, 12]];
    let before = buf[(x0 + 12, y0 + 2)].fg;
    a.on_action(SimAction::ToggleRange);
    let buf = draw(&a, 60, 20);
    let [r, g, b] = MAGMA[(((v + 1.0) / 2.0) * 255.0).round() as usize];
    assert_eq!(buf[(x0 + 12, y0 + 2)].fg, Color::Rgb(r, g, b));
    assert_ne!(before, Color::Rgb(r, g, b));
    assert!(text(&buf).contains("fixed"));
}

#[test]
fn degrades_to_256_colours_and_to_density_characters() {
    let a = app(ColorMode::Ansi256, 16);
    let buf = draw(&a, 60, 20);
    let (x0, y0) = map_origin(&buf);
    let c = buf[(x0 + 3, y0 + 1)].fg;
    assert!(matches!(c, Color::Indexed(_)), "{c:?}");
    let m = &a.sim.report.as_ref().unwrap().map.matrix;
    let (lo, hi) = m
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let [r, g, b] = MAGMA[(((m[[6, 6]] - lo) / (hi - lo)) * 255.0).round() as usize];
    assert_eq!(
        buf[(x0 + 6, y0 + 3)].fg,
        Color::Indexed(rgb_to_256(r, g, b)),
        "diagonal"
    );

    let a = app(ColorMode::None, 16);
    let buf = draw(&a, 60, 20);
    assert!(buf
        .content()
        .iter()
        .all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
    let all = text(&buf);
    assert!(
        all.contains('@'),
        "the diagonal is the densest character:\n{all}"
    );
}

#[test]
fn a_failed_reload_keeps_the_map_and_says_so() {
    let mut a = app(ColorMode::TrueColor, 16);
    a.on_checkpoint(trainwatch::checkpoint::follow::CheckpointEvent::Failed {
        message: "ckpt.safetensors: incomplete (still being written?)".into(),
        retrying: true,
    });
    let all = text(&draw(&a, 80, 24));
    assert!(all.contains("reload failed"), "{all}");
    assert!(all.contains("retrying"), "{all}");
    assert!(all.contains("▀"), "the last good map stays");
}

#[test]
fn cursor_zoom_and_table_switch() {
    let mut a = app(ColorMode::TrueColor, 16);
    draw(&a, 60, 20);
    a.on_action(SimAction::Down);
    a.on_action(SimAction::Down);
    a.on_action(SimAction::Right);
    assert_eq!(a.sim.cursor, (2, 1));
    let all = text(&draw(&a, 100, 24));
    // Block 2 of 16 over 448 rows: positions 56–83.
    assert!(all.contains("positions 56–83 × 28–55"), "{all}");
    a.on_action(SimAction::ZoomIn);
    assert_eq!(a.sim.zoom.len(), 1);
    let (lo, hi) = a.sim.zoom[0];
    assert!(hi - lo <= 224 && lo <= 56 && hi >= 56, "{lo}..{hi}");
    assert_eq!(
        a.sim_view().rows,
        Some((lo, hi)),
        "the follower is asked for the range"
    );
    a.on_action(SimAction::ZoomOut);
    assert!(a.sim.zoom.is_empty());
    a.on_action(SimAction::NextTensor);
    assert_eq!(
        a.sim_view().tensor.as_deref(),
        Some("encoder.position_encodings.encodings")
    );
}

#[test]
fn tiny_areas_do_not_panic() {
    let a = app(ColorMode::TrueColor, 64);
    for (w, h) in [(1, 1), (10, 5), (20, 6), (25, 8), (200, 7), (17, 60)] {
        draw(&a, w, h);
    }
}

#[test]
fn a_map_larger_than_the_window_is_clipped_not_a_panic() {
    // The map was computed for a bigger window; the window shrank before the recompute.
    let a = app(ColorMode::TrueColor, 64);
    for (w, h) in [(40, 20), (60, 14), (30, 12), (80, 24), (24, 30)] {
        draw(&a, w, h);
    }
}

#[test]
fn every_window_size_renders_both_tabs() {
    for blocks in [1, 7, 64] {
        let mut a = app(ColorMode::TrueColor, blocks);
        for tab in [Global::Tab1, Global::Tab2] {
            a.on_action(tab);
            for w in (1..=130).step_by(9) {
                for h in (1..=60).step_by(4) {
                    draw(&a, w, h);
                }
            }
        }
    }
}

/// The explanation under the map, on the real whisper table: cut to the rows left, and the
/// cut is marked, never a sentence that stops mid-way as if complete.
#[test]
fn the_explanation_is_wrapped_and_a_cut_is_marked() {
    let a = app(ColorMode::TrueColor, 64);
    let sentences = a.sim.report.as_ref().map(|r| r.explanation.join(" "));
    let whole = sentences.expect("a map is loaded");
    assert!(!whole.is_empty());
    let first_word = whole.split_whitespace().next().unwrap().to_string();
    let mut cut_seen = false;
    for w in [40u16, 80, 160] {
        let buf = draw(&a, w, 24);
        let t = text(&buf);
        let rows: Vec<&str> = t.lines().collect();
        let start = rows
            .iter()
            .rposition(|r| r.trim_start().starts_with(&first_word))
            .unwrap_or_else(|| panic!("explanation not shown at {w}×24:\n{t}"));
        // Up to the status bar (the last row) or the first empty row.
        let shown: Vec<&str> = rows[start..rows.len() - 1]
            .iter()
            .map(|r| r.trim_end())
            .take_while(|r| !r.is_empty())
            .collect();
        let joined = shown.join(" ");
        if joined.ends_with('…') {
            cut_seen = true;
            let prefix = joined.trim_end_matches('…');
            assert!(
                whole.starts_with(prefix.trim_end()),
                "{joined:?} vs {whole:?}"
            );
        } else {
            assert_eq!(joined.trim(), whole, "at {w}×24");
        }
    }
    assert!(
        cut_seen,
        "40 columns cannot hold the whole explanation: {whole:?}"
    );
}
