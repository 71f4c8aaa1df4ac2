//! Metric names and the role each plays. The role decides what a view does with a metric
//! (a clip threshold and explosion detection for the gradient norm, the "loss before → after"
//! of an explosion for the loss) instead of comparing names in every layer.

/// What a metric is to trainwatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The gradient norm before clipping: compared with the clip threshold, explosions found.
    GradNorm,
    /// The training loss.
    Loss,
    /// The learning rate.
    LearningRate,
    /// Anything else a run logs.
    Other,
}

impl Role {
    /// The role of a metric by its label (the label `gnorm` stands for every alias of the
    /// gradient norm; the sources resolve aliases before labelling).
    pub fn of(label: &str) -> Role {
        match label {
            "gnorm" => Role::GradNorm,
            "loss" => Role::Loss,
            "lr" | "learning_rate" | "train/learning_rate" => Role::LearningRate,
            _ => Role::Other,
        }
    }
}

/// A metric as a run holds it: the label it is shown and written under, and its role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetricKey {
    pub label: String,
    pub role: Role,
}

impl MetricKey {
    pub fn new(label: &str) -> Self {
        MetricKey {
            label: label.to_string(),
            role: Role::of(label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_label() {
        assert_eq!(MetricKey::new("gnorm").role, Role::GradNorm);
        assert_eq!(MetricKey::new("loss").role, Role::Loss);
        assert_eq!(MetricKey::new("lr").role, Role::LearningRate);
        assert_eq!(MetricKey::new("train_loss_step").role, Role::Other);
        // Only the resolved label is the gradient norm: a name that merely contains it is not.
        assert_eq!(Role::of("gnorm_ema"), Role::Other);
    }
}
