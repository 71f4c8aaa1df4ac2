//! Numbers and steps as people read them, shared by every view (the TUI, the headless text and
//! the figures) so that a value reads the same on screen, in a summary and on a PNG.

/// A number the way a person reads it: 4 significant digits, scientific when huge or tiny.
pub fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() || s == "-" {
            "0".into()
        } else {
            s.to_string()
        }
    }
}

/// An axis label: three significant digits.
pub fn fmt_axis(v: f64) -> String {
    if !v.is_finite() {
        return fmt_value(v);
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        // 1.00e8 → 1e8, 3.20e6 → 3.2e6
        let s = format!("{v:.2e}");
        return match s.split_once('e') {
            Some((m, e)) if m.contains('.') => {
                format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
            }
            _ => s,
        };
    }
    let decimals = if a == 0.0 {
        0
    } else {
        (2 - a.log10().floor() as i32).clamp(0, 6) as usize
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_four_decimals_then_go_scientific() {
        assert_eq!(fmt_value(0.5), "0.5");
        assert_eq!(fmt_value(1.23456), "1.2346");
        assert_eq!(fmt_value(0.0), "0");
        assert_eq!(fmt_value(2e6), "2.000e6");
        assert_eq!(fmt_value(f64::NAN), "NaN");
        assert_eq!(fmt_value(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn axis_labels_have_three_significant_digits() {
        assert_eq!(fmt_axis(0.0), "0");
        assert_eq!(fmt_axis(1.2345), "1.23");
        assert_eq!(fmt_axis(123.45), "123");
        assert_eq!(fmt_axis(1e8), "1e8");
        assert_eq!(fmt_axis(3.2e6), "3.2e6");
    }
}
