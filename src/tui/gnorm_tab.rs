//! Tab 1: the metric against step, one bar per column (min/max downsampled), values above the
//! clip threshold and explosion events marked, the threshold drawn as a line.

use super::app::App;
use crate::numfmt::{fmt_axis, fmt_value};
use crate::series::{Column, Series, FLAG_ABOVE, FLAG_EXPLOSION};
use crate::text::printable_path;
use crate::tui::theme::ColorMode;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Widget, Wrap};

const EIGHTHS: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
const Y_LABEL_W: u16 = 9;
/// Points the EMA averages over (span): α = 2 / (span + 1).
const EMA_SPAN: f64 = 20.0;

/// The y mapping: linear or log10, over [lo, hi] in transformed units.
#[derive(Debug, Clone, Copy)]
struct YScale {
    log: bool,
    lo: f64,
    hi: f64,
}

impl YScale {
    fn t(&self, v: f64) -> Option<f64> {
        if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        }
    }

    /// Fraction of the height (0 at the bottom, 1 at the top), clamped.
    fn frac(&self, v: f64) -> f64 {
        match self.t(v) {
            Some(t) => ((t - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0),
            None => 0.0,
        }
    }

    fn value_at(&self, frac: f64) -> f64 {
        let t = self.lo + frac * (self.hi - self.lo);
        if self.log {
            10f64.powf(t)
        } else {
            t
        }
    }

    fn new(
        series: &Series,
        range: std::ops::Range<usize>,
        clip: Option<f64>,
        log: bool,
    ) -> Option<Self> {
        let (mut lo, mut hi) = if log {
            let mut lo = f64::INFINITY;
            let mut hi = f64::NEG_INFINITY;
            for v in series.values_in(range) {
                if v.is_finite() && v > 0.0 {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
            if lo > hi {
                return None;
            }
            (lo, hi)
        } else {
            series.value_range(range)?
        };
        // Show the threshold when it is near the data; far above it would flatten the bars.
        if let Some(c) = clip {
            if c <= hi * 2.0 && c > 0.0 {
                hi = hi.max(c * 1.05);
                lo = lo.min(c);
            }
        }
        if !log && lo >= 0.0 && lo <= 0.5 * hi {
            lo = 0.0;
        }
        if log {
            lo = lo.log10();
            hi = hi.log10();
        }
        if hi - lo < 1e-12 {
            let pad = if hi.abs() > 1e-12 {
                hi.abs() * 0.1
            } else {
                1.0
            };
            lo -= pad;
            hi += pad;
        }
        Some(YScale { log, lo, hi })
    }
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.model.primary();
    let mut body = area;
    if let Some((done, total)) = app.status.reading {
        let [g, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
        let ratio = if total > 0 {
            done as f64 / total as f64
        } else {
            0.0
        };
        Gauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .label(format!(
                "reading the log's history: {:.0}% of {}",
                ratio * 100.0,
                human_bytes(total)
            ))
            .gauge_style(app.theme.bar)
            .render(g, buf);
        body = rest;
    }
    if s.is_empty() {
        empty_message(app, body, buf);
        return;
    }
    let events = s.events().len();
    let (chart, panel) = if body.width >= 100 {
        let [c, p] = Layout::horizontal([Constraint::Min(40), Constraint::Length(30)]).areas(body);
        (c, Some(p))
    } else if body.height >= 16 {
        let h = (events.min(3) as u16 + 1).max(2);
        let [c, p] = Layout::vertical([Constraint::Min(8), Constraint::Length(h)]).areas(body);
        (c, Some(p))
    } else {
        (body, None)
    };
    render_chart(app, chart, buf);
    if let Some(p) = panel {
        render_events(app, p, buf);
    }
}

fn empty_message(app: &App, area: Rect, buf: &mut Buffer) {
    let path = printable_path(&app.model.source);
    let text = if app.status.waiting {
        format!("waiting for {path} to appear…\n\n(trainwatch follows it by name: start the training job, or check the path)")
    } else if app.status.reading.is_some() || !app.status.following {
        format!("reading {path}…")
    } else if app.model.format.is_none() {
        format!(
            "no {} values in {path} yet ({} lines read).\n\nWaiting for lines such as `gnorm=0.48`, `'grad_norm': 2.87` or `grad norm: 1.3`; \
             run `trainwatch gnorm {path}` to see which metrics the file has, and --metric NAME to chart one.",
            app.model.metric.label, app.model.lines
        )
    } else {
        format!("no {} values yet.", app.model.metric.label)
    };
    Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .style(app.theme.dim)
        .render(area, buf);
}

fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.0} MB", n / 1e6)
    } else {
        format!("{:.0} kB", n / 1e3)
    }
}

fn render_chart(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.model.primary();
    let theme = &app.theme;
    if area.width <= Y_LABEL_W + 2 || area.height < 3 {
        return;
    }
    let plot = Rect {
        x: area.x + Y_LABEL_W,
        y: area.y,
        width: area.width - Y_LABEL_W,
        height: area.height - 1,
    };
    let w = plot.width as usize;
    let h = plot.height as usize;
    app.view.plot_width.set(w);
    let (per_col, range) = app.view.window(s.len(), w);
    let cols = s.columns(range.clone(), per_col);
    let clip = s.clip();
    let log = app.view.log_effective(s, range.clone());
    let Some(y) = YScale::new(s, range.clone(), clip, log) else {
        Paragraph::new("no finite values in view")
            .style(theme.dim)
            .render(plot, buf);
        return;
    };
    // Few points: wider bars, so a short run does not hide in the right edge.
    let bw = if app.view.per_col.is_none() && !cols.is_empty() && cols.len() * 2 <= w {
        (w / cols.len()).min(4)
    } else {
        1
    };
    let x0 = plot.x + (w - (cols.len() * bw).min(w)) as u16;
    let bottom = plot.y + plot.height - 1;
    // The threshold line, when the threshold is within the y-range; else a note says where.
    let clip_in_view = clip.filter(|&c| y.t(c).is_some_and(|t| t >= y.lo && t <= y.hi));
    let clip_row = clip_in_view.map(|c| {
        let f = y.frac(c);
        bottom - ((f * (h as f64 - 1.0)).round() as u16).min(plot.height - 1)
    });
    if let (Some(c), None) = (clip, clip_in_view) {
        let above = y.t(c).is_some_and(|t| t > y.hi);
        let note = format!(
            " clip {} {} ",
            fmt_value(c),
            if above { "above ↑" } else { "below ↓" }
        );
        let nw = note.chars().count() as u16;
        if plot.width > nw + 2 {
            let row = if above { plot.y } else { bottom };
            buf.set_string(plot.x + 1, row, note, theme.threshold);
        }
    }
    let selected = app
        .view
        .selected
        .and_then(|i| s.events().get(i))
        .map(|e| e.start..=e.end);
    let ema = if app.view.smooth {
        Some(ema_per_column(s, &cols))
    } else {
        None
    };

    for (ci, c) in cols.iter().enumerate() {
        for x in (0..bw).map(|k| x0 + (ci * bw + k) as u16) {
            draw_column(buf, x, plot, c, &y, clip_row, theme);
            if c.restart {
                for row in plot.y..=bottom {
                    let cell = &mut buf[(x, row)];
                    if cell.symbol() == " " {
                        cell.set_symbol("┊").set_style(theme.restart);
                    }
                }
            }
            if c.nonfinite {
                buf[(x, plot.y)].set_symbol("×").set_style(theme.nonfinite);
            }
            if selected
                .as_ref()
                .is_some_and(|r| r.start() <= &c.last && &c.first <= r.end())
            {
                buf[(x, bottom)].set_style(theme.selected);
            }
            if let Some(e) = ema.as_ref().and_then(|e| e[ci]) {
                let row =
                    bottom - ((y.frac(e) * (h as f64 - 1.0)).round() as u16).min(plot.height - 1);
                buf[(x, row)].set_symbol("•").set_style(theme.ema);
            }
        }
    }
    // The threshold line, where no bar covers it.
    if let Some(row) = clip_row {
        for x in plot.x..plot.x + plot.width {
            let cell = &mut buf[(x, row)];
            if cell.symbol() == " " {
                cell.set_symbol("╌").set_style(theme.threshold);
            }
        }
    }
    // Y labels: top, middle, bottom, and the threshold.
    let label = |buf: &mut Buffer, row: u16, text: String, style: Style| {
        let t: String = text.chars().take(Y_LABEL_W as usize - 1).collect();
        let pad = Y_LABEL_W as usize - 1 - t.chars().count();
        buf.set_string(area.x, row, format!("{}{t}┤", " ".repeat(pad)), style);
    };
    let mut used = Vec::new();
    for (row, frac) in [
        (plot.y, 1.0),
        (plot.y + plot.height / 2, 0.5),
        (bottom, 0.0),
    ] {
        if h < 3 && row != bottom {
            continue;
        }
        let f = if row == plot.y + plot.height / 2 {
            (bottom - row) as f64 / (h as f64 - 1.0).max(1.0)
        } else {
            frac
        };
        label(buf, row, fmt_axis(y.value_at(f)), theme.axis);
        used.push(row);
    }
    if let (Some(row), Some(c)) = (clip_row, clip_in_view) {
        if !used.contains(&row) {
            label(buf, row, format!("clip {}", fmt_value(c)), theme.threshold);
        } else if row != bottom {
            buf.set_string(area.x, row, "clip", theme.threshold);
        }
    }
    // X axis: first and last step, and what a column holds.
    let axis_row = area.y + area.height - 1;
    let first = cols.first().and_then(|c| s.step(c.first)).unwrap_or(0);
    let last = cols.last().and_then(|c| s.step(c.last)).unwrap_or(0);
    let kind = if app.model.per_epoch() {
        "epoch summaries (num_updates)"
    } else {
        s.step_kind().axis_label()
    };
    let scale = if log { " · log y" } else { "" };
    let middle = if per_col == 1 {
        format!("{kind}{scale}")
    } else {
        format!("{kind} · {per_col} points/column{scale}")
    };
    let left = first.to_string();
    let right = last.to_string();
    buf.set_string(x0, axis_row, &left, theme.axis);
    let rx = (plot.x + plot.width).saturating_sub(right.chars().count() as u16);
    let mid_len = middle.chars().count() as u16;
    let mx = plot.x + plot.width.saturating_sub(mid_len) / 2;
    if mx > x0 + left.len() as u16 && mx + mid_len < rx {
        buf.set_string(mx, axis_row, &middle, theme.dim);
    }
    if rx > x0 + left.len() as u16 {
        buf.set_string(rx, axis_row, &right, theme.axis);
    }
}

fn draw_column(
    buf: &mut Buffer,
    x: u16,
    plot: Rect,
    c: &Column,
    y: &YScale,
    clip_row: Option<u16>,
    theme: &super::theme::Theme,
) {
    if !c.has_finite() {
        return;
    }
    let h = plot.height as usize;
    let bottom = plot.y + plot.height - 1;
    let eighths = (y.frac(c.max) * (h * 8) as f64).round() as usize;
    let eighths = eighths.clamp(1, h * 8);
    let style = if c.flags & FLAG_EXPLOSION != 0 {
        theme.explosion
    } else if c.flags & FLAG_ABOVE != 0 {
        theme.above
    } else {
        theme.bar
    };
    let no_color = theme.mode == ColorMode::None;
    let full = eighths / 8;
    for i in 0..full {
        let row = bottom - i as u16;
        // Without colour, the part above the threshold is shaded so it still stands out.
        let glyph = if no_color && c.flags & FLAG_ABOVE != 0 && clip_row.is_some_and(|r| row < r) {
            "▓"
        } else {
            EIGHTHS[8]
        };
        buf[(x, row)].set_symbol(glyph).set_style(style);
    }
    let rem = eighths % 8;
    let top_row = if rem > 0 && full < h {
        let row = bottom - full as u16;
        buf[(x, row)].set_symbol(EIGHTHS[rem]).set_style(style);
        row
    } else {
        bottom + 1 - full as u16
    };
    if c.flags & FLAG_EXPLOSION != 0 {
        let row = if top_row > plot.y {
            top_row - 1
        } else {
            plot.y
        };
        buf[(x, row)].set_symbol("▼").set_style(theme.explosion);
    }
}

/// EMA at each column's last point, warmed up over the points before the view.
fn ema_per_column(s: &Series, cols: &[Column]) -> Vec<Option<f64>> {
    let Some(first) = cols.first() else {
        return Vec::new();
    };
    let alpha = 2.0 / (EMA_SPAN + 1.0);
    let warm = first.first.saturating_sub((EMA_SPAN * 5.0) as usize);
    let mut ema: Option<f64> = None;
    let mut i = warm;
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        for v in s.values_in(i..c.last + 1) {
            if v.is_finite() {
                ema = Some(ema.map_or(v, |e| e + alpha * (v - e)));
            }
        }
        i = c.last + 1;
        out.push(ema);
    }
    out
}

fn render_events(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.model.primary();
    let theme = &app.theme;
    let events = s.events();
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("explosions: {}", events.len()), theme.title),
        Span::styled(if events.is_empty() { "" } else { "  n/N jump" }, theme.dim),
    ])];
    if events.is_empty() {
        lines.push(Line::styled(
            format!(
                "none: no point above the clip and > {}× the median",
                fmt_value(s.params().factor)
            ),
            theme.dim,
        ));
    }
    // Newest first, the selected one always visible.
    let room = area.height.saturating_sub(1) as usize;
    let mut order: Vec<usize> = (0..events.len()).rev().collect();
    if let Some(sel) = app.view.selected {
        if let Some(pos) = order.iter().position(|&i| i == sel) {
            if pos >= room && room > 0 {
                order.swap(room - 1, pos);
            }
        }
    }
    for &i in order.iter().take(room) {
        let e = &events[i];
        let start = s.step(e.start).unwrap_or(0);
        let end = s.step(e.end).unwrap_or(0);
        let span = if start == end {
            format!("{start}")
        } else {
            format!("{start}–{end}")
        };
        let text = format!("▼ {span} {} {:.0}×", fmt_value(e.peak_value), e.factor);
        let style = if app.view.selected == Some(i) {
            theme.selected
        } else {
            theme.explosion
        };
        lines.push(Line::styled(text, style));
    }
    Paragraph::new(lines).render(area, buf);
}
