//! Tab 1 as a panel: the chart of the metric against step, the explosion list beside or under
//! it, and the keys that zoom, scroll, follow and jump between explosions.

use super::app::Status;
use super::chart;
use super::keys::{Binding, Key};
use super::panel::{Handling, Panel, Scene};
use crate::numfmt::fmt_value;
use crate::run::RunData;
use crate::series::Summary;
use crate::text::printable_path;
use crate::view::StepAxis;
use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Widget, Wrap};

/// Tab 1's own state (the x-window is shared: [`crate::view::XWindow`]).
#[derive(Debug, Clone, Default)]
pub struct GnormPanel {
    /// `None`: automatic (log when the values in view span more than two decades).
    pub log_scale: Option<bool>,
    pub smooth: bool,
    /// The explosion event jumped to with `n`/`N`.
    pub selected: Option<usize>,
    /// The cursor's axis position (`,` `.`; a jump puts it on the explosion's peak): its
    /// line crosses every panel and their titles read their values there. `None`: the
    /// newest point in view is read out.
    pub cursor: Option<u64>,
    /// Panels the picker removed (labels); the run keeps reading them.
    pub hidden: Vec<String>,
    /// `m`: the picker of panels.
    pub picker: super::picker::Picker,
    /// The panels the source must be read again with (the picker added a metric the run does
    /// not read yet); taken by the event loop, which restarts the follower.
    pub reread: Option<Vec<String>>,
}

/// What tab 1's keys ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartAction {
    ToggleLog,
    ZoomIn,
    ZoomOut,
    FitAll,
    ScrollLeft,
    ScrollRight,
    Follow,
    NextExplosion,
    PrevExplosion,
    ToggleSmooth,
    CursorLeft,
    CursorRight,
    OpenPicker,
    Pick(super::picker::PickerAction),
}

use ChartAction as A;

const BINDINGS: &[Binding<ChartAction>] = &[
    Binding {
        keys: &[(Key::char('l'), A::ToggleLog)],
        what: "log / linear y-scale",
    },
    Binding {
        keys: &[
            (Key::char('+'), A::ZoomIn),
            (Key::char('='), A::ZoomIn),
            (Key::char('-'), A::ZoomOut),
            (Key::char('_'), A::ZoomOut),
        ],
        what: "zoom in / out (fewer / more steps per column)",
    },
    Binding {
        keys: &[
            (Key::char('a'), A::FitAll),
            (Key::new(KeyCode::Home), A::FitAll),
        ],
        what: "fit the whole run (several runs: Home; a overlays)",
    },
    Binding {
        keys: &[
            (Key::new(KeyCode::Left), A::ScrollLeft),
            (Key::new(KeyCode::Right), A::ScrollRight),
            (Key::char('h'), A::ScrollLeft),
        ],
        what: "scroll back / forward (stops following)",
    },
    Binding {
        keys: &[
            (Key::char('f'), A::Follow),
            (Key::new(KeyCode::End), A::Follow),
        ],
        what: "follow the newest values again",
    },
    Binding {
        keys: &[
            (Key::char('n'), A::NextExplosion),
            (Key::char('N'), A::PrevExplosion),
        ],
        what: "next / previous explosion",
    },
    Binding {
        keys: &[(Key::char('s'), A::ToggleSmooth)],
        what: "EMA smoothing beside the raw values",
    },
    Binding {
        keys: &[
            (Key::char(','), A::CursorLeft),
            (Key::char('<'), A::CursorLeft),
            (Key::char('.'), A::CursorRight),
            (Key::char('>'), A::CursorRight),
        ],
        what: "move the cursor (every panel's value at its step)",
    },
    Binding {
        keys: &[(Key::char('m'), A::OpenPicker)],
        what: "pick the panels: add / remove a logged metric",
    },
];

impl GnormPanel {
    /// Whether the y-scale is logarithmic for values summarised by `sum`.
    pub fn log_effective(&self, sum: &Summary) -> bool {
        self.log_scale
            .unwrap_or_else(|| sum.min_pos.is_finite() && sum.max / sum.min_pos > 100.0)
    }

    /// Plot width in columns for the panel's `area`.
    pub fn plot_width(run: &RunData, status: &Status, area: Rect) -> usize {
        chart::plot_rect(layout(run, status, area).chart).map_or(1, |p| p.width as usize)
    }

    fn jump(&mut self, a: ChartAction, cx: &mut Handling<'_>, width: usize) -> Option<String> {
        let s = cx.run.primary();
        let events = s.events();
        if events.is_empty() {
            return Some("no explosions to jump to".into());
        }
        let n = events.len();
        let i = match (self.selected, a) {
            (None, A::NextExplosion) => 0,
            (None, _) => n - 1,
            (Some(i), A::NextExplosion) => (i + 1) % n,
            (Some(i), _) => (i + n - 1) % n,
        };
        self.selected = Some(i);
        let axis = StepAxis::new(s);
        if let Some(x) = axis.x(s, events[i].peak) {
            cx.view.centre_on(&axis, width, x);
            self.cursor = Some(x);
        }
        None
    }

    /// Moves the cursor one column (it starts at the newest point in view).
    fn move_cursor(&mut self, right: bool, cx: &Handling<'_>, width: usize) {
        let s = cx.run.primary();
        let axis = StepAxis::new(s);
        let span = cx.view.span(&axis, width);
        if span.end == 0 {
            return;
        }
        let last = span.end - 1;
        let at = self.cursor.unwrap_or(last).clamp(span.start, last);
        let per = span.per_col.max(1);
        self.cursor = Some(if right {
            at.saturating_add(per).min(last)
        } else {
            at.saturating_sub(per).max(span.start)
        });
    }
}

impl Panel for GnormPanel {
    type Action = ChartAction;

    fn title(&self) -> &'static str {
        "gnorm"
    }

    fn bindings(&self) -> &'static [Binding<ChartAction>] {
        BINDINGS
    }

    fn handle(&mut self, a: ChartAction, cx: &mut Handling<'_>) -> Option<String> {
        let s = cx.run.primary();
        let width = Self::plot_width(cx.run, cx.status, cx.area).max(1);
        let axis = StepAxis::new(s);
        let view = &mut *cx.view;
        match a {
            A::ToggleLog => {
                let span = view.span(&axis, width);
                let points = axis.points_before(s, span.start)..axis.points_before(s, span.end);
                let now = self.log_effective(&s.summary(points));
                self.log_scale = Some(!now);
            }
            A::ToggleSmooth => self.smooth = !self.smooth,
            A::ZoomIn => view.zoom_in(&axis, width),
            A::ZoomOut => view.zoom_out(&axis, width),
            A::FitAll => view.fit_all(),
            A::ScrollLeft => view.scroll_back(&axis, width),
            A::ScrollRight => view.scroll_forward(&axis, width),
            A::Follow => {
                view.follow();
                self.selected = None;
                self.cursor = None;
            }
            A::CursorLeft | A::CursorRight => self.move_cursor(a == A::CursorRight, cx, width),
            A::OpenPicker => {
                let names = super::picker::names_of(&cx.run.source);
                self.picker.open_with(cx.run, names);
            }
            A::Pick(p) => return super::picker::apply(self, p, cx.run),
            A::NextExplosion | A::PrevExplosion => return self.jump(a, cx, width),
        }
        None
    }

    fn render(&self, scene: &Scene<'_>, area: Rect, buf: &mut Buffer) {
        render(self, scene, area, buf)
    }
}

/// Where the gauge, the chart and the explosion list go in the panel's area: a pure function
/// of the frame size and the state, used by rendering and by the keys that scroll by a
/// screenful alike.
pub struct GnormLayout {
    pub gauge: Option<Rect>,
    pub body: Rect,
    pub chart: Rect,
    pub events: Option<Rect>,
}

pub fn layout(run: &RunData, status: &Status, area: Rect) -> GnormLayout {
    let mut body = area;
    let mut gauge = None;
    if status.reading.is_some() {
        let [g, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
        gauge = Some(g);
        body = rest;
    }
    let events = run.primary().events().len();
    let (chart, events) = if body.width >= 100 {
        let [c, p] = Layout::horizontal([Constraint::Min(40), Constraint::Length(30)]).areas(body);
        (c, Some(p))
    } else if body.height >= 16 {
        let h = (events.min(3) as u16 + 1).max(2);
        let [c, p] = Layout::vertical([Constraint::Min(8), Constraint::Length(h)]).areas(body);
        (c, Some(p))
    } else {
        (body, None)
    };
    GnormLayout {
        gauge,
        body,
        chart,
        events,
    }
}

fn render(panel: &GnormPanel, sc: &Scene<'_>, area: Rect, buf: &mut Buffer) {
    let s = sc.run.primary();
    let l = layout(sc.run, sc.status, area);
    if let (Some(g), Some((done, total))) = (l.gauge, sc.status.reading) {
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
            .gauge_style(sc.theme.bar)
            .render(g, buf);
    }
    if s.is_empty() {
        empty_message(sc, l.body, buf);
        return;
    }
    super::panels::render(panel, sc, l.chart, buf);
    if let Some(p) = l.events {
        render_events(panel, sc, p, buf);
    }
    if panel.picker.open {
        panel
            .picker
            .render(sc.run, &panel.hidden, sc.theme, l.body, buf);
    }
}

fn empty_message(sc: &Scene<'_>, area: Rect, buf: &mut Buffer) {
    let path = printable_path(&sc.run.source);
    let text = if sc.status.waiting {
        format!("waiting for {path} to appear…\n\n(trainwatch follows it by name: start the training job, or check the path)")
    } else if sc.status.reading.is_some() || !sc.status.following {
        format!("reading {path}…")
    } else if sc.run.format.is_none() {
        format!(
            "no {} values in {path} yet ({} lines read).\n\nWaiting for lines such as `gnorm=0.48`, `'grad_norm': 2.87` or `grad norm: 1.3`; \
             run `trainwatch gnorm {path}` to see which metrics the file has, and --metric NAME to chart one.",
            sc.run.metric.label, sc.run.lines
        )
    } else {
        format!("no {} values yet.", sc.run.metric.label)
    };
    Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .style(sc.theme.dim)
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

fn render_events(panel: &GnormPanel, sc: &Scene<'_>, area: Rect, buf: &mut Buffer) {
    let s = sc.run.primary();
    let theme = sc.theme;
    let events = s.events();
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("explosions: {}", events.len()), theme.title),
        Span::styled(if events.is_empty() { "" } else { "  n/N jump" }, theme.dim),
        Span::styled(
            if events.iter().any(|e| sc.run.last_good(e).is_some()) {
                "  ↩ last good checkpoint"
            } else {
                ""
            },
            theme.dim,
        ),
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
    if let Some(sel) = panel.selected {
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
        let mut text = format!("▼ {span} {} {:.0}×", fmt_value(e.peak_value), e.factor);
        // Where to roll back to: the newest checkpoint saved before the explosion started.
        if let Some(c) = sc.run.last_good(e) {
            let name = c.path.file_name().unwrap_or(c.path.as_os_str());
            text.push_str(&format!(
                " ↩ {}",
                crate::text::printable(&name.to_string_lossy())
            ));
        }
        let style = if panel.selected == Some(i) {
            theme.selected
        } else {
            theme.explosion
        };
        lines.push(Line::styled(text, style));
    }
    Paragraph::new(lines).render(area, buf);
}
