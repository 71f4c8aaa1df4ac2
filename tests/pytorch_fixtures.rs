//! The PyTorch reader against real `torch.save` files: the fixtures in
//! `tests/fixtures/pytorch/` (written by `make.py` there with torch 2.15, omegaconf and
//! Lightning; `expected/*.json` holds every value torch reads back) and the two PyTorch
//! samples in `../shared/samples/` (a fairseq 0.12 checkpoint and an HF GPT-2
//! `pytorch_model.bin`; float64 sums from `MANIFEST.md`, byte hashes from `make.py`).
//! Every comparison is exact: the same bits torch reads.

use std::path::{Path, PathBuf};

use serde_json::Value;
use trainwatch::checkpoint::{compute_similarity, list_candidates, ReadMode, SimilarityRequest};
use trainwatch::tensor::{open_store, Dtype, StoreMeta, TensorStore};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pytorch")
        .join(name)
}

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/samples")
        .join(rel)
}

fn expected(name: &str) -> Value {
    let p = fixture("expected").join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

/// The tensor's values as f64 (exact for the four float types).
fn decode(bytes: &[u8], dtype: Dtype) -> Vec<f64> {
    match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f64())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f64())
            .collect(),
        other => panic!("not a float dtype: {other}"),
    }
}

/// Every tensor torch read back is in the store, with its dtype, shape and exact values —
/// in both read modes.
fn assert_matches_torch(store: &dyn TensorStore, exp: &Value) {
    let tensors = exp["tensors"].as_object().unwrap();
    assert_eq!(store.tensors().len(), tensors.len(), "{}", store.label());
    for (name, want) in tensors {
        let t = store
            .tensor(name)
            .unwrap_or_else(|| panic!("{}: no tensor {name}", store.label()));
        assert_eq!(t.dtype.name(), want["dtype"].as_str().unwrap(), "{name}");
        let shape: Vec<usize> = want["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(t.shape, shape, "{name}");
        let got = decode(&store.tensor_bytes(t).unwrap(), t.dtype);
        let want: Vec<f64> = want["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(got.len(), want.len(), "{name}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.to_bits(), w.to_bits(), "{name}[{i}]: {g} vs torch's {w}");
        }
    }
}

fn check_fixture(file: &str) -> Box<dyn TensorStore> {
    let exp = expected(file);
    for mode in [ReadMode::Positional, ReadMode::Mapped] {
        let store = open_store(&fixture(file), mode).unwrap();
        assert_eq!(store.format(), "PyTorch");
        assert_matches_torch(store.as_ref(), &exp);
    }
    open_store(&fixture(file), ReadMode::Mapped).unwrap()
}

#[test]
fn f32_f16_bf16_f64_tables_equal_torchs() {
    // make.py: one state dict holding each dtype (zip layout).
    check_fixture("dtypes.pt");
}

#[test]
fn big_endian_storages_are_swapped() {
    // make.py: dtypes.pt rewritten as a big-endian machine writes it (byteorder "big",
    // every storage byte-swapped); torch.load reads it back equal to dtypes.pt.
    check_fixture("dtypes-big-endian.pt");
}

#[test]
fn a_real_modules_state_dict_with_metadata_reads() {
    // make.py: ModuleDict(Embedding, LayerNorm).state_dict() — an OrderedDict whose
    // `_metadata` comes in a BUILD.
    check_fixture("state_dict.bin");
}

#[test]
fn the_legacy_layout_reads_with_its_views() {
    // make.py: torch.save(..., _use_new_zipfile_serialization=False), with a transposed view
    // and an offset view of one storage.
    check_fixture("legacy.pt");
}

#[test]
fn strided_and_shared_views_are_gathered() {
    // make.py: a transpose, a stepped column slice, a row slice and the whole, one storage.
    let store = check_fixture("views.pt");
    let storages: Vec<usize> = store.tensors().iter().map(|t| t.extent.storage).collect();
    assert!(storages.iter().all(|&s| s == storages[0]), "{storages:?}");
}

#[test]
fn a_whole_pickled_module_reads_by_its_state_dict_names() {
    // make.py: torch.save(nn.Sequential(nn.Embedding(6, 4))): module classes are inert.
    check_fixture("whole_module.pt");
}

#[test]
fn fairseq_args_namespace_gives_step_and_sinusoidal_dims() {
    // make.py: `args` is an argparse.Namespace, no position table, optimizer_history.
    let store = check_fixture("fairseq_namespace.pt");
    assert_eq!(
        store.meta(),
        StoreMeta {
            step: Some(4321),
            max_source_positions: Some(1024),
            max_target_positions: Some(512),
            encoder_embed_dim: Some(16),
        }
    );
    // Only the model's tensors: the optimizer state beside it is not a candidate.
    assert!(store.tensor("encoder.embed_tokens.weight").is_some());
}

#[test]
fn fairseq_omegaconf_cfg_gives_step_and_dims() {
    // make.py: `cfg` is a real omegaconf DictConfig; extra_state holds num_updates.
    let store = check_fixture("fairseq_omegaconf.pt");
    assert_eq!(
        store.meta(),
        StoreMeta {
            step: Some(77),
            max_source_positions: Some(256),
            max_target_positions: Some(128),
            encoder_embed_dim: Some(32),
        }
    );
}

#[test]
fn a_lightning_checkpoint_gives_its_state_dict_and_global_step() {
    // make.py: a real LightningModule trained 7 steps, trainer.save_checkpoint (its
    // hyper-parameters and loop state are inert objects and plain data).
    let store = check_fixture("lightning.ckpt");
    let exp = expected("lightning.ckpt");
    assert_eq!(store.meta().step, exp["step"].as_u64());
    assert_eq!(store.meta().step, Some(7));
}

#[test]
fn a_sharded_torch_index_opens_its_shards() {
    // make.py: pytorch_model.bin.index.json and two .bin shards.
    let list = list_candidates(&fixture("sharded"), ReadMode::Mapped).unwrap();
    assert_eq!(list.candidates[0].name, "transformer.wpe.weight");
    let exp = expected("sharded");
    for shard in [
        "pytorch_model-00001-of-00002.bin",
        "pytorch_model-00002-of-00002.bin",
    ] {
        let store = open_store(&fixture("sharded").join(shard), ReadMode::Mapped).unwrap();
        for t in store.tensors() {
            let want = &exp["tensors"][&t.name]["values"];
            let got = decode(&store.tensor_bytes(t).unwrap(), t.dtype);
            let want: Vec<f64> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(got, want, "{}", t.name);
        }
    }
}

fn fnv1a64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[test]
fn the_shared_samples_equal_torchs_tables_bit_for_bit() {
    let exp = expected("shared_samples");
    for (key, want) in exp.as_object().unwrap() {
        let (rel, name) = key.split_once(':').unwrap();
        for mode in [ReadMode::Mapped, ReadMode::Positional] {
            let store = open_store(&sample(rel), mode).unwrap();
            let t = store.tensor(name).unwrap();
            let bytes = store.tensor_bytes(t).unwrap();
            assert_eq!(fnv1a64(&bytes), want["fnv1a64"].as_str().unwrap(), "{key}");
            let sum: f64 = decode(&bytes, t.dtype).iter().sum();
            let manifest = want["sum"].as_f64().unwrap();
            assert!((sum - manifest).abs() < 1e-9, "{key}: {sum} vs {manifest}");
        }
    }
}

#[test]
fn the_shared_samples_have_their_manifest_tables() {
    // MANIFEST.md: fairseq → model → {encoder,decoder}.embed_positions.weight F32 [66, 64];
    // GPT-2 → transformer.wpe.weight F32 [256, 64]; lm_head shares wte's storage.
    let fairseq = sample("pytorch-fairseq-learned/checkpoint_last.pt");
    let list = list_candidates(&fairseq, ReadMode::Mapped).unwrap();
    let names: Vec<&str> = list.candidates.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "decoder.embed_positions.weight",
            "encoder.embed_positions.weight"
        ]
    );
    let store = open_store(&fairseq, ReadMode::Mapped).unwrap();
    assert_eq!(store.meta().step, Some(40), "fairseq's num_updates");
    let gpt2 = open_store(
        &sample("pytorch-hf-gpt2-bin/pytorch_model.bin"),
        ReadMode::Mapped,
    )
    .unwrap();
    let wte = gpt2.tensor("transformer.wte.weight").unwrap();
    let head = gpt2.tensor("lm_head.weight").unwrap();
    assert_eq!(wte.extent, head.extent);
    assert_eq!(
        gpt2.tensor("transformer.wpe.weight").unwrap().shape,
        [256, 64]
    );
}

#[test]
fn similarity_of_a_pt_file_works_and_takes_the_step_from_metadata() {
    let req = SimilarityRequest {
        path: sample("pytorch-fairseq-learned/checkpoint_last.pt"),
        tensor: Some("encoder.embed_positions.weight".into()),
        rows: None,
        blocks: 16,
        sinusoidal: None,
        read: ReadMode::Positional,
    };
    let report = compute_similarity(&req).unwrap();
    assert_eq!(report.title.shape, [66, 64]);
    assert_eq!(report.title.step, Some(40));
}

#[test]
fn every_prefix_of_a_real_file_is_an_error_never_a_panic() {
    // A checkpoint caught half-written, in both layouts: the legacy stream (storages inline,
    // each with its u64 count) and the zip archive (directory at the end).
    for file in ["legacy.pt", "views.pt"] {
        let whole = std::fs::read(fixture(file)).unwrap();
        for cut in 0..whole.len() {
            let r = trainwatch::tensor::PytorchStore::from_bytes(file, whole[..cut].to_vec());
            assert!(r.is_err(), "{file} cut at {cut}");
        }
        // A legacy storage count raised past the file: an error naming the storage.
        if file == "legacy.pt" {
            // The last storage's count is the u64 whose elements (2 or 4 bytes) end the file.
            let len = whole.len();
            let at = (8..len - 8)
                .find(|&p| {
                    let n = u64::from_le_bytes(whole[p..p + 8].try_into().unwrap());
                    [2u64, 4]
                        .iter()
                        .any(|es| n > 0 && n < 1 << 20 && (p + 8) as u64 + n * es == len as u64)
                })
                .unwrap();
            let mut bad = whole.clone();
            bad[at..at + 8].copy_from_slice(&(u64::MAX / 16).to_le_bytes());
            let e = trainwatch::tensor::PytorchStore::from_bytes(file, bad).unwrap_err();
            assert!(
                e.to_string()
                    .contains("more than the rest of the file holds"),
                "{e}"
            );
        }
    }
}
