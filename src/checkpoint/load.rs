//! Glue: PATH + choices → the map and its title. One call, no terminal, no shared state: safe
//! to run on a worker thread.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::resolve::{resolve, Layout, Resolved};
use super::safetensors::{SafetensorsFile, TensorInfo};
use super::select::{self, Candidate};
use super::similarity::{compute_map, SimilarityMap, TableView};
use super::{sinusoidal, Error};
use crate::text::{printable, printable_path};

/// What to compute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimilarityRequest {
    /// A safetensors file, an index, or a directory (see [`super::resolve()`]). Not read when
    /// `sinusoidal` is set.
    pub path: PathBuf,
    /// `--tensor`: wins over auto-detection.
    pub tensor: Option<String>,
    /// `--rows A:B`, half-open, in table rows. Default: all rows (for `--sinusoidal`: the rows
    /// a model uses, `2..N+2`).
    pub rows: Option<(usize, usize)>,
    /// Blocks per side, capped at the number of rows. Must be ≥ 1.
    pub blocks: usize,
    /// `--sinusoidal N,D`: fairseq's formula table instead of a stored one.
    pub sinusoidal: Option<(usize, usize)>,
}

/// Everything a title line needs. Strings are already printable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableTitle {
    pub file: String,
    pub tensor: String,
    pub dtype: String,
    pub shape: Vec<usize>,
    /// `[lo, hi)` actually used.
    pub rows: (usize, usize),
    /// Training step, when the checkpoint's name tells it.
    pub step: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct SimilarityReport {
    pub title: TableTitle,
    /// Every candidate table in the checkpoint, in selection order (empty for `--sinusoidal`).
    pub candidates: Vec<Candidate>,
    /// Index into `candidates` of the table shown, when it is one of them.
    pub selected: Option<usize>,
    /// The raw name of the table shown (pass it back as `tensor` to keep the choice).
    pub tensor_name: String,
    pub map: SimilarityMap,
}

/// Resolves PATH and validates every file of the checkpoint (header, and the file is at least
/// as long as the header says). A checkpoint still being written fails with
/// [`Error::Incomplete`]; callers keep the last good map and retry.
pub fn check_complete(path: &Path) -> Result<Resolved, Error> {
    let resolved = resolve(path)?;
    for file in resolved.files() {
        if file.to_string_lossy().ends_with(".index.json") {
            continue; // read and checked by resolve()
        }
        SafetensorsFile::open(&file)?;
    }
    Ok(resolved)
}

/// The candidate tables of a checkpoint, for `--list` and the TUI's `t`.
#[derive(Clone, Debug)]
pub struct CandidateList {
    pub resolved: Resolved,
    /// In selection order: the first is the one auto-detection picks.
    pub candidates: Vec<Candidate>,
    /// When there are none: why, as precisely as the file allows.
    pub why_none: Option<String>,
}

/// Lists the candidate tables of the checkpoint at PATH. Sharded: reads only the headers of
/// shards that hold a tensor with a position-table name (all shard headers if there is none).
pub fn list_candidates(path: &Path) -> Result<CandidateList, Error> {
    let resolved = resolve(path)?;
    let ckpt = Checkpoint::open(&resolved)?;
    let candidates = ckpt.candidates()?;
    let why_none = if candidates.is_empty() {
        Some(ckpt.why_none()?)
    } else {
        None
    };
    Ok(CandidateList {
        resolved,
        candidates,
        why_none,
    })
}

/// Computes the map for `req`.
pub fn compute_similarity(req: &SimilarityRequest) -> Result<SimilarityReport, Error> {
    if req.blocks == 0 {
        return Err(Error::BadSize(0));
    }
    if let Some((n, d)) = req.sinusoidal {
        return sinusoidal_report(req, n, d);
    }
    let resolved = resolve(&req.path)?;
    let ckpt = Checkpoint::open(&resolved)?;
    let candidates = ckpt.candidates()?;
    let (file, info) = match &req.tensor {
        Some(name) => ckpt.named(name, &candidates)?,
        None => match candidates.first() {
            Some(c) => ckpt.named(&c.name, &candidates)?,
            None => {
                return Err(Error::NoTable {
                    file: printable_path(resolved.main_path()),
                    why: ckpt.why_none()?,
                })
            }
        },
    };
    let shown_file = printable_path(file.path());
    let (n, d) = select::table_dims(&info.shape).ok_or_else(|| Error::NotATable {
        file: shown_file.clone(),
        tensor: info.display_name().into_owned(),
        shape: format!("{:?}", info.shape),
    })?;
    if !info.dtype.is_decodable() {
        return Err(Error::UnsupportedDtype {
            file: shown_file,
            tensor: info.display_name().into_owned(),
            dtype: info.dtype.to_string(),
        });
    }
    let rows = check_rows(req.rows, n, (0, n))?;
    let bytes = file.tensor_bytes(&info)?;
    let view = TableView::new(&bytes, info.dtype, n, d).ok_or_else(|| Error::Corrupt {
        file: shown_file.clone(),
        reason: format!("tensor {} has the wrong byte length", info.display_name()),
    })?;
    let map = compute_map(&view, rows, req.blocks);
    let selected = candidates.iter().position(|c| c.name == info.name);
    Ok(SimilarityReport {
        title: TableTitle {
            file: shown_file,
            tensor: info.display_name().into_owned(),
            dtype: info.dtype.to_string(),
            shape: info.shape.clone(),
            rows: map.rows,
            step: resolved.step,
        },
        candidates,
        selected,
        tensor_name: info.name.clone(),
        map,
    })
}

fn check_rows(
    rows: Option<(usize, usize)>,
    n: usize,
    default: (usize, usize),
) -> Result<(usize, usize), Error> {
    let Some((lo, hi)) = rows else {
        return Ok(default);
    };
    let why = if lo >= hi {
        Some("the range is empty (A must be less than B)".to_string())
    } else if hi > n {
        Some(format!("B is past the table's {n} rows"))
    } else {
        None
    };
    match why {
        Some(why) => Err(Error::BadRows { lo, hi, why }),
        None => Ok((lo, hi)),
    }
}

fn sinusoidal_report(
    req: &SimilarityRequest,
    n: usize,
    d: usize,
) -> Result<SimilarityReport, Error> {
    let table = sinusoidal::fairseq_table(n, d)?;
    let total = n + sinusoidal::PADDING_IDX + 1;
    let rows = check_rows(req.rows, total, sinusoidal::used_rows(n))?;
    let bytes: Vec<u8> = table.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = TableView::new(&bytes, super::Dtype::F64, total, d).ok_or_else(|| {
        Error::BadSinusoidal {
            n,
            d,
            why: "internal size mismatch".into(),
        }
    })?;
    let map = compute_map(&view, rows, req.blocks);
    let file = if req.path.as_os_str().is_empty() {
        "(formula)".to_string()
    } else {
        printable_path(&req.path)
    };
    let name = format!("fairseq sinusoidal N={n} D={d} (formula, padding_idx 1)");
    Ok(SimilarityReport {
        title: TableTitle {
            file,
            tensor: name.clone(),
            dtype: "F64".into(),
            shape: vec![total, d],
            rows: map.rows,
            step: None,
        },
        candidates: Vec::new(),
        selected: None,
        tensor_name: name,
        map,
    })
}

/// An opened checkpoint: one file, or an index whose shards are opened on demand.
enum Checkpoint {
    File(SafetensorsFile),
    Sharded {
        index: PathBuf,
        weight_map: BTreeMap<String, PathBuf>,
        shards: Vec<PathBuf>,
    },
}

impl Checkpoint {
    fn open(resolved: &Resolved) -> Result<Self, Error> {
        Ok(match &resolved.layout {
            Layout::File(p) => Checkpoint::File(SafetensorsFile::open(p)?),
            Layout::Sharded {
                index,
                weight_map,
                shards,
            } => Checkpoint::Sharded {
                index: index.clone(),
                weight_map: weight_map.clone(),
                shards: shards.clone(),
            },
        })
    }

    fn candidates(&self) -> Result<Vec<Candidate>, Error> {
        match self {
            Checkpoint::File(f) => Ok(select::candidates(f.tensors().iter().map(|t| (t, None)))),
            Checkpoint::Sharded { weight_map, .. } => {
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
                    let f = SafetensorsFile::open(shard)?;
                    let infos: Vec<(&TensorInfo, Option<&PathBuf>)> = f
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

    /// The file holding `name` (opened) and the tensor's header entry.
    fn named(
        &self,
        name: &str,
        candidates: &[Candidate],
    ) -> Result<(SafetensorsFileRef<'_>, TensorInfo), Error> {
        match self {
            Checkpoint::File(f) => match f.tensor(name) {
                Some(t) => Ok((SafetensorsFileRef::Borrowed(f), t.clone())),
                None => Err(Error::NoSuchTensor {
                    file: printable_path(f.path()),
                    tensor: printable(name).into_owned(),
                    candidates: select::candidate_hint(candidates, f.tensors()),
                }),
            },
            Checkpoint::Sharded {
                index, weight_map, ..
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
                let f = SafetensorsFile::open(shard)?;
                let t = f.tensor(name).cloned().ok_or_else(|| Error::BadIndex {
                    file: printable_path(index),
                    reason: format!(
                        "the index puts tensor {} in {}, which does not hold it",
                        printable(name),
                        printable_path(shard)
                    ),
                })?;
                Ok((SafetensorsFileRef::Owned(Box::new(f)), t))
            }
        }
    }

    fn why_none(&self) -> Result<String, Error> {
        match self {
            Checkpoint::File(f) => Ok(select::why_none(f.tensors())),
            Checkpoint::Sharded { shards, .. } => {
                // Error path only: reading every shard header is fine here.
                let files = shards
                    .iter()
                    .map(|s| SafetensorsFile::open(s))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(select::why_none(files.iter().flat_map(|f| f.tensors())))
            }
        }
    }
}

enum SafetensorsFileRef<'a> {
    Borrowed(&'a SafetensorsFile),
    Owned(Box<SafetensorsFile>),
}

impl std::ops::Deref for SafetensorsFileRef<'_> {
    type Target = SafetensorsFile;
    fn deref(&self) -> &SafetensorsFile {
        match self {
            SafetensorsFileRef::Borrowed(f) => f,
            SafetensorsFileRef::Owned(f) => f,
        }
    }
}
