//! A run's checkpoints, wherever training left them in the run folder (the same walk as the
//! sources: up to four folders deep):
//! - Hugging Face `checkpoint-<step>/` folders under any `output_dir` (DeepSpeed's
//!   `global_step<N>/`, `step_<N>/`, `iter_<N>/` alike; `tmp-checkpoint-*` is not finished);
//! - fairseq `checkpoint_<epoch>_<update>.pt` (step = update), `checkpoint<epoch>.pt`,
//!   `checkpoint_last.pt`, `checkpoint_best.pt`;
//! - Lightning `…/checkpoints/epoch=E-step=S.ckpt` (step = S);
//! - `*.safetensors`, `*.pt`, `*.pth`, `*.ckpt`, `pytorch_model*.bin`, and the sharded indexes
//!   `model.safetensors.index.json` / `pytorch_model.bin.index.json`.
//!
//! Files inside a step folder belong to that folder's checkpoint. A PyTorch file whose name
//! gives no step (`_last`, `_best`, epoch-numbered) takes the one its own metadata holds. The
//! list is ordered by step; checkpoints with none follow, by time.

use crate::checkpoint::resolve::step_from_name;
use crate::core::CheckpointRef;
use crate::fswalk::{Entry, EntryKind, Walk};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The checkpoints among a run folder's walked entries.
pub fn from_entries(entries: &[Entry]) -> Vec<CheckpointRef> {
    let step_dirs: Vec<(&Entry, u64)> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Dir)
        .filter_map(|e| step_dir(&e.name).map(|s| (e, s)))
        .collect();
    let in_step_dir = |p: &Path| step_dirs.iter().any(|(d, _)| p.starts_with(&d.path));
    let mut found: Vec<(CheckpointRef, SystemTime)> = step_dirs
        .iter()
        .filter(|(d, _)| holds_weights(&d.path))
        .map(|(d, s)| (checkpoint(d.path.clone(), Some(*s)), d.modified()))
        .collect();
    for e in entries.iter().filter(|e| e.kind == EntryKind::File) {
        if in_step_dir(&e.path) || !is_checkpoint_file(&e.name) {
            continue;
        }
        // A sharded checkpoint is its index, not its shards.
        if is_shard(&e.name) {
            continue;
        }
        let step = file_step(&e.name).or_else(|| metadata_step(&e.path));
        found.push((checkpoint(e.path.clone(), step), e.modified()));
    }
    found.sort_by(|(a, ta), (b, tb)| {
        (a.step.is_none(), a.step, ta, &a.path).cmp(&(b.step.is_none(), b.step, tb, &b.path))
    });
    found.into_iter().map(|(c, _)| c).collect()
}

/// The checkpoints `--checkpoint PATH` names: a file, or every checkpoint in a folder.
pub fn at(path: &Path) -> Vec<CheckpointRef> {
    if path.is_dir() {
        if let Some(s) = step_dir(&name_of(path)) {
            return vec![checkpoint(path.to_path_buf(), Some(s))];
        }
        return from_entries(&Walk::run_folder().entries(path).unwrap_or_default());
    }
    let step = file_step(&name_of(path)).or_else(|| metadata_step(path));
    vec![checkpoint(path.to_path_buf(), step)]
}

/// The folder tab 2 follows for these checkpoints: the one holding the newest, where new ones
/// will land (`out/` for `out/checkpoint-*`).
pub fn watch_dir(found: &[CheckpointRef]) -> Option<PathBuf> {
    found
        .iter()
        .rfind(|c| c.step.is_some())
        .or(found.last())
        .and_then(|c| c.path.parent().map(Path::to_path_buf))
}

/// The step a PyTorch checkpoint whose name gives none (`checkpoint_last.pt`,
/// `checkpoint_best.pt`, `checkpoint12.pt`) holds in its own metadata: fairseq's
/// `optimizer_history`/`extra_state` `num_updates`, Lightning's `global_step`. Only the
/// object pickle is read (the storages stay on disk); an unreadable file has none.
fn metadata_step(path: &Path) -> Option<u64> {
    if !crate::tensor::is_pytorch(path) {
        return None;
    }
    crate::tensor::open_store(path, crate::tensor::ReadMode::Positional)
        .ok()?
        .meta()
        .step
}

fn checkpoint(path: PathBuf, step: Option<u64>) -> CheckpointRef {
    CheckpointRef { path, step }
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `checkpoint-500`, `global_step500`, `step_500`, `iter_0001000` (not `tmp-checkpoint-500`).
pub(super) fn step_dir(name: &str) -> Option<u64> {
    step_from_name(name)
}

/// Whether a step folder holds weights (HF writes `checkpoint-N/` with `model.safetensors` or
/// `pytorch_model.bin`; DeepSpeed's `global_stepN/` holds `*_model_states.pt`).
fn holds_weights(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.filter_map(Result::ok)
            .any(|e| is_checkpoint_file(&e.file_name().to_string_lossy()))
    })
}

fn is_checkpoint_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".safetensors")
        || lower.ends_with(".pt")
        || lower.ends_with(".pth")
        || lower.ends_with(".ckpt")
        || (lower.starts_with("pytorch_model") && lower.ends_with(".bin"))
        || lower.ends_with(".safetensors.index.json")
        || lower == "pytorch_model.bin.index.json"
}

/// `model-00001-of-00003.safetensors`, `pytorch_model-00001-of-00002.bin`.
fn is_shard(name: &str) -> bool {
    name.contains("-of-") && !name.ends_with(".json")
}

/// The step a checkpoint file's name gives.
fn file_step(name: &str) -> Option<u64> {
    let stem = name
        .rsplit_once('.')
        .map_or(name, |(s, _)| s)
        .trim_end_matches(".safetensors");
    // Lightning: `epoch=3-step=1200`.
    if let Some(at) = stem.find("step=") {
        let digits: String = stem[at + 5..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        return digits.parse().ok();
    }
    // fairseq: `checkpoint_<epoch>_<update>`; `checkpoint<epoch>` numbers epochs, not steps.
    if let Some(rest) = stem.strip_prefix("checkpoint_") {
        if let Some((e, u)) = rest.split_once('_') {
            if e.chars().all(|c| c.is_ascii_digit()) && u.chars().all(|c| c.is_ascii_digit()) {
                return u.parse().ok();
            }
        }
        return rest.parse().ok();
    }
    if stem.starts_with("checkpoint") {
        return None;
    }
    step_from_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_from_framework_names() {
        assert_eq!(file_step("checkpoint_3_1200.pt"), Some(1200));
        assert_eq!(file_step("checkpoint12.pt"), None);
        assert_eq!(file_step("checkpoint_last.pt"), None);
        assert_eq!(file_step("checkpoint_best.pt"), None);
        assert_eq!(file_step("epoch=3-step=1200.ckpt"), Some(1200));
        assert_eq!(file_step("step_500.safetensors"), Some(500));
        assert_eq!(file_step("model.safetensors"), None);
        assert_eq!(step_dir("checkpoint-500"), Some(500));
        assert_eq!(step_dir("tmp-checkpoint-500"), None);
        assert!(is_checkpoint_file("pytorch_model.bin"));
        assert!(!is_checkpoint_file("train.bin"));
        assert!(is_shard("model-00001-of-00003.safetensors"));
    }

    #[test]
    fn nested_hf_checkpoints_in_step_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for s in [1000, 100, 500] {
            let d = root.join(format!("out/checkpoint-{s}"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("model.safetensors"), b"x").unwrap();
            std::fs::write(d.join("trainer_state.json"), b"{}").unwrap();
        }
        // Not finished, and not a checkpoint: left out.
        std::fs::create_dir_all(root.join("out/tmp-checkpoint-1500")).unwrap();
        std::fs::create_dir_all(root.join("out/checkpoint-2000")).unwrap();
        let lt = root.join("lightning_logs/version_0/checkpoints");
        std::fs::create_dir_all(&lt).unwrap();
        std::fs::write(lt.join("epoch=0-step=50.ckpt"), b"x").unwrap();
        std::fs::write(root.join("checkpoint_last.pt"), b"x").unwrap();
        let found = from_entries(&Walk::run_folder().entries(root).unwrap());
        let steps: Vec<_> = found.iter().map(|c| c.step).collect();
        assert_eq!(steps, [Some(50), Some(100), Some(500), Some(1000), None]);
        assert!(found[3].path.ends_with("out/checkpoint-1000"));
        assert_eq!(watch_dir(&found), Some(root.join("out")));
    }

    #[test]
    fn last_and_best_take_the_step_their_metadata_holds() {
        // The real fairseq 0.12 checkpoint of ../shared/samples (40 updates).
        let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/samples/pytorch-fairseq-learned/checkpoint_last.pt");
        let dir = tempfile::tempdir().unwrap();
        let ckpts = dir.path().join("checkpoints");
        std::fs::create_dir_all(&ckpts).unwrap();
        std::fs::copy(&real, ckpts.join("checkpoint_last.pt")).unwrap();
        std::fs::write(ckpts.join("checkpoint_best.pt"), b"not a pickle").unwrap();
        let found = from_entries(&Walk::run_folder().entries(dir.path()).unwrap());
        let last = found
            .iter()
            .find(|c| c.path.ends_with("checkpoint_last.pt"));
        assert_eq!(last.map(|c| c.step), Some(Some(40)));
        let best = found
            .iter()
            .find(|c| c.path.ends_with("checkpoint_best.pt"));
        assert_eq!(
            best.map(|c| c.step),
            Some(None),
            "unreadable: no step, ordered by time"
        );
        assert_eq!(at(&ckpts.join("checkpoint_last.pt"))[0].step, Some(40));
    }
}
