//! Hugging Face `trainer_state.json`: `log_history` entries that have `grad_norm` (or the
//! `--metric` key) and `step`. Python's json writes bare `NaN`/`Infinity`/`-Infinity`, which
//! strict JSON rejects: they are quoted before parsing and read back as floats.

use super::formats::{record, MetricRecord, MetricSpec};

/// Whether the first bytes look like a trainer state (a JSON object naming `log_history`).
pub fn looks_like(name: &str, head: &[u8]) -> bool {
    name == "trainer_state.json"
        || (head.first() == Some(&b'{') && memchr::memmem::find(head, b"\"log_history\"").is_some())
}

/// Quotes bare `NaN`, `Infinity` and `-Infinity` outside strings.
pub fn quote_nonfinite(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() + 16);
    let mut in_str = false;
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        if in_str {
            out.push(c);
            if c == b'\\' {
                if let Some(&n) = src.get(i + 1) {
                    out.push(n);
                    i += 1;
                }
            } else if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
            out.push(c);
            i += 1;
            continue;
        }
        let rest = &src[i..];
        let tok: Option<&[u8]> = [&b"-Infinity"[..], b"Infinity", b"NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t));
        if let Some(t) = tok {
            out.push(b'"');
            out.extend_from_slice(t);
            out.push(b'"');
            i += t.len();
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        serde_json::Value::Null => Some(f64::NAN),
        _ => None,
    }
}

/// What a trainer state holds for one metric.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Parsed {
    pub records: Vec<MetricRecord>,
    /// Entries that had the key but no readable number.
    pub skipped: u64,
    /// `log_history` length.
    pub entries: u64,
    /// Keys seen in `log_history` entries (for the "no metric" message), first seen first.
    pub keys: Vec<String>,
    /// `global_step` has reached `max_steps`: training ran to its end.
    pub finished: bool,
}

/// Parses a whole trainer state. `Err` says why it is not one (or not yet a complete one).
pub fn parse(bytes: &[u8], metric: &MetricSpec) -> Result<Parsed, String> {
    let fixed = quote_nonfinite(bytes);
    let v: serde_json::Value = serde_json::from_slice(&fixed).map_err(|e| e.to_string())?;
    let hist = v
        .get("log_history")
        .and_then(|h| h.as_array())
        .ok_or_else(|| "no \"log_history\" list".to_string())?;
    let aliases: Vec<String> = metric
        .aliases
        .iter()
        .map(|k| String::from_utf8_lossy(k.bytes()).into_owned())
        .collect();
    let count = |k: &str| v.get(k).and_then(|s| s.as_u64());
    let mut out = Parsed {
        entries: hist.len() as u64,
        finished: matches!((count("global_step"), count("max_steps")), (Some(g), Some(m)) if m > 0 && g >= m),
        ..Parsed::default()
    };
    for e in hist {
        let Some(obj) = e.as_object() else { continue };
        for k in obj.keys() {
            if out.keys.len() < 64 && !out.keys.contains(k) {
                out.keys.push(k.clone());
            }
        }
        let Some(raw) = aliases.iter().find_map(|a| obj.get(a)) else {
            continue;
        };
        let Some(value) = number(raw) else {
            out.skipped += 1;
            continue;
        };
        let step = obj.get("step").and_then(|s| s.as_u64());
        let loss = if metric.label == "loss" {
            Some(value)
        } else {
            obj.get("loss").and_then(number)
        };
        let mut r = record(step, value, loss);
        for c in metric.companions() {
            r.values[c.column] = c.names.iter().find_map(|n| obj.get(n)).and_then(number);
        }
        out.records.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::LOSS_COLUMN;

    #[test]
    fn nonfinite_tokens_outside_strings_only() {
        let s = br#"{"a": NaN, "b": "NaN x", "c": [Infinity, -Infinity], "d": "q\"NaN"}"#;
        let v: serde_json::Value = serde_json::from_slice(&quote_nonfinite(s)).unwrap();
        assert_eq!(v["a"], "NaN");
        assert_eq!(v["b"], "NaN x");
        assert_eq!(v["c"][1], "-Infinity");
        assert_eq!(v["d"], "q\"NaN");
    }

    #[test]
    fn grad_norm_entries_only() {
        let s = br#"{"log_history": [{"step": 5, "loss": 2.0, "grad_norm": NaN},
            {"step": 5, "eval_loss": 1.0}, {"step": 10, "loss": 1.5, "grad_norm": Infinity}]}"#;
        let p = parse(s, &MetricSpec::gnorm()).unwrap();
        assert_eq!(p.records.len(), 2);
        assert!(p.records[0].value().is_nan());
        assert_eq!(p.records[1].step, Some(10));
        assert_eq!(p.records[1].value(), f64::INFINITY);
        assert_eq!(p.records[1].values[LOSS_COLUMN], Some(1.5));
    }
}
