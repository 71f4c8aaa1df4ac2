//! Starting followers while the TUI runs: the sweep folder's watcher (new runs), a follower
//! for each new run, and a new follower of the shown run when a panel needs a metric it does
//! not read.

use super::{App, Channels};
use crate::ingest::follow;
use crate::ingest::follow_group::FollowGroup;
use crate::ingest::SourceSpec;
use anyhow::Context;
use crossbeam_channel::unbounded;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Looks for new runs in the sweep folder every few seconds; sends each with its name.
pub(super) fn spawn_sweep_watch(
    mut w: crate::discovery::sweep_watch::SweepWatch,
    tx: crossbeam_channel::Sender<(String, std::path::PathBuf)>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("trainwatch-sweep".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(crate::discovery::sweep_watch::SWEEP_POLL);
                for run in w.poll() {
                    let name = w.name_of(&run);
                    if tx.send((name, run.source_path().to_path_buf())).is_err() {
                        return;
                    }
                }
            }
        })
        .context("starting the sweep watcher")?;
    Ok(())
}

/// What starting a new run's follower takes.
pub(super) struct Spawner {
    /// The options every run is read with (its path replaced).
    pub(super) template: SourceSpec,
    /// The followers of the runs after the first.
    pub(super) group: FollowGroup,
    /// What the first run's follower was started with (to start it again with more panels).
    pub(super) watch: crate::watch::WatchService,
    pub(super) poll: Duration,
    pub(super) stop: Arc<AtomicBool>,
}

impl Spawner {
    /// Adds a run that appeared in the sweep folder and starts its follower.
    pub(super) fn add(&mut self, app: &mut App, name: String, source: std::path::PathBuf) {
        let mut spec = self.template.clone();
        spec.path = source;
        let ws = &mut app.runs.workspace;
        if ws.has(&name) {
            return;
        }
        let id = ws.push(name.clone(), crate::run::Run::new(spec.clone(), None));
        match self.group.add(id.0, &spec) {
            Ok(()) => app.note(format!("new run {}", crate::text::printable(&name)), false),
            Err(e) => app.note(format!("new run {name}: {e:#}"), true),
        }
    }
}

/// Reads the shown run again with `panels` (the picker added a metric it does not read): a
/// new follower of its source, the old one ending at its next send as its channel is gone.
pub(super) fn reread(app: &mut App, ch: &mut Channels, panels: Vec<String>) {
    if app.runs.focus != crate::run::RunId(0) {
        app.note("a new panel for this run: reopen it with --panels", true);
        return;
    }
    let mut sp = ch.spawner.borrow_mut();
    let spec = sp.template.clone().with_panels(&panels);
    let (tx, rx) = unbounded();
    match follow::spawn_in(&sp.watch, spec.clone(), sp.poll, tx, sp.stop.clone()) {
        Ok(_) => {
            ch.ingest = rx;
            let checkpoints = std::mem::take(&mut app.model.checkpoints);
            app.model = crate::run::RunData::empty(&spec);
            app.model.checkpoints = checkpoints;
            app.status.following = false;
            app.status.last_data = None;
            sp.template = spec;
        }
        Err(e) => app.note(format!("the log could not be read again: {e}"), true),
    }
}
