//! PyTorch Lightning's `CSVLogger` `metrics.csv`: a header row, then sparse rows (empty cells
//! where a metric was not logged at that step). The logger rewrites the whole file when a new
//! column appears, so a changed header means "read again from the start".

use super::formats::{record, MetricRecord, MetricSpec, GNORM_ALIASES};

/// Whether a file is a metrics CSV (by name, or a `.csv` whose header has a `step` column).
pub fn looks_like(name: &str, head: &[u8]) -> bool {
    if name == "metrics.csv" {
        return true;
    }
    if !name.ends_with(".csv") {
        return false;
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    split_row(line).iter().any(|c| c == "step")
}

/// Cells of one CSV row (double-quoted cells may hold commas and `""`).
pub fn split_row(line: &[u8]) -> Vec<String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let s = String::from_utf8_lossy(line);
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    cells.push(cur);
    cells
}

/// Whether `name` contains `alias` bounded by the start/end or a separator (`/ _ . -` space).
fn contains_word(name: &str, alias: &str) -> bool {
    let sep = |c: Option<char>| c.is_none_or(|c| "/_.- ".contains(c));
    name.match_indices(alias).any(|(i, _)| {
        sep(name[..i].chars().next_back()) && sep(name[i + alias.len()..].chars().next())
    })
}

/// The metric's cell holds something that is not a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCell;

/// The columns to read, from the header.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub names: Vec<String>,
    pub metric: Option<usize>,
    pub step: Option<usize>,
    pub loss: Option<usize>,
}

impl Columns {
    pub fn from_header(header: &[u8], metric: &MetricSpec) -> Columns {
        let names = split_row(header);
        let aliases: Vec<String> = metric
            .aliases
            .iter()
            .map(|k| String::from_utf8_lossy(k.bytes()).into_owned())
            .collect();
        let exact = names.iter().position(|n| aliases.contains(n));
        let metric_col = exact.or_else(|| {
            if !metric.is_gnorm() {
                return None;
            }
            // Lightning's grad_norm() utility: `grad_2.0_norm_total`; then any name holding
            // an alias as a word (`train/grad_norm_epoch`).
            names
                .iter()
                .position(|n| n.starts_with("grad_") && n.ends_with("norm_total"))
                .or_else(|| {
                    names
                        .iter()
                        .position(|n| GNORM_ALIASES.iter().any(|a| contains_word(n, a)))
                })
        });
        let step = ["step", "global_step", "trainer/global_step"]
            .iter()
            .find_map(|s| names.iter().position(|n| n == s));
        let loss = if metric.label == "loss" {
            None
        } else {
            ["loss", "train_loss", "train/loss", "train_loss_step"]
                .iter()
                .find_map(|s| names.iter().position(|n| n == s))
        };
        Columns {
            names,
            metric: metric_col,
            step,
            loss,
        }
    }

    /// One data row → a record, `Ok(None)` when the metric's cell is empty, `Err` when it holds
    /// something unreadable.
    pub fn record(&self, line: &[u8]) -> Result<Option<MetricRecord>, BadCell> {
        let Some(m) = self.metric else {
            return Ok(None);
        };
        let cells = split_row(line);
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|s| s.trim());
        let v = match cell(Some(m)) {
            None | Some("") => return Ok(None),
            Some(v) => v.parse::<f64>().map_err(|_| BadCell)?,
        };
        let step = cell(self.step).and_then(|s| {
            s.parse::<u64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| *f >= 0.0)
                    .map(|f| f as u64)
            })
        });
        let loss = cell(self.loss).and_then(|s| s.parse::<f64>().ok());
        Ok(Some(record(step, v, loss)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnorm_columns_by_alias_as_a_word() {
        let g = MetricSpec::gnorm();
        let c = Columns::from_header(b"epoch,step,train/grad_norm,loss", &g);
        assert_eq!((c.metric, c.step, c.loss), (Some(2), Some(1), Some(3)));
        let c = Columns::from_header(b"step,grad_2.0_norm/l1.weight,grad_2.0_norm_total", &g);
        assert_eq!(c.metric, Some(2));
        let c = Columns::from_header(b"step,grad_norm_2.0_norm_total", &g);
        assert_eq!(c.metric, Some(1));
        let c = Columns::from_header(b"step,mygrad_normx", &g);
        assert_eq!(c.metric, None);
        let r = Columns::from_header(b"step,grad_norm", &g)
            .record(b"7,\"0.5\"")
            .unwrap();
        assert_eq!(r, Some(MetricRecord::new(Some(7), 0.5)));
    }
}
