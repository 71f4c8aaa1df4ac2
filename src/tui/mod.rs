//! Views: the terminal UI. The event loop waits on three sources — the follower's records,
//! terminal input, and signals — and redraws only when one of them changed something, or when
//! the text of the clock ("updated 5s ago") or of a run's status changed with time
//! (`clock`). Frames are written by [`backend::WireBackend`]: the fewest bytes for the cells
//! that changed, long frames wrapped in synchronized updates so they do not tear over slow
//! SSH links.

pub mod app;
pub mod backend;
mod chart;
mod chart_scale;
mod clock;
pub mod gnorm_tab;
pub mod help;
pub mod keys;
pub mod panel;
pub mod panels;
pub mod panels_overlay;
pub mod picker;
mod render;
pub mod runs_table;
pub mod scrubber;
mod sgr;
pub mod similarity_panel;
mod similarity_state;
pub mod similarity_tab;
mod spawner;
mod terminal;
pub mod theme;
mod trim;
pub mod wire;
mod wrap;

pub use app::{Action, App};
pub use theme::{ColorChoice, ColorMode, Theme};

use spawner::{reread, spawn_sweep_watch, Spawner};
use terminal::{draw, frame_area, init_terminal, quiet_panic_restore, RestoreGuard};

use crate::ingest::follow::{self, IngestEvent};
use crate::ingest::follow_group::FollowGroup;
use crate::ingest::SourceSpec;
use anyhow::Context;
use crossbeam_channel::{select, unbounded, Receiver};
use crossterm::event::Event;
use ratatui::backend::Backend;
use ratatui::Terminal;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything the TUI needs to start.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    pub log: SourceSpec,
    pub poll: Duration,
    pub color: ColorChoice,
    /// A line shown under the tabs, e.g. "SIMULATED DATA" for the demo.
    pub banner: Option<String>,
    /// A checkpoint file or directory for tab 2 (followed: its newest checkpoint is shown).
    pub checkpoint: Option<std::path::PathBuf>,
    /// With several runs: every run's name and what is read for it, `log` first (empty: one
    /// run, today's screen).
    pub runs: Vec<(String, SourceSpec)>,
    /// A sweep folder to look for new runs in (every [`crate::discovery::sweep_watch::SWEEP_POLL`]).
    pub sweep: Option<crate::discovery::sweep_watch::SweepWatch>,
    /// The run's checkpoints in step order (discovery's list): tab 2's scrubber steps through
    /// them, and each explosion names the last good one.
    pub checkpoints: Vec<crate::core::CheckpointRef>,
}

/// Events of the other runs queued at most (each is at most one block's batch).
const RUN_EVENTS_QUEUED: usize = 16;

/// Shortest time between two frames: bursts of records coalesce into one draw.
const FRAME: Duration = Duration::from_millis(15);

/// Runs the TUI until the user quits or a signal (SIGTERM, SIGHUP, SIGINT) arrives.
pub fn run(opts: TuiOptions) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the live view needs a terminal (stdout is not a TTY); for scripts use `trainwatch gnorm LOG [--json]`"
        );
    }
    let mode = opts.color.from_env();

    let (sig_tx, sig_rx) = unbounded::<i32>();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGQUIT,
    ])
    .context("installing signal handlers")?;
    std::thread::Builder::new()
        .name("trainwatch-signals".into())
        .spawn(move || {
            for s in signals.forever() {
                if sig_tx.send(s).is_err() {
                    break;
                }
            }
        })
        .context("starting the signal thread")?;

    let stop = Arc::new(AtomicBool::new(false));
    let (ingest_tx, ingest_rx) = unbounded();
    // One notify watcher and one poll scheduler for the log and the checkpoint followers.
    let watch = crate::watch::WatchService::new();
    follow::spawn_in(&watch, opts.log.clone(), opts.poll, ingest_tx, stop.clone())
        .context("starting the log follower")?;

    let mut app = App::new(crate::run::RunData::empty(&opts.log), Theme::new(mode));
    // The runs after the first share a few follower threads (one per
    // `follow_group::RUNS_PER_THREAD` runs); their events carry the run's index. The channel
    // is bounded: while a sweep's histories are read faster than they are applied, the
    // readers wait instead of queueing every run's batches in memory.
    let (runs_tx, runs_rx) = crossbeam_channel::bounded(RUN_EVENTS_QUEUED);
    let mut group = FollowGroup::new(&watch, opts.poll, runs_tx, stop.clone());
    if opts.runs.len() > 1 {
        let mut ws = crate::run::Workspace::default();
        for (i, (name, spec)) in opts.runs.iter().enumerate() {
            let id = ws.push(name.clone(), crate::run::Run::new(spec.clone(), None));
            if i > 0 {
                group.add(id.0, spec).context("starting a run's follower")?;
            }
        }
        app.runs = runs_table::RunsPanel::new(ws);
    }
    let (new_tx, new_rx) = unbounded();
    if let Some(w) = opts.sweep {
        spawn_sweep_watch(w, new_tx, stop.clone())?;
    }
    app.banner = opts.banner.clone();
    app.sim.path = opts.checkpoint.clone();
    app.sim.scrub.checkpoints = opts.checkpoints.clone();
    app.model.checkpoints = opts.checkpoints.clone();
    let (ckpt_tx, ckpt_rx) = unbounded();
    let (view_tx, view_rx) = unbounded();
    if let Some(p) = &opts.checkpoint {
        let (path, poll) = (p.clone(), opts.poll);
        crate::checkpoint::follow::spawn_in(&watch, path, poll, view_rx, ckpt_tx, stop.clone())
            .context("starting the checkpoint follower")?;
    }

    let terminal = init_terminal().context("setting up the terminal")?;
    quiet_panic_restore();
    let _guard = RestoreGuard;
    app.resize(frame_area(&terminal)?);
    let (input_tx, input_rx) = unbounded::<Event>();
    std::thread::Builder::new()
        .name("trainwatch-input".into())
        .spawn(move || {
            while let Ok(ev) = crossterm::event::read() {
                if input_tx.send(ev).is_err() {
                    break;
                }
            }
        })
        .context("starting the input thread")?;

    let chans = Channels {
        ingest: ingest_rx,
        input: input_rx,
        signals: sig_rx,
        checkpoint: ckpt_rx,
        views: opts.checkpoint.is_some().then_some(view_tx),
        runs: runs_rx,
        new_runs: new_rx,
        spawner: std::cell::RefCell::new(Spawner {
            template: opts.log.clone(),
            group,
            watch: watch.clone(),
            poll: opts.poll,
            stop: stop.clone(),
        }),
    };
    let mut chans = chans;
    let result = event_loop(terminal, &mut app, &mut chans);
    stop.store(true, Ordering::Relaxed);
    result
}

/// Everything the event loop listens to, and the one thing it sends (tab 2's view).
struct Channels {
    ingest: Receiver<IngestEvent>,
    input: Receiver<Event>,
    signals: Receiver<i32>,
    checkpoint: Receiver<crate::checkpoint::follow::CheckpointEvent>,
    views: Option<crossbeam_channel::Sender<crate::checkpoint::follow::View>>,
    /// Events of the runs after the first (several runs), with the run's index.
    runs: Receiver<(usize, IngestEvent)>,
    /// Runs that appeared in the sweep folder: name and source.
    new_runs: Receiver<(String, std::path::PathBuf)>,
    spawner: std::cell::RefCell<Spawner>,
}

/// An event of the first run's follower (the one every view has), tagged as run 0.
fn first_run(event: IngestEvent) -> crate::run::RunEvent {
    run_event((0, event))
}

/// An event of run `i`'s metrics follower.
fn run_event((i, event): (usize, IngestEvent)) -> crate::run::RunEvent {
    crate::run::RunEvent {
        run: crate::run::RunId(i),
        source: crate::run::SourceRole::Metrics,
        event,
    }
}

fn event_loop<B: Backend>(
    mut terminal: Terminal<B>,
    app: &mut App,
    ch: &mut Channels,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    // The time-dependent text last drawn ([`clock::face`]).
    let mut drawn_face = 0;
    let mut trimmer = trim::Trimmer::default();
    let mut ingest_open = true;
    let mut checkpoint_open = true;
    let mut sent_view = None;
    loop {
        if let Some(panels) = app.gnorm.reread.take() {
            reread(app, ch, panels);
            ingest_open = true;
            dirty = true;
        }
        let (ingest_rx, input_rx, sig_rx) = (&ch.ingest, &ch.input, &ch.signals);
        let now = Instant::now();
        if dirty && now >= last_draw + FRAME {
            app.now = now;
            app.expire_notes();
            draw(&mut terminal, app)?;
            drawn_face = clock::face(app);
            dirty = false;
            last_draw = now;
        }
        // Tab 2's view depends on keys and on the area drawn: tell the follower when it
        // changes (the first one starts its work).
        if let Some(tx) = &ch.views {
            let v = app.sim_view();
            if sent_view.as_ref() != Some(&v) {
                let _ = tx.send(v.clone());
                sent_view = Some(v);
            }
        }
        let timeout = if dirty {
            (last_draw + FRAME).saturating_duration_since(Instant::now())
        } else {
            clock::next_change(app, now)
        };
        let never = crossbeam_channel::never();
        let ingest = if ingest_open { ingest_rx } else { &never };
        let never_ckpt = crossbeam_channel::never();
        let checkpoint = if checkpoint_open {
            &ch.checkpoint
        } else {
            &never_ckpt
        };
        select! {
            recv(ingest) -> ev => match ev {
                Ok(ev) => {
                    app.now = Instant::now();
                    app.on_run_event(first_run(ev));
                    // Take whatever else is queued: one frame for the whole burst.
                    let more = ingest_rx.try_iter().take(256).map(|ev| app.on_run_event(first_run(ev))).count();
                    trimmer.applied(1 + more, app.now);
                    dirty = true;
                }
                Err(_) => {
                    ingest_open = false;
                    app.status.error = Some("the log follower stopped; restart trainwatch".into());
                    dirty = true;
                }
            },
            recv(input_rx) -> ev => match ev {
                Ok(Event::Key(k)) => {
                    app.now = Instant::now();
                    if app.on_key(k) {
                        dirty = true;
                    }
                }
                Ok(Event::Resize(..)) => {
                    terminal.autoresize()?;
                    app.resize(frame_area(&terminal)?);
                    dirty = true;
                }
                Ok(_) => {}
                Err(_) => return Ok(()),
            },
            recv(checkpoint) -> ev => match ev {
                Ok(ev) => {
                    app.on_checkpoint(ev);
                    dirty = true;
                }
                Err(_) => checkpoint_open = false,
            },
            recv(ch.runs) -> ev => {
                if let Ok(ev) = ev {
                    app.now = Instant::now();
                    app.on_run_event(run_event(ev));
                    let more = ch.runs.try_iter().take(256).map(|ev| app.on_run_event(run_event(ev))).count();
                    trimmer.applied(1 + more, app.now);
                    dirty = true;
                }
            },
            recv(ch.new_runs) -> new => {
                if let Ok((name, source)) = new {
                    ch.spawner.borrow_mut().add(app, name, source);
                    dirty = true;
                }
            },
            recv(sig_rx) -> _ => return Ok(()),
            default(timeout) => {
                // The clock ("updated 5s ago"), expiring notes and run statuses are the only
                // things that change with time alone: draw when their text did.
                app.now = Instant::now();
                app.expire_notes();
                trimmer.idle(app.now);
                if clock::face(app) != drawn_face {
                    dirty = true;
                }
            }
        }
        if app.quit {
            return Ok(());
        }
    }
}
