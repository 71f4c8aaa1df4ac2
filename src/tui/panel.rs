//! A panel: one region of the screen with its own keys. It turns keys into its actions, lists
//! its bindings (the help screen prints them), changes its state only when handling an action,
//! and renders as a pure function of its state, the run and the shared x-window.

use super::app::Status;
use super::keys::{self, Binding};
use super::theme::Theme;
use crate::run::RunData;
use crate::view::XWindow;
use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

/// What a panel renders against.
pub struct Scene<'a> {
    pub run: &'a RunData,
    pub view: &'a XWindow,
    pub theme: &'a Theme,
    pub status: &'a Status,
    /// The runs laid over tab 1's chart, the shown one among them (empty: one run alone).
    pub overlay: &'a [super::panels_overlay::Overlaid<'a>],
}

/// What a panel handles an action against: the run, and the x-window it may move. `area` is
/// the panel's area in the current frame size, so keys that move by a screenful know it.
pub struct Handling<'a> {
    pub run: &'a RunData,
    pub status: &'a Status,
    pub view: &'a mut XWindow,
    pub area: Rect,
}

pub trait Panel {
    type Action: Copy + 'static;

    /// The panel's name in the tab bar and the help screen.
    fn title(&self) -> &'static str;

    /// The keys the panel handles, one help line each.
    fn bindings(&self) -> &'static [Binding<Self::Action>];

    /// The action a key press asks of this panel, if any.
    fn action(&self, key: &KeyEvent) -> Option<Self::Action> {
        keys::lookup(self.bindings(), key)
    }

    /// Applies an action; returns a note for the status area (e.g. "nothing to jump to").
    fn handle(&mut self, action: Self::Action, cx: &mut Handling<'_>) -> Option<String>;

    fn render(&self, scene: &Scene<'_>, area: Rect, buf: &mut Buffer);
}

/// A panel's bindings as help lines: (keys as shown, what they do).
pub fn help_lines<P: Panel>(p: &P) -> Vec<(String, &'static str)> {
    binding_lines(p.bindings())
}

pub fn binding_lines<A>(bindings: &[Binding<A>]) -> Vec<(String, &'static str)> {
    bindings.iter().map(|b| (b.label(), b.what)).collect()
}
