//! Why a source started over.

/// Why the records after a restart belong to a new run of the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartReason {
    /// The file shrank, or its first bytes changed (truncated and rewritten).
    Truncated,
    /// The path now names another file (rename over it: logrotate, rsync).
    Replaced,
    /// The file was deleted and a new one created.
    Recreated,
    /// A new file appeared after the first (TensorBoard writes a new event file per run).
    NewFile,
    /// The run was resumed into a new file (W&B writes a new run folder of the same id).
    Resumed,
}

impl RestartReason {
    pub fn describe(self) -> &'static str {
        match self {
            RestartReason::Truncated => "log truncated",
            RestartReason::Replaced => "log replaced",
            RestartReason::Recreated => "log re-created",
            RestartReason::NewFile => "new event file",
            RestartReason::Resumed => "run resumed into a new file",
        }
    }

    /// What the reader does next, as the views say it after [`describe`](Self::describe).
    pub fn what_follows(self) -> &'static str {
        match self {
            RestartReason::Resumed => "reading on in it as the same run",
            _ => "reading it from the start as a new run",
        }
    }
}
