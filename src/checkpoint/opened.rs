//! An opened checkpoint: one tensor store, or a sharded index whose shards are opened only
//! when a tensor in them is wanted. Works against [`TensorStore`] only: which format a file
//! is, is the tensor layer's business ([`open_store`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::resolve::{Layout, Resolved};
use super::select::{self, Candidate};
use super::Error;
use crate::tensor::{open_store, ReadMode, TensorInfo, TensorStore};
use crate::text::{printable, printable_path};

/// A store borrowed from the caller or opened here.
pub(super) enum StoreRef<'a> {
    Borrowed(&'a (dyn TensorStore + 'a)),
    Owned(Box<dyn TensorStore>),
}

impl<'a> std::ops::Deref for StoreRef<'a> {
    type Target = dyn TensorStore + 'a;
    fn deref(&self) -> &(dyn TensorStore + 'a) {
        match self {
            StoreRef::Borrowed(s) => *s,
            StoreRef::Owned(s) => s.as_ref(),
        }
    }
}

pub(super) enum Checkpoint<'a> {
    Single(StoreRef<'a>),
    Sharded {
        index: PathBuf,
        weight_map: BTreeMap<String, PathBuf>,
        shards: Vec<PathBuf>,
        /// How shards are read when they are opened.
        read: ReadMode,
    },
}

impl Checkpoint<'_> {
    /// Opens a one-file checkpoint's store now; a sharded one's shards later, on demand.
    pub(super) fn open(resolved: &Resolved, read: ReadMode) -> Result<Self, Error> {
        Ok(match &resolved.layout {
            Layout::File(p) => Checkpoint::Single(StoreRef::Owned(open_store(p, read)?)),
            Layout::Sharded {
                index,
                weight_map,
                shards,
            } => Checkpoint::Sharded {
                index: index.clone(),
                weight_map: weight_map.clone(),
                shards: shards.clone(),
                read,
            },
        })
    }

    pub(super) fn candidates(&self) -> Result<Vec<Candidate>, Error> {
        match self {
            Checkpoint::Single(s) => Ok(select::candidates(s.tensors().iter().map(|t| (t, None)))),
            Checkpoint::Sharded {
                weight_map, read, ..
            } => {
                // The index names every tensor: open only shards holding a plausible name.
                let mut wanted: Vec<&PathBuf> = weight_map
                    .iter()
                    .filter(|(name, _)| select::is_position_name(name))
                    .map(|(_, shard)| shard)
                    .collect();
                wanted.sort();
                wanted.dedup();
                let mut out = Vec::new();
                for shard in wanted {
                    let s = open_store(shard, *read)?;
                    let infos: Vec<(&TensorInfo, Option<&PathBuf>)> = s
                        .tensors()
                        .iter()
                        // Trust the index about which shard owns a name (a stale copy elsewhere
                        // is not the checkpoint's tensor).
                        .filter(|t| weight_map.get(&t.name) == Some(shard))
                        .map(|t| (t, Some(shard)))
                        .collect();
                    out.extend(select::candidates(infos));
                }
                out.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(out)
            }
        }
    }

    /// The store holding `name` (opened) and the tensor's description.
    pub(super) fn named(
        &self,
        name: &str,
        candidates: &[Candidate],
    ) -> Result<(StoreRef<'_>, TensorInfo), Error> {
        match self {
            Checkpoint::Single(s) => match s.tensor(name) {
                Some(t) => Ok((StoreRef::Borrowed(&**s), t.clone())),
                None => Err(Error::NoSuchTensor {
                    file: s.label().to_string(),
                    tensor: printable(name).into_owned(),
                    candidates: select::candidate_hint(candidates, s.tensors()),
                }),
            },
            Checkpoint::Sharded {
                index,
                weight_map,
                read,
                ..
            } => {
                let missing = || Error::NoSuchTensor {
                    file: printable_path(index),
                    tensor: printable(name).into_owned(),
                    candidates: if candidates.is_empty() {
                        "no position-table candidates in the index".into()
                    } else {
                        select::candidate_hint(candidates, std::iter::empty())
                    },
                };
                let shard = weight_map.get(name).ok_or_else(missing)?;
                let s = open_store(shard, *read)?;
                let t = s.tensor(name).cloned().ok_or_else(|| Error::BadIndex {
                    file: printable_path(index),
                    reason: format!(
                        "the index puts tensor {} in {}, which does not hold it",
                        printable(name),
                        printable_path(shard)
                    ),
                })?;
                Ok((StoreRef::Owned(s), t))
            }
        }
    }

    pub(super) fn why_none(&self) -> Result<String, Error> {
        match self {
            Checkpoint::Single(s) => {
                let why = select::why_none(s.tensors());
                Ok(match s.meta().sinusoidal_dims() {
                    // fairseq's args say what the formula table would be.
                    Some((n, d)) => format!(
                        "{why}. Its args give max_source_positions {n} and encoder_embed_dim {d}: a fairseq model with sinusoidal positions stores no table; try --sinusoidal {n},{d}"
                    ),
                    None => why,
                })
            }
            Checkpoint::Sharded { shards, read, .. } => {
                // Error path only: reading every shard header is fine here.
                let stores = shards
                    .iter()
                    .map(|p| open_store(p, *read))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(select::why_none(stores.iter().flat_map(|s| s.tensors())))
            }
        }
    }
}
