//! One MLflow metric file, followed: complete `timestamp value step [dataset digest]` lines
//! read from where the last look stopped; a file that shrank or was replaced starts over.

use crate::ingest::formats::syntax::parse_number;
use crate::watch::identity::{self, Change, FileIdentity, Prefix, ReadMark};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// A point: the step and the value (NaN and ±inf kept).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub step: u64,
    pub value: f64,
}

/// Reads one line (`None`: not a point).
pub fn parse_line(line: &[u8]) -> Option<Point> {
    let mut it = line
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|t| !t.is_empty());
    let _timestamp = it.next()?;
    let value = parse_number(it.next()?)?;
    let step = match it.next() {
        Some(s) => std::str::from_utf8(s).ok()?.trim().parse::<i64>().ok()?,
        None => 0,
    };
    Some(Point {
        step: u64::try_from(step).ok()?,
        value,
    })
}

/// What one look at a metric file found.
#[derive(Debug, Default)]
pub struct Read {
    /// The file was rewritten (shorter, or another file now): read again from the start.
    pub restarted: bool,
    pub points: Vec<Point>,
    /// Lines that are not points.
    pub skipped: u64,
}

#[derive(Debug)]
pub struct MetricFile {
    pub path: PathBuf,
    mark: Option<ReadMark>,
    partial: Vec<u8>,
}

/// The longest line kept while waiting for its newline.
const MAX_LINE: usize = 1 << 16;

impl MetricFile {
    pub fn new(path: PathBuf) -> Self {
        MetricFile {
            path,
            mark: None,
            partial: Vec::new(),
        }
    }

    /// Starts over from the beginning.
    pub fn reset(&mut self) {
        self.mark = None;
        self.partial.clear();
    }

    /// Bytes of a line still waiting for its newline.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }

    /// Reads the complete lines added since the last look.
    pub fn look(&mut self, buf: &mut Vec<u8>) -> io::Result<Read> {
        let mut out = Read::default();
        let Some(now) = FileIdentity::stat(&self.path)? else {
            return Ok(out);
        };
        let change = identity::classify(self.mark.as_ref(), &self.path, Some(&now))?;
        if matches!(change, Change::Truncated | Change::Replaced) {
            out.restarted = true;
            self.reset();
        }
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let mark = self.mark.get_or_insert(ReadMark {
            file: now,
            offset: 0,
            prefix: Prefix::Crc(0),
        });
        mark.file = now;
        if buf.len() < (1 << 20) {
            buf.resize(1 << 20, 0);
        }
        while mark.offset < len {
            let want = ((len - mark.offset) as usize).min(buf.len());
            let n = file.read_at(&mut buf[..want], mark.offset)?;
            if n == 0 {
                break;
            }
            mark.offset += n as u64;
            if let Prefix::Crc(c) = &mut mark.prefix {
                *c = crc32c::crc32c_append(*c, &buf[..n]);
            }
            let mut chunk = &buf[..n];
            while let Some(nl) = memchr::memchr(b'\n', chunk) {
                let line = if self.partial.is_empty() {
                    &chunk[..nl]
                } else {
                    self.partial.extend_from_slice(&chunk[..nl]);
                    &self.partial[..]
                };
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if !line.is_empty() {
                    match parse_line(line) {
                        Some(p) => out.points.push(p),
                        None => out.skipped += 1,
                    }
                }
                self.partial.clear();
                chunk = &chunk[nl + 1..];
            }
            if self.partial.len() + chunk.len() > MAX_LINE {
                out.skipped += 1;
                self.partial.clear();
            } else {
                self.partial.extend_from_slice(chunk);
            }
        }
        Ok(out)
    }

    /// The last line without its newline, read as complete (the run is taken as finished).
    pub fn finish(&mut self) -> Option<Point> {
        let line = std::mem::take(&mut self.partial);
        parse_line(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shapes_mlflow_writes() {
        let p = parse_line(b"1796109071820 4.444345406625743 1").unwrap();
        assert_eq!((p.step, p.value), (1, 4.444345406625743));
        assert!(parse_line(b"1796109071820 nan 700").unwrap().value.is_nan());
        assert_eq!(parse_line(b"17 inf 3").unwrap().value, f64::INFINITY);
        // Logged with a dataset: two more fields.
        let d = parse_line(b"17 0.5 9 eval_set 1a2b3c").unwrap();
        assert_eq!((d.step, d.value), (9, 0.5));
        assert_eq!(parse_line(b"garbage"), None);
        assert_eq!(parse_line(b"17 0.5 -1"), None);
    }
}
