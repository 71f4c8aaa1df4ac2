//! The `?` screen: every key, from the same table the event loop uses.

use super::app::App;
use super::keys::BINDINGS;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let mut lines = Vec::new();
    for (tab, title) in [
        (None, "everywhere"),
        (Some(1), "tab 1 · gnorm"),
        (Some(2), "tab 2 · similarity"),
    ] {
        lines.push(Line::styled(title, t.title));
        for b in BINDINGS.iter().filter(|b| b.tab == tab) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<16}", b.keys), t.above),
                Span::raw(b.what),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "bars: value · amber: above clip · ▼ red: explosion · × NaN/inf · ╌ clip · ┊ restart",
        t.dim,
    ));
    let w = area.width.saturating_sub(4).min(76);
    let h = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys · any key closes "),
        )
        .render(popup, buf);
}
