//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

/// A file of `../shared/samples/` (the real logs and tables; see its MANIFEST.md).
pub fn sample(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/samples")
        .join(rel)
}

/// The bytes of a safetensors file holding one F32 tensor `name` of `rows × cols`, values
/// from `f(row, col)`.
pub fn safetensors_f32(
    name: &str,
    rows: usize,
    cols: usize,
    f: impl Fn(usize, usize) -> f32,
) -> Vec<u8> {
    let n = rows * cols * 4;
    let mut header = format!(
        "{{\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{rows},{cols}],\"data_offsets\":[0,{n}]}}}}"
    )
    .into_bytes();
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    for r in 0..rows {
        for c in 0..cols {
            out.extend_from_slice(&f(r, c).to_le_bytes());
        }
    }
    out
}
