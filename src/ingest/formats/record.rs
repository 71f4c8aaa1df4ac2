//! One line's fields into a [`Record`]: the charted metric, then the step, the loss and the
//! panels' metrics of the same line, in one syntax.

use super::{syntax, LineParser, Parsed, LOSS_COLUMN};
use crate::core::Record;

/// Reads value, step and loss with one syntax into a record; `None` when the metric is absent,
/// `Some(None)` when present but unreadable.
pub(super) fn record_with(p: &LineParser, line: &[u8], sep: syntax::Sep) -> Option<Option<Record>> {
    if sep == syntax::Sep::Eq {
        return record_eq(p, line);
    }
    let raw = syntax::first_of(line, &p.metric.aliases, sep)?;
    let Some(value) = syntax::parse_number(raw) else {
        return Some(None);
    };
    let step = syntax::first_of(line, &p.steps, sep).and_then(syntax::parse_step);
    let mut rec = Record::new(step, value);
    if p.reads_loss {
        rec.values[LOSS_COLUMN] =
            syntax::first_of(line, &p.losses, sep).and_then(syntax::parse_number);
    }
    for (col, keys) in &p.extras {
        rec.values[*col] = syntax::first_of(line, keys, sep).and_then(syntax::parse_number);
    }
    Some(Some(rec))
}

/// [`record_with`] in `key=value` syntax: every field found in one pass over the line.
fn record_eq(p: &LineParser, line: &[u8]) -> Option<Option<Record>> {
    const GROUPS: usize = 3 + crate::core::MAX_COLUMNS;
    let mut found: [Option<&[u8]>; GROUPS] = [None; GROUPS];
    p.eq_fields.find(line, &mut found);
    let Some(value) = syntax::parse_number(found[0]?) else {
        return Some(None);
    };
    let mut rec = Record::new(found[1].and_then(syntax::parse_step), value);
    if p.reads_loss {
        rec.values[LOSS_COLUMN] = found[2].and_then(syntax::parse_number);
    }
    for (g, (col, _)) in p.extras.iter().enumerate() {
        rec.values[*col] = found
            .get(3 + g)
            .copied()
            .flatten()
            .and_then(syntax::parse_number);
    }
    Some(Some(rec))
}

pub(super) fn to_parsed(r: Option<Option<Record>>, aggregate: bool) -> Parsed {
    match r {
        None => Parsed::Nothing,
        Some(None) => Parsed::Malformed,
        Some(Some(rec)) if aggregate => Parsed::Aggregate(rec),
        Some(Some(rec)) => Parsed::Step(rec),
    }
}
