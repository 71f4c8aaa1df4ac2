//! From a user's PATH to the tensor file(s) to open (safetensors or PyTorch `torch.save`).
//!
//! - a file: itself (the tensor layer picks the reader; plain `.pkl` pickles are refused);
//! - `*.safetensors.index.json`, `pytorch_model.bin.index.json`: a sharded checkpoint; only
//!   the shard holding the chosen tensor is opened later;
//! - a directory: Hugging Face `checkpoint-<step>/` sub-folders win, highest step first (the
//!   Trainer's own rule: by number, not modification time); else an index in the directory;
//!   else the newest `*.safetensors` by modification time; else a PyTorch weights file
//!   (`pytorch_model.bin` first, never the Trainer's `optimizer.pt`/`training_args.bin`/…).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use super::Error;
use crate::fswalk::{EntryKind, Walk};
use crate::tensor::refuse_pickle;
use crate::text::printable_path;

/// Largest index file we read (real ones are a few hundred KB).
const MAX_INDEX_LEN: u64 = 100_000_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One safetensors file.
    File(PathBuf),
    /// A sharded checkpoint: `weight_map` maps tensor names to shard paths (already joined to
    /// the index's directory); `shards` is the sorted, de-duplicated list of those paths.
    Sharded {
        index: PathBuf,
        weight_map: BTreeMap<String, PathBuf>,
        shards: Vec<PathBuf>,
    },
}

/// A resolved checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub layout: Layout,
    /// The training step, when a name says it (`checkpoint-500/`, `step_500.safetensors`, …).
    pub step: Option<u64>,
}

impl Resolved {
    /// The file to name in titles and messages: the safetensors file, or the index.
    pub fn main_path(&self) -> &Path {
        match &self.layout {
            Layout::File(p) => p,
            Layout::Sharded { index, .. } => index,
        }
    }

    /// Every file the checkpoint consists of (what a watcher should follow).
    pub fn files(&self) -> Vec<PathBuf> {
        match &self.layout {
            Layout::File(p) => vec![p.clone()],
            Layout::Sharded { index, shards, .. } => {
                let mut v = vec![index.clone()];
                v.extend(shards.iter().cloned());
                v
            }
        }
    }
}

/// Resolves PATH as described in the module documentation.
pub fn resolve(path: &Path) -> Result<Resolved, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return resolve_dir(path);
    }
    if !meta.is_file() {
        // A FIFO would block the open forever; a device is not a checkpoint.
        return Err(Error::NotFound {
            path: printable_path(path),
            why: "not a regular file or directory".into(),
        });
    }
    let name = file_name(path);
    let step = step_from_name(&name).or_else(|| parent_step(path));
    if name.ends_with(".index.json") {
        return Ok(Resolved {
            layout: read_index(path)?,
            step,
        });
    }
    Ok(Resolved {
        layout: Layout::File(path.to_path_buf()),
        step,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn parent_step(path: &Path) -> Option<u64> {
    path.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| step_from_name(&n.to_string_lossy()))
}

/// The training step a file or folder name encodes: trailing digits after `checkpoint`,
/// `step`, `global_step`, `ckpt` or `iter`, optionally separated by `-` or `_`
/// (`checkpoint-500`, `checkpoint_500`, `step_500.safetensors`, `global_step500`, `iter_0001000`).
/// Names starting with `tmp` are not steps: recent HF Trainers write `tmp-checkpoint-<step>/`
/// and rename it when complete.
pub fn step_from_name(name: &str) -> Option<u64> {
    if name.to_ascii_lowercase().starts_with("tmp") {
        return None;
    }
    let stem = [
        ".safetensors.index.json",
        ".bin.index.json",
        ".safetensors",
        ".pt",
        ".pth",
        ".bin",
        ".ckpt",
    ]
    .iter()
    .find_map(|suffix| name.strip_suffix(suffix))
    .unwrap_or(name);
    let digits_at = stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (prefix, digits) = stem.split_at(digits_at);
    if digits.is_empty() {
        return None;
    }
    let prefix = prefix
        .strip_suffix('-')
        .or_else(|| prefix.strip_suffix('_'))
        .unwrap_or(prefix)
        .to_ascii_lowercase();
    let keyword = ["checkpoint", "step", "ckpt", "iter"]
        .iter()
        .any(|k| prefix.ends_with(k));
    if keyword {
        digits.parse().ok()
    } else {
        None
    }
}

struct Entry {
    path: PathBuf,
    name: String,
    is_dir: bool,
    is_file: bool,
    mtime: SystemTime,
}

/// The folder's own entries, links followed (checkpoints are often linked into place).
fn list_dir(dir: &Path) -> Result<Vec<Entry>, Error> {
    let entries = Walk::listing()
        .entries(dir)
        .map_err(|e| Error::io(dir, e))?;
    Ok(entries
        .into_iter()
        .map(|e| Entry {
            mtime: e.modified(),
            is_dir: e.kind == EntryKind::Dir,
            is_file: e.kind == EntryKind::File,
            name: e.name,
            path: e.path,
        })
        .collect())
}

/// The newest entry by modification time; ties broken by name so the choice is stable.
fn newest(entries: Vec<&Entry>) -> Option<&Entry> {
    entries
        .into_iter()
        .max_by(|a, b| a.mtime.cmp(&b.mtime).then_with(|| a.name.cmp(&b.name)))
}

fn resolve_dir(dir: &Path) -> Result<Resolved, Error> {
    let entries = list_dir(dir)?;
    // 1. Step folders, highest step (ties: name, for stability).
    let best_step_dir = entries
        .iter()
        .filter(|e| e.is_dir)
        .filter_map(|e| step_from_name(&e.name).map(|s| (s, e)))
        .max_by(|(sa, a), (sb, b)| sa.cmp(sb).then_with(|| a.name.cmp(&b.name)));
    if let Some((step, e)) = best_step_dir {
        let mut inner = resolve_plain_dir(&e.path)?;
        inner.step = Some(step);
        return Ok(inner);
    }
    let mut r = resolve_plain_dir(dir)?;
    if r.step.is_none() {
        r.step = step_from_name(&file_name(dir));
    }
    Ok(r)
}

/// A directory without step folders: an index, else the newest `*.safetensors`.
fn resolve_plain_dir(dir: &Path) -> Result<Resolved, Error> {
    let entries = list_dir(dir)?;
    let files: Vec<&Entry> = entries.iter().filter(|e| e.is_file).collect();
    let indexes: Vec<&Entry> = files
        .iter()
        .copied()
        .filter(|e| e.name.ends_with(".safetensors.index.json"))
        .collect();
    let torch_indexes: Vec<&Entry> = files
        .iter()
        .copied()
        .filter(|e| e.name.ends_with(".bin.index.json"))
        .collect();
    if !indexes.is_empty() || !torch_indexes.is_empty() {
        let chosen = indexes
            .iter()
            .copied()
            .find(|e| e.name == "model.safetensors.index.json")
            .or_else(|| newest(indexes.clone()))
            .or_else(|| {
                torch_indexes
                    .iter()
                    .copied()
                    .find(|e| e.name == "pytorch_model.bin.index.json")
            })
            .or_else(|| newest(torch_indexes.clone()));
        if let Some(e) = chosen {
            return Ok(Resolved {
                layout: read_index(&e.path)?,
                step: step_from_name(&e.name),
            });
        }
    }
    let tensors: Vec<&Entry> = files
        .iter()
        .copied()
        .filter(|e| e.name.ends_with(".safetensors"))
        .collect();
    if let Some(e) = newest(tensors) {
        return Ok(Resolved {
            layout: Layout::File(e.path.clone()),
            step: step_from_name(&e.name),
        });
    }
    if let Some(e) = torch_weights(&files) {
        return Ok(Resolved {
            layout: Layout::File(e.path.clone()),
            step: step_from_name(&e.name),
        });
    }
    // Nothing we can read: if there are other pickles, say why we will not read them.
    let pickles: Vec<&Entry> = files
        .iter()
        .copied()
        .filter(|e| !is_torch_file(&e.name) && refuse_pickle(&e.path).is_err())
        .collect();
    if let Some(e) = newest(pickles) {
        refuse_pickle(&e.path)?;
    }
    Err(Error::NotFound {
        path: printable_path(dir),
        why:
            "no checkpoint-<step>/ folders, no *.safetensors.index.json and no *.safetensors files"
                .into(),
    })
}

/// A PyTorch file by its extension.
fn is_torch_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    crate::tensor::pytorch::EXTENSIONS
        .iter()
        .any(|ext| lower.ends_with(&format!(".{ext}")))
}

/// Files the HF Trainer and others save beside the weights: never the model.
fn is_training_state(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "optimizer",
        "scheduler",
        "rng_state",
        "training_args",
        "scaler",
        "trainer_state",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// `pytorch_model.bin` when present, else the newest other PyTorch file that is not
/// training state.
fn torch_weights<'e>(files: &[&'e Entry]) -> Option<&'e Entry> {
    if let Some(e) = files.iter().find(|e| e.name == "pytorch_model.bin") {
        return Some(e);
    }
    newest(
        files
            .iter()
            .copied()
            .filter(|e| is_torch_file(&e.name) && !is_training_state(&e.name))
            .collect(),
    )
}

/// Reads `*.safetensors.index.json` (`{"weight_map": {tensor: shard_file}}`).
pub fn read_index(index: &Path) -> Result<Layout, Error> {
    let shown = || printable_path(index);
    let len = std::fs::metadata(index)
        .map_err(|e| Error::io(index, e))?
        .len();
    if len > MAX_INDEX_LEN {
        return Err(Error::BadIndex {
            file: shown(),
            reason: format!("{len} bytes is too large for an index"),
        });
    }
    let bytes = std::fs::read(index).map_err(|e| Error::io(index, e))?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| Error::BadIndex {
        file: shown(),
        reason: format!("not JSON: {e}"),
    })?;
    let map = json
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| Error::BadIndex {
            file: shown(),
            reason: "no \"weight_map\" object".into(),
        })?;
    let base = index.parent().unwrap_or(Path::new("."));
    let mut weight_map = BTreeMap::new();
    for (tensor, shard) in map {
        let shard = shard.as_str().ok_or_else(|| Error::BadIndex {
            file: shown(),
            reason: format!(
                "shard for tensor {} is not a string",
                crate::text::printable(tensor)
            ),
        })?;
        let rel = Path::new(shard);
        // Shards live beside the index: a hostile index must not send us elsewhere.
        let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain || shard.is_empty() {
            return Err(Error::BadIndex {
                file: shown(),
                reason: format!(
                    "shard path {} leaves the index's directory",
                    crate::text::printable(shard)
                ),
            });
        }
        weight_map.insert(tensor.clone(), base.join(rel));
    }
    let mut shards: Vec<PathBuf> = weight_map.values().cloned().collect();
    shards.sort();
    shards.dedup();
    Ok(Layout::Sharded {
        index: index.to_path_buf(),
        weight_map,
        shards,
    })
}
