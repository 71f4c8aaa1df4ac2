//! `trainwatch gnorm LOG --follow`: the live follower without a screen. Every point is printed
//! as it arrives (the existing content first, so the count is complete), then each new one,
//! with a line when an explosion opens and when the log restarts. `--alert-cmd` runs a shell
//! command per explosion, with the facts in its environment (never in the command text).
//!
//! Output: human lines by default, or (`jsonl`) exactly one JSON object per line:
//! `{"step":S,"value":V|null}`, `{"event":"explosion","start":S,"peak_step":S,"peak":V|null}`,
//! `{"event":"restart"}`. Output is flushed after each batch of records, so no line waits in
//! a buffer (pipes see it at once). Notes (waiting, errors) go to stderr. When `stop` is set
//! (SIGINT/SIGTERM/SIGHUP) the summary is written — to stdout in human mode, to stderr with
//! `--jsonl` so that stdout stays pure JSON lines — and the run ends normally.

use crate::export::gnorm::write_summary;
use crate::ingest::follow::{self, IngestEvent};
use crate::ingest::SourceSpec;
use crate::numfmt::fmt_value;
use crate::run::RunData;
use crate::run::{Change, SeriesId};
use crate::series::{ExplosionEvent, Series};
use crate::text::printable_path;
use crossbeam_channel::{bounded, RecvTimeoutError};
use std::io::{self, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What `--follow` was asked to do.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    pub log: SourceSpec,
    /// The run's checkpoints: each explosion's alert names the last good one.
    pub checkpoints: Vec<crate::core::CheckpointRef>,
    pub poll: Duration,
    pub jsonl: bool,
    /// Run through `sh -c` for each explosion.
    pub alert_cmd: Option<String>,
}

/// Sets `stop` on SIGINT, SIGTERM and SIGHUP (the SSH link drops). A second signal ends the
/// process at once (exit 128 + signal), for when the first cannot be acted on: stdout blocked
/// by a reader that stopped reading.
pub fn stop_on_signals(stop: &Arc<AtomicBool>) -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        // Registered first, so it sees the flag as the previous signal left it.
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, stop.clone())?;
        signal_hook::flag::register(sig, stop.clone())?;
    }
    Ok(())
}

/// Follows until `stop` is set (or stdout is closed), then writes the summary. Returns the
/// model built.
pub fn run_follow(
    opts: &FollowOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
    stop: Arc<AtomicBool>,
) -> io::Result<RunData> {
    // Bounded: when stdout stalls (a paused pipe reader), the follower waits instead of
    // queueing the log in memory.
    let (tx, rx) = bounded(8);
    let follower_stop = Arc::new(AtomicBool::new(false));
    let handle = follow::spawn(opts.log.clone(), opts.poll, tx, follower_stop.clone())?;
    let mut state = State::new(opts);
    let result = (|| -> io::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(ev) => {
                    state.on_event(ev, out, err)?;
                    // Take some of whatever else is queued before flushing once.
                    for ev in rx.try_iter().take(64) {
                        state.on_event(ev, out, err)?;
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                    }
                    out.flush()?;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            state.reap();
        }
        Ok(())
    })();
    follower_stop.store(true, Ordering::Relaxed);
    drop(rx);
    let _ = handle.join();
    state.reap();
    match result {
        Ok(()) => {}
        // stdout closed (`| head`): stop quietly, as a pipe reader expects.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(state.model),
        Err(e) => return Err(e),
    }
    let summary = if opts.jsonl {
        write_summary(&state.model, err).and_then(|()| err.flush())
    } else {
        writeln!(out)
            .and_then(|()| write_summary(&state.model, out))
            .and_then(|()| out.flush())
    };
    match summary {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(state.model),
    }
}

struct State<'a> {
    opts: &'a FollowOptions,
    model: RunData,
    said_following: bool,
    printer: Printer<'a>,
}

impl<'a> State<'a> {
    fn new(opts: &'a FollowOptions) -> Self {
        let mut model = crate::run::RunData::empty(&opts.log);
        model.checkpoints = opts.checkpoints.clone();
        State {
            opts,
            printer: Printer {
                opts,
                metric: crate::text::printable(&model.metric.label).into_owned(),
                children: Vec::new(),
                ryu: ryu::Buffer::new(),
            },
            model,
            said_following: false,
        }
    }

    fn path(&self) -> String {
        printable_path(&self.opts.log.path)
    }

    fn reap(&mut self) {
        self.printer.reap();
    }

    fn on_event(
        &mut self,
        ev: IngestEvent,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<()> {
        match ev {
            IngestEvent::Waiting => {
                writeln!(
                    err,
                    "trainwatch: {}: does not exist (yet); waiting for it",
                    self.path()
                )?;
                self.said_following = false;
            }
            IngestEvent::Reading { .. } => {}
            ev @ (IngestEvent::Batch(_) | IngestEvent::Restart(_)) => {
                // The reducer hands over each change as it happens: an explosion is reported
                // as it stood when it opened, whatever the batching.
                let mut res = Ok(());
                let printer = &mut self.printer;
                self.model.apply_each(ev, &mut |data, change| {
                    if res.is_ok() {
                        res = printer.change(data, change, out);
                    }
                });
                res?;
            }
            IngestEvent::Following => {
                if !self.said_following {
                    self.said_following = true;
                    writeln!(err, "trainwatch: following {}", self.path())?;
                }
            }
            IngestEvent::Error(e) => writeln!(err, "trainwatch: {e}")?,
        }
        Ok(())
    }
}

struct Printer<'a> {
    opts: &'a FollowOptions,
    metric: String,
    children: Vec<Child>,
    ryu: ryu::Buffer,
}

impl Printer<'_> {
    /// Prints one change: each point, each explosion right after the point that opened it,
    /// each restart. Epoch summaries only while the log has no per-step lines (as the views).
    fn change(&mut self, data: &RunData, change: Change, out: &mut dyn Write) -> io::Result<()> {
        let series = |id| match id {
            SeriesId::Steps => &data.steps,
            SeriesId::Epochs => &data.epochs,
        };
        let shown = |id| id == SeriesId::Steps || data.steps.is_empty();
        match change {
            Change::Point { series: id, index } if shown(id) => {
                let s = series(id);
                if let (Some(step), Some(value)) = (s.step(index), s.value(index)) {
                    self.point(step, value, out)?;
                }
            }
            Change::Explosion { series: id, event } if shown(id) => {
                self.explosion(series(id), &event, out)?;
            }
            Change::Restart(r) => {
                if self.opts.jsonl {
                    out.write_all(b"{\"event\":\"restart\"}\n")?;
                } else {
                    writeln!(out, "-- {}: {} --", r.describe(), r.what_follows())?;
                }
            }
            Change::Point { .. } | Change::Explosion { .. } => {}
        }
        Ok(())
    }

    fn point(&mut self, step: u64, value: f64, out: &mut dyn Write) -> io::Result<()> {
        if self.opts.jsonl {
            let v = if value.is_finite() {
                self.ryu.format_finite(value)
            } else {
                "null"
            };
            writeln!(out, "{{\"step\":{step},\"value\":{v}}}")
        } else {
            writeln!(out, "step {step}  {} {}", self.metric, fmt_value(value))
        }
    }

    fn explosion(&mut self, s: &Series, e: &ExplosionEvent, out: &mut dyn Write) -> io::Result<()> {
        let start = s.step(e.start).unwrap_or(0);
        let peak_step = s.step(e.peak).unwrap_or(start);
        let peak = e.peak_value;
        if self.opts.jsonl {
            let p = if peak.is_finite() {
                self.ryu.format_finite(peak)
            } else {
                "null"
            };
            writeln!(
                out,
                "{{\"event\":\"explosion\",\"start\":{start},\"peak_step\":{peak_step},\"peak\":{p}}}"
            )?;
        } else {
            writeln!(
                out,
                "!! EXPLOSION at step {start}: {} {} ({:.1}× the median before it)",
                self.metric,
                fmt_value(peak),
                e.factor
            )?;
        }
        let last = crate::core::checkpoint::last_before(&self.opts.checkpoints, start).cloned();
        self.alert(peak_step, peak, last.as_ref());
        Ok(())
    }
    /// Starts the alert command without waiting for it; it is reaped later.
    fn alert(&mut self, step: u64, peak: f64, last_good: Option<&crate::core::CheckpointRef>) {
        let Some(cmd) = &self.opts.alert_cmd else {
            return;
        };
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(cmd)
            .env("TRAINWATCH_STEP", step.to_string())
            .env("TRAINWATCH_PEAK", fmt_value(peak))
            .env("TRAINWATCH_FILE", &self.opts.log.path)
            .stdin(Stdio::null());
        if let Some(good) = last_good {
            c.env("TRAINWATCH_CHECKPOINT", &good.path);
            if let Some(s) = good.step {
                c.env("TRAINWATCH_CHECKPOINT_STEP", s.to_string());
            }
        }
        // The command's output must not mix into the JSON lines on stdout.
        if let Ok(fd) = std::os::fd::AsFd::as_fd(&io::stderr()).try_clone_to_owned() {
            c.stdout(Stdio::from(fd));
        }
        match c.spawn() {
            Ok(child) => self.children.push(child),
            Err(e) => eprintln!("trainwatch: --alert-cmd: cannot start sh: {e}"),
        }
    }

    /// Collects finished alert commands, reporting failures.
    fn reap(&mut self) {
        self.children.retain_mut(|c| match c.try_wait() {
            Ok(Some(status)) => {
                if !status.success() {
                    eprintln!("trainwatch: --alert-cmd exited with {status}");
                }
                false
            }
            Ok(None) => true,
            Err(_) => false,
        });
    }
}

/// Reads every run of a manifest once, in the manifest's order, each with `spec`'s options
/// (the path replaced by the run's chosen source, its checkpoints attached): `(name, data)`.
pub fn read_runs(
    m: &crate::discovery::RunManifest,
    spec: &SourceSpec,
) -> Vec<(String, Result<RunData, crate::ingest::SourceError>)> {
    m.names()
        .into_iter()
        .zip(&m.runs)
        .map(|(name, run)| {
            let mut s = spec.clone();
            s.path = run.source_path().to_path_buf();
            let read = crate::run::read_once(&s).map(|mut d| {
                d.checkpoints = run.checkpoints.found.clone();
                d
            });
            (name, read)
        })
        .collect()
}
