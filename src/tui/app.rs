//! The TUI's state, in one place, and how events and keys change it. Rendering is a pure
//! function of this state (see `tui::render`).

use super::keys::Action;
use super::theme::Theme;
use crate::ingest::follow::IngestEvent;
use crate::run::RunData;
use std::cell::Cell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The two tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Gnorm,
    Similarity,
}

/// What part of the series tab 1 shows, and how.
#[derive(Debug, Clone)]
pub struct ChartView {
    /// Points per column; `None` fits the whole run.
    pub per_col: Option<usize>,
    /// Index one past the last point shown; `None` follows the newest point.
    pub end: Option<usize>,
    /// `None`: automatic (log when the values in view span more than two decades).
    pub log_scale: Option<bool>,
    pub smooth: bool,
    /// The explosion event jumped to with `n`/`N`.
    pub selected: Option<usize>,
    /// Plot width in columns at the last draw (keys scroll by it).
    pub plot_width: Cell<usize>,
}

impl Default for ChartView {
    fn default() -> Self {
        ChartView {
            per_col: None,
            end: None,
            log_scale: None,
            smooth: false,
            selected: None,
            plot_width: Cell::new(60),
        }
    }
}

impl ChartView {
    /// Points per column that fit `len` points in `width` columns.
    pub fn fit(len: usize, width: usize) -> usize {
        len.div_ceil(width.max(1)).max(1)
    }

    /// The points per column in force, and the visible point range, for `len` points.
    pub fn window(&self, len: usize, width: usize) -> (usize, std::ops::Range<usize>) {
        let width = width.max(1);
        let fit = Self::fit(len, width);
        let per_col = self.per_col.map_or(fit, |p| p.clamp(1, fit));
        let end = self.end.map_or(len, |e| e.min(len));
        let span = per_col * width;
        // Align the window so columns keep their points as new ones arrive (no shimmer).
        let start = end.saturating_sub(span);
        (per_col, start..end)
    }

    /// Whether the y-scale is logarithmic for the values in `range`.
    pub fn log_effective(&self, s: &crate::series::Series, range: std::ops::Range<usize>) -> bool {
        self.log_scale.unwrap_or_else(|| {
            let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
            for v in s.values_in(range) {
                if v.is_finite() && v > 0.0 {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
            lo.is_finite() && hi / lo > 100.0
        })
    }

    pub fn following(&self) -> bool {
        self.end.is_none()
    }
}

/// A note shown in the status area for a while (restart, error, reload failure).
#[derive(Debug, Clone)]
pub struct Note {
    pub at: Instant,
    pub text: String,
    pub warn: bool,
}

/// How long a note stays.
pub const NOTE_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Default)]
pub struct Status {
    pub waiting: bool,
    /// Bytes read of the existing content, while reading it.
    pub reading: Option<(u64, u64)>,
    pub following: bool,
    pub error: Option<String>,
    pub last_data: Option<Instant>,
    pub notes: VecDeque<Note>,
}

pub struct App {
    pub model: RunData,
    /// Tab 2's state.
    pub sim: super::similarity_tab::SimState,
    pub tab: Tab,
    pub view: ChartView,
    pub help: bool,
    pub theme: Theme,
    pub status: Status,
    /// A line that must be seen, e.g. "SIMULATED DATA" for the demo.
    pub banner: Option<String>,
    pub quit: bool,
    /// The clock used for "updated Ns ago" (set before each draw; fixed in tests).
    pub now: Instant,
}

impl App {
    pub fn new(model: RunData, theme: Theme) -> Self {
        App {
            model,
            sim: Default::default(),
            tab: Tab::Gnorm,
            view: ChartView::default(),
            help: false,
            theme,
            status: Status::default(),
            banner: None,
            quit: false,
            now: Instant::now(),
        }
    }

    pub fn note(&mut self, text: impl Into<String>, warn: bool) {
        self.status.notes.push_back(Note {
            at: self.now,
            text: text.into(),
            warn,
        });
        while self.status.notes.len() > 4 {
            self.status.notes.pop_front();
        }
    }

    /// Drops notes older than [`NOTE_TTL`]; true when something changed.
    pub fn expire_notes(&mut self) -> bool {
        let before = self.status.notes.len();
        let now = self.now;
        self.status
            .notes
            .retain(|n| now.saturating_duration_since(n.at) < NOTE_TTL);
        before != self.status.notes.len()
    }

    pub fn on_ingest(&mut self, ev: IngestEvent) {
        match ev {
            IngestEvent::Waiting => {
                self.status.waiting = true;
                self.status.following = false;
            }
            IngestEvent::Reading { done, total } => {
                self.status.waiting = false;
                self.status.reading = (done < total).then_some((done, total));
            }
            ev @ IngestEvent::Batch(_) => {
                self.status.waiting = false;
                if self.model.apply(ev).points > 0 {
                    self.status.last_data = Some(self.now);
                }
            }
            IngestEvent::Following => {
                self.status.waiting = false;
                self.status.reading = None;
                self.status.following = true;
                self.status.error = None;
            }
            ev @ IngestEvent::Restart(r) => {
                self.model.apply(ev);
                self.note(
                    format!("{} — reading it from the start as a new run", r.describe()),
                    true,
                );
            }
            IngestEvent::Error(e) => self.status.error = Some(e),
        }
    }

    pub fn on_action(&mut self, a: Action) {
        if self.help && !matches!(a, Action::Quit | Action::Help) {
            self.help = false;
            return;
        }
        match a {
            Action::Quit => {
                if self.help {
                    self.help = false;
                } else {
                    self.quit = true;
                }
            }
            Action::Help => self.help = !self.help,
            Action::NextTab => {
                self.tab = match self.tab {
                    Tab::Gnorm => Tab::Similarity,
                    Tab::Similarity => Tab::Gnorm,
                }
            }
            Action::Tab1 => self.tab = Tab::Gnorm,
            Action::Tab2 => self.tab = Tab::Similarity,
            Action::Export => match self.export_figure(std::path::Path::new(".")) {
                Ok(Some(p)) => {
                    self.note(format!("wrote {}", crate::text::printable_path(&p)), false)
                }
                Ok(None) => self.note("nothing to draw yet", false),
                Err(e) => self.note(format!("figure not written: {e:#}"), true),
            },
            _ if self.tab == Tab::Gnorm => self.chart_action(a),
            _ => self.similarity_action(a),
        }
    }

    /// Writes the current tab's figure into `dir` under a name that does not overwrite an
    /// earlier one; `None` when there is nothing to draw yet.
    pub fn export_figure(
        &self,
        dir: &std::path::Path,
    ) -> anyhow::Result<Option<std::path::PathBuf>> {
        use crate::export::figure;
        let (stem, step) = match self.tab {
            Tab::Gnorm => {
                let s = self.model.primary();
                if s.is_empty() {
                    return Ok(None);
                }
                ("gnorm", s.step(s.len() - 1))
            }
            Tab::Similarity => match &self.sim.report {
                None => return Ok(None),
                Some(r) => ("similarity", r.title.step),
            },
        };
        let base = match step {
            Some(st) => format!("trainwatch-{stem}-step{st}"),
            None => format!("trainwatch-{stem}"),
        };
        let mut path = dir.join(format!("{base}.png"));
        let mut k = 1;
        while path.exists() {
            k += 1;
            path = dir.join(format!("{base}-{k}.png"));
        }
        match self.tab {
            Tab::Gnorm => {
                figure::gnorm_figure(&self.model, &path, figure::Format::Png, (1400, 700))?
            }
            Tab::Similarity => {
                if let Some(r) = &self.sim.report {
                    figure::similarity_figure(r, &path)?;
                }
            }
        }
        Ok(Some(std::fs::canonicalize(&path).unwrap_or(path)))
    }

    fn similarity_action(&mut self, a: Action) {
        let sim = &mut self.sim;
        match a {
            Action::Up => sim.move_cursor(-1, 0),
            Action::Down => sim.move_cursor(1, 0),
            Action::ScrollLeft => sim.move_cursor(0, -1),
            Action::ScrollRight => sim.move_cursor(0, 1),
            Action::ZoomIn => sim.zoom_in(),
            Action::ZoomOut => sim.zoom_out(),
            Action::ToggleRange => sim.fixed_range = !sim.fixed_range,
            Action::NextTensor => sim.next_tensor(),
            _ => {}
        }
    }

    pub fn on_checkpoint(&mut self, ev: crate::checkpoint::follow::CheckpointEvent) {
        use crate::checkpoint::follow::CheckpointEvent as E;
        match ev {
            E::Waiting(why) => self.sim.waiting = Some(why),
            E::Computing(file) => self.sim.computing = Some(file),
            // The tab's title shows the new checkpoint's step; no note needed.
            E::Loaded { report, .. } => self.sim.loaded(report),
            E::Failed { message, retrying } => {
                self.sim.computing = None;
                self.sim.failure = Some((message, retrying));
            }
        }
    }

    fn chart_action(&mut self, a: Action) {
        let len = self.model.primary().len();
        let width = self.view.plot_width.get().max(1);
        let (per_col, range) = self.view.window(len, width);
        let fit = ChartView::fit(len, width);
        match a {
            Action::ToggleLog => {
                let now = self.view.log_effective(self.model.primary(), range.clone());
                self.view.log_scale = Some(!now);
            }
            Action::ToggleSmooth => self.view.smooth = !self.view.smooth,
            Action::ZoomIn => self.view.per_col = Some((per_col / 2).max(1)),
            Action::ZoomOut => {
                let p = per_col.saturating_mul(2);
                self.view.per_col = if p >= fit { None } else { Some(p) };
            }
            Action::FitAll => {
                self.view.per_col = None;
                self.view.end = None;
            }
            Action::ScrollLeft => {
                let step = (per_col * width / 4).max(1);
                let min_end = (per_col * width).min(len);
                self.view.end = Some(range.end.saturating_sub(step).max(min_end));
            }
            Action::ScrollRight => {
                let step = (per_col * width / 4).max(1);
                let e = range.end + step;
                self.view.end = if e >= len { None } else { Some(e) };
            }
            Action::Follow => {
                self.view.end = None;
                self.view.selected = None;
            }
            Action::NextExplosion | Action::PrevExplosion => self.jump(a, per_col, width),
            _ => {}
        }
    }

    fn jump(&mut self, a: Action, per_col: usize, width: usize) {
        let events = self.model.primary().events();
        if events.is_empty() {
            self.note("no explosions to jump to", false);
            return;
        }
        let n = events.len();
        let i = match (self.view.selected, a) {
            (None, Action::NextExplosion) => 0,
            (None, _) => n - 1,
            (Some(i), Action::NextExplosion) => (i + 1) % n,
            (Some(i), _) => (i + n - 1) % n,
        };
        self.view.selected = Some(i);
        let peak = events[i].peak;
        let len = self.model.primary().len();
        let half = per_col * width / 2;
        let end = (peak + half).max(per_col * width).min(len);
        self.view.end = if end >= len { None } else { Some(end) };
    }
}
