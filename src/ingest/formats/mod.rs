//! One parser per log format, all producing the same [`Record`]s: the charted metric in
//! column 0 and the loss of the same line beside it.
//!
//! The format of a file is detected from the first line that carries the metric
//! ([`detect`]); from then on every line goes through that format's parser, which knows which
//! lines are per-step records and which are epoch aggregates (fairseq's `| train |` summaries).

pub mod clip;
pub mod discover;
pub mod end;
mod fairseq;
mod hf;
mod jsonl;
mod keycolon;
mod keyvalue;
mod megatron;
mod mmengine;
mod nanogpt;
mod olmo;
pub mod overflow;
pub mod panels;
mod record;
pub mod syntax;
mod torchtitan;

use memchr::memmem;
use record::{record_with, to_parsed};

pub use crate::core::LogFormat;

pub use crate::core::Record as MetricRecord;
use crate::core::{MetricKey, Record};
use std::sync::Arc;

/// The column of the loss in a text parser's records (when the charted metric is not the loss
/// itself, which is then column 0 alone).
pub const LOSS_COLUMN: usize = 1;

/// A record of `value` with the loss of the same record beside it (dropped by a batch whose
/// read charts the loss itself, which has no separate loss column).
pub fn record(step: Option<u64>, value: f64, loss: Option<f64>) -> Record {
    let mut r = Record::new(step, value);
    r.values[LOSS_COLUMN] = loss;
    r
}

/// What one line contributed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parsed {
    /// A per-step record.
    Step(Record),
    /// An aggregate over an epoch (fairseq `| train |` lines): charted only when a log holds
    /// nothing finer.
    Aggregate(Record),
    /// The line names the metric but its value could not be read: counted as skipped.
    Malformed,
    /// A header naming the step of the records on the lines after it (OLMo).
    Header(u64),
    /// Not a metric line.
    Nothing,
}

/// Which metric to read, under which names.
#[derive(Debug, Clone)]
pub struct MetricSpec {
    /// Label shown and written to JSON (`gnorm`, or the `--metric` name).
    pub label: String,
    /// Names the metric goes by, tried in order.
    pub aliases: Vec<syntax::Key>,
    /// Fast pre-filters: a line containing none of these cannot hold the metric.
    finders: Vec<memmem::Finder<'static>>,
    /// Tab 1's panels below the charted metric, as the user named them (empty: a read of the
    /// metric and its loss only, the headless commands' fast path).
    panels: Vec<String>,
    /// The panels' metrics read into columns after the loss.
    companions: Vec<panels::Companion>,
}

/// The names frameworks give the gradient norm (matched whole, or as the last component of a
/// `/` path: `train_inner/gnorm`). nanoGPT and llm.c also print it as `norm`
/// ([`LogFormat::gnorm_name`]): only in those formats is `norm` the gradient norm.
pub const GNORM_ALIASES: [&str; 11] = [
    "gnorm",
    "grad_norm",
    "grad norm",
    "gradient_norm",
    "total_norm",
    "train/grad_norm",
    "optim/total_grad_norm",
    "total_grad_norm",
    "grad_norm/total",
    "global_grad_norm",
    "grad_l2_norm",
];
/// The names frameworks give the step counter, in order of preference.
pub const STEP_ALIASES: [&str; 6] = [
    "num_updates",
    "global_step",
    "iteration",
    "step",
    "train/global_step",
    "current_steps",
];
/// The step in the formats of whole-key fields (llm.c's `main.log` prints `s:N`).
const FIELD_STEPS: [&str; 2] = ["step", "s"];
/// The loss in the formats of whole-key fields (llm.c's `main.log`: `trl`).
const FIELD_LOSSES: [&str; 3] = ["loss", "trl", "train loss"];
pub(crate) const LOSS_ALIASES: [&str; 3] = ["loss", "lm loss", "train/loss"];

impl MetricSpec {
    /// The gradient norm, under all its names.
    pub fn gnorm() -> Self {
        Self::with_aliases("gnorm", &GNORM_ALIASES)
    }

    /// `--metric NAME`: the gradient norm if NAME is one of its aliases, `loss` with its
    /// Megatron spelling, else NAME exactly.
    pub fn named(name: &str) -> Self {
        if GNORM_ALIASES.contains(&name) {
            return Self::gnorm();
        }
        if name == "loss" {
            return Self::with_aliases("loss", &LOSS_ALIASES);
        }
        Self::with_aliases(name, &[name])
    }

    fn with_aliases(label: &str, aliases: &[&str]) -> Self {
        let mut finders: Vec<memmem::Finder<'static>> = Vec::new();
        // "grad_norm" also covers "train/grad_norm": keep only the shortest needles.
        for a in aliases {
            if !aliases
                .iter()
                .any(|b| b != a && b.len() < a.len() && a.contains(b))
            {
                finders.push(memmem::Finder::new(a.as_bytes()).into_owned());
            }
        }
        MetricSpec {
            label: label.to_string(),
            aliases: aliases
                .iter()
                .map(|a| {
                    // The gradient norm's names also match as a path's last component.
                    if label == "gnorm" {
                        syntax::Key::path_suffix(a)
                    } else {
                        syntax::Key::new(a)
                    }
                })
                .collect(),
            finders,
            panels: Vec::new(),
            companions: Vec::new(),
        }
    }

    pub fn is_gnorm(&self) -> bool {
        self.key().role == crate::core::Role::GradNorm
    }

    /// The metric as a run holds it (label and role).
    pub fn key(&self) -> MetricKey {
        MetricKey::new(&self.label)
    }

    /// The columns a read of this metric extracts: the metric, then the loss beside it (for
    /// the explosion report's "loss before → after") unless the metric is the loss.
    /// Then one column per panel metric ([`MetricSpec::with_panels`]).
    pub fn columns(&self) -> Arc<[MetricKey]> {
        let key = self.key();
        let mut cols = if key.role == crate::core::Role::Loss {
            vec![key]
        } else {
            vec![key, MetricKey::new("loss")]
        };
        cols.extend(self.companions.iter().map(|c| c.key.clone()));
        cols.into()
    }

    /// Whether `line` may hold the metric (a substring test, no parsing).
    pub fn may_match(&self, line: &[u8]) -> bool {
        self.finders.iter().any(|f| f.find(line).is_some())
    }

    fn prefixed(&self, prefix: &str) -> Vec<syntax::Key> {
        self.aliases
            .iter()
            .map(|a| syntax::Key::new(&format!("{prefix}{}", String::from_utf8_lossy(a.bytes()))))
            .collect()
    }
}

/// Parses the lines of one file in a known format. Stateless per line, so the history of a
/// big file can be parsed in parallel chunks.
#[derive(Debug, Clone)]
pub struct LineParser {
    pub format: LogFormat,
    pub metric: MetricSpec,
    steps: Vec<syntax::Key>,
    losses: Vec<syntax::Key>,
    /// fairseq json epoch summaries prefix every key with `train_`.
    train_prefixed: Vec<syntax::Key>,
    clip_key: syntax::Key,
    /// Whether the loss is read into [`LOSS_COLUMN`] (not when it is the charted metric).
    reads_loss: bool,
    /// The metric's names in the formats of whole-key fields (nanoGPT, llm.c): its aliases,
    /// plus `norm` for the gradient norm.
    field_aliases: Vec<syntax::Key>,
    field_steps: Vec<syntax::Key>,
    field_losses: Vec<syntax::Key>,
    /// The panels' metrics: the column each fills and its names.
    extras: Vec<(usize, Vec<syntax::Key>)>,
    /// The metric's, step's, loss's (when read) and panels' names, for one pass over a
    /// `key=value` line: groups in that order.
    eq_fields: syntax::EqFields,
}

impl LineParser {
    pub fn new(format: LogFormat, metric: MetricSpec) -> Self {
        let train_prefixed = metric.prefixed("train_");
        let mut field_aliases = metric.aliases.clone();
        if let (Some(name), true) = (format.gnorm_name(), metric.is_gnorm()) {
            field_aliases.push(syntax::Key::new(name));
        }
        let keys = |names: &[&str]| names.iter().map(|s| syntax::Key::new(s)).collect();
        let steps: Vec<syntax::Key> = keys(&STEP_ALIASES);
        let losses: Vec<syntax::Key> = keys(&LOSS_ALIASES);
        let reads_loss =
            metric.columns().len() > LOSS_COLUMN && metric.key().role != crate::core::Role::Loss;
        let extras: Vec<(usize, Vec<syntax::Key>)> = metric
            .companions
            .iter()
            .map(|c| (c.column, c.keys.clone()))
            .collect();
        let mut groups: Vec<&[syntax::Key]> = vec![&metric.aliases, &steps];
        // A loss not read is not looked for (the pass stops once every group has its
        // first-choice key).
        groups.push(if reads_loss { &losses } else { &[] });
        groups.extend(extras.iter().map(|(_, k)| k.as_slice()));
        let eq_fields = syntax::EqFields::new(&groups);
        LineParser {
            eq_fields,
            field_aliases,
            field_steps: keys(&FIELD_STEPS),
            field_losses: keys(&FIELD_LOSSES),
            format,
            steps,
            losses,
            clip_key: syntax::Key::new("clip"),
            train_prefixed,
            reads_loss,
            extras,
            metric,
        }
    }

    /// Parses one line (already stripped of ANSI escapes).
    pub fn parse(&self, line: &[u8]) -> Parsed {
        // Every format's parser starts by looking for the metric's name, so a line without it
        // costs one search per alias.
        match self.format {
            LogFormat::FairseqSimple => fairseq::parse_simple(self, line),
            LogFormat::FairseqJson => fairseq::parse_json(self, line),
            LogFormat::FairseqLegacy => fairseq::parse_legacy(self, line),
            LogFormat::HfTrainer => hf::parse(self, line),
            LogFormat::Megatron => megatron::parse(self, line),
            LogFormat::Torchtitan => torchtitan::parse(self, line),
            LogFormat::Nanogpt | LogFormat::Llmc => nanogpt::parse(self, line),
            LogFormat::Olmo => olmo::parse(self, line),
            LogFormat::Mmengine => mmengine::parse(self, line),
            LogFormat::KeyColon => keycolon::parse(self, line),
            LogFormat::JsonLines => jsonl::parse(self, line),
            LogFormat::KeyValue => keyvalue::parse(self, line),
            // Not line formats: their files never reach a line parser.
            LogFormat::TensorBoard
            | LogFormat::Wandb
            | LogFormat::Mlflow
            | LogFormat::HfTrainerState
            | LogFormat::LightningCsv
            | LogFormat::Csv => Parsed::Nothing,
        }
    }

    /// Whether this line's framework printed a `clip` field next to the metric (fairseq prints
    /// it only when `--clip-norm` > 0).
    pub fn has_clip_field(&self, line: &[u8]) -> bool {
        match self.format {
            LogFormat::FairseqSimple => self.clip_key.value_in(line, syntax::Sep::Eq).is_some(),
            LogFormat::FairseqJson => self.clip_key.value_in(line, syntax::Sep::Json).is_some(),
            _ => false,
        }
    }
}

/// Guesses the format from a line that may carry the metric; `None` when the line does not
/// yield a record in any format. `after_olmo_header`: an OLMo step header came before it.
pub fn detect(line: &[u8], metric: &MetricSpec) -> Option<LogFormat> {
    detect_after(line, metric, false)
}

/// [`detect`], told whether an OLMo step header (`[step=N/M,…]`) came before the line.
pub fn detect_after(
    line: &[u8],
    metric: &MetricSpec,
    after_olmo_header: bool,
) -> Option<LogFormat> {
    // nanoGPT and llm.c print the gradient norm as `norm`, which the pre-filter does not know.
    let fields = nanogpt::is_record_line(line, LogFormat::Llmc);
    if !(metric.may_match(line) || fields && metric.is_gnorm()) {
        return None;
    }
    let has = |needle: &[u8]| memmem::find(line, needle).is_some();
    let mut order: Vec<LogFormat> = Vec::with_capacity(8);
    if has(b"train_inner") {
        order.push(if has(b"{\"") {
            LogFormat::FairseqJson
        } else {
            LogFormat::FairseqSimple
        });
    }
    if has(b"iteration") && has(b"|") {
        order.push(LogFormat::Megatron);
    }
    if has(b"{'") {
        order.push(LogFormat::HfTrainer);
    }
    if mmengine::is_train_line(line) {
        order.push(LogFormat::Mmengine);
    }
    if has(b"{\"") {
        order.push(LogFormat::JsonLines);
    }
    if has(b"| epoch ") || has(b"num_updates") {
        order.push(LogFormat::FairseqLegacy);
    }
    if fields {
        order.push(if nanogpt::looks_like_llmc(line) {
            LogFormat::Llmc
        } else {
            LogFormat::Nanogpt
        });
    }
    if after_olmo_header {
        order.push(LogFormat::Olmo);
    }
    order.extend([
        LogFormat::Torchtitan,
        LogFormat::KeyValue,
        LogFormat::KeyColon,
        LogFormat::JsonLines,
    ]);
    order.into_iter().find(|&f| {
        matches!(
            LineParser::new(f, metric.clone()).parse(line),
            Parsed::Step(_) | Parsed::Aggregate(_)
        )
    })
}

/// The step an OLMo header line names, for the decoder to carry to the lines below it.
pub fn olmo_header(line: &[u8]) -> Option<u64> {
    olmo::header_step(line)
}

#[cfg(test)]
mod tests;
