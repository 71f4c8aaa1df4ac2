//! The command line: parse arguments, call into the library, map errors to exit code 2.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use trainwatch::discovery::{self, Request, Run};
use trainwatch::ingest::{LogFormat, MetricSpec, SourceSpec};
use trainwatch::series::ExplosionParams;
use trainwatch::tui::{ColorChoice, TuiOptions};

/// Watch a training run from the terminal: the gradient norm live against its clip threshold,
/// and the positional-embedding similarity of the newest checkpoint.
#[derive(Parser, Debug)]
#[command(
    name = "trainwatch",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  trainwatch train.log                 watch a log live (like tail -f)\n  trainwatch gnorm train.log --json    the whole series as JSON\n  trainwatch demo                      a simulated run, to see it work\n\nIn the TUI press ? for every key."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The training log to watch (it may not exist yet), or a run directory; several, or a
    /// sweep folder, open a workspace of runs.
    #[arg(value_name = "LOG")]
    log: Vec<PathBuf>,
    #[command(flatten)]
    view: ViewArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Open the live TUI on a log (the same as `trainwatch LOG`).
    Watch(WatchArgs),
    /// Read a whole log once and print a summary, or the series as JSON.
    Gnorm(GnormArgs),
    /// Whether each run is within bounds (for CI and job scripts): one line per run; exit 0
    /// when all are, 1 when one is not, 2 on errors.
    Check(CheckArgs),
    /// The positional-embedding cosine-similarity map of a checkpoint, as text or JSON.
    Similarity(SimilarityArgs),
    /// A simulated training run (log + checkpoints written live), watched in the TUI.
    Demo(DemoArgs),
}

#[derive(Args, Debug)]
struct SimilarityArgs {
    /// A checkpoint (.safetensors, or a PyTorch .pt/.pth/.bin/.ckpt, read without running
    /// it), a sharded index, or a directory (its newest checkpoint: highest
    /// checkpoint-<step>/, else the newest weights file).
    #[arg(value_name = "PATH", required_unless_present = "sinusoidal")]
    path: Option<PathBuf>,
    /// The position table's tensor name (default: auto-detected).
    #[arg(long, value_name = "NAME")]
    tensor: Option<String>,
    /// Only positions A..B (half-open), e.g. 2:514 to skip RoBERTa/BART/OPT's offset rows.
    #[arg(long, value_name = "A:B", value_parser = trainwatch::export::similarity::parse_rows)]
    rows: Option<(usize, usize)>,
    /// Blocks per side of the map (capped at the number of rows; equal to it: the full
    /// matrix). Default 64; for --png, the full matrix up to 4096 positions.
    #[arg(long, value_name = "B")]
    size: Option<usize>,
    /// Also draw the map in magma with a colour bar and the similarity-vs-distance profile.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
    /// List every candidate table with dtype and shape.
    #[arg(long)]
    list: bool,
    /// Draw fairseq's sinusoidal table for N positions of width D instead (it is not stored in
    /// checkpoints).
    #[arg(long, value_name = "N,D", value_parser = trainwatch::export::similarity::parse_sinusoidal)]
    sinusoidal: Option<(usize, usize)>,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Where the simulated run writes (kept); default: a fresh temporary directory, removed
    /// on exit.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Simulated training speed.
    #[arg(long, value_name = "R", default_value_t = 20.0)]
    steps_per_sec: f64,
    /// Colours: auto (COLORTERM, NO_COLOR), truecolor, 256, or none.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

#[derive(Args, Debug, Clone)]
struct SeriesArgs {
    /// Clip threshold (overrides the log's; 0 means clipping is off).
    #[arg(long, value_name = "X")]
    clip: Option<f64>,
    /// Chart another logged metric instead of the gradient norm (e.g. loss, lr).
    #[arg(long, value_name = "NAME")]
    metric: Option<String>,
    /// Log format, instead of detecting it from the lines.
    #[arg(long, value_name = "NAME", value_parser = parse_format)]
    format: Option<LogFormat>,
    /// A point explodes when it is more than K times the median of the previous points.
    #[arg(long, value_name = "K", default_value_t = 3.0)]
    spike_factor: f64,
    /// How many previous finite points the median covers (and how close explosion points must
    /// be to form one event).
    #[arg(long, value_name = "W", default_value_t = 50)]
    spike_window: usize,
}

#[derive(Args, Debug, Clone)]
struct WatchArgs {
    /// The training log to watch (it may not exist yet), or a run directory; several, or a
    /// sweep folder, open a workspace of runs.
    #[arg(value_name = "LOG", required = true)]
    log: Vec<PathBuf>,
    #[command(flatten)]
    view: ViewArgs,
}

/// Options of the live view.
#[derive(Args, Debug, Clone)]
struct ViewArgs {
    #[command(flatten)]
    series: SeriesArgs,
    /// Poll interval in milliseconds (polling always runs beside inotify: NFS/Lustre need it).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    poll_ms: u64,
    /// Colours: auto (COLORTERM, NO_COLOR), truecolor, 256, or none.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// A checkpoint for tab 2: a .safetensors or PyTorch file, an index, or a run directory
    /// (the newest checkpoint is shown and reloaded when a new one lands; [ ] step through
    /// the others).
    #[arg(long, value_name = "PATH")]
    checkpoint: Option<PathBuf>,
    /// The log to watch when LOG is a run directory (overrides what is found in it).
    #[arg(long = "log", value_name = "FILE")]
    log_file: Option<PathBuf>,
    /// Tab 1's stack of panels, sharing the x-axis: e.g. gnorm,loss,lr (the default; a panel
    /// shows where the log has its metric). --metric sets the top panel; four at most.
    #[arg(long, value_name = "M,M,…", value_delimiter = ',')]
    panels: Option<Vec<String>>,
}

/// The panels `--panels` asks for (default: the gradient norm, the loss and the lr).
fn panel_list(a: &ViewArgs) -> Result<Vec<String>, String> {
    let default = || {
        trainwatch::ingest::formats::panels::DEFAULT_PANELS
            .map(String::from)
            .to_vec()
    };
    let list: Vec<String> = a.panels.clone().map_or_else(default, |p| {
        p.into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    if list.len() > 4 {
        return Err(format!("--panels {}: four panels at most", list.join(",")));
    }
    Ok(list)
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Runs: logs, run folders, or sweep folders (every run in them).
    #[arg(value_name = "RUN", required = true)]
    runs: Vec<PathBuf>,
    #[command(flatten)]
    series: SeriesArgs,
    /// Most explosions allowed per run.
    #[arg(long, value_name = "N", default_value_t = 0)]
    max_explosions: usize,
    /// Most non-finite (NaN/inf) values allowed per run.
    #[arg(long, value_name = "N", default_value_t = 0)]
    max_nonfinite: usize,
    /// Most points above the clip threshold allowed per run, in percent (default: not checked).
    #[arg(long, value_name = "PCT")]
    max_clipped: Option<f64>,
}

#[derive(Args, Debug)]
struct GnormArgs {
    /// The training log to read: a text log, an event file, trainer_state.json, metrics.csv,
    /// or a run directory (what to read in it is found and named on stderr). Several, or a
    /// sweep folder: a table of the runs ranked by instability (`--json`: one line per run).
    #[arg(value_name = "LOG", required = true)]
    log: Vec<PathBuf>,
    #[command(flatten)]
    series: SeriesArgs,
    /// Print the series as one JSON object.
    #[arg(long)]
    json: bool,
    /// The run's checkpoints (a file, or a folder searched for them), so that each explosion
    /// names the last good one before it (a run folder's own are found without it).
    #[arg(long, value_name = "PATH")]
    checkpoint: Option<PathBuf>,
    /// Also draw the figure (gnorm against step, clip line, explosions circled) as PNG.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Also draw the figure as SVG.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Figure width in pixels.
    #[arg(long, value_name = "W", default_value_t = 1400)]
    width: u32,
    /// Figure height in pixels.
    #[arg(long, value_name = "H", default_value_t = 700)]
    height: u32,
    // --- follow mode (src/headless.rs) ---
    /// Keep following the log (like tail -F) and print each point as it arrives, the existing
    /// ones first; Ctrl-C/SIGTERM/SIGHUP end it with the summary.
    #[arg(long, conflicts_with_all = ["json", "png", "svg"])]
    follow: bool,
    /// With --follow: one JSON object per line (points, explosions, restarts); the summary
    /// goes to stderr.
    #[arg(long, requires = "follow")]
    jsonl: bool,
    /// With --follow: run CMD through `sh -c` for each explosion, with TRAINWATCH_STEP,
    /// TRAINWATCH_PEAK and TRAINWATCH_FILE in its environment.
    #[arg(long, value_name = "CMD", requires = "follow")]
    alert_cmd: Option<String>,
    /// With --follow: poll interval in milliseconds (polling runs beside inotify).
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "follow")]
    poll_ms: u64,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum ColorArg {
    Auto,
    Truecolor,
    #[value(name = "256")]
    C256,
    None,
}

fn parse_format(s: &str) -> Result<LogFormat, String> {
    s.parse()
}

fn log_options(path: PathBuf, a: &SeriesArgs) -> Result<SourceSpec, String> {
    if let Some(c) = a.clip {
        if !c.is_finite() || c < 0.0 {
            return Err(format!(
                "--clip {c}: the threshold must be a number ≥ 0 (0 turns clipping off)"
            ));
        }
    }
    if !(a.spike_factor.is_finite() && a.spike_factor > 0.0) {
        return Err("--spike-factor must be a positive number".into());
    }
    if a.spike_window == 0 {
        return Err("--spike-window must be at least 1".into());
    }
    let mut o = SourceSpec::new(path);
    o.metric = a
        .metric
        .as_deref()
        .map_or_else(MetricSpec::gnorm, MetricSpec::named);
    o.format = a.format;
    o.clip = a.clip;
    o.params = ExplosionParams {
        factor: a.spike_factor,
        window: a.spike_window,
    };
    Ok(o)
}

/// Said if discovery ever returned a manifest without a run (it does not).
const NOTHING: &str = "nothing to watch found";

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    // A closed terminal (SIGHUP) must not turn the error into a panic.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "trainwatch: {msg}");
    ExitCode::from(2)
}

fn color_choice(c: ColorArg) -> ColorChoice {
    match c {
        ColorArg::Auto => ColorChoice::Auto,
        ColorArg::Truecolor => ColorChoice::TrueColor,
        ColorArg::C256 => ColorChoice::Ansi256,
        ColorArg::None => ColorChoice::None,
    }
}

fn demo(a: DemoArgs) -> ExitCode {
    if !(a.steps_per_sec.is_finite() && a.steps_per_sec > 0.0) {
        return fail("--steps-per-sec must be a positive number");
    }
    let opts = trainwatch::demo::DemoOptions {
        dir: a.dir,
        steps_per_sec: a.steps_per_sec,
        color: color_choice(a.color),
    };
    match trainwatch::demo::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{e:#}")),
    }
}

fn watch(paths: Vec<PathBuf>, a: ViewArgs) -> ExitCode {
    let first = paths.first().cloned().unwrap_or_default();
    let mut log = match log_options(first.clone(), &a.series).and_then(|o| {
        let panels = panel_list(&a)?;
        Ok(o.with_panels(&panels))
    }) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let req = Request {
        path: first,
        metric: log.metric.clone(),
        log: a.log_file.clone(),
        checkpoint: a.checkpoint.clone(),
    };
    let m = match manifest(&paths, &req) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let names = m.names();
    let runs: Vec<(String, SourceSpec)> = names
        .into_iter()
        .zip(&m.runs)
        .map(|(name, run)| {
            let mut spec = log.clone();
            spec.path = run.source_path().to_path_buf();
            (name, spec)
        })
        .collect();
    // A sweep folder named alone: new runs appearing in it are picked up.
    let sweep = (paths.len() == 1 && m.runs.len() > 1 && req.path.is_dir())
        .then(|| trainwatch::discovery::sweep_watch::SweepWatch::new(req.clone(), &m.runs));
    let Some(run) = m.runs.into_iter().next() else {
        return fail(NOTHING);
    };
    log.path = run.source_path().to_path_buf();
    let opts = TuiOptions {
        log,
        poll: Duration::from_millis(a.poll_ms.max(10)),
        color: color_choice(a.color),
        banner: None,
        checkpoint: run.checkpoints.watch,
        runs: if runs.len() > 1 { runs } else { Vec::new() },
        sweep,
        checkpoints: run.checkpoints.found,
    };
    match trainwatch::tui::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{e:#}")),
    }
}

/// Every run the paths name (sweep folders opened), each choice the search made said on
/// stderr.
fn manifest(paths: &[PathBuf], req: &Request) -> Result<discovery::RunManifest, ExitCode> {
    let m = discovery::discover_all(paths, req).map_err(fail)?;
    if let [run] = m.runs.as_slice() {
        if let Some(line) = run.describe() {
            eprintln!("trainwatch: {line}");
        }
    } else {
        eprintln!(
            "trainwatch: {} runs under {}",
            m.runs.len(),
            trainwatch::text::printable_path(&m.root)
        );
    }
    Ok(m)
}

fn check(a: CheckArgs) -> ExitCode {
    let spec = match log_options(PathBuf::new(), &a.series) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    if a.max_clipped.is_some_and(|p| !(p.is_finite() && p >= 0.0)) {
        return fail("--max-clipped must be a percentage ≥ 0");
    }
    let m = match manifest(&a.runs, &Request::new("", &spec.metric)) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let bounds = trainwatch::run::check::Bounds {
        max_explosions: Some(a.max_explosions),
        max_nonfinite: Some(a.max_nonfinite),
        max_clipped: a.max_clipped,
    };
    let (mut errors, mut breached) = (false, false);
    for (name, read) in trainwatch::headless::read_runs(&m, &spec) {
        match read {
            Ok(data) => {
                let v = trainwatch::run::check::check(&name, &data, &bounds);
                breached |= !v.ok();
                println!("{}", v.line());
            }
            Err(e) => {
                errors = true;
                println!("error {}  {e}", trainwatch::text::printable(&name));
            }
        }
    }
    match (errors, breached) {
        (true, _) => ExitCode::from(2),
        (false, true) => ExitCode::from(1),
        (false, false) => ExitCode::SUCCESS,
    }
}

/// `gnorm` over several runs: the ranked table, or one JSON line per run.
fn gnorm_many(a: &GnormArgs, m: &discovery::RunManifest, spec: &SourceSpec) -> ExitCode {
    if a.png.is_some() || a.svg.is_some() || a.follow {
        return fail("--png, --svg and --follow take one run; name one of them");
    }
    let mut read = Vec::new();
    let mut failed = Vec::new();
    for (name, r) in trainwatch::headless::read_runs(m, spec) {
        match r {
            Ok(d) => read.push((name, d)),
            Err(e) => {
                eprintln!("trainwatch: {e}");
                failed.push((name, e.to_string()));
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let r = if a.json {
        read.iter()
            .try_for_each(|(n, d)| trainwatch::export::gnorm::write_json_of(d, Some(n), &mut out))
    } else {
        let rows: Vec<(String, &trainwatch::run::RunData)> =
            read.iter().map(|(n, d)| (n.clone(), d)).collect();
        trainwatch::export::gnorm::write_table(&rows, &failed, &mut out)
    };
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => fail(e),
        _ if !failed.is_empty() => ExitCode::from(2),
        _ => ExitCode::SUCCESS,
    }
}

fn gnorm(a: GnormArgs) -> ExitCode {
    let mut opts = match log_options(a.log.first().cloned().unwrap_or_default(), &a.series) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let mut req = Request::new(opts.path.clone(), &opts.metric);
    req.checkpoint = a.checkpoint.clone();
    let m = match manifest(&a.log, &req) {
        Ok(m) => m,
        Err(code) => return code,
    };
    if m.runs.len() > 1 {
        return gnorm_many(&a, &m, &opts);
    }
    let Some(run) = m.runs.into_iter().next() else {
        return fail(NOTHING);
    };
    if a.follow {
        return follow(a, run);
    }
    opts.path = run.source_path().to_path_buf();
    let checkpoints = run.checkpoints.found;
    let mut model = match trainwatch::run::read_once(&opts) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    model.checkpoints = checkpoints;
    if !(200..=20_000).contains(&a.width) || !(150..=20_000).contains(&a.height) {
        return fail("--width must be 200–20000 and --height 150–20000 pixels");
    }
    for (path, format) in [
        (&a.png, trainwatch::export::figure::Format::Png),
        (&a.svg, trainwatch::export::figure::Format::Svg),
    ] {
        if let Some(p) = path {
            if let Err(e) =
                trainwatch::export::figure::gnorm_figure(&model, p, format, (a.width, a.height))
            {
                return fail(format!("{e:#}"));
            }
            eprintln!("wrote {}", trainwatch::text::printable_path(p));
        }
    }
    let mut out = std::io::stdout().lock();
    let r = if a.json {
        trainwatch::export::gnorm::write_json(&model, &mut out)
    } else {
        trainwatch::export::gnorm::write_summary(&model, &mut out)
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn follow(a: GnormArgs, run: Run) -> ExitCode {
    let mut log = match log_options(run.source_path().to_path_buf(), &a.series) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    log.path = run.source_path().to_path_buf();
    let checkpoints = run.checkpoints.found;
    let opts = trainwatch::headless::FollowOptions {
        log,
        checkpoints,
        poll: Duration::from_millis(a.poll_ms.max(10)),
        jsonl: a.jsonl,
        alert_cmd: a.alert_cmd,
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Err(e) = trainwatch::headless::stop_on_signals(&stop) {
        return fail(format!("cannot install signal handlers: {e}"));
    }
    // Buffered: run_follow flushes after each batch, so no line waits.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut err = std::io::stderr().lock();
    match trainwatch::headless::run_follow(&opts, &mut out, &mut err, stop) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn similarity(a: SimilarityArgs) -> ExitCode {
    if let Some(png) = &a.png {
        let req = trainwatch::checkpoint::SimilarityRequest {
            path: a.path.clone().unwrap_or_default(),
            tensor: a.tensor.clone(),
            rows: a.rows,
            blocks: a
                .size
                .unwrap_or(trainwatch::export::figure::FULL_RESOLUTION_MAX),
            sinusoidal: a.sinusoidal,
            read: trainwatch::checkpoint::ReadMode::Mapped,
        };
        let drawn = trainwatch::checkpoint::compute_similarity(&req)
            .map_err(anyhow::Error::from)
            .and_then(|r| trainwatch::export::figure::similarity_figure(&r, png));
        match drawn {
            Ok(_) => eprintln!("wrote {}", trainwatch::text::printable_path(png)),
            Err(e) => return fail(format!("{e:#}")),
        }
    }
    let opts = trainwatch::export::similarity::SimilarityOptions {
        path: a.path.unwrap_or_default(),
        tensor: a.tensor,
        rows: a.rows,
        size: a
            .size
            .unwrap_or(trainwatch::export::similarity::DEFAULT_SIZE),
        json: a.json,
        list: a.list,
        sinusoidal: a.sinusoidal,
    };
    let mut out = std::io::stdout().lock();
    match trainwatch::export::similarity::run_similarity(&opts, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match (cli.command, cli.log) {
        (Some(Command::Watch(a)), _) => watch(a.log, a.view),
        (None, logs) if !logs.is_empty() => watch(logs, cli.view),
        (Some(Command::Gnorm(a)), _) => gnorm(a),
        (Some(Command::Check(a)), _) => check(a),
        (Some(Command::Similarity(a)), _) => similarity(a),
        (Some(Command::Demo(a)), _) => demo(a),
        (None, _) => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            ExitCode::from(2)
        }
    }
}
