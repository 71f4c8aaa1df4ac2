//! Tab 1's stacked panels: the charted metric on top, then the panels' metrics the log has
//! (the loss and the learning rate by default, `--panels`, the picker), one under the other.
//! They share the x-window — zoom, scroll and the columns are the charted metric's, whose
//! points the panels' series follow one for one — and each has its own y-axis. The charted
//! metric's explosions are drawn down every panel below it, so the loss's reaction to a spike
//! is visible; the cursor's line crosses them all and each panel's title reads its value there.

use super::chart::{self, Plot};
use super::gnorm_tab::GnormPanel;
use super::panel::Scene;
use crate::numfmt::fmt_value;
use crate::run::data::PanelSeries;
use crate::run::RunData;
use crate::series::Series;
use crate::text::printable;
use crate::view::window::Span;
use crate::view::StepAxis;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

/// Rows the top panel needs in a stack (its title and six rows of bars).
pub const TOP_MIN: u16 = 7;
/// Rows each panel below needs (its title and three rows of bars).
pub const PANEL_MIN: u16 = 4;
/// Panels in a stack at most.
pub const MAX_PANELS: usize = 4;

/// The panels drawn under the charted metric: those the run keeps, not hidden, holding a
/// finite value (a log without a learning rate shows no empty lr panel). None when the
/// charted series is epoch summaries, which the panels do not follow.
pub fn below<'a>(panel: &GnormPanel, run: &'a RunData) -> Vec<&'a PanelSeries> {
    if run.per_epoch() {
        return Vec::new();
    }
    run.panels
        .iter()
        .filter(|p| !panel.hidden.contains(&p.key.label))
        .filter(|p| p.series.summary(0..p.series.len()).has_finite())
        .take(MAX_PANELS - 1)
        .collect()
}

/// The areas of a stack of `1 + below` panels in `area`, top first (the last one also holds
/// the x-axis row). Lower panels are dropped while the area is too short for them all, so a
/// small terminal keeps a readable chart of the charted metric.
pub fn stack(area: Rect, below: usize) -> Vec<Rect> {
    let mut n = below;
    while n > 0 && area.height < 1 + TOP_MIN + n as u16 * PANEL_MIN {
        n -= 1;
    }
    if n == 0 {
        return vec![area];
    }
    let avail = area.height - 1;
    let each = ((avail * 3 / 5) / n as u16)
        .min((avail - TOP_MIN) / n as u16)
        .max(PANEL_MIN);
    let top = avail - each * n as u16;
    let mut out = vec![Rect {
        height: top,
        ..area
    }];
    let mut y = area.y + top;
    for k in 0..n {
        let h = each + u16::from(k + 1 == n);
        out.push(Rect {
            y,
            height: h,
            ..area
        });
        y += h;
    }
    out
}

/// The column of axis position `x` in `span`, if it is in view.
fn column_of(span: &Span, x: u64) -> Option<usize> {
    (x >= span.start && x < span.end)
        .then(|| ((x - span.start) / span.per_col.max(1)) as usize)
        .filter(|&k| k < span.columns)
}

/// Draws tab 1's chart area: one panel as today, or the stack.
pub fn render(panel: &GnormPanel, sc: &Scene<'_>, area: Rect, buf: &mut Buffer) {
    let below = below(panel, sc.run);
    let rects = stack(area, below.len());
    let overlaid = sc.overlay.len() > 1;
    if rects.len() == 1 && panel.cursor.is_none() && !overlaid {
        chart::render(panel, sc, area, buf);
        return;
    }
    let s = sc.run.primary();
    let Some(plot) = chart::plot_rect(area) else {
        return;
    };
    let axis = StepAxis::new(s);
    let span = sc.view.span(&axis, plot.width as usize);
    let cuts = span.cuts(&axis, s);
    let marks: Vec<usize> = s
        .events()
        .iter()
        .filter_map(|e| axis.x(s, e.peak).and_then(|x| column_of(&span, x)))
        .collect();
    let cursor = panel.cursor.and_then(|x| column_of(&span, x));
    let lines = if overlaid {
        super::panels_overlay::lines(&axis, &span, sc.overlay)
    } else {
        Vec::new()
    };
    // Overlaid, the shown run's bars take its swatch's colour.
    let top_bar = sc
        .overlay
        .iter()
        .find(|o| o.shown && overlaid)
        .map_or(sc.theme.bar, |o| o.style);
    // The point read out: the cursor's (the last at or before it), else the newest in view.
    let point = match panel.cursor {
        Some(x) => axis
            .points_before(s, x.saturating_add(1))
            .checked_sub(1)
            .filter(|&i| i >= cuts[0]),
        None => cuts[cuts.len() - 1].checked_sub(1),
    };
    let n = rects.len();
    for (k, rect) in rects.iter().enumerate() {
        let (series, label, bar): (&Series, &str, Style) = if k == 0 {
            (s, &sc.run.metric.label, top_bar)
        } else {
            let p = below[k - 1];
            (&p.series, &p.key.label, sc.theme.panel_bar(k - 1))
        };
        let stacked = n > 1 || panel.cursor.is_some() || overlaid;
        let body = if stacked {
            title(sc, series, label, bar, point, k == 0, *rect, buf);
            if k == 0 && overlaid {
                legend(sc, *rect, buf);
            }
            Rect {
                y: rect.y + 1,
                height: rect.height - 1,
                ..*rect
            }
        } else {
            *rect
        };
        let p = Plot {
            series,
            bar,
            primary: k == 0,
            x_axis: k + 1 == n,
            marks: if k == 0 { &[] } else { &marks },
            cursor,
            overlay: if k == 0 { &lines } else { &[] },
        };
        chart::render_plot(panel, &p, &span, &cuts, sc, body, buf);
    }
}

/// A panel's title row: its metric and the value at the point read out (the top panel also
/// names the step).
#[allow(clippy::too_many_arguments)] // one row: what it names, where, in which style
fn title(
    sc: &Scene<'_>,
    series: &Series,
    label: &str,
    style: Style,
    point: Option<usize>,
    top: bool,
    area: Rect,
    buf: &mut Buffer,
) {
    let primary = sc.run.primary();
    let value = point
        .and_then(|i| series.value(i))
        .map_or("—".to_string(), fmt_value);
    let mut text = format!("{} {value}", printable(label));
    if top {
        if let Some(step) = point.and_then(|i| primary.step(i)) {
            text.push_str(&format!("  at step {step}"));
        }
    }
    let x = area.x + chart::Y_LABEL_W;
    let room = area.width.saturating_sub(chart::Y_LABEL_W) as usize;
    let rule: String = "─".repeat(room);
    buf.set_string(x, area.y, rule, sc.theme.dim);
    let shown: String = format!(" {text} ").chars().take(room).collect();
    buf.set_string(x + 1.min(room as u16), area.y, shown, style);
}

/// The overlaid runs' swatches and names, right-aligned on the top panel's title row.
fn legend(sc: &Scene<'_>, area: Rect, buf: &mut Buffer) {
    let entries: Vec<(String, Style)> = sc
        .overlay
        .iter()
        .map(|o| (format!("{} {}", o.mark, printable(o.name)), o.style))
        .collect();
    let width: usize = entries.iter().map(|(t, _)| t.chars().count() + 2).sum();
    // Keep clear of the title on the left.
    let room = area.width.saturating_sub(chart::Y_LABEL_W + 28) as usize;
    if width > room {
        return;
    }
    let mut x = area.x + area.width - width as u16;
    for (t, style) in entries {
        buf.set_string(x, area.y, format!(" {t} "), style);
        x += t.chars().count() as u16 + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_areas_drop_the_lower_panels_first() {
        let area = |h| Rect::new(0, 0, 80, h);
        assert_eq!(stack(area(10), 2).len(), 1);
        assert_eq!(stack(area(12), 2).len(), 2);
        assert_eq!(stack(area(16), 2).len(), 3);
        let r = stack(area(17), 2);
        // Heights fill the area; the last panel holds the x-axis row too.
        assert_eq!(r.iter().map(|r| r.height).sum::<u16>(), 17);
        assert!(r[0].height >= TOP_MIN && r[1].height >= PANEL_MIN);
        assert_eq!(r[2].height, r[1].height + 1);
        assert_eq!(r[1].y, r[0].y + r[0].height);
    }
}
