//! Bytes of one log → a [`Batch`] of records: framing, ANSI stripping, format detection,
//! parsing and clip declarations, in one place shared by the one-shot reader and the follower.

use super::formats::clip::clip_declaration;
use super::formats::end;
use super::formats::{
    detect_after, olmo_header, overflow, LineParser, LogFormat, MetricSpec, Parsed,
};
use super::framing::{strip_ansi, LineFramer};
pub use crate::core::Batch;
use crate::core::RunEnd;

/// Bytes decoded per piece of a big stretch (well inside a core's L2 cache).
const PIECE: usize = 128 << 10;

/// Stateful decoder for one file.
#[derive(Debug)]
pub struct LogDecoder {
    framer: LineFramer,
    metric: MetricSpec,
    parser: Option<LineParser>,
    batch: Batch,
    overlong_seen: u64,
    clip_field_reported: bool,
    /// The stretch being decoded (or the held partial line) contains an ESC byte: lines must
    /// go through ANSI stripping. One search per chunk instead of one per line.
    escapes: bool,
    /// The same for overflow notes.
    overflow_notes: bool,
    /// The step of the last header line, for formats whose records span lines (OLMo).
    header_step: Option<u64>,
}

impl LogDecoder {
    /// `format`: `Some` to skip detection (the `--format` flag, or a format already detected).
    pub fn new(metric: MetricSpec, format: Option<LogFormat>) -> Self {
        LogDecoder {
            framer: LineFramer::new(),
            parser: format.map(|f| LineParser::new(f, metric.clone())),
            batch: Batch::with_columns(metric.columns()),
            metric,
            overlong_seen: 0,
            clip_field_reported: false,
            escapes: false,
            overflow_notes: false,
            header_step: None,
        }
    }

    pub fn format(&self) -> Option<LogFormat> {
        self.parser.as_ref().map(|p| p.format)
    }

    pub fn metric(&self) -> &MetricSpec {
        &self.metric
    }

    /// Feeds bytes; complete lines are decoded into the current batch.
    pub fn feed(&mut self, bytes: &[u8]) {
        // A big stretch goes in pieces cut at line ends, each small enough to stay in the
        // core's cache through the passes over it (escapes, overflow notes, lines), instead of
        // each pass bringing the whole stretch from memory again. Cutting does not change
        // what is decoded: any chunking of a stream decodes the same.
        let mut rest = bytes;
        while rest.len() > PIECE {
            let cut = memchr::memrchr2(b'\n', b'\r', &rest[..PIECE]).map_or(PIECE, |i| i + 1);
            let (piece, tail) = rest.split_at(cut);
            self.feed_piece(piece);
            rest = tail;
        }
        self.feed_piece(rest);
    }

    fn feed_piece(&mut self, bytes: &[u8]) {
        let held_escapes = self.escapes && self.framer.pending_len() > 0;
        self.escapes = held_escapes || memchr::memchr(0x1b, bytes).is_some();
        // A note may be split between the held partial line and this chunk's first line.
        let held = self.framer.pending();
        let joined = !held.is_empty() && {
            let first = memchr::memchr2(b'\n', b'\r', bytes).unwrap_or(bytes.len());
            let mut line = Vec::with_capacity(held.len() + first);
            line.extend_from_slice(held);
            line.extend_from_slice(&bytes[..first]);
            overflow::may_occur_in(self.format(), &line)
        };
        self.overflow_notes = joined || overflow::may_occur_in(self.format(), bytes);
        let mut framer = std::mem::take(&mut self.framer);
        framer.push(bytes, |line| self.line(line));
        self.framer = framer;
        self.sync_overlong();
    }

    /// Decodes the held partial line as complete (a file read once, to its end).
    pub fn finish(&mut self) {
        let mut framer = std::mem::take(&mut self.framer);
        framer.finish(|line| self.line(line));
        self.framer = framer;
        self.sync_overlong();
    }

    /// Forgets the partial line (the file was truncated or replaced). The format is kept:
    /// a restarted job writes the same format.
    pub fn reset(&mut self) {
        self.framer.reset();
    }

    pub fn pending_len(&self) -> usize {
        self.framer.pending_len()
    }

    /// Makes room for about `records` records (a parser thread knows its block's size).
    pub fn reserve(&mut self, records: usize) {
        self.batch.steps.reserve(records);
    }

    pub fn take_batch(&mut self) -> Batch {
        let next = self.batch.empty_like();
        std::mem::replace(&mut self.batch, next)
    }

    fn sync_overlong(&mut self) {
        let n = self.framer.overlong_lines();
        self.batch.skipped += n - self.overlong_seen;
        self.overlong_seen = n;
    }

    fn line(&mut self, raw: &[u8]) {
        self.batch.lines += 1;
        let line = if self.escapes {
            strip_ansi(raw)
        } else {
            std::borrow::Cow::Borrowed(raw)
        };
        let line = &*line;
        if self.overflow_notes {
            if let Some(o) = overflow::note_in(self.format(), line) {
                self.batch.overflows += o.skipped;
                self.batch.loss_scale = o.loss_scale.or(self.batch.loss_scale);
            }
        }
        if self.parser.is_none() {
            if let Some(step) = olmo_header(line) {
                self.header_step = Some(step);
                return;
            }
            match detect_after(line, &self.metric, self.header_step.is_some()) {
                Some(f) => {
                    self.parser = Some(LineParser::new(f, self.metric.clone()));
                    self.batch.detected = Some(f);
                }
                None => {
                    self.clip_check(line);
                    return;
                }
            }
        }
        let Some(parser) = &self.parser else { return };
        match parser.parse(line) {
            Parsed::Step(mut r) => {
                if !self.clip_field_reported && parser.format.logs_clip_field() {
                    self.clip_field_reported = true;
                    self.batch.clip_field = Some(parser.has_clip_field(line));
                }
                if parser.format.spans_lines() {
                    r.step = r.step.or(self.header_step);
                }
                self.batch.steps.push(r);
                // Records after an end line: the run goes on (a resumed job, same log).
                self.batch.ended = None;
            }
            Parsed::Aggregate(r) => {
                self.batch.aggregates.push(r);
                self.batch.ended = None;
            }
            Parsed::Malformed => self.batch.skipped += 1,
            Parsed::Header(step) => self.header_step = Some(step),
            // Only lines that are not records can declare the threshold (config dumps).
            Parsed::Nothing => self.clip_check(line),
        }
    }

    /// A line that is not a record: a config dump declaring the threshold, or the
    /// framework's end-of-training line.
    fn clip_check(&mut self, line: &[u8]) {
        if let Some(c) = clip_declaration(line) {
            self.batch.clip_declared = Some(c);
        }
        if end::end_line(line).is_some() {
            self.batch.ended = Some(RunEnd::Finished);
        }
    }
}
