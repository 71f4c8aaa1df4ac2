//! The metrics read beside the charted one for the stacked panels of tab 1: the loss (which
//! already travels in [`super::LOSS_COLUMN`]), the learning rate under the names frameworks
//! give it, and any other logged name. Each extra metric is one record column after the loss
//! ([`super::MetricSpec::columns`]); a read with no panels extracts nothing more than before.

use super::{syntax, MetricSpec};
use super::{GNORM_ALIASES, LOSS_ALIASES};
use crate::core::{MetricKey, Role, MAX_COLUMNS};

/// The names frameworks give the learning rate (fairseq, nanoGPT, torchtune, llm.c: `lr`;
/// HF Trainer, ms-swift: `learning_rate`; Megatron: `learning rate`; HF event files and W&B:
/// `train/learning_rate`; OLMo: `optim/LR (group 0)` is not a plain key and is left out).
pub const LR_ALIASES: [&str; 7] = [
    "lr",
    "learning_rate",
    "learning rate",
    "train/learning_rate",
    "train/lr",
    "optim/lr",
    "lr-AdamW",
];

/// The panels tab 1 stacks when `--panels` does not say: the gradient norm (or `--metric`),
/// the loss and the learning rate, each where the log has it.
pub const DEFAULT_PANELS: [&str; 3] = ["gnorm", "loss", "lr"];

/// One metric read into its own column beside the charted one.
#[derive(Debug, Clone)]
pub struct Companion {
    /// Its label (`lr` for every learning-rate alias) and role.
    pub key: MetricKey,
    /// The names it goes by, tried in order.
    pub names: Vec<String>,
    /// The same, as line keys.
    pub keys: Vec<syntax::Key>,
    /// The record column it is read into.
    pub column: usize,
}

/// The label and names of a panel metric as the user names it (`lr`, `learning_rate`,
/// `grad_norm`, `ppl`).
pub fn resolve(name: &str) -> (String, Vec<String>) {
    let own = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    if name == "gnorm" || GNORM_ALIASES.contains(&name) {
        ("gnorm".into(), own(&GNORM_ALIASES))
    } else if name == "loss" || LOSS_ALIASES.contains(&name) {
        ("loss".into(), own(&LOSS_ALIASES))
    } else if Role::of(name) == Role::LearningRate || LR_ALIASES.contains(&name) {
        ("lr".into(), own(&LR_ALIASES))
    } else {
        (name.to_string(), vec![name.to_string()])
    }
}

/// The companions for `panels` beside a read of `primary` (whose own column, and the loss
/// column when `loss_column`, are taken): one column each from `first`, the primary and
/// repeats left out, at most [`MAX_COLUMNS`] columns in all.
pub fn companions(primary: &str, loss_column: bool, panels: &[String]) -> Vec<Companion> {
    let first = if loss_column { 2 } else { 1 };
    let mut out: Vec<Companion> = Vec::new();
    for p in panels {
        let (label, names) = resolve(p);
        if label == primary || (loss_column && label == "loss") {
            continue;
        }
        if out.iter().any(|c| c.key.label == label) {
            continue;
        }
        let column = first + out.len();
        if column >= MAX_COLUMNS {
            break;
        }
        let keys = names
            .iter()
            .map(|n| {
                if label == "gnorm" {
                    syntax::Key::path_suffix(n)
                } else {
                    syntax::Key::new(n)
                }
            })
            .collect();
        out.push(Companion {
            key: MetricKey::new(&label),
            names,
            keys,
            column,
        });
    }
    out
}

/// The companion a source's name (a tag, a key, a column) is, matched whole or by its last
/// `/` component (`train/learning_rate` for `learning_rate`).
pub fn column_of_name(companions: &[Companion], name: &[u8]) -> Option<usize> {
    if companions.is_empty() {
        return None;
    }
    let last = memchr::memrchr(b'/', name).map_or(name, |i| &name[i + 1..]);
    companions
        .iter()
        .find(|c| {
            c.names
                .iter()
                .any(|n| n.as_bytes() == name || n.as_bytes() == last)
        })
        .map(|c| c.column)
}

impl MetricSpec {
    /// The same metric, with tab 1's panels read beside it (`--panels`, the picker): their
    /// metrics fill the columns after the loss. The charted metric among them is left out.
    pub fn with_panels(mut self, panels: &[String]) -> Self {
        let loss_column = self.has_loss_column();
        self.companions = companions(&self.label, loss_column, panels);
        self.panels = panels.to_vec();
        self
    }

    /// The panels asked for (as named), the charted metric included where it was.
    pub fn panels(&self) -> &[String] {
        &self.panels
    }

    /// The metrics read beside the charted one for the panels.
    pub fn companions(&self) -> &[Companion] {
        &self.companions
    }

    /// The panel metrics a run keeps a series of, in the panels' order: the loss (when asked
    /// for and not the charted metric) and each companion.
    pub fn panel_keys(&self) -> Vec<MetricKey> {
        let mut out: Vec<MetricKey> = Vec::new();
        for p in &self.panels {
            let (label, _) = resolve(p);
            let read = (label == "loss" && self.has_loss_column())
                || self.companions.iter().any(|c| c.key.label == label);
            if read && label != self.label && !out.iter().any(|k| k.label == label) {
                out.push(MetricKey::new(&label));
            }
        }
        out
    }

    /// Whether reads of this metric carry the loss in [`super::LOSS_COLUMN`] (not when the
    /// loss is the charted metric: the columns after it are then the panels').
    pub fn has_loss_column(&self) -> bool {
        self.key().role != Role::Loss
    }

    /// The record column a source's name (tag, key, column) fills for a panel, if any.
    pub fn companion_column(&self, name: &[u8]) -> Option<usize> {
        column_of_name(&self.companions, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_follow_the_loss_and_skip_the_charted_metric() {
        let c = companions(
            "gnorm",
            true,
            &strings(&["gnorm", "loss", "lr", "ppl", "wps"]),
        );
        let got: Vec<(&str, usize)> = c.iter().map(|c| (&*c.key.label, c.column)).collect();
        // Four columns at most: gnorm, loss, lr, ppl.
        assert_eq!(got, [("lr", 2), ("ppl", 3)]);
        assert_eq!(c[0].key.role, Role::LearningRate);
        // Charting the loss: no loss column, the others start at column 1.
        let c = companions("loss", false, &strings(&["grad_norm", "learning_rate"]));
        let got: Vec<(&str, usize)> = c.iter().map(|c| (&*c.key.label, c.column)).collect();
        assert_eq!(got, [("gnorm", 1), ("lr", 2)]);
    }

    #[test]
    fn source_names_match_whole_or_by_last_component() {
        let c = companions("gnorm", true, &strings(&["lr"]));
        assert_eq!(column_of_name(&c, b"train/learning_rate"), Some(2));
        assert_eq!(column_of_name(&c, b"lr"), Some(2));
        assert_eq!(column_of_name(&c, b"base_lr"), None);
        assert_eq!(column_of_name(&[], b"lr"), None);
    }
}
