//! The syntax helpers on the spellings real logs use.

use super::*;

#[test]
fn eq_respects_word_boundaries() {
    let l = b"loss=3.1, train_gnorm=9, gnorm=0.489, clip=0";
    assert_eq!(value_after(l, b"gnorm", Sep::Eq), Some(&b"0.489"[..]));
    assert_eq!(value_after(l, b"clip", Sep::Eq), Some(&b"0"[..]));
    assert_eq!(value_after(b"clip_norm=5.0", b"clip", Sep::Eq), None);
}

#[test]
fn keys_are_whole() {
    let l = b"validation loss: 10.95";
    assert_eq!(value_after(l, b"loss", Sep::Colon), None);
    let l = b" lm loss: 6.4 | grad norm: 9.0 |";
    assert_eq!(value_after(l, b"loss", Sep::Colon), None);
    assert_eq!(value_after(l, b"lm loss", Sep::Colon), Some(&b"6.4"[..]));
    let l = b"step:  1  loss: 10.8595  grad_norm:  3.2105";
    assert_eq!(value_after(l, b"loss", Sep::Colon), Some(&b"10.8595"[..]));
    let k = Key::path_suffix("total_grad_norm");
    assert_eq!(
        k.value_in(b"    optim/total_grad_norm=231.7", Sep::Eq),
        Some(&b"231.7"[..])
    );
    assert_eq!(
        k.value_in(br#"{"optim/total_grad_norm": 2.5}"#, Sep::Json),
        Some(&b"2.5"[..])
    );
    assert_eq!(k.value_in(b"x_total_grad_norm=1", Sep::Eq), None);
    // Other names match whole only: `val/loss` is not `loss`.
    assert_eq!(Key::new("loss").value_in(b"val/loss=1", Sep::Eq), None);
}

#[test]
fn quoted_syntaxes() {
    let py = b"{'loss': '4.389', 'grad_norm': nan, 'epoch': 0.1}";
    assert_eq!(
        value_after(py, b"grad_norm", Sep::PyDict),
        Some(&b"nan"[..])
    );
    assert_eq!(value_after(py, b"loss", Sep::PyDict), Some(&b"4.389"[..]));
    let js = br#"{"train_gnorm": "36.26", "gnorm": "20.751"}"#;
    assert_eq!(value_after(js, b"gnorm", Sep::Json), Some(&b"20.751"[..]));
}

#[test]
fn pipe_and_colon() {
    let l = b"| epoch 052 | loss 4.027 | gnorm 0.218 | clip 0% | oom 0";
    assert_eq!(value_after(l, b"gnorm", Sep::Pipe), Some(&b"0.218"[..]));
    assert_eq!(value_after(l, b"clip", Sep::Pipe), Some(&b"0%"[..]));
    let m = b" lm loss: 6.444662E+00 | grad norm: 98258.265 | num zeros: 0.0 |";
    assert_eq!(
        parse_number(value_after(m, b"grad norm", Sep::Colon).unwrap()),
        Some(98258.265)
    );
    assert_eq!(
        parse_number(value_after(m, b"lm loss", Sep::Colon).unwrap()),
        Some(6.444662)
    );
}

#[test]
fn fast_decimals_equal_the_standard_parser() {
    let cases = [
        "0.489",
        "0.1",
        "0.3",
        "131.281",
        "98258.265",
        "3273877.676",
        "-0.74",
        "5",
        "0",
        "0.000157917",
        "1.0000000000000002",
        "123456789012345",
        "9007199254740993",
        "1e-3",
        "2.5E+01",
        ".5",
        "5.",
        "-0",
        "0.30000000000000004",
    ];
    for c in cases {
        assert_eq!(
            parse_number(c.as_bytes()).map(f64::to_bits),
            c.parse::<f64>().ok().map(f64::to_bits),
            "{c}"
        );
    }
    // Every decimal with up to 5 digits and 0–4 decimals.
    for m in 0..100_000u32 {
        for d in 0..5usize {
            let p = 10u32.pow(d as u32);
            let s = if d == 0 {
                m.to_string()
            } else {
                format!("{}.{:0d$}", m / p, m % p)
            };
            assert_eq!(parse_number(s.as_bytes()), s.parse::<f64>().ok(), "{s}");
        }
    }
}

#[test]
fn numbers_and_steps() {
    assert!(parse_number(b"nan").unwrap().is_nan());
    assert_eq!(parse_number(b"-inf"), Some(f64::NEG_INFINITY));
    assert_eq!(parse_number(b"Infinity"), Some(f64::INFINITY));
    assert_eq!(parse_number(b"'5.251'"), Some(5.251));
    assert_eq!(parse_number(b"abc"), None);
    assert_eq!(parse_step(b"7000/"), Some(7000));
    assert_eq!(parse_step(b"\"12\""), Some(12));
    assert_eq!(parse_step(b"3.0"), Some(3));
    assert_eq!(parse_step(b"0.001"), None);
}

#[test]
fn an_empty_key_has_no_value() {
    for sep in [Sep::Eq, Sep::Colon, Sep::PyDict, Sep::Json, Sep::Pipe] {
        for line in [&b""[..], b"a", b"gnorm=1.5", b"| x 1 |"] {
            assert_eq!(value_after(line, b"", sep), None);
            assert_eq!(Key::new("").value_in(line, sep), None);
        }
    }
}
