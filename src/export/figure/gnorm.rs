//! The gnorm figure: gnorm against step with the clip line, above-clip points highlighted and
//! every explosion circled and annotated.

use super::*;
use crate::numfmt::{fmt_axis, fmt_value};
use crate::run::RunData;
use crate::series::{Series, FLAG_ABOVE};
use crate::text::printable_path;
use anyhow::{anyhow, Context};
use plotters::coord::Shift;
use std::path::Path;

/// Writes the gnorm figure to `path`.
pub fn gnorm_figure(
    model: &RunData,
    path: &Path,
    format: Format,
    size: (u32, u32),
) -> anyhow::Result<()> {
    register_font();
    let shown = printable_path(path);
    let r = match format {
        Format::Png => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw_gnorm(model, &root).and_then(|()| root.present().map_err(|e| anyhow!("{e}")))
        }
        Format::Svg => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw_gnorm(model, &root).and_then(|()| root.present().map_err(|e| anyhow!("{e}")))
        }
    };
    r.with_context(|| format!("writing the figure {shown}"))
}

/// The y transform: log10 when the finite positive values span more than two decades.
#[derive(Debug, Clone, Copy)]
struct Y {
    log: bool,
}

impl Y {
    fn f(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        }
    }
}

/// The figure's data ranges, shared by drawing and by [`explosion_pixels`].
#[derive(Debug, Clone, Copy)]
struct Ranges {
    y: Y,
    x: (f64, f64),
    y_range: (f64, f64),
    pad: f64,
}

fn ranges(model: &RunData) -> Ranges {
    let s = model.primary();
    let n = s.len();
    let (clip, _) = model.clip();
    let (lo, hi) = s.value_range(0..n).unwrap_or((0.0, 1.0));
    let positive_lo = s
        .values_in(0..n)
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let y = Y {
        log: positive_lo.is_finite() && hi / positive_lo > 100.0,
    };
    let mut y_lo = y
        .f(if y.log { positive_lo } else { lo.min(0.0) })
        .unwrap_or(0.0);
    let mut y_hi = y.f(hi).unwrap_or(1.0);
    if let Some(c) = clip.and_then(|c| y.f(c)) {
        y_lo = y_lo.min(c);
        y_hi = y_hi.max(c);
    }
    let pad = ((y_hi - y_lo) * 0.08).max(1e-9);
    // Headroom above the highest value for the legend and the explosion annotations.
    let y_range = (
        if y.log { y_lo - pad } else { y_lo.min(0.0) },
        y_hi + pad * 3.5,
    );
    let x_lo = s.points().map(|p| p.0).min().unwrap_or(0) as f64;
    let x_hi = s.points().map(|p| p.0).max().unwrap_or(1) as f64;
    let x_hi = if x_hi > x_lo { x_hi } else { x_lo + 1.0 };
    Ranges {
        y,
        x: (x_lo, x_hi),
        y_range,
        pad,
    }
}

type Coords =
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>;
type Chart<'a, DB> = ChartContext<'a, DB, Coords>;

fn chart_on<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    caption: String,
    r: &Ranges,
) -> Result<Chart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    ChartBuilder::on(root)
        .caption(caption, (FAMILY, 20).into_font())
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(r.x.0..r.x.1, r.y_range.0..r.y_range.1)
}

fn draw_gnorm<DB: DrawingBackend>(
    model: &RunData,
    root: &DrawingArea<DB, Shift>,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{e}");
    root.fill(&WHITE).map_err(e)?;
    let s = model.primary();
    let (clip, from) = model.clip();
    let (w, _) = root.dim_in_pixel();
    let n = s.len();
    let r = ranges(model);
    let (y, pad) = (r.y, r.pad);
    let (x_lo, x_hi) = r.x;
    let y_hi = r.y_range.1;
    let clip_text = match clip {
        Some(c) => format!("clip {} ({})", fmt_value(c), from.name()),
        None => format!("clipping off ({})", from.name()),
    };
    let title = format!(
        "{} · {} · {clip_text}",
        model.metric.label,
        printable_path(&model.source)
    );
    let mut chart = chart_on(root, title, &r).map_err(e)?;
    let axis = if model.per_epoch() {
        "num_updates (per-epoch summaries)"
    } else {
        s.step_kind().axis_label()
    };
    let metric_label = if model.metric.role == crate::core::Role::GradNorm {
        "gradient norm (before clipping)".to_string()
    } else {
        model.metric.label.clone()
    };
    let y_desc = if y.log {
        format!("{metric_label}, log scale")
    } else {
        metric_label
    };
    let y_fmt = |v: &f64| fmt_axis(if y.log { 10f64.powf(*v) } else { *v });
    chart
        .configure_mesh()
        .x_desc(axis)
        .y_desc(y_desc)
        .y_label_formatter(&y_fmt)
        .x_label_formatter(&|v| format!("{}", *v as u64))
        .label_style((FAMILY, 14).into_font())
        .axis_desc_style((FAMILY, 15).into_font())
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(e)?;

    // The series, one segment per run (a restart starts a new line), min/max enveloped when
    // there are more points than pixels.
    let per_col = (n / (2 * w.max(1) as usize)).max(1);
    let cols = s.columns(0..n, per_col);
    let mut starts: Vec<usize> = vec![0];
    starts.extend(s.restarts().iter().copied());
    starts.push(n);
    for seg in starts.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let pts: Vec<(f64, f64)> = cols
            .iter()
            .filter(|c| c.first >= a && c.first < b && c.has_finite())
            .flat_map(|c| {
                let x = s.step(c.first).unwrap_or(0) as f64;
                let mut v = vec![];
                if let Some(m) = y.f(c.max) {
                    v.push((x, m));
                }
                if per_col > 1 {
                    if let Some(m) = y.f(c.min) {
                        v.push((x, m));
                    }
                }
                v
            })
            .collect();
        chart
            .draw_series(LineSeries::new(pts, GNORM_BLUE.stroke_width(1)))
            .map_err(e)?;
    }
    // Sparse series: every point marked too.
    if n * 6 < w as usize {
        chart
            .draw_series(
                s.points()
                    .filter_map(|(x, v)| Some((x as f64, y.f(v)?)))
                    .map(|p| Circle::new(p, 2, GNORM_BLUE.filled())),
            )
            .map_err(e)?;
    }
    // The clip threshold.
    if let Some(c) = clip.and_then(|c| y.f(c)) {
        chart
            .draw_series(DashedLineSeries::new(
                [(x_lo, c), (x_hi, c)],
                8,
                5,
                CLIP_GREY.stroke_width(2),
            ))
            .map_err(e)?
            .label(format!("clip {}", fmt_value(clip.unwrap_or(0.0))))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], CLIP_GREY.stroke_width(2)));
    }
    // Values above the clip.
    let above: Vec<(f64, f64)> = cols
        .iter()
        .filter(|c| c.flags & FLAG_ABOVE != 0)
        .filter_map(|c| Some((s.step(c.first)? as f64, y.f(c.max)?)))
        .collect();
    if !above.is_empty() {
        chart
            .draw_series(
                above
                    .iter()
                    .map(|&p| Circle::new(p, 2, ABOVE_AMBER.filled())),
            )
            .map_err(e)?
            .label(format!("above clip ({})", s.above_clip()))
            .legend(|(x, y)| Circle::new((x + 10, y), 3, ABOVE_AMBER.filled()));
    }
    // NaN/inf: a mark along the top.
    let top = y_hi - pad * 0.3;
    let nonfinite: Vec<(f64, f64)> = cols
        .iter()
        .filter(|c| c.nonfinite)
        .filter_map(|c| Some((s.step(c.first)? as f64, top)))
        .collect();
    if !nonfinite.is_empty() {
        chart
            .draw_series(
                nonfinite
                    .iter()
                    .map(|&p| Cross::new(p, 4, NAN_MAGENTA.stroke_width(2))),
            )
            .map_err(e)?
            .label(format!("NaN/inf ({})", s.nonfinite()))
            .legend(|(x, y)| Cross::new((x + 10, y), 4, NAN_MAGENTA.stroke_width(2)));
    }
    // Every explosion circled and annotated with its step and peak; labels are placed where
    // they overlap neither another label nor the plot's edge (dense runs of explosions).
    let events = explosion_marks(s, y);
    if !events.is_empty() {
        let font = (FAMILY, 14).into_font().color(&EXPLOSION_RED);
        chart
            .draw_series(
                events
                    .iter()
                    .map(|(x, yv, _)| Circle::new((*x, *yv), 14, EXPLOSION_RED.stroke_width(3))),
            )
            .map_err(e)?
            .label(format!("explosion ({})", events.len()))
            .legend(|(x, y)| Circle::new((x + 10, y), 6, EXPLOSION_RED.stroke_width(2)));
        let (px, py) = chart.plotting_area().get_pixel_range();
        // Circles are obstacles too.
        let mut placed: Vec<(i32, i32, i32, i32)> = events
            .iter()
            .map(|(x, yv, _)| {
                let (cx, cy) = chart.backend_coord(&(*x, *yv));
                (cx - 16, cy - 16, cx + 16, cy + 16)
            })
            .collect();
        // Highest peaks first: they get the best places.
        let mut order: Vec<usize> = (0..events.len()).collect();
        order.sort_by(|&a, &b| events[b].1.total_cmp(&events[a].1));
        for i in order {
            let (x, yv, label) = &events[i];
            let (cx, cy) = chart.backend_coord(&(*x, *yv));
            let w = 9 * label.chars().count() as i32;
            let h = 16;
            let candidates = [
                (16, -34),
                (-16 - w, -34),
                (18, -8),
                (-18 - w, -8),
                (16, 14),
                (-16 - w, 14),
                (-w / 2, -52),
                (-w / 2, 20),
                (16, -70),
                (-16 - w, -70),
            ];
            let fits = |(dx, dy): (i32, i32)| {
                let r = (cx + dx, cy + dy, cx + dx + w, cy + dy + h);
                r.0 >= px.start
                    && r.2 <= px.end
                    && r.1 >= py.start
                    && r.3 <= py.end
                    && placed
                        .iter()
                        .all(|p| r.2 < p.0 || r.0 > p.2 || r.3 < p.1 || r.1 > p.3)
            };
            let (dx, dy) = candidates
                .iter()
                .copied()
                .find(|&c| fits(c))
                .unwrap_or(candidates[0]);
            placed.push((cx + dx, cy + dy, cx + dx + w, cy + dy + h));
            root.draw(&Text::new(label.clone(), (cx + dx, cy + dy), font.clone()))
                .map_err(e)?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FAMILY, 14).into_font())
        .draw()
        .map_err(e)?;
    Ok(())
}

/// (x, transformed y, "step S · peak P") for each explosion event.
fn explosion_marks(s: &Series, y: Y) -> Vec<(f64, f64, String)> {
    s.events()
        .iter()
        .filter_map(|ev| {
            let step = s.step(ev.peak)?;
            let yv = y.f(ev.peak_value)?;
            Some((
                step as f64,
                yv,
                format!("step {step} · peak {}", fmt_value(ev.peak_value)),
            ))
        })
        .collect()
}

/// Pixel x of each explosion's peak in a figure of `size` (for tests and the TUI export note):
/// recomputed with the same layout as [`gnorm_figure`].
pub fn explosion_pixels(model: &RunData, size: (u32, u32)) -> anyhow::Result<Vec<(i32, i32)>> {
    register_font();
    let mut buf = vec![0u8; (size.0 * size.1 * 3) as usize];
    let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
    let r = ranges(model);
    let chart = chart_on(&root, "x".into(), &r).map_err(|e| anyhow!("{e}"))?;
    Ok(explosion_marks(model.primary(), r.y)
        .into_iter()
        .map(|(x, yv, _)| chart.backend_coord(&(x, yv)))
        .collect())
}
