//! Tables with known facts, generated here (a trained-looking head, a random-init tail, padding
//! rows; fairseq's sinusoidal formula), and the real Whisper tables.

use super::*;
use crate::checkpoint::similarity::compute_map;
use crate::checkpoint::{compute_similarity, ReadMode, SimilarityRequest};
use crate::tensor::Dtype;

/// A small deterministic generator (xorshift64*), with Box–Muller normals.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
    }
}

/// `trained` rows that drift smoothly (a random walk of small steps from one start: neighbours
/// alike), then `untrained` rows drawn from N(0, σ²) like a fresh nn.Embedding; rows in `zero`
/// set to 0.
fn table(trained: usize, untrained: usize, d: usize, sigma: f64, zero: &[usize]) -> Vec<f64> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut row: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
    let mut out = Vec::new();
    for _ in 0..trained {
        for v in &mut row {
            *v += 0.15 * rng.normal();
        }
        out.extend(&row);
    }
    for _ in 0..untrained {
        out.extend((0..d).map(|_| sigma * rng.normal()));
    }
    for &z in zero {
        out[z * d..(z + 1) * d].fill(0.0);
    }
    out
}

fn explained(values: &[f64], d: usize, rows: Option<(usize, usize)>) -> (TableFacts, Vec<String>) {
    let n = values.len() / d;
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = TableView::new(&bytes, Dtype::F64, n, d).expect("a whole table");
    let map = compute_map(&view, rows.unwrap_or((0, n)), 32);
    let facts = TableFacts::measure(&view, map.rows);
    let text = explain(&map, &facts);
    (facts, text)
}

#[test]
fn an_untrained_tail_is_found_from_its_first_row() {
    // fairseq's learned positions: N(0, 1/D) init, padding row 1.
    let d = 64;
    let t = table(200, 56, d, 1.0 / (d as f64).sqrt(), &[1]);
    let (facts, text) = explained(&t, d, None);
    let tail = untrained_tail(&facts).expect("a tail");
    assert_eq!(tail.start, 200, "{tail:?}");
    assert_eq!(tail.rows, 56);
    assert!((tail.norm - 1.0).abs() < 0.1, "{tail:?}");
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(text[0].starts_with("The diagonal is each position with itself"));
    assert!(
        text[1].starts_with("Positions 200–255 look untrained") && text[1].contains("fairseq's"),
        "{}",
        text[1]
    );
    assert!(text[1].contains("none reached row 200"), "{}", text[1]);
    assert!(text[2].starts_with("Row 1 is all zeros"), "{}", text[2]);
}

#[test]
fn the_tail_is_found_at_other_widths_and_inits() {
    for (d, sigma, trained, untrained) in [
        (384, 0.02, 300, 148),
        (768, 0.02, 900, 124),
        (32, 1.0, 50, 14),
    ] {
        let t = table(trained, untrained, d, sigma, &[]);
        let (facts, text) = explained(&t, d, None);
        let tail = untrained_tail(&facts);
        assert_eq!(tail.map(|t| t.start), Some(trained), "D={d}: {text:#?}");
    }
}

#[test]
fn no_tail_in_a_trained_table_and_none_in_a_few_rows() {
    let d = 64;
    let (facts, text) = explained(&table(256, 0, d, 1.0, &[]), d, None);
    assert_eq!(untrained_tail(&facts), None, "{text:#?}");
    assert_eq!(text.len(), 1, "{text:#?}");
    // Two random rows at the end are not "a tail".
    let (facts, _) = explained(&table(256, 2, d, 0.125, &[]), d, None);
    assert_eq!(untrained_tail(&facts), None);
    // Too narrow to tell random rows from trained ones.
    let (facts, _) = explained(&table(50, 30, 8, 0.35, &[]), 8, None);
    assert_eq!(untrained_tail(&facts), None);
}

#[test]
fn a_table_that_is_all_init_is_called_untrained() {
    let d = 64;
    let (_, text) = explained(&table(0, 66, d, 0.125, &[1]), d, None);
    assert!(
        text.iter()
            .any(|s| s.contains("whole table still looks like its random initialisation")),
        "{text:#?}"
    );
}

#[test]
fn padding_rows_are_listed() {
    let d = 16;
    let (_, text) = explained(&table(100, 0, d, 1.0, &[0, 5, 9, 11, 40, 41]), d, None);
    let p = text.last().expect("sentences");
    assert!(
        p.starts_with("6 rows are all zeros (0, 5, 9, 11, …)"),
        "{p}"
    );
}

#[test]
fn fairseq_sinusoidal_is_recognised_with_its_periods() {
    let (n, d) = (1024, 128);
    let t = crate::checkpoint::sinusoidal::fairseq_table(n, d).expect("a table");
    let (facts, text) = explained(&t, d, Some(crate::checkpoint::sinusoidal::used_rows(n)));
    let s = facts.sinusoid.expect("sinusoidal");
    assert_eq!(s.pairs, 64);
    assert!((s.shortest - 2.0 * PI).abs() < 1e-6, "{s:?}");
    assert!(
        (s.longest / (2.0 * PI * 10_000.0) - 1.0).abs() < 1e-3,
        "{s:?}"
    );
    assert!(
        text[1].starts_with("The table is sinusoidal (64 sin/cos pairs"),
        "{text:#?}"
    );
    assert!(
        text[1].contains("from 6.3 to about 62832 positions"),
        "{}",
        text[1]
    );
    // A learned table is not.
    let (facts, _) = explained(&table(100, 0, 16, 1.0, &[]), 16, None);
    assert_eq!(facts.sinusoid, None);
}

fn whisper(tensor: &str) -> Vec<String> {
    let req = SimilarityRequest {
        path: concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/whisper-tiny-positions/whisper_tiny_positions.safetensors"
        )
        .into(),
        tensor: Some(tensor.into()),
        rows: None,
        blocks: 64,
        sinusoidal: None,
        read: ReadMode::Mapped,
    };
    compute_similarity(&req)
        .expect("the whisper sample")
        .explanation
}

#[test]
fn whisper_encoder_is_sinusoidal_and_decoder_is_learned() {
    let enc = whisper("encoder.position_encodings.encodings");
    assert_eq!(enc.len(), 2, "{enc:#?}");
    assert!(
        enc[0].contains("neighbours have cosine +0.97"),
        "{}",
        enc[0]
    );
    assert!(
        enc[1].starts_with(
            "The table is sinusoidal (192 sin/cos pairs with periods from 6.3 to about"
        ),
        "{}",
        enc[1]
    );
    // Real periods 2π … 2π·10⁴ = 62832 (Whisper's formula), read back from F16 values.
    assert!(enc[1].contains("6.3 to about 628"), "{}", enc[1]);
    assert!(enc[1].contains("farthest positions alike."), "{}", enc[1]);
    let dec = whisper("decoder.position_encodings.encodings");
    assert_eq!(
        dec.len(),
        1,
        "learned, trained to its last row, no padding: {dec:#?}"
    );
    assert!(
        dec[0].contains("similarity falls to half (below 0.5) at distance"),
        "{}",
        dec[0]
    );
}
