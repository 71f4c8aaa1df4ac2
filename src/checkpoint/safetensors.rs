//! A validating, memory-mapped safetensors reader.
//!
//! Layout: 8-byte little-endian header length `n`, `n` bytes of JSON, then the data area.
//! We validate the header ourselves rather than trusting any crate's view of it, because the
//! error has to say *what* is wrong and *which file* (and a half-written checkpoint has to be
//! told apart from a corrupt one, so the TUI can retry the former).
//!
//! Only the header pages and the chosen tensor's pages are ever touched: the file is mapped,
//! never read whole, and nothing is allocated from a size the file claims.
//!
//! Mapping has one hazard: if another process truncates the file *while* a tensor is being
//! read, the kernel raises SIGBUS and the process dies. Trainers that overwrite a checkpoint in
//! place (`save_file` to the same path) do exactly that, so a process that must never die —
//! the TUI, which owns the terminal — calls [`use_copying_reads`]: headers and the chosen
//! tensor are then read with positional reads into memory (O(N·d) bytes, one extra copy), and
//! a file that shrinks under us is an `Incomplete` error instead of a signal.

use std::borrow::Cow;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use memmap2::Mmap;
use serde_json::Value;

use super::Error;
use crate::text::{printable, printable_path};

/// The safetensors crate's own limit on the JSON header (100 MB).
pub const MAX_HEADER_LEN: u64 = 100_000_000;

/// Every dtype the safetensors format defines. Only the four float types that carry real
/// position tables can be decoded; the rest are known so that their sizes can be validated
/// and an error can name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    Bool,
    F4,
    F6E2M3,
    F6E3M2,
    U8,
    I8,
    F8E5M2,
    F8E4M3,
    F8E8M0,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
    C64,
}

impl Dtype {
    const ALL: [Dtype; 20] = [
        Dtype::Bool,
        Dtype::F4,
        Dtype::F6E2M3,
        Dtype::F6E3M2,
        Dtype::U8,
        Dtype::I8,
        Dtype::F8E5M2,
        Dtype::F8E4M3,
        Dtype::F8E8M0,
        Dtype::I16,
        Dtype::U16,
        Dtype::F16,
        Dtype::BF16,
        Dtype::I32,
        Dtype::U32,
        Dtype::F32,
        Dtype::F64,
        Dtype::I64,
        Dtype::U64,
        Dtype::C64,
    ];

    pub fn parse(s: &str) -> Option<Dtype> {
        Self::ALL.into_iter().find(|d| d.name() == s)
    }

    /// The name as written in safetensors headers.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "BOOL",
            Dtype::F4 => "F4",
            Dtype::F6E2M3 => "F6_E2M3",
            Dtype::F6E3M2 => "F6_E3M2",
            Dtype::U8 => "U8",
            Dtype::I8 => "I8",
            Dtype::F8E5M2 => "F8_E5M2",
            Dtype::F8E4M3 => "F8_E4M3",
            Dtype::F8E8M0 => "F8_E8M0",
            Dtype::I16 => "I16",
            Dtype::U16 => "U16",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::I32 => "I32",
            Dtype::U32 => "U32",
            Dtype::F32 => "F32",
            Dtype::F64 => "F64",
            Dtype::I64 => "I64",
            Dtype::U64 => "U64",
            Dtype::C64 => "C64",
        }
    }

    /// Bits per element (sub-byte types exist: F4, F6).
    pub fn bits(self) -> u64 {
        match self {
            Dtype::F4 => 4,
            Dtype::F6E2M3 | Dtype::F6E3M2 => 6,
            Dtype::Bool | Dtype::U8 | Dtype::I8 => 8,
            Dtype::F8E5M2 | Dtype::F8E4M3 | Dtype::F8E8M0 => 8,
            Dtype::I16 | Dtype::U16 | Dtype::F16 | Dtype::BF16 => 16,
            Dtype::I32 | Dtype::U32 | Dtype::F32 => 32,
            Dtype::F64 | Dtype::I64 | Dtype::U64 | Dtype::C64 => 64,
        }
    }

    /// A real floating-point type (candidate material for a position table).
    pub fn is_float(self) -> bool {
        matches!(
            self,
            Dtype::F4
                | Dtype::F6E2M3
                | Dtype::F6E3M2
                | Dtype::F8E5M2
                | Dtype::F8E4M3
                | Dtype::F16
                | Dtype::BF16
                | Dtype::F32
                | Dtype::F64
        )
    }

    /// One of the four types trainwatch decodes.
    pub fn is_decodable(self) -> bool {
        matches!(self, Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64)
    }

    /// Bytes per element of a decodable type (0 for the others).
    pub fn size(self) -> usize {
        if self.is_decodable() {
            (self.bits() / 8) as usize
        } else {
            0
        }
    }
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One tensor's header entry, validated: `begin..end` lies inside the data area and matches
/// `shape × dtype`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The raw name: use it for lookups only; print it through [`crate::text::printable`].
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Byte offsets relative to the data area, end exclusive.
    pub begin: usize,
    pub end: usize,
}

impl TensorInfo {
    pub fn display_name(&self) -> std::borrow::Cow<'_, str> {
        printable(&self.name)
    }
}

static COPYING_READS: AtomicBool = AtomicBool::new(false);

/// From now on, this process reads checkpoints with positional reads instead of mapping them
/// (see the module documentation: no SIGBUS when a writer truncates the file in place).
pub fn use_copying_reads() {
    COPYING_READS.store(true, Ordering::Relaxed);
}

/// Where the bytes come from.
#[derive(Debug)]
enum Backing {
    Mapped(Mmap),
    /// The open file; the header is kept in memory, tensors are read on demand.
    Read {
        file: File,
        head: Vec<u8>,
    },
}

/// An open, validated safetensors file.
#[derive(Debug)]
pub struct SafetensorsFile {
    path: PathBuf,
    backing: Backing,
    data_start: usize,
    /// Sorted by name.
    tensors: Vec<TensorInfo>,
}

/// Extensions of pickle-based formats (torch.save, pickle.dump).
const PICKLE_EXTS: [&str; 5] = ["pt", "bin", "pth", "ckpt", "pkl"];

/// `Err(Error::Pickle)` when the path has a pickle extension.
pub fn refuse_pickle(path: &Path) -> Result<(), Error> {
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        let lower = ext.to_ascii_lowercase();
        if PICKLE_EXTS.contains(&lower.as_str()) {
            return Err(Error::Pickle {
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

impl SafetensorsFile {
    /// Opens and validates `path`. Touches the first 8 bytes and the header pages only.
    pub fn open(path: &Path) -> Result<Self, Error> {
        refuse_pickle(path)?;
        // Checked before open(): opening a FIFO would block.
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_file() {
            return Err(Error::Corrupt {
                file: printable_path(path),
                reason: "not a regular file".into(),
            });
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let shown = || printable_path(path);
        if len < 8 {
            return Err(Error::Incomplete {
                file: shown(),
                reason: format!("only {len} bytes, less than the 8-byte header length"),
            });
        }
        let file_len = usize::try_from(len).map_err(|_| Error::Corrupt {
            file: shown(),
            reason: "file too large for this platform's address space".into(),
        })?;
        let backing = if COPYING_READS.load(Ordering::Relaxed) {
            // The 8-byte length and the header (bounded by the 100 MB limit and by the file's
            // actual length, never by what the file claims alone).
            let mut len8 = [0u8; 8];
            file.read_exact_at(&mut len8, 0)
                .map_err(|e| Error::io(path, e))?;
            let claimed = u64::from_le_bytes(len8).min(MAX_HEADER_LEN).min(len - 8);
            let mut head = vec![0u8; 8 + claimed as usize];
            file.read_exact_at(&mut head, 0)
                .map_err(|_| Error::Incomplete {
                    file: shown(),
                    reason: "the file shrank while its header was read".into(),
                })?;
            Backing::Read { file, head }
        } else {
            // SAFETY: the map is read-only and private to us; the bytes are only read as plain
            // integers after bounds checks. Another process modifying the file changes what we
            // read (handled: everything is validated) and truncating it while we read raises
            // SIGBUS (see the module documentation and `use_copying_reads`).
            let mmap = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
            if mmap.len() != file_len {
                return Err(Error::Incomplete {
                    file: shown(),
                    reason: "the file changed size while being opened".into(),
                });
            }
            Backing::Mapped(mmap)
        };
        let bytes: &[u8] = match &backing {
            Backing::Mapped(m) => m,
            Backing::Read { head, .. } => head,
        };
        let head = &bytes[..8];
        if looks_like_pickle(head) {
            return Err(Error::Pickle {
                file: shown(),
                ext: "pickle/torch.save".into(),
            });
        }
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(head);
        let header_len = u64::from_le_bytes(len_bytes);
        if header_len > MAX_HEADER_LEN {
            return Err(Error::Corrupt {
                file: shown(),
                reason: format!(
                    "header length {header_len} bytes exceeds the {MAX_HEADER_LEN}-byte limit (not a safetensors file?)"
                ),
            });
        }
        if header_len < 2 {
            return Err(Error::Corrupt {
                file: shown(),
                reason: format!("header length {header_len} is too short for a JSON object"),
            });
        }
        if file_len > 8 && bytes.get(8) != Some(&b'{') {
            return Err(Error::Corrupt {
                file: shown(),
                reason: "no JSON header after the length (not a safetensors file?)".into(),
            });
        }
        // header_len <= 100 MB so this cannot overflow.
        let data_start = 8 + header_len as usize;
        if data_start > file_len {
            return Err(Error::Incomplete {
                file: shown(),
                reason: format!(
                    "header length says {header_len} bytes but only {} follow",
                    file_len - 8
                ),
            });
        }
        let tensors =
            parse_header(&bytes[8..data_start], file_len - data_start).map_err(|p| match p {
                HeaderProblem::Corrupt(reason) => Error::Corrupt {
                    file: shown(),
                    reason,
                },
                HeaderProblem::Short(reason) => Error::Incomplete {
                    file: shown(),
                    reason,
                },
            })?;
        Ok(SafetensorsFile {
            path: path.to_path_buf(),
            backing,
            data_start,
            tensors,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All tensors, sorted by name.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors
            .binary_search_by(|t| t.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.tensors[i])
    }

    /// The tensor's bytes (validated at open): borrowed from the map (the kernel is advised to
    /// read them ahead), or read into memory in copying mode.
    pub fn tensor_bytes(&self, t: &TensorInfo) -> Result<Cow<'_, [u8]>, Error> {
        let outside = || Error::Corrupt {
            file: printable_path(&self.path),
            reason: format!("tensor {} lies outside the file", t.display_name()),
        };
        let (b, e) = self
            .data_start
            .checked_add(t.begin)
            .zip(self.data_start.checked_add(t.end))
            .filter(|(b, e)| b <= e)
            .ok_or_else(outside)?;
        match &self.backing {
            Backing::Mapped(mmap) => {
                let bytes = mmap.get(b..e).ok_or_else(outside)?;
                if !bytes.is_empty() {
                    // A hint only: failure changes nothing but speed.
                    let _ = mmap.advise_range(memmap2::Advice::WillNeed, b, bytes.len());
                }
                Ok(Cow::Borrowed(bytes))
            }
            Backing::Read { file, .. } => {
                // The length was validated against the file's size at open.
                let mut buf = vec![0u8; e - b];
                file.read_exact_at(&mut buf, b as u64)
                    .map_err(|_| Error::Incomplete {
                        file: printable_path(&self.path),
                        reason: format!(
                            "the file shrank while tensor {} was read",
                            t.display_name()
                        ),
                    })?;
                Ok(Cow::Owned(buf))
            }
        }
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
            begin,
            end,
        });
    }
    // Non-overlapping: sort by position and compare neighbours.
    let mut order: Vec<usize> = (0..tensors.len()).collect();
    order.sort_by_key(|&i| (tensors[i].begin, tensors[i].end));
    for w in order.windows(2) {
        let (a, b) = (&tensors[w[0]], &tensors[w[1]]);
        if b.begin < a.end {
            return Err(Corrupt(format!(
                "tensors {} and {} overlap (bytes {}..{} and {}..{})",
                a.display_name(),
                b.display_name(),
                a.begin,
                a.end,
                b.begin,
                b.end
            )));
        }
    }
    if let Some(last) = tensors.iter().max_by_key(|t| t.end) {
        if last.end > data_len {
            return Err(Short(format!(
                "tensor {} ends at byte {} of the data area but the file holds only {data_len} data bytes",
                last.display_name(),
                last.end
            )));
        }
    }
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tensors)
}
