//! Key maps as data: each panel lists its bindings (keys → action, one help line each), the
//! event loop looks keys up in them and the help screen prints them, so a bound key cannot be
//! missing from `?`.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// One key, as bound: a code, and whether Ctrl must be held (other modifiers are ignored, so
/// `N`, `+` and `?` work whatever Shift reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub const fn new(code: KeyCode) -> Self {
        Key { code, ctrl: false }
    }

    pub const fn char(c: char) -> Self {
        Key::new(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Self {
        Key {
            code: KeyCode::Char(c),
            ctrl: true,
        }
    }

    /// Whether a key press is this key.
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        ev.code == self.code && (!self.ctrl || ev.modifiers.contains(KeyModifiers::CONTROL))
    }

    /// How the help screen shows the key.
    pub fn label(&self) -> String {
        let name = match self.code {
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::End => "End".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{}", name.to_uppercase())
        } else {
            name
        }
    }
}

/// One line of the help screen: the keys that do it (each with its action) and what it does.
pub struct Binding<A: 'static> {
    pub keys: &'static [(Key, A)],
    pub what: &'static str,
}

impl<A> Binding<A> {
    /// The keys as the help screen shows them.
    pub fn label(&self) -> String {
        let labels: Vec<String> = self.keys.iter().map(|(k, _)| k.label()).collect();
        labels.join(" ")
    }
}

/// The action `ev` is bound to in `bindings` (key releases never are).
pub fn lookup<A: Copy>(bindings: &[Binding<A>], ev: &KeyEvent) -> Option<A> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    bindings
        .iter()
        .flat_map(|b| b.keys.iter())
        .find(|(k, _)| k.matches(ev))
        .map(|(_, a)| *a)
}

/// What the keys that work on every tab ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    Quit,
    Help,
    NextTab,
    Tab1,
    Tab2,
    /// Write the current tab's figure (PNG) to the working directory.
    Export,
}

pub const GLOBAL: &[Binding<Global>] = &[
    Binding {
        keys: &[
            (Key::char('q'), Global::Quit),
            (Key::new(KeyCode::Esc), Global::Quit),
            (Key::ctrl('c'), Global::Quit),
        ],
        what: "quit",
    },
    Binding {
        keys: &[
            (Key::char('?'), Global::Help),
            (Key::new(KeyCode::F(1)), Global::Help),
        ],
        what: "show / hide this help",
    },
    Binding {
        keys: &[
            (Key::new(KeyCode::Tab), Global::NextTab),
            (Key::new(KeyCode::BackTab), Global::NextTab),
            (Key::char('1'), Global::Tab1),
            (Key::char('2'), Global::Tab2),
        ],
        what: "switch tab",
    },
    Binding {
        keys: &[(Key::char('e'), Global::Export)],
        what: "write the tab's figure (PNG) to the working directory",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn ctrl_is_required_only_where_bound() {
        let ctrl_c = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(GLOBAL, &ctrl_c), Some(Global::Quit));
        assert_eq!(
            lookup(GLOBAL, &press(KeyCode::Char('c'), KeyModifiers::NONE)),
            None
        );
        let shifted = press(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(lookup(GLOBAL, &shifted), Some(Global::Help));
        let mut release = press(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(lookup(GLOBAL, &release), None);
    }

    #[test]
    fn labels() {
        assert_eq!(GLOBAL[0].label(), "q Esc Ctrl-C");
        assert_eq!(GLOBAL[2].label(), "Tab S-Tab 1 2");
    }
}
