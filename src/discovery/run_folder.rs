//! Searching a run folder: one bounded walk ([`Walk::run_folder`]: up to
//! [`crate::fswalk::MAX_DEPTH`] folders deep, at most [`crate::fswalk::MAX_ENTRIES`] entries,
//! hidden and tool folders skipped), then the sources ranked. Preferred, in order:
//! 1. a text log whose first MBs hold the metric (newest first; at most [`MAX_PROBED`] probed),
//! 2. a folder of event files naming the metric (newest first),
//! 3. a `metrics.csv` with a column of the metric (newest first),
//! 4. a `trainer_state.json` naming it (the highest `checkpoint-<step>/` first, then newest),
//!
//! then, when none names the metric yet, the best event folder, CSV or trainer state anyway:
//! the reader says what they hold. Text logs without the metric are not sources: most folders
//! hold some `*.txt`. Once a source with the metric is found, the ones below it are listed
//! without being opened.

use super::probe::{bytes_have_metric, csv_has_metric, text_has_metric};
use super::{Checkpoints, Chosen, Error, FoundCheckpoint, FoundSource, Run};
use crate::fswalk::{EntryKind, Walk, MAX_DEPTH};
use crate::ingest::source::{event_files, SourceKind};
use crate::ingest::MetricSpec;
use crate::text::printable_path;
use std::cmp::Reverse;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Text files probed at most (newest first).
pub const MAX_PROBED: usize = 64;

/// The candidates of each kind the walk saw.
#[derive(Debug, Default)]
struct Candidates {
    text: Vec<(SystemTime, PathBuf)>,
    /// Folders holding event files, in the order the walk reached them.
    event_dirs: Vec<PathBuf>,
    csv: Vec<(SystemTime, PathBuf)>,
    states: Vec<(SystemTime, PathBuf)>,
    /// The run's checkpoints, in step order.
    checkpoints: Vec<FoundCheckpoint>,
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

pub(super) fn is_text_candidate(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let ext_ok = [".log", ".out", ".txt", ".err"]
        .iter()
        .any(|e| lower.ends_with(e));
    let binary = [
        ".json",
        ".csv",
        ".safetensors",
        ".bin",
        ".pt",
        ".pth",
        ".ckpt",
        ".npy",
        ".py",
        ".sh",
        ".yaml",
        ".yml",
    ]
    .iter()
    .any(|e| lower.ends_with(e));
    ext_ok || (lower.starts_with("train") && !binary)
}

fn candidates(dir: &Path) -> Candidates {
    let mut found = Candidates::default();
    // An unreadable root holds nothing: the caller says nothing was found.
    let entries = Walk::run_folder().entries(dir).unwrap_or_default();
    found.checkpoints = super::checkpoints::from_entries(&entries);
    for e in entries.iter().filter(|e| e.kind == EntryKind::File) {
        let name = e.name.as_str();
        if name.contains("tfevents") {
            // A folder's entries come together: one look at the last folder suffices.
            if found.event_dirs.last().map(PathBuf::as_path) != Some(e.dir()) {
                found.event_dirs.push(e.dir().to_path_buf());
            }
        } else if name == "trainer_state.json" {
            found.states.push((e.modified(), e.path.clone()));
        } else if name == "metrics.csv" {
            found.csv.push((e.modified(), e.path.clone()));
        } else if is_text_candidate(name) {
            found.text.push((e.modified(), e.path.clone()));
        }
    }
    found
}

/// The newest checkpoint's trainer state: highest `checkpoint-<step>` folder, then mtime.
fn state_rank(p: &Path, t: SystemTime) -> (u64, SystemTime) {
    let step = p
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|n| crate::checkpoint::resolve::step_from_name(&n.to_string_lossy()))
        .unwrap_or(0);
    (step, t)
}

/// `(has_metric, path)` in order, probing until the first that has it (when `probe`).
fn probe_until_hit(
    paths: impl Iterator<Item = PathBuf>,
    mut probe: bool,
    has: impl Fn(&Path) -> bool,
) -> Vec<(Option<bool>, PathBuf)> {
    paths
        .map(|p| {
            let seen = probe.then(|| has(&p));
            if seen == Some(true) {
                probe = false;
            }
            (seen, p)
        })
        .collect()
}

/// Searches `dir` as a run folder (see the module documentation).
pub fn search(dir: &Path, metric: &MetricSpec) -> Result<Run, Error> {
    let mut found = candidates(dir);
    let checkpoints = Checkpoints {
        watch: None,
        found: std::mem::take(&mut found.checkpoints),
    };

    found.text.sort_by_key(|a| Reverse(a.0));
    let text = found
        .text
        .iter()
        .take(MAX_PROBED)
        .find(|(_, p)| text_has_metric(p, metric))
        .map(|(_, p)| p.clone());
    let mut probe = text.is_none();

    let mut events: Vec<(Option<bool>, SystemTime, PathBuf)> = found
        .event_dirs
        .iter()
        .map(|d| {
            let files = event_files(d);
            let has = probe.then(|| files.iter().any(|f| bytes_have_metric(f, metric)));
            let newest = files.iter().map(|f| mtime(f)).max();
            let log = match files.as_slice() {
                [one] => one.clone(),
                _ => d.clone(),
            };
            (has, newest.unwrap_or(SystemTime::UNIX_EPOCH), log)
        })
        .collect();
    events.sort_by_key(|a| Reverse((a.0 == Some(true), a.1)));
    probe &= !events.iter().any(|e| e.0 == Some(true));

    found.csv.sort_by_key(|a| Reverse(a.0));
    let csv = probe_until_hit(found.csv.into_iter().map(|c| c.1), probe, |p| {
        csv_has_metric(p, metric)
    });
    probe &= !csv.iter().any(|c| c.0 == Some(true));
    found.states.sort_by_key(|a| Reverse(state_rank(&a.1, a.0)));
    let states = probe_until_hit(found.states.into_iter().map(|s| s.1), probe, |p| {
        bytes_have_metric(p, metric)
    });

    let ranked = events
        .into_iter()
        .map(|(has, _, p)| (SourceKind::TensorBoard, has, p))
        .chain(
            csv.into_iter()
                .map(|(h, p)| (SourceKind::LightningCsv, h, p)),
        )
        .chain(
            states
                .into_iter()
                .map(|(h, p)| (SourceKind::TrainerState, h, p)),
        );
    let (with, without): (Vec<_>, Vec<_>) = ranked.partition(|s| s.1 == Some(true));
    let sources: Vec<FoundSource> = text
        .map(|p| (SourceKind::TextLog, Some(true), p))
        .into_iter()
        .chain(with)
        .chain(without)
        .map(|(kind, has_metric, path)| FoundSource {
            path,
            kind,
            has_metric,
        })
        .collect();
    if sources.is_empty() {
        return Err(Error::NothingFound {
            path: printable_path(dir),
            what: metric_words(metric),
            depth: MAX_DEPTH,
        });
    }
    Ok(Run {
        dir: Some(dir.to_path_buf()),
        sources,
        chosen: Chosen::Found(0),
        checkpoints,
    })
}

fn metric_words(metric: &MetricSpec) -> String {
    if metric.is_gnorm() {
        "gradient norms".to_string()
    } else {
        format!("'{}'", crate::text::printable(&metric.label))
    }
}
