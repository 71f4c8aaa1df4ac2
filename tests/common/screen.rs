//! The app drawn on ratatui's `TestBackend`, and the screen read back as text, for the render
//! tests.

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use trainwatch::tui::App;

/// The app drawn once on a `w × h` test terminal.
pub fn draw(app: &App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| f.render_widget(app, f.area())).unwrap();
    t.backend().buffer().clone()
}

/// The screen's rows, trailing blanks trimmed, one per line.
pub fn text(buf: &Buffer) -> String {
    (0..buf.area.height)
        .map(|y| row(buf, y).trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Row `y` as drawn, full width.
pub fn row(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}
