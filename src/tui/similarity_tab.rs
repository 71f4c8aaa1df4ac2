//! Tab 2: the cosine-similarity heatmap of the position-embedding table, in half-blocks (`▀`,
//! fg = upper matrix row, bg = lower: two rows per terminal row), `magma` colours, a colour
//! bar, position labels, a cursor, and the similarity-vs-distance summary.

pub use super::similarity_state::SimState;
use super::theme::Theme;
use crate::colormap::{density, magma};
use crate::text::printable;
use crate::tui::theme::ColorMode;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// Width of the row labels left of the map.
const LEFT: u16 = 6;
/// Width of the colour bar and its labels right of the map.
const RIGHT: u16 = 10;
/// Rows above (title, note) and below (x labels, cursor, profile) the map.
const ABOVE: u16 = 2;
const BELOW: u16 = 3;
/// Rows under the profile line for the explanation, in windows tall enough to spare them.
const EXPLAIN: u16 = 3;

/// The explanation's rows in an area `height` rows tall.
fn explain_rows(height: u16) -> u16 {
    if height >= 20 {
        EXPLAIN
    } else {
        0
    }
}

/// How many blocks fit in `area` (one per column, two per row with half blocks): the
/// follower is asked for that many, whichever tab is shown, so the map is ready at the right
/// size when the user switches to it.
pub fn fit(area: Rect) -> usize {
    let avail_w = area.width.saturating_sub(LEFT + RIGHT) as usize;
    let below = BELOW + explain_rows(area.height);
    let avail_h = 2 * area.height.saturating_sub(ABOVE + below) as usize;
    avail_w.min(avail_h).max(1)
}

pub fn render(st: &SimState, t: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(path) = &st.path else {
        Paragraph::new(
            "No checkpoint to show.\n\nStart trainwatch with --checkpoint PATH (a .safetensors file, a sharded \
             model.safetensors.index.json, or a run directory with checkpoint-<step>/ folders) to see the \
             cosine similarity of the learned position embeddings here.",
        )
        .wrap(Wrap { trim: false })
        .style(t.dim)
        .render(area, buf);
        return;
    };
    let Some(r) = &st.report else {
        let mut text = vec![];
        if let Some(w) = &st.waiting {
            text.push(Line::styled(
                format!(
                    "waiting for a checkpoint at {}…",
                    crate::text::printable_path(path)
                ),
                t.title,
            ));
            text.push(Line::styled(printable(w).into_owned(), t.dim));
        }
        if let Some(c) = &st.computing {
            text.push(Line::styled(
                format!("computing the similarity of {}…", printable(c)),
                t.dim,
            ));
        }
        if let Some((f, retrying)) = &st.failure {
            text.push(Line::styled(
                format!(
                    "{}{}",
                    printable(f),
                    if *retrying { " — retrying" } else { "" }
                ),
                t.warn,
            ));
        }
        if text.is_empty() {
            text.push(Line::styled("loading…", t.dim));
        }
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .render(area, buf);
        return;
    };
    if area.height < ABOVE + BELOW + 2 || area.width < LEFT + RIGHT + 4 {
        Paragraph::new("enlarge the window to see the map")
            .style(t.dim)
            .render(area, buf);
        return;
    }
    let m = &r.map;
    let b = m.blocks();
    let ti = &r.title;

    // Title: file, tensor, dtype, shape, rows used, step, candidate.
    let mut title = vec![
        Span::styled(printable(&ti.tensor).into_owned(), t.title),
        Span::styled(format!("  {} {:?}", ti.dtype, ti.shape), t.axis),
        Span::styled(format!("  rows {}–{}", m.rows.0, m.rows.1), t.axis),
    ];
    match st.scrub.title(st.source().as_deref(), ti.step) {
        Some((place, how)) => {
            title.push(Span::styled(format!("  {place}"), t.axis));
            title.push(Span::styled(how, t.dim));
        }
        None => {
            if let Some(s) = ti.step {
                title.push(Span::styled(format!("  step {s}"), t.axis));
            }
        }
    }
    if r.candidates.len() > 1 {
        title.push(Span::styled(
            format!(
                "  table {}/{} (t: next)",
                r.selected.map_or(0, |i| i + 1),
                r.candidates.len()
            ),
            t.dim,
        ));
    }
    title.push(Span::styled(format!("  {}", printable(&ti.file)), t.dim));
    Line::from(title).render(Rect { height: 1, ..area }, buf);
    let note_area = Rect {
        y: area.y + 1,
        height: 1,
        ..area
    };
    if let Some((f, retrying)) = &st.failure {
        // What happened first, the long file-specific reason last: narrow windows cut the end.
        let head = if *retrying {
            "reload failed, retrying; the last good map stays: "
        } else {
            "reload failed; the last good map stays: "
        };
        Line::styled(format!("{head}{}", printable(f)), t.warn).render(note_area, buf);
    } else if st.computing.is_some() {
        Line::styled("computing…", t.dim).render(note_area, buf);
    } else if !st.zoom.is_empty() {
        Line::styled(
            format!("zoomed: rows {}–{} (-: back out)", m.rows.0, m.rows.1),
            t.dim,
        )
        .render(note_area, buf);
    }

    // The colour range.
    let (lo, hi) = if st.fixed_range {
        (-1.0, 1.0)
    } else {
        m.colour_range()
    };
    let norm = |v: f64| (v - lo) / (hi - lo);
    let colour = |v: f64| -> Color {
        match magma(norm(v)) {
            Some([r, g, bl]) => t.rgb(r, g, bl),
            None => Color::DarkGray,
        }
    };
    let no_color = t.mode == ColorMode::None;

    let map_x = area.x + LEFT;
    let map_y = area.y + ABOVE;
    // The map was computed for the window at the time; if the window has shrunk since, draw
    // what fits (a recompute for the new size is already on its way).
    let below = BELOW + explain_rows(area.height);
    let rows_term = (b.div_ceil(2) as u16).min(area.height.saturating_sub(ABOVE + below).max(1));
    for tr in 0..rows_term {
        let i_top = 2 * tr as usize;
        let i_bot = i_top + 1;
        for j in 0..b {
            let x = map_x + j as u16;
            let y = map_y + tr;
            if x >= area.x + area.width || y >= area.y + area.height {
                continue;
            }
            let top = m.matrix[[i_top, j]];
            let bot = if i_bot < b {
                Some(m.matrix[[i_bot, j]])
            } else {
                None
            };
            let cell = &mut buf[(x, y)];
            if no_color {
                let v = match bot {
                    Some(bv) if !bv.is_nan() && !top.is_nan() => (top + bv) / 2.0,
                    _ => top,
                };
                cell.set_char(density(norm(v)));
            } else {
                cell.set_symbol("▀").set_fg(colour(top));
                cell.set_bg(bot.map_or(Color::Reset, colour));
            }
        }
    }
    // The cursor.
    let (ci, cj) = st.cursor;
    if ci < b && cj < b {
        let x = map_x + cj as u16;
        let y = map_y + (ci / 2) as u16;
        if x < area.x + area.width && y < area.y + area.height {
            let v = m.matrix[[ci, cj]];
            let fg = if !no_color && norm(v) > 0.6 {
                Color::Black
            } else {
                Color::White
            };
            let cell = &mut buf[(x, y)];
            cell.set_symbol(if ci % 2 == 0 { "▀" } else { "▄" });
            if no_color {
                cell.set_char('+');
            } else {
                cell.set_fg(fg);
            }
        }
    }
    // Row labels (positions) at top, middle and bottom of the map; column labels below.
    let e = &m.edges;
    let label_rows = [
        (0usize, e[0]),
        (rows_term as usize / 2, e[(b / 2).min(b)]),
        (rows_term as usize - 1, e[b]),
    ];
    for (tr, pos) in label_rows {
        let s = format!("{pos:>5}");
        put(buf, area, area.x, map_y + tr as u16, s, t.axis);
    }
    let xl_y = map_y + rows_term;
    if xl_y < area.y + area.height {
        put(buf, area, map_x, xl_y, format!("{}", e[0]), t.axis);
        let mid = format!("{}", e[b / 2]);
        put(buf, area, map_x + (b / 2) as u16, xl_y, &mid, t.axis);
        let end = format!("{}", e[b]);
        let ex = (map_x + b as u16).saturating_sub(end.len() as u16);
        if ex > map_x + (b / 2) as u16 + mid.len() as u16 {
            put(buf, area, ex, xl_y, end, t.axis);
        }
    }
    // The colour bar with its range.
    let bar_x = map_x + b as u16 + 2;
    if bar_x + 2 < area.x + area.width && rows_term > 0 {
        for tr in 0..rows_term {
            let f_top = 1.0 - (2 * tr) as f64 / (2 * rows_term as usize - 1).max(1) as f64;
            let f_bot = 1.0 - (2 * tr + 1) as f64 / (2 * rows_term as usize - 1).max(1) as f64;
            if bar_x >= area.right() || map_y + tr >= area.bottom() {
                continue;
            }
            let cell = &mut buf[(bar_x, map_y + tr)];
            if no_color {
                cell.set_char(density((f_top + f_bot) / 2.0));
            } else {
                let c = |f: f64| magma(f).map_or(Color::Reset, |[r, g, bl]| t.rgb(r, g, bl));
                cell.set_symbol("▀").set_fg(c(f_top)).set_bg(c(f_bot));
            }
        }
        let lx = bar_x + 2;
        let w = (area.x + area.width).saturating_sub(lx) as usize;
        let fmt = |v: f64| format!("{v:.2}").chars().take(w).collect::<String>();
        put(buf, area, lx, map_y, fmt(hi), t.axis);
        put(buf, area, lx, map_y + rows_term - 1, fmt(lo), t.axis);
        if rows_term > 4 {
            let range = if st.fixed_range { "fixed" } else { "data" };
            put(
                buf,
                area,
                lx,
                map_y + rows_term / 2,
                range.chars().take(w).collect::<String>(),
                t.dim,
            );
        }
    }
    // The cursor's block and value, then the profile summary.
    let info_y = xl_y + 1;
    if info_y < area.y + area.height && ci < b && cj < b {
        let v = m.matrix[[ci, cj]];
        let val = if v.is_nan() {
            "— (zero rows)".to_string()
        } else {
            format!("{v:.3}")
        };
        let text = format!(
            "cursor: positions {}–{} × {}–{}  cos {val}   r: {} range   +/-: zoom",
            e[ci],
            e[ci + 1] - 1,
            e[cj],
            e[cj + 1] - 1,
            if st.fixed_range {
                "data"
            } else {
                "fixed [−1, 1]"
            }
        );
        put(buf, area, area.x, info_y, text, Style::default());
    }
    let prof_y = info_y + 1;
    if prof_y < area.y + area.height {
        // The map comes first; the similarity-vs-distance profile may still be computed.
        let (mut text, style) = if m.profile_pending {
            ("profile…".to_string(), t.dim)
        } else {
            (m.summary.to_string(), t.title)
        };
        if !m.zero_rows.is_empty() {
            text.push_str(&format!(" · {} zero rows excluded", m.zero_rows.len()));
        }
        put(buf, area, area.x, prof_y, text, style);
    }
    // What the map says, in sentences, in the rows left under the profile line.
    let ex_y = prof_y + 1;
    if ex_y < area.bottom() && !r.explanation.is_empty() {
        let ex_area = Rect {
            y: ex_y,
            height: area.bottom() - ex_y,
            ..area
        };
        let lines = super::wrap::wrap_clipped(
            &r.explanation.join(" "),
            ex_area.width as usize,
            ex_area.height as usize,
        );
        for (i, line) in lines.into_iter().enumerate() {
            put(buf, ex_area, ex_area.x, ex_area.y + i as u16, line, t.dim);
        }
    }
}

/// Writes `s` at (x, y) clipped to `area` (outside it: nothing).
fn put(buf: &mut Buffer, area: Rect, x: u16, y: u16, s: impl AsRef<str>, style: Style) {
    if y < area.y || y >= area.bottom() || x < area.x || x >= area.right() {
        return;
    }
    buf.set_stringn(x, y, s, (area.right() - x) as usize, style);
}
