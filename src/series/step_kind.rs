//! What a series' x positions are: training steps or record numbers.

/// Whether x positions are real training steps or record numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// The log names the step (`num_updates`, `iteration`, `step`, …).
    Step,
    /// No step in the log (HF Trainer stdout): the record's 1-based index.
    Index,
}

impl StepKind {
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Step => "step",
            StepKind::Index => "index",
        }
    }

    /// The x-axis label.
    pub fn axis_label(self) -> &'static str {
        match self {
            StepKind::Step => "step",
            StepKind::Index => "log record",
        }
    }
}
