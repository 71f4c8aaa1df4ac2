//! Metrics tables: PyTorch Lightning's `CSVLogger` `metrics.csv` (a header row, then sparse
//! rows with empty cells where a metric was not logged at that step; the logger rewrites the
//! whole file when a new column appears, so a changed header means "read again from the
//! start"), and any other `.csv` with a header row (Ultralytics `results.csv`). The step is
//! the column named by a step alias, else `epoch`, else the row's index.

use super::formats::{record, MetricRecord, MetricSpec, GNORM_ALIASES};
use crate::core::LogFormat;
use std::path::Path;

/// Whether a file is a metrics table: `metrics.csv`, or a `.csv` whose first row is a header
/// (at least two cells, one of them not a number).
pub fn looks_like(name: &str, head: &[u8]) -> bool {
    if name == "metrics.csv" {
        return true;
    }
    if !name.to_ascii_lowercase().ends_with(".csv") {
        return false;
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let cells = split_row(line);
    cells.len() >= 2
        && cells
            .iter()
            .any(|c| !c.is_empty() && c.parse::<f64>().is_err())
}

/// Which table it is: Lightning's by its name, else a generic one.
pub fn format_of(path: &Path) -> LogFormat {
    if path.file_name().is_some_and(|n| n == "metrics.csv") {
        LogFormat::LightningCsv
    } else {
        LogFormat::Csv
    }
}

/// Cells of one CSV row, trimmed (double-quoted cells may hold commas and `""`). The CSV
/// state machine is built once per thread and reset per row: building it costs more than
/// splitting a row.
pub fn split_row(line: &[u8]) -> Vec<String> {
    thread_local! {
        static READER: std::cell::RefCell<csv_core::Reader> =
            std::cell::RefCell::new(csv_core::Reader::new());
    }
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    READER.with(|r| {
        let mut reader = r.borrow_mut();
        reader.reset();
        let mut field = vec![0u8; line.len() + 1];
        let (mut read, mut written) = (0, 0);
        let mut cells = Vec::new();
        // Each turn hands over a field (at least one byte read) or the end: bounded.
        for _ in 0..line.len() + 4 {
            // An empty input is the end of the row: the last field is handed over then.
            let (result, n_in, n_out) = reader.read_field(&line[read..], &mut field[written..]);
            read += n_in;
            written += n_out;
            match result {
                csv_core::ReadFieldResult::InputEmpty => {}
                csv_core::ReadFieldResult::Field { record_end } => {
                    cells.push(
                        String::from_utf8_lossy(&field[..written])
                            .trim()
                            .to_string(),
                    );
                    written = 0;
                    if record_end {
                        break;
                    }
                }
                // A field never outgrows its row, so the buffer is never full.
                csv_core::ReadFieldResult::OutputFull | csv_core::ReadFieldResult::End => break,
            }
        }
        cells
    })
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
    /// The panels' metrics: (record column, table column).
    pub extras: Vec<(usize, usize)>,
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
        // Lightning's step column, else the table's epoch (Ultralytics logs once per epoch).
        let step = ["step", "global_step", "trainer/global_step", "epoch"]
            .iter()
            .find_map(|s| names.iter().position(|n| n == s));
        let loss = if metric.label == "loss" {
            None
        } else {
            ["loss", "train_loss", "train/loss", "train_loss_step"]
                .iter()
                .find_map(|s| names.iter().position(|n| n == s))
        };
        // The first table column each panel metric matches (Ultralytics' `lr/pg0` among them).
        let mut extras: Vec<(usize, usize)> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let col = metric.companion_column(n.as_bytes()).or_else(|| {
                n.strip_suffix("/pg0")
                    .and_then(|b| metric.companion_column(b.as_bytes()))
            });
            if let Some(c) = col.filter(|c| !extras.iter().any(|e| e.0 == *c)) {
                extras.push((c, i));
            }
        }
        Columns {
            names,
            metric: metric_col,
            step,
            loss,
            extras,
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
        let mut r = record(step, v, loss);
        for &(col, i) in &self.extras {
            r.values[col] = cell(Some(i)).and_then(|s| s.parse::<f64>().ok());
        }
        Ok(Some(r))
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

    /// The row splitter agrees with the `csv` crate's reader (what it replaced, built anew
    /// per row) on quoting, doubled quotes, empty cells and stray quotes, and on every row of
    /// the real tables in `../shared/samples`.
    #[test]
    fn rows_split_as_the_csv_crate_splits_them() {
        let reference = |line: &[u8]| -> Vec<String> {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(line);
            let mut row = csv::ByteRecord::new();
            match reader.read_byte_record(&mut row) {
                Ok(true) => row
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).trim().to_string())
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut rows: Vec<Vec<u8>> = [
            &b""[..],
            b",",
            b",,,",
            b"a,b\r",
            b"\"x, y\",2",
            b"\"say \"\"hi\"\"\",3",
            b"ab\"c,d",
            b"\"open,1",
            b" 1.5 , 2 ,",
            b"\xff\xfe,\"\xc3\",\"",
            b"a\rb,c",
        ]
        .iter()
        .map(|r| r.to_vec())
        .collect();
        for f in [
            "../shared/samples/lightning-csv-slm/metrics.csv",
            "../shared/samples/wild/ultralytics-yolov8/results.csv",
        ] {
            let text = std::fs::read(f).expect("a real table from shared/samples");
            rows.extend(text.split(|b| *b == b'\n').map(|l| l.to_vec()));
        }
        for r in &rows {
            assert_eq!(
                split_row(r),
                reference(r),
                "{:?}",
                String::from_utf8_lossy(r)
            );
        }
    }
}
