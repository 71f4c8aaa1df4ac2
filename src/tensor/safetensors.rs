//! A validating safetensors reader: one [`TensorStore`] over a [`ByteSource`].
//!
//! Layout: 8-byte little-endian header length `n`, `n` bytes of JSON, then the data area.
//! The JSON is parsed and validated by the format's reference implementation (the
//! `safetensors` crate, see `header`); this reader adds what it does not do: errors that
//! name the file (and the tensor), a half-written checkpoint told apart from a corrupt one (so
//! the TUI can retry the former), and positional reads (the crate wants the whole file in
//! memory or mapped).
//!
//! Only the first 8 bytes, the header and the chosen tensor's bytes are ever read, and
//! nothing is allocated from a size the file claims: every length is bounded by the source's
//! real length first. Mapped or positional reads are the opener's choice ([`ReadMode`]).

use std::borrow::Cow;
use std::io;
use std::path::Path;
use std::sync::Arc;

use super::source::{ByteSource, OpenProblem, ReadMode};
use super::{StoreError, TensorInfo, TensorStore};
use crate::text::printable_path;

#[path = "safetensors_header.rs"]
mod header;
use header::{parse_header, HeaderProblem};

const FORMAT: &str = "safetensors";

/// The safetensors crate's own limit on the JSON header (100 MB).
pub const MAX_HEADER_LEN: u64 = 100_000_000;

/// Extensions of pickle-based formats (torch.save, pickle.dump).
const PICKLE_EXTS: [&str; 5] = ["pt", "bin", "pth", "ckpt", "pkl"];

/// `Err(StoreError::Pickle)` when the path has a pickle extension.
pub fn refuse_pickle(path: &Path) -> Result<(), StoreError> {
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        let lower = ext.to_ascii_lowercase();
        if PICKLE_EXTS.contains(&lower.as_str()) {
            return Err(StoreError::Pickle {
                file: printable_path(path),
                ext: format!(".{lower}"),
            });
        }
    }
    Ok(())
}

/// True when the leading bytes are a torch.save zip archive or a raw pickle stream.
fn looks_like_pickle(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
        || (head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]))
}

/// An open, validated safetensors file (or in-memory image of one).
#[derive(Debug)]
pub struct SafetensorsStore {
    source: ByteSource,
    /// Where the data area (storage 0) starts.
    data_start: usize,
    /// Sorted by name.
    tensors: Vec<TensorInfo>,
}

impl SafetensorsStore {
    /// Opens and validates `path`, read in `mode`. Reads the first 8 bytes and the header only.
    pub fn open(path: &Path, mode: ReadMode) -> Result<Self, StoreError> {
        refuse_pickle(path)?;
        let shown = || printable_path(path);
        let source = ByteSource::open(path, mode).map_err(|p| match p {
            OpenProblem::Io(e) => StoreError::Io {
                file: shown(),
                source: e,
            },
            OpenProblem::NotRegular => corrupt(shown(), "not a regular file".into()),
            OpenProblem::TooLarge => corrupt(
                shown(),
                "file too large for this platform's address space".into(),
            ),
            OpenProblem::ChangedSize => StoreError::Incomplete {
                file: shown(),
                reason: "the file changed size while being opened".into(),
            },
        })?;
        Self::validate(source)
    }

    /// Validates a safetensors image in memory; `label` names it in messages.
    pub fn from_bytes(label: &str, bytes: impl Into<Arc<[u8]>>) -> Result<Self, StoreError> {
        Self::validate(ByteSource::from_bytes(label, bytes))
    }

    fn validate(source: ByteSource) -> Result<Self, StoreError> {
        let shown = || source.label().to_string();
        let file_len = source.len();
        if file_len < 8 {
            return Err(StoreError::Incomplete {
                file: shown(),
                reason: format!("only {file_len} bytes, less than the 8-byte header length"),
            });
        }
        let io_error = |e: io::Error| StoreError::Io {
            file: shown(),
            source: e,
        };
        let head = source.read_at(0, 8).map_err(io_error)?;
        if looks_like_pickle(&head) {
            return Err(StoreError::Pickle {
                file: shown(),
                ext: "pickle/torch.save".into(),
            });
        }
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(&head);
        let header_len = u64::from_le_bytes(len_bytes);
        if header_len > MAX_HEADER_LEN {
            return Err(corrupt(
                shown(),
                format!(
                    "header length {header_len} bytes exceeds the {MAX_HEADER_LEN}-byte limit (not a safetensors file?)"
                ),
            ));
        }
        if header_len < 2 {
            return Err(corrupt(
                shown(),
                format!("header length {header_len} is too short for a JSON object"),
            ));
        }
        // header_len <= 100 MB so this cannot overflow; what is read is bounded by the real
        // length, never by the claim alone.
        let header_len = header_len as usize;
        let json = source
            .read_at(8, header_len.min(file_len - 8))
            .map_err(|_| StoreError::Incomplete {
                file: shown(),
                reason: "the file shrank while its header was read".into(),
            })?;
        if file_len > 8 && json.first() != Some(&b'{') {
            return Err(corrupt(
                shown(),
                "no JSON header after the length (not a safetensors file?)".into(),
            ));
        }
        let data_start = 8 + header_len;
        if data_start > file_len {
            return Err(StoreError::Incomplete {
                file: shown(),
                reason: format!(
                    "header length says {header_len} bytes but only {} follow",
                    file_len - 8
                ),
            });
        }
        let tensors = parse_header(&json, file_len - data_start).map_err(|p| match p {
            HeaderProblem::Corrupt(reason) => corrupt(shown(), reason),
            HeaderProblem::Short(reason) => StoreError::Incomplete {
                file: shown(),
                reason,
            },
        })?;
        drop(json);
        Ok(SafetensorsStore {
            source,
            data_start,
            tensors,
        })
    }
}

fn corrupt(file: String, reason: String) -> StoreError {
    StoreError::Corrupt {
        file,
        format: FORMAT,
        reason,
    }
}

impl TensorStore for SafetensorsStore {
    fn format(&self) -> &'static str {
        FORMAT
    }

    fn path(&self) -> Option<&Path> {
        self.source.path()
    }

    fn label(&self) -> &str {
        self.source.label()
    }

    fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// Validated at open: borrowed from the map or memory, or read positionally (a file that
    /// shrank since is `Incomplete`).
    fn tensor_bytes(&self, t: &TensorInfo) -> Result<Cow<'_, [u8]>, StoreError> {
        let outside = || {
            corrupt(
                self.label().to_string(),
                format!("tensor {} lies outside the file", t.display_name()),
            )
        };
        let (b, e) = self
            .data_start
            .checked_add(t.extent.begin)
            .zip(self.data_start.checked_add(t.extent.end))
            .filter(|(b, e)| b <= e && *e <= self.source.len() && t.extent.storage == 0)
            .ok_or_else(outside)?;
        self.source
            .read_at(b, e - b)
            .map_err(|_| StoreError::Incomplete {
                file: self.label().to_string(),
                reason: format!("the file shrank while tensor {} was read", t.display_name()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::{Dtype, Extent};

    /// `{"wpe": F32 [2, 2]}` and its 16 data bytes.
    fn image() -> Vec<u8> {
        let header = br#"{"wpe":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#;
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header);
        out.extend((0u8..16).collect::<Vec<_>>());
        out
    }

    #[test]
    fn an_image_in_memory_is_a_store() {
        let s = SafetensorsStore::from_bytes("mem", image()).unwrap();
        let t = s.tensor("wpe").unwrap().clone();
        assert_eq!((t.dtype, t.shape.as_slice()), (Dtype::F32, &[2, 2][..]));
        assert_eq!(t.extent.len(), 16);
        let bytes = s.tensor_bytes(&t).unwrap();
        assert!(matches!(bytes, Cow::Borrowed(_)));
        assert_eq!(bytes[15], 15);
        // A description that is not this store's is refused, not read.
        let foreign = TensorInfo {
            extent: Extent {
                storage: 1,
                ..t.extent
            },
            ..t
        };
        assert!(matches!(
            s.tensor_bytes(&foreign),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn pickles_are_recognised_by_their_bytes() {
        let e = SafetensorsStore::from_bytes("x", b"PK\x03\x04rest-of-zip".to_vec()).unwrap_err();
        assert!(matches!(e, StoreError::Pickle { .. }), "{e}");
    }
}
