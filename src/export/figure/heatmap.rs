//! The similarity figure: the map in magma with a colour bar, and the similarity-vs-distance
//! profile under it.

use super::*;
use crate::text::printable_path;
use anyhow::{anyhow, Context};
use plotters::coord::Shift;
use std::path::Path;

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
