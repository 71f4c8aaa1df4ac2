//! Tensors as files hold them, independent of any one format: [`Dtype`], [`TensorInfo`] (name,
//! dtype, shape, [`Extent`]), the [`TensorStore`] trait every format implements, and the
//! [`ByteSource`] a store reads (a mapped file, a file read positionally, or bytes in memory;
//! the [`ReadMode`] is chosen per store by whoever opens it).
//!
//! The bottom layer of the checkpoint side: it uses nothing of the crate but [`crate::text`].
//! Nothing here trusts a file: a store validates its header before any offset in it is used,
//! and every failure is a [`StoreError`] naming the file (printable) and what is wrong.
//!
//! Formats: [`safetensors`] and [`pytorch`] (`torch.save` files, read by a pickle VM of our
//! own that never calls anything). A new one is a new store module plus a line in
//! [`open_store`]. A PyTorch store's tensor list comes from `data.pkl`, each `data/<key>`
//! entry is one storage (an uncompressed range of the archive's [`ByteSource`]), and a
//! tensor's [`Extent`] is its storage and the byte span of its view; several tensors may
//! share a storage.

pub mod dtype;
pub mod pytorch;
pub mod safetensors;
pub mod source;
pub mod store;

use std::path::Path;

pub use dtype::Dtype;
pub use pytorch::PytorchStore;
pub use safetensors::{refuse_pickle, SafetensorsStore};
pub use source::{ByteSource, OpenProblem, ReadMode};
pub use store::{Extent, StoreMeta, TensorInfo, TensorStore};

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
    /// A PyTorch pickle that names something that would run code: never executed.
    #[error("{file}: refused: {reason} (trainwatch never runs code from a checkpoint; only tensors and plain data are read)")]
    Refused { file: String, reason: String },
}

/// Opens the tensor file at `path` with the store for its format: a `.pt`/`.pth`/`.bin`/
/// `.ckpt` file, or any file whose first bytes are a zip archive or a legacy `torch.save`
/// stream, is a PyTorch checkpoint; anything else is read as safetensors (which refuses
/// other pickles, `.pkl`, with a reason).
pub fn open_store(path: &Path, mode: ReadMode) -> Result<Box<dyn TensorStore>, StoreError> {
    if is_pytorch(path) {
        return Ok(Box::new(PytorchStore::open(path, mode)?));
    }
    Ok(Box::new(SafetensorsStore::open(path, mode)?))
}

/// By extension, else by the first bytes (a regular file only: opening a FIFO would block).
pub fn is_pytorch(path: &Path) -> bool {
    let by_ext = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| pytorch::EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    by_ext || (std::fs::metadata(path).is_ok_and(|m| m.is_file()) && head_is_pytorch(path))
}

fn head_is_pytorch(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut n = 0;
    let mut f = f.take(16);
    while let Ok(k) = f.read(&mut head[n..]) {
        if k == 0 {
            break;
        }
        n += k;
    }
    pytorch::sniff(&head[..n])
}
