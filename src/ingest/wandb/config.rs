//! The clip threshold a run's config declares (W&B `config` items; MLflow params share the
//! keys).

use crate::ingest::formats::syntax::parse_number;

/// The part of a `/`-separated name after its last `/`.
fn last_part(name: &[u8]) -> &[u8] {
    memchr::memrchr(b'/', name).map_or(name, |i| &name[i + 1..])
}

/// Config keys that declare the clip threshold (matched whole or as a path's last part).
pub const CLIP_KEYS: [&str; 6] = [
    "max_grad_norm",
    "clip_norm",
    "clip_grad",
    "gradient_clipping",
    "grad_clip",
    "clip_grad_norm",
];

fn is_clip_key(name: &[u8]) -> bool {
    let last = last_part(name);
    CLIP_KEYS.iter().any(|k| k.as_bytes() == last)
}

/// The clip threshold a config item declares: a clip key with a number, or a JSON object
/// holding one (`{"optimizer": {"clip_grad": 1.0}}`). `null`/`false`/negative: none.
pub fn clip_in(name: &[u8], json: &[u8]) -> Option<f64> {
    if is_clip_key(name) {
        return parse_number(json).filter(|v| v.is_finite() && *v >= 0.0);
    }
    if json.first() != Some(&b'{') || json.len() > (1 << 20) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    clip_in_json(&v, 0)
}

fn clip_in_json(v: &serde_json::Value, depth: usize) -> Option<f64> {
    let obj = v.as_object()?;
    if depth > 8 {
        return None;
    }
    for (k, val) in obj {
        if is_clip_key(k.as_bytes()) {
            if let Some(x) = val.as_f64().filter(|x| x.is_finite() && *x >= 0.0) {
                return Some(x);
            }
        }
    }
    obj.values().find_map(|val| clip_in_json(val, depth + 1))
}
