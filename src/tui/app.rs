//! The TUI's state, in one place, and how events and keys change it. Rendering is a pure
//! function of this state (see `tui::render`).

use super::gnorm_tab::{ChartAction, GnormPanel};
use super::keys::{self, Global};
use super::panel::{Handling, Panel};
use super::similarity_panel::SimAction;
use super::theme::Theme;
use crate::ingest::follow::IngestEvent;
use crate::run::RunData;
use crate::view::XWindow;
use crossterm::event::{KeyEvent, KeyEventKind};
use ratatui::layout::Rect;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The two tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Gnorm,
    Similarity,
}

/// An action for the app (global keys) or for one panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Global(Global),
    Chart(ChartAction),
    Similarity(SimAction),
    Runs(super::runs_table::RunsAction),
}

impl From<Global> for Action {
    fn from(a: Global) -> Self {
        Action::Global(a)
    }
}

impl From<ChartAction> for Action {
    fn from(a: ChartAction) -> Self {
        Action::Chart(a)
    }
}

impl From<SimAction> for Action {
    fn from(a: SimAction) -> Self {
        Action::Similarity(a)
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
    /// Tab 1's state.
    pub gnorm: GnormPanel,
    /// Tab 2's state.
    pub sim: super::similarity_tab::SimState,
    /// The runs open (several: the runs panel); the chart shows the focused one, `model`.
    pub runs: super::runs_table::RunsPanel,
    pub tab: Tab,
    /// The x-window the chart panels share.
    pub view: XWindow,
    pub help: bool,
    pub theme: Theme,
    pub status: Status,
    /// A line that must be seen, e.g. "SIMULATED DATA" for the demo.
    pub banner: Option<String>,
    pub quit: bool,
    /// The clock used for "updated 5s ago" (set before each draw; fixed in tests).
    pub now: Instant,
    /// The frame size, set on start and on resize: handlers lay out against it, so nothing
    /// has to be remembered while drawing.
    pub area: Rect,
}

impl App {
    pub fn new(model: RunData, theme: Theme) -> Self {
        App {
            model,
            gnorm: GnormPanel::default(),
            sim: Default::default(),
            runs: Default::default(),
            tab: Tab::Gnorm,
            view: XWindow::default(),
            help: false,
            theme,
            status: Status::default(),
            banner: None,
            quit: false,
            now: Instant::now(),
            area: Rect::new(0, 0, 80, 24),
        }
    }

    /// The terminal's new size.
    pub fn resize(&mut self, area: Rect) {
        self.area = area;
    }

    /// The area the active tab gets in the current frame size.
    pub fn body(&self) -> Rect {
        super::render::frame_layout(self, self.area).body
    }

    /// Plot width of tab 1's chart in the current frame size.
    pub fn plot_width(&self) -> usize {
        GnormPanel::plot_width(&self.model, &self.status, self.body())
    }

    /// What tab 2's checkpoint follower should compute for the current frame size.
    pub fn sim_view(&self) -> crate::checkpoint::follow::View {
        self.sim.view(super::similarity_tab::fit(self.body()))
    }

    /// The action a key press asks for: a global key, else the active panel's.
    pub fn action_for(&self, key: &KeyEvent) -> Option<Action> {
        if self.tab == Tab::Gnorm && self.gnorm.picker.open {
            let a = keys::lookup(super::picker::BINDINGS, key);
            return a.map(|a| Action::Chart(ChartAction::Pick(a)));
        }
        if let Some(g) = keys::lookup(keys::GLOBAL, key) {
            return Some(g.into());
        }
        if self.tab == Tab::Gnorm && self.runs.workspace.len() > 1 {
            if let Some(a) = keys::lookup(super::runs_table::BINDINGS, key) {
                return Some(Action::Runs(a));
            }
        }
        match self.tab {
            Tab::Gnorm => self.gnorm.action(key).map(Action::from),
            Tab::Similarity => self.sim.action(key).map(Action::from),
        }
    }

    /// Handles a key press; false when it meant nothing (no redraw needed).
    pub fn on_key(&mut self, key: KeyEvent) -> bool {
        if key.kind == KeyEventKind::Release {
            return false;
        }
        match self.action_for(&key) {
            Some(a) => self.on_action(a),
            // Any key closes the help, bound or not.
            None if self.help => self.help = false,
            None => return false,
        }
        true
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

    /// An event from one of the workspace's runs: the shown run's goes through
    /// [`App::on_ingest`] as with one run, another's to its data in the workspace.
    pub fn on_run_event(&mut self, ev: crate::run::RunEvent) {
        if ev.run == self.runs.focus {
            // One run: no workspace to tell.
            self.runs.workspace.observe(&ev, self.now);
            if ev.source == crate::run::SourceRole::Metrics {
                self.on_ingest(ev.event);
            }
        } else {
            self.runs.workspace.apply(ev, self.now);
        }
    }

    /// Shows run `id` in the chart: its data comes into `model`, the shown run's goes back to
    /// the workspace; the x-window fits the new run and follows it.
    pub fn focus_run(&mut self, id: crate::run::RunId) {
        let old = self.runs.focus;
        if id == old || self.runs.workspace.get(id).is_none() {
            return;
        }
        if let Some(m) = self.runs.workspace.get_mut(old) {
            std::mem::swap(&mut self.model, &mut m.run.data);
        }
        if let Some(m) = self.runs.workspace.get_mut(id) {
            std::mem::swap(&mut self.model, &mut m.run.data);
        }
        self.runs.focus = id;
        self.view = XWindow::default();
        self.status.last_data = self.runs.workspace.get(id).and_then(|m| m.updated);
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
                self.note(format!("{} — {}", r.describe(), r.what_follows()), true);
            }
            IngestEvent::Error(e) => self.status.error = Some(e),
        }
    }

    pub fn on_action(&mut self, a: impl Into<Action>) {
        let a = a.into();
        let g = |g| a == Action::Global(g);
        if self.help && !g(Global::Quit) && !g(Global::Help) {
            self.help = false;
            return;
        }
        if let Action::Global(g) = a {
            return self.global(g);
        }
        if let Action::Runs(a) = a {
            if let Some(id) = self.runs.handle(a, &self.model) {
                self.focus_run(id);
            }
            return;
        }
        let area = self.body();
        let mut cx = Handling {
            run: &self.model,
            status: &self.status,
            view: &mut self.view,
            area,
        };
        let note = match a {
            Action::Global(_) | Action::Runs(_) => None,
            Action::Chart(a) => self.gnorm.handle(a, &mut cx),
            Action::Similarity(a) => self.sim.handle(a, &mut cx),
        };
        if let Some(n) = note {
            self.note(n, false);
        }
    }

    fn global(&mut self, a: Global) {
        match a {
            Global::Quit => {
                if self.help {
                    self.help = false;
                } else {
                    self.quit = true;
                }
            }
            Global::Help => self.help = !self.help,
            Global::NextTab => {
                self.tab = match self.tab {
                    Tab::Gnorm => Tab::Similarity,
                    Tab::Similarity => Tab::Gnorm,
                }
            }
            Global::Tab1 => self.tab = Tab::Gnorm,
            Global::Tab2 => self.tab = Tab::Similarity,
            Global::Export => match self.export_figure(std::path::Path::new(".")) {
                Ok(Some(p)) => {
                    self.note(format!("wrote {}", crate::text::printable_path(&p)), false)
                }
                Ok(None) => self.note("nothing to draw yet", false),
                Err(e) => self.note(format!("figure not written: {e:#}"), true),
            },
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
                // No figure of a map whose profile (and summary) is still being computed.
                None => return Ok(None),
                Some(r) if r.map.profile_pending => return Ok(None),
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

    pub fn on_checkpoint(&mut self, ev: crate::checkpoint::follow::CheckpointEvent) {
        use crate::checkpoint::follow::CheckpointEvent as E;
        match ev {
            E::Waiting(why) => self.sim.waiting = Some(why),
            E::Computing(file) => self.sim.computing = Some(file),
            // The tab's title shows the new checkpoint's step; no note needed.
            E::Loaded { report, .. } => self.sim.loaded(report),
            E::Profiled(report) => self.sim.profiled(report),
            E::Failed { message, retrying } => {
                self.sim.computing = None;
                self.sim.failure = Some((message, retrying));
            }
            E::Listed(found) => {
                self.sim.scrub.on_listed(found);
                self.model.checkpoints = self.sim.scrub.checkpoints.clone();
            }
        }
    }
}
