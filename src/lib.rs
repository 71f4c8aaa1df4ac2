//! trainwatch: watch a training run from the terminal.
//!
//! Data flows one way: **sources → series/model → views**.
//! - [`ingest`] turns growing log files into [`ingest::MetricRecord`]s,
//! - [`series`] stores them and finds clipping and explosions,
//! - [`tui`] and [`export`] show them.

pub mod colormap;
pub mod demo;
pub mod export;
pub mod ingest;
pub mod model;
pub mod series;
pub mod text;
pub mod tui;
