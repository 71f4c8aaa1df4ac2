//! The frame: tab bar, header, the active tab, notes and the status line. A pure function of
//! [`App`].

use super::app::{App, Tab};
use super::help;
use super::panel::{Panel, Scene};
use crate::numfmt::fmt_value;
use crate::run::ClipSource;
use crate::text::{printable, printable_path};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The frame's regions, from its size and the state (banner, notes, error).
pub struct FrameLayout {
    pub tabs: Rect,
    pub banner: Rect,
    pub header: Rect,
    pub body: Rect,
    /// The runs panel (tab 1 with several runs), under the chart.
    pub runs: Rect,
    pub notes: Rect,
    pub status: Rect,
}

/// Notes shown at once, newest first.
const NOTES_SHOWN: usize = 2;

pub fn frame_layout(app: &App, area: Rect) -> FrameLayout {
    let notes = app.status.notes.len().min(NOTES_SHOWN) as u16;
    let note_rows = notes + u16::from(app.status.error.is_some());
    let banner_rows = u16::from(app.banner.is_some());
    let [tabs, banner, header, body, notes, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_rows),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(note_rows),
        Constraint::Length(1),
    ])
    .areas(area);
    let runs_rows = if app.tab == Tab::Gnorm {
        app.runs.height(body)
    } else {
        0
    };
    let [body, runs] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(runs_rows)]).areas(body);
    FrameLayout {
        tabs,
        banner,
        header,
        body,
        runs,
        notes,
        status,
    }
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width < 20 || area.height < 5 {
            Paragraph::new("trainwatch: window too small")
                .style(self.theme.warn)
                .render(area, buf);
            return;
        }
        let l = frame_layout(self, area);
        tab_bar(self, l.tabs, buf);
        if let Some(b) = &self.banner {
            Paragraph::new(printable(b).into_owned())
                .style(self.theme.banner)
                .render(l.banner, buf);
        }
        header_line(self, l.header, buf);
        let overlay = super::panels_overlay::from_runs(&self.runs, &self.model, &self.theme);
        let scene = Scene {
            run: &self.model,
            view: &self.view,
            theme: &self.theme,
            status: &self.status,
            overlay: &overlay,
        };
        match self.tab {
            Tab::Gnorm => {
                self.gnorm.render(&scene, l.body, buf);
                if l.runs.height > 0 {
                    self.runs
                        .render(&self.model, &self.theme, self.now, l.runs, buf);
                }
            }
            Tab::Similarity => self.sim.render(&scene, l.body, buf),
        }
        let notes = self.status.notes.iter().rev().take(NOTES_SHOWN);
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
        Paragraph::new(lines).render(l.notes, buf);
        status_line(self, l.status, buf);
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
        tab("1", app.gnorm.title(), app.tab == Tab::Gnorm),
        Span::raw(" "),
        tab("2", app.sim.title(), app.tab == Tab::Similarity),
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
    let clip = match (clip, from) {
        (_, ClipSource::Unknown) => "clip unknown: give it with --clip X".to_string(),
        (Some(c), ClipSource::Default) => match m.clip_framework() {
            Some(fw) => format!("clip {} ({fw}'s default)", fmt_value(c)),
            None => format!("clip {} (default)", fmt_value(c)),
        },
        (Some(c), _) => format!("clip {} ({})", fmt_value(c), from.name()),
        (None, _) => format!("clipping off ({})", from.name()),
    };
    let format = m.format.map_or("format: detecting…".to_string(), |f| {
        format!("{}{}", f.name(), crate::export::gnorm::gnorm_alias(m))
    });
    let mut spans = Vec::new();
    // The tracker's name for the run (W&B display name and id, MLflow run name).
    if let Some(label) = m.label.as_ref().and_then(crate::core::RunLabel::display) {
        spans.push(Span::styled(format!("  {}", printable(&label)), t.title));
    }
    spans.extend([
        Span::styled(format!("  {format}"), t.axis),
        Span::styled(format!("  {clip}"), t.threshold),
    ]);
    if m.metric.role != crate::core::Role::GradNorm {
        spans.push(Span::styled(
            format!("  metric {}", printable(&m.metric.label)),
            t.axis,
        ));
    }
    if m.per_epoch() {
        spans.push(Span::styled(
            "  per-epoch summaries (no per-step lines)",
            t.warn,
        ));
    }
    if m.overflows > 0 {
        spans.push(Span::styled(
            format!("  {} fp16 overflow skips", m.overflows),
            t.axis,
        ));
    }
    if m.unexplained_nonfinite() > 0 {
        spans.push(Span::styled("  DIVERGING (NaN/inf)", t.nonfinite));
    }
    // The path gives way to what follows it (a long path must not hide the clip source).
    let rest: usize = spans.iter().map(Span::width).sum();
    let room = (area.width as usize).saturating_sub(rest).max(12);
    let path = printable_path(&m.source);
    spans.insert(0, Span::styled(shorten_left(&path, room), t.title));
    Line::from(spans).render(area, buf);
}

fn status_line(app: &App, area: Rect, buf: &mut Buffer) {
    // Try the full wording first, then a compact one, so 80 columns hold everything.
    for compact in [false, true] {
        let line = status_spans(app, compact);
        if line.width() <= area.width as usize || compact {
            line.render(area, buf);
            return;
        }
    }
}

fn status_spans(app: &App, compact: bool) -> Line<'static> {
    let t = &app.theme;
    let m = &app.model;
    let s = m.primary();
    let sep = if compact { "·" } else { " · " };
    let mut parts: Vec<Span> = Vec::new();
    if let Some(last) = s.len().checked_sub(1) {
        let kind = if s.step_kind() == crate::series::StepKind::Index {
            "record"
        } else {
            "step"
        };
        parts.push(Span::raw(format!(
            "{kind} {}{sep}{} {}",
            s.step(last).unwrap_or(0),
            m.metric.label,
            fmt_value(s.value(last).unwrap_or(f64::NAN))
        )));
        let pct = 100.0 * s.above_clip() as f64 / s.len() as f64;
        // No threshold known: nothing to be above.
        let above = if m.clip().1 == ClipSource::Unknown {
            String::new()
        } else {
            format!("{pct:.1}% >clip{sep}")
        };
        parts.push(Span::raw(format!("{sep}{} pts{sep}{above}", s.len())));
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
                format!("{sep}{} NaN/inf", s.nonfinite()),
                t.nonfinite,
            ));
        }
    } else {
        parts.push(Span::raw("no points yet"));
    }
    parts.push(Span::raw(format!(
        "{sep}{} {}",
        m.skipped_records,
        if compact { "skip" } else { "skipped" }
    )));
    if m.restarts() > 0 {
        parts.push(Span::styled(
            format!("{sep}{} restarts", m.restarts()),
            t.restart,
        ));
    }
    if app.tab == Tab::Gnorm && !app.view.following() {
        parts.push(Span::styled(
            if compact {
                "·SCROLLED(f)"
            } else {
                " · SCROLLED (f: follow)"
            },
            t.warn,
        ));
    }
    if let Some(end) = m.finished {
        let style = if end == crate::core::RunEnd::Finished {
            t.axis
        } else {
            t.warn
        };
        parts.push(Span::styled(format!("{sep}{}", end.word()), style));
    }
    let ago = match app.status.last_data {
        Some(at) => {
            let ago = super::clock::ago(app.now.saturating_duration_since(at).as_secs());
            if compact {
                format!("{sep}{ago} ago")
            } else {
                format!("{sep}updated {ago} ago")
            }
        }
        None if app.status.waiting => format!("{sep}waiting for the file"),
        None => String::new(),
    };
    parts.push(Span::styled(ago, t.dim));
    Line::from(parts)
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
