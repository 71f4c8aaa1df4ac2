//! The frame: tab bar, header, the active tab, notes and the status line. A pure function of
//! [`App`].

use super::app::{App, Tab};
use super::{gnorm_tab, help, similarity_tab};
use crate::export::gnorm::fmt_value;
use crate::text::{printable, printable_path};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width < 20 || area.height < 5 {
            Paragraph::new("trainwatch: window too small")
                .style(self.theme.warn)
                .render(area, buf);
            return;
        }
        let notes: Vec<_> = self.status.notes.iter().rev().take(2).collect();
        let note_rows = notes.len() as u16 + u16::from(self.status.error.is_some());
        let banner_rows = u16::from(self.banner.is_some());
        let [tabs, banner, header, body, notes_area, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(banner_rows),
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(note_rows),
            Constraint::Length(1),
        ])
        .areas(area);
        tab_bar(self, tabs, buf);
        if let Some(b) = &self.banner {
            Paragraph::new(printable(b).into_owned())
                .style(self.theme.banner)
                .render(banner, buf);
        }
        header_line(self, header, buf);
        match self.tab {
            Tab::Gnorm => gnorm_tab::render(self, body, buf),
            Tab::Similarity => similarity_tab::render(self, body, buf),
        }
        let mut lines = Vec::new();
        if let Some(e) = &self.status.error {
            lines.push(Line::styled(format!("⚠ {}", printable(e)), self.theme.warn));
        }
        for n in notes {
            let style = if n.warn {
                self.theme.warn
            } else {
                self.theme.dim
            };
            lines.push(Line::styled(format!("• {}", printable(&n.text)), style));
        }
        Paragraph::new(lines).render(notes_area, buf);
        status_line(self, status, buf);
        if self.help {
            help::render(self, area, buf);
        }
    }
}

fn tab_bar(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let tab = |n: &str, name: &str, active: bool| {
        Span::styled(
            format!(" {n} {name} "),
            if active { t.tab_active } else { t.tab },
        )
    };
    let line = Line::from(vec![
        Span::styled("trainwatch ", t.title),
        tab("1", "gnorm", app.tab == Tab::Gnorm),
        Span::raw(" "),
        tab("2", "similarity", app.tab == Tab::Similarity),
    ]);
    line.render(area, buf);
    let hint = "? help  q quit";
    if area.width as usize > 40 + hint.len() {
        buf.set_string(area.x + area.width - hint.len() as u16, area.y, hint, t.dim);
    }
}

fn header_line(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let m = &app.model;
    let (clip, from) = m.clip();
    let clip = match clip {
        Some(c) => format!("clip {} ({})", fmt_value(c), from.name()),
        None => format!("clipping off ({})", from.name()),
    };
    let format = m.format.map_or("format: detecting…", |f| f.name());
    let path = printable_path(&m.source);
    let room = (area.width as usize).saturating_sub(45).max(12);
    let mut spans = vec![
        Span::styled(shorten_left(&path, room), t.title),
        Span::styled(format!("  {format}"), t.axis),
        Span::styled(format!("  {clip}"), t.threshold),
    ];
    if m.metric != "gnorm" {
        spans.push(Span::styled(
            format!("  metric {}", printable(&m.metric)),
            t.axis,
        ));
    }
    if m.per_epoch() {
        spans.push(Span::styled(
            "  per-epoch summaries (no per-step lines)",
            t.warn,
        ));
    }
    Line::from(spans).render(area, buf);
}

fn status_line(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let m = &app.model;
    let s = m.primary();
    let mut parts: Vec<Span> = Vec::new();
    if let Some(last) = s.len().checked_sub(1) {
        let kind = if s.step_kind() == crate::series::StepKind::Index {
            "record"
        } else {
            "step"
        };
        parts.push(Span::raw(format!(
            "{kind} {} · {} {}",
            s.step(last).unwrap_or(0),
            m.metric,
            fmt_value(s.value(last).unwrap_or(f64::NAN))
        )));
        let pct = 100.0 * s.above_clip() as f64 / s.len() as f64;
        parts.push(Span::raw(format!(
            " · {} pts · {pct:.1}% >clip · ",
            s.len()
        )));
        parts.push(Span::styled(
            format!("{} expl", s.events().len()),
            if s.events().is_empty() {
                t.axis
            } else {
                t.explosion
            },
        ));
        if s.nonfinite() > 0 {
            parts.push(Span::styled(
                format!(" · {} NaN/inf", s.nonfinite()),
                t.nonfinite,
            ));
        }
    } else {
        parts.push(Span::raw("no points yet"));
    }
    parts.push(Span::raw(format!(" · {} skipped", m.skipped_lines)));
    if m.restarts() > 0 {
        parts.push(Span::styled(
            format!(" · {} restarts", m.restarts()),
            t.restart,
        ));
    }
    if app.tab == Tab::Gnorm && !app.view.following() {
        parts.push(Span::styled(" · SCROLLED (f: follow)", t.warn));
    }
    // "updated Ns ago" sits at the right edge; the rest is cut before it if space is short.
    let ago = match app.status.last_data {
        Some(at) => format!(
            " updated {}s ago",
            app.now.saturating_duration_since(at).as_secs()
        ),
        None if app.status.waiting => " waiting for the file".to_string(),
        None => String::new(),
    };
    let ago_w = ago.chars().count() as u16;
    let left = Rect {
        width: area.width.saturating_sub(ago_w),
        ..area
    };
    Line::from(parts).render(left, buf);
    if ago_w > 0 && area.width > ago_w {
        buf.set_string(area.x + area.width - ago_w, area.y, &ago, t.dim);
    }
}

/// `…/tail/of/a/long/path` in at most `max` characters.
pub fn shorten_left(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let tail: String = s.chars().skip(n - max.saturating_sub(1)).collect();
    format!("…{tail}")
}
