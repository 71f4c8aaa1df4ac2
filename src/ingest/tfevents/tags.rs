//! Which event-file tags are the metric, and which the loss.

use crate::ingest::formats::MetricSpec;

/// Which tag names the metric: the aliases, exactly or as the tag's last path component
/// (`train/grad_norm`, `train_inner/gnorm`, `train/gnorm`).
#[derive(Debug, Clone)]
pub struct TagMatcher {
    names: Vec<Vec<u8>>,
    loss: Vec<Vec<u8>>,
    is_loss: bool,
    /// For the panels' metrics (columns after the loss).
    pub(super) metric: MetricSpec,
}

impl TagMatcher {
    pub fn new(metric: &MetricSpec) -> Self {
        TagMatcher {
            names: metric.aliases.iter().map(|k| k.bytes().to_vec()).collect(),
            loss: [b"loss".to_vec(), b"train/loss".to_vec()].to_vec(),
            is_loss: metric.label == "loss",
            metric: metric.clone(),
        }
    }

    fn matches_any(names: &[Vec<u8>], tag: &[u8]) -> bool {
        let last = match memchr::memrchr(b'/', tag) {
            Some(i) => &tag[i + 1..],
            None => tag,
        };
        names.iter().any(|n| n == tag || n == last)
    }

    pub fn matches(&self, tag: &[u8]) -> bool {
        Self::matches_any(&self.names, tag)
    }

    pub(super) fn is_loss_tag(&self, tag: &[u8]) -> bool {
        !self.is_loss && Self::matches_any(&self.loss, tag)
    }
}
