//! A run's checkpoints as the layers above know them: where each is and the training step it
//! holds. Discovery finds them; runs keep them; views and reports name the last good one
//! before an explosion.

use std::path::PathBuf;

/// One checkpoint of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRef {
    /// The checkpoint: a file (`.safetensors`, `.pt`, `.ckpt`, an index) or an HF
    /// `checkpoint-<step>/` folder.
    pub path: PathBuf,
    /// The training step it holds, when its name (or its own metadata) says.
    pub step: Option<u64>,
}

/// The newest checkpoint saved before `step` (the one to roll back to when an explosion starts
/// at `step`); checkpoints without a known step are not candidates.
pub fn last_before(checkpoints: &[CheckpointRef], step: u64) -> Option<&CheckpointRef> {
    checkpoints
        .iter()
        .filter(|c| c.step.is_some_and(|s| s < step))
        .max_by_key(|c| c.step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_strictly_before() {
        let c = |p: &str, s: Option<u64>| CheckpointRef {
            path: p.into(),
            step: s,
        };
        let list = [
            c("a", Some(100)),
            c("b", Some(500)),
            c("last", None),
            c("d", Some(1000)),
        ];
        assert_eq!(last_before(&list, 600).map(|c| c.step), Some(Some(500)));
        assert_eq!(last_before(&list, 500).map(|c| c.step), Some(Some(100)));
        assert_eq!(last_before(&list, 100), None);
        assert_eq!(last_before(&list, 5000).map(|c| c.step), Some(Some(1000)));
    }
}
