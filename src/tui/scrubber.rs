//! Tab 2's scrubber: the run's checkpoints in step order, and the one `[`/`]` picked (none:
//! the newest is shown and followed). Only state; the follower loads what it names.

use crate::core::CheckpointRef;
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub struct Scrubber {
    /// The run's checkpoints in step order (discovery's list, extended as new ones land).
    pub checkpoints: Vec<CheckpointRef>,
    /// The checkpoint picked with `[`/`]`; `None` follows the newest.
    pub pinned: Option<PathBuf>,
}

impl Scrubber {
    /// Where the checkpoint on screen is in the list: the pinned one, else the one whose path
    /// holds `source`, the file the map was read from (an HF `checkpoint-<step>/` folder holds
    /// its `model.safetensors`).
    pub fn position(&self, source: Option<&Path>) -> Option<usize> {
        if let Some(p) = &self.pinned {
            return self.checkpoints.iter().position(|c| &c.path == p);
        }
        let source = source?;
        self.checkpoints
            .iter()
            .enumerate()
            .filter(|(_, c)| source.starts_with(&c.path))
            .max_by_key(|(_, c)| c.path.as_os_str().len())
            .map(|(i, _)| i)
    }

    /// `[` (−1) / `]` (+1): the previous / next checkpoint; `]` past the newest follows the
    /// newest again. A note when there is nowhere to go.
    pub fn step(&mut self, delta: isize, source: Option<&Path>) -> Option<String> {
        let n = self.checkpoints.len();
        if n == 0 {
            return Some("no checkpoints listed for this run".into());
        }
        let to = self.position(source).unwrap_or(n - 1) as isize + delta;
        if to < 0 {
            return Some("this is the oldest checkpoint".into());
        }
        if to as usize >= n {
            return self.follow_newest();
        }
        self.pinned = Some(self.checkpoints[to as usize].path.clone());
        None
    }

    /// `f` (and `]` past the newest): show the newest checkpoint and follow new ones.
    pub fn follow_newest(&mut self) -> Option<String> {
        self.pinned
            .take()
            .map(|_| "following the newest checkpoint".into())
    }

    /// The follower's new list: checkpoints not known yet join, in step order (those without
    /// a step stay after the others).
    pub fn on_listed(&mut self, found: Vec<CheckpointRef>) {
        let before = self.checkpoints.len();
        for c in found {
            if !self.checkpoints.iter().any(|k| k.path == c.path) {
                self.checkpoints.push(c);
            }
        }
        if self.checkpoints.len() > before {
            self.checkpoints.sort_by_key(|c| (c.step.is_none(), c.step));
        }
    }

    /// The title's place (`checkpoint 3 of 7 · step 500`) and key hint, when the checkpoint
    /// on screen is in the list. `step` is the report's, for checkpoints listed without one.
    pub fn title(
        &self,
        source: Option<&Path>,
        step: Option<u64>,
    ) -> Option<(String, &'static str)> {
        let i = self.position(source)?;
        let n = self.checkpoints.len();
        let step = self.checkpoints[i]
            .step
            .or(step)
            .map_or(String::new(), |s| format!(" · step {s}"));
        let how = if self.pinned.is_some() {
            "  ([/]: scrub, f: follow newest)"
        } else if n > 1 {
            "  (newest, followed; [: older)"
        } else {
            ""
        };
        Some((format!("checkpoint {} of {n}{step}", i + 1), how))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ck(p: &str, step: Option<u64>) -> CheckpointRef {
        CheckpointRef {
            path: p.into(),
            step,
        }
    }

    fn run() -> Scrubber {
        Scrubber {
            checkpoints: vec![
                ck("out/checkpoint-100", Some(100)),
                ck("out/checkpoint-500", Some(500)),
                ck("out/checkpoint-1000", Some(1000)),
            ],
            pinned: None,
        }
    }

    #[test]
    fn steps_back_and_forward_then_follows_past_the_newest() {
        let mut s = run();
        let newest = Path::new("out/checkpoint-1000/model.safetensors");
        assert_eq!(s.position(Some(newest)), Some(2));
        assert_eq!(
            s.title(Some(newest), None).map(|t| t.0).as_deref(),
            Some("checkpoint 3 of 3 · step 1000")
        );
        assert_eq!(s.step(-1, Some(newest)), None);
        assert_eq!(s.pinned.as_deref(), Some(Path::new("out/checkpoint-500")));
        assert_eq!(s.step(-1, None), None);
        assert_eq!(
            s.step(-1, None).as_deref(),
            Some("this is the oldest checkpoint")
        );
        assert_eq!(s.position(None), Some(0));
        s.step(1, None);
        s.step(1, None);
        assert_eq!(s.position(None), Some(2), "pinned on the newest");
        assert_eq!(
            s.step(1, None).as_deref(),
            Some("following the newest checkpoint")
        );
        assert_eq!(s.pinned, None);
    }

    #[test]
    fn new_checkpoints_join_in_step_order() {
        let mut s = run();
        s.checkpoints.push(ck("out/checkpoint_last.pt", None));
        s.on_listed(vec![
            ck("out/checkpoint-1000", Some(1000)),
            ck("out/checkpoint-700", Some(700)),
        ]);
        let steps: Vec<_> = s.checkpoints.iter().map(|c| c.step).collect();
        assert_eq!(steps, [Some(100), Some(500), Some(700), Some(1000), None]);
    }
}
