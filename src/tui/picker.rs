//! `m` on tab 1: the picker of panels. It lists every metric the run logs (the source's own
//! discovery of names, [`crate::ingest::source::Source::names`]) with the panels shown ticked;
//! toggling one hides or shows a panel the run already reads, or asks for the source to be
//! read again with one more column (the follower restarts with the new list).

use super::keys::{Binding, Key};
use super::theme::Theme;
use crate::ingest::formats::panels::resolve;
use crate::ingest::{source, SourceSpec};
use crate::run::RunData;
use crate::text::printable;
use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};
use std::path::Path;

/// Names listed at most.
const MAX_NAMES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerAction {
    Up,
    Down,
    Toggle,
    Close,
}

pub const BINDINGS: &[Binding<PickerAction>] = &[
    Binding {
        keys: &[
            (Key::new(KeyCode::Up), PickerAction::Up),
            (Key::char('k'), PickerAction::Up),
            (Key::new(KeyCode::Down), PickerAction::Down),
            (Key::char('j'), PickerAction::Down),
        ],
        what: "picker: select a metric",
    },
    Binding {
        keys: &[
            (Key::new(KeyCode::Enter), PickerAction::Toggle),
            (Key::char(' '), PickerAction::Toggle),
        ],
        what: "picker: add / remove the metric's panel",
    },
    Binding {
        keys: &[
            (Key::char('m'), PickerAction::Close),
            (Key::new(KeyCode::Esc), PickerAction::Close),
        ],
        what: "picker: close",
    },
];

/// The picker's state.
#[derive(Debug, Clone, Default)]
pub struct Picker {
    pub open: bool,
    /// The metrics listed: the run's panels first, then every other name the source logs.
    pub names: Vec<String>,
    pub selected: usize,
}

/// What toggling a metric asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// Hide the panel of this label (the run keeps reading it).
    Hide(String),
    /// Show the hidden panel of this label again.
    Show(String),
    /// Read the source again with these panels (the charted metric first).
    Read(Vec<String>),
    /// Nothing to do, and why.
    Refused(String),
}

/// Every metric name the source at `path` logs (a text log: from its first 16 MB).
pub fn names_of(path: &Path) -> Vec<String> {
    let kind = source::kind_of(path, None);
    if kind == source::SourceKind::TextLog {
        return crate::ingest::discover_names(path);
    }
    let mut src = kind.open(&SourceSpec::new(path));
    if src.poll_each(&mut |_| {}).is_err() {
        return Vec::new();
    }
    src.names()
}

impl Picker {
    /// Opens the picker on `run`, listing `logged` (the source's names) after its panels.
    pub fn open_with(&mut self, run: &RunData, logged: Vec<String>) {
        let mut names: Vec<String> = run.panels.iter().map(|p| p.key.label.clone()).collect();
        for n in logged {
            let label = resolve(&n).0;
            if label != run.metric.label && !names.iter().any(|m| resolve(m).0 == label) {
                names.push(n);
            }
        }
        names.truncate(MAX_NAMES);
        self.names = names;
        self.selected = 0;
        self.open = true;
    }

    pub fn step(&mut self, a: PickerAction) {
        let n = self.names.len();
        match a {
            PickerAction::Up => self.selected = self.selected.saturating_sub(1),
            PickerAction::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            PickerAction::Close => self.open = false,
            PickerAction::Toggle => {}
        }
    }

    /// What toggling the selected metric asks for, given the panels hidden now.
    pub fn toggle(&self, run: &RunData, hidden: &[String]) -> Pick {
        let Some(name) = self.names.get(self.selected) else {
            return Pick::Refused("no metric to pick".into());
        };
        toggle(name, run, hidden)
    }

    pub fn render(
        &self,
        run: &RunData,
        hidden: &[String],
        theme: &Theme,
        area: Rect,
        buf: &mut Buffer,
    ) {
        let w = (self
            .names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(8) as u16
            + 8)
        .clamp(24, area.width.max(1));
        let h = (self.names.len() as u16 + 3).min(area.height.max(1));
        let r = Rect {
            x: area.x + area.width.saturating_sub(w) / 2,
            y: area.y + area.height.saturating_sub(h) / 2,
            width: w,
            height: h,
        };
        Clear.render(r, buf);
        let room = h.saturating_sub(3) as usize;
        let first = self.selected.saturating_sub(room.saturating_sub(1));
        let mut lines = vec![Line::styled("Enter add/remove · m close", theme.dim)];
        for (i, n) in self.names.iter().enumerate().skip(first).take(room) {
            let label = resolve(n).0;
            let shown = run.panel(&label).is_some() && !hidden.contains(&label);
            let mark = if shown { "[x]" } else { "[ ]" };
            let style = if i == self.selected {
                theme.selected
            } else {
                ratatui::style::Style::default()
            };
            lines.push(Line::styled(format!("{mark} {}", printable(n)), style));
        }
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::ALL).title(" panels "))
            .render(r, buf);
    }
}

/// Applies a picker key to tab 1's panel state.
pub fn apply(
    panel: &mut super::gnorm_tab::GnormPanel,
    a: PickerAction,
    run: &RunData,
) -> Option<String> {
    if a != PickerAction::Toggle {
        panel.picker.step(a);
        return None;
    }
    match panel.picker.toggle(run, &panel.hidden) {
        Pick::Hide(l) => panel.hidden.push(l),
        Pick::Show(l) => panel.hidden.retain(|h| *h != l),
        Pick::Read(panels) => {
            panel.reread = Some(panels);
            panel.picker.open = false;
            return Some("reading the log again with the new panel".into());
        }
        Pick::Refused(why) => return Some(why),
    }
    None
}

/// What toggling metric `name` asks for on `run` with the panels `hidden`.
pub fn toggle(name: &str, run: &RunData, hidden: &[String]) -> Pick {
    let label = resolve(name).0;
    if label == run.metric.label {
        return Pick::Refused(format!(
            "{} is the top panel (set it with --metric)",
            printable(&label)
        ));
    }
    if run.panel(&label).is_some() {
        return if hidden.contains(&label) {
            Pick::Show(label)
        } else {
            Pick::Hide(label)
        };
    }
    let kept: Vec<String> = run
        .panels
        .iter()
        .map(|p| p.key.label.clone())
        .filter(|l| !hidden.contains(l))
        .collect();
    if kept.len() + 1 > super::panels::MAX_PANELS - 1 {
        return Pick::Refused(format!(
            "{} panels at most: remove one first",
            super::panels::MAX_PANELS
        ));
    }
    let mut read = vec![run.metric.label.clone()];
    read.extend(kept);
    read.push(name.to_string());
    Pick::Read(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> RunData {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/fairseq-simple-syngec/train.log"
        );
        let panels: Vec<String> = ["gnorm", "loss", "lr"].map(String::from).to_vec();
        crate::run::read_once(&SourceSpec::new(p).with_panels(&panels)).unwrap()
    }

    #[test]
    fn lists_the_runs_metrics_with_its_panels_first() {
        let r = run();
        let mut p = Picker::default();
        p.open_with(&r, names_of(&r.source));
        assert_eq!(&p.names[..2], ["loss", "lr"]);
        // fairseq's other train_inner fields, not the gradient norm (the top panel).
        for want in ["ppl", "wps", "loss_scale"] {
            assert!(p.names.iter().any(|n| n == want), "{want} in {:?}", p.names);
        }
        assert!(!p.names.iter().any(|n| n == "gnorm" || n == "learning_rate"));
    }

    #[test]
    fn toggling_hides_shows_rereads_and_refuses() {
        let r = run();
        assert_eq!(toggle("lr", &r, &[]), Pick::Hide("lr".into()));
        assert_eq!(
            toggle("learning_rate", &r, &["lr".into()]),
            Pick::Show("lr".into())
        );
        assert_eq!(
            toggle("ppl", &r, &["lr".into()]),
            Pick::Read(vec!["gnorm".into(), "loss".into(), "ppl".into()])
        );
        assert_eq!(
            toggle("ppl", &r, &[]),
            Pick::Read(["gnorm", "loss", "lr", "ppl"].map(String::from).to_vec())
        );
        assert!(matches!(toggle("grad_norm", &r, &[]), Pick::Refused(_)));
    }
}
