//! wandb's protobuf `Record`s (field numbers from `wandb_internal.proto`, wandb 0.31) → the
//! project's [`Batch`]es. Only what is charted is decoded; every other record and field is
//! skipped by its tag and length.
//!
//! - `Record`: `history` = 2, `config` = 5, `run` = 17, `exit` = 18 (the rest skipped).
//! - `HistoryRecord`: `item` = 1 (repeated), `step` = 2 (`HistoryStep.num` = 1).
//! - `HistoryItem` / `ConfigItem`: `key` = 1, `nested_key` = 2 (repeated, joined with `/`),
//!   `value_json` = 16; newer writers may send typed values: `integer` = 5 (sint64),
//!   `number` = 6 (double).
//! - `RunRecord`: `run_id` = 1, `project` = 3, `config` = 4, `display_name` = 8.
//! - `ConfigRecord`: `update` = 1. `RunExitRecord`: `exit_code` = 1.
//!
//! The step is the record's `_step` item, else its `HistoryStep`. `value_json` numbers go
//! through the project's number parser ([`parse_number`](crate::ingest::formats::syntax::parse_number)): `NaN` and `Infinity` are kept.
//! wandb writes `summary` records after every `log` call, so only `exit` means finished.

use super::config::clip_in;
pub use super::config::CLIP_KEYS;
use super::items::{
    item_of, split_name, usual_layout, value_after_name, ItemValue, RawKey, RawNames,
};
use super::proto::{fields, Value};
use crate::core::{Batch, Record, MAX_COLUMNS};
use crate::ingest::formats::MetricSpec;
use crate::ingest::LogFormat;

/// What the run's own records say about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunInfo {
    /// `run_id` (the `<id>` of `run-<id>.wandb`).
    pub id: Option<String>,
    /// `display_name`: the name the W&B UI shows.
    pub name: Option<String>,
    pub project: Option<String>,
    /// An `exit` record was read: the run ended (`exit_code` 0: it finished).
    pub finished: bool,
    pub exit_code: Option<i32>,
}

/// Metric names kept for the "no metric" message (the first ones, in file order).
const MAX_NAMES: usize = 64;
/// Distinct item names whose roles are remembered (a run logs the same keys again and again).
const REMEMBERED: usize = 64;

/// What an item's name is to the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemRole {
    Step,
    Metric,
    Loss,
    /// A panel's metric, in this record column.
    Panel(usize),
    Other,
}

/// Turns record payloads into batches of the metric (and the loss beside it).
#[derive(Debug)]
pub struct RecordDecoder {
    names: Vec<Vec<u8>>,
    /// Whether the names match as a path's last component too (the gradient norm's aliases).
    component: bool,
    /// Whether the loss gets a column of its own.
    loss_column: bool,
    /// For the panels' metrics (columns after the loss).
    metric: MetricSpec,
    batch: Batch,
    pub info: RunInfo,
    /// Metric names seen, for the "no metric" message.
    pub seen: Vec<String>,
    /// The names met so far (the first [`REMEMBERED`]) and their roles: an item's name is
    /// matched once, not against every alias each time.
    remembered: Vec<(Vec<u8>, ItemRole)>,
    /// The same by the raw bytes of the items' leading name fields ([`split_name`]).
    by_raw_name: RawNames<ItemRole>,
    joined: Vec<u8>,
}

fn last_part(name: &[u8]) -> &[u8] {
    memchr::memrchr(b'/', name).map_or(name, |i| &name[i + 1..])
}

impl RecordDecoder {
    pub fn new(metric: &MetricSpec) -> Self {
        let batch = Batch::with_columns(metric.columns());
        RecordDecoder {
            names: metric.aliases.iter().map(|k| k.bytes().to_vec()).collect(),
            component: metric.is_gnorm(),
            loss_column: metric.has_loss_column(),
            metric: metric.clone(),
            batch,
            info: RunInfo::default(),
            seen: Vec::new(),
            remembered: Vec::new(),
            by_raw_name: RawNames::new(),
            joined: Vec::new(),
        }
    }

    /// A fresh decoder for the same metric (for a stretch of the file decoded in parallel).
    pub fn sibling(&self) -> Self {
        RecordDecoder {
            names: self.names.clone(),
            component: self.component,
            loss_column: self.loss_column,
            metric: self.metric.clone(),
            batch: self.batch.empty_like(),
            info: RunInfo::default(),
            seen: Vec::new(),
            remembered: Vec::new(),
            by_raw_name: RawNames::new(),
            joined: Vec::new(),
        }
    }

    /// Takes in what `later`, a [`sibling`](Self::sibling) fed the records right after this
    /// one's, decoded: the same state as if this decoder had decoded them itself.
    pub fn absorb(&mut self, later: RecordDecoder) {
        self.batch.extend(later.batch);
        for name in later.seen {
            if self.seen.len() < MAX_NAMES && !self.seen.contains(&name) {
                self.seen.push(name);
            }
        }
        let info = later.info;
        for (mine, theirs) in [
            (&mut self.info.id, info.id),
            (&mut self.info.name, info.name),
            (&mut self.info.project, info.project),
        ] {
            if theirs.is_some() {
                *mine = theirs;
            }
        }
        self.info.finished |= info.finished;
        if info.exit_code.is_some() {
            self.info.exit_code = info.exit_code;
        }
    }

    /// The records decoded since the last call.
    pub fn take_batch(&mut self) -> Batch {
        let next = self.batch.empty_like();
        let mut b = std::mem::replace(&mut self.batch, next);
        if !b.is_empty() || b.lines > 0 {
            b.detected = Some(LogFormat::Wandb);
        }
        b
    }

    /// Room for `records` more records in the batch (a part of a long read: its records
    /// then grow no vectors one doubling at a time).
    pub fn reserve(&mut self, records: usize) {
        self.batch.steps.reserve(records);
    }

    /// Counts records lost to damage.
    pub fn skipped(&mut self, n: u64) {
        self.batch.skipped += n;
    }

    fn is_metric(&self, name: &[u8]) -> bool {
        let last = last_part(name);
        self.names
            .iter()
            .any(|n| n == name || (self.component && n == last))
    }

    fn is_loss(&self, name: &[u8]) -> bool {
        self.loss_column && (name == b"loss" || name == b"train/loss" || last_part(name) == b"loss")
    }

    /// Decodes one record's payload.
    pub fn record(&mut self, payload: &[u8]) {
        for (n, v) in fields(payload) {
            match (n, v) {
                (2, Value::Bytes(h)) => self.history(h),
                (5, Value::Bytes(c)) => self.config(c),
                (17, Value::Bytes(r)) => self.run(r),
                (18, Value::Bytes(e)) => self.exit(e),
                _ => {}
            }
        }
    }

    /// The role of `name`, the item at position `at`: looked up among the names met before
    /// (the one met at the same position first: writers that keep the order hit at once;
    /// wandb-core's order varies from record to record).
    fn role(&mut self, at: usize, name: &[u8]) -> ItemRole {
        if let Some((n, role)) = self.remembered.get(at) {
            if n == name {
                return *role;
            }
        }
        if let Some((_, role)) = self.remembered.iter().find(|(n, _)| n == name) {
            return *role;
        }
        let role = if name == b"_step" {
            ItemRole::Step
        } else if self.is_metric(name) {
            ItemRole::Metric
        } else if self.is_loss(name) {
            ItemRole::Loss
        } else if let Some(c) = self.metric.companion_column(name) {
            ItemRole::Panel(c)
        } else {
            ItemRole::Other
        };
        if !name.starts_with(b"_") {
            self.see(name);
        }
        if self.remembered.len() < REMEMBERED {
            self.remembered.push((name.to_vec(), role));
        }
        role
    }

    /// An item's role and value (`None`: it has no value). An item whose leading name
    /// fields were met before is told by their bytes, and its value is read only when it is
    /// charted; any other goes by its name.
    #[inline]
    fn item<'a>(
        &mut self,
        at: usize,
        item: &'a [u8],
        joined: &mut Vec<u8>,
    ) -> Option<(ItemRole, ItemValue<'a>)> {
        // Nearly every item: a name met before is told without walking the fields.
        if let Some((raw, json)) = usual_layout(item) {
            if let Some(role) = self.by_raw_name.get(RawKey::of(raw), raw) {
                let value = match role {
                    ItemRole::Other => ItemValue::Number(f64::NAN),
                    _ => ItemValue::Json(json),
                };
                return Some((role, value));
            }
        }
        let (raw, rest) = split_name(item);
        let key = RawKey::of(raw);
        let known = self.by_raw_name.get(key, raw);
        if let Some(role) = known {
            if role == ItemRole::Other {
                // Not charted: its value is not looked at (nor whether it has one).
                return Some((role, ItemValue::Number(f64::NAN)));
            }
            if let Some(value) = value_after_name(rest) {
                return Some((role, value?));
            }
        }
        let (name, value) = item_of(item, joined)?;
        let role = self.role(at, &name);
        if known.is_none()
            && self.by_raw_name.len() < REMEMBERED
            && !raw.is_empty()
            && value_after_name(rest).is_some()
        {
            self.by_raw_name.insert(raw, role);
        }
        Some((role, value))
    }

    fn history(&mut self, msg: &[u8]) {
        self.batch.lines += 1;
        let mut step: Option<u64> = None;
        let mut metric: Option<Option<f64>> = None;
        let mut loss: Option<f64> = None;
        let mut extras = [None; MAX_COLUMNS];
        let mut joined = std::mem::take(&mut self.joined);
        let mut at = 0;
        for (n, v) in fields(msg) {
            match (n, v) {
                (1, Value::Bytes(item)) => {
                    let Some((role, value)) = self.item(at, item, &mut joined) else {
                        continue;
                    };
                    // Only the values charted are parsed.
                    match role {
                        ItemRole::Step => step = value.step(),
                        ItemRole::Metric => metric = Some(value.number()),
                        ItemRole::Loss => loss = value.number(),
                        ItemRole::Panel(c) => extras[c] = value.number(),
                        ItemRole::Other => {}
                    }
                    at += 1;
                }
                (2, Value::Bytes(s)) if step.is_none() => {
                    step = fields(s)
                        .find(|(n, _)| *n == 1)
                        .and_then(|(_, v)| v.varint())
                        .and_then(|s| i64::try_from(s).ok())
                        .and_then(|s| u64::try_from(s).ok());
                }
                _ => {}
            }
        }
        self.joined = joined;
        match metric {
            Some(Some(v)) => {
                let mut values = extras;
                values[0] = Some(v);
                if self.loss_column {
                    values[1] = loss;
                }
                self.batch.steps.push(Record {
                    step,
                    frame: None,
                    values,
                });
            }
            Some(None) => self.batch.skipped += 1,
            None => {}
        }
    }

    fn see(&mut self, name: &[u8]) {
        if self.seen.len() < MAX_NAMES && !self.seen.iter().any(|s| s.as_bytes() == name) {
            self.seen.push(String::from_utf8_lossy(name).into_owned());
        }
    }

    fn config(&mut self, msg: &[u8]) {
        let mut joined = Vec::new();
        for (_, item) in fields(msg).filter(|(n, _)| *n == 1) {
            let Some(item) = item.bytes() else { continue };
            let Some(json) = fields(item)
                .find(|(n, _)| *n == 16)
                .and_then(|(_, v)| v.bytes())
            else {
                continue;
            };
            let Some((name, _)) = item_of(item, &mut joined) else {
                continue;
            };
            if let Some(clip) = clip_in(&name, json) {
                self.batch.clip_declared = Some(clip);
            }
        }
    }

    fn run(&mut self, msg: &[u8]) {
        // Control characters stripped: these reach the terminal.
        let text = |b: &[u8]| {
            (!b.is_empty())
                .then(|| crate::text::printable(&String::from_utf8_lossy(b)).into_owned())
        };
        for (n, v) in fields(msg) {
            match (n, v) {
                // An empty field says nothing (it does not erase what an earlier one said).
                (1, Value::Bytes(b)) => self.info.id = text(b).or(self.info.id.take()),
                (3, Value::Bytes(b)) => self.info.project = text(b).or(self.info.project.take()),
                (4, Value::Bytes(c)) => self.config(c),
                (8, Value::Bytes(b)) => self.info.name = text(b).or(self.info.name.take()),
                _ => {}
            }
        }
        self.batch.label = Some(Box::new(crate::core::RunLabel {
            name: self.info.name.clone(),
            id: self.info.id.clone(),
        }));
    }

    fn exit(&mut self, msg: &[u8]) {
        self.info.finished = true;
        self.info.exit_code = Some(0);
        for (n, v) in fields(msg) {
            if let (1, Value::Varint(c)) = (n, v) {
                // An int32 on the wire: negative values are sign-extended to 64 bits.
                self.info.exit_code = Some(c as i64 as i32);
            }
        }
        self.batch.ended = Some(match self.info.exit_code {
            Some(0) | None => crate::core::RunEnd::Finished,
            Some(_) => crate::core::RunEnd::Failed,
        });
    }
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
