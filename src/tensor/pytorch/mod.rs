//! A safe reader of PyTorch checkpoints (`torch.save`: `.pt`, `.pth`, `.bin`, `.ckpt`).
//!
//! Unpickling a checkpoint with Python runs whatever code it names, so nothing here calls
//! anything: [`pickle`] is a small VM of our own that builds plain data, resolves globals
//! through an allow-list ([`globals`]: the functions that rebuild tensors and containers),
//! turns every other class into an inert placeholder (fairseq's `argparse.Namespace`,
//! omegaconf configs, Lightning hyper-parameters) and refuses, by name, a pickle that names
//! something that would run code (`os.system`, `builtins.eval`, `subprocess.Popen`, …).
//!
//! Layouts: the zip archive written since torch 1.6 ([`zip`]: `<name>/data.pkl`,
//! `<name>/data/<key>`, `<name>/byteorder`; entries are stored, so each storage is a byte
//! range of the file, read through the [`ByteSource`] as safetensors is) and the legacy
//! stream (`legacy`). Tensors and their names come from the object graph (`graph`); the
//! store (`store`) validates every view against its storage before anything is read.

pub mod globals;
mod graph;
mod input;
mod legacy;
mod literals;
pub mod pickle;
mod store;
pub mod value;
pub mod zip;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub use store::PytorchStore;

use super::source::{ByteSource, OpenProblem, ReadMode};
use super::StoreError;
use crate::text::printable_path;
use pickle::PickleError;
use store::Span;

/// The format's name in messages.
pub const FORMAT: &str = "PyTorch";

/// Extensions `torch.save` files go by (the content decides, these only name the format).
pub const EXTENSIONS: [&str; 4] = ["pt", "pth", "bin", "ckpt"];

/// True when the leading bytes are a zip archive or a legacy `torch.save` stream.
pub fn sniff(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") || legacy::is_legacy(head)
}

/// What is wrong, before the file's name is attached.
#[derive(Debug)]
pub(crate) enum Problem {
    Corrupt(String),
    Incomplete(String),
    Refused(String),
}

impl From<PickleError> for Problem {
    fn from(e: PickleError) -> Self {
        match e {
            PickleError::Refused(r) => Problem::Refused(r),
            PickleError::Corrupt(r) => Problem::Corrupt(r),
        }
    }
}

impl From<zip::ZipProblem> for Problem {
    fn from(e: zip::ZipProblem) -> Self {
        match e {
            zip::ZipProblem::Corrupt(r) => Problem::Corrupt(r),
            zip::ZipProblem::Incomplete(r) => Problem::Incomplete(r),
        }
    }
}

impl Problem {
    fn map(self, f: impl FnOnce(String) -> String) -> Problem {
        match self {
            Problem::Corrupt(r) => Problem::Corrupt(f(r)),
            Problem::Incomplete(r) => Problem::Incomplete(f(r)),
            Problem::Refused(r) => Problem::Refused(f(r)),
        }
    }

    /// The error for `file`. Reasons quote names from the pickle (a refused global, a class):
    /// they are made printable here, the one way out (the fuzzer found control characters
    /// reaching the message through a refused global's name).
    fn with_file(self, file: String) -> StoreError {
        let safe = |r: String| crate::text::printable(&r).into_owned();
        match self.map(safe) {
            Problem::Corrupt(reason) => StoreError::Corrupt {
                file,
                format: FORMAT,
                reason,
            },
            Problem::Incomplete(reason) => StoreError::Incomplete { file, reason },
            Problem::Refused(reason) => StoreError::Refused { file, reason },
        }
    }
}

impl PytorchStore {
    /// Opens `path`, read in `mode`. A zip archive reads its directory and `data.pkl` only;
    /// a legacy file is read whole (mapped: nothing is copied), its storages being inline.
    pub fn open(path: &Path, mode: ReadMode) -> Result<Self, StoreError> {
        let shown = || printable_path(path);
        let source = ByteSource::open(path, mode).map_err(|p| match p {
            OpenProblem::Io(e) => StoreError::Io {
                file: shown(),
                source: e,
            },
            OpenProblem::NotRegular => {
                Problem::Corrupt("not a regular file".into()).with_file(shown())
            }
            OpenProblem::TooLarge => {
                Problem::Corrupt("file too large for this platform's address space".into())
                    .with_file(shown())
            }
            OpenProblem::ChangedSize => {
                Problem::Incomplete("the file changed size while being opened".into())
                    .with_file(shown())
            }
        })?;
        Self::read(source)
    }

    /// Reads a `torch.save` image in memory; `label` names it in messages.
    pub fn from_bytes(label: &str, bytes: impl Into<Arc<[u8]>>) -> Result<Self, StoreError> {
        Self::read(ByteSource::from_bytes(label, bytes))
    }

    fn read(source: ByteSource) -> Result<Self, StoreError> {
        let file = source.label().to_string();
        let head = source
            .read_at(0, source.len().min(16))
            .map_err(|e| StoreError::Io {
                file: file.clone(),
                source: e,
            })?
            .into_owned();
        let result = if head.starts_with(b"PK") {
            read_zip(source)
        } else if legacy::is_legacy(&head) {
            read_legacy(source)
        } else if head.len() < 4 {
            Err(Problem::Incomplete(format!("only {} bytes", head.len())))
        } else {
            Err(Problem::Corrupt(
                "neither a torch.save zip archive nor a legacy torch.save file".into(),
            ))
        };
        result.map_err(|p| p.with_file(file))
    }
}

fn read_zip(source: ByteSource) -> Result<PytorchStore, Problem> {
    let entries = zip::entries(&source)?;
    let pkl = entries
        .iter()
        .filter(|e| e.name == "data.pkl" || e.name.ends_with("/data.pkl"))
        .min_by_key(|e| e.name.len())
        .ok_or_else(|| {
            Problem::Corrupt("the archive has no data.pkl (not a torch.save file)".into())
        })?;
    let prefix = pkl.name.strip_suffix("data.pkl").unwrap_or("").to_string();
    let by_name: HashMap<&str, &zip::Entry> =
        entries.iter().map(|e| (e.name.as_str(), e)).collect();
    let read = |e: &zip::Entry| {
        source
            .read_at(e.offset, e.len)
            .map(|c| c.into_owned())
            .map_err(|_| Problem::Incomplete("the file shrank while it was read".into()))
    };
    let big_endian = match by_name.get(format!("{prefix}byteorder").as_str()) {
        Some(e) => match read(e)?.as_slice() {
            b"big" => true,
            b"little" => false,
            other => {
                return Err(Problem::Corrupt(format!(
                    "byteorder entry says {:?}, not \"little\" or \"big\"",
                    String::from_utf8_lossy(other)
                )))
            }
        },
        None => false,
    };
    let pickled = read(pkl)?;
    let graph = pickle::unpickle(&pickled, 0)?;
    let spans: HashMap<String, Span> = entries
        .iter()
        .filter_map(|e| {
            let key = e.name.strip_prefix(&prefix)?.strip_prefix("data/")?;
            Some((
                key.to_string(),
                Span {
                    offset: e.offset,
                    len: e.len,
                },
            ))
        })
        .collect();
    PytorchStore::build(source, &graph.arena, graph.root, big_endian, |k| {
        spans.get(k).copied()
    })
}

fn read_legacy(source: ByteSource) -> Result<PytorchStore, Problem> {
    let bytes = source
        .read_at(0, source.len())
        .map_err(|_| Problem::Incomplete("the file shrank while it was read".into()))?;
    let (graph, spans) = legacy::read(&bytes)?;
    drop(bytes);
    PytorchStore::build(source, &graph.arena, graph.root, false, |k| {
        spans.get(k).copied()
    })
}
