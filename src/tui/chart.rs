//! Tab 1's chart: the metric against step, one bar per column (min/max downsampled), values
//! above the clip threshold and explosion events marked, the threshold drawn as a line.

use super::chart_scale::{ema_per_column, YScale};
use super::gnorm_tab::GnormPanel;
use super::panel::Scene;
use crate::numfmt::{fmt_axis, fmt_value};
use crate::series::{Column, Series, FLAG_ABOVE, FLAG_EXPLOSION};
use crate::tui::theme::ColorMode;
use crate::view::StepAxis;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Paragraph, Widget};

const EIGHTHS: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
pub const Y_LABEL_W: u16 = 9;

/// The plot inside the chart's area (right of the y labels, above the x axis); `None` when
/// the area is too small to draw in.
pub fn plot_rect(area: Rect) -> Option<Rect> {
    if area.width <= Y_LABEL_W + 2 || area.height < 3 {
        return None;
    }
    Some(Rect {
        x: area.x + Y_LABEL_W,
        y: area.y,
        width: area.width - Y_LABEL_W,
        height: area.height - 1,
    })
}

/// Draws the chart of the charted metric alone into `area` (one panel: today's tab 1).
pub fn render(panel: &GnormPanel, scene: &Scene<'_>, area: Rect, buf: &mut Buffer) {
    let s = scene.run.primary();
    let Some(plot) = plot_rect(area) else {
        return;
    };
    let axis = StepAxis::new(s);
    let span = scene.view.span(&axis, plot.width as usize);
    let cuts = span.cuts(&axis, s);
    let p = Plot {
        series: s,
        bar: scene.theme.bar,
        primary: true,
        x_axis: true,
        marks: &[],
        cursor: None,
        overlay: &[],
    };
    render_plot(panel, &p, &span, &cuts, scene, area, buf);
}

/// One panel of tab 1: a series drawn against the charted metric's x-window (its points are
/// those of the charted metric, one for one, so the same cuts split both into columns).
pub struct Plot<'a> {
    pub series: &'a Series,
    /// The bars' style.
    pub bar: Style,
    /// The charted metric: its clip threshold, explosions, non-finite marks, smoothing and
    /// selected explosion are drawn.
    pub primary: bool,
    /// Whether the bottom row is the x-axis (the lowest panel of a stack).
    pub x_axis: bool,
    /// Columns holding an explosion of the charted metric: a vertical marker where no bar is.
    pub marks: &'a [usize],
    /// The cursor's column: a vertical line where no bar is.
    pub cursor: Option<usize>,
    /// Other runs laid over the bars (the top panel, several runs).
    pub overlay: &'a [super::panels_overlay::Line],
}

/// Draws panel `p` into `area` over the window `span` whose columns hold the points `cuts`.
pub fn render_plot(
    panel: &GnormPanel,
    p: &Plot<'_>,
    span: &crate::view::window::Span,
    cuts: &[usize],
    scene: &Scene<'_>,
    area: Rect,
    buf: &mut Buffer,
) {
    let s = p.series;
    let theme = scene.theme;
    let plot_area = if p.x_axis {
        area
    } else {
        Rect {
            height: area.height + 1,
            ..area
        }
    };
    let Some(plot) = plot_rect(plot_area) else {
        return;
    };
    let w = plot.width as usize;
    let h = plot.height as usize;
    // Each column's points by binary search on the steps; its summary from the pyramid.
    let steps = scene.run.primary();
    let axis = StepAxis::new(steps);
    let cols: Vec<Option<Column>> = cuts.windows(2).map(|c| s.column(c[0]..c[1])).collect();
    let points = cuts[0]..cuts[cuts.len() - 1];
    let mut window = s.summary(points.clone());
    window.merge(&super::panels_overlay::summary(p.overlay));
    let clip = if p.primary { s.clip() } else { None };
    let overflow_explained = scene.run.overflows > 0 && scene.run.unexplained_nonfinite() == 0;
    // The panels below keep a linear scale, so a schedule reads as its shape; the charted
    // metric's follows `l` (or spans more than two decades).
    let log = p.primary && panel.log_effective(&window);
    let Some(y) = YScale::new(&window, clip, log) else {
        Paragraph::new("no finite values in view")
            .style(theme.dim)
            .render(plot, buf);
        return;
    };
    // Few points: wider bars, so a short run does not hide in the right edge.
    let bw = if scene.view.per_col.is_none() && !cols.is_empty() && cols.len() * 2 <= w {
        (w / cols.len()).min(4)
    } else {
        1
    };
    // The run starts at the left edge and grows rightwards: a new point fills the next
    // column instead of moving every bar one to the left (a redraw of the whole chart).
    let x0 = plot.x;
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
    let selected = panel
        .selected
        .filter(|_| p.primary)
        .and_then(|i| s.events().get(i))
        .map(|e| e.start..=e.end);
    let ema = if panel.smooth && p.primary {
        Some(ema_per_column(s, &cols))
    } else {
        None
    };

    for (ci, c) in cols.iter().enumerate() {
        let Some(c) = c else { continue };
        for x in (0..bw).map(|k| x0 + (ci * bw + k) as u16) {
            draw_column(buf, x, plot, c, &y, clip_row, theme, p.bar);
            if c.restart {
                for row in plot.y..=bottom {
                    let cell = &mut buf[(x, row)];
                    if cell.symbol() == " " {
                        cell.set_symbol("┊").set_style(theme.restart);
                    }
                }
            }
            if c.nonfinite && p.primary {
                // fp16 overflow (the log's notes account for every NaN/inf) is not divergence:
                // its own marker, not the divergence ×.
                let (mark, style) = if overflow_explained {
                    ("o", theme.warn)
                } else {
                    ("×", theme.nonfinite)
                };
                buf[(x, plot.y)].set_symbol(mark).set_style(style);
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
    let row_of =
        |v: f64| bottom - ((y.frac(v) * (h as f64 - 1.0)).round() as u16).min(h as u16 - 1);
    for l in p.overlay {
        // Its threshold, where it is not the shown run's, as a line in its colour.
        if let Some(c) = l
            .clip
            .filter(|c| Some(*c) != clip && y.t(*c).is_some_and(|t| t >= y.lo && t <= y.hi))
        {
            let row = row_of(c);
            for x in plot.x..plot.x + plot.width {
                if buf[(x, row)].symbol() == " " {
                    buf[(x, row)].set_symbol("╌").set_style(l.style);
                }
            }
        }
        for (ci, v) in l.highs.iter().enumerate().take(cols.len()) {
            let Some(v) = v else { continue };
            let row = row_of(*v);
            for x in (0..bw).map(|k| x0 + (ci * bw + k) as u16) {
                buf[(x, row)].set_char(l.mark).set_style(l.style);
                if l.explosions[ci] {
                    buf[(x, row.saturating_sub(1).max(plot.y))]
                        .set_symbol("▼")
                        .set_style(l.style);
                }
            }
        }
    }
    // The charted metric's explosions and the cursor, across the panel where no bar is.
    for (ci, mark, style) in p
        .marks
        .iter()
        .map(|&c| (c, "┆", theme.explosion))
        .chain(p.cursor.map(|c| (c, "│", theme.axis)))
    {
        if ci >= cols.len() {
            continue;
        }
        for x in (0..bw).map(|k| x0 + (ci * bw + k) as u16) {
            for row in plot.y..=bottom {
                let cell = &mut buf[(x, row)];
                if cell.symbol() == " " || cell.symbol() == "┆" {
                    cell.set_symbol(mark).set_style(style);
                }
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
    if !p.x_axis {
        return;
    }
    // X axis: first and last step, and what a column holds.
    let s = steps;
    let axis_row = area.y + area.height - 1;
    let first = s.step(points.start).unwrap_or(0);
    let last = points
        .end
        .checked_sub(1)
        .and_then(|i| s.step(i))
        .unwrap_or(0);
    let kind = if scene.run.per_epoch() {
        "epoch summaries (num_updates)"
    } else {
        s.step_kind().axis_label()
    };
    let scale = if log { " · log y" } else { "" };
    // Whole point spacings per column read as points (what an evenly spaced run holds).
    let (per_col, spacing) = (span.per_col, axis.spacing());
    let middle = if per_col <= spacing {
        format!("{kind}{scale}")
    } else if per_col % spacing == 0 {
        format!("{kind} · {} points/column{scale}", per_col / spacing)
    } else {
        format!("{kind} · {per_col} steps/column{scale}")
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

#[allow(clippy::too_many_arguments)] // one bar: where, what, and how it is styled
fn draw_column(
    buf: &mut Buffer,
    x: u16,
    plot: Rect,
    c: &Column,
    y: &YScale,
    clip_row: Option<u16>,
    theme: &super::theme::Theme,
    bar: Style,
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
        bar
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
