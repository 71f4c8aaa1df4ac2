//! Which tensor is the positional-embedding table.
//!
//! A candidate has a position-table name (`wpe`, `position_embeddings`, `position_embedding`,
//! `embed_positions`, `positional_embedding`, `position_encodings`, `pos_embed`,
//! `pos_embedding`, `pos_emb`, `pos_embeddings`, `position_embedding_table`, as the last name
//! segment, optionally followed by `.weight`, or `position_encodings.encodings` as CTranslate2
//! writes it; any prefix such as `_orig_mod.` or `model.decoder.`), a decodable float dtype, and shape `[N, D]` or `[1, N, D]`.
//! Never: `position_ids`, `inv_freq`, `_float_tensor`, or relative-attention tables.
//!
//! Order: candidates are sorted by name (byte order), and the first is picked. That puts
//! `decoder` before `encoder` and `text_model` before `vision_model`, and does not depend on
//! the order of the file's header.

use std::borrow::Cow;
use std::path::PathBuf;

use crate::tensor::{Dtype, TensorInfo};
use crate::text::printable;

const TABLE_NAMES: [&str; 11] = [
    "wpe",
    // minGPT and its Lightning ports: `self.pos_emb = nn.Parameter(…[1, block_size, n_embd])`.
    "pos_emb",
    // Karpathy's "Let's build GPT": `position_embedding_table = nn.Embedding(block_size, n_embd)`.
    "position_embedding_table",
    "pos_embeddings",
    "position_embeddings",
    "position_embedding",
    "embed_positions",
    "positional_embedding",
    "position_encodings",
    "pos_embed",
    "pos_embedding",
];

const NEVER: [&str; 3] = ["position_ids", "inv_freq", "_float_tensor"];

/// A tensor that could be shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Raw name, for selection (`--tensor`); print [`Candidate::display_name`] instead.
    pub name: String,
    pub dtype: Dtype,
    /// As stored: `[N, D]` or `[1, N, D]`.
    pub shape: Vec<usize>,
    /// The shard holding it, for sharded checkpoints.
    pub shard: Option<PathBuf>,
}

impl Candidate {
    pub fn display_name(&self) -> Cow<'_, str> {
        printable(&self.name)
    }

    /// `(N, D)`.
    pub fn table_dims(&self) -> (usize, usize) {
        table_dims(&self.shape).unwrap_or((0, 0))
    }

    /// `name F16 [448, 384]`, printable.
    pub fn describe(&self) -> String {
        format!("{} {} {:?}", self.display_name(), self.dtype, self.shape)
    }
}

/// `(N, D)` for a `[N, D]` or `[1, N, D]` shape with N, D ≥ 1.
pub fn table_dims(shape: &[usize]) -> Option<(usize, usize)> {
    match shape {
        [n, d] | [1, n, d] if *n >= 1 && *d >= 1 => Some((*n, *d)),
        _ => None,
    }
}

fn segments(name: &str) -> Vec<&str> {
    let mut segs: Vec<&str> = name.split('.').collect();
    if segs.len() > 1 && segs.last() == Some(&"weight") {
        segs.pop();
    }
    segs
}

fn is_relative(seg: &str) -> bool {
    let s = seg.to_ascii_lowercase();
    s.starts_with("rel_") || s.contains("relative")
}

/// True when the name says "absolute position table".
pub fn is_position_name(name: &str) -> bool {
    let segs = segments(name);
    if segs.iter().any(|s| NEVER.contains(s) || is_relative(s)) {
        return false;
    }
    match segs.as_slice() {
        [.., last] if TABLE_NAMES.contains(last) => true,
        [.., prev, "encodings"] => TABLE_NAMES.contains(prev),
        _ => false,
    }
}

/// The candidates among `tensors` (each paired with its shard, if any), sorted by name.
pub fn candidates<'a>(
    tensors: impl IntoIterator<Item = (&'a TensorInfo, Option<&'a PathBuf>)>,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = tensors
        .into_iter()
        .filter(|(t, _)| {
            is_position_name(&t.name) && t.dtype.is_decodable() && table_dims(&t.shape).is_some()
        })
        .map(|(t, shard)| Candidate {
            name: t.name.clone(),
            dtype: t.dtype,
            shape: t.shape.clone(),
            shard: shard.cloned(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

/// Why no candidate was found, as precisely as the tensor list allows.
pub fn why_none<'a>(tensors: impl IntoIterator<Item = &'a TensorInfo>) -> String {
    let all: Vec<&TensorInfo> = tensors.into_iter().collect();
    let has_seg = |t: &TensorInfo, seg: &str| t.name.split('.').any(|s| s == seg);
    // Name matches that failed on dtype or shape: say so, they are the likeliest intent.
    let near: Vec<String> = all
        .iter()
        .filter(|t| is_position_name(&t.name))
        .map(|t| {
            let why = if !t.dtype.is_decodable() {
                format!("dtype {} (only F32, F16, BF16, F64 are read)", t.dtype)
            } else {
                format!("shape {:?} is not [N, D] or [1, N, D]", t.shape)
            };
            format!("{} has {why}", t.display_name())
        })
        .collect();
    if !near.is_empty() {
        return near.join("; ");
    }
    let fairseq_sin = all
        .iter()
        .find(|t| t.name.ends_with("embed_positions._float_tensor"));
    if let Some(t) = fairseq_sin {
        // The token embedding gives D; N (max positions) is only in the training config.
        let dim = all
            .iter()
            .find(|t| t.name.ends_with("embed_tokens.weight") && t.shape.len() == 2)
            .map(|t| t.shape[1].to_string())
            .unwrap_or_else(|| "D".into());
        return format!(
            "{} is fairseq's sinusoidal placeholder: the table is computed from a formula and \
             not stored; draw the formula's table with --sinusoidal N,{dim} \
             (N = max positions, e.g. 1024)",
            t.display_name()
        );
    }
    if all.iter().any(|t| has_seg(t, "inv_freq")) {
        return "only rotary-embedding inv_freq tensors: this model uses RoPE, which adds \
                positions by rotation and has no table to show"
            .into();
    }
    if all.iter().any(|t| t.name.split('.').any(is_relative)) {
        return "only relative-position tensors (T5/DeBERTa style): they are not an absolute \
                position table"
            .into();
    }
    let sample: Vec<String> = all
        .iter()
        .take(6)
        .map(|t| t.display_name().into_owned())
        .collect();
    let more = if all.len() > sample.len() {
        format!(", … ({} tensors)", all.len())
    } else {
        String::new()
    };
    format!(
        "no tensor is named like a position table (wpe, position_embeddings, embed_positions, \
         …); models with RoPE or ALiBi (LLaMA, Mistral, BLOOM, MPT) have none. Tensors: {}{more}. \
         Name one with --tensor",
        if sample.is_empty() {
            "none".to_string()
        } else {
            sample.join(", ")
        }
    )
}

/// `candidates: a F16 [448, 384], b …` or a short tensor list, for "no such tensor" errors.
pub fn candidate_hint<'a>(
    cands: &[Candidate],
    tensors: impl IntoIterator<Item = &'a TensorInfo>,
) -> String {
    if !cands.is_empty() {
        let list: Vec<String> = cands.iter().map(Candidate::describe).collect();
        return format!("candidates: {}", list.join(", "));
    }
    let all: Vec<&TensorInfo> = tensors.into_iter().collect();
    let sample: Vec<String> = all
        .iter()
        .take(8)
        .map(|t| format!("{} {} {:?}", t.display_name(), t.dtype, t.shape))
        .collect();
    format!(
        "no position-table candidates; the file has {} tensors: {}{}",
        all.len(),
        sample.join(", "),
        if all.len() > sample.len() {
            ", …"
        } else {
            ""
        }
    )
}
