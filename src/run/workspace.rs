//! A workspace: the runs open at once (a sweep, or the runs named on the command line), each
//! with its name. One run is the special case of one member. Events from the runs' sources
//! arrive tagged with the run and the source they came from ([`RunEvent`]) and go through the
//! one reducer of that run.

use super::{Changes, Instability, Run};
use crate::core::{RunEnd, RunLabel};
use crate::ingest::follow::IngestEvent;
use std::time::{Duration, Instant};

/// A run's place in its workspace (stable: runs are only ever added).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub usize);

/// Which of a run's sources an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceRole {
    /// The log (or event files, CSV, trainer state) the metrics are read from.
    Metrics,
    /// The checkpoint folder tab 2 follows.
    Checkpoints,
}

/// One event, tagged with where it came from.
#[derive(Debug)]
pub struct RunEvent {
    pub run: RunId,
    pub source: SourceRole,
    pub event: IngestEvent,
}

/// What a run is doing, as the runs panel says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Updated within 3× its usual interval (or nothing known yet to say otherwise).
    Live,
    /// Silent for longer than max(10 min, 20× its usual interval), since the instant given.
    Stalled(Instant),
    /// Its source said it ran to its end: a framework's end line (see
    /// [`crate::ingest::formats::end`]), a W&B `exit` record with code 0, MLflow `FINISHED`,
    /// a trainer state with `global_step == max_steps`.
    Finished,
    /// Its source said it ended with an error (MLflow `FAILED`, a W&B exit code other than 0).
    Failed,
    /// Its source said it was stopped from outside (MLflow `KILLED`).
    Killed,
    /// The file restarted (truncated, replaced, or its steps went back) since the last look.
    Restarted,
    /// Its source was there and is not any more (its file or run folder deleted): what was
    /// read is kept, and the run is read again if the source comes back.
    Gone,
}

impl RunStatus {
    pub fn word(self) -> &'static str {
        match self {
            RunStatus::Live => "live",
            RunStatus::Stalled(_) => "stalled",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
            RunStatus::Killed => "killed",
            RunStatus::Restarted => "restarted",
            RunStatus::Gone => "gone",
        }
    }

    /// The status an end reported by the source means.
    pub fn of_end(end: RunEnd) -> RunStatus {
        match end {
            RunEnd::Finished => RunStatus::Finished,
            RunEnd::Failed => RunStatus::Failed,
            RunEnd::Killed => RunStatus::Killed,
        }
    }
}

/// A run and what the workspace knows about its timing.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its folder or file relative to the workspace's common root.
    pub name: String,
    pub run: Run,
    /// When the last new points arrived.
    pub updated: Option<Instant>,
    /// The usual time between arrivals (an exponentially weighted mean).
    interval: Option<Duration>,
    restarted: bool,
    /// The source was found, then went missing ([`RunStatus::Gone`]); `found`: it was seen.
    found: bool,
    gone: bool,
    /// The source said the run ended (nothing logged since); cleared by a restart or new
    /// records.
    pub ended: Option<RunEnd>,
    /// What the tracker calls the run (W&B's display name and id, MLflow's run name).
    pub label: Option<RunLabel>,
}

/// Silence longer than this (or 20× the usual interval) is a stall.
pub const STALL_FLOOR: Duration = Duration::from_secs(600);

impl Member {
    pub fn new(name: String, run: Run) -> Self {
        Member {
            name,
            run,
            updated: None,
            interval: None,
            restarted: false,
            found: false,
            gone: false,
            ended: None,
            label: None,
        }
    }

    /// The name to show: what the tracker calls the run (W&B `display name (id)`, MLflow's
    /// run name) when it said, else its path relative to the common root.
    pub fn title(&self) -> String {
        self.label
            .as_ref()
            .or(self.run.data.label.as_ref())
            .and_then(RunLabel::display)
            .unwrap_or_else(|| self.name.clone())
    }

    /// The status at `now` (see [`RunStatus`]).
    pub fn status(&self, now: Instant) -> RunStatus {
        self.status_of(&self.run.data, now)
    }

    /// The status at `now`, the run's data being `data` (the focused run's lives in the view).
    pub fn status_of(&self, data: &super::RunData, now: Instant) -> RunStatus {
        if self.gone {
            return RunStatus::Gone;
        }
        if self.restarted {
            return RunStatus::Restarted;
        }
        // The focused run's data lives in the view (its entry holds a placeholder): what the
        // workspace observed comes first.
        if let Some(end) = self.ended.or(data.finished) {
            return RunStatus::of_end(end);
        }
        let Some(at) = self.updated else {
            return RunStatus::Live;
        };
        let silent = now.saturating_duration_since(at);
        let usual = self.interval.unwrap_or(Duration::from_secs(30));
        if silent > STALL_FLOOR.max(usual * 20) {
            RunStatus::Stalled(at)
        } else {
            RunStatus::Live
        }
    }

    /// When a live run with nothing new turns stalled (`None`: it has not been updated).
    pub fn stalls_at(&self) -> Option<Instant> {
        let usual = self.interval.unwrap_or(Duration::from_secs(30));
        self.updated.map(|at| at + STALL_FLOOR.max(usual * 20))
    }

    fn arrived(&mut self, now: Instant) {
        if let Some(prev) = self.updated {
            let gap = now.saturating_duration_since(prev);
            self.interval = Some(match self.interval {
                None => gap,
                Some(i) => (i * 7 + gap) / 8,
            });
        }
        self.updated = Some(now);
    }
}

/// The runs open at once.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    members: Vec<Member>,
}

impl Workspace {
    /// A workspace of one run.
    pub fn single(name: String, run: Run) -> Self {
        Workspace {
            members: vec![Member::new(name, run)],
        }
    }

    /// Adds a run (a new one in a sweep folder); its id.
    pub fn push(&mut self, name: String, run: Run) -> RunId {
        self.members.push(Member::new(name, run));
        RunId(self.members.len() - 1)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn get(&self, id: RunId) -> Option<&Member> {
        self.members.get(id.0)
    }

    pub fn get_mut(&mut self, id: RunId) -> Option<&mut Member> {
        self.members.get_mut(id.0)
    }

    pub fn members(&self) -> impl Iterator<Item = (RunId, &Member)> {
        self.members.iter().enumerate().map(|(i, m)| (RunId(i), m))
    }

    /// Whether a run of this name is open (new runs in a sweep folder are told by name).
    pub fn has(&self, name: &str) -> bool {
        self.members.iter().any(|m| m.name == name)
    }

    /// Applies an event to its run (at `now`, for the run's timing); `None` when the run is
    /// not in the workspace or the event came from its checkpoints (tab 2 handles those).
    pub fn apply(&mut self, ev: RunEvent, now: Instant) -> Option<Changes> {
        if !self.observe(&ev, now) {
            return None;
        }
        let m = self.members.get_mut(ev.run.0)?;
        Some(m.run.apply(ev.event))
    }

    /// Notes an event's timing and restarts for its run's status without applying it (the
    /// TUI applies the shown run's events itself); false when it is not a metrics event of a
    /// run in the workspace.
    pub fn observe(&mut self, ev: &RunEvent, now: Instant) -> bool {
        let Some(m) = self.members.get_mut(ev.run.0) else {
            return false;
        };
        if ev.source != SourceRole::Metrics {
            return false;
        }
        match &ev.event {
            IngestEvent::Waiting => m.gone = m.found,
            IngestEvent::Following => {
                m.found = true;
                m.gone = false;
            }
            IngestEvent::Restart(_) => {
                m.restarted = true;
                m.ended = None;
            }
            IngestEvent::Batch(b) => {
                if let Some(l) = &b.label {
                    m.label = Some((**l).clone());
                }
                if b.ended.is_some() {
                    m.ended = b.ended;
                } else if b.has_records() {
                    m.ended = None;
                }
                if b.has_records() {
                    m.restarted = false;
                    m.arrived(now);
                }
            }
            _ => {}
        }
        true
    }

    /// The runs, most unstable first (ties: by name).
    pub fn by_instability(&self) -> Vec<RunId> {
        let scores: Vec<f64> = self
            .members
            .iter()
            .map(|m| Instability::of(&m.run.data).score)
            .collect();
        let mut ids: Vec<RunId> = (0..self.members.len()).map(RunId).collect();
        ids.sort_by(|a, b| {
            scores[b.0]
                .total_cmp(&scores[a.0])
                .then_with(|| self.members[a.0].name.cmp(&self.members[b.0].name))
        });
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::RestartReason;
    use crate::ingest::SourceSpec;

    fn batch(text: &str) -> IngestEvent {
        let mut d =
            crate::ingest::decoder::LogDecoder::new(crate::ingest::MetricSpec::gnorm(), None);
        d.feed(text.as_bytes());
        d.finish();
        IngestEvent::Batch(d.take_batch())
    }

    fn ev(run: usize, event: IngestEvent) -> RunEvent {
        RunEvent {
            run: RunId(run),
            source: SourceRole::Metrics,
            event,
        }
    }

    #[test]
    fn status_follows_arrivals_silence_and_restarts() {
        let mut ws = Workspace::default();
        ws.push("a".into(), Run::new(SourceSpec::new("a.log"), None));
        let t0 = Instant::now();
        let secs = |s| t0 + Duration::from_secs(s);
        assert_eq!(ws.get(RunId(0)).unwrap().status(t0), RunStatus::Live);
        for (i, line) in [
            "step=1 gnorm=0.5\n",
            "step=2 gnorm=0.6\n",
            "step=3 gnorm=0.7\n",
        ]
        .iter()
        .enumerate()
        {
            let c = ws.apply(ev(0, batch(line)), secs(10 * i as u64)).unwrap();
            assert_eq!(c.points, 1);
        }
        let m = ws.get(RunId(0)).unwrap();
        assert_eq!(m.run.data.primary().len(), 3);
        // Every 10 s: silent for 20 × 10 s is not yet a stall (the floor is 10 min).
        assert_eq!(m.status(secs(20 + 300)), RunStatus::Live);
        assert_eq!(m.status(secs(20 + 601)), RunStatus::Stalled(secs(20)));
        let restart = ev(0, IngestEvent::Restart(RestartReason::Truncated));
        ws.apply(restart, secs(30));
        assert_eq!(
            ws.get(RunId(0)).unwrap().status(secs(31)),
            RunStatus::Restarted
        );
        ws.apply(ev(0, batch("step=1 gnorm=0.4\n")), secs(40));
        assert_eq!(ws.get(RunId(0)).unwrap().status(secs(41)), RunStatus::Live);
        // A run that said it ended is finished until it restarts or logs again.
        let mut end = batch("step=2 gnorm=0.5\n");
        if let IngestEvent::Batch(b) = &mut end {
            b.ended = Some(RunEnd::Failed);
        }
        ws.apply(ev(0, end), secs(42));
        assert_eq!(
            ws.get(RunId(0)).unwrap().status(secs(43)),
            RunStatus::Failed
        );
        assert_eq!(
            ws.get(RunId(0)).unwrap().run.data.finished,
            Some(RunEnd::Failed)
        );
        ws.apply(
            ev(0, IngestEvent::Restart(RestartReason::Truncated)),
            secs(44),
        );
        ws.apply(ev(0, batch("step=1 gnorm=0.4\n")), secs(45));
        let m = ws.get(RunId(0)).unwrap();
        assert_eq!(
            (m.status(secs(46)), m.run.data.finished),
            (RunStatus::Live, None)
        );
        // Its file deleted (the follower waits for it again): gone, its points kept; back
        // when the file is.
        ws.apply(ev(0, IngestEvent::Following), secs(46));
        ws.apply(ev(0, IngestEvent::Waiting), secs(47));
        let m = ws.get(RunId(0)).unwrap();
        assert_eq!(m.status(secs(48)), RunStatus::Gone);
        assert!(!m.run.data.primary().is_empty());
        ws.apply(ev(0, IngestEvent::Following), secs(49));
        assert_eq!(ws.get(RunId(0)).unwrap().status(secs(50)), RunStatus::Live);
        // Waiting for a file not there yet is not gone.
        let fresh = ws.push("b".into(), Run::new(SourceSpec::new("b.log"), None));
        ws.apply(ev(fresh.0, IngestEvent::Waiting), secs(50));
        assert_eq!(ws.get(fresh).unwrap().status(secs(51)), RunStatus::Live);
        // An event for a run not in the workspace changes nothing.
        assert!(ws
            .apply(ev(5, batch("step=1 gnorm=1\n")), secs(50))
            .is_none());
    }
}
