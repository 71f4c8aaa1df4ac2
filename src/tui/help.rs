//! The `?` screen: every key, from the same binding data the event loop looks keys up in.

use super::app::App;
use super::keys::GLOBAL;
use super::panel::{binding_lines, help_lines, Panel};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let mut lines = Vec::new();
    for (title, keys) in sections(app) {
        lines.push(Line::styled(title, t.title));
        for (keys, what) in keys {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<16}"), t.above),
                Span::raw(what),
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

/// The help's sections: the global keys, then each panel's, as (keys shown, what they do).
pub fn sections(app: &App) -> Vec<(String, Vec<(String, &'static str)>)> {
    let mut s = vec![
        ("everywhere".into(), binding_lines(GLOBAL)),
        (
            format!("tab 1 · {}", app.gnorm.title()),
            help_lines(&app.gnorm),
        ),
        (
            "tab 1 · panel picker (m)".into(),
            binding_lines(super::picker::BINDINGS),
        ),
        (format!("tab 2 · {}", app.sim.title()), help_lines(&app.sim)),
    ];
    if app.runs.workspace.len() > 1 {
        s.insert(
            3,
            (
                "tab 1 · runs".into(),
                binding_lines(super::runs_table::BINDINGS),
            ),
        );
    }
    s
}
