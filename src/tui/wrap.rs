//! Text wrapped into a fixed number of rows, marked when it was cut.

/// `text` wrapped at word boundaries into at most `rows` lines of `width` characters; when it
/// does not fit, the last line ends in "…" so a cut explanation never reads as complete.
pub fn wrap_clipped(text: &str, width: usize, rows: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    if width == 0 || rows == 0 {
        return lines;
    }
    let mut cur = String::new();
    let mut cut = false;
    for word in text.split_whitespace() {
        let mut word: String = word.to_string();
        loop {
            let cur_len = cur.chars().count();
            let need = word.chars().count() + usize::from(cur_len > 0);
            if cur_len + need <= width {
                if cur_len > 0 {
                    cur.push(' ');
                }
                cur.push_str(&word);
                break;
            }
            if cur_len == 0 {
                // A word longer than the line: split it.
                let head: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                lines.push(head);
            } else {
                lines.push(std::mem::take(&mut cur));
            }
            if lines.len() == rows {
                cut = true;
                break;
            }
        }
        if cut {
            break;
        }
    }
    if !cut && !cur.is_empty() {
        if lines.len() == rows {
            cut = true;
        } else {
            lines.push(cur);
        }
    }
    if cut {
        if let Some(last) = lines.last_mut() {
            let keep = width.saturating_sub(1).min(last.chars().count());
            let mut s: String = last.chars().take(keep).collect();
            s.truncate(s.trim_end().len());
            s.push('…');
            *last = s;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap_clipped;

    #[test]
    fn fits_wraps_at_words() {
        assert_eq!(
            wrap_clipped("the diagonal is bright and falls off", 12, 4),
            ["the diagonal", "is bright", "and falls", "off"]
        );
    }

    #[test]
    fn a_cut_text_ends_in_an_ellipsis() {
        let l = wrap_clipped("one two three four five six seven", 9, 2);
        assert_eq!(l, ["one two", "three…"]);
        assert!(l.iter().all(|s| s.chars().count() <= 9));
        // Exactly filling the rows is not a cut.
        assert_eq!(wrap_clipped("aa bb", 2, 2), ["aa", "bb"]);
        assert_eq!(wrap_clipped("aa bb cc", 2, 2), ["aa", "b…"]);
        assert_eq!(wrap_clipped("abcdefgh", 3, 2), ["abc", "de…"]);
    }
}
