//! Bytes on the wire: the TUI's backend (`tui::backend::WireBackend`) read back through a
//! VT100 parser shows exactly what ratatui drew, and one appended point costs a few cells and
//! a few bytes per changed cell. The log is the real fairseq `simple` sample
//! (`../shared/samples/fairseq-simple-syngec/train.log`, 1101 `train_inner` lines), cut after
//! its k-th and (k+1)-th train_inner line: the states before and after one appended point.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use trainwatch::ingest::SourceSpec;
use trainwatch::run::read_once;
use trainwatch::tui::backend::WireBackend;
use trainwatch::tui::wire::WireStats;
use trainwatch::tui::{App, ColorMode, Theme};

mod common;
use common::sample;

/// The sample cut after its `k`-th train_inner line, in a temporary file.
fn log_prefix(dir: &std::path::Path, k: usize) -> std::path::PathBuf {
    let text = std::fs::read_to_string(sample("fairseq-simple-syngec/train.log")).unwrap();
    let mut out = String::new();
    let mut seen = 0;
    for line in text.lines() {
        if line.contains("train_inner") {
            if seen == k {
                break;
            }
            seen += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    let p = dir.join(format!("train-{k}.log"));
    std::fs::write(&p, out).unwrap();
    p
}

fn app(path: &std::path::Path, mode: ColorMode) -> App {
    let mut model = read_once(&SourceSpec::new(path)).unwrap();
    // The same name in both states: only the data differs.
    model.source = "train.log".into();
    let mut a = App::new(model, Theme::new(mode));
    a.status.following = true;
    a
}

fn vt_colour(c: Color) -> vt100::Color {
    let named = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match c {
        Color::Reset => vt100::Color::Default,
        Color::Indexed(i) => vt100::Color::Idx(i),
        Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
        c => vt100::Color::Idx(named.iter().position(|&n| n == c).unwrap() as u8),
    }
}

/// Every cell the parser shows equals the ratatui buffer's: symbol, colours, attributes.
fn assert_same(buf: &Buffer, screen: &vt100::Screen, what: &str) {
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let want = &buf[(x, y)];
            let got = screen.cell(y, x).unwrap();
            // The parser shows a cell never written as "", one written with a blank as " ".
            let blank = |s: &str| if s.is_empty() { " " } else { s }.to_string();
            let ctx = format!("{what}: cell ({x}, {y})");
            assert_eq!(blank(got.contents()), blank(want.symbol()), "{ctx}");
            assert_eq!(got.fgcolor(), vt_colour(want.fg), "{ctx} fg");
            assert_eq!(got.bgcolor(), vt_colour(want.bg), "{ctx} bg");
            let m = want.modifier;
            assert_eq!(got.bold(), m.contains(Modifier::BOLD), "{ctx} bold");
            assert_eq!(got.dim(), m.contains(Modifier::DIM), "{ctx} dim");
            assert_eq!(got.italic(), m.contains(Modifier::ITALIC), "{ctx} italic");
            assert_eq!(got.underline(), m.contains(Modifier::UNDERLINED), "{ctx}");
            assert_eq!(got.inverse(), m.contains(Modifier::REVERSED), "{ctx}");
        }
    }
}

fn terminal(w: u16, h: u16) -> Terminal<WireBackend<Vec<u8>>> {
    let mut t = Terminal::new(WireBackend::with_size(Vec::new(), w, h)).unwrap();
    t.clear().unwrap();
    t
}

/// Draws `app`, returns the bytes written for it.
fn frame(t: &mut Terminal<WireBackend<Vec<u8>>>, app: &App) -> (Vec<u8>, Buffer) {
    let done = t.backend().writer().len();
    let buf = t
        .draw(|f| f.render_widget(app, f.area()))
        .unwrap()
        .buffer
        .clone();
    (t.backend().writer()[done..].to_vec(), buf)
}

#[test]
fn the_terminal_shows_what_ratatui_drew_in_every_colour_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (log_prefix(dir.path(), 400), log_prefix(dir.path(), 1101));
    for mode in [ColorMode::TrueColor, ColorMode::Ansi256, ColorMode::None] {
        let (w, h) = (120, 40);
        let mut t = terminal(w, h);
        let mut vt = vt100::Parser::new(h, w, 0);
        let mut states = vec![app(&a, mode), app(&b, mode)];
        let mut help = app(&b, mode);
        help.help = true;
        states.push(help);
        states.push(app(&a, mode));
        for (i, s) in states.iter().enumerate() {
            let (bytes, buf) = frame(&mut t, s);
            vt.process(&bytes);
            assert_same(&buf, vt.screen(), &format!("{mode:?} frame {i}"));
        }
    }
}

#[test]
fn one_appended_point_changes_a_few_cells_sent_in_a_few_bytes_each() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (120, 40);
    for mode in [ColorMode::TrueColor, ColorMode::Ansi256, ColorMode::None] {
        let mut t = terminal(w, h);
        let mut vt = vt100::Parser::new(h, w, 0);
        let mut total = 0;
        let mut points = 0;
        for k in 1000..1040 {
            let before = app(&log_prefix(dir.path(), k), mode);
            let (first, prev) = frame(&mut t, &before);
            vt.process(&first);
            let after = app(&log_prefix(dir.path(), k + 1), mode);
            let (bytes, buf) = frame(&mut t, &after);
            vt.process(&bytes);
            assert_same(&buf, vt.screen(), &format!("{mode:?} point {}", k + 1));
            let diff = prev.diff(&buf);
            let changed = diff.len();
            let mut rows: Vec<u16> = diff.iter().map(|c| c.1).collect();
            rows.dedup();
            let st = WireStats::of(&bytes);
            // A new point: its column (a whole bar when it starts one), the last step under
            // the axis, and the status line's numbers.
            assert!(
                changed <= h as usize + 40,
                "{mode:?} point {}: {changed} cells, rows {rows:?}\n{}",
                k + 1,
                common::screen::text(&buf)
            );
            // Each changed cell costs its character; each run of them a move and a colour at
            // most (≤ 8 + 20 bytes); the frame one reset.
            let runs = st.move_count.max(1);
            assert!(
                st.total() <= st.text + runs * 28 + 4,
                "{mode:?} point {}: {st:?}",
                k + 1
            );
            assert_eq!(st.frames, 0, "a small frame is not wrapped: {st:?}");
            total += st.total();
            points += 1;
        }
        let mean = total / points;
        assert!(mean <= 400, "{mode:?}: {mean} bytes per point");
    }
}

#[test]
fn a_followed_zoomed_window_pages_instead_of_shifting_every_point() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (120, 40);
    let zoomed = |k: usize| {
        let mut a = app(&log_prefix(dir.path(), k), ColorMode::TrueColor);
        let spacing = trainwatch::view::StepAxis::new(a.model.primary()).spacing();
        // One point per column, following the newest.
        a.view = trainwatch::view::XWindow {
            per_col: Some(spacing),
            end: None,
        };
        a
    };
    let mut t = terminal(w, h);
    let mut vt = vt100::Parser::new(h, w, 0);
    let (first, mut prev) = frame(&mut t, &zoomed(1000));
    vt.process(&first);
    let mut big = 0;
    let n = 48;
    for k in 1001..=1000 + n {
        let (bytes, buf) = frame(&mut t, &zoomed(k));
        vt.process(&bytes);
        assert_same(&buf, vt.screen(), &format!("zoomed point {k}"));
        if prev.diff(&buf).len() > h as usize + 40 {
            big += 1;
        }
        prev = buf;
    }
    // The plot is about 80 columns wide: a page of 10 points. Every page turn redraws the
    // bars, and so does a point that is a new maximum in view (the y-range grows); without
    // pages every point shifted every bar.
    let page = (w as usize - 40) / 8;
    assert!(big <= n / page + 3, "{big} of {n} points redrew the chart");
}
