//! The runs panel (several runs open): one row per run — swatch, name, status, last step,
//! last value, % above clip, explosions, non-finite values, instability score — sortable, with
//! a selection; `Enter` shows the selected run in the chart. Shown when there are several
//! runs, `w` toggles it.
//!
//! The chart shows the focused run from `App::model`; the other runs' data stay in the
//! workspace. Changing the focus swaps the two, so the single-run views and their fast paths
//! are untouched.

use super::keys::{Binding, Key};
use super::theme::Theme;
use crate::numfmt::fmt_value;
use crate::run::{Instability, RunData, RunId, RunStatus, Workspace};
use crate::text::printable;
use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use std::cell::RefCell;
use std::time::Instant;

/// The order of the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunSort {
    /// Most unstable first ([`crate::run::instability`]).
    #[default]
    Instability,
    Name,
    /// Most recently updated first.
    Updated,
}

impl RunSort {
    fn next(self) -> RunSort {
        match self {
            RunSort::Instability => RunSort::Name,
            RunSort::Name => RunSort::Updated,
            RunSort::Updated => RunSort::Instability,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            RunSort::Instability => "instability",
            RunSort::Name => "name",
            RunSort::Updated => "last update",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsAction {
    Toggle,
    Up,
    Down,
    Focus,
    Sort,
    /// Lay the selected run over the chart, or take it off.
    Overlay,
    /// Lay every run over the chart (all already: only the shown one again).
    OverlayAll,
}

pub const BINDINGS: &[Binding<RunsAction>] = &[
    Binding {
        keys: &[(Key::char('w'), RunsAction::Toggle)],
        what: "show / hide the runs panel (several runs)",
    },
    Binding {
        keys: &[
            (Key::new(KeyCode::Up), RunsAction::Up),
            (Key::char('k'), RunsAction::Up),
            (Key::new(KeyCode::Down), RunsAction::Down),
            (Key::char('j'), RunsAction::Down),
        ],
        what: "select a run",
    },
    Binding {
        keys: &[(Key::new(KeyCode::Enter), RunsAction::Focus)],
        what: "show the selected run alone in the chart",
    },
    Binding {
        keys: &[(Key::char(' '), RunsAction::Overlay)],
        what: "overlay the selected run on the chart / take it off",
    },
    Binding {
        keys: &[(Key::char('a'), RunsAction::OverlayAll)],
        what: "overlay every run / none",
    },
    Binding {
        keys: &[(Key::char('o'), RunsAction::Sort)],
        what: "sort runs: instability / name / last update",
    },
];

/// A run's swatch: its colour and its marker ([`Theme::run_swatch`]), the same in the runs
/// panel and in the chart's overlay.
pub fn swatch(theme: &Theme, id: RunId) -> (char, Style) {
    theme.run_swatch(id.0)
}

/// The runs panel's state: the workspace, which run the chart shows, the selection, the
/// order.
#[derive(Debug, Clone, Default)]
pub struct RunsPanel {
    pub workspace: Workspace,
    /// The run in `App::model` (its entry in the workspace holds an empty placeholder).
    pub focus: RunId,
    /// The selected row (an index into the sorted rows).
    pub selected: usize,
    pub sort: RunSort,
    pub shown: bool,
    /// The runs laid over the chart besides the shown one (`Space`, `a`).
    pub overlay: Vec<RunId>,
    /// Each run's instability, with what it was computed from: a frame recomputes only the
    /// runs whose data changed (the score reads every point; 100 runs × 100 k points per
    /// frame would cost more than the frame).
    scores: RefCell<Vec<Option<(ScoreKey, Instability)>>>,
}

/// What a run's instability depends on: it is recomputed when one of these changes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ScoreKey {
    points: usize,
    explosions: usize,
    above: usize,
    nonfinite: usize,
    restarts: u64,
    clip: Option<u64>,
    per_epoch: bool,
}

impl ScoreKey {
    fn of(data: &RunData) -> ScoreKey {
        let s = data.primary();
        ScoreKey {
            points: s.len(),
            explosions: s.events().len(),
            above: s.above_clip(),
            nonfinite: s.nonfinite(),
            restarts: data.file_restarts,
            clip: data.clip().0.map(f64::to_bits),
            per_epoch: data.per_epoch(),
        }
    }
}

impl RunsPanel {
    /// Several runs: the panel is shown.
    pub fn new(workspace: Workspace) -> Self {
        let shown = workspace.len() > 1;
        RunsPanel {
            workspace,
            shown,
            ..Default::default()
        }
    }

    /// Run `id`'s instability (cached while its data does not change).
    pub fn instability(&self, id: RunId, data: &RunData) -> Instability {
        let key = ScoreKey::of(data);
        let mut scores = self.scores.borrow_mut();
        if scores.len() <= id.0 {
            scores.resize(id.0 + 1, None);
        }
        match scores[id.0] {
            Some((k, i)) if k == key => i,
            _ => {
                let i = Instability::of(data);
                scores[id.0] = Some((key, i));
                i
            }
        }
    }

    /// Whether the panel takes room in tab 1.
    pub fn visible(&self) -> bool {
        self.shown && self.workspace.len() > 1
    }

    /// The rows in order, each run's data taken from `focused` for the focused run.
    pub fn rows<'a>(&'a self, focused: &'a RunData) -> Vec<(RunId, &'a RunData)> {
        let data = |id: RunId| -> &'a RunData {
            if id == self.focus {
                focused
            } else {
                self.workspace.get(id).map_or(focused, |m| &m.run.data)
            }
        };
        let mut ids: Vec<RunId> = self.workspace.members().map(|(id, _)| id).collect();
        let titles: Vec<String> = self.workspace.members().map(|(_, m)| m.title()).collect();
        let name = |id: RunId| titles.get(id.0).map_or("", |t| t.as_str());
        match self.sort {
            RunSort::Name => ids.sort_by(|a, b| name(*a).cmp(name(*b))),
            RunSort::Updated => {
                let at = |id: RunId| self.workspace.get(id).and_then(|m| m.updated);
                ids.sort_by(|a, b| at(*b).cmp(&at(*a)).then(name(*a).cmp(name(*b))));
            }
            RunSort::Instability => {
                let scores: Vec<f64> = ids
                    .iter()
                    .map(|id| self.instability(*id, data(*id)).score)
                    .collect();
                let mut order: Vec<usize> = (0..ids.len()).collect();
                order.sort_by(|a, b| {
                    scores[*b]
                        .total_cmp(&scores[*a])
                        .then(name(ids[*a]).cmp(name(ids[*b])))
                });
                ids = order.into_iter().map(|i| ids[i]).collect();
            }
        }
        ids.into_iter().map(|id| (id, data(id))).collect()
    }

    /// Applies an action; `Some(new focus)` when the chart must show another run.
    pub fn handle(&mut self, a: RunsAction, focused: &RunData) -> Option<RunId> {
        let n = self.workspace.len();
        match a {
            RunsAction::Toggle => self.shown = !self.shown,
            RunsAction::Up => self.selected = self.selected.saturating_sub(1),
            RunsAction::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            RunsAction::Sort => self.sort = self.sort.next(),
            RunsAction::Focus => {
                self.overlay.clear();
                let id = self.rows(focused).get(self.selected).map(|r| r.0)?;
                return (id != self.focus).then_some(id);
            }
            RunsAction::Overlay => {
                let id = self.rows(focused).get(self.selected).map(|r| r.0)?;
                if let Some(i) = self.overlay.iter().position(|o| *o == id) {
                    self.overlay.remove(i);
                } else if id != self.focus {
                    self.overlay.push(id);
                }
            }
            RunsAction::OverlayAll => {
                let others: Vec<RunId> = self
                    .workspace
                    .members()
                    .map(|(id, _)| id)
                    .filter(|id| *id != self.focus)
                    .collect();
                let all = others.iter().all(|id| self.overlay.contains(id));
                self.overlay = if all { Vec::new() } else { others };
            }
        }
        None
    }

    /// Rows the panel wants: a header and one per run, at most a third of `body`.
    pub fn height(&self, body: Rect) -> u16 {
        if !self.visible() {
            return 0;
        }
        (self.workspace.len() as u16 + 1)
            .min(body.height / 3)
            .max(2)
    }

    pub fn render(
        &self,
        focused: &RunData,
        theme: &Theme,
        now: Instant,
        area: Rect,
        buf: &mut Buffer,
    ) {
        let rows = self.rows(focused);
        let name_w = rows
            .iter()
            .filter_map(|(id, _)| self.workspace.get(*id))
            .map(|m| printable(&m.title()).chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, (area.width as usize / 3).max(4));
        let mut lines = vec![Line::styled(
            format!(
                "    {:<name_w$} {:<9} {:>8} {:>9} {:>6} {:>4} {:>4} {:>6}  ↓{}",
                "run",
                "status",
                "step",
                "last",
                ">clip",
                "expl",
                "nan",
                "score",
                self.sort.word()
            ),
            theme.dim,
        )];
        let visible = area.height.saturating_sub(1) as usize;
        let first = self.selected.saturating_sub(visible.saturating_sub(1));
        for (row, (id, data)) in rows.iter().enumerate().skip(first).take(visible) {
            let Some(m) = self.workspace.get(*id) else {
                continue;
            };
            let s = data.primary();
            let i = self.instability(*id, data);
            let last = s.len().checked_sub(1);
            let status = match m.status_of(data, now) {
                RunStatus::Stalled(at) => {
                    format!(
                        "stalled {}m",
                        now.saturating_duration_since(at).as_secs() / 60
                    )
                }
                st => st.word().to_string(),
            };
            let name: String = printable(&m.title()).chars().take(name_w).collect();
            let (mark, style) = swatch(theme, *id);
            let focus = if *id == self.focus { '▶' } else { ' ' };
            let text = format!(
                " {name:<name_w$} {status:<9} {:>8} {:>9} {:>6} {:>4} {:>4} {:>6.1}",
                last.and_then(|l| s.step(l))
                    .map_or("—".into(), |v| v.to_string()),
                last.and_then(|l| s.value(l)).map_or("—".into(), fmt_value),
                i.clipped_pct.map_or("—".into(), |p| format!("{p:.1}%")),
                i.explosions,
                i.nonfinite,
                i.score,
            );
            let text_style = if row == self.selected {
                theme.selected
            } else {
                Style::default()
            };
            lines.push(Line::from(vec![
                Span::raw(format!("{focus} ")),
                Span::styled(mark.to_string(), style),
                Span::styled(text, text_style),
            ]));
        }
        Paragraph::new(lines).render(area, buf);
    }
}
