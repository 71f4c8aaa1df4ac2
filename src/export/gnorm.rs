//! `trainwatch gnorm`: the series as JSON, or as a summary a person reads (and pastes under a
//! figure).

use crate::numfmt::fmt_value;
use crate::run::RunData;
use crate::series::{ExplosionEvent, Series};
use crate::text::printable;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct ClipJson {
    value: Option<f64>,
    from: &'static str,
}

#[derive(Serialize)]
struct ExplosionJson {
    start: u64,
    end: u64,
    peak_step: u64,
    peak: Option<f64>,
    /// The newest checkpoint before `start` (an addition), when checkpoints are known.
    last_checkpoint: Option<CheckpointJson>,
}

#[derive(Serialize)]
struct CheckpointJson {
    path: String,
    step: Option<u64>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Writes the `--json` object. Points are streamed, so millions of them need no extra memory.
pub fn write_json(model: &RunData, out: &mut dyn Write) -> io::Result<()> {
    write_json_of(model, None, out)
}

/// The `--json` object of one run of several: the same object with `"run": NAME` first.
pub fn write_json_of(model: &RunData, run: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let s = model.primary();
    let (clip, from) = model.clip();
    let mut w = io::BufWriter::with_capacity(1 << 16, out);
    w.write_all(b"{")?;
    if let Some(name) = run {
        write!(w, "\"run\":{},", js(name)?)?;
    }
    write!(w, "\"source\":{}", js(&model.source.to_string_lossy())?)?;
    write!(
        w,
        ",\"format\":{}",
        js(model.format.map(|f| f.name()).unwrap_or("unknown"))?
    )?;
    write!(w, ",\"metric\":{}", js(&model.metric.label)?)?;
    write!(w, ",\"step_kind\":{}", js(s.step_kind().name())?)?;
    write!(
        w,
        ",\"clip\":{}",
        js(&ClipJson {
            value: clip,
            from: from.name()
        })?
    )?;
    w.write_all(b",\"points\":[")?;
    let mut ryu = ryu::Buffer::new();
    for (i, (step, value)) in s.points().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "{{\"step\":{step},\"value\":")?;
        if value.is_finite() {
            w.write_all(ryu.format_finite(value).as_bytes())?;
        } else {
            w.write_all(b"null")?;
        }
        w.write_all(b"}")?;
    }
    w.write_all(b"]")?;
    write!(w, ",\"above_clip\":{}", s.above_clip())?;
    write!(w, ",\"nonfinite\":{}", s.nonfinite())?;
    let explosions: Vec<ExplosionJson> = s
        .events()
        .iter()
        .map(|e| ExplosionJson {
            start: s.step(e.start).unwrap_or(0),
            end: s.step(e.end).unwrap_or(0),
            peak_step: s.step(e.peak).unwrap_or(0),
            peak: finite(e.peak_value),
            last_checkpoint: model.last_good(e).map(|c| CheckpointJson {
                path: c.path.to_string_lossy().into_owned(),
                step: c.step,
            }),
        })
        .collect();
    write!(w, ",\"explosions\":{}", js(&explosions)?)?;
    write!(w, ",\"skipped_lines\":{}", model.skipped_records)?;
    write!(w, ",\"restarts\":{}", model.restarts())?;
    write!(w, ",\"per_epoch\":{}", model.per_epoch())?;
    write!(w, ",\"overflows\":{}", model.overflows)?;
    // An addition (issue 12): always present, true when the source said the run ran to its
    // end (failed and killed runs are false).
    let finished = model.finished == Some(crate::core::RunEnd::Finished);
    write!(w, ",\"finished\":{finished}")?;
    w.write_all(b"}\n")?;
    w.flush()
}

fn js<T: Serialize + ?Sized>(v: &T) -> io::Result<String> {
    serde_json::to_string(v).map_err(io::Error::other)
}

/// Events ranked by how far they rose over their baseline (then by peak).
pub fn ranked(s: &Series) -> Vec<ExplosionEvent> {
    let mut ev = s.events().to_vec();
    ev.sort_by(|a, b| {
        b.factor
            .total_cmp(&a.factor)
            .then(b.peak_value.total_cmp(&a.peak_value))
    });
    ev
}

/// The human summary, ending with the ranked explosion report.
pub fn write_summary(model: &RunData, out: &mut dyn Write) -> io::Result<()> {
    let s = model.primary();
    let (clip, from) = model.clip();
    let path = printable(&model.source.to_string_lossy()).into_owned();
    let kind = s.step_kind();
    writeln!(out, "{path}")?;
    writeln!(
        out,
        "  format      {}{}{}",
        model.format.map(|f| f.name()).unwrap_or("unknown"),
        gnorm_alias(model),
        if model.per_epoch() {
            " (per-epoch summaries only: the log has no per-step lines)"
        } else {
            ""
        }
    )?;
    writeln!(out, "  clip        {}", clip_words(model))?;
    let first = s.step(0).unwrap_or(0);
    let last = s.step(s.len().saturating_sub(1)).unwrap_or(0);
    writeln!(
        out,
        "  points      {} {} ({} {first} … {last}{})",
        s.len(),
        model.metric.label,
        kind.axis_label(),
        if kind == crate::series::StepKind::Index {
            "; the log prints no step number"
        } else {
            ""
        }
    )?;
    let pct = if s.is_empty() {
        0.0
    } else {
        100.0 * s.above_clip() as f64 / s.len() as f64
    };
    // No threshold known: there is nothing to be above.
    let above = if from == crate::run::ClipSource::Unknown {
        "above clip  —".to_string()
    } else {
        format!("above clip  {} ({pct:.1}%)", s.above_clip())
    };
    writeln!(
        out,
        "  {above}   non-finite {}   skipped lines {}   restarts {}",
        s.nonfinite(),
        model.skipped_records,
        model.restarts()
    )?;
    if s.merged() > 0 {
        writeln!(
            out,
            "  duplicates  {} records logged twice (same step and value), counted once",
            s.merged()
        )?;
    }
    if model.overflows > 0 {
        writeln!(
            out,
            "  overflows   {} steps skipped for fp16 overflow{} (not divergence)",
            model.overflows,
            model.loss_scale.map_or(String::new(), |l| format!(
                "; loss scale now {}",
                fmt_value(l)
            ))
        )?;
    }
    if let Some(end) = model.finished {
        writeln!(out, "  ended       {} (the source says so)", end.word())?;
    }
    let unexplained = model.unexplained_nonfinite();
    if unexplained > 0 {
        writeln!(
            out,
            "  DIVERGING   {unexplained} non-finite values not explained by overflow notes"
        )?;
    }
    if let Some((lo, hi)) = s.value_range(0..s.len()) {
        writeln!(out, "  range       {} … {}", fmt_value(lo), fmt_value(hi))?;
    }
    let p = s.params();
    let rule = if clip.is_some() {
        "above clip and "
    } else {
        ""
    };
    writeln!(
        out,
        "  explosions  {} ({rule}> {}× the median of the previous {} points)",
        s.events().len(),
        fmt_value(p.factor),
        p.window
    )?;
    let ev = ranked(s);
    if ev.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "  rank  {:>10}  {:>10}  {:>10}  {:>10}  {:>8}  loss before → after",
        "start", "end", "peak step", "peak", "×median"
    )?;
    for (rank, e) in ev.iter().enumerate() {
        let before = e.start.checked_sub(1).and_then(|i| s.loss(i));
        let after = s.loss(e.end + 1);
        let loss = match (before, after) {
            (None, None) => "—".to_string(),
            (b, a) => format!(
                "{} → {}",
                b.map_or("—".into(), fmt_value),
                a.map_or("—".into(), fmt_value)
            ),
        };
        writeln!(
            out,
            "  {:>4}  {:>10}  {:>10}  {:>10}  {:>10}  {:>8}  {loss}",
            rank + 1,
            s.step(e.start).unwrap_or(0),
            s.step(e.end).unwrap_or(0),
            s.step(e.peak).unwrap_or(0),
            fmt_value(e.peak_value),
            format!("{:.1}×", e.factor),
        )?;
        if let (Some(c), Some(start)) = (model.last_good(e), s.step(e.start)) {
            writeln!(
                out,
                "        last good: {} ({} steps before)",
                crate::text::printable_path(&c.path),
                start - c.step.unwrap_or(start)
            )?;
        }
    }
    Ok(())
}

/// ` (gradient norm ← norm)` where the format prints the gradient norm under another name.
pub fn gnorm_alias(model: &RunData) -> String {
    model
        .format
        .and_then(|f| f.gnorm_name())
        .filter(|_| model.metric.role == crate::core::Role::GradNorm)
        .map_or(String::new(), |n| format!(" (gradient norm ← {n})"))
}

/// The clip threshold as a person reads it: `1 (HF Trainer's default)`, `5 (from the log)`,
/// `unknown (…; give it with --clip X)`.
pub fn clip_words(model: &RunData) -> String {
    use crate::run::ClipSource;
    let (clip, from) = model.clip();
    let value = clip.map_or("off".to_string(), fmt_value);
    match from {
        ClipSource::Flag => format!("{value} (from --clip)"),
        ClipSource::Log => format!("{value} (from the log)"),
        ClipSource::Default => match model.clip_framework() {
            Some(fw) if model.metric.role == crate::core::Role::GradNorm => {
                format!("{value} ({fw}'s default: none in the log)")
            }
            _ => format!("{value} (from default: none in the log)"),
        },
        ClipSource::Unknown => "unknown (the log does not say; give it with --clip X)".to_string(),
    }
}

/// The summary of several runs: one row per run, most unstable first (see
/// [`crate::run::instability`]), then the runs that could not be read.
pub fn write_table(
    runs: &[(String, &RunData)],
    failed: &[(String, String)],
    out: &mut dyn Write,
) -> io::Result<()> {
    use crate::run::Instability;
    let mut rows: Vec<(&str, &RunData, Instability)> = runs
        .iter()
        .map(|(n, d)| (n.as_str(), *d, Instability::of(d)))
        .collect();
    rows.sort_by(|a, b| b.2.score.total_cmp(&a.2.score).then(a.0.cmp(b.0)));
    let width = rows
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(3)
        .clamp(3, 48);
    writeln!(
        out,
        "rank  {:<width$}  {:>9}  {:>10}  {:>10}  {:>8}  {:>6}  {:>9}  {:>10}  {:>7}  status",
        "run", "points", "last step", "last", "clip", ">clip", "explosions", "non-finite", "score"
    )?;
    for (rank, (name, d, i)) in rows.iter().enumerate() {
        let s = d.primary();
        let last = s.len().checked_sub(1);
        let name: String = printable(name).chars().take(width).collect();
        // How the run ended, when its source said so (nothing for a run still going).
        let status = d
            .finished
            .map_or(String::new(), |e| format!("  {}", e.word()));
        writeln!(
            out,
            "{:>4}  {name:<width$}  {:>9}  {:>10}  {:>10}  {:>8}  {:>6}  {:>9}  {:>10}  {:>7.1}{status}",
            rank + 1,
            s.len(),
            last.and_then(|l| s.step(l))
                .map_or("—".into(), |v| v.to_string()),
            last.and_then(|l| s.value(l)).map_or("—".into(), fmt_value),
            d.clip().0.map_or("—".into(), fmt_value),
            i.clipped_pct.map_or("—".into(), |p| format!("{p:.1}%")),
            i.explosions,
            i.nonfinite,
            i.score,
        )?;
    }
    for (name, why) in failed {
        writeln!(
            out,
            "   —  {}  not read: {}",
            printable(name),
            printable(why)
        )?;
    }
    writeln!(
        out,
        "score = 10×explosions + 10×log10(1+non-finite) + 0.5×%above clip + 5×log2(peak/median)"
    )
}
