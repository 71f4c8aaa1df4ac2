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
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Writes the `--json` object. Points are streamed, so millions of them need no extra memory.
pub fn write_json(model: &RunData, out: &mut dyn Write) -> io::Result<()> {
    let s = model.primary();
    let (clip, from) = model.clip();
    let mut w = io::BufWriter::with_capacity(1 << 16, out);
    write!(w, "{{\"source\":{}", js(&model.source.to_string_lossy())?)?;
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
        })
        .collect();
    write!(w, ",\"explosions\":{}", js(&explosions)?)?;
    write!(w, ",\"skipped_lines\":{}", model.skipped_records)?;
    write!(w, ",\"restarts\":{}", model.restarts())?;
    write!(w, ",\"per_epoch\":{}", model.per_epoch())?;
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
        "  format      {}{}",
        model.format.map(|f| f.name()).unwrap_or("unknown"),
        if model.per_epoch() {
            " (per-epoch summaries only: the log has no per-step lines)"
        } else {
            ""
        }
    )?;
    let clip_text = match (clip, from) {
        (Some(c), _) => format!("{} (from {})", fmt_value(c), from_words(from)),
        (None, _) => format!("off (from {})", from_words(from)),
    };
    writeln!(out, "  clip        {clip_text}")?;
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
    writeln!(
        out,
        "  above clip  {} ({pct:.1}%)   non-finite {}   skipped lines {}   restarts {}",
        s.above_clip(),
        s.nonfinite(),
        model.skipped_records,
        model.restarts()
    )?;
    if let Some((lo, hi)) = s.value_range(0..s.len()) {
        writeln!(out, "  range       {} … {}", fmt_value(lo), fmt_value(hi))?;
    }
    let p = s.params();
    writeln!(
        out,
        "  explosions  {} (above clip and > {}× the median of the previous {} points)",
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
    }
    Ok(())
}

fn from_words(from: crate::run::ClipSource) -> &'static str {
    match from {
        crate::run::ClipSource::Flag => "--clip",
        crate::run::ClipSource::Log => "the log",
        crate::run::ClipSource::Default => "default: none in the log",
    }
}
