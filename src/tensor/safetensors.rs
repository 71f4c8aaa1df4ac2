//! A validating safetensors reader: one [`TensorStore`] over a [`ByteSource`].
//!
//! Layout: 8-byte little-endian header length `n`, `n` bytes of JSON, then the data area.
//! We validate the header ourselves rather than trusting any crate's view of it, because the
//! error has to say *what* is wrong and *which file* (and a half-written checkpoint has to be
//! told apart from a corrupt one, so the TUI can retry the former).
//!
//! Only the first 8 bytes, the header and the chosen tensor's bytes are ever read, and
//! nothing is allocated from a size the file claims: every length is bounded by the source's
//! real length first. Mapped or positional reads are the opener's choice ([`ReadMode`]).

use std::borrow::Cow;
use std::io;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::source::{ByteSource, OpenProblem, ReadMode};
use super::{Dtype, Extent, StoreError, TensorInfo, TensorStore};
use crate::text::{printable, printable_path};

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

enum HeaderProblem {
    Corrupt(String),
    /// Consistent, but the data area is shorter than the tensors need.
    Short(String),
}

fn parse_header(json: &[u8], data_len: usize) -> Result<Vec<TensorInfo>, HeaderProblem> {
    use HeaderProblem::{Corrupt, Short};
    // The header may be padded with trailing spaces (the format allows it for alignment).
    let map: serde_json::Map<String, Value> = serde_json::from_slice(json)
        .map_err(|e| Corrupt(format!("header is not a JSON object: {e}")))?;
    let mut tensors = Vec::with_capacity(map.len().min(1 << 16));
    for (name, entry) in map {
        let shown = printable(&name).into_owned();
        if name == "__metadata__" {
            let ok = entry
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string));
            if !ok {
                return Err(Corrupt("__metadata__ is not a map of strings".into()));
            }
            continue;
        }
        let obj = entry
            .as_object()
            .ok_or_else(|| Corrupt(format!("entry for tensor {shown} is not an object")))?;
        let dtype_name = obj
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or_else(|| Corrupt(format!("tensor {shown} has no dtype")))?;
        let dtype = Dtype::parse(dtype_name).ok_or_else(|| {
            Corrupt(format!(
                "tensor {shown} has unknown dtype {}",
                printable(dtype_name)
            ))
        })?;
        let shape_json = obj
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(|| Corrupt(format!("tensor {shown} has no shape")))?;
        let mut shape = Vec::with_capacity(shape_json.len().min(64));
        let mut elements: u64 = 1;
        for dim in shape_json {
            let d = dim.as_u64().ok_or_else(|| {
                Corrupt(format!(
                    "tensor {shown}: shape entry {dim} is not a non-negative integer"
                ))
            })?;
            elements = elements.checked_mul(d).ok_or_else(|| {
                Corrupt(format!("tensor {shown}: shape {shape_json:?} overflows"))
            })?;
            shape.push(
                usize::try_from(d)
                    .map_err(|_| Corrupt(format!("tensor {shown}: dimension {d} too large")))?,
            );
        }
        let offsets = obj
            .get("data_offsets")
            .and_then(Value::as_array)
            .filter(|a| a.len() == 2)
            .ok_or_else(|| Corrupt(format!("tensor {shown} has no [begin, end] data_offsets")))?;
        let (begin, end) = match (offsets[0].as_u64(), offsets[1].as_u64()) {
            (Some(b), Some(e)) if b <= e => (b, e),
            _ => {
                return Err(Corrupt(format!(
                    "tensor {shown}: data_offsets {:?} are not integers with begin <= end",
                    offsets
                )))
            }
        };
        let bits = elements.checked_mul(dtype.bits()).ok_or_else(|| {
            Corrupt(format!(
                "tensor {shown}: shape {shape:?} × {dtype} overflows"
            ))
        })?;
        if bits % 8 != 0 {
            return Err(Corrupt(format!(
                "tensor {shown}: {elements} elements of {dtype} is not a whole number of bytes"
            )));
        }
        if bits / 8 != end - begin {
            return Err(Corrupt(format!(
                "tensor {shown}: shape {shape:?} of {dtype} needs {} bytes but data_offsets span {}",
                bits / 8,
                end - begin
            )));
        }
        let (begin, end) = match (usize::try_from(begin), usize::try_from(end)) {
            (Ok(b), Ok(e)) => (b, e),
            _ => {
                return Err(Short(format!(
                    "tensor {shown} ends past the end of the file"
                )))
            }
        };
        tensors.push(TensorInfo {
            name,
            dtype,
            shape,
            extent: Extent {
                storage: 0,
                begin,
                end,
            },
        });
    }
    // Non-overlapping: sort by position and compare neighbours.
    let mut order: Vec<usize> = (0..tensors.len()).collect();
    order.sort_by_key(|&i| (tensors[i].extent.begin, tensors[i].extent.end));
    for w in order.windows(2) {
        let (a, b) = (&tensors[w[0]], &tensors[w[1]]);
        let (ea, eb) = (a.extent, b.extent);
        if eb.begin < ea.end {
            return Err(Corrupt(format!(
                "tensors {} and {} overlap (bytes {}..{} and {}..{})",
                a.display_name(),
                b.display_name(),
                ea.begin,
                ea.end,
                eb.begin,
                eb.end
            )));
        }
    }
    if let Some(last) = tensors.iter().max_by_key(|t| t.extent.end) {
        if last.extent.end > data_len {
            return Err(Short(format!(
                "tensor {} ends at byte {} of the data area but the file holds only {data_len} data bytes",
                last.display_name(),
                last.extent.end
            )));
        }
    }
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

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
