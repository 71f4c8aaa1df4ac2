//! How a run ended, as its source says it (a tracker's run status, an `exit` record, a
//! framework's last line), and what a run is called by the tracker that wrote it.

/// A run's end, as its source reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunEnd {
    /// Training ran to its end (a known end line, MLflow `FINISHED`, a W&B exit code 0,
    /// `global_step == max_steps`).
    Finished,
    /// The run ended with an error (MLflow `FAILED`, a W&B exit code other than 0).
    Failed,
    /// The run was stopped from outside (MLflow `KILLED`).
    Killed,
}

impl RunEnd {
    /// As shown and written to JSON: `finished`, `failed`, `killed`.
    pub fn word(self) -> &'static str {
        match self {
            RunEnd::Finished => "finished",
            RunEnd::Failed => "failed",
            RunEnd::Killed => "killed",
        }
    }
}

/// What the tracker that wrote a run calls it: W&B's display name and run id (from the `run`
/// record), MLflow's `mlflow.runName` and run id. Control characters are stripped by the
/// source that read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunLabel {
    pub name: Option<String>,
    pub id: Option<String>,
}

impl RunLabel {
    /// `name (id)`, `name`, or `id`; `None` when neither is known.
    pub fn display(&self) -> Option<String> {
        match (&self.name, &self.id) {
            (Some(n), Some(i)) if n != i => Some(format!("{n} ({i})")),
            (Some(n), _) => Some(n.clone()),
            (None, Some(i)) => Some(i.clone()),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_shows_what_is_known() {
        let l = |n: Option<&str>, i: Option<&str>| RunLabel {
            name: n.map(Into::into),
            id: i.map(Into::into),
        };
        assert_eq!(
            l(Some("every-step"), Some("odlwprk3")).display().as_deref(),
            Some("every-step (odlwprk3)")
        );
        assert_eq!(l(Some("a"), Some("a")).display().as_deref(), Some("a"));
        assert_eq!(l(None, Some("x")).display().as_deref(), Some("x"));
        assert_eq!(l(None, None).display(), None);
        assert_eq!(RunEnd::Killed.word(), "killed");
    }
}
