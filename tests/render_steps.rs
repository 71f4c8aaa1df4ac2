//! The chart's x-axis is in steps: gaps in the logged steps show as gaps, a restart keeps its
//! marker, and a frame with many points still draws the spikes in them.

use ratatui::buffer::Buffer;
use trainwatch::ingest::SourceSpec;
use trainwatch::run::RunData;
use trainwatch::tui::gnorm_tab::ChartAction;
use trainwatch::tui::{App, ColorMode, Theme};

fn app(points: &[(u64, f64)], restart_at: Option<usize>) -> App {
    let mut model = RunData::empty(&SourceSpec::new("steps.log"));
    for (i, &(step, v)) in points.iter().enumerate() {
        if restart_at == Some(i) {
            model.mark_restart();
        }
        model.steps.push(Some(step), v, None, None);
    }
    let mut a = App::new(model, Theme::new(ColorMode::TrueColor));
    a.status.following = true;
    a
}

/// The chart's bar columns (x positions with a bar glyph in the bottom plot row).
fn bar_columns(buf: &Buffer, row: u16) -> Vec<u16> {
    (0..buf.area.width)
        .filter(|&x| {
            let s = buf[(x, row)].symbol();
            s != " " && "▁▂▃▄▅▆▇█▓".contains(s)
        })
        .collect()
}

mod common;
use common::screen::draw;

#[test]
fn a_gap_in_the_steps_is_a_gap_on_the_axis() {
    // 100 steps logged, nothing for 400 steps, 100 more: the middle of the plot stays empty.
    let mut pts: Vec<(u64, f64)> = (1..=100).map(|s| (s, 0.5)).collect();
    pts.extend((501..=600).map(|s| (s, 0.5)));
    let a = app(&pts, None);
    let buf = draw(&a, 80, 12);
    // Plot rows: tabs, header, then the chart; its bottom row is above the x axis.
    let bottom = (0..12)
        .rev()
        .find(|&y| !bar_columns(&buf, y).is_empty())
        .expect("bars drawn");
    let cols = bar_columns(&buf, bottom);
    let (first, last) = (cols[0], cols[cols.len() - 1]);
    let span = (last - first + 1) as usize;
    assert!(
        cols.len() * 2 < span,
        "bars should cover about a third of the width: {} of {span}",
        cols.len()
    );
}

#[test]
fn a_restart_keeps_its_marker_and_its_place() {
    // Resumed from step 30 after reaching 60: the new run follows the old one on the axis.
    let mut pts: Vec<(u64, f64)> = (1..=60).map(|s| (s, 0.5)).collect();
    pts.extend((30..=90).map(|s| (s, 0.5)));
    let a = app(&pts, None);
    assert_eq!(a.model.primary().restarts(), &[60]);
    let buf = draw(&a, 80, 12);
    let marker = (0..12).any(|y| (0..80).any(|x| buf[(x, y)].symbol() == "┊"));
    assert!(marker, "restart marker missing");
    // A replaced log whose steps go on upward also starts a segment, marked.
    let a = app(&pts[..60], Some(30));
    let buf = draw(&a, 80, 12);
    assert!((0..12).any(|y| (0..80).any(|x| buf[(x, y)].symbol() == "┊")));
}

#[test]
fn zoom_keeps_the_newest_step_at_the_right_and_spikes_in_view() {
    let pts: Vec<(u64, f64)> = (0..50_000u64)
        .map(|i| (i * 10, if i == 49_000 { 50.0 } else { 0.5 }))
        .collect();
    let mut a = app(&pts, None);
    // Everything above the status line (which always names the newest step).
    let all = |buf: &Buffer| -> String {
        (0..buf.area.height - 1)
            .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
            .collect::<Vec<String>>()
            .join("\n")
    };
    let text = all(&draw(&a, 100, 30));
    assert!(text.contains("499990"), "newest step on the axis:\n{text}");
    assert!(text.contains('▼'), "the spike is drawn:\n{text}");
    for _ in 0..5 {
        a.on_action(ChartAction::ZoomIn);
    }
    let text = all(&draw(&a, 100, 30));
    assert!(text.contains("499990") && text.contains('▼'), "{text}");
    a.on_action(ChartAction::ScrollLeft);
    a.on_action(ChartAction::ScrollLeft);
    let text = all(&draw(&a, 100, 30));
    assert!(!text.contains("499990"), "scrolled back:\n{text}");
}
