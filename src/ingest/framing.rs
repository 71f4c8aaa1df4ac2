//! Line framing: bytes in, lines out.
//!
//! Training logs end lines with `\n`, but tqdm redraws its bar with `\r`, so both end a line
//! here. A line longer than [`MAX_LINE`] is not kept (it is counted as skipped), so one absurd
//! line cannot take the memory. A last line without its terminator is held until it is
//! completed (or, for a file read once, flushed at the end).

use std::borrow::Cow;

/// Longest line kept, in bytes. Real metric lines are a few hundred bytes; fairseq's
/// `Namespace(...)` dump, the longest legitimate line seen, is ~10 KiB.
pub const MAX_LINE: usize = 256 * 1024;

/// Splits a byte stream into lines at `\n` or `\r`, holding a partial last line.
#[derive(Debug, Default)]
pub struct LineFramer {
    pending: Vec<u8>,
    /// The line being assembled passed [`MAX_LINE`]: drop bytes until its end.
    overlong: bool,
    overlong_lines: u64,
}

impl LineFramer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `chunk`, calling `on_line` for each complete line (without its terminator).
    /// Empty lines (e.g. between `\r` and `\n`) are not reported.
    pub fn push(&mut self, chunk: &[u8], mut on_line: impl FnMut(&[u8])) {
        let mut rest = chunk;
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', rest) {
            let piece = &rest[..pos];
            rest = &rest[pos + 1..];
            if self.overlong {
                self.overlong = false;
                self.pending.clear();
                continue;
            }
            if self.pending.is_empty() {
                if piece.len() > MAX_LINE {
                    self.overlong_lines += 1;
                } else if !piece.is_empty() {
                    on_line(piece);
                }
            } else if self.pending.len() + piece.len() > MAX_LINE {
                self.overlong_lines += 1;
                self.pending.clear();
            } else {
                self.pending.extend_from_slice(piece);
                on_line(&self.pending);
                self.pending.clear();
            }
        }
        if !rest.is_empty() && !self.overlong {
            if self.pending.len() + rest.len() > MAX_LINE {
                self.overlong = true;
                self.overlong_lines += 1;
                self.pending = Vec::new();
            } else {
                self.pending.extend_from_slice(rest);
            }
        }
    }

    /// The held partial line, if any, as if it had been terminated (end of a finished file).
    pub fn finish(&mut self, mut on_line: impl FnMut(&[u8])) {
        if !self.overlong && !self.pending.is_empty() {
            on_line(&self.pending);
        }
        self.pending.clear();
        self.overlong = false;
    }

    /// Bytes held for an unfinished line.
    /// The partial line held, waiting for its end.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Forgets everything held (the file was truncated or replaced).
    pub fn reset(&mut self) {
        self.pending.clear();
        self.overlong = false;
    }

    /// Lines dropped for being longer than [`MAX_LINE`].
    pub fn overlong_lines(&self) -> u64 {
        self.overlong_lines
    }
}

/// Removes ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, and two-byte
/// `ESC x`) so that coloured output (torchtitan, rich) parses like plain text.
pub fn strip_ansi(line: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(0x1b, line) else {
        return Cow::Borrowed(line);
    };
    let mut out = Vec::with_capacity(line.len());
    out.extend_from_slice(&line[..first]);
    let mut i = first;
    while i < line.len() {
        let b = line[i];
        if b != 0x1b {
            out.push(b);
            i += 1;
            continue;
        }
        i += 1;
        match line.get(i) {
            Some(b'[') => {
                i += 1;
                // Parameters and intermediates, then one final byte in 0x40..=0x7e.
                while i < line.len() && !(0x40..=0x7e).contains(&line[i]) {
                    i += 1;
                }
                i += 1;
            }
            Some(b']') | Some(b'P') | Some(b'_') | Some(b'^') => {
                i += 1;
                while i < line.len() {
                    if line[i] == 0x07 {
                        i += 1;
                        break;
                    }
                    if line[i] == 0x1b && line.get(i + 1) == Some(&b'\\') {
                        i += 2;
                        break;
                    }
                    i += 1;
                }
            }
            Some(_) => i += 1,
            None => {}
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(chunks: &[&[u8]]) -> (Vec<String>, LineFramer) {
        let mut f = LineFramer::new();
        let mut out = Vec::new();
        for c in chunks {
            f.push(c, |l| out.push(String::from_utf8_lossy(l).into_owned()));
        }
        (out, f)
    }

    #[test]
    fn splits_on_newline_and_carriage_return() {
        let (l, _) = lines_of(&[b"a\nb\rc\r\nd\n"]);
        assert_eq!(l, ["a", "b", "c", "d"]);
    }

    #[test]
    fn holds_a_partial_line_until_completed() {
        let (l, f) = lines_of(&[b"step=1 gn", b"orm=0.5", b"\nnext"]);
        assert_eq!(l, ["step=1 gnorm=0.5"]);
        assert_eq!(f.pending_len(), 4);
    }

    #[test]
    fn overlong_lines_are_dropped_and_counted() {
        let big = vec![b'x'; MAX_LINE + 10];
        let (l, f) = lines_of(&[
            b"ok\n",
            &big[..MAX_LINE / 2],
            &big[MAX_LINE / 2..],
            b"\nafter\n",
        ]);
        assert_eq!(l, ["ok", "after"]);
        assert_eq!(f.overlong_lines(), 1);
        let (l, f) = lines_of(&[&big, b"\nafter\n"]);
        assert_eq!(l, ["after"]);
        assert_eq!(f.overlong_lines(), 1);
    }

    #[test]
    fn strips_colour_and_osc() {
        let s = b"\x1b[31mstep: 10\x1b[0m  \x1b]0;title\x07grad_norm: 1.3";
        assert_eq!(&*strip_ansi(s), b"step: 10  grad_norm: 1.3");
        assert!(matches!(strip_ansi(b"plain"), Cow::Borrowed(_)));
    }
}
