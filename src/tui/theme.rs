//! Every colour the TUI uses, in one place, for three kinds of terminal: truecolor, the 256
//! colours tmux offers by default, and none (`NO_COLOR`), where glyphs carry the meaning.

use ratatui::style::{Color, Modifier, Style};

/// What the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    TrueColor,
    Ansi256,
    None,
}

/// What the user asked for (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    TrueColor,
    Ansi256,
    None,
}

impl ColorChoice {
    /// `auto`: `NO_COLOR` (any non-empty value) wins, then `COLORTERM=truecolor|24bit`, else
    /// 256 colours (what tmux and most SSH terminals show).
    pub fn resolve(self, no_color: Option<&str>, colorterm: Option<&str>) -> ColorMode {
        match self {
            ColorChoice::TrueColor => ColorMode::TrueColor,
            ColorChoice::Ansi256 => ColorMode::Ansi256,
            ColorChoice::None => ColorMode::None,
            ColorChoice::Auto => {
                if no_color.is_some_and(|v| !v.is_empty()) {
                    ColorMode::None
                } else if colorterm.is_some_and(|v| {
                    let v = v.to_ascii_lowercase();
                    v == "truecolor" || v == "24bit"
                }) {
                    ColorMode::TrueColor
                } else {
                    ColorMode::Ansi256
                }
            }
        }
    }

    pub fn from_env(self) -> ColorMode {
        self.resolve(
            std::env::var("NO_COLOR").ok().as_deref(),
            std::env::var("COLORTERM").ok().as_deref(),
        )
    }
}

/// The nearest of xterm's 256 colours to an RGB triple (the 6×6×6 cube or the grey ramp).
pub fn rgb_to_256(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    fn nearest_level(v: u8) -> usize {
        LEVELS
            .iter()
            .enumerate()
            .min_by_key(|(_, &l)| (l as i32 - v as i32).abs())
            .map_or(0, |(i, _)| i)
    }
    let (ri, gi, bi) = (nearest_level(r), nearest_level(g), nearest_level(b));
    let cube = (LEVELS[ri], LEVELS[gi], LEVELS[bi]);
    let dist = |c: (u8, u8, u8)| {
        let d = |a: u8, b: u8| (a as i32 - b as i32).pow(2);
        d(c.0, r) + d(c.1, g) + d(c.2, b)
    };
    let avg = (r as u32 + g as u32 + b as u32) / 3;
    let grey_i = ((avg.saturating_sub(8)) / 10).min(23) as u8;
    let grey_v = 8 + 10 * grey_i;
    if dist((grey_v, grey_v, grey_v)) < dist(cube) {
        232 + grey_i
    } else {
        16 + 36 * ri as u8 + 6 * gi as u8 + bi as u8
    }
}

/// Colours by role.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub mode: ColorMode,
    pub bar: Style,
    pub above: Style,
    pub explosion: Style,
    pub nonfinite: Style,
    pub threshold: Style,
    pub ema: Style,
    pub restart: Style,
    pub axis: Style,
    pub title: Style,
    pub tab_active: Style,
    pub tab: Style,
    pub dim: Style,
    pub warn: Style,
    pub banner: Style,
    pub selected: Style,
}

impl Theme {
    pub fn new(mode: ColorMode) -> Self {
        let c = |r: u8, g: u8, b: u8| -> Color {
            match mode {
                ColorMode::TrueColor => Color::Rgb(r, g, b),
                ColorMode::Ansi256 => Color::Indexed(rgb_to_256(r, g, b)),
                ColorMode::None => Color::Reset,
            }
        };
        if mode == ColorMode::None {
            let plain = Style::default();
            return Theme {
                mode,
                bar: plain,
                above: plain,
                explosion: plain.add_modifier(Modifier::BOLD),
                nonfinite: plain.add_modifier(Modifier::BOLD),
                threshold: plain,
                ema: plain.add_modifier(Modifier::BOLD),
                restart: plain,
                axis: plain,
                title: plain.add_modifier(Modifier::BOLD),
                tab_active: plain.add_modifier(Modifier::REVERSED),
                tab: plain,
                dim: plain,
                warn: plain.add_modifier(Modifier::BOLD),
                banner: plain.add_modifier(Modifier::REVERSED),
                selected: plain.add_modifier(Modifier::REVERSED),
            };
        }
        Theme {
            mode,
            bar: Style::default().fg(c(86, 156, 214)),
            above: Style::default().fg(c(240, 180, 50)),
            explosion: Style::default()
                .fg(c(255, 70, 70))
                .add_modifier(Modifier::BOLD),
            nonfinite: Style::default()
                .fg(c(215, 95, 255))
                .add_modifier(Modifier::BOLD),
            threshold: Style::default().fg(c(200, 200, 200)),
            ema: Style::default().fg(c(255, 255, 255)),
            restart: Style::default().fg(c(120, 200, 120)),
            axis: Style::default().fg(c(150, 150, 150)),
            title: Style::default()
                .fg(c(255, 255, 255))
                .add_modifier(Modifier::BOLD),
            tab_active: Style::default()
                .fg(c(0, 0, 0))
                .bg(c(86, 156, 214))
                .add_modifier(Modifier::BOLD),
            tab: Style::default().fg(c(180, 180, 180)),
            dim: Style::default().fg(c(130, 130, 130)),
            warn: Style::default()
                .fg(c(240, 180, 50))
                .add_modifier(Modifier::BOLD),
            banner: Style::default()
                .fg(c(0, 0, 0))
                .bg(c(240, 180, 50))
                .add_modifier(Modifier::BOLD),
            selected: Style::default().add_modifier(Modifier::REVERSED),
        }
    }

    /// The bars of tab 1's `k`-th panel under the charted metric (Okabe–Ito's bluish green,
    /// reddish purple and vermillion: told apart from the charted metric's blue, and from
    /// each other, with any colour vision).
    pub fn panel_bar(&self, k: usize) -> Style {
        const PANELS: [(u8, u8, u8); 3] = [(0, 158, 115), (204, 121, 167), (213, 94, 0)];
        let (r, g, b) = PANELS[k % PANELS.len()];
        match self.mode {
            ColorMode::None => Style::default(),
            _ => Style::default().fg(self.rgb(r, g, b)),
        }
    }

    /// Run `index`'s swatch (the runs panel, the overlay, the legend): its colour from Okabe
    /// & Ito's colour-blind-safe palette (black left out: it is the background) and `■`;
    /// without colour, a marker glyph of its own.
    pub fn run_swatch(&self, index: usize) -> (char, Style) {
        const PALETTE: [(u8, u8, u8); 7] = [
            (230, 159, 0),
            (86, 180, 233),
            (0, 158, 115),
            (240, 228, 66),
            (0, 114, 178),
            (213, 94, 0),
            (204, 121, 167),
        ];
        const MARKERS: [char; 8] = ['●', '▲', '■', '◆', '✚', '✖', '★', '▼'];
        if self.mode == ColorMode::None {
            return (MARKERS[index % MARKERS.len()], Style::default());
        }
        let (r, g, b) = PALETTE[index % PALETTE.len()];
        ('■', Style::default().fg(self.rgb(r, g, b)))
    }

    /// A colour from RGB in this theme's mode (for colour maps).
    pub fn rgb(&self, r: u8, g: u8, b: u8) -> Color {
        match self.mode {
            ColorMode::TrueColor => Color::Rgb(r, g, b),
            ColorMode::Ansi256 => Color::Indexed(rgb_to_256(r, g, b)),
            ColorMode::None => Color::Reset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_detection_honours_no_color_then_colorterm() {
        let a = ColorChoice::Auto;
        assert_eq!(a.resolve(Some("1"), Some("truecolor")), ColorMode::None);
        assert_eq!(a.resolve(Some(""), Some("truecolor")), ColorMode::TrueColor);
        assert_eq!(a.resolve(None, Some("24bit")), ColorMode::TrueColor);
        assert_eq!(a.resolve(None, None), ColorMode::Ansi256);
        assert_eq!(
            ColorChoice::None.resolve(None, Some("truecolor")),
            ColorMode::None
        );
    }

    #[test]
    fn nearest_256_colour() {
        assert_eq!(rgb_to_256(0, 0, 0), 16);
        assert_eq!(rgb_to_256(255, 255, 255), 231);
        assert_eq!(rgb_to_256(255, 0, 0), 196);
        assert_eq!(rgb_to_256(128, 128, 128), 244);
    }
}
