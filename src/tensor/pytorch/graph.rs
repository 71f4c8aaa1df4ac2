//! From an unpickled object graph to named tensors and the checkpoint's own metadata.
//!
//! The state dict is found under `model` (fairseq), `state_dict` (Lightning), `module`
//! (DeepSpeed) or `model_state_dict` (hand-written loops), else the whole object is walked
//! (HF `pytorch_model.bin`, `torch.save(model.state_dict())`). Names are the keys on the way
//! to a tensor joined with `.`; a whole pickled `nn.Module`'s `_parameters`/`_buffers`/
//! `_modules` levels are left out, so its names read as its state dict's would.

use std::collections::HashSet;

use super::value::{Arena, Heap, TensorRef, Value};
use crate::tensor::StoreMeta;

/// Containers deeper than this are not walked (a state dict is 1–3 levels deep).
const MAX_DEPTH: usize = 48;

const STATE_DICT_KEYS: [&str; 4] = ["model", "state_dict", "module", "model_state_dict"];

/// Every tensor reachable from the state dict, with its name (in walk order; a tensor that
/// two names reach is listed under both).
pub fn named_tensors(arena: &Arena, root: Value) -> Vec<(String, TensorRef)> {
    let start = STATE_DICT_KEYS
        .iter()
        .filter_map(|k| arena.field(root, k))
        .find(|v| holds_tensor(arena, *v))
        .unwrap_or(root);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    walk(arena, start, String::new(), 0, &mut seen, &mut out);
    out
}

fn holds_tensor(arena: &Arena, v: Value) -> bool {
    let mut out = Vec::new();
    walk(arena, v, String::new(), 0, &mut HashSet::new(), &mut out);
    !out.is_empty()
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn key_text(arena: &Arena, k: Value) -> Option<String> {
    match k {
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(if b { "True" } else { "False" }.into()),
        _ => arena.str(k).map(str::to_string),
    }
}

fn walk(
    arena: &Arena,
    v: Value,
    name: String,
    depth: usize,
    seen: &mut HashSet<usize>,
    out: &mut Vec<(String, TensorRef)>,
) {
    let Value::Ref(id) = v else { return };
    let Some(heap) = arena.get(v) else { return };
    if let Heap::Tensor(t) = heap {
        out.push((name, t.clone()));
        return;
    }
    // A container is walked once: cycles end, shared sub-graphs are not walked twice.
    if depth >= MAX_DEPTH || !seen.insert(id) {
        return;
    }
    match heap {
        Heap::Dict(pairs) => {
            for (k, item) in pairs {
                if let Some(k) = key_text(arena, *k) {
                    walk(arena, *item, join(&name, &k), depth + 1, seen, out);
                }
            }
        }
        Heap::List(items) | Heap::Tuple(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(
                    arena,
                    *item,
                    join(&name, &i.to_string()),
                    depth + 1,
                    seen,
                    out,
                );
            }
        }
        Heap::Object { state, items, .. } => {
            for (k, item) in items {
                if let Some(k) = key_text(arena, *k) {
                    walk(arena, *item, join(&name, &k), depth + 1, seen, out);
                }
            }
            if let Some(state) = state {
                module_state(arena, *state, name, depth + 1, seen, out);
            }
        }
        _ => {}
    }
}

/// An object's `__dict__`: module bookkeeping levels add nothing to a name.
fn module_state(
    arena: &Arena,
    state: Value,
    name: String,
    depth: usize,
    seen: &mut HashSet<usize>,
    out: &mut Vec<(String, TensorRef)>,
) {
    let Some(Heap::Dict(pairs)) = arena.get(state) else {
        walk(arena, state, name, depth, seen, out);
        return;
    };
    let Value::Ref(id) = state else { return };
    if !seen.insert(id) {
        return;
    }
    for (k, item) in pairs {
        match key_text(arena, *k).as_deref() {
            Some("_parameters" | "_buffers" | "_modules") => {
                walk(arena, *item, name.clone(), depth + 1, seen, out)
            }
            Some(k) => walk(arena, *item, join(&name, k), depth + 1, seen, out),
            None => {}
        }
    }
}

/// What the checkpoint says about itself: its step (fairseq's
/// `optimizer_history[-1]['num_updates']` or `extra_state['num_updates']`, Lightning's
/// `global_step`), and for fairseq the positions and width its `args` or `cfg` give.
pub fn meta(arena: &Arena, root: Value) -> StoreMeta {
    let step = arena
        .field(root, "optimizer_history")
        .and_then(|h| arena.seq(h).and_then(|s| s.last().copied()))
        .and_then(|last| arena.field(last, "num_updates"))
        .and_then(|v| int(arena, v))
        .or_else(|| {
            arena
                .field(root, "extra_state")
                .and_then(|e| arena.field(e, "num_updates"))
                .and_then(|v| int(arena, v))
        })
        .or_else(|| arena.field(root, "global_step").and_then(|v| int(arena, v)));
    let args = [
        arena.field(root, "args"),
        arena
            .field(root, "cfg")
            .and_then(|c| config(arena, c, "model")),
    ];
    let from_args = |key: &str| {
        args.iter()
            .flatten()
            .find_map(|a| config(arena, *a, key).and_then(|v| int(arena, v)))
    };
    StoreMeta {
        step,
        max_source_positions: from_args("max_source_positions"),
        max_target_positions: from_args("max_target_positions"),
        encoder_embed_dim: from_args("encoder_embed_dim"),
    }
}

/// `key` of a dict, a Namespace (its attributes) or an omegaconf `DictConfig` (its
/// `_content`, whose values are nodes holding `_val`).
fn config(arena: &Arena, v: Value, key: &str) -> Option<Value> {
    let found = arena
        .field(v, key)
        .or_else(|| arena.field(v, "_content").and_then(|c| arena.field(c, key)))?;
    Some(arena.field(found, "_val").unwrap_or(found))
}

fn int(arena: &Arena, v: Value) -> Option<u64> {
    match v {
        Value::Float(f) if f >= 0.0 && f.fract() == 0.0 && f < 1e18 => Some(f as u64),
        _ => arena.uint(v),
    }
}
