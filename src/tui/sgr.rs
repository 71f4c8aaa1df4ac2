//! SGR (select graphic rendition) sequences: the style a terminal cell is drawn in, and the
//! shortest parameters that change one style into another.

use ratatui::buffer::Cell;
use ratatui::style::{Color, Modifier};
use std::fmt::Write as _;

/// The graphic state the terminal is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pen {
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub modifier: Modifier,
}

impl Pen {
    pub fn of(cell: &Cell) -> Pen {
        let some = |c: Color| (c != Color::Reset).then_some(c);
        Pen {
            fg: some(cell.fg),
            bg: some(cell.bg),
            modifier: cell.modifier,
        }
    }
}

/// The parameters of one SGR sequence (`CSI … m`) that turns style `from` into `to`: only what
/// changes, or a reset and the whole style when that is shorter.
pub fn change(from: Pen, to: Pen) -> String {
    let mut inc = String::new();
    let removed = from.modifier - to.modifier;
    let mut add = to.modifier - from.modifier;
    let bold_dim = Modifier::BOLD | Modifier::DIM;
    if removed.intersects(bold_dim) {
        param(&mut inc, "22");
        add |= to.modifier & bold_dim;
    }
    for (m, off) in [
        (Modifier::ITALIC, "23"),
        (Modifier::UNDERLINED, "24"),
        (Modifier::SLOW_BLINK | Modifier::RAPID_BLINK, "25"),
        (Modifier::REVERSED, "27"),
        (Modifier::HIDDEN, "28"),
        (Modifier::CROSSED_OUT, "29"),
    ] {
        if removed.intersects(m) {
            param(&mut inc, off);
            add |= to.modifier & m;
        }
    }
    modifiers_on(&mut inc, add);
    if to.fg != from.fg {
        colour(&mut inc, to.fg, 30);
    }
    if to.bg != from.bg {
        colour(&mut inc, to.bg, 40);
    }
    let mut fresh = String::from("0");
    modifiers_on(&mut fresh, to.modifier);
    if to.fg.is_some() {
        colour(&mut fresh, to.fg, 30);
    }
    if to.bg.is_some() {
        colour(&mut fresh, to.bg, 40);
    }
    if fresh.len() <= inc.len() {
        fresh
    } else {
        inc
    }
}

fn param(s: &mut String, p: &str) {
    if !s.is_empty() {
        s.push(';');
    }
    s.push_str(p);
}

fn modifiers_on(s: &mut String, m: Modifier) {
    for (bit, on) in [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::SLOW_BLINK, "5"),
        (Modifier::RAPID_BLINK, "6"),
        (Modifier::REVERSED, "7"),
        (Modifier::HIDDEN, "8"),
        (Modifier::CROSSED_OUT, "9"),
    ] {
        if m.contains(bit) {
            param(s, on);
        }
    }
}

/// The SGR parameters of a colour; `base` 30 for the foreground, 40 for the background.
fn colour(s: &mut String, c: Option<Color>, base: u8) {
    if !s.is_empty() {
        s.push(';');
    }
    let named = |k: u8| {
        if k < 8 {
            base + k
        } else {
            base + 60 + k - 8
        }
    };
    let _ = match c.unwrap_or(Color::Reset) {
        Color::Reset => write!(s, "{}", base + 9),
        Color::Black => write!(s, "{}", named(0)),
        Color::Red => write!(s, "{}", named(1)),
        Color::Green => write!(s, "{}", named(2)),
        Color::Yellow => write!(s, "{}", named(3)),
        Color::Blue => write!(s, "{}", named(4)),
        Color::Magenta => write!(s, "{}", named(5)),
        Color::Cyan => write!(s, "{}", named(6)),
        Color::Gray => write!(s, "{}", named(7)),
        Color::DarkGray => write!(s, "{}", named(8)),
        Color::LightRed => write!(s, "{}", named(9)),
        Color::LightGreen => write!(s, "{}", named(10)),
        Color::LightYellow => write!(s, "{}", named(11)),
        Color::LightBlue => write!(s, "{}", named(12)),
        Color::LightMagenta => write!(s, "{}", named(13)),
        Color::LightCyan => write!(s, "{}", named(14)),
        Color::White => write!(s, "{}", named(15)),
        Color::Indexed(i) => write!(s, "{};5;{i}", base + 8),
        Color::Rgb(r, g, b) => write!(s, "{};2;{r};{g};{b}", base + 8),
    };
}

#[cfg(test)]
mod tests {
    use super::{change, Pen};
    use ratatui::style::{Color, Modifier};

    fn pen(fg: Option<Color>, bg: Option<Color>, modifier: Modifier) -> Pen {
        Pen { fg, bg, modifier }
    }

    #[test]
    fn only_what_changes_is_set() {
        let plain = Pen::default();
        let blue = pen(Some(Color::Indexed(74)), None, Modifier::empty());
        assert_eq!(change(plain, blue), "38;5;74");
        let on_black = pen(
            Some(Color::Indexed(74)),
            Some(Color::Black),
            Modifier::empty(),
        );
        assert_eq!(change(blue, on_black), "40");
        let rgb = pen(
            Some(Color::Rgb(1, 2, 3)),
            Some(Color::Black),
            Modifier::empty(),
        );
        assert_eq!(change(on_black, rgb), "38;2;1;2;3");
        assert_eq!(change(rgb, plain), "0");
        let light = pen(Some(Color::LightRed), None, Modifier::empty());
        assert_eq!(change(plain, light), "91");
        assert_eq!(change(light, blue), "38;5;74");
    }

    #[test]
    fn dropping_bold_keeps_dim_and_a_reset_wins_when_shorter() {
        let both = pen(None, None, Modifier::BOLD | Modifier::DIM);
        let dim = pen(None, None, Modifier::DIM);
        // SGR 22 ends bold and dim together: dim is set again.
        assert_eq!(change(both, dim), "0;2");
        let bold_red = pen(Some(Color::Red), None, Modifier::BOLD);
        let red = pen(Some(Color::Red), None, Modifier::empty());
        assert_eq!(change(bold_red, red), "22");
        let ul = pen(None, None, Modifier::UNDERLINED | Modifier::ITALIC);
        let it = pen(Some(Color::Gray), None, Modifier::ITALIC);
        assert_eq!(change(ul, it), "24;37");
    }
}
