//! The binary's arguments: the clap definitions of every subcommand and flag, and the checks
//! and conversions that turn them into the library's options.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use trainwatch::ingest::{LogFormat, MetricSpec, SourceSpec};
use trainwatch::series::ExplosionParams;
use trainwatch::tui::ColorChoice;

/// Watch a training run from the terminal: the gradient norm live against its clip threshold,
/// and the positional-embedding similarity of the newest checkpoint.
#[derive(Parser, Debug)]
#[command(
    name = "trainwatch",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  trainwatch train.log                 watch a log live (like tail -f)\n  trainwatch gnorm train.log --json    the whole series as JSON\n  trainwatch demo                      a simulated run, to see it work\n\nIn the TUI press ? for every key."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The training log to watch (it may not exist yet), or a run directory; several, or a
    /// sweep folder, open a workspace of runs.
    #[arg(value_name = "LOG")]
    pub log: Vec<PathBuf>,
    #[command(flatten)]
    pub view: ViewArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
pub struct SimilarityArgs {
    /// A checkpoint (.safetensors, or a PyTorch .pt/.pth/.bin/.ckpt, read without running
    /// it), a sharded index, or a directory (its newest checkpoint: highest
    /// checkpoint-<step>/, else the newest weights file).
    #[arg(value_name = "PATH", required_unless_present = "sinusoidal")]
    pub path: Option<PathBuf>,
    /// The position table's tensor name (default: auto-detected).
    #[arg(long, value_name = "NAME")]
    pub tensor: Option<String>,
    /// Only positions A..B (half-open), e.g. 2:514 to skip RoBERTa/BART/OPT's offset rows.
    #[arg(long, value_name = "A:B", value_parser = trainwatch::export::similarity::parse_rows)]
    pub rows: Option<(usize, usize)>,
    /// Blocks per side of the map (capped at the number of rows; equal to it: the full
    /// matrix). Default 64; for --png, the full matrix up to 4096 positions.
    #[arg(long, value_name = "B")]
    pub size: Option<usize>,
    /// Also draw the map in magma with a colour bar and the similarity-vs-distance profile.
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// List every candidate table with dtype and shape.
    #[arg(long)]
    pub list: bool,
    /// Draw fairseq's sinusoidal table for N positions of width D instead (it is not stored in
    /// checkpoints).
    #[arg(long, value_name = "N,D", value_parser = trainwatch::export::similarity::parse_sinusoidal)]
    pub sinusoidal: Option<(usize, usize)>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where the simulated run writes (kept); default: a fresh temporary directory, removed
    /// on exit.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Simulated training speed.
    #[arg(long, value_name = "R", default_value_t = 20.0)]
    pub steps_per_sec: f64,
    /// Colours: auto (COLORTERM, NO_COLOR), truecolor, 256, or none.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

#[derive(Args, Debug, Clone)]
pub struct SeriesArgs {
    /// Clip threshold (overrides the log's; 0 means clipping is off).
    #[arg(long, value_name = "X")]
    pub clip: Option<f64>,
    /// Chart another logged metric instead of the gradient norm (e.g. loss, lr).
    #[arg(long, value_name = "NAME")]
    pub metric: Option<String>,
    /// Log format, instead of detecting it from the lines.
    #[arg(long, value_name = "NAME", value_parser = parse_format)]
    pub format: Option<LogFormat>,
    /// A point explodes when it is more than K times the median of the previous points.
    #[arg(long, value_name = "K", default_value_t = 3.0)]
    pub spike_factor: f64,
    /// How many previous finite points the median covers (and how close explosion points must
    /// be to form one event).
    #[arg(long, value_name = "W", default_value_t = 50)]
    pub spike_window: usize,
}

#[derive(Args, Debug, Clone)]
pub struct WatchArgs {
    /// The training log to watch (it may not exist yet), or a run directory; several, or a
    /// sweep folder, open a workspace of runs.
    #[arg(value_name = "LOG", required = true)]
    pub log: Vec<PathBuf>,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// Options of the live view.
#[derive(Args, Debug, Clone)]
pub struct ViewArgs {
    #[command(flatten)]
    pub series: SeriesArgs,
    /// Poll interval in milliseconds (polling always runs beside inotify: NFS/Lustre need it).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub poll_ms: u64,
    /// Colours: auto (COLORTERM, NO_COLOR), truecolor, 256, or none.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// A checkpoint for tab 2: a .safetensors or PyTorch file, an index, or a run directory
    /// (the newest checkpoint is shown and reloaded when a new one lands; [ ] step through
    /// the others).
    #[arg(long, value_name = "PATH")]
    pub checkpoint: Option<PathBuf>,
    /// The log to watch when LOG is a run directory (overrides what is found in it).
    #[arg(long = "log", value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Tab 1's stack of panels, sharing the x-axis: e.g. gnorm,loss,lr (the default; a panel
    /// shows where the log has its metric). --metric sets the top panel; four at most.
    #[arg(long, value_name = "M,M,…", value_delimiter = ',')]
    pub panels: Option<Vec<String>>,
}

/// The panels `--panels` asks for (default: the gradient norm, the loss and the lr).
pub fn panel_list(a: &ViewArgs) -> Result<Vec<String>, String> {
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
pub struct CheckArgs {
    /// Runs: logs, run folders, or sweep folders (every run in them).
    #[arg(value_name = "RUN", required = true)]
    pub runs: Vec<PathBuf>,
    #[command(flatten)]
    pub series: SeriesArgs,
    /// Most explosions allowed per run.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_explosions: usize,
    /// Most non-finite (NaN/inf) values allowed per run.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_nonfinite: usize,
    /// Most points above the clip threshold allowed per run, in percent (default: not checked).
    #[arg(long, value_name = "PCT")]
    pub max_clipped: Option<f64>,
}

#[derive(Args, Debug)]
pub struct GnormArgs {
    /// The training log to read: a text log, an event file, trainer_state.json, metrics.csv,
    /// or a run directory (what to read in it is found and named on stderr). Several, or a
    /// sweep folder: a table of the runs ranked by instability (`--json`: one line per run).
    #[arg(value_name = "LOG", required = true)]
    pub log: Vec<PathBuf>,
    #[command(flatten)]
    pub series: SeriesArgs,
    /// Print the series as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// The run's checkpoints (a file, or a folder searched for them), so that each explosion
    /// names the last good one before it (a run folder's own are found without it).
    #[arg(long, value_name = "PATH")]
    pub checkpoint: Option<PathBuf>,
    /// Also draw the figure (gnorm against step, clip line, explosions circled) as PNG.
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    /// Also draw the figure as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Figure width in pixels.
    #[arg(long, value_name = "W", default_value_t = 1400)]
    pub width: u32,
    /// Figure height in pixels.
    #[arg(long, value_name = "H", default_value_t = 700)]
    pub height: u32,
    // --- follow mode (src/headless.rs) ---
    /// Keep following the log (like tail -F) and print each point as it arrives, the existing
    /// ones first; Ctrl-C/SIGTERM/SIGHUP end it with the summary.
    #[arg(long, conflicts_with_all = ["json", "png", "svg"])]
    pub follow: bool,
    /// With --follow: one JSON object per line (points, explosions, restarts); the summary
    /// goes to stderr.
    #[arg(long, requires = "follow")]
    pub jsonl: bool,
    /// With --follow: run CMD through `sh -c` for each explosion, with TRAINWATCH_STEP,
    /// TRAINWATCH_PEAK and TRAINWATCH_FILE in its environment.
    #[arg(long, value_name = "CMD", requires = "follow")]
    pub alert_cmd: Option<String>,
    /// With --follow: poll interval in milliseconds (polling runs beside inotify).
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "follow")]
    pub poll_ms: u64,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum ColorArg {
    Auto,
    Truecolor,
    #[value(name = "256")]
    C256,
    None,
}

pub fn parse_format(s: &str) -> Result<LogFormat, String> {
    s.parse()
}

pub fn log_options(path: PathBuf, a: &SeriesArgs) -> Result<SourceSpec, String> {
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

pub fn color_choice(c: ColorArg) -> ColorChoice {
    match c {
        ColorArg::Auto => ColorChoice::Auto,
        ColorArg::Truecolor => ColorChoice::TrueColor,
        ColorArg::C256 => ColorChoice::Ansi256,
        ColorArg::None => ColorChoice::None,
    }
}
