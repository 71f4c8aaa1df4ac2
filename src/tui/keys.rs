//! The key map, as data: the event loop and the help screen read the same table.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    NextTab,
    Tab1,
    Tab2,
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
    // Similarity tab.
    Up,
    Down,
    ToggleRange,
    NextTensor,
    /// Write the current tab's figure (PNG) to the working directory.
    Export,
}

/// One line of the help screen: keys as shown, what they do, the tab they apply to.
pub struct Binding {
    pub keys: &'static str,
    pub what: &'static str,
    pub tab: Option<u8>,
}

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: "q  Esc  Ctrl-C",
        what: "quit",
        tab: None,
    },
    Binding {
        keys: "?",
        what: "show / hide this help",
        tab: None,
    },
    Binding {
        keys: "Tab  1  2",
        what: "switch tab",
        tab: None,
    },
    Binding {
        keys: "l",
        what: "log / linear y-scale",
        tab: Some(1),
    },
    Binding {
        keys: "+  -",
        what: "zoom in / out (fewer / more steps per column)",
        tab: Some(1),
    },
    Binding {
        keys: "a",
        what: "fit the whole run",
        tab: Some(1),
    },
    Binding {
        keys: "←  →  h",
        what: "scroll back / forward (stops following)",
        tab: Some(1),
    },
    Binding {
        keys: "f  End",
        what: "follow the newest values again",
        tab: Some(1),
    },
    Binding {
        keys: "n  N",
        what: "next / previous explosion",
        tab: Some(1),
    },
    Binding {
        keys: "s",
        what: "EMA smoothing beside the raw values",
        tab: Some(1),
    },
    Binding {
        keys: "arrows  hjkl",
        what: "move the cursor",
        tab: Some(2),
    },
    Binding {
        keys: "+  -",
        what: "zoom into the positions around the cursor / back out",
        tab: Some(2),
    },
    Binding {
        keys: "r",
        what: "colour range: fixed [−1, 1] / the data's own",
        tab: Some(2),
    },
    Binding {
        keys: "t",
        what: "next candidate position table",
        tab: Some(2),
    },
];

/// Maps a key press to an action; `tab` is the active tab (1 or 2), since arrows and `h`/`l`
/// mean different things on the chart and on the heatmap.
pub fn action(key: KeyEvent, tab: u8) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Char('?') | KeyCode::F(1) => Action::Help,
        KeyCode::Tab | KeyCode::BackTab => Action::NextTab,
        KeyCode::Char('1') => Action::Tab1,
        KeyCode::Char('2') => Action::Tab2,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::ZoomIn,
        KeyCode::Char('-') | KeyCode::Char('_') => Action::ZoomOut,
        KeyCode::Left => Action::ScrollLeft,
        KeyCode::Right => Action::ScrollRight,
        KeyCode::Up => Action::Up,
        KeyCode::Down => Action::Down,
        KeyCode::Char('h') => Action::ScrollLeft,
        KeyCode::Char('l') if tab == 1 => Action::ToggleLog,
        KeyCode::Char('l') => Action::ScrollRight,
        KeyCode::Char('k') => Action::Up,
        KeyCode::Char('j') => Action::Down,
        KeyCode::Char('a') => Action::FitAll,
        KeyCode::Char('f') | KeyCode::End => Action::Follow,
        KeyCode::Char('n') => Action::NextExplosion,
        KeyCode::Char('N') => Action::PrevExplosion,
        KeyCode::Char('s') => Action::ToggleSmooth,
        KeyCode::Char('r') => Action::ToggleRange,
        KeyCode::Char('t') => Action::NextTensor,
        _ => return None,
    })
}
