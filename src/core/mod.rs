//! The types every layer shares, at the bottom of the crate: what a metric is and what role it
//! plays, the record batch every source produces, the formats a source can be in, and why a
//! source restarted. This module uses nothing else of the crate, so sources, runs and views
//! can all depend on it without depending on each other.

pub mod checkpoint;
pub mod format;
pub mod metric;
pub mod records;
pub mod restart;
pub mod run_end;

pub use checkpoint::CheckpointRef;
pub use format::LogFormat;
pub use metric::{MetricKey, Role};
pub use records::{Batch, Record, Records, MAX_COLUMNS};
pub use restart::RestartReason;
pub use run_end::{RunEnd, RunLabel};
