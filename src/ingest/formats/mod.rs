//! One parser per log format, all producing the same [`MetricRecord`].
//!
//! The format of a file is detected from the first line that carries the metric
//! ([`detect`]); from then on every line goes through that format's parser, which knows which
//! lines are per-step records and which are epoch aggregates (fairseq's `| train |` summaries).

pub mod clip;
pub mod discover;
mod fairseq;
mod hf;
mod jsonl;
mod keyvalue;
mod megatron;
pub mod syntax;
mod torchtitan;

use memchr::memmem;
use std::fmt;
use std::str::FromStr;

/// One value of the watched metric, as a log line gave it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricRecord {
    /// The training step, when the line names one; `None` means "use the record's index".
    pub step: Option<u64>,
    /// The metric's value; NaN and ±inf are kept as such.
    pub value: f64,
    /// The training loss on the same line, when there is one (for the explosion report).
    pub loss: Option<f64>,
    /// A tqdm frame's counter, used to drop frames that repeat the previous one.
    pub frame: Option<u64>,
}

impl MetricRecord {
    pub fn new(step: Option<u64>, value: f64) -> Self {
        MetricRecord {
            step,
            value,
            loss: None,
            frame: None,
        }
    }
}

/// What one line contributed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parsed {
    /// A per-step record.
    Step(MetricRecord),
    /// An aggregate over an epoch (fairseq `| train |` lines): charted only when a log holds
    /// nothing finer.
    Aggregate(MetricRecord),
    /// The line names the metric but its value could not be read: counted as skipped.
    Malformed,
    /// Not a metric line.
    Nothing,
}

/// The log formats trainwatch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// fairseq `--log-format simple`: `train_inner | epoch 1: … num_updates=40100, gnorm=0.489`.
    FairseqSimple,
    /// fairseq `--log-format json`: `train_inner | {"gnorm": "20.751", …}` (values are strings).
    FairseqJson,
    /// fairseq ≤ 0.9 pipe lines: `| epoch 052 | … | gnorm 0.218 | clip 0% |`.
    FairseqLegacy,
    /// Hugging Face Trainer stdout: `{'loss': 1.7, 'grad_norm': 2.87, …}` (4.x bare, 5.x quoted).
    HfTrainer,
    /// Megatron-LM: `iteration N/ M | … | grad norm: X |`.
    Megatron,
    /// torchtitan: `step: 10  loss: 7.1  grad_norm: 1.3` (ANSI-coloured).
    Torchtitan,
    /// One JSON object per line with any of the aliases.
    JsonLines,
    /// `key=value` pairs anywhere in the line (tqdm postfix, custom loops).
    KeyValue,
    /// TensorBoard event files (not a line format: read by [`super::source`]).
    TensorBoard,
    /// Hugging Face `trainer_state.json` (not a line format).
    HfTrainerState,
    /// Lightning `metrics.csv` (not a line format).
    LightningCsv,
}

impl LogFormat {
    pub const ALL: [LogFormat; 8] = [
        LogFormat::FairseqSimple,
        LogFormat::FairseqJson,
        LogFormat::FairseqLegacy,
        LogFormat::HfTrainer,
        LogFormat::Megatron,
        LogFormat::Torchtitan,
        LogFormat::JsonLines,
        LogFormat::KeyValue,
    ];

    /// The sources that are not text logs (chosen with `--format` too).
    pub const SOURCES: [LogFormat; 3] = [
        LogFormat::TensorBoard,
        LogFormat::HfTrainerState,
        LogFormat::LightningCsv,
    ];

    /// Whether this is a line format of a text log.
    pub fn is_text(self) -> bool {
        !LogFormat::SOURCES.contains(&self)
    }

    pub fn name(self) -> &'static str {
        match self {
            LogFormat::FairseqSimple => "fairseq_simple",
            LogFormat::FairseqJson => "fairseq_json",
            LogFormat::FairseqLegacy => "fairseq_legacy",
            LogFormat::HfTrainer => "hf_trainer",
            LogFormat::Megatron => "megatron",
            LogFormat::Torchtitan => "torchtitan",
            LogFormat::JsonLines => "jsonl",
            LogFormat::KeyValue => "key_value",
            LogFormat::TensorBoard => "tensorboard",
            LogFormat::HfTrainerState => "hf_trainer_state",
            LogFormat::LightningCsv => "lightning_csv",
        }
    }

    /// Whether this framework prints a `clip` field only when clipping is on (fairseq).
    pub fn logs_clip_field(self) -> bool {
        matches!(self, LogFormat::FairseqSimple | LogFormat::FairseqJson)
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let all = LogFormat::ALL.into_iter().chain(LogFormat::SOURCES);
        all.clone()
            .find(|f| f.name() == s || f.name().replace('_', "-") == s)
            .ok_or_else(|| {
                let names: Vec<_> = all.map(|f| f.name()).collect();
                format!("unknown format '{s}' (known: {})", names.join(", "))
            })
    }
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
}

/// The names frameworks give the gradient norm.
pub const GNORM_ALIASES: [&str; 6] = [
    "gnorm",
    "grad_norm",
    "grad norm",
    "gradient_norm",
    "total_norm",
    "train/grad_norm",
];
/// The names frameworks give the step counter, in order of preference.
pub const STEP_ALIASES: [&str; 5] = [
    "num_updates",
    "global_step",
    "iteration",
    "step",
    "train/global_step",
];
const LOSS_ALIASES: [&str; 3] = ["loss", "lm loss", "train/loss"];

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
            aliases: aliases.iter().map(|a| syntax::Key::new(a)).collect(),
            finders,
        }
    }

    pub fn is_gnorm(&self) -> bool {
        self.label == "gnorm"
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
}

impl LineParser {
    pub fn new(format: LogFormat, metric: MetricSpec) -> Self {
        let train_prefixed = metric.prefixed("train_");
        LineParser {
            format,
            steps: STEP_ALIASES.iter().map(|s| syntax::Key::new(s)).collect(),
            losses: LOSS_ALIASES.iter().map(|s| syntax::Key::new(s)).collect(),
            clip_key: syntax::Key::new("clip"),
            train_prefixed,
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
            LogFormat::JsonLines => jsonl::parse(self, line),
            LogFormat::KeyValue => keyvalue::parse(self, line),
            // Not line formats: their files never reach a line parser.
            LogFormat::TensorBoard | LogFormat::HfTrainerState | LogFormat::LightningCsv => {
                Parsed::Nothing
            }
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

/// Reads value, step and loss with one syntax into a record; `None` when the metric is absent,
/// `Some(None)` when present but unreadable.
fn record_with(p: &LineParser, line: &[u8], sep: syntax::Sep) -> Option<Option<MetricRecord>> {
    let raw = syntax::first_of(line, &p.metric.aliases, sep)?;
    let Some(value) = syntax::parse_number(raw) else {
        return Some(None);
    };
    let step = syntax::first_of(line, &p.steps, sep).and_then(syntax::parse_step);
    let loss = if p.metric.label == "loss" {
        Some(value)
    } else {
        syntax::first_of(line, &p.losses, sep).and_then(syntax::parse_number)
    };
    Some(Some(MetricRecord {
        step,
        value,
        loss,
        frame: None,
    }))
}

fn to_parsed(r: Option<Option<MetricRecord>>, aggregate: bool) -> Parsed {
    match r {
        None => Parsed::Nothing,
        Some(None) => Parsed::Malformed,
        Some(Some(rec)) if aggregate => Parsed::Aggregate(rec),
        Some(Some(rec)) => Parsed::Step(rec),
    }
}

/// Guesses the format from a line that may carry the metric; `None` when the line does not
/// yield a record in any format.
pub fn detect(line: &[u8], metric: &MetricSpec) -> Option<LogFormat> {
    if !metric.may_match(line) {
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
    if has(b"{\"") {
        order.push(LogFormat::JsonLines);
    }
    if has(b"| epoch ") || has(b"num_updates") {
        order.push(LogFormat::FairseqLegacy);
    }
    order.extend([
        LogFormat::Torchtitan,
        LogFormat::KeyValue,
        LogFormat::JsonLines,
    ]);
    order.into_iter().find(|&f| {
        matches!(
            LineParser::new(f, metric.clone()).parse(line),
            Parsed::Step(_) | Parsed::Aggregate(_)
        )
    })
}

#[cfg(test)]
mod tests;
