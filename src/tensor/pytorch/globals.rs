//! What a pickle's `GLOBAL`/`STACK_GLOBAL` may name, in the spirit of torch's
//! `_weights_only_unpickler`: a few names rebuild tensors and containers (applied here, as
//! data); names that would run code are refused outright; everything else becomes an inert
//! placeholder that is never called, so that the tensors beside an `argparse.Namespace` or an
//! omegaconf config still load.

use super::value::{Arena, Heap, Known, StorageRef, TensorRef, Value};
use crate::tensor::Dtype;

/// Modules whose every name is refused: they run programs, open files or sockets, import or
/// unpickle further code.
const DENIED_MODULES: [&str; 17] = [
    "os",
    "posix",
    "nt",
    "subprocess",
    "socket",
    "shutil",
    "pty",
    "runpy",
    "importlib",
    "ctypes",
    "sys",
    "code",
    "webbrowser",
    "pickle",
    "_pickle",
    "marshal",
    "commands",
];

/// Builtins that evaluate, import, open or reach into objects.
const DENIED_BUILTINS: [&str; 14] = [
    "eval",
    "exec",
    "execfile",
    "compile",
    "__import__",
    "open",
    "getattr",
    "setattr",
    "delattr",
    "globals",
    "locals",
    "vars",
    "input",
    "breakpoint",
];

/// `Err(reason)` for a refused name, else what the name stands for.
pub fn resolve(module: &str, name: &str) -> Result<Heap, String> {
    let top = module.split('.').next().unwrap_or(module);
    let builtin = matches!(module, "builtins" | "__builtin__");
    if DENIED_MODULES.contains(&top) || (builtin && DENIED_BUILTINS.contains(&name)) {
        return Err(format!("the pickle calls {module}.{name}"));
    }
    let known = match (module, name) {
        ("torch._utils", "_rebuild_tensor") => Known::RebuildTensor,
        ("torch._utils", "_rebuild_tensor_v2") => Known::RebuildTensorV2,
        ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
            Known::RebuildParameter
        }
        ("torch._tensor", "_rebuild_from_type_v2") => Known::RebuildFromTypeV2,
        ("collections", "OrderedDict") => Known::OrderedDict,
        ("torch", "Size") => Known::Size,
        ("builtins" | "__builtin__", "set") => Known::Set,
        ("builtins" | "__builtin__", "frozenset") => Known::FrozenSet,
        ("_codecs", "encode") => Known::CodecsEncode,
        ("torch" | "torch.storage", "UntypedStorage") => Known::StorageType(Some(Dtype::U8)),
        ("torch", n) if n.ends_with("Storage") => Known::StorageType(storage_dtype(n)),
        ("torch", n) => match torch_dtype(n) {
            Some(d) => return Ok(Heap::DtypeObj(Some(d))),
            None => return Ok(Heap::Class(format!("{module}.{name}"))),
        },
        _ => return Ok(Heap::Class(format!("{module}.{name}"))),
    };
    Ok(Heap::Global(known))
}

/// `torch.FloatStorage` and friends (legacy typed storages name the element type).
fn storage_dtype(name: &str) -> Option<Dtype> {
    Some(match name {
        "FloatStorage" => Dtype::F32,
        "HalfStorage" => Dtype::F16,
        "BFloat16Storage" => Dtype::BF16,
        "DoubleStorage" => Dtype::F64,
        "LongStorage" => Dtype::I64,
        "IntStorage" => Dtype::I32,
        "ShortStorage" => Dtype::I16,
        "CharStorage" => Dtype::I8,
        "ByteStorage" => Dtype::U8,
        "BoolStorage" => Dtype::Bool,
        "ComplexFloatStorage" => Dtype::C64,
        "Float8_e4m3fnStorage" => Dtype::F8E4M3,
        "Float8_e5m2Storage" => Dtype::F8E5M2,
        _ => return None,
    })
}

fn torch_dtype(name: &str) -> Option<Dtype> {
    Some(match name {
        "float32" | "float" => Dtype::F32,
        "float16" | "half" => Dtype::F16,
        "bfloat16" => Dtype::BF16,
        "float64" | "double" => Dtype::F64,
        "int64" | "long" => Dtype::I64,
        "int32" | "int" => Dtype::I32,
        "uint8" => Dtype::U8,
        "bool" => Dtype::Bool,
        _ => return None,
    })
}

/// Applies a known global to its argument tuple (REDUCE). Arguments that do not fit make an
/// error: a torch pickle always passes what its rebuild function takes.
pub fn apply(arena: &mut Arena, known: Known, args: Value) -> Result<Value, String> {
    let argv: Vec<Value> = arena
        .seq(args)
        .ok_or("a call's arguments are not a tuple")?
        .to_vec();
    match known {
        Known::RebuildTensor | Known::RebuildTensorV2 => rebuild_tensor(arena, &argv),
        Known::RebuildParameter => argv
            .first()
            .copied()
            .ok_or_else(|| "_rebuild_parameter without arguments".to_string()),
        Known::RebuildFromTypeV2 => {
            // (func, new_type, args, state): the tensor is func(*args).
            let (func, inner) = match argv.as_slice() {
                [f, _, a, ..] => (*f, *a),
                _ => return Err("_rebuild_from_type_v2 takes 4 arguments".into()),
            };
            match arena.get(func) {
                Some(Heap::Global(k)) => {
                    let k = *k;
                    apply(arena, k, inner)
                }
                _ => Ok(inert(arena, "torch._tensor._rebuild_from_type_v2")?),
            }
        }
        Known::OrderedDict => {
            let mut pairs = Vec::new();
            if let Some(items) = argv.first().and_then(|v| arena.seq(*v)) {
                for item in items {
                    if let Some([k, v]) = arena.seq(*item) {
                        pairs.push((*k, *v));
                    }
                }
            }
            arena.alloc(Heap::Dict(pairs))
        }
        Known::Size => {
            let dims = argv.first().and_then(|v| arena.seq(*v)).unwrap_or(&[]);
            let dims = dims.to_vec();
            arena.alloc(Heap::Tuple(dims))
        }
        Known::Set | Known::FrozenSet => {
            let items = argv
                .first()
                .and_then(|v| arena.seq(*v))
                .unwrap_or(&[])
                .to_vec();
            arena.alloc(Heap::Set(items))
        }
        Known::CodecsEncode => {
            // Protocol-2 bytes: _codecs.encode(text, 'latin1') — code points 0..=255.
            let text = argv.first().and_then(|v| arena.str(*v)).unwrap_or("");
            let bytes = text.chars().map(|c| (c as u32).min(255) as u8).collect();
            arena.alloc(Heap::Bytes(bytes))
        }
        Known::StorageType(_) => inert(arena, "torch storage constructor"),
    }
}

/// An inert object of class `class`.
pub fn inert(arena: &mut Arena, class: &str) -> Result<Value, String> {
    arena.alloc(Heap::Object {
        class: class.to_string(),
        state: None,
        items: Vec::new(),
    })
}

/// `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`.
fn rebuild_tensor(arena: &mut Arena, argv: &[Value]) -> Result<Value, String> {
    let [storage, offset, size, stride, ..] = argv else {
        return Err("_rebuild_tensor_v2 takes at least 4 arguments".into());
    };
    if !matches!(arena.get(*storage), Some(Heap::Storage(_))) {
        return Err("_rebuild_tensor_v2's first argument is not a storage".into());
    }
    let Value::Ref(storage) = *storage else {
        return Err("_rebuild_tensor_v2's first argument is not a storage".into());
    };
    let offset = arena
        .uint(*offset)
        .ok_or("a tensor's storage offset is not a non-negative integer")?;
    let ints = |arena: &Arena, v: Value, what: &str| -> Result<Vec<u64>, String> {
        let items = arena
            .seq(v)
            .ok_or_else(|| format!("a tensor's {what} is not a tuple"))?;
        if items.len() > 64 {
            return Err(format!("a tensor's {what} has {} dimensions", items.len()));
        }
        items
            .iter()
            .map(|d| {
                arena
                    .uint(*d)
                    .ok_or_else(|| format!("a tensor's {what} holds a non-integer"))
            })
            .collect()
    };
    let size = ints(arena, *size, "size")?;
    let stride = ints(arena, *stride, "stride")?;
    if size.len() != stride.len() {
        return Err(format!(
            "a tensor has {} sizes but {} strides",
            size.len(),
            stride.len()
        ));
    }
    arena.alloc(Heap::Tensor(TensorRef {
        storage,
        offset,
        size,
        stride,
    }))
}

/// A persistent id `('storage', storage_type, key, location, numel[, view_metadata])` →
/// a storage reference. Legacy files add the view: `(view_key, offset, view_size)`.
pub fn persistent_storage(arena: &mut Arena, pid: Value) -> Result<Value, String> {
    let items = arena
        .seq(pid)
        .ok_or("a persistent id is not a tuple")?
        .to_vec();
    let [tag, ty, key, _location, numel, rest @ ..] = items.as_slice() else {
        return Err("a persistent id is not ('storage', type, key, location, numel)".into());
    };
    if arena.str(*tag) != Some("storage") {
        return Err("a persistent id is not a storage".into());
    }
    let dtype = match arena.get(*ty) {
        Some(Heap::Global(Known::StorageType(d))) => *d,
        Some(Heap::DtypeObj(d)) => *d,
        _ => None,
    };
    let key = match arena.get(*key) {
        Some(Heap::Str(s)) => s.clone(),
        _ => match *key {
            Value::Int(i) => i.to_string(),
            _ => return Err("a storage key is not a string".into()),
        },
    };
    let numel = arena
        .uint(*numel)
        .ok_or("a storage's size is not a non-negative integer")?;
    let mut storage = StorageRef {
        key,
        dtype,
        numel,
        view_offset: 0,
    };
    // Legacy views of a root storage (never written since torch 1.0, still readable):
    // `(view_key, offset, view_size)` is a window of the root storage `key`.
    if let Some([_, voff, _]) = rest.first().and_then(|v| arena.seq(*v)) {
        storage.view_offset = arena.uint(*voff).ok_or("a storage view's offset is bad")?;
    }
    arena.alloc(Heap::Storage(storage))
}
