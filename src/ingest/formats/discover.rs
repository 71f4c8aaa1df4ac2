//! Which metric names a log *does* have, for the message shown when the wanted one is absent
//! ("no gradient norm in train.log; metrics found: loss, lr, ppl — try --metric NAME").

use super::syntax::{parse_number, trim_end, trim_start};
use std::collections::BTreeMap;

/// Collects names that are followed by a number in any of the syntaxes frameworks print.
#[derive(Debug, Default)]
pub struct MetricNames {
    counts: BTreeMap<String, usize>,
}

impl MetricNames {
    pub fn add_line(&mut self, line: &[u8]) {
        // `| key value |` segments.
        if line.contains(&b'|') {
            for seg in line.split(|&b| b == b'|') {
                let seg = trim_end(trim_start(seg));
                if let Some(sp) = seg.iter().rposition(|&b| b == b' ' || b == b':') {
                    let (k, v) = (trim_end(&seg[..sp]), &seg[sp + 1..]);
                    let k = k.strip_suffix(b":").unwrap_or(k);
                    if parse_number(v).is_some() {
                        self.add(k);
                    }
                }
            }
        }
        // `key=value`, `key: value`, `'key': value`, `"key": value`.
        for (i, &b) in line.iter().enumerate() {
            if b != b'=' && b != b':' {
                continue;
            }
            let before = trim_end(&line[..i]);
            let before = before
                .strip_suffix(b"'")
                .or_else(|| before.strip_suffix(b"\""))
                .unwrap_or(before);
            let start = before
                .iter()
                .rposition(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'/'))
                .map_or(0, |p| p + 1);
            let key = &before[start..];
            let after = trim_start(&line[i + 1..]);
            let end = after
                .iter()
                .position(|&c| matches!(c, b',' | b' ' | b'}' | b']' | b'|'))
                .unwrap_or(after.len());
            if parse_number(&after[..end]).is_some() {
                self.add(key);
            }
        }
    }

    fn add(&mut self, key: &[u8]) {
        let key = trim_end(trim_start(key));
        if key.is_empty() || key.len() > 40 || key[0].is_ascii_digit() {
            return;
        }
        if !key
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'/' | b' ' | b'-' | b'.'))
        {
            return;
        }
        let k = String::from_utf8_lossy(key).into_owned();
        *self.counts.entry(k).or_default() += 1;
    }

    /// Names seen at least `min` times, most frequent first.
    pub fn names(&self, min: usize) -> Vec<String> {
        let mut v: Vec<(&String, &usize)> = self.counts.iter().filter(|(_, &c)| c >= min).collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.into_iter().map(|(k, _)| k.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_names_in_all_syntaxes() {
        let mut m = MetricNames::default();
        m.add_line(b"epoch 1: loss=3.1, ppl=8.8, lr=0.0001");
        m.add_line(b"{'eval_loss': 0.5, 'epoch': 1.0}");
        m.add_line(b" iteration 1/ 10 | lm loss: 1.2E+01 | loss scale: 12.0 |");
        let names = m.names(1);
        for want in ["loss", "ppl", "lr", "eval_loss", "lm loss", "loss scale"] {
            assert!(
                names.iter().any(|n| n == want),
                "{want} missing from {names:?}"
            );
        }
    }
}
