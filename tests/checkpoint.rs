//! Checkpoint loading and the similarity computation, against hand-written safetensors files
//! (a tiny writer below, checked against the `safetensors` crate) and the real whisper-tiny
//! tables in `../shared/samples/`.

// Index loops read best for matrix comparisons.
#![allow(clippy::needless_range_loop)]

use std::path::Path;

use trainwatch::checkpoint::{
    self, check_complete, compute_similarity, list_candidates, similarity, Error, ReadMode,
    SimilarityRequest, StoreError, TableView,
};
use trainwatch::tensor::{Dtype, SafetensorsStore, TensorStore};

const WHISPER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/samples/whisper-tiny-positions/whisper_tiny_positions.safetensors"
);

// ---- helpers ---------------------------------------------------------------------------------

/// A tensor to write: name, dtype name, shape, raw little-endian bytes.
struct T {
    name: String,
    dtype: &'static str,
    shape: Vec<usize>,
    data: Vec<u8>,
}

fn t(name: &str, dtype: &'static str, shape: &[usize], data: Vec<u8>) -> T {
    T {
        name: name.into(),
        dtype,
        shape: shape.to_vec(),
        data,
    }
}

/// A float tensor encoded as `dtype` from f64 values.
fn tf(name: &str, dtype: &'static str, shape: &[usize], values: &[f64]) -> T {
    t(name, dtype, shape, encode(dtype, values))
}

fn encode(dtype: &str, values: &[f64]) -> Vec<u8> {
    let mut out = Vec::new();
    for &v in values {
        match dtype {
            "F32" => out.extend((v as f32).to_le_bytes()),
            "F64" => out.extend(v.to_le_bytes()),
            "F16" => out.extend(half::f16::from_f64(v).to_le_bytes()),
            "BF16" => out.extend(half::bf16::from_f64(v).to_le_bytes()),
            "I64" => out.extend((v as i64).to_le_bytes()),
            other => panic!("test encoder: {other}"),
        }
    }
    out
}

/// Writes a safetensors file: tensors laid out in the given order.
fn write_st(path: &Path, tensors: &[T]) {
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for x in tensors {
        header.insert(
            x.name.clone(),
            serde_json::json!({"dtype": x.dtype, "shape": x.shape, "data_offsets": [offset, offset + x.data.len()]}),
        );
        offset += x.data.len();
    }
    let json = serde_json::Value::Object(header).to_string();
    let data: Vec<u8> = tensors.iter().flat_map(|x| x.data.clone()).collect();
    write_raw(path, &json, &data);
}

fn write_raw(path: &Path, header: &str, data: &[u8]) {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}

/// Deterministic pseudo-random numbers in [-1, 1) (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// A smooth-ish table (so cosines span a range), with a given seed.
fn table(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng(seed | 1);
    let mut v = Vec::with_capacity(n * d);
    for i in 0..n {
        for k in 0..d {
            let smooth = ((i as f64) * (k as f64 + 1.0) * 0.05).sin();
            v.push(smooth + 0.3 * r.next());
        }
    }
    v
}

/// f64 brute force: every pairwise cosine by a double loop (NaN when a row is all zero).
fn cosines(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let norms: Vec<f64> = rows
        .iter()
        .map(|r| r.iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    let n = rows.len();
    let mut c = vec![vec![f64::NAN; n]; n];
    for i in 0..n {
        for j in i..n {
            if norms[i] == 0.0 || norms[j] == 0.0 {
                continue;
            }
            let dot: f64 = rows[i].iter().zip(&rows[j]).map(|(p, q)| p * q).sum();
            c[i][j] = dot / (norms[i] * norms[j]);
            c[j][i] = c[i][j];
        }
    }
    c
}

/// Mean over i∈I, j∈J of cos(i, j), skipping zero rows; NaN if no pair.
fn brute(cos: &[Vec<f64>], edges: &[usize]) -> Vec<Vec<f64>> {
    let nb = edges.len() - 1;
    let mut m = vec![vec![f64::NAN; nb]; nb];
    for bi in 0..nb {
        for bj in 0..nb {
            let (mut s, mut c) = (0.0, 0u64);
            for row in &cos[edges[bi]..edges[bi + 1]] {
                for &v in &row[edges[bj]..edges[bj + 1]] {
                    if !v.is_nan() {
                        s += v;
                        c += 1;
                    }
                }
            }
            if c > 0 {
                m[bi][bj] = s / c as f64;
            }
        }
    }
    m
}

/// Brute-force profile: mean of cos(i, i+d) over rows [lo, hi), skipping zero rows.
fn brute_profile(cos: &[Vec<f64>], lo: usize, hi: usize, d: usize) -> f64 {
    let (mut s, mut c) = (0.0, 0u64);
    for i in lo..hi - d {
        let v = cos[i][i + d];
        if !v.is_nan() {
            s += v;
            c += 1;
        }
    }
    s / c as f64
}

fn decoded_rows(view: &TableView<'_>) -> Vec<Vec<f64>> {
    (0..view.rows())
        .map(|i| {
            let mut r = vec![0.0; view.dim()];
            view.decode_row(i, &mut r);
            r
        })
        .collect()
}

/// Asserts the map and profile at `blocks` over `rows` match the brute force within 1e-6.
fn assert_exact(view: &TableView<'_>, cos: &[Vec<f64>], rows: (usize, usize), blocks: usize) {
    let map = similarity::compute_map(view, rows, blocks);
    let expect = brute(cos, &map.edges);
    let b = map.blocks();
    assert_eq!(map.matrix.shape(), &[b, b]);
    let mut max_err: f64 = 0.0;
    for i in 0..b {
        for j in 0..b {
            let (got, want) = (map.matrix[[i, j]], expect[i][j]);
            if want.is_nan() {
                assert!(got.is_nan(), "cell {i},{j}: {got} vs NaN");
            } else {
                max_err = max_err.max((got - want).abs());
            }
        }
    }
    assert!(max_err <= 1e-6, "B={blocks}: max abs err {max_err}");
    for p in &map.profile {
        let want = brute_profile(cos, map.rows.0, map.rows.1, p.distance);
        assert!(
            (p.mean - want).abs() <= 1e-6,
            "profile d={}: {} vs {want}",
            p.distance,
            p.mean
        );
    }
}

fn req(path: &Path) -> SimilarityRequest {
    SimilarityRequest {
        path: path.to_path_buf(),
        tensor: None,
        rows: None,
        blocks: 64,
        sinusoidal: None,
        read: ReadMode::Mapped,
    }
}

/// The error for PATH, read mapped; positional reads must fail the same way, word for word.
fn err_of(path: &Path) -> Error {
    let mapped = match compute_similarity(&req(path)) {
        Ok(r) => panic!("expected an error, got a map of {}", r.title.tensor),
        Err(e) => e,
    };
    let mut positional = req(path);
    positional.read = ReadMode::Positional;
    match compute_similarity(&positional) {
        Ok(r) => panic!("positional reads gave a map of {}", r.title.tensor),
        Err(e) => assert_eq!(e.to_string(), mapped.to_string()),
    }
    mapped
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn names(c: &[checkpoint::Candidate]) -> Vec<String> {
    c.iter().map(|c| c.name.clone()).collect()
}

// ---- exactness ---------------------------------------------------------------------------------

#[test]
fn block_map_matches_brute_force_for_every_dtype() {
    for (k, dtype) in ["F32", "F64", "F16", "BF16"].into_iter().enumerate() {
        let (n, d) = (37, 19);
        let values = table(n, d, 7 + k as u64);
        let bytes = encode(dtype, &values);
        let view = TableView::new(&bytes, Dtype::parse(dtype).unwrap(), n, d).unwrap();
        let cos = cosines(&decoded_rows(&view));
        for blocks in [1, 2, 5, 8, 36, 37, 100] {
            assert_exact(&view, &cos, (0, n), blocks);
        }
        assert_exact(&view, &cos, (3, 30), 6);
        assert_exact(&view, &cos, (3, 30), 27);
    }
}

#[test]
fn large_table_uses_threads_and_stays_exact() {
    // n·d above the threading threshold, so both passes run split.
    let (n, d) = (300, 4000);
    let values = table(n, d, 99);
    let bytes = encode("F32", &values);
    let view = TableView::new(&bytes, Dtype::F32, n, d).unwrap();
    let cos = cosines(&decoded_rows(&view));
    let map = similarity::compute_map(&view, (0, n), 7);
    let expect = brute(&cos, &map.edges);
    for i in 0..7 {
        for j in 0..7 {
            assert!((map.matrix[[i, j]] - expect[i][j]).abs() <= 1e-6);
        }
    }
    for p in &map.profile {
        assert!((p.mean - brute_profile(&cos, 0, n, p.distance)).abs() <= 1e-6);
    }
}

#[test]
fn zero_rows_are_excluded_and_reported() {
    let (n, d) = (20, 6);
    let mut values = table(n, d, 3);
    for z in [1usize, 5, 6, 7] {
        values[z * d..(z + 1) * d].fill(0.0);
    }
    let bytes = encode("F32", &values);
    let view = TableView::new(&bytes, Dtype::F32, n, d).unwrap();
    let cos = cosines(&decoded_rows(&view));
    let map = similarity::compute_map(&view, (0, n), 20);
    assert_eq!(map.zero_rows, vec![1, 5, 6, 7]);
    assert!(map.matrix[[1, 1]].is_nan() && map.matrix[[1, 3]].is_nan());
    for b in [20, 10, 6, 3] {
        assert_exact(&view, &cos, (0, n), b);
    }
    // Blocks [5,7) with edges at B=10 hold only zero rows: NaN, serialised as null.
    let map = similarity::compute_map(&view, (0, n), 10);
    assert_eq!(&map.edges[2..5], &[4, 6, 8]);
    assert!(!map.matrix[[2, 2]].is_nan(), "block [4,6) still has row 4");
    assert!(
        map.matrix[[3, 3]].is_nan() && map.matrix[[3, 0]].is_nan() && map.matrix[[0, 3]].is_nan()
    );
}

#[test]
fn edges_follow_the_floor_formula() {
    assert_eq!(similarity::block_edges(0, 10, 3), vec![0, 3, 6, 10]);
    assert_eq!(
        similarity::block_edges(2, 450, 4),
        vec![2, 114, 226, 338, 450]
    );
    assert_eq!(similarity::block_edges(0, 5, 5), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(similarity::profile_distances(9), vec![1, 2, 4, 8]);
    assert_eq!(similarity::profile_distances(8), vec![1, 2, 4]);
}

// ---- whisper-tiny ------------------------------------------------------------------------------

#[test]
fn whisper_tables_are_exact_at_several_block_counts() {
    let f = SafetensorsStore::open(Path::new(WHISPER), ReadMode::Mapped).unwrap();
    for name in [
        "decoder.position_encodings.encodings",
        "encoder.position_encodings.encodings",
    ] {
        let info = f.tensor(name).unwrap();
        assert_eq!(info.dtype, Dtype::F16);
        let (n, d) = (info.shape[0], info.shape[1]);
        let bytes = f.tensor_bytes(info).unwrap();
        let view = TableView::new(&bytes, info.dtype, n, d).unwrap();
        let cos = cosines(&decoded_rows(&view));
        let blocks: &[usize] = if n > 1000 {
            &[16, 64, n]
        } else {
            &[1, 7, 64, 224, n]
        };
        for &b in blocks {
            assert_exact(&view, &cos, (0, n), b);
        }
    }
}

#[test]
fn whisper_facts_from_the_manifest() {
    let list = list_candidates(Path::new(WHISPER), ReadMode::Mapped).unwrap();
    assert_eq!(
        names(&list.candidates),
        [
            "decoder.position_encodings.encodings",
            "encoder.position_encodings.encodings"
        ]
    );
    // Auto-selection: the decoder (first by name), learned, [448, 384] F16.
    let mut r = req(Path::new(WHISPER));
    r.blocks = 448;
    let dec = compute_similarity(&r).unwrap();
    assert_eq!(dec.title.tensor, "decoder.position_encodings.encodings");
    assert_eq!(dec.title.shape, vec![448, 384]);
    assert_eq!(dec.title.dtype, "F16");
    assert_eq!(dec.selected, Some(0));
    assert!(dec.map.zero_rows.is_empty());
    // Position 0 is an outlier: cos(0, 1) ≈ 0.11.
    let c01 = dec.map.matrix[[0, 1]];
    assert!((c01 - 0.11).abs() < 0.03, "cos(0,1) = {c01}");
    // A visible break at 224: neighbours across it are less alike than neighbours beside it.
    let across = dec.map.matrix[[223, 224]];
    let beside = (dec.map.matrix[[222, 223]] + dec.map.matrix[[224, 225]]) / 2.0;
    assert!(across < beside - 0.1, "across {across}, beside {beside}");

    // Encoder: a stored sinusoid, smooth, min cosine ≈ +0.09.
    r.tensor = Some("encoder.position_encodings.encodings".into());
    r.blocks = 1500;
    let enc = compute_similarity(&r).unwrap();
    assert_eq!(enc.title.shape, vec![1500, 384]);
    let min = enc.map.summary.min.unwrap();
    assert!((min - 0.09).abs() < 0.02, "encoder min cosine {min}");
    let adj = enc.map.summary.adjacent.unwrap();
    assert!(adj > 0.95, "adjacent {adj}");
    assert_eq!(enc.selected, Some(1));
    // The profile falls with distance.
    let means: Vec<f64> = enc.map.profile.iter().map(|p| p.mean).collect();
    assert!(means.first() > means.last());
}

#[test]
fn summary_line_reads_like_the_issue() {
    let mut r = req(Path::new(WHISPER));
    r.blocks = 64;
    let rep = compute_similarity(&r).unwrap();
    let s = rep.map.summary.to_string();
    assert!(s.starts_with("adjacent "), "{s}");
    assert!(s.contains(" · min "), "{s}");
    // The refined crossing is a real crossing of exact means.
    if let Some(d) = rep.map.summary.below_half {
        let f = SafetensorsStore::open(Path::new(WHISPER), ReadMode::Mapped).unwrap();
        let info = f.tensor("decoder.position_encodings.encodings").unwrap();
        let bytes = f.tensor_bytes(info).unwrap();
        let view = TableView::new(&bytes, info.dtype, 448, 384).unwrap();
        let cos = cosines(&decoded_rows(&view));
        assert!(brute_profile(&cos, 0, 448, d) < 0.5);
        if d > 1 {
            assert!(brute_profile(&cos, 0, 448, d - 1) >= 0.5);
        }
        assert!(
            s.contains(&format!("falls below 0.5 at distance {d}")),
            "{s}"
        );
    }
}

// ---- corrupt and hostile files -----------------------------------------------------------------

fn good_file(path: &Path) {
    write_st(path, &[tf("wpe.weight", "F32", &[4, 3], &table(4, 3, 1))]);
}

#[test]
fn truncated_file_is_incomplete_not_a_panic() {
    let d = dir();
    let p = d.path().join("m.safetensors");
    good_file(&p);
    let full = std::fs::read(&p).unwrap();
    for cut in [0, 3, 8, 20, full.len() - 1] {
        std::fs::write(&p, &full[..cut]).unwrap();
        let e = err_of(&p);
        assert!(e.is_incomplete(), "cut {cut}: {e}");
        assert!(e.to_string().contains("m.safetensors"), "{e}");
        for mode in [ReadMode::Mapped, ReadMode::Positional] {
            assert!(check_complete(&p, mode).unwrap_err().is_incomplete());
        }
        // The same bytes in memory: the same verdict, named by the label.
        let e = SafetensorsStore::from_bytes("cut image", &full[..cut]).unwrap_err();
        assert!(matches!(e, StoreError::Incomplete { .. }), "cut {cut}: {e}");
        assert!(e.to_string().starts_with("cut image: "), "{e}");
    }
    std::fs::write(&p, &full).unwrap();
    for mode in [ReadMode::Mapped, ReadMode::Positional] {
        assert!(check_complete(&p, mode).is_ok());
    }
}

#[test]
fn corrupt_headers_are_clear_errors() {
    let d = dir();
    let p = d.path().join("bad.safetensors");
    let data = vec![0u8; 48];
    let cases: Vec<(&str, String, &str)> = vec![
        ("offsets past the data", r#"{"wpe":{"dtype":"F32","shape":[8,3],"data_offsets":[0,96]}}"#.into(), "ends at byte 96"),
        ("overlap", r#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"wpe":{"dtype":"F32","shape":[2,3],"data_offsets":[12,36]}}"#.into(), "overlap"),
        ("shape mismatch", r#"{"wpe":{"dtype":"F32","shape":[4,4],"data_offsets":[0,48]}}"#.into(), "needs 64 bytes"),
        ("unknown dtype", r#"{"wpe":{"dtype":"Q4_K","shape":[4,3],"data_offsets":[0,48]}}"#.into(), "unknown dtype Q4_K"),
        ("absurd shape", r#"{"wpe":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,48]}}"#.into(), "overflows"),
        ("negative dim", r#"{"wpe":{"dtype":"F32","shape":[-4,3],"data_offsets":[0,48]}}"#.into(), "not a non-negative integer"),
        ("offsets reversed", r#"{"wpe":{"dtype":"F32","shape":[4,3],"data_offsets":[48,0]}}"#.into(), "begin <= end"),
        ("not an object", r#"["wpe"]"#.into(), "not a safetensors file"),
        ("object of junk", r#"{"wpe": 3}"#.into(), "is not an object"),
        ("bad json", r#"{"wpe": {"#.into(), "not a JSON object"),
        ("metadata", r#"{"__metadata__":{"a":1}}"#.into(), "__metadata__"),
    ];
    for (what, header, needle) in cases {
        write_raw(&p, &header, &data);
        let e = err_of(&p);
        let msg = e.to_string();
        assert!(msg.contains("bad.safetensors"), "{what}: {msg}");
        assert!(msg.contains(needle), "{what}: {msg}");
    }
}

#[test]
fn header_length_problems() {
    let d = dir();
    let p = d.path().join("h.safetensors");
    // Claimed length past the end of the file.
    let mut bytes = 1000u64.to_le_bytes().to_vec();
    bytes.extend(b"{\"a\":1}");
    std::fs::write(&p, &bytes).unwrap();
    let e = err_of(&p);
    assert!(
        e.to_string().contains("header length says 1000 bytes"),
        "{e}"
    );
    // 100 MB+ claimed: refused without allocating or reading.
    let mut bytes = 200_000_000u64.to_le_bytes().to_vec();
    bytes.extend(b"{}");
    std::fs::write(&p, &bytes).unwrap();
    let e = err_of(&p);
    assert!(matches!(e, Error::Store(StoreError::Corrupt { .. })), "{e}");
    assert!(e.to_string().contains("exceeds"), "{e}");
    // u64::MAX.
    std::fs::write(&p, u64::MAX.to_le_bytes()).unwrap();
    assert!(matches!(
        err_of(&p),
        Error::Store(StoreError::Corrupt { .. })
    ));
}

#[test]
fn not_safetensors_at_all() {
    let d = dir();
    let p = d.path().join("notes.safetensors");
    std::fs::write(&p, "this is a text file, not a checkpoint\n").unwrap();
    let e = err_of(&p);
    assert!(matches!(e, Error::Store(StoreError::Corrupt { .. })), "{e}");
    // Small length but no JSON after it.
    let mut bytes = 4u64.to_le_bytes().to_vec();
    bytes.extend(b"\x00\x01\x02\x03");
    std::fs::write(&p, &bytes).unwrap();
    assert!(err_of(&p).to_string().contains("no JSON header"));
}

/// Issue 11 changed this: `torch.save` files are now read by trainwatch's own safe pickle
/// reader (tests/pytorch_*.rs); a file that only *looks* like one is an error naming the file
/// and the format, and a plain `.pkl` pickle is still refused with the reason.
#[test]
fn pickles_are_read_safely_or_refused_with_a_reason() {
    let d = dir();
    for name in ["pytorch_model.bin", "ckpt.pt", "model.PTH", "last.ckpt"] {
        let p = d.path().join(name);
        std::fs::write(&p, b"\x80\x02}q\x00.").unwrap();
        let e = err_of(&p);
        let msg = e.to_string();
        assert!(
            matches!(e, Error::Store(StoreError::Corrupt { .. })),
            "{msg}"
        );
        assert!(
            msg.contains(name) && msg.contains("not a valid PyTorch file"),
            "{msg}"
        );
    }
    let p = d.path().join("x.pkl");
    std::fs::write(&p, b"\x80\x02}q\x00.").unwrap();
    let msg = err_of(&p).to_string();
    assert!(
        msg.contains("pickle") && msg.contains("safetensors"),
        "{msg}"
    );
    assert!(msg.contains("runs arbitrary code"), "{msg}");
    // A torch.save zip archive renamed to .safetensors is read as one (this one is cut short).
    let p = d.path().join("renamed.safetensors");
    std::fs::write(&p, b"PK\x03\x04rest-of-a-zip-archive").unwrap();
    assert!(matches!(
        err_of(&p),
        Error::Store(StoreError::Incomplete { .. })
    ));
    // A directory with only a (broken) PyTorch file: it is the one read.
    let only = d.path().join("only");
    std::fs::create_dir(&only).unwrap();
    std::fs::write(only.join("pytorch_model.bin"), b"\x80\x02}q\x00.").unwrap();
    let msg = err_of(&only).to_string();
    assert!(
        msg.contains("pytorch_model.bin: not a valid PyTorch file"),
        "{msg}"
    );
    // A directory with only a plain pickle says why it is not read.
    let pkl = d.path().join("pkl");
    std::fs::create_dir(&pkl).unwrap();
    std::fs::write(pkl.join("x.pkl"), b"\x80\x02.").unwrap();
    assert!(matches!(
        err_of(&pkl),
        Error::Store(StoreError::Pickle { .. })
    ));
}

#[test]
fn unsupported_dtype_names_the_dtype() {
    let d = dir();
    let p = d.path().join("m.safetensors");
    write_st(
        &p,
        &[
            tf("wpe.weight", "I64", &[4, 3], &[1.0; 12]),
            tf("wte.weight", "F32", &[5, 3], &table(5, 3, 2)),
        ],
    );
    let mut r = req(&p);
    r.tensor = Some("wpe.weight".into());
    let e = compute_similarity(&r).unwrap_err();
    assert!(e.to_string().contains("dtype I64"), "{e}");
    // Auto-detection explains the near miss.
    let e = err_of(&p);
    assert!(e.to_string().contains("wpe.weight has dtype I64"), "{e}");
}

#[test]
fn hostile_tensor_names_never_reach_the_terminal_raw() {
    let d = dir();
    let p = d.path().join("evil\x1b]0;pwn\x07.safetensors");
    let evil = "x\x1b[2Jwpe";
    write_st(&p, &[tf(evil, "F32", &[4, 3], &table(4, 3, 1))]);
    let mut r = req(&p);
    r.tensor = Some("nope\x1b[31m".into());
    let msg = compute_similarity(&r).unwrap_err().to_string();
    assert!(!msg.chars().any(|c| c.is_control()), "{msg:?}");
    r.tensor = Some(evil.into());
    let rep = compute_similarity(&r).unwrap();
    assert!(!rep.title.tensor.chars().any(|c| c.is_control()));
    assert!(!rep.title.file.chars().any(|c| c.is_control()));
    let mut out = Vec::new();
    let opts = trainwatch::export::similarity::SimilarityOptions {
        path: p.clone(),
        tensor: Some(evil.into()),
        ..Default::default()
    };
    trainwatch::export::similarity::run_similarity(&opts, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
}

// ---- selection ---------------------------------------------------------------------------------

#[test]
fn gpt2_wpe_is_found() {
    let d = dir();
    let p = d.path().join("model.safetensors");
    write_st(
        &p,
        &[
            tf("wte.weight", "F32", &[50, 8], &table(50, 8, 1)),
            tf("wpe.weight", "F32", &[16, 8], &table(16, 8, 2)),
            tf("h.0.ln_1.weight", "F32", &[8], &[1.0; 8]),
        ],
    );
    let r = compute_similarity(&req(&p)).unwrap();
    assert_eq!(r.title.tensor, "wpe.weight");
    assert_eq!(r.map.blocks(), 16, "blocks capped at N");
    assert_eq!(r.title.step, None);
}

#[test]
fn bert_position_ids_decoy_is_skipped() {
    let d = dir();
    let p = d.path().join("model.safetensors");
    write_st(
        &p,
        &[
            tf("bert.embeddings.position_ids", "I64", &[1, 12], &[0.0; 12]),
            tf(
                "bert.embeddings.position_embeddings.weight",
                "F32",
                &[12, 8],
                &table(12, 8, 3),
            ),
            tf(
                "bert.embeddings.word_embeddings.weight",
                "F32",
                &[30, 8],
                &table(30, 8, 4),
            ),
        ],
    );
    let list = list_candidates(&p, ReadMode::Mapped).unwrap();
    assert_eq!(
        names(&list.candidates),
        ["bert.embeddings.position_embeddings.weight"]
    );
}

#[test]
fn prefixes_vit_and_ctranslate2_names() {
    for (name, shape) in [
        ("_orig_mod.transformer.wpe.weight", vec![10, 4]),
        ("model.decoder.embed_positions.weight", vec![10, 4]),
        ("vit.embeddings.position_embeddings", vec![1, 10, 4]),
        ("pos_embed", vec![1, 10, 4]),
        ("decoder.position_encodings.encodings", vec![10, 4]),
        (
            "text_model.embeddings.position_embedding.weight",
            vec![10, 4],
        ),
        ("positional_embedding", vec![10, 4]),
        // minGPT (and the Lightning examples built on it) keep a bare parameter.
        ("model.pos_emb", vec![1, 10, 4]),
        ("position_embedding_table.weight", vec![10, 4]),
    ] {
        let d = dir();
        let p = d.path().join("m.safetensors");
        write_st(&p, &[tf(name, "BF16", &shape, &table(10, 4, 5))]);
        let r = compute_similarity(&req(&p)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.title.tensor, name);
        assert_eq!(r.map.rows, (0, 10));
    }
    // Never picked.
    for name in [
        "model.rotary_emb.inv_freq",
        "encoder.embed_positions._float_tensor",
        "encoder.rel_embeddings.weight",
        "block.0.layer.0.SelfAttention.relative_attention_bias.weight",
        "embeddings.position_ids",
        "wpe.bias",
    ] {
        assert!(!checkpoint::select::is_position_name(name), "{name}");
    }
}

#[test]
fn several_candidates_are_sorted_and_switchable() {
    let d = dir();
    let p = d.path().join("m.safetensors");
    write_st(
        &p,
        &[
            tf(
                "vision_model.embeddings.position_embedding.weight",
                "F32",
                &[9, 4],
                &table(9, 4, 1),
            ),
            tf(
                "text_model.embeddings.position_embedding.weight",
                "F32",
                &[7, 4],
                &table(7, 4, 2),
            ),
        ],
    );
    let r = compute_similarity(&req(&p)).unwrap();
    assert_eq!(
        r.title.tensor,
        "text_model.embeddings.position_embedding.weight"
    );
    assert_eq!(r.candidates.len(), 2);
    let mut q = req(&p);
    q.tensor = Some(r.candidates[1].name.clone());
    let r2 = compute_similarity(&q).unwrap();
    assert_eq!(r2.selected, Some(1));
    assert_eq!(r2.title.shape, vec![9, 4]);
    // Absent name: the error lists the candidates.
    q.tensor = Some("nope".into());
    let msg = compute_similarity(&q).unwrap_err().to_string();
    assert!(msg.contains("no tensor named nope"), "{msg}");
    assert!(
        msg.contains("text_model.embeddings.position_embedding.weight F32 [7, 4]"),
        "{msg}"
    );
}

#[test]
fn rope_only_model_says_why() {
    let d = dir();
    let p = d.path().join("m.safetensors");
    write_st(
        &p,
        &[
            tf(
                "model.embed_tokens.weight",
                "F16",
                &[32, 8],
                &table(32, 8, 1),
            ),
            tf(
                "model.layers.0.self_attn.rotary_emb.inv_freq",
                "F32",
                &[4],
                &[1.0; 4],
            ),
        ],
    );
    let e = err_of(&p);
    assert!(matches!(e, Error::NoTable { .. }));
    assert!(e.to_string().contains("RoPE"), "{e}");
}

#[test]
fn fairseq_float_tensor_suggests_sinusoidal() {
    let d = dir();
    let p = d.path().join("checkpoint_best.safetensors");
    write_st(
        &p,
        &[
            tf(
                "encoder.embed_tokens.weight",
                "F32",
                &[20, 16],
                &table(20, 16, 1),
            ),
            tf("encoder.embed_positions._float_tensor", "F32", &[1], &[0.0]),
        ],
    );
    let msg = err_of(&p).to_string();
    assert!(msg.contains("--sinusoidal N,16"), "{msg}");
    assert!(msg.contains("not stored"), "{msg}");
}

#[test]
fn relative_only_and_unnamed_tables() {
    let d = dir();
    let p = d.path().join("t5.safetensors");
    write_st(
        &p,
        &[tf(
            "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            "F32",
            &[32, 8],
            &table(32, 8, 1),
        )],
    );
    assert!(err_of(&p).to_string().contains("relative"));
    let p = d.path().join("plain.safetensors");
    write_st(&p, &[tf("fc.weight", "F32", &[3, 3], &table(3, 3, 1))]);
    let msg = err_of(&p).to_string();
    assert!(
        msg.contains("fc.weight") && msg.contains("--tensor"),
        "{msg}"
    );
}

// ---- rows, size ----------------------------------------------------------------------------------

#[test]
fn rows_are_validated() {
    let d = dir();
    let p = d.path().join("m.safetensors");
    write_st(&p, &[tf("wpe.weight", "F32", &[10, 4], &table(10, 4, 1))]);
    for (lo, hi) in [(5, 5), (6, 2), (0, 11)] {
        let mut r = req(&p);
        r.rows = Some((lo, hi));
        let e = compute_similarity(&r).unwrap_err();
        assert!(matches!(e, Error::BadRows { .. }), "{e}");
        assert!(e.to_string().starts_with(&format!("--rows {lo}:{hi}")));
    }
    let mut r = req(&p);
    r.rows = Some((2, 10));
    r.blocks = 3;
    let rep = compute_similarity(&r).unwrap();
    assert_eq!(rep.map.edges, vec![2, 4, 7, 10]); // 2 + floor(k·8/3)
    assert_eq!(rep.title.rows, (2, 10));
    r.blocks = 0;
    assert!(matches!(compute_similarity(&r), Err(Error::BadSize(0))));
}

// ---- sinusoidal ----------------------------------------------------------------------------------

#[test]
fn sinusoidal_matches_the_formula() {
    use trainwatch::checkpoint::sinusoidal::fairseq_table;
    for d in [8usize, 9] {
        let n = 20;
        let tab = fairseq_table(n, d).unwrap();
        assert_eq!(tab.len(), (n + 2) * d);
        let half = d / 2;
        let f = |k: usize| (-(k as f64) * (10000f64).ln() / (half as f64 - 1.0)).exp();
        for p in [0usize, 2, 3, 21] {
            for k in [0, 1, half - 1] {
                let got_sin = tab[p * d + k];
                let got_cos = tab[p * d + half + k];
                assert!((got_sin - (p as f64 * f(k)).sin()).abs() < 1e-12);
                assert!((got_cos - (p as f64 * f(k)).cos()).abs() < 1e-12);
            }
            if d % 2 == 1 {
                assert_eq!(tab[p * d + d - 1], 0.0, "odd D: zero pad");
            }
        }
        // Spot values: f_0 = 1, so row 2 starts with sin 2 and cos 2; f_{half-1} = 1e-4.
        assert!((tab[2 * d] - 2f64.sin()).abs() < 1e-15);
        assert!((tab[2 * d + half] - 2f64.cos()).abs() < 1e-15);
        assert!((tab[3 * d + half - 1] - (3e-4f64).sin()).abs() < 1e-15);
        assert!(tab[d..2 * d].iter().all(|&v| v == 0.0), "padding row");
        assert_eq!(&tab[..half], vec![0.0; half].as_slice(), "row 0: sin 0");
    }
    assert!(fairseq_table(10, 3).is_err());
    assert!(fairseq_table(0, 8).is_err());
    assert!(fairseq_table(usize::MAX, 8).is_err());
}

#[test]
fn sinusoidal_request_uses_rows_from_two() {
    let mut r = req(Path::new(""));
    r.sinusoidal = Some((30, 16));
    r.blocks = 30;
    let rep = compute_similarity(&r).unwrap();
    assert_eq!(rep.title.rows, (2, 32));
    assert_eq!(rep.title.shape, vec![32, 16]);
    assert!(rep.map.zero_rows.is_empty());
    assert!((rep.map.matrix[[0, 0]] - 1.0).abs() < 1e-12);
    r.rows = Some((0, 32));
    let rep = compute_similarity(&r).unwrap();
    assert_eq!(rep.map.zero_rows, vec![1]);
    r.sinusoidal = Some((30, 2));
    assert!(matches!(
        compute_similarity(&r),
        Err(Error::BadSinusoidal { .. })
    ));
}

// ---- sharded and directories -------------------------------------------------------------------

fn write_index(path: &Path, map: &[(&str, &str)]) {
    let wm: serde_json::Map<String, serde_json::Value> = map
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    let doc = serde_json::json!({"metadata": {"total_size": 0}, "weight_map": wm});
    std::fs::write(path, doc.to_string()).unwrap();
}

#[test]
fn sharded_checkpoint_opens_only_the_needed_shard() {
    let d = dir();
    let s1 = d.path().join("model-00001-of-00002.safetensors");
    let s2 = d.path().join("model-00002-of-00002.safetensors");
    // Shard 1 is garbage: if it were opened, the request would fail.
    std::fs::write(&s1, b"garbage garbage garbage").unwrap();
    write_st(
        &s2,
        &[tf(
            "transformer.wpe.weight",
            "F16",
            &[12, 6],
            &table(12, 6, 1),
        )],
    );
    write_index(
        &d.path().join("model.safetensors.index.json"),
        &[
            ("transformer.wte.weight", "model-00001-of-00002.safetensors"),
            ("transformer.wpe.weight", "model-00002-of-00002.safetensors"),
        ],
    );
    for path in [
        d.path().to_path_buf(),
        d.path().join("model.safetensors.index.json"),
    ] {
        let rep = compute_similarity(&req(&path)).unwrap();
        assert_eq!(rep.title.tensor, "transformer.wpe.weight");
        assert!(rep.title.file.ends_with("model-00002-of-00002.safetensors"));
        assert_eq!(rep.candidates.len(), 1);
    }
    // Asking for the tensor in the bad shard opens it, and says what is wrong with it.
    let mut r = req(d.path());
    r.tensor = Some("transformer.wte.weight".into());
    let msg = compute_similarity(&r).unwrap_err().to_string();
    assert!(msg.contains("model-00001-of-00002.safetensors"), "{msg}");
    // check_complete validates every shard.
    assert!(check_complete(d.path(), ReadMode::Mapped).is_err());
}

#[test]
fn index_cannot_point_outside_its_directory() {
    let d = dir();
    let idx = d.path().join("model.safetensors.index.json");
    write_index(&idx, &[("wpe.weight", "../elsewhere.safetensors")]);
    let e = err_of(&idx);
    assert!(matches!(e, Error::BadIndex { .. }), "{e}");
    std::fs::write(&idx, "{\"weight_map\": 3}").unwrap();
    assert!(matches!(err_of(&idx), Error::BadIndex { .. }));
}

fn set_mtime(p: &Path, secs: u64) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .unwrap();
}

#[test]
fn directory_prefers_highest_checkpoint_step_over_mtime() {
    let d = dir();
    for (step, mtime) in [(500u64, 3_000_000u64), (1000, 1_000_000), (900, 2_000_000)] {
        let sub = d.path().join(format!("checkpoint-{step}"));
        std::fs::create_dir(&sub).unwrap();
        let f = sub.join("model.safetensors");
        write_st(
            &f,
            &[tf(
                "wpe.weight",
                "F32",
                &[step as usize / 100, 4],
                &table(step as usize / 100, 4, step),
            )],
        );
        set_mtime(&f, mtime);
    }
    // An in-progress HF folder with a higher step is ignored.
    std::fs::create_dir(d.path().join("tmp-checkpoint-2000")).unwrap();
    let rep = compute_similarity(&req(d.path())).unwrap();
    assert_eq!(rep.title.step, Some(1000));
    assert_eq!(rep.title.shape, vec![10, 4]);
    assert!(rep.title.file.contains("checkpoint-1000"));
    let resolved = checkpoint::resolve(d.path()).unwrap();
    assert_eq!(resolved.step, Some(1000));
}

#[test]
fn directory_without_steps_takes_newest_safetensors() {
    let d = dir();
    let a = d.path().join("a.safetensors");
    let b = d.path().join("b.safetensors");
    write_st(&a, &[tf("wpe.weight", "F32", &[5, 4], &table(5, 4, 1))]);
    write_st(&b, &[tf("wpe.weight", "F32", &[6, 4], &table(6, 4, 1))]);
    set_mtime(&a, 2_000_000);
    set_mtime(&b, 1_000_000);
    std::fs::write(d.path().join("notes.txt"), "x").unwrap();
    let rep = compute_similarity(&req(d.path())).unwrap();
    assert_eq!(rep.title.shape, vec![5, 4]);
    set_mtime(&b, 3_000_000);
    let rep = compute_similarity(&req(d.path())).unwrap();
    assert_eq!(rep.title.shape, vec![6, 4]);
    // Step from a file name.
    let s = d.path().join("step_4200.safetensors");
    write_st(&s, &[tf("wpe.weight", "F32", &[7, 4], &table(7, 4, 1))]);
    set_mtime(&s, 4_000_000);
    let rep = compute_similarity(&req(d.path())).unwrap();
    assert_eq!(rep.title.step, Some(4200));
    // Not a regular file: refused before any open (a FIFO would block).
    assert!(matches!(
        err_of(Path::new("/dev/null")),
        Error::NotFound { .. }
    ));
    // Empty directory.
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(matches!(err_of(&empty), Error::NotFound { .. }));
}

#[test]
fn step_names() {
    use trainwatch::checkpoint::resolve::step_from_name;
    assert_eq!(step_from_name("checkpoint-500"), Some(500));
    assert_eq!(step_from_name("checkpoint_500"), Some(500));
    assert_eq!(step_from_name("step_12.safetensors"), Some(12));
    assert_eq!(step_from_name("global_step300"), Some(300));
    assert_eq!(step_from_name("iter_0001000"), Some(1000));
    assert_eq!(step_from_name("model.safetensors"), None);
    assert_eq!(
        step_from_name("tmp-checkpoint-700"),
        None,
        "HF's in-progress folder"
    );
    assert_eq!(step_from_name("model-00002-of-00002.safetensors"), None);
    assert_eq!(step_from_name("checkpoint-99999999999999999999999"), None);
}

#[test]
fn our_writer_agrees_with_the_safetensors_crate() {
    let d = dir();
    let p = d.path().join("m.safetensors");
    let vals = table(6, 5, 8);
    write_st(
        &p,
        &[
            tf("wpe.weight", "F32", &[6, 5], &vals),
            tf("b", "F16", &[3], &[1.0, 2.0, 3.0]),
        ],
    );
    let bytes = std::fs::read(&p).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("wpe.weight").unwrap().shape(), &[6, 5]);
    // And a file written by the crate opens here.
    let data = encode("F32", &vals);
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![6, 5], &data).unwrap();
    let q = d.path().join("crate.safetensors");
    safetensors::serialize_to_file([("model.decoder.embed_positions.weight", view)], None, &q)
        .unwrap();
    let rep = compute_similarity(&req(&q)).unwrap();
    assert_eq!(rep.title.tensor, "model.decoder.embed_positions.weight");
}

// ---- read modes --------------------------------------------------------------------------------

/// Positional reads (what the TUI uses, so that a checkpoint truncated in place cannot kill it
/// with SIGBUS): the same results as the memory-mapped binary, and the same errors.
#[test]
fn positional_reads_match_the_mapped_results_and_report_truncation() {
    let mut r = req(Path::new(WHISPER));
    r.blocks = 32;
    r.read = ReadMode::Positional;
    let r = compute_similarity(&r).unwrap();
    // The binary (mapped reads) on the same file.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .args(["similarity", "--json", "--size", "32", WHISPER])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for i in 0..32 {
        for j in 0..32 {
            let mapped = v["matrix"][i][j].as_f64().unwrap();
            assert!((mapped - r.map.matrix[[i, j]]).abs() < 1e-12, "({i}, {j})");
        }
    }
    // A file cut short: an incomplete checkpoint, not a crash.
    let d = dir();
    let cut = d.path().join("cut.safetensors");
    let bytes = std::fs::read(WHISPER).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut r = req(&cut);
    r.blocks = 8;
    r.read = ReadMode::Positional;
    let e = compute_similarity(&r).unwrap_err();
    assert!(e.is_incomplete(), "{e}");
}

#[test]
fn every_byte_source_gives_the_same_tensors_and_bytes() {
    let bytes = std::fs::read(WHISPER).unwrap();
    let stores = [
        SafetensorsStore::open(Path::new(WHISPER), ReadMode::Mapped).unwrap(),
        SafetensorsStore::open(Path::new(WHISPER), ReadMode::Positional).unwrap(),
        SafetensorsStore::from_bytes("whisper in memory", bytes).unwrap(),
    ];
    let first = &stores[0];
    for s in &stores {
        assert_eq!(s.format(), "safetensors");
        assert_eq!(s.tensors(), first.tensors());
        for t in s.tensors() {
            assert_eq!(s.tensor_bytes(t).unwrap(), first.tensor_bytes(t).unwrap());
        }
    }
    assert_eq!(stores[1].path(), Some(Path::new(WHISPER)));
    assert_eq!(stores[2].path(), None);
    assert_eq!(stores[2].label(), "whisper in memory");
    // A store in memory computes the same map as the file.
    let mut r = req(Path::new(""));
    r.blocks = 16;
    let from_memory = checkpoint::store_similarity(&stores[2], &r).unwrap();
    let from_file = compute_similarity(&SimilarityRequest {
        blocks: 16,
        ..req(Path::new(WHISPER))
    })
    .unwrap();
    assert_eq!(from_memory.title.tensor, from_file.title.tensor);
    assert_eq!(from_memory.title.file, "whisper in memory");
    assert_eq!(from_memory.map.matrix, from_file.map.matrix);
}

#[test]
fn a_hostile_label_is_printed_escaped() {
    let e = SafetensorsStore::from_bytes("evil\x1b[2J", b"\x01".to_vec()).unwrap_err();
    assert!(!e.to_string().chars().any(|c| c.is_control()), "{e}");
}

#[test]
fn results_can_cross_threads() {
    // The TUI computes on a worker thread and sends the report (or the error) back.
    fn send<T: Send + 'static>() {}
    send::<checkpoint::SimilarityReport>();
    send::<Error>();
    send::<SimilarityRequest>();
    let handle = std::thread::spawn(|| compute_similarity(&req(Path::new(WHISPER))));
    let report = handle.join().unwrap().unwrap();
    assert_eq!(report.map.blocks(), 64);
}

#[test]
fn crossing_search_finds_the_first_distance_below_half() {
    // A fairseq sinusoid (D = 64) decays slowly: the crossing lies in a wide bracket, so the
    // 8-way search runs more than one round.
    let (n, d) = (600, 64);
    let mut r = req(Path::new(""));
    r.sinusoidal = Some((n, d));
    let rep = compute_similarity(&r).unwrap();
    let cross = rep
        .map
        .summary
        .below_half
        .expect("a sinusoid falls below 0.5");
    let tab = checkpoint::sinusoidal::fairseq_table(n, d).unwrap();
    let rows: Vec<Vec<f64>> = tab.chunks(d).map(|c| c.to_vec()).collect();
    let cos = cosines(&rows);
    let (lo, hi) = rep.map.rows;
    assert_eq!((lo, hi), (2, n + 2));
    assert!(brute_profile(&cos, lo, hi, cross) < 0.5, "at {cross}");
    for before in 1..cross {
        assert!(
            brute_profile(&cos, lo, hi, before) >= 0.5,
            "{before} < {cross}"
        );
    }
    let bracket = rep
        .map
        .profile
        .iter()
        .find(|p| p.mean < 0.5)
        .map(|p| p.distance)
        .unwrap();
    assert!(bracket >= 16, "wide bracket expected, got {bracket}");
}
