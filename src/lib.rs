//! trainwatch: watch a training run from the terminal.
//!
//! Data flows one way: **sources → series/model → views**.
//! - [`ingest`] turns growing log files into [`ingest::MetricRecord`]s,
//! - [`series`] stores them and finds clipping and explosions,
//! - [`tui`] and [`export`] show them.

pub mod checkpoint;
pub mod export;
pub mod text;
