//! The terminal itself: raw mode and the alternate screen on the lean backend, restored
//! however the TUI ends (return, error, panic), and one frame drawn.

use super::{backend, App};
use crossterm::execute;
use ratatui::backend::Backend;
use ratatui::Terminal;

/// Restores the terminal however the loop ends (return, `?`, panic unwinding).
pub(super) struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        // Not `ratatui::restore()`: it reports failure on stderr, and printing to a terminal
        // that was closed panics — a second panic here aborts the process before the demo's
        // temporary folder is removed.
        let _ = ratatui::try_restore();
        let _ = execute!(std::io::stdout(), crossterm::cursor::Show);
    }
}

/// Replaces the panic hook by one that restores the terminal without printing more than the
/// message (not ratatui's, which `ratatui::init` installs: it reports a failed restore on
/// stderr, and on a closed terminal that print panics inside the hook, which aborts the
/// process — no unwinding, no cleanup).
pub(super) fn quiet_panic_restore() {
    drop(std::panic::take_hook());
    std::panic::set_hook(Box::new(|info| {
        let _ = ratatui::try_restore();
        eprint_panic(info);
    }));
}

/// The default hook's message, written without panicking when stderr is gone.
fn eprint_panic(info: &std::panic::PanicHookInfo<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{info}");
}

/// The whole terminal as a `Rect`, for laying out before drawing.
pub(super) fn frame_area<B: Backend>(
    terminal: &Terminal<B>,
) -> anyhow::Result<ratatui::layout::Rect>
where
    B::Error: Send + Sync + 'static,
{
    let s = terminal.size()?;
    Ok(ratatui::layout::Rect::new(0, 0, s.width, s.height))
}

/// What `ratatui::try_init` does (raw mode, the alternate screen), with the lean backend
/// ([`backend::WireBackend`]); the screen is cleared so the backend knows what it shows.
pub(super) fn init_terminal() -> std::io::Result<Terminal<backend::WireBackend<std::io::Stdout>>> {
    crossterm::terminal::enable_raw_mode()?;
    execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    let mut terminal = Terminal::new(backend::WireBackend::new(std::io::stdout()))?;
    // The backend's clear, not `Terminal::clear`: that one asks the terminal where its
    // cursor is first, a round trip (over SSH) that a terminal may never answer.
    terminal.backend_mut().clear()?;
    Ok(terminal)
}

/// One frame; the backend wraps it in a synchronized update when it is long.
pub(super) fn draw<B: Backend>(terminal: &mut Terminal<B>, app: &App) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    terminal.draw(|f| f.render_widget(app, f.area()))?;
    Ok(())
}
