//! trainwatch: watch a training run from the terminal.
//!
//! Data flows one way: **sources → series/model → views**.
//! - [`ingest`] turns growing log files into [`ingest::MetricRecord`]s, and [`checkpoint`]
//!   reads position tables from safetensors checkpoints,
//! - [`series`]/[`model`] store the records and find clipping and explosions;
//!   [`checkpoint::similarity`] computes the block-mean cosine map,
//! - [`view`] places points on a step axis and picks the x-window; [`tui`] and [`export`]
//!   show them.

pub mod checkpoint;
pub mod colormap;
pub mod demo;
pub mod export;
pub mod headless;
pub mod ingest;
pub mod model;
pub mod series;
pub mod text;
pub mod tui;
pub mod view;
