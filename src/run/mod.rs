//! Runs: a run is its sources, its checkpoints and its data. Events from a run's sources go
//! through one reducer ([`reduce`]) whoever reads them: the one-shot reader ([`read`]), the TUI
//! and the headless follower.

pub mod check;
pub mod data;
pub mod instability;
pub mod read;
pub mod reduce;
pub mod workspace;

pub use data::{ClipSource, RunData};
pub use instability::Instability;
pub use read::read_once;
pub use reduce::{Change, Changes, SeriesId};
pub use workspace::{Member, RunEvent, RunId, RunStatus, SourceRole, Workspace};

use crate::ingest::follow::IngestEvent;
use crate::ingest::SourceSpec;
use std::path::PathBuf;

/// One training run: what is read for it, where its checkpoints are, and what was read.
#[derive(Debug, Clone)]
pub struct Run {
    pub spec: SourceSpec,
    /// The checkpoint (file or folder) tab 2 shows, when known.
    pub checkpoint: Option<PathBuf>,
    pub data: RunData,
}

impl Run {
    /// A run with nothing read yet.
    pub fn new(spec: SourceSpec, checkpoint: Option<PathBuf>) -> Self {
        let data = RunData::empty(&spec);
        Run {
            spec,
            checkpoint,
            data,
        }
    }

    /// Applies one event from the run's sources.
    pub fn apply(&mut self, ev: IngestEvent) -> Changes {
        self.data.apply(ev)
    }
}
