//! Cost of one frame of the gnorm tab with 10 M points in view: the chart drawn with ratatui's
//! `TestBackend` at 120×40, fitting the whole run (so every point is in view), plain and with
//! the EMA on. A frame should cost about the plot width, not the number of points.
//!
//! Run: `cargo run --release --example bench_frame [-- --points N --frames N]`.

#[path = "support/mod.rs"]
mod support;
use support::num;

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::Instant;
use trainwatch::ingest::SourceSpec;
use trainwatch::run::RunData;
use trainwatch::tui::gnorm_tab::ChartAction;
use trainwatch::tui::{App, ColorMode, Theme};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let points = num(&args, "--points", 10_000_000);
    let frames = num(&args, "--frames", 30).max(1);

    let t = Instant::now();
    let mut model = RunData::empty(&SourceSpec::new("bench.log"));
    // A noisy decaying norm with a spike every 400 k steps and a NaN now and then.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..points as u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let noise = (x >> 11) as f64 / (1u64 << 53) as f64;
        let mut v = 0.3 + 2.0 / (1.0 + i as f64 / 50_000.0) + 0.2 * noise;
        if i % 400_000 == 399_999 {
            v *= 20.0;
        }
        if i % 3_000_001 == 3_000_000 {
            v = f64::NAN;
        }
        model.steps.push(Some(i + 1), v, None, None);
    }
    println!(
        "{points} points pushed in {:.2}s",
        t.elapsed().as_secs_f64()
    );

    let mut app = App::new(model, Theme::new(ColorMode::TrueColor));
    app.status.following = true;
    let mut terminal = match Terminal::new(TestBackend::new(120, 40)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("test backend: {e}");
            std::process::exit(1);
        }
    };
    for (label, smooth) in [("plain", false), ("with EMA", true)] {
        if smooth {
            app.on_action(ChartAction::ToggleSmooth);
        }
        let mut times = Vec::with_capacity(frames);
        for _ in 0..frames {
            let t = Instant::now();
            if let Err(e) = terminal.draw(|f| f.render_widget(&app, f.area())) {
                eprintln!("draw: {e}");
                std::process::exit(1);
            }
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "gnorm tab 120x40, {points} points in view, {label}: median {:.0} µs/frame, best {:.0} µs ({frames} frames)",
            times[times.len() / 2],
            times[0]
        );
    }
}
