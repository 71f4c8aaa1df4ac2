//! Glue: PATH + choices → the map and its title. One call, no terminal, no shared state: safe
//! to run on a worker thread.

use std::path::{Path, PathBuf};

use super::explain::{explain, TableFacts};
use super::opened::{Checkpoint, StoreRef};
use super::resolve::{resolve, Resolved};
use super::select::{self, Candidate};
use super::similarity::{add_profile, compute_map_and_norms, map_only, SimilarityMap, TableView};
use super::{sinusoidal, Error};
use crate::tensor::{open_store, Dtype, ReadMode, StoreError, TensorStore};
use crate::text::printable_path;

/// What to compute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimilarityRequest {
    /// A tensor file, an index, or a directory (see [`super::resolve()`]). Not read when
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
    /// How the checkpoint's files are read: mapped for the headless commands, positionally
    /// in the TUI (a file truncated under a map would kill the process that owns the terminal).
    pub read: ReadMode,
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
    /// The map in two or three plain sentences (see [`super::explain`]).
    pub explanation: Vec<String>,
    /// The checkpoint's main file as resolved (unprintable characters kept: a path to compare,
    /// never to show); `None` for `--sinusoidal` and stores opened from memory.
    pub source: Option<PathBuf>,
}

/// Resolves PATH and validates every file of the checkpoint (header, and the file is at least
/// as long as the header says). A checkpoint still being written fails with
/// [`StoreError::Incomplete`]; callers keep the last good map and retry.
pub fn check_complete(path: &Path, read: ReadMode) -> Result<Resolved, Error> {
    let resolved = resolve(path)?;
    for file in resolved.files() {
        if file.to_string_lossy().ends_with(".index.json") {
            continue; // read and checked by resolve()
        }
        open_store(&file, read)?;
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
pub fn list_candidates(path: &Path, read: ReadMode) -> Result<CandidateList, Error> {
    let resolved = resolve(path)?;
    let ckpt = Checkpoint::open(&resolved, read)?;
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
    compute_similarity_staged(req, &mut |_| true)
}

/// [`compute_similarity`] in two stages: `on_map` gets the report of the map alone as soon as
/// it is ready (`map.profile_pending`, no explanation yet: it reads the profile); then the
/// profile, its summary and the explanation are computed, unless `on_map` returned false
/// (nobody wants them any more), in which case the map-only report is returned.
pub fn compute_similarity_staged(
    req: &SimilarityRequest,
    on_map: &mut dyn FnMut(&SimilarityReport) -> bool,
) -> Result<SimilarityReport, Error> {
    if req.blocks == 0 {
        return Err(Error::BadSize(0));
    }
    if let Some((n, d)) = req.sinusoidal {
        return sinusoidal_report(req, n, d);
    }
    let resolved = resolve(&req.path)?;
    let ckpt = Checkpoint::open(&resolved, req.read)?;
    let source = Some(resolved.main_path().to_path_buf());
    let label = printable_path(resolved.main_path());
    let mut on_map = |r: &mut SimilarityReport| {
        r.source.clone_from(&source);
        on_map(r)
    };
    let mut report = table_report(&ckpt, label, resolved.step, req, &mut on_map)?;
    report.source = source;
    Ok(report)
}

/// Computes the map of a table of `store`, already open (bytes in memory, say): `req`'s
/// tensor, rows and blocks are used, its path, read mode and `sinusoidal` are not.
pub fn store_similarity(
    store: &dyn TensorStore,
    req: &SimilarityRequest,
) -> Result<SimilarityReport, Error> {
    if req.blocks == 0 {
        return Err(Error::BadSize(0));
    }
    let ckpt = Checkpoint::Single(StoreRef::Borrowed(store));
    table_report(&ckpt, store.label().to_string(), None, req, &mut |_| true)
}

/// The map of the requested (or auto-detected) table; `label` names the checkpoint. `on_map`
/// as in [`compute_similarity_staged`] (it may fill in the report's `source`).
fn table_report(
    ckpt: &Checkpoint<'_>,
    label: String,
    step: Option<u64>,
    req: &SimilarityRequest,
    on_map: &mut dyn FnMut(&mut SimilarityReport) -> bool,
) -> Result<SimilarityReport, Error> {
    let candidates = ckpt.candidates()?;
    let (store, info) = match &req.tensor {
        Some(name) => ckpt.named(name, &candidates)?,
        None => match candidates.first() {
            Some(c) => ckpt.named(&c.name, &candidates)?,
            None => {
                return Err(Error::NoTable {
                    file: label,
                    why: ckpt.why_none()?,
                })
            }
        },
    };
    let shown_file = store.label().to_string();
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
    let bytes = store.tensor_bytes(&info)?;
    let view = TableView::new(&bytes, info.dtype, n, d).ok_or_else(|| StoreError::Corrupt {
        file: shown_file.clone(),
        format: store.format(),
        reason: format!("tensor {} has the wrong byte length", info.display_name()),
    })?;
    let (map, norms) = map_only(&view, rows, req.blocks);
    let selected = candidates.iter().position(|c| c.name == info.name);
    // A name without a step (`checkpoint_last.pt`): the checkpoint's own metadata may say.
    let step = step.or_else(|| store.meta().step);
    let mut report = SimilarityReport {
        title: TableTitle {
            file: shown_file,
            tensor: info.display_name().into_owned(),
            dtype: info.dtype.to_string(),
            shape: info.shape.clone(),
            rows: map.rows,
            step,
        },
        candidates,
        selected,
        tensor_name: info.name.clone(),
        map,
        explanation: Vec::new(),
        source: None,
    };
    if !on_map(&mut report) {
        return Ok(report);
    }
    add_profile(&view, &mut report.map, &norms);
    report.explanation = explain(&report.map, &TableFacts::from_norms(&view, norms));
    Ok(report)
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
    let view =
        TableView::new(&bytes, Dtype::F64, total, d).ok_or_else(|| Error::BadSinusoidal {
            n,
            d,
            why: "internal size mismatch".into(),
        })?;
    let (map, norms) = compute_map_and_norms(&view, rows, req.blocks);
    let explanation = explain(&map, &TableFacts::from_norms(&view, norms));
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
        explanation,
        source: None,
    })
}
