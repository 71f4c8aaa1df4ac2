//! Tab 2 as a panel: the similarity map's keys wrapped around [`SimState`], whose logic stays
//! in `similarity_tab`.

use super::keys::{Binding, Key};
use super::panel::{Handling, Panel, Scene};
use super::similarity_tab::{self, SimState};
use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

/// What tab 2's keys ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimAction {
    Up,
    Down,
    Left,
    Right,
    ZoomIn,
    ZoomOut,
    ToggleRange,
    NextTensor,
    OlderCheckpoint,
    NewerCheckpoint,
    FollowNewest,
}

use SimAction as A;

const BINDINGS: &[Binding<SimAction>] = &[
    Binding {
        keys: &[
            (Key::new(KeyCode::Up), A::Up),
            (Key::new(KeyCode::Down), A::Down),
            (Key::new(KeyCode::Left), A::Left),
            (Key::new(KeyCode::Right), A::Right),
            (Key::char('k'), A::Up),
            (Key::char('j'), A::Down),
            (Key::char('h'), A::Left),
            (Key::char('l'), A::Right),
        ],
        what: "move the cursor",
    },
    Binding {
        keys: &[
            (Key::char('+'), A::ZoomIn),
            (Key::char('='), A::ZoomIn),
            (Key::char('-'), A::ZoomOut),
            (Key::char('_'), A::ZoomOut),
        ],
        what: "zoom into the positions around the cursor / back out",
    },
    Binding {
        keys: &[(Key::char('r'), A::ToggleRange)],
        what: "colour range: fixed [−1, 1] / the data's own",
    },
    Binding {
        keys: &[(Key::char('t'), A::NextTensor)],
        what: "next candidate position table",
    },
    Binding {
        keys: &[
            (Key::char('['), A::OlderCheckpoint),
            (Key::char(']'), A::NewerCheckpoint),
        ],
        what: "previous / next checkpoint; ] past the newest follows it",
    },
    Binding {
        keys: &[(Key::char('f'), A::FollowNewest)],
        what: "follow the newest checkpoint",
    },
];

impl Panel for SimState {
    type Action = SimAction;

    fn title(&self) -> &'static str {
        "similarity"
    }

    fn bindings(&self) -> &'static [Binding<SimAction>] {
        BINDINGS
    }

    fn handle(&mut self, a: SimAction, _cx: &mut Handling<'_>) -> Option<String> {
        match a {
            A::Up => self.move_cursor(-1, 0),
            A::Down => self.move_cursor(1, 0),
            A::Left => self.move_cursor(0, -1),
            A::Right => self.move_cursor(0, 1),
            A::ZoomIn => self.zoom_in(),
            A::ZoomOut => self.zoom_out(),
            A::ToggleRange => self.fixed_range = !self.fixed_range,
            A::NextTensor => self.next_tensor(),
            A::OlderCheckpoint => return self.scrub.step(-1, self.source().as_deref()),
            A::NewerCheckpoint => return self.scrub.step(1, self.source().as_deref()),
            A::FollowNewest => return self.scrub.follow_newest(),
        }
        None
    }

    fn render(&self, scene: &Scene<'_>, area: Rect, buf: &mut Buffer) {
        similarity_tab::render(self, scene.theme, area, buf)
    }
}
