//! The command line: parse arguments, call into the library, map errors to exit code 2.

mod cli;

use clap::Parser;
use cli::{
    color_choice, log_options, panel_list, CheckArgs, Cli, Command, DemoArgs, GnormArgs,
    SimilarityArgs, ViewArgs,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use trainwatch::discovery::{self, Request, Run};
use trainwatch::ingest::SourceSpec;
use trainwatch::tui::TuiOptions;

/// Said if discovery ever returned a manifest without a run (it does not).
const NOTHING: &str = "nothing to watch found";

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    // A closed terminal (SIGHUP) must not turn the error into a panic.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "trainwatch: {msg}");
    ExitCode::from(2)
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
