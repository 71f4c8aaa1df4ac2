//! What a frame costs on the wire: the bytes the TUI writes to the terminal, sorted by what
//! they do (text, cursor moves, colour and attribute sets, mode switches such as synchronized
//! updates). Used by the wire benchmark (`examples/bench_wire.rs`) and the tests that bound a
//! frame's bytes by the cells it changes.

/// Bytes of an escape stream by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireStats {
    /// Printed characters (UTF-8 bytes), and how many characters.
    pub text: usize,
    pub chars: usize,
    /// Cursor positioning: `CSI … H`, `G`, `C`, `D`, `A`, `B`, `d`.
    pub moves: usize,
    pub move_count: usize,
    /// Select graphic rendition: `CSI … m` (colours, bold, reset).
    pub sgr: usize,
    pub sgr_count: usize,
    /// Private modes: `CSI ? … h|l` (synchronized update, cursor shown or hidden).
    pub modes: usize,
    /// Synchronized updates begun (`CSI ? 2026 h`): one per frame drawn.
    pub frames: usize,
    /// Every other escape or control byte (erase, OSC, …).
    pub other: usize,
}

impl WireStats {
    /// Classifies `bytes` (a whole number of sequences; a sequence cut at the end counts as
    /// `other`).
    pub fn of(bytes: &[u8]) -> WireStats {
        let mut st = WireStats::default();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == 0x1b && bytes.get(i + 1) == Some(&b'[') {
                let len = csi_len(&bytes[i..]);
                st.add_csi(&bytes[i..i + len]);
                i += len;
            } else if b == 0x1b {
                let len = 2.min(bytes.len() - i);
                st.other += len;
                i += len;
            } else if b < 0x20 || b == 0x7f {
                st.other += 1;
                i += 1;
            } else {
                st.text += 1;
                // Continuation bytes belong to the character already counted.
                if b & 0xC0 != 0x80 {
                    st.chars += 1;
                }
                i += 1;
            }
        }
        st
    }

    fn add_csi(&mut self, seq: &[u8]) {
        let n = seq.len();
        match seq.last() {
            Some(b'h' | b'l') if seq.get(2) == Some(&b'?') => {
                self.modes += n;
                if seq == b"\x1b[?2026h" {
                    self.frames += 1;
                }
            }
            Some(b'H' | b'G' | b'C' | b'D' | b'A' | b'B' | b'd' | b'f') => {
                self.moves += n;
                self.move_count += 1;
            }
            Some(b'm') => {
                self.sgr += n;
                self.sgr_count += 1;
            }
            _ => self.other += n,
        }
    }

    pub fn total(&self) -> usize {
        self.text + self.moves + self.sgr + self.modes + self.other
    }

    /// The sum of two counts.
    pub fn plus(&self, o: &WireStats) -> WireStats {
        WireStats {
            text: self.text + o.text,
            chars: self.chars + o.chars,
            moves: self.moves + o.moves,
            move_count: self.move_count + o.move_count,
            sgr: self.sgr + o.sgr,
            sgr_count: self.sgr_count + o.sgr_count,
            modes: self.modes + o.modes,
            frames: self.frames + o.frames,
            other: self.other + o.other,
        }
    }
}

/// Length of the control sequence introduced by `ESC [` at the start of `s`: parameter and
/// intermediate bytes, then one final byte in `@`..=`~` (all of `s` when it is cut short).
fn csi_len(s: &[u8]) -> usize {
    s.iter()
        .skip(2)
        .position(|&b| (0x40..=0x7e).contains(&b))
        .map_or(s.len(), |p| p + 3)
}

#[cfg(test)]
mod tests {
    use super::WireStats;

    #[test]
    fn a_stream_is_sorted_by_what_each_sequence_does() {
        let s = WireStats::of(
            "\x1b[?2026h\x1b[3;7Hab\x1b[38;5;208;48;5;0m▁█\x1b[5C\x1b[0m\x1b[?25l\x1b[?2026l\x1b[K"
                .as_bytes(),
        );
        assert_eq!(s.frames, 1);
        assert_eq!(s.modes, 8 + 6 + 8);
        assert_eq!((s.moves, s.move_count), (6 + 4, 2));
        assert_eq!((s.sgr, s.sgr_count), (18 + 4, 2));
        assert_eq!((s.text, s.chars), (2 + 6, 4));
        assert_eq!(s.other, 3);
        assert_eq!(s.total(), s.text + s.moves + s.sgr + s.modes + s.other);
    }

    #[test]
    fn a_sequence_cut_short_is_counted_not_lost() {
        let s = WireStats::of(b"ab\x1b[38;5");
        assert_eq!(s.text, 2);
        assert_eq!(s.other, 6);
        assert_eq!(WireStats::of(b"\x1b").other, 1);
    }
}
