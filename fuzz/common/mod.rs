//! What the fuzz targets share: cutting an input the way a live follower may see it arrive,
//! comparing batches bit for bit, and feeding a file to a real [`Source`] as it grows.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use trainwatch::core::{Batch, Records};
use trainwatch::ingest::source::{self, Update};
use trainwatch::ingest::SourceSpec;

/// Deterministic cut points drawn from the input itself (the same input always cuts the same
/// way, so a crash reproduces).
pub fn cuts(data: &[u8]) -> Vec<usize> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data.iter().take(64) {
        h = (h ^ *b as u64).wrapping_mul(0x100_0000_01b3);
    }
    h ^= data.len() as u64;
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        h ^= h >> 12;
        h ^= h << 25;
        h ^= h >> 27;
        let step = 1 + (h.wrapping_mul(0x2545_F491_4F6C_DD1D) % 97) as usize;
        at = (at + step).min(data.len());
        out.push(at);
    }
    out
}

/// `data` cut at [`cuts`].
pub fn pieces(data: &[u8]) -> Vec<&[u8]> {
    pieces_at_most(data, usize::MAX)
}

/// `data` cut at the first `n - 1` of [`cuts`] (file sources: each piece is a write and a look).
pub fn pieces_at_most(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut from = 0;
    let all = cuts(data);
    let every = all.len().div_ceil(n.max(1)).max(1);
    for (i, to) in all.into_iter().enumerate() {
        if (i + 1) % every != 0 && to != data.len() {
            continue;
        }
        out.push(&data[from..to]);
        from = to;
    }
    out
}

/// A record as bits: NaN equals NaN, -0 differs from 0.
pub type RecordBits = (Option<u64>, [Option<u64>; 4]);

pub fn bits(r: &Records) -> Vec<RecordBits> {
    r.iter()
        .map(|x| (x.step, x.values.map(|v| v.map(f64::to_bits))))
        .collect()
}

/// Everything a batch says, comparable.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub steps: Vec<RecordBits>,
    pub aggregates: Vec<RecordBits>,
    pub skipped: u64,
    pub lines: u64,
    pub restarts: u64,
}

impl Summary {
    pub fn add(&mut self, b: &Batch) {
        self.steps.extend(bits(&b.steps));
        self.aggregates.extend(bits(&b.aggregates));
        self.skipped += b.skipped;
        self.lines += b.lines;
    }

    /// The records as the reducer applies them: a loss-only record (the loss logged after its
    /// step's metric record went out in an earlier batch) joins that record.
    pub fn settled(&self) -> Summary {
        let mut steps: Vec<RecordBits> = Vec::with_capacity(self.steps.len());
        for r in &self.steps {
            if r.1[0].is_none() && r.1[1].is_some() {
                if let Some(last) = steps.last_mut() {
                    if last.0 == r.0 && last.1[1].is_none() {
                        last.1[1] = r.1[1];
                    }
                }
                continue;
            }
            steps.push(*r);
        }
        Summary {
            steps,
            aggregates: self.aggregates.clone(),
            ..*self
        }
    }
}

/// A directory of this process's own (its subfolders are emptied for each input).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        // libFuzzer ends the process with exit(): nothing is dropped. The folder is named by
        // the process id, and those of processes that are gone are removed here.
        if let Ok(entries) = std::fs::read_dir(&base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("trainwatch-fuzz-") {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let d = base.join(format!("trainwatch-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("a scratch directory");
        d
    })
}

/// An empty directory `scratch()/name`.
pub fn fresh_dir(name: &str) -> PathBuf {
    let d = scratch().join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch directory");
    d
}

/// Reads `path` with the source the registry picks for it; `steps` are the appends made
/// before each look (an empty list: the file is read once, as it is).
pub fn poll_source(path: &Path, spec: &SourceSpec, appends: &[&[u8]]) -> Summary {
    let kind = source::kind_of(path, spec.format);
    let mut src = kind.open(spec);
    let mut sum = Summary::default();
    let take = |u: Update, sum: &mut Summary| match u {
        Update::Batch(b) => sum.add(&b),
        Update::Restart(_) => sum.restarts += 1,
        Update::Progress { .. } => {}
    };
    for a in appends {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .expect("scratch file");
        f.write_all(a).expect("scratch write");
        drop(f);
        let _ = src.poll_each(&mut |u| take(u, &mut sum));
    }
    let _ = src.poll_each(&mut |u| take(u, &mut sum));
    if let Some(b) = src.finish() {
        sum.add(&b);
    }
    if src.pending() > 0 {
        sum.skipped += 1;
    }
    let _ = src.names();
    let _ = src.error();
    sum
}

/// [`bits`] of loose records.
pub fn bits_of(r: &[trainwatch::core::Record]) -> Vec<RecordBits> {
    r.iter()
        .map(|x| (x.step, x.values.map(|v| v.map(f64::to_bits))))
        .collect()
}

/// What must hold of any store that opened: each tensor's bytes are `shape × dtype` long and
/// the same when read twice; the similarity map of the chosen table (at most 64 rows, 8
/// blocks: bounded work) is the same bits twice; nothing printable holds a control character.
pub fn check_store(store: &dyn trainwatch::tensor::TensorStore) {
    use trainwatch::checkpoint::{store_similarity, ReadMode, SimilarityRequest};
    for t in store.tensors() {
        assert!(!t.display_name().chars().any(|c| c.is_control()));
        let numel = t.shape.iter().try_fold(1usize, |a, d| a.checked_mul(*d));
        let a = store.tensor_bytes(t);
        if let Ok(a) = &a {
            let want = numel
                .and_then(|n| n.checked_mul(t.dtype.bits() as usize))
                .map(|b| b.div_ceil(8));
            assert_eq!(Some(a.len()), want, "{}: bytes of the wrong length", t.name);
            let b = store.tensor_bytes(t).expect("read once, not twice");
            assert!(a.as_ref() == b.as_ref(), "{}: two reads differ", t.name);
        }
    }
    let _ = store.meta();
    let req = |rows| SimilarityRequest {
        path: Default::default(),
        tensor: None,
        rows,
        blocks: 8,
        sinusoidal: None,
        read: ReadMode::Mapped,
    };
    let mut r = store_similarity(store, &req(None));
    if let Ok(rep) = &r {
        if rep.title.shape.first().is_some_and(|n| *n > 64) {
            r = store_similarity(store, &req(Some((0, 64))));
        }
    }
    if let Ok(a) = r {
        let again = store_similarity(store, &req(Some(a.map.rows))).expect("computed once");
        let bits = |m: &trainwatch::checkpoint::SimilarityMap| -> Vec<u64> {
            m.matrix.iter().map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(&a.map), bits(&again.map), "the map differs when computed twice");
        for s in [&a.title.tensor, &a.title.file, &a.title.dtype] {
            assert!(!s.chars().any(|c| c.is_control()));
        }
        for s in &a.explanation {
            assert!(!s.chars().any(|c| c.is_control()));
        }
    }
}
