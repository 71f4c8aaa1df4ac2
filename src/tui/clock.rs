//! What on the screen changes with time alone: the "updated … ago" clock ([`ago`]), notes,
//! and the runs table's statuses ("stalled Nm"). The event loop wakes when the next of them
//! can change ([`next_change`]) and redraws only when this [`face`] differs from the one last
//! drawn; an idle screen with no clock is not drawn again at all.

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

/// When the text of [`ago`] next changes, for data that arrived at `at`.
fn next_tick(at: Instant, now: Instant) -> Instant {
    let secs = now.saturating_duration_since(at).as_secs();
    let next = match secs {
        0..10 => secs + 1,
        10..60 => (secs / 5 + 1) * 5,
        60..3600 => (secs / 60 + 1) * 60,
        _ => (secs / 3600 + 1) * 3600,
    };
    at + Duration::from_secs(next)
}

/// How long to wait before the time-dependent text may next change: the clock's next
/// step, a note's expiry, a live run turning stalled, a stalled run's next minute. Nothing
/// else changes with time alone, so an idle screen wakes the loop only at those instants
/// (once a minute, once the data is a minute old), not every second.
pub fn next_change(app: &App, now: Instant) -> Duration {
    let mut next = now + Duration::from_secs(60);
    if let Some(at) = app.status.last_data {
        next = next.min(next_tick(at, now));
    }
    for n in &app.status.notes {
        next = next.min(n.at + super::app::NOTE_TTL);
    }
    if app.runs.visible() {
        for (id, data) in app.runs.rows(&app.model) {
            let Some(m) = app.runs.workspace.get(id) else {
                continue;
            };
            let at = match m.status_of(data, now) {
                RunStatus::Stalled(since) => {
                    let mins = now.saturating_duration_since(since).as_secs() / 60 + 1;
                    Some(since + Duration::from_secs(mins * 60))
                }
                RunStatus::Live => m.stalls_at(),
                _ => None,
            };
            if let Some(at) = at.filter(|&t| t > now) {
                next = next.min(at);
            }
        }
    }
    // Just past the instant, so that the text has changed when the loop looks.
    (next.saturating_duration_since(now) + Duration::from_millis(2)).max(Duration::from_millis(5))
}

#[cfg(test)]
mod tests {
    use super::{ago, next_tick};
    use std::time::{Duration, Instant};

    #[test]
    fn the_clock_wakes_only_when_its_text_changes() {
        let at = Instant::now();
        let s = Duration::from_secs;
        let after = |now: u64| next_tick(at, at + s(now)).duration_since(at).as_secs();
        assert_eq!(
            [0, 9, 10, 14, 15, 59, 60, 61, 3599, 3600].map(after),
            [1, 10, 15, 15, 20, 60, 120, 120, 3600, 7200]
        );
        // At each instant the text differs from the one just before.
        for t in [10, 15, 60, 120, 3600] {
            assert_ne!(ago(t - 1), ago(t), "{t}");
        }
    }

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
