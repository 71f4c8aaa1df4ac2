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
/// For a strided view (a transpose, a slice of columns) the extent is the span its elements
/// lie in, which is longer than `shape × dtype`; [`TensorStore::tensor_bytes`] gathers it.
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
/// matches `shape × dtype` (or, for a strided view, holds every element).
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

    /// The bytes of `t` (one of [`TensorStore::tensors`]), always contiguous, row-major and
    /// little-endian, `shape × dtype` long: borrowed when the store is mapped or in memory and
    /// the tensor is stored that way, else read (and gathered from a strided view, or
    /// byte-swapped from a big-endian storage) into a buffer. Only its extent is read.
    fn tensor_bytes(&self, t: &TensorInfo) -> Result<Cow<'_, [u8]>, StoreError>;

    /// What the checkpoint says about itself, when its format holds more than tensors
    /// (a PyTorch pickle's training step, a fairseq model's `args`). Empty by default.
    fn meta(&self) -> StoreMeta {
        StoreMeta::default()
    }
}

/// A checkpoint's own metadata beside its tensors (all optional: most files hold none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreMeta {
    /// The training step it was saved at: fairseq's `num_updates`, Lightning's `global_step`.
    pub step: Option<u64>,
    /// fairseq's `args`/`cfg.model`: what `--sinusoidal N,D` needs when no table is stored.
    pub max_source_positions: Option<u64>,
    pub max_target_positions: Option<u64>,
    pub encoder_embed_dim: Option<u64>,
}

impl StoreMeta {
    /// `(N, D)` for `--sinusoidal N,D`: the encoder's positions and width, when the
    /// checkpoint's args give both (a fairseq model with sinusoidal positions stores no table).
    pub fn sinusoidal_dims(&self) -> Option<(u64, u64)> {
        self.max_source_positions.zip(self.encoder_embed_dim)
    }
}
