//! The safetensors JSON header, parsed and validated by the format's reference implementation
//! (the `safetensors` crate's [`Metadata`]: dtypes, shapes, offsets end to end from the start
//! of the data area). What it does not do is done here: telling a data area that is still
//! being written (shorter than the header needs: [`HeaderProblem::Short`]) from a corrupt one,
//! and saying which tensor is wrong when the crate does not name it.

use safetensors::tensor::{Metadata, TensorInfo as CrateInfo};
use serde_json::Value;

use crate::tensor::{Dtype, Extent, TensorInfo};
use crate::text::printable;

pub(super) enum HeaderProblem {
    Corrupt(String),
    /// Consistent, but the data area is shorter than the tensors need.
    Short(String),
}

/// The tensors the header describes (sorted by name), given the data area's real length.
pub(super) fn parse_header(json: &[u8], data_len: usize) -> Result<Vec<TensorInfo>, HeaderProblem> {
    use HeaderProblem::{Corrupt, Short};
    let meta: Metadata = serde_json::from_slice(json).map_err(|e| {
        let why = explain(json).unwrap_or_else(|| crate_message(&e.to_string()));
        Corrupt(printable(&why).into_owned())
    })?;
    let mut tensors = Vec::with_capacity(meta.tensors().len());
    for (name, info) in meta.tensors() {
        let shown = printable(&name).into_owned();
        let crate_name = format!("{:?}", info.dtype);
        let dtype = Dtype::parse(&crate_name).ok_or_else(|| {
            Corrupt(format!(
                "tensor {shown} has dtype {crate_name}, which trainwatch does not read"
            ))
        })?;
        tensors.push(TensorInfo {
            name,
            dtype,
            shape: info.shape.clone(),
            extent: Extent {
                storage: 0,
                begin: info.data_offsets.0,
                end: info.data_offsets.1,
            },
        });
    }
    let needed = meta.data_len();
    if needed != data_len {
        let last = tensors
            .iter()
            .max_by_key(|t| t.extent.end)
            .map_or_else(String::new, |t| t.display_name().into_owned());
        return Err(if needed > data_len {
            Short(format!(
                "tensor {last} ends at byte {needed} of the data area but the file holds only {data_len} data bytes"
            ))
        } else {
            Corrupt(format!(
                "{} bytes follow the last tensor's data (the header accounts for {needed} of {data_len} data bytes)",
                data_len - needed
            ))
        });
    }
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tensors)
}

/// The crate's message, with what its offset rule means.
fn crate_message(e: &str) -> String {
    if e.contains("invalid offset") {
        format!("{e} (tensors must lie end to end from the start of the data area: no gaps, no overlaps, begin <= end)")
    } else {
        format!("header is not a JSON object the format allows: {e}")
    }
}

/// Which entry the crate refused, and why, when one can be named (only on the error path).
fn explain(json: &[u8]) -> Option<String> {
    let map: serde_json::Map<String, Value> = match serde_json::from_slice(json) {
        Ok(m) => m,
        Err(e) => return Some(format!("header is not a JSON object: {e}")),
    };
    for (name, entry) in &map {
        let shown = printable(name);
        if name == "__metadata__" {
            if !entry
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string))
            {
                return Some("__metadata__ is not a map of strings".into());
            }
            continue;
        }
        let Some(obj) = entry.as_object() else {
            return Some(format!("entry for tensor {shown} is not an object"));
        };
        if let Some(d) = obj.get("dtype").and_then(Value::as_str) {
            if serde_json::from_value::<safetensors::Dtype>(Value::from(d)).is_err() {
                return Some(format!("tensor {shown} has unknown dtype {}", printable(d)));
            }
        }
        let dims = obj.get("shape").and_then(Value::as_array);
        if let Some(bad) = dims.and_then(|d| d.iter().find(|v| v.as_u64().is_none())) {
            return Some(format!(
                "tensor {shown}: shape entry {bad} is not a non-negative integer"
            ));
        }
        let info: CrateInfo = match serde_json::from_value(entry.clone()) {
            Ok(i) => i,
            Err(e) => return Some(format!("tensor {shown}: {e}")),
        };
        let elements = info.shape.iter().try_fold(1usize, |a, d| a.checked_mul(*d));
        let bits = elements.and_then(|n| n.checked_mul(info.dtype.bitsize()));
        let Some(bits) = bits else {
            return Some(format!(
                "tensor {shown}: shape {:?} × {:?} overflows",
                info.shape, info.dtype
            ));
        };
        let (b, e) = info.data_offsets;
        if bits % 8 != 0 {
            return Some(format!(
                "tensor {shown}: shape {:?} of {:?} is not a whole number of bytes",
                info.shape, info.dtype
            ));
        }
        if b <= e && bits / 8 != e - b {
            return Some(format!(
                "tensor {shown}: shape {:?} of {:?} needs {} bytes but data_offsets span {}",
                info.shape,
                info.dtype,
                bits / 8,
                e - b
            ));
        }
    }
    None
}
