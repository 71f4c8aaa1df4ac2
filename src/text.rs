//! Text that came from outside (log lines, tensor names, file names) is shown only after
//! [`printable`] has removed what a terminal would interpret: escape sequences, C0/C1 control
//! characters. A hostile log must not be able to set the window title or write the clipboard.

use std::borrow::Cow;

/// Returns `s` with every control character replaced by `�` (U+FFFD), except that an ESC-started
/// sequence is dropped whole when it is a well-formed CSI/OSC sequence. Tabs become a space.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\t' {
            out.push(' ');
        } else if is_unsafe(c) {
            out.push('\u{FFFD}');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_unsafe(c: char) -> bool {
    // C0 controls, DEL, and C1 controls (U+0080..U+009F: 8-bit CSI/OSC on some terminals).
    c.is_control()
}

/// A path made safe to print.
pub fn printable_path(p: &std::path::Path) -> String {
    printable(&p.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(printable("gnorm=1.0"), Cow::Borrowed(_)));
    }

    #[test]
    fn escapes_and_c1_controls_are_neutralised() {
        let s = "a\x1b]52;c;ZXZpbA==\x07b\u{9b}2Jc\r";
        let p = printable(s);
        assert!(!p.chars().any(|c| c.is_control()), "{p:?}");
        assert!(p.starts_with('a'));
        assert!(p.contains('b') && p.contains('c'));
    }
}
