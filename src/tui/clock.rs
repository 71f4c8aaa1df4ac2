//! What on the screen changes with time alone: the "updated … ago" clock ([`ago`]), and the
//! runs table's statuses ("stalled Nm"). The event loop wakes at the next second of the clock
//! and redraws only when this [`face`] differs from the one last drawn; an idle screen with no
//! clock is not drawn again at all.

use super::App;
use crate::run::RunStatus;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

/// How long ago, as the status line shows it: seconds for the first 10 s, then in steps of
/// 5 s, then minutes, then hours (an idle screen is drawn less and less often).
pub fn ago(secs: u64) -> String {
    match secs {
        0..10 => format!("{secs}s"),
        10..60 => format!("{}s", secs / 5 * 5),
        60..3600 => format!("{}m", secs / 60),
        _ => format!("{}h", secs / 3600),
    }
}

/// A digest of the time-dependent text at `app.now` (notes are expired by the caller).
pub fn face(app: &App) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let now = app.now;
    app.status
        .last_data
        .map(|at| ago(now.saturating_duration_since(at).as_secs()))
        .hash(&mut h);
    app.status.notes.len().hash(&mut h);
    if app.runs.visible() {
        for (id, data) in app.runs.rows(&app.model) {
            let Some(m) = app.runs.workspace.get(id) else {
                continue;
            };
            match m.status_of(data, now) {
                RunStatus::Stalled(at) => 1 + now.saturating_duration_since(at).as_secs() / 60,
                st => st.word().len() as u64 + 1_000_000,
            }
            .hash(&mut h);
        }
    }
    h.finish()
}

/// How long to wait before the time-dependent text may next change: the next whole second of
/// the clock when it is shown, else a second (statuses turn "stalled" at whole seconds of
/// silence at the finest).
pub fn next_change(app: &App, now: Instant) -> Duration {
    let second = Duration::from_secs(1);
    match app.status.last_data {
        Some(at) => {
            let into = now.saturating_duration_since(at).subsec_nanos();
            second - Duration::from_nanos(u64::from(into))
        }
        None => second,
    }
    .max(Duration::from_millis(5))
}

#[cfg(test)]
mod tests {
    use super::ago;

    #[test]
    fn the_clock_gets_coarser_as_the_data_gets_older() {
        let shown: Vec<String> = [0, 9, 10, 14, 15, 59, 60, 119, 3599, 3600, 7300]
            .into_iter()
            .map(ago)
            .collect();
        assert_eq!(
            shown,
            ["0s", "9s", "10s", "10s", "15s", "55s", "1m", "1m", "59m", "1h", "2h"]
        );
    }
}
