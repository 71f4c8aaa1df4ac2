//! trainwatch: watch a training run from the terminal.
//!
//! Data flows one way: **discovery → sources → runs → series → views**.
//! - [`ingest`] turns growing files (text logs, event files, trainer states, CSVs, W&B and
//!   MLflow runs) into [`core::Batch`]es of records behind one [`ingest::source::Source`]
//!   trait, and [`checkpoint`] reads position tables from checkpoints ([`tensor`]:
//!   safetensors and PyTorch stores),
//! - [`run`] applies every source event through one reducer to a run's data; [`series`]
//!   stores the records and finds clipping and explosions; [`checkpoint::similarity`]
//!   computes the block-mean cosine map,
//! - [`view`] places points on a step axis and picks the x-window; [`tui`] and [`export`]
//!   show them;
//! - [`watch`], at the bottom, says when to look again (one notify watcher, one poll
//!   scheduler), what changed in a file, and runs heavy work on one bounded pool.
//!
//! [`discovery`] (above ingest and checkpoint) turns what the user named into runs: the
//! sources to read and the checkpoints to follow. At the bottom, used by all: [`fswalk`] (the
//! one bounded directory walker), [`numfmt`] (numbers as people read them), [`text`].

pub mod checkpoint;
pub mod colormap;
pub mod core;
pub mod demo;
pub mod discovery;
pub mod export;
pub mod fswalk;
pub mod headless;
pub mod ingest;
pub mod numfmt;
pub mod run;
pub mod series;
pub mod tensor;
pub mod text;
#[cfg(feature = "tui")]
pub mod tui;
pub mod view;
pub mod watch;
