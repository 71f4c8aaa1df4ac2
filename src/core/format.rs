//! The formats a source can be in: the identity of each (its name in `--format`, in `gnorm
//! --json` and in the header), shared by the sources that read them and the views that name them.

use std::fmt;
use std::str::FromStr;

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
    /// build-nanogpt, nanoGPT forks, modded-nanogpt: `step N | loss: v | … | norm: v | …`,
    /// `step N/M | key v | …`, `step:N/M key:v …`.
    Nanogpt,
    /// llm.c: `step N/M | loss v (+nanz)| norm v (+nanz)| …` and `main.log`'s `s:N trl:v norm:v`.
    Llmc,
    /// OLMo: a `[step=N/M,epoch=E]` header owning the indented `key=value` lines under it.
    Olmo,
    /// MMDetection 2.x / mmengine: `Epoch(train) [e][i/n] … grad_norm: x`, `Epoch [e][i/n]\t…`,
    /// and their `.log.json` lines (`"mode": "train"`).
    Mmengine,
    /// `key: value` pairs anywhere in a line (torchtune `Step N | loss:v lr:v`, custom loops).
    KeyColon,
    /// One JSON object per line with any of the aliases.
    JsonLines,
    /// `key=value` pairs anywhere in the line (tqdm postfix, custom loops).
    KeyValue,
    /// TensorBoard event files (not a line format: read by its own source).
    TensorBoard,
    /// Hugging Face `trainer_state.json` (not a line format).
    HfTrainerState,
    /// Lightning `metrics.csv` (not a line format).
    LightningCsv,
    /// Any other metrics table with a header row (Ultralytics `results.csv`, …).
    Csv,
    /// A W&B run file, `run-<id>.wandb` (not a line format).
    Wandb,
    /// An MLflow run: its file store folder or an `mlflow.db` (not a line format).
    Mlflow,
}

impl LogFormat {
    pub const ALL: [LogFormat; 13] = [
        LogFormat::FairseqSimple,
        LogFormat::FairseqJson,
        LogFormat::FairseqLegacy,
        LogFormat::HfTrainer,
        LogFormat::Megatron,
        LogFormat::Torchtitan,
        LogFormat::Nanogpt,
        LogFormat::Llmc,
        LogFormat::Olmo,
        LogFormat::Mmengine,
        LogFormat::JsonLines,
        LogFormat::KeyValue,
        LogFormat::KeyColon,
    ];

    /// The sources that are not text logs (chosen with `--format` too).
    pub const SOURCES: [LogFormat; 6] = [
        LogFormat::TensorBoard,
        LogFormat::HfTrainerState,
        LogFormat::LightningCsv,
        LogFormat::Csv,
        LogFormat::Wandb,
        LogFormat::Mlflow,
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
            LogFormat::Nanogpt => "nanogpt",
            LogFormat::Llmc => "llmc",
            LogFormat::Olmo => "olmo",
            LogFormat::Mmengine => "mmengine",
            LogFormat::KeyColon => "key_colon",
            LogFormat::JsonLines => "jsonl",
            LogFormat::KeyValue => "key_value",
            LogFormat::TensorBoard => "tensorboard",
            LogFormat::HfTrainerState => "hf_trainer_state",
            LogFormat::LightningCsv => "lightning_csv",
            LogFormat::Csv => "csv",
            LogFormat::Wandb => "wandb",
            LogFormat::Mlflow => "mlflow",
        }
    }

    /// Whether one record spans several lines, so the lines cannot be parsed in independent
    /// chunks (OLMo: a header line, then the record's metrics).
    pub fn spans_lines(self) -> bool {
        matches!(self, LogFormat::Olmo)
    }

    /// The name the framework prints the gradient norm under when it is not one of the usual
    /// aliases (nanoGPT and llm.c print `clip_grad_norm_`'s return value as `norm`).
    pub fn gnorm_name(self) -> Option<&'static str> {
        matches!(self, LogFormat::Nanogpt | LogFormat::Llmc).then_some("norm")
    }

    /// The clip threshold the framework that writes this format uses when its configuration
    /// does not set one, and the framework's name: HF Trainer's `max_grad_norm` 1.0,
    /// Megatron's `clip_grad` 1.0, torchtitan's `max_norm` 1.0, nanoGPT's `grad_clip = 1.0`,
    /// llm.c's built-in 1.0. `None`: the format does not identify a framework with a default,
    /// so a threshold the log does not print is unknown. (fairseq's default, `--clip-norm` 0,
    /// shows in its lines: no `clip=` field means off; with the field and no printed
    /// threshold, it is unknown.)
    pub fn clip_default(self) -> Option<(f64, &'static str)> {
        match self {
            LogFormat::HfTrainer | LogFormat::HfTrainerState => Some((1.0, "HF Trainer")),
            LogFormat::Megatron => Some((1.0, "Megatron")),
            LogFormat::Torchtitan => Some((1.0, "torchtitan")),
            LogFormat::Nanogpt => Some((1.0, "nanoGPT")),
            LogFormat::Llmc => Some((1.0, "llm.c")),
            _ => None,
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
