//! Report figures (PNG, SVG) drawn with plotters and an embedded font, so they render on a
//! fresh machine without system fonts: gnorm against step with the clip line, above-clip points
//! highlighted and every explosion circled and annotated.

use crate::numfmt::{fmt_axis, fmt_value};
use crate::run::RunData;
use crate::series::{Series, FLAG_ABOVE};
use crate::text::printable_path;
use anyhow::{anyhow, Context};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// DejaVu Sans (Bitstream Vera licence, see assets/DejaVuSans.LICENSE).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font once for every figure.
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType file checked in with the code; failure would be a
        // build defect, and figures would then only lack text.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, FONT);
    });
}

/// Output kind, from the file name or the flag used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

pub const GNORM_BLUE: RGBColor = RGBColor(31, 119, 180);
pub const ABOVE_AMBER: RGBColor = RGBColor(230, 140, 20);
pub const EXPLOSION_RED: RGBColor = RGBColor(214, 39, 40);
pub const CLIP_GREY: RGBColor = RGBColor(90, 90, 90);
pub const NAN_MAGENTA: RGBColor = RGBColor(170, 60, 200);

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

/// Where the heatmap landed in a similarity figure: pixel origin and size of the map, and the
/// blocks per side. A block `(i, j)` covers x ∈ [x0 + j·w/B, x0 + (j+1)·w/B), likewise y.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatGeometry {
    pub x0: i32,
    pub y0: i32,
    pub w: i32,
    pub h: i32,
    pub blocks: usize,
}

impl HeatGeometry {
    /// Pixel at the centre of block `(i, j)`.
    pub fn centre(&self, i: usize, j: usize) -> (i32, i32) {
        let b = self.blocks as i32;
        let (i, j) = (i as i32, j as i32);
        (
            self.x0 + (2 * j + 1) * self.w / (2 * b),
            self.y0 + (2 * i + 1) * self.h / (2 * b),
        )
    }
}

/// Largest map drawn at full resolution; above it, block means.
pub const FULL_RESOLUTION_MAX: usize = 4096;

/// Draws the similarity figure (PNG): the map in magma with a colour bar and axes in
/// positions, and under it the similarity-vs-distance profile. Returns where the map is.
pub fn similarity_figure(
    report: &crate::checkpoint::SimilarityReport,
    path: &Path,
) -> anyhow::Result<HeatGeometry> {
    register_font();
    let b = report.map.blocks().max(1);
    // Each block gets at least one pixel, and small maps are enlarged to ~720 px.
    let scale = (720 / b).max(1) as u32;
    let heat = b as u32 * scale;
    let (left, right, top) = (90u32, 150u32, 70u32);
    let profile_h = (heat / 3).clamp(220, 420);
    let width = left + heat + right;
    let explanation = wrap_words(&report.explanation, (width as usize - 40) / EXPLAIN_CHAR_PX);
    let explain_h =
        explanation.len() as u32 * EXPLAIN_LINE_PX + 10 * explanation.len().min(1) as u32;
    let size = (width, top + heat + 90 + profile_h + explain_h);
    let shown = printable_path(path);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    let geo = draw_similarity(report, &root, (left, top, heat, profile_h))
        .and_then(|g| draw_explanation(&root, &explanation, explain_h).map(|()| g))
        .with_context(|| format!("writing the figure {shown}"))?;
    root.present()
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("writing the figure {shown}"))?;
    Ok(geo)
}

/// Line height and mean glyph width (px) of the explanation under the similarity figure.
const EXPLAIN_LINE_PX: u32 = 20;
const EXPLAIN_CHAR_PX: usize = 7;

/// The sentences broken into lines of at most `width` characters, at spaces.
fn wrap_words(sentences: &[String], width: usize) -> Vec<String> {
    let width = width.max(20);
    let mut lines = Vec::new();
    for s in sentences {
        let mut line = String::new();
        for word in s.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// The explanation's lines in the band of height `h` at the bottom of `root`.
fn draw_explanation<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lines: &[String],
    h: u32,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let (_, total_h) = root.dim_in_pixel();
    let y0 = total_h.saturating_sub(h) as i32;
    for (k, line) in lines.iter().enumerate() {
        let y = y0 + (k as u32 * EXPLAIN_LINE_PX) as i32;
        root.draw(&Text::new(line.clone(), (20, y), (FAMILY, 14).into_font()))
            .map_err(|e| anyhow!("{e}"))?;
    }
    Ok(())
}

fn draw_similarity<DB: DrawingBackend>(
    report: &crate::checkpoint::SimilarityReport,
    root: &DrawingArea<DB, Shift>,
    (left, top, heat, profile_h): (u32, u32, u32, u32),
) -> anyhow::Result<HeatGeometry>
where
    DB::ErrorType: 'static,
{
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{e}");
    root.fill(&WHITE).map_err(e)?;
    let m = &report.map;
    let b = m.blocks().max(1);
    let t = &report.title;
    let (lo, hi) = m.colour_range();
    let (rlo, rhi) = (m.rows.0 as f64, m.rows.1 as f64);
    let step = t.step.map_or(String::new(), |s| format!(" · step {s}"));
    let res = if b == m.rows.1 - m.rows.0 {
        "every pair".to_string()
    } else {
        format!("{b}×{b} block means")
    };
    let title = format!(
        "cosine similarity of positions {}–{} ({res})",
        m.rows.0, m.rows.1
    );
    let subtitle = format!("{} · {} {:?}{step}", t.tensor, t.dtype, t.shape);
    root.draw(&Text::new(title, (20, 12), (FAMILY, 18).into_font()))
        .map_err(e)?;
    root.draw(&Text::new(subtitle, (20, 36), (FAMILY, 14).into_font()))
        .map_err(e)?;

    // The map: axes from a chart whose plotting area is exactly the heat square.
    let (total_w, total_h) = root.dim_in_pixel();
    // Margins that leave a plotting area of exactly heat × heat at (left, top).
    let heat_area = root.margin(
        top,
        total_h.saturating_sub(top + heat),
        left - 70,
        total_w.saturating_sub(left + heat),
    );
    let mut chart = ChartBuilder::on(&heat_area)
        .x_label_area_size(0)
        .y_label_area_size(70)
        .top_x_label_area_size(0)
        .right_y_label_area_size(0)
        .build_cartesian_2d(rlo..rhi, rhi..rlo)
        .map_err(e)?;
    let (px, py) = chart.plotting_area().get_pixel_range();
    let geo = HeatGeometry {
        x0: px.start,
        y0: py.start,
        w: heat as i32,
        h: heat as i32,
        blocks: b,
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .y_desc("position")
        .y_labels(9)
        .y_label_formatter(&|v| format!("{}", v.round() as i64))
        .label_style((FAMILY, 13).into_font())
        .axis_desc_style((FAMILY, 14).into_font())
        .draw()
        .map_err(e)?;
    // Pixels: each block a `scale`-sized square (exact cells, no interpolation).
    for i in 0..b {
        for j in 0..b {
            let v = m.matrix[[i, j]];
            let c = crate::colormap::magma((v - lo) / (hi - lo))
                .map_or(RGBColor(128, 128, 128), |[r, g, bl]| RGBColor(r, g, bl));
            let x_a = geo.x0 + (j as i32) * geo.w / b as i32;
            let x_b = geo.x0 + (j as i32 + 1) * geo.w / b as i32;
            let y_a = geo.y0 + (i as i32) * geo.h / b as i32;
            let y_b = geo.y0 + (i as i32 + 1) * geo.h / b as i32;
            for y in y_a..y_b {
                for x in x_a..x_b {
                    root.draw_pixel((x, y), &c).map_err(e)?;
                }
            }
        }
    }
    // X labels below the map (positions), drawn by hand to sit exactly under the cells.
    let label = (FAMILY, 13).into_font();
    for k in 0..=8 {
        let pos = rlo + (rhi - rlo) * k as f64 / 8.0;
        let x = geo.x0 + (geo.w as f64 * k as f64 / 8.0) as i32;
        let y = geo.y0 + geo.h;
        root.draw(&PathElement::new([(x, y), (x, y + 5)], BLACK))
            .map_err(e)?;
        let s = format!("{}", pos.round() as i64);
        let dx = 4 * s.len() as i32;
        root.draw(&Text::new(s, (x - dx, y + 8), label.clone()))
            .map_err(e)?;
    }
    root.draw(&Text::new(
        "position",
        (geo.x0 + geo.w / 2 - 28, geo.y0 + geo.h + 26),
        (FAMILY, 14).into_font(),
    ))
    .map_err(e)?;

    // The colour bar with its range.
    let bx = geo.x0 + geo.w + 24;
    let bw = 22;
    for y in 0..geo.h {
        let f = 1.0 - y as f64 / (geo.h - 1).max(1) as f64;
        let c = crate::colormap::magma(f).map_or(WHITE, |[r, g, bl]| RGBColor(r, g, bl));
        root.draw(&PathElement::new(
            [(bx, geo.y0 + y), (bx + bw, geo.y0 + y)],
            c,
        ))
        .map_err(e)?;
    }
    root.draw(&Rectangle::new(
        [(bx, geo.y0), (bx + bw, geo.y0 + geo.h - 1)],
        BLACK.stroke_width(1),
    ))
    .map_err(e)?;
    for k in 0..=4 {
        let f = k as f64 / 4.0;
        let v = lo + (hi - lo) * (1.0 - f);
        let y = geo.y0 + (f * (geo.h - 1) as f64) as i32;
        root.draw(&PathElement::new([(bx + bw, y), (bx + bw + 5, y)], BLACK))
            .map_err(e)?;
        root.draw(&Text::new(
            format!("{v:.2}"),
            (bx + bw + 8, y - 7),
            label.clone(),
        ))
        .map_err(e)?;
    }
    root.draw(&Text::new("cosine", (bx - 2, geo.y0 - 18), label.clone()))
        .map_err(e)?;

    // The profile: mean cosine against distance |i − j|, log2 x.
    let below = total_h.saturating_sub(top + heat + 90 + profile_h);
    let prof_area = root.margin(total_h - profile_h - 10 - below, 10 + below, left - 70, 140);
    let pts: Vec<(f64, f64)> = m
        .profile
        .iter()
        .filter(|p| p.mean.is_finite() && p.distance > 0)
        .map(|p| ((p.distance as f64).log2(), p.mean))
        .collect();
    let xmax = pts.iter().map(|p| p.0).fold(1.0, f64::max);
    let ymin = pts.iter().map(|p| p.1).fold(0.0, f64::min).min(lo);
    let mut pc = ChartBuilder::on(&prof_area)
        .caption(
            format!("similarity vs distance: {}", m.summary),
            (FAMILY, 15).into_font(),
        )
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..xmax, (ymin - 0.05)..1.02)
        .map_err(e)?;
    pc.configure_mesh()
        .x_desc("distance |i − j| in positions (log scale)")
        .y_desc("mean cosine")
        .x_labels(pts.len().max(2))
        .x_label_formatter(&|v| format!("{}", 2f64.powf(*v).round() as u64))
        .label_style((FAMILY, 12).into_font())
        .axis_desc_style((FAMILY, 13).into_font())
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    pc.draw_series(DashedLineSeries::new(
        [(0.0, 0.5), (xmax, 0.5)],
        6,
        4,
        CLIP_GREY.stroke_width(1),
    ))
    .map_err(e)?;
    pc.draw_series(LineSeries::new(pts.clone(), GNORM_BLUE.stroke_width(2)))
        .map_err(e)?;
    pc.draw_series(pts.iter().map(|&p| Circle::new(p, 3, GNORM_BLUE.filled())))
        .map_err(e)?;
    Ok(geo)
}
