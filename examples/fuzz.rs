//! A stable-Rust random-mutation fuzzer (no coverage feedback; cargo-fuzz needs nightly and
//! a network install). Seeds come from `../shared/samples/` and small generated files; each
//! execution applies 1–8 random mutations (bit flips, interesting bytes and tokens, inserted,
//! deleted, duplicated and spliced ranges, and for safetensors, numbers in the JSON header
//! replaced by absurd ones) and runs one target under `catch_unwind`. A panic is a crash: the
//! input is saved to `fuzz-crashes/` and the run fails.
//!
//! ```sh
//! cargo run --release --example fuzz -- TARGET EXECUTIONS [SEED]
//! ```
//! Targets: `lines` (every format's parser, detection, clip declarations), `framing`
//! (LineFramer under random chunking, strip_ansi), `decoder` (the decoder end to end: the same
//! records whatever the chunking), `safetensors` (open + tensor reads + similarity), `all`.
#![allow(dead_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;
use trainwatch::ingest::decoder::LogDecoder;
use trainwatch::ingest::formats::{clip::clip_declaration, detect, LineParser};
use trainwatch::ingest::framing::{strip_ansi, LineFramer, MAX_LINE};
use trainwatch::ingest::{LogFormat, MetricSpec};

pub const TARGETS: [&str; 4] = ["lines", "framing", "decoder", "safetensors"];

/// xorshift64*: deterministic per seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

const BYTES: &[u8] =
    b"\0\xff\x7f\x80\n\r\t \x1b\x07{}[]\"':,|=-+.eE0123456789nNiIaA\\/\xc3\xe2\x9b";
const TOKENS: &[&str] = &[
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e309",
    "-0",
    "0x10",
    "1e-400",
    "18446744073709551616",
    "-1",
    "99999999999999999999999",
    "1.7976931348623157e308",
    "\x1b[31m",
    "\x1b]0;t\x07",
    "\x1b]52;c;eA==\x07",
    "\x1b[",
    "\x1b]",
    "\x1bP",
    "grad_norm",
    "gnorm",
    "gnorm=",
    "grad norm: ",
    "'grad_norm': ",
    "\"gnorm\": \"",
    "| gnorm ",
    "num_updates=",
    "iteration ",
    "step: ",
    "step=",
    "{'",
    "'}",
    "| epoch 001 | ",
    " | train_inner | ",
    "clip_norm=",
    "clip_grad ....... ",
    "\r",
    "\n",
    "loss",
    "\"data_offsets\":[0,",
    "\"shape\":[",
    "\"dtype\":\"F16\"",
    "__metadata__",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "7",
    "255",
    "4096",
    "65536",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "1e3",
    "1.5",
    "99999999999999999999",
];

/// One random edit of `buf`, drawing on `others` for splices.
pub fn mutate_once(buf: &mut Vec<u8>, rng: &mut Rng, others: &[Vec<u8>]) {
    let len = buf.len();
    match rng.below(10) {
        0 if len > 0 => {
            let i = rng.below(len);
            buf[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            buf[i] = BYTES[rng.below(BYTES.len())];
        }
        2 => {
            let i = rng.below(len + 1);
            let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
            buf.splice(i..i, t.iter().copied());
        }
        3 if len > 0 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(32)).min(len);
            buf.drain(a..b);
        }
        4 if len > 0 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(64)).min(len);
            let piece = buf[a..b].to_vec();
            let at = rng.below(len + 1);
            let most = if rng.chance(20) { 2000 } else { 4 };
            let times = 1 + rng.below(most);
            for _ in 0..times {
                buf.splice(at..at, piece.iter().copied());
            }
        }
        5 if !others.is_empty() => {
            let o = &others[rng.below(others.len())];
            if !o.is_empty() {
                let a = rng.below(o.len());
                let b = (a + 1 + rng.below(128)).min(o.len());
                let at = rng.below(len + 1);
                buf.splice(at..at, o[a..b].iter().copied());
            }
        }
        6 => {
            let i = rng.below(len + 1);
            let n = 1 + rng.below(16);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            buf.splice(i..i, bytes);
        }
        7 if len > 0 => buf.truncate(rng.below(len)),
        8 => replace_number(buf, 0, len, rng),
        _ => {
            let i = rng.below(len + 1);
            buf.insert(i, BYTES[rng.below(BYTES.len())]);
        }
    }
}

/// Replaces a run of ASCII digits inside `buf[from..to]` with an interesting number.
fn replace_number(buf: &mut Vec<u8>, from: usize, to: usize, rng: &mut Rng) {
    let to = to.min(buf.len());
    if from >= to {
        return;
    }
    let start = from + rng.below(to - from);
    let Some(off) = buf[start..to].iter().position(|b| b.is_ascii_digit()) else {
        return;
    };
    let a = start + off;
    let b = a + buf[a..to].iter().take_while(|c| c.is_ascii_digit()).count();
    let n = NUMBERS[rng.below(NUMBERS.len())].as_bytes();
    buf.splice(a..b, n.iter().copied());
}

pub fn mutate(seed: &[u8], rng: &mut Rng, others: &[Vec<u8>]) -> Vec<u8> {
    let mut buf = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        mutate_once(&mut buf, rng, others);
    }
    buf
}

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/samples")
}

/// Every text sample, cut into lines (≤ 4 KiB each), plus fixtures of formats without samples.
pub fn line_seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [
        "{'loss': 1.702, 'grad_norm': 2.87, 'learning_rate': 2e-05, 'epoch': 0.16}",
        "{'loss': '4.389', 'grad_norm': '5.251', 'learning_rate': '0', 'epoch': '0.0006863'}",
        "\x1b[32mstep: 10  \x1b[33mloss: 7.1  grad_norm: 1.3\x1b[0m",
        " 12%|█▏        | 120/1000 [00:12<01:28, 9.9it/s, loss=5.3, gnorm=1.2]",
        "{\"step\": 3, \"grad_norm\": 0.5}",
        "step=1 gnorm=0.5 clip=0",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let Ok(dirs) = std::fs::read_dir(samples_dir()) else {
        return out;
    };
    for d in dirs.flatten() {
        let Ok(files) = std::fs::read_dir(d.path()) else {
            continue;
        };
        for f in files.flatten() {
            if f.path().extension().is_some_and(|e| e == "safetensors") {
                continue;
            }
            if let Ok(bytes) = std::fs::read(f.path()) {
                out.extend(
                    bytes
                        .split(|b| *b == b'\n')
                        .filter(|l| !l.is_empty() && l.len() <= 4096)
                        .map(|l| l.to_vec()),
                );
            }
        }
    }
    out
}

/// Returns whether some parser read a record from the line.
pub fn run_lines(input: &[u8]) -> bool {
    let mut read = false;
    let specs = [MetricSpec::gnorm(), MetricSpec::named("loss")];
    for spec in &specs {
        let _ = detect(input, spec);
        let _ = spec.may_match(input);
        for f in LogFormat::ALL {
            let p = LineParser::new(f, spec.clone());
            read |= matches!(
                p.parse(input),
                trainwatch::ingest::formats::Parsed::Step(_)
                    | trainwatch::ingest::formats::Parsed::Aggregate(_)
            );
            let _ = p.has_clip_field(input);
        }
    }
    let _ = clip_declaration(input);
    read
}

/// Cuts `input` at random points.
fn chunks<'a>(input: &'a [u8], rng: &mut Rng) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len().min(64));
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

/// Returns whether the input held more than one line.
pub fn run_framing(input: &[u8], rng: &mut Rng) -> bool {
    let mut whole = Vec::new();
    let mut f = LineFramer::new();
    f.push(input, |l| whole.push(l.to_vec()));
    f.finish(|l| whole.push(l.to_vec()));
    let mut pieces = Vec::new();
    let mut g = LineFramer::new();
    for c in chunks(input, rng) {
        g.push(c, |l| pieces.push(l.to_vec()));
    }
    g.finish(|l| pieces.push(l.to_vec()));
    assert_eq!(whole, pieces, "lines depend on how the bytes were cut");
    assert_eq!(f.overlong_lines(), g.overlong_lines());
    for l in &whole {
        assert!(!l.contains(&b'\n') && !l.contains(&b'\r') && !l.is_empty());
        assert!(l.len() <= MAX_LINE);
    }
    let s = strip_ansi(input);
    assert!(!s.contains(&0x1b), "ESC left after strip_ansi");
    assert!(s.len() <= input.len());
    whole.len() > 1
}

/// Returns whether the decoder found records.
pub fn run_decoder(input: &[u8], rng: &mut Rng) -> bool {
    let decode = |parts: &[&[u8]]| {
        let mut d = LogDecoder::new(MetricSpec::gnorm(), None);
        for p in parts {
            d.feed(p);
        }
        d.finish();
        let b = d.take_batch();
        // Debug text: NaN compares equal to NaN there.
        format!("{b:?}")
    };
    let whole = decode(&[input]);
    let cut = decode(&chunks(input, rng));
    assert_eq!(whole, cut, "records depend on how the bytes were cut");
    let mut model = trainwatch::run::RunData::empty(&trainwatch::ingest::SourceSpec::new("fuzz"));
    let mut d = LogDecoder::new(MetricSpec::gnorm(), None);
    d.feed(input);
    d.finish();
    model.apply(trainwatch::ingest::follow::IngestEvent::Batch(
        d.take_batch(),
    ));
    let _ = model.primary().events();
    !model.primary().is_empty()
}

// ---- safetensors ------------------------------------------------------------------------------

fn st_file(tensors: &[(&str, &str, Vec<usize>)], meta: bool) -> Vec<u8> {
    let mut header = String::from("{");
    let mut data = Vec::new();
    for (i, (name, dtype, shape)) in tensors.iter().enumerate() {
        let size: usize = match *dtype {
            "F32" | "I32" => 4,
            "F64" | "I64" => 8,
            "U8" | "I8" | "BOOL" => 1,
            _ => 2,
        };
        let n: usize = shape.iter().product::<usize>() * size;
        let begin = data.len();
        for k in 0..n {
            data.push((k * 37 + i * 11) as u8 ^ 0x3c);
        }
        if i > 0 {
            header.push(',');
        }
        header.push_str(&format!(
            "\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape:?},\"data_offsets\":[{begin},{}]}}",
            data.len()
        ));
    }
    if meta {
        header.push_str(",\"__metadata__\":{\"format\":\"pt\"}");
    }
    header.push('}');
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

pub fn safetensors_seeds() -> Vec<Vec<u8>> {
    let mut out = vec![
        st_file(&[("wpe.weight", "F32", vec![16, 8])], false),
        st_file(
            &[
                ("decoder.positional_embedding", "F16", vec![12, 6]),
                ("embeddings.position_ids", "I64", vec![1, 12]),
            ],
            true,
        ),
        st_file(
            &[
                ("model.decoder.embed_positions.weight", "BF16", vec![10, 4]),
                ("pos_embed", "F32", vec![1, 5, 4]),
                ("encoder.embed_positions._float_tensor", "F32", vec![1]),
            ],
            false,
        ),
        st_file(&[("x\u{1b}[2Jwpe.weight", "F64", vec![6, 3])], true),
    ];
    let whisper = samples_dir().join("whisper-tiny-positions/whisper_tiny_positions.safetensors");
    if let Ok(b) = std::fs::read(whisper) {
        out.push(b);
    }
    out
}

/// Header-aware mutation: mostly inside the JSON header, often its numbers.
pub fn mutate_safetensors(seed: &[u8], rng: &mut Rng, others: &[Vec<u8>]) -> Vec<u8> {
    let hlen = seed
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as usize)
        .unwrap_or(0)
        .min(seed.len().saturating_sub(8));
    let head_end = 8 + hlen;
    if seed.len() < 8 || rng.chance(8) {
        return mutate(seed, rng, others);
    }
    let mut header = seed[8..head_end].to_vec();
    let mut data = seed[head_end..].to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(4) {
            0 | 1 => {
                let l = header.len();
                replace_number(&mut header, 0, l, rng)
            }
            2 => mutate_once(&mut header, rng, &[]),
            _ if rng.chance(4) && !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = rng.next_u64() as u8;
            }
            _ => mutate_once(&mut header, rng, &[]),
        }
    }
    // Usually keep the length field honest so the JSON is what gets tested.
    let len_field = if rng.chance(6) {
        [
            0u64,
            1,
            header.len() as u64 + 1,
            (header.len() as u64).saturating_sub(1),
            100_000_001,
            u64::MAX,
            rng.next_u64(),
        ][rng.below(7)]
    } else {
        header.len() as u64
    };
    if rng.chance(10) {
        data.truncate(rng.below(data.len() + 1));
    }
    let mut out = len_field.to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(&data);
    out
}

/// Returns whether the mutated image opened (its header passed validation). Read from memory:
/// no file is written per input.
pub fn run_safetensors(input: &[u8]) -> bool {
    use trainwatch::checkpoint::{store_similarity, ReadMode, SimilarityRequest};
    use trainwatch::tensor::{SafetensorsStore, TensorStore};
    let Ok(store) = SafetensorsStore::from_bytes("fuzz input", input) else {
        return false;
    };
    for t in store.tensors() {
        let _ = t.display_name();
        let _ = store.tensor_bytes(t);
    }
    // Bounded work: few blocks, and at most 64 rows of a big table.
    let req = SimilarityRequest {
        path: Default::default(),
        tensor: None,
        rows: (input.len() > 64 << 10).then_some((0, 64)),
        blocks: 8,
        sinusoidal: None,
        read: ReadMode::Mapped,
    };
    if let Ok(r) = store_similarity(&store, &req) {
        assert!(!r.title.tensor.chars().any(|c| c.is_control()));
    }
    true
}

// ---- driver -----------------------------------------------------------------------------------

pub struct Outcome {
    pub executions: u64,
    pub crashes: u64,
    /// Inputs the target accepted (a record read, a file opened, several lines).
    pub accepted: u64,
    pub seconds: f64,
}

/// Runs `target` for `executions` inputs from `seed`. Crashing inputs go to `crash_dir`.
pub fn fuzz(target: &str, executions: u64, seed: u64, crash_dir: &Path) -> Outcome {
    let mut rng = Rng::new(seed);
    let seeds = match target {
        "safetensors" => safetensors_seeds(),
        _ => line_seeds(),
    };
    // For framing/decoder, inputs of several lines: join a few seeds.
    let started = Instant::now();
    let mut crashes = 0;
    let mut accepted = 0;
    for n in 0..executions {
        let input = match target {
            "safetensors" => {
                let s = &seeds[rng.below(seeds.len())];
                mutate_safetensors(s, &mut rng, &seeds)
            }
            "lines" => mutate(&seeds[rng.below(seeds.len())], &mut rng, &seeds),
            _ => {
                let mut joined = Vec::new();
                for _ in 0..1 + rng.below(6) {
                    joined.extend_from_slice(&seeds[rng.below(seeds.len())]);
                    joined.push([b'\n', b'\r', b'\n'][rng.below(3)]);
                }
                mutate(&joined, &mut rng, &seeds)
            }
        };
        let mut local = Rng::new(rng.next_u64());
        let r = catch_unwind(AssertUnwindSafe(|| match target {
            "lines" => run_lines(&input),
            "framing" => run_framing(&input, &mut local),
            "decoder" => run_decoder(&input, &mut local),
            "safetensors" => run_safetensors(&input),
            other => panic!("unknown target {other}"),
        }));
        if let Ok(true) = r {
            accepted += 1;
        }
        if r.is_err() {
            crashes += 1;
            let _ = std::fs::create_dir_all(crash_dir);
            let p = crash_dir.join(format!("{target}-{seed}-{n}.bin"));
            let _ = std::fs::write(&p, &input);
            eprintln!("crash saved to {}", p.display());
            if crashes >= 10 {
                break;
            }
        }
    }
    Outcome {
        executions,
        crashes,
        accepted,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: fuzz TARGET EXECUTIONS [SEED]   (targets: lines framing decoder safetensors all)";
    let (Some(target), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<u64>().ok()),
    ) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let targets: Vec<&str> = if target == "all" {
        TARGETS.to_vec()
    } else if TARGETS.contains(&target.as_str()) {
        vec![target.as_str()]
    } else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let mut failed = false;
    for t in targets {
        let o = fuzz(t, n, seed, Path::new("fuzz-crashes"));
        println!(
            "{t}: {} executions in {:.1} s ({:.0}/s), {} accepted, {} crashes",
            o.executions,
            o.seconds,
            o.executions as f64 / o.seconds.max(1e-9),
            o.accepted,
            o.crashes
        );
        failed |= o.crashes > 0;
    }
    if failed {
        std::process::exit(1);
    }
}
