//! The overlay of runs on tab 1's top panel (`Space` toggles the selected run, `a` all,
//! `Enter` shows one run alone): the shown run's bars, and each other run's highest value per
//! column as a marker in its own colour (NO_COLOR: its own marker glyph), its explosions as
//! `▼` above its markers, its clip threshold as a line in its colour when it differs from the
//! shown run's, and a legend. The other runs are placed by step on the shown run's x-window.

use crate::run::RunData;
use crate::series::{Series, Summary, FLAG_EXPLOSION};
use crate::view::window::Span;
use crate::view::StepAxis;
use ratatui::style::Style;

/// A run in the overlay, as the frame hands it to the chart.
#[derive(Debug, Clone, Copy)]
pub struct Overlaid<'a> {
    pub name: &'a str,
    pub data: &'a RunData,
    /// Its swatch: the marker glyph and style (the runs panel's).
    pub mark: char,
    pub style: Style,
    /// The run whose bars are drawn (the shown one): in the legend, not drawn as markers.
    pub shown: bool,
}

/// One overlaid run laid on the window's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The highest finite value in each column (`None`: no point there).
    pub highs: Vec<Option<f64>>,
    /// Whether each column holds a point of one of its explosions.
    pub explosions: Vec<bool>,
    pub clip: Option<f64>,
    pub mark: char,
    pub style: Style,
}

/// The runs the runs panel put in the overlay, the shown one first (with its data from
/// `shown`, which the workspace holds no copy of); empty when no other run is overlaid.
pub fn from_runs<'a>(
    runs: &'a super::runs_table::RunsPanel,
    shown: &'a RunData,
    theme: &super::theme::Theme,
) -> Vec<Overlaid<'a>> {
    let ws = &runs.workspace;
    let others: Vec<_> = runs
        .overlay
        .iter()
        .filter(|id| **id != runs.focus)
        .filter_map(|id| ws.get(*id).map(|m| (*id, m)))
        .collect();
    if others.is_empty() {
        return Vec::new();
    }
    let entry = |id, name: &'a str, data: &'a RunData, is_shown| {
        let (mark, style) = super::runs_table::swatch(theme, id);
        Overlaid {
            name,
            data,
            mark,
            style,
            shown: is_shown,
        }
    };
    let name = ws.get(runs.focus).map_or("", |m| m.name.as_str());
    let mut out = vec![entry(runs.focus, name, shown, true)];
    out.extend(
        others
            .into_iter()
            .map(|(id, m)| entry(id, m.name.as_str(), &m.run.data, false)),
    );
    out
}

/// The step at axis position `x` of the shown run (its segment's first step, offset).
fn step_at(axis: &StepAxis, x: u64) -> u64 {
    let segs = axis.segments();
    let k = segs.partition_point(|s| s.base <= x);
    match k.checked_sub(1).and_then(|k| segs.get(k)) {
        Some(s) => s.first_step.saturating_add(x - s.base),
        None => segs.first().map_or(x, |s| s.first_step),
    }
}

/// The overlaid runs (not the shown one) on the columns of `span` over `axis`.
pub fn lines(axis: &StepAxis, span: &Span, runs: &[Overlaid<'_>]) -> Vec<Line> {
    runs.iter()
        .filter(|r| !r.shown && !r.data.per_epoch())
        .map(|r| line(axis, span, r))
        .collect()
}

fn line(axis: &StepAxis, span: &Span, r: &Overlaid<'_>) -> Line {
    let s: &Series = r.data.primary();
    let all = 0..s.len();
    let mut highs = Vec::with_capacity(span.columns);
    let mut explosions = Vec::with_capacity(span.columns);
    for k in 0..span.columns {
        let c = span.column(k);
        if c.is_empty() {
            highs.push(None);
            explosions.push(false);
            continue;
        }
        let (a, b) = (
            step_at(axis, c.start),
            step_at(axis, c.end - 1).saturating_add(1),
        );
        let (i, j) = (
            s.first_at_or_after(all.clone(), a),
            s.first_at_or_after(all.clone(), b),
        );
        let col = s.column(i..j);
        highs.push(col.filter(|c| c.has_finite()).map(|c| c.max));
        explosions.push(col.is_some_and(|c| c.flags & FLAG_EXPLOSION != 0));
    }
    Line {
        highs,
        explosions,
        clip: s.clip(),
        mark: r.mark,
        style: r.style,
    }
}

/// The values the overlaid runs put in view, for the y-scale.
pub fn summary(lines: &[Line]) -> Summary {
    let mut out = Summary::EMPTY;
    for v in lines.iter().flat_map(|l| l.highs.iter().flatten()) {
        out.merge(&Summary::point(*v, 0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::ExplosionParams;

    #[test]
    fn another_run_is_placed_by_step() {
        let mut shown = Series::new(None, ExplosionParams::default());
        for st in 1..=10u64 {
            shown.push(Some(st * 10), 1.0, None, None);
        }
        let axis = StepAxis::new(&shown);
        let span = crate::view::XWindow::default().span(&axis, 10);
        assert_eq!(step_at(&axis, 0), 10);
        let mut data = RunData::new(
            "b".into(),
            crate::core::MetricKey::new("gnorm"),
            None,
            ExplosionParams::default(),
        );
        // Logged from step 50 only, every 10 steps: the first columns are empty.
        for st in 5..=10u64 {
            data.steps.push(Some(st * 10), st as f64, None, None);
        }
        let r = Overlaid {
            name: "b",
            data: &data,
            mark: '▲',
            style: Style::default(),
            shown: false,
        };
        let l = &lines(&axis, &span, &[r])[0];
        let got: Vec<Option<f64>> = l.highs.clone();
        assert_eq!(got.iter().filter(|v| v.is_some()).count(), 6, "{got:?}");
        assert_eq!(got.first(), Some(&None));
        assert_eq!(got.iter().flatten().last(), Some(&10.0));
        assert_eq!(summary(std::slice::from_ref(l)).max, 10.0);
    }
}
