//! The clipping threshold as frameworks print it in their configuration dumps:
//! fairseq `Namespace(… clip_norm=5.0 …)` or its dict config `'clip_norm': 1.0`, Megatron's
//! argument dump `clip_grad ......... 1.0`, Hugging Face `max_grad_norm=1.0`, a command line
//! with `--clip-norm 1.0`, or an MMDetection / mmengine config:
//! `optimizer_config = dict(grad_clip=dict(max_norm=10, norm_type=2))`,
//! `optim_wrapper = dict(…, clip_grad=dict(max_norm=35, norm_type=2))`; `clip_grad=None` is off.

use super::syntax::{parse_number, trim_start, value_after, Sep};
use memchr::memmem;
use std::sync::LazyLock;

static CLIP: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("clip"));
static MAX_GRAD_NORM: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("grad_norm"));
static MAX_GRAD_NORM_FLAG: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("max-grad-norm"));

const KEYS: [&str; 3] = ["clip_norm", "clip_grad", "max_grad_norm"];
const FLAGS: [&str; 3] = ["--clip-norm", "--clip-grad", "--max-grad-norm"];

/// The threshold this line declares, if it declares one.
pub fn clip_declaration(line: &[u8]) -> Option<f64> {
    // Cheap pre-filter: every fairseq step line has `clip=`, but only declarations have
    // `clip_`/`clip-`; `grad_norm` lines (HF) are declarations only with `max_` before.
    let clip_like = CLIP.find_iter(line).any(|i| {
        matches!(line.get(i + 4), Some(b'_' | b'-')) || (i >= 5 && &line[i - 5..i] == b"grad_")
    });
    let max_like = MAX_GRAD_NORM
        .find_iter(line)
        .any(|i| i >= 4 && &line[i - 4..i] == b"max_");
    if !clip_like && !max_like && MAX_GRAD_NORM_FLAG.find(line).is_none() {
        return None;
    }
    for key in CONFIG_KEYS {
        if let Some(v) = config_dict(line, key.as_bytes()) {
            return v;
        }
    }
    for key in KEYS {
        let k = key.as_bytes();
        for sep in [Sep::Eq, Sep::PyDict, Sep::Json, Sep::Colon] {
            if let Some(v) = value_after(line, k, sep).and_then(parse_number) {
                return finite_nonneg(v);
            }
        }
        if let Some(v) = dotted(line, k) {
            return finite_nonneg(v);
        }
    }
    for flag in FLAGS {
        let f = flag.as_bytes();
        let mut from = 0;
        while let Some(rel) = memmem::find(&line[from..], f) {
            let end = from + rel + f.len();
            from = end;
            let rest = &line[end..];
            let rest = match rest.first() {
                Some(b'=') => &rest[1..],
                Some(b' ') => trim_start(rest),
                _ => continue,
            };
            let tok_end = rest
                .iter()
                .position(|b| b.is_ascii_whitespace() || *b == b',' || *b == b'\'')
                .unwrap_or(rest.len());
            if let Some(v) = parse_number(&rest[..tok_end]) {
                return finite_nonneg(v);
            }
        }
    }
    None
}

/// The keys of MMDetection's and mmengine's clip settings, whose value is a dict.
const CONFIG_KEYS: [&str; 2] = ["grad_clip", "clip_grad"];

/// `key=dict(max_norm=X, …)` or `'key': {'max_norm': X, …}` → `Some(Some(X))`; `key=None` →
/// `Some(Some(0))` (off); `None`: the line does not set `key` in that form.
fn config_dict(line: &[u8], key: &[u8]) -> Option<Option<f64>> {
    let mut from = 0;
    while let Some(rel) = memmem::find(&line[from..], key) {
        let at = from + rel;
        from = at + 1;
        if at > 0 && (line[at - 1].is_ascii_alphanumeric() || line[at - 1] == b'_') {
            continue;
        }
        let rest = &line[at + key.len()..];
        let rest = rest
            .strip_prefix(b"'")
            .or_else(|| rest.strip_prefix(b"\""))
            .unwrap_or(rest);
        let rest = trim_start(rest);
        let Some(value) = rest.strip_prefix(b"=").or_else(|| rest.strip_prefix(b":")) else {
            continue;
        };
        let value = trim_start(value);
        if value.starts_with(b"None") || value.starts_with(b"null") {
            return Some(Some(0.0));
        }
        if !(value.starts_with(b"dict(") || value.starts_with(b"{")) {
            continue;
        }
        let close = value
            .iter()
            .position(|&b| b == b')' || b == b'}')
            .unwrap_or(value.len());
        let inner = &value[..close];
        let v = [Sep::Eq, Sep::PyDict, Sep::Json]
            .into_iter()
            .find_map(|sep| value_after(inner, b"max_norm", sep).and_then(parse_number));
        if let Some(v) = v {
            return Some(finite_nonneg(v));
        }
    }
    None
}

/// Megatron's argument dump: `  clip_grad ....................................... 1.0`.
fn dotted(line: &[u8], key: &[u8]) -> Option<f64> {
    let at = memmem::find(line, key)?;
    if at > 0 && !line[at - 1].is_ascii_whitespace() {
        return None;
    }
    let rest = line[at + key.len()..].strip_prefix(b" ")?;
    let dots = rest.iter().take_while(|&&b| b == b'.').count();
    if dots < 2 {
        return None;
    }
    parse_number(trim_start(&rest[dots..]))
}

fn finite_nonneg(v: f64) -> Option<f64> {
    (v.is_finite() && v >= 0.0).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::clip_declaration as c;

    #[test]
    fn framework_spellings() {
        assert_eq!(
            c(b"Namespace(activation_dropout=0.0, clip_norm=5.0, cpu=False)"),
            Some(5.0)
        );
        assert_eq!(
            c(b"{'optimization': {'clip_norm': 1.0, 'lr': [0.25]}}"),
            Some(1.0)
        );
        assert_eq!(
            c(b"  clip_grad ....................................... 1.0"),
            Some(1.0)
        );
        assert_eq!(c(b"TrainingArguments(max_grad_norm=0.5, )"), Some(0.5));
        assert_eq!(
            c(b"fairseq-train data --clip-norm 0.1 --lr 5e-4"),
            Some(0.1)
        );
        assert_eq!(c(b"fairseq-train data --clip-norm=0.0"), Some(0.0));
    }

    #[test]
    fn mmdet_and_mmengine_configs() {
        assert_eq!(
            c(b"optimizer_config = dict(grad_clip=dict(max_norm=10, norm_type=2))"),
            Some(10.0)
        );
        assert_eq!(
            c(b"optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02), clip_grad=dict(max_norm=35, norm_type=2))"),
            Some(35.0)
        );
        assert_eq!(c(b"optimizer_config = dict(grad_clip=None)"), Some(0.0));
        assert_eq!(c(b"{'clip_grad': {'max_norm': 0.5}}"), Some(0.5));
        // The norm type is not the threshold.
        assert_eq!(c(b"grad_clip=dict(norm_type=2)"), None);
    }

    #[test]
    fn per_update_fields_are_not_declarations() {
        assert_eq!(
            c(b"num_updates=40100, gnorm=0.489, clip=0, loss_scale=32768"),
            None
        );
        assert_eq!(c(b"| gnorm 0.218 | clip 0% | oom 0"), None);
        assert_eq!(c(b"{'loss': 1.7, 'grad_norm': 2.87}"), None);
    }
}
