//! Metrics tables (Lightning `metrics.csv`, any `.csv` with a header) as a [`Source`]: complete
//! rows are read from where the last look stopped; a changed header is a restart.

use super::decoder::Batch;
use super::follow::RestartReason;
use super::formats::MetricSpec;
use super::lightning_csv;
use super::source::{Source, Update};
use crate::watch::identity::{self, Change, FileIdentity, Prefix, ReadMark};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// `metrics.csv`: new complete rows are read from where the last look stopped; a changed
/// header (the logger rewrote the file with a new column) or a shrink starts over.
#[derive(Debug)]
pub struct CsvSource {
    path: PathBuf,
    metric: MetricSpec,
    /// Rows read up to `offset`; the prefix is the header line (a new header: rewritten).
    mark: Option<ReadMark>,
    cols: Option<lightning_csv::Columns>,
    partial: Vec<u8>,
}

impl CsvSource {
    pub fn new(path: &Path, metric: &MetricSpec) -> Self {
        CsvSource {
            path: path.to_path_buf(),
            metric: metric.clone(),
            mark: None,
            cols: None,
            partial: Vec::new(),
        }
    }

    fn look(&mut self) -> io::Result<(Vec<Update>, bool)> {
        let Some(now) = FileIdentity::stat(&self.path)? else {
            return Ok((Vec::new(), false));
        };
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), false)),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let mut out = Vec::new();
        let had = self.mark.is_some();
        // The header as it is now (up to its newline; none yet: wait).
        let mut head = vec![0u8; (len as usize).min(1 << 20)];
        let n = file.read_at(&mut head, 0)?;
        head.truncate(n);
        let Some(nl) = memchr::memchr(b'\n', &head) else {
            return Ok((out, true));
        };
        let header = &head[..nl];
        let change = identity::classify(self.mark.as_ref(), &self.path, Some(&now))?;
        let rewritten = had && matches!(change, Change::Replaced | Change::Truncated);
        if rewritten {
            out.push(Update::Restart(if change == Change::Replaced {
                RestartReason::Replaced
            } else {
                RestartReason::Truncated
            }));
        }
        if !had || rewritten {
            self.cols = Some(lightning_csv::Columns::from_header(header, &self.metric));
            self.mark = Some(ReadMark {
                file: now,
                offset: nl as u64 + 1,
                prefix: Prefix::Head(head[..=nl].to_vec()),
            });
            self.partial.clear();
        }
        let (Some(cols), Some(mark)) = (&self.cols, &mut self.mark) else {
            return Ok((out, true));
        };
        mark.file = now;
        let mut batch = Batch {
            detected: Some(lightning_csv::format_of(&self.path)),
            ..Batch::with_columns(self.metric.columns())
        };
        let mut buf = vec![0u8; 1 << 20];
        while mark.offset < len {
            let want = ((len - mark.offset) as usize).min(buf.len());
            let n = file.read_at(&mut buf[..want], mark.offset)?;
            if n == 0 {
                break;
            }
            mark.offset += n as u64;
            self.partial.extend_from_slice(&buf[..n]);
            let Some(last) = memchr::memrchr(b'\n', &self.partial) else {
                continue;
            };
            for line in self.partial[..last].split(|&b| b == b'\n') {
                if line.is_empty() || line == b"\r" {
                    continue;
                }
                batch.lines += 1;
                match cols.record(line) {
                    Ok(Some(r)) => batch.steps.push(r),
                    Ok(None) => {}
                    Err(_) => batch.skipped += 1,
                }
            }
            self.partial.drain(..=last);
        }
        if !batch.steps.is_empty() || batch.lines > 0 || !had {
            out.push(Update::Batch(batch));
        }
        Ok((out, true))
    }

    /// The last row without its newline, read as complete (the file is taken as finished).
    fn finish_rows(&mut self) -> Batch {
        let mut b = Batch::with_columns(self.metric.columns());
        let line = std::mem::take(&mut self.partial);
        if let (Some(cols), false) = (&self.cols, line.is_empty()) {
            b.lines += 1;
            match cols.record(&line) {
                Ok(Some(r)) => b.steps.push(r),
                Ok(None) => {}
                Err(_) => b.skipped += 1,
            }
        }
        b
    }
}

impl Source for CsvSource {
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool> {
        let (updates, exists) = self.look()?;
        updates.into_iter().for_each(each);
        Ok(exists)
    }

    fn names(&self) -> Vec<String> {
        self.cols
            .as_ref()
            .map(|c| c.names.clone())
            .unwrap_or_default()
    }

    fn finish(&mut self) -> Option<Batch> {
        Some(self.finish_rows())
    }
}
