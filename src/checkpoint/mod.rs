//! Checkpoints, read-only: find the newest one, open its tensor file(s) as
//! [`TensorStore`](crate::tensor::TensorStore)s (mapped or read positionally, as the caller's
//! [`ReadMode`] says), pick the positional-embedding table and compute its block-mean
//! cosine-similarity map.
//!
//! Nothing here trusts the file: the store validates it before any offset in it is used, and
//! every failure is an [`Error`] whose message names the file (through
//! [`crate::text::printable`]) and what is wrong.
//!
//! Entry points:
//! - [`compute_similarity`]: everything the TUI tab and the headless command need, in one call
//!   that is safe to run on a worker thread;
//! - [`store_similarity`]: the same for a store already open (bytes in memory: fuzz targets);
//! - [`list_candidates`]: the tables that could be shown;
//! - [`check_complete`]: whether a checkpoint is whole (a file still being written is an error).

pub mod explain;
pub mod follow;
pub mod resolve;
pub mod select;
pub mod similarity;
pub mod sinusoidal;

mod gram;
mod kernels;
mod load;
mod opened;
mod profile_guess;
mod row_kernels;
mod similarity_profile;
mod similarity_rows;
mod tile_kernels;
mod unit_strips;
mod zeroed;

pub use crate::tensor::{ReadMode, StoreError};
pub use load::{
    check_complete, compute_similarity, compute_similarity_staged, list_candidates,
    store_similarity, CandidateList, SimilarityReport, SimilarityRequest, TableTitle,
};
pub use resolve::{resolve, Resolved};
pub use select::Candidate;
pub use similarity::{ProfilePoint, ProfileSummary, SimilarityMap, TableView};

/// Everything that can go wrong between a path and a similarity map.
///
/// `file`/`path` fields are already passed through [`crate::text::printable`]: a hostile file
/// name or tensor name cannot reach the terminal raw through an error message. What is wrong
/// with a tensor file itself is the store's [`StoreError`], kept whole (its variant tells a
/// file still being written from a corrupt one).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The tensor file itself: unreadable, corrupt, incomplete or a pickle.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{file}: tensor {tensor} has dtype {dtype}; only F32, F16, BF16 and F64 tables can be shown")]
    UnsupportedDtype {
        file: String,
        tensor: String,
        dtype: String,
    },
    #[error("{file}: tensor {tensor} has shape {shape}; a position table is [N, D] or [1, N, D]")]
    NotATable {
        file: String,
        tensor: String,
        shape: String,
    },
    #[error("{file}: no tensor named {tensor}; {candidates}")]
    NoSuchTensor {
        file: String,
        tensor: String,
        candidates: String,
    },
    #[error("{file}: no positional-embedding table found: {why}")]
    NoTable { file: String, why: String },
    #[error("{path}: no checkpoint found: {why}")]
    NotFound { path: String, why: String },
    #[error("--rows {lo}:{hi}: {why}")]
    BadRows { lo: usize, hi: usize, why: String },
    #[error("--sinusoidal {n},{d}: {why}")]
    BadSinusoidal { n: usize, d: usize, why: String },
    #[error("--size {0}: the map needs at least 1 block")]
    BadSize(usize),
    #[error("{file}: index: {reason}")]
    BadIndex { file: String, reason: String },
}

impl Error {
    /// True when retrying later may succeed (a checkpoint caught half-written).
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Error::Store(StoreError::Incomplete { .. }))
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            file: crate::text::printable_path(path),
            source,
        }
    }
}
