//! The terminal backend: ratatui's cell diff written in as few bytes as the terminal needs.
//! Over SSH every byte is latency, and a followed log redraws a few digits per point, so the
//! fixed cost of a frame matters more than its cells. Compared with ratatui's crossterm
//! backend this one
//! - moves the cursor by the shortest sequence (`CSI n C` forward on the row, `CSI n G`, `\r`,
//!   `\r\n`, or `CSI y;x H`), or re-prints a short gap of unchanged cells of the same style
//!   when that is shorter (it keeps a copy of what the terminal shows);
//! - sets only the parts of the style that change, in one SGR sequence, and resets the style
//!   once at the end of a frame (`CSI 0 m`), not colour by colour;
//! - hides the cursor once, not every frame;
//! - wraps a frame in synchronized-update escapes only when it is large enough to be split
//!   on its way (a frame that fits in one small write reaches the terminal whole).
//!
//! Underline colours are not written (trainwatch sets none).

use super::sgr::{self, Pen};
use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::{Buffer, Cell, CellDiffOption};
use ratatui::layout::{Position, Rect, Size};
use std::io::{self, Write};

/// Frames longer than this are wrapped in synchronized-update escapes.
pub const SYNC_ABOVE: usize = 1024;

/// A ratatui backend writing to `out` (stdout in the TUI, a `Vec<u8>` in tests).
pub struct WireBackend<W: Write> {
    out: W,
    /// The frame being written (sent at [`Backend::flush`]).
    frame: Vec<u8>,
    /// What the terminal shows, when known (after a full clear, every drawn cell).
    screen: Option<Buffer>,
    pen: Pen,
    /// Where the terminal's cursor is, when known for sure.
    cursor: Option<(u16, u16)>,
    cursor_shown: Option<bool>,
    /// A fixed size (tests); `None` asks the terminal.
    fixed: Option<Size>,
}

impl<W: Write> WireBackend<W> {
    pub fn new(out: W) -> Self {
        WireBackend {
            out,
            frame: Vec::new(),
            screen: None,
            pen: Pen::default(),
            cursor: None,
            cursor_shown: None,
            fixed: None,
        }
    }

    /// A backend that does not ask a terminal its size (tests, benchmarks).
    pub fn with_size(out: W, width: u16, height: u16) -> Self {
        WireBackend {
            fixed: Some(Size { width, height }),
            ..Self::new(out)
        }
    }

    /// What was written so far.
    pub fn writer(&self) -> &W {
        &self.out
    }

    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn csi(&mut self, body: std::fmt::Arguments<'_>) {
        self.frame.extend_from_slice(b"\x1b[");
        let _ = self.frame.write_fmt(body);
    }

    /// Puts the cursor at (x, y) by the shortest way the terminal is sure to follow.
    fn move_to(&mut self, x: u16, y: u16) {
        if self.cursor == Some((x, y)) {
            return;
        }
        let absolute = if x == 0 {
            format!("{}H", y + 1)
        } else {
            format!("{};{}H", y + 1, x + 1)
        };
        let mut best = absolute;
        if let Some((cx, cy)) = self.cursor {
            let mut consider = |s: String| {
                if s.len() < best.len() {
                    best = s;
                }
            };
            if cy == y && x > cx {
                consider(format!("{}C", x - cx));
            }
            if cy == y {
                consider(format!("{}G", x + 1));
            }
            if cy == y && x > cx {
                if let Some(gap) = self.gap_text(cx, x, y) {
                    // Two bytes of `ESC [` go with every sequence above.
                    if gap.len() <= best.len() + 2 {
                        self.frame.extend_from_slice(gap.as_bytes());
                        self.cursor = Some((x, y));
                        return;
                    }
                }
            }
            if x == 0 && (y == cy || y == cy + 1) {
                let s = if y == cy { "\r" } else { "\r\n" };
                if s.len() < best.len() + 2 {
                    self.frame.extend_from_slice(s.as_bytes());
                    self.cursor = Some((x, y));
                    return;
                }
            }
        }
        self.csi(format_args!("{best}"));
        self.cursor = Some((x, y));
    }

    /// The unchanged cells `from..to` of row `y`, if printing them again leaves the screen as
    /// it is: known, one column wide each, in the pen's style.
    fn gap_text(&self, from: u16, to: u16, y: u16) -> Option<String> {
        let screen = self.screen.as_ref()?;
        let mut s = String::new();
        for x in from..to {
            let cell = screen.cell((x, y))?;
            let sym = cell.symbol();
            if cell.diff_option != CellDiffOption::None
                || Pen::of(cell) != self.pen
                || !one_column(sym)
            {
                return None;
            }
            s.push_str(sym);
            if s.len() > 12 {
                return None;
            }
        }
        Some(s)
    }

    /// Sets the terminal's style to `to` ([`sgr::change`]).
    fn set_pen(&mut self, to: Pen) {
        if to == self.pen {
            return;
        }
        let body = sgr::change(self.pen, to);
        self.csi(format_args!("{body}m"));
        self.pen = to;
    }

    /// Sends the frame: wrapped in a synchronized update when it is long.
    fn send(&mut self) -> io::Result<()> {
        if self.frame.is_empty() {
            return self.out.flush();
        }
        let sync = self.frame.len() > SYNC_ABOVE;
        if sync {
            self.out.write_all(b"\x1b[?2026h")?;
        }
        self.out.write_all(&self.frame)?;
        if sync {
            self.out.write_all(b"\x1b[?2026l")?;
        }
        self.frame.clear();
        self.out.flush()
    }

    fn size_now(&self) -> io::Result<Size> {
        match self.fixed {
            Some(s) => Ok(s),
            None => {
                let (width, height) = crossterm::terminal::size()?;
                Ok(Size { width, height })
            }
        }
    }
}

/// Whether `sym` takes exactly one column (so the cursor's column is known after it).
fn one_column(sym: &str) -> bool {
    ratatui::text::Span::raw(sym).width() == 1
}

impl<W: Write> Backend for WireBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let width = self.size_now()?.width;
        for (x, y, cell) in content {
            self.move_to(x, y);
            self.set_pen(Pen::of(cell));
            let sym = cell.symbol();
            self.frame.extend_from_slice(sym.as_bytes());
            // After a wide character, or in the last column (pending wrap), the terminal's
            // idea of the cursor may differ from ours: the next cell moves absolutely.
            self.cursor = (one_column(sym) && x + 1 < width).then_some((x + 1, y));
            if let Some(c) = self.screen.as_mut().and_then(|s| s.cell_mut((x, y))) {
                *c = cell.clone();
            }
        }
        if self.pen != Pen::default() {
            self.csi(format_args!("0m"));
            self.pen = Pen::default();
        }
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_shown != Some(false) {
            self.csi(format_args!("?25l"));
            self.cursor_shown = Some(false);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_shown != Some(true) {
            self.csi(format_args!("?25h"));
            self.cursor_shown = Some(true);
        }
        self.send()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.send()?;
        if self.fixed.is_some() {
            let (x, y) = self.cursor.unwrap_or((0, 0));
            return Ok(Position { x, y });
        }
        crossterm::cursor::position().map(|(x, y)| Position { x, y })
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let Position { x, y } = position.into();
        self.cursor = None;
        self.move_to(x, y);
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        // Erasing fills with the current background: reset it first.
        if self.pen != Pen::default() {
            self.csi(format_args!("0m"));
            self.pen = Pen::default();
        }
        let code = match clear_type {
            ClearType::All => "2J",
            ClearType::AfterCursor => "J",
            ClearType::BeforeCursor => "1J",
            ClearType::CurrentLine => "2K",
            ClearType::UntilNewLine => "K",
        };
        self.csi(format_args!("{code}"));
        self.screen = match clear_type {
            ClearType::All => {
                let s = self.size_now()?;
                Some(Buffer::empty(Rect::new(0, 0, s.width, s.height)))
            }
            // A partial erase: what the terminal shows is not tracked any more.
            _ => None,
        };
        Ok(())
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        for _ in 0..n {
            self.frame.push(b'\n');
        }
        self.cursor = None;
        self.screen = None;
        self.send()
    }

    fn size(&self) -> io::Result<Size> {
        self.size_now()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        let size = self.size_now()?;
        if self.fixed.is_some() {
            return Ok(WindowSize {
                columns_rows: size,
                pixels: Size::default(),
            });
        }
        let w = crossterm::terminal::window_size()?;
        Ok(WindowSize {
            columns_rows: size,
            pixels: Size {
                width: w.width,
                height: w.height,
            },
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}
