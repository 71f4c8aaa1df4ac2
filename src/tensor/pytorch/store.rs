//! The PyTorch [`TensorStore`]: named tensors over storages that are byte ranges of one
//! [`ByteSource`] (zip entries, or the raw storages of a legacy file). Views are validated
//! when the store is built; reading one gathers a strided view and swaps a big-endian
//! storage, so callers always get contiguous little-endian bytes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use super::value::{Arena, Heap, TensorRef, Value};
use super::{graph, Problem};
use crate::tensor::{ByteSource, Extent, StoreError, StoreMeta, TensorInfo, TensorStore};
use crate::text::printable;

/// Where one storage's bytes are in the source.
#[derive(Clone, Copy, Debug)]
pub(super) struct Span {
    pub offset: usize,
    pub len: usize,
}

/// How a tensor's elements lie in its storage (elements, not bytes).
#[derive(Clone, Debug)]
struct View {
    size: Vec<u64>,
    stride: Vec<u64>,
    contiguous: bool,
}

#[derive(Debug)]
pub struct PytorchStore {
    source: ByteSource,
    /// Storage `i` of an [`Extent`].
    storages: Vec<Span>,
    big_endian: bool,
    /// Sorted by name; `views[i]` belongs to `tensors[i]`.
    tensors: Vec<TensorInfo>,
    views: Vec<View>,
    meta: StoreMeta,
}

impl PytorchStore {
    /// Builds the store from an unpickled object graph; `locate` finds a storage's bytes by
    /// its key.
    pub(super) fn build(
        source: ByteSource,
        arena: &Arena,
        root: Value,
        big_endian: bool,
        locate: impl Fn(&str) -> Option<Span>,
    ) -> Result<Self, Problem> {
        let mut storages = Vec::new();
        let mut index_of: HashMap<String, usize> = HashMap::new();
        let mut rows: Vec<(TensorInfo, View)> = Vec::new();
        for (name, t) in graph::named_tensors(arena, root) {
            let Some(Heap::Storage(s)) = arena.get(Value::Ref(t.storage)) else {
                continue;
            };
            let Some(dtype) = s.dtype else { continue };
            let shown = printable(&name).into_owned();
            let es = (dtype.bits() / 8).max(1);
            let slot = match index_of.get(&s.key) {
                Some(&i) => i,
                None => {
                    let span = locate(&s.key).ok_or_else(|| {
                        Problem::Corrupt(format!(
                            "tensor {shown}: its storage {} is not in the file",
                            printable(&s.key)
                        ))
                    })?;
                    let claimed = s.numel.checked_mul(es);
                    if claimed.is_none_or(|c| c > span.len as u64) {
                        return Err(Problem::Corrupt(format!(
                            "storage {} claims {} elements of {dtype}, more than its {} bytes",
                            printable(&s.key),
                            s.numel,
                            span.len
                        )));
                    }
                    storages.push(span);
                    index_of.insert(s.key.clone(), storages.len() - 1);
                    storages.len() - 1
                }
            };
            let storage_bytes = s.numel * es;
            let (extent, view) = place(&t, s.view_offset, es, storage_bytes, source.len())
                .map_err(|why| Problem::Corrupt(format!("tensor {shown}: {why}")))?;
            let shape = t
                .size
                .iter()
                .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
                .collect();
            rows.push((
                TensorInfo {
                    name,
                    dtype,
                    shape,
                    extent: Extent {
                        storage: slot,
                        ..extent
                    },
                },
                view,
            ));
        }
        rows.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        rows.dedup_by(|a, b| a.0.name == b.0.name);
        let (tensors, views) = rows.into_iter().unzip();
        Ok(PytorchStore {
            source,
            storages,
            big_endian,
            tensors,
            views,
            meta: graph::meta(arena, root),
        })
    }
}

/// Validates a view against its storage (`storage_bytes` long) and the file (a view that
/// repeats elements must not gather into more bytes than the file holds).
fn place(
    t: &TensorRef,
    view_offset: u64,
    es: u64,
    storage_bytes: u64,
    file_len: usize,
) -> Result<(Extent, View), String> {
    let offset = t
        .offset
        .checked_add(view_offset)
        .ok_or("its storage offset overflows")?;
    let mut numel: u64 = 1;
    let mut last: u64 = offset;
    for (&d, &s) in t.size.iter().zip(&t.stride) {
        numel = numel
            .checked_mul(d)
            .ok_or_else(|| format!("its shape {:?} overflows", t.size))?;
        if d > 0 {
            last = (d - 1)
                .checked_mul(s)
                .and_then(|x| x.checked_add(last))
                .ok_or_else(|| format!("its strides {:?} overflow", t.stride))?;
        }
    }
    let bytes = numel
        .checked_mul(es)
        .ok_or_else(|| format!("its shape {:?} overflows", t.size))?;
    let (begin, end) = if numel == 0 {
        (0, 0)
    } else {
        let end = last
            .checked_add(1)
            .and_then(|l| l.checked_mul(es))
            .ok_or("its extent overflows")?;
        (offset.saturating_mul(es), end)
    };
    if numel > 0 && end > storage_bytes {
        return Err(format!(
            "shape {:?} with strides {:?} at offset {offset} reaches byte {end} of a {storage_bytes}-byte storage",
            t.size, t.stride
        ));
    }
    let contiguous = is_contiguous(&t.size, &t.stride);
    if !contiguous && bytes > file_len as u64 {
        return Err(format!(
            "a strided view of {bytes} bytes is larger than the whole file"
        ));
    }
    let to_usize = |x: u64| usize::try_from(x).map_err(|_| "too large for this platform");
    let extent = Extent {
        storage: 0,
        begin: to_usize(begin)?,
        end: to_usize(end)?,
    };
    let view = View {
        size: t.size.clone(),
        stride: t.stride.clone(),
        contiguous,
    };
    Ok((extent, view))
}

/// Row-major with no gaps (dimensions of size 1 may have any stride).
fn is_contiguous(size: &[u64], stride: &[u64]) -> bool {
    let mut expect = 1u64;
    for (&d, &s) in size.iter().zip(stride).rev() {
        if d != 1 && s != expect {
            return false;
        }
        expect = expect.saturating_mul(d);
    }
    true
}

impl PytorchStore {
    fn view_of(&self, t: &TensorInfo) -> Option<&View> {
        let i = self
            .tensors
            .binary_search_by(|x| x.name.as_str().cmp(&t.name))
            .ok()?;
        (self.tensors[i] == *t).then(|| &self.views[i])
    }
}

impl TensorStore for PytorchStore {
    fn format(&self) -> &'static str {
        super::FORMAT
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

    fn tensor_bytes(&self, t: &TensorInfo) -> Result<Cow<'_, [u8]>, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            file: self.label().to_string(),
            format: super::FORMAT,
            reason,
        };
        let view = self
            .view_of(t)
            .ok_or_else(|| corrupt(format!("tensor {} is not in this file", t.display_name())))?;
        let span = self
            .storages
            .get(t.extent.storage)
            .ok_or_else(|| corrupt(format!("tensor {} has no storage", t.display_name())))?;
        let raw = self
            .source
            .read_at(span.offset + t.extent.begin, t.extent.len())
            .map_err(|_| StoreError::Incomplete {
                file: self.label().to_string(),
                reason: format!("the file shrank while tensor {} was read", t.display_name()),
            })?;
        let es = (t.dtype.bits() / 8).max(1) as usize;
        if view.contiguous && (!self.big_endian || es == 1) {
            return Ok(raw);
        }
        let mut out = if view.contiguous {
            raw.into_owned()
        } else {
            gather(&raw, view, es)
        };
        if self.big_endian && es > 1 {
            out.chunks_exact_mut(es).for_each(<[u8]>::reverse);
        }
        Ok(Cow::Owned(out))
    }

    fn meta(&self) -> StoreMeta {
        self.meta.clone()
    }
}

/// The elements of a strided view in row-major order. `raw` starts at the view's first
/// element; every index was checked against it when the store was built.
fn gather(raw: &[u8], view: &View, es: usize) -> Vec<u8> {
    let numel: u64 = view.size.iter().product();
    let mut out = Vec::with_capacity(numel as usize * es);
    if numel == 0 {
        return out;
    }
    let dims = view.size.len();
    let mut idx = vec![0u64; dims];
    let mut at: u64 = 0;
    loop {
        let b = at as usize * es;
        out.extend_from_slice(raw.get(b..b + es).unwrap_or(&[0u8; 8][..es.min(8)]));
        // Odometer increment, last dimension fastest.
        let mut k = dims;
        loop {
            if k == 0 {
                return out;
            }
            k -= 1;
            idx[k] += 1;
            at += view.stride[k];
            if idx[k] < view.size[k] {
                break;
            }
            at -= view.stride[k] * view.size[k];
            idx[k] = 0;
        }
    }
}
