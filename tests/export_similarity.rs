//! The headless `trainwatch similarity` output: JSON keys and their order, the human summary,
//! and `--list`.

use std::path::PathBuf;

use trainwatch::export::similarity::{
    parse_rows, parse_sinusoidal, run_similarity, SimilarityOptions,
};

const WHISPER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/samples/whisper-tiny-positions/whisper_tiny_positions.safetensors"
);

fn run(opts: &SimilarityOptions) -> String {
    let mut out = Vec::new();
    run_similarity(opts, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn whisper() -> SimilarityOptions {
    SimilarityOptions {
        path: PathBuf::from(WHISPER),
        ..Default::default()
    }
}

#[test]
fn json_has_exactly_the_keys_in_order() {
    let mut o = whisper();
    o.json = true;
    o.size = 16;
    let text = run(&o);
    assert!(text.ends_with('\n'));
    let keys = [
        "file",
        "tensor",
        "dtype",
        "shape",
        "rows",
        "blocks",
        "edges",
        "matrix",
        "zero_rows",
        "profile",
        // Issue 11: an addition at the end.
        "explanation",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| {
            text.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k} missing"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(text.starts_with("{\"file\":"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), keys.len());
    assert_eq!(v["tensor"], "decoder.position_encodings.encodings");
    assert_eq!(v["dtype"], "F16");
    assert_eq!(v["shape"], serde_json::json!([448, 384]));
    assert_eq!(v["rows"], serde_json::json!([0, 448]));
    assert_eq!(v["blocks"], 16);
    assert_eq!(v["edges"].as_array().unwrap().len(), 17);
    assert_eq!(v["edges"][1], 28);
    let m = v["matrix"].as_array().unwrap();
    assert_eq!(m.len(), 16);
    assert!(m.iter().all(|r| r.as_array().unwrap().len() == 16));
    assert_eq!(v["zero_rows"], serde_json::json!([]));
    let prof = v["profile"].as_array().unwrap();
    let ds: Vec<u64> = prof
        .iter()
        .map(|p| p["distance"].as_u64().unwrap())
        .collect();
    assert_eq!(ds, [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    assert!(prof
        .iter()
        .all(|p| p.as_object().unwrap().len() == 2 && p["mean"].is_f64()));
}

#[test]
fn json_nulls_for_zero_blocks_and_size_cap() {
    let mut o = SimilarityOptions {
        sinusoidal: Some((6, 8)),
        rows: Some((0, 8)),
        size: 1000,
        json: true,
        ..Default::default()
    };
    let v: serde_json::Value = serde_json::from_str(&run(&o)).unwrap();
    assert_eq!(v["blocks"], 8, "capped at the 8 rows");
    assert_eq!(v["zero_rows"], serde_json::json!([1]));
    assert!(v["matrix"][1][1].is_null() && v["matrix"][0][1].is_null());
    assert!(v["matrix"][0][0].is_f64());
    assert_eq!(v["file"], "(formula)");
    o.json = false;
    let text = run(&o);
    assert!(
        text.contains("zero rows  1: 1 (left out of the means)"),
        "{text}"
    );
}

#[test]
fn human_summary_names_everything() {
    let text = run(&whisper());
    for needle in [
        "file       ",
        "whisper_tiny_positions.safetensors",
        "step       unknown",
        "tensor     decoder.position_encodings.encodings   (1 of 2 candidates; --list shows all)",
        "dtype      F16",
        "shape      [448, 384]",
        "rows       0..448 (448 positions)",
        "zero rows  none",
        "blocks     64 × 64",
        "profile    adjacent ",
        "  distance  mean cosine",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // The explanation closes the summary (the decoder's table is learned: one sentence).
    let last = text.lines().rev().find(|l| !l.is_empty()).unwrap();
    assert!(
        last.starts_with(
            "The diagonal is each position with itself (cosine 1); neighbours have cosine +0."
        ),
        "{text}"
    );
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with(char::is_numeric))
            .count()
            >= 9
    );
}

#[test]
fn list_marks_the_picked_candidate() {
    let mut o = whisper();
    o.list = true;
    let text = run(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("file  "));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("* decoder.position_encodings.encodings  F16   [448, 384]")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  encoder.position_encodings.encodings  F16   [1500, 384]")),
        "{text}"
    );
    o.tensor = Some("encoder.position_encodings.encodings".into());
    o.json = true;
    let v: serde_json::Value = serde_json::from_str(&run(&o)).unwrap();
    assert_eq!(v["candidates"][1]["picked"], true);
    assert_eq!(v["candidates"][0]["picked"], false);
    assert_eq!(v["candidates"][1]["shape"], serde_json::json!([1500, 384]));
}

#[test]
fn errors_come_back_typed() {
    let o = SimilarityOptions {
        path: PathBuf::from("/nonexistent/dir/x.safetensors"),
        ..Default::default()
    };
    let mut out = Vec::new();
    let e = run_similarity(&o, &mut out).unwrap_err();
    assert!(
        e.to_string().contains("/nonexistent/dir/x.safetensors"),
        "{e}"
    );
    assert!(out.is_empty());
}

#[test]
fn argument_parsers() {
    assert_eq!(parse_rows("2:514"), Ok((2, 514)));
    assert!(parse_rows("5:5").is_err());
    assert!(parse_rows("5").is_err());
    assert!(parse_rows("a:3").is_err());
    assert_eq!(parse_sinusoidal("1024,512"), Ok((1024, 512)));
    assert!(parse_sinusoidal("1024x512").is_err());
}

#[test]
fn json_explanation_says_what_the_numbers_say() {
    let mut o = whisper();
    o.json = true;
    o.tensor = Some("encoder.position_encodings.encodings".into());
    let v: serde_json::Value = serde_json::from_str(&run(&o)).unwrap();
    let ex: Vec<&str> = v["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(ex.len(), 2, "{ex:#?}");
    assert!(
        ex[1].starts_with("The table is sinusoidal (192 sin/cos pairs"),
        "{ex:#?}"
    );
    // fairseq's formula: the rows used (2..N+2) are sinusoidal; padding row 1 is outside them.
    let mut o = SimilarityOptions {
        sinusoidal: Some((256, 64)),
        json: true,
        ..Default::default()
    };
    let v: serde_json::Value = serde_json::from_str(&run(&o)).unwrap();
    let ex = v["explanation"].as_array().unwrap();
    assert!(
        ex[1].as_str().unwrap().contains("32 sin/cos pairs"),
        "{ex:?}"
    );
    // With the padding row in range, it is named.
    o.rows = Some((0, 258));
    let v: serde_json::Value = serde_json::from_str(&run(&o)).unwrap();
    let last = v["explanation"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        last.starts_with("Row 1 is all zeros: a padding row (fairseq's padding_idx 1)"),
        "{last}"
    );
}
