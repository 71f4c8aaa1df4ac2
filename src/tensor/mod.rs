//! Tensors as files hold them, independent of any one format: [`Dtype`], [`TensorInfo`] (name,
//! dtype, shape, [`Extent`]), the [`TensorStore`] trait every format implements, and the
//! [`ByteSource`] a store reads (a mapped file, a file read positionally, or bytes in memory;
//! the [`ReadMode`] is chosen per store by whoever opens it).
//!
//! The bottom layer of the checkpoint side: it uses nothing of the crate but [`crate::text`].
//! Nothing here trusts a file: a store validates its header before any offset in it is used,
//! and every failure is a [`StoreError`] naming the file (printable) and what is wrong.
//!
//! Formats: [`safetensors`]. A new one is a new store module plus a line in [`open_store`].
//! A PyTorch (`torch.save` zip) store fits the same shape: its tensor list comes from
//! `data.pkl` (read as data, never unpickled), each `data/<key>` entry is one storage (an
//! uncompressed range of the archive's [`ByteSource`]), and a tensor's [`Extent`] is its
//! storage and byte range inside it; several tensors may share a storage.

pub mod dtype;
pub mod safetensors;
pub mod source;
pub mod store;

use std::path::Path;

pub use dtype::Dtype;
pub use safetensors::{refuse_pickle, SafetensorsStore};
pub use source::{ByteSource, OpenProblem, ReadMode};
pub use store::{Extent, TensorInfo, TensorStore};

/// Why a store could not be opened or read. `file` is already printable.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: not a valid {format} file: {reason}")]
    Corrupt {
        file: String,
        format: &'static str,
        reason: String,
    },
    /// The header is fine but the bytes end before it says: typically a file still being
    /// written. Callers may retry.
    #[error("{file}: incomplete (still being written?): {reason}")]
    Incomplete { file: String, reason: String },
    #[error("{file}: refusing to load a {ext} file: it is a Python pickle, and unpickling runs arbitrary code. Convert it to safetensors first, e.g. python -c \"import torch; from safetensors.torch import save_file; save_file(torch.load('IN', weights_only=True), 'OUT.safetensors')\"")]
    Pickle { file: String, ext: String },
}

/// Opens the tensor file at `path` with the store for its format (today: safetensors; pickle
/// formats are refused with a reason).
pub fn open_store(path: &Path, mode: ReadMode) -> Result<Box<dyn TensorStore>, StoreError> {
    Ok(Box::new(SafetensorsStore::open(path, mode)?))
}
