//! What every tensor file format offers the layers above: a list of tensors (name, dtype,
//! shape, where the bytes are) and a tensor's bytes. The checkpoint layer works against
//! [`TensorStore`] only, so a new format is a new store, not a change there.

use std::borrow::Cow;
use std::path::Path;

use super::{Dtype, StoreError};
use crate::text::printable;

/// Where a tensor's bytes are: `begin..end` (end exclusive) of one of its store's storages.
///
/// A safetensors file has one storage, its data area (storage 0). A PyTorch archive has one
/// per `data/<key>` entry, and several tensors may view one storage at different offsets.
/// The bytes are contiguous and row-major: strided views are not described (yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Extent {
    pub storage: usize,
    pub begin: usize,
    pub end: usize,
}

impl Extent {
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.begin)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One tensor of a store, validated by the store: its extent lies inside its storage and
/// matches `shape × dtype`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The raw name: use it for lookups only; print [`TensorInfo::display_name`].
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub extent: Extent,
}

impl TensorInfo {
    pub fn display_name(&self) -> Cow<'_, str> {
        printable(&self.name)
    }
}

/// An open, validated file (or in-memory image) of tensors.
///
/// `Send + Sync`: stores are opened and read on worker threads.
pub trait TensorStore: Send + Sync {
    /// The format's name as messages say it ("safetensors").
    fn format(&self) -> &'static str;

    /// The file the store reads, when it reads one.
    fn path(&self) -> Option<&Path>;

    /// The printable path, or the label given to in-memory bytes: what messages name.
    fn label(&self) -> &str;

    /// All tensors, sorted by name.
    fn tensors(&self) -> &[TensorInfo];

    /// The tensor named `name` (raw name, exact).
    fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        let all = self.tensors();
        all.binary_search_by(|t| t.name.as_str().cmp(name))
            .ok()
            .map(|i| &all[i])
    }

    /// The bytes of `t` (one of [`TensorStore::tensors`]): borrowed when the store is mapped
    /// or in memory, read into a buffer otherwise. Only these bytes are read.
    fn tensor_bytes(&self, t: &TensorInfo) -> Result<Cow<'_, [u8]>, StoreError>;
}
