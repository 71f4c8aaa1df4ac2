//! MLflow runs as a live source. The file store: a run folder `mlruns/<exp>/<run>/` holds one
//! append-only file per metric, `metrics/<key>` (a key with `/` is a nested path), one
//! `<timestamp_ms> <value> <step>` line per point (a point logged with a dataset carries two
//! more fields); `params/<name>` holds one value each, `tags/mlflow.runName` the run's name.
//! A run folder is one source whose metrics are its files ([`filestore`]). The SQLite store
//! (`mlflow.db`) is read read-only ([`sqlite`]).

pub mod filestore;
pub mod points;
pub mod sqlite;

pub use filestore::FileStoreSource;

use crate::core::RunEnd;
use crate::ingest::formats::MetricSpec;
use crate::ingest::source::Source;
use std::path::Path;

/// Whether `dir` is an MLflow file-store run folder: `meta.yaml` beside a `metrics/` folder.
pub fn is_run_dir(dir: &Path) -> bool {
    dir.join("metrics").is_dir() && dir.join("meta.yaml").is_file()
}

/// Whether a file is an MLflow SQLite store (file-store runs are folders).
pub fn looks_like(name: &str, head: &[u8]) -> bool {
    sqlite::looks_like(name, head)
}

/// Opens an MLflow run: a file-store run folder, or an `mlflow.db`.
pub fn open(path: &Path, metric: &MetricSpec) -> Box<dyn Source> {
    if path.is_dir() {
        Box::new(FileStoreSource::new(path, metric))
    } else {
        Box::new(sqlite::SqliteSource::new(path, metric))
    }
}

/// What a run folder says about its run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunInfo {
    /// The run's id: the folder's name.
    pub id: Option<String>,
    /// `tags/mlflow.runName`.
    pub name: Option<String>,
}

/// The id and name of the run in `dir` (control characters stripped from the name).
pub fn run_info(dir: &Path) -> RunInfo {
    let name = small_file(&dir.join("tags").join("mlflow.runName"))
        .map(|s| crate::text::printable(s.trim()).into_owned())
        .filter(|s| !s.is_empty());
    RunInfo {
        id: dir.file_name().map(|n| n.to_string_lossy().into_owned()),
        name,
    }
}

/// The end a run status names: MLflow's `RunStatus` as the file store writes it in
/// `meta.yaml` (`status: 3`) or the SQLite store in `runs.status` (`FINISHED`). `RUNNING`
/// and `SCHEDULED`: not ended.
pub fn status_end(status: &str) -> Option<RunEnd> {
    match status.trim().trim_matches(|c| c == '\'' || c == '"') {
        "3" | "FINISHED" => Some(RunEnd::Finished),
        "4" | "FAILED" => Some(RunEnd::Failed),
        "5" | "KILLED" => Some(RunEnd::Killed),
        _ => None,
    }
}

/// The end `meta.yaml` of a file-store run folder records (its top-level `status:` line).
pub fn meta_status(meta_yaml: &str) -> Option<RunEnd> {
    meta_yaml
        .lines()
        .find_map(|l| l.strip_prefix("status:"))
        .and_then(status_end)
}

/// A small text file (a tag or a param: at most 64 KiB read).
pub fn small_file(path: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut s = Vec::new();
    f.take(64 << 10).read_to_end(&mut s).ok()?;
    Some(String::from_utf8_lossy(&s).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_status_as_both_stores_write_it() {
        // meta.yaml of ../shared/samples/mlflow-filestore (mlflow-skinny 3.17.2) says
        // `status: 3`; MLflow's RunStatus: RUNNING 1, SCHEDULED 2, FINISHED 3, FAILED 4,
        // KILLED 5; the SQLite store writes the names.
        let meta = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/mlflow-filestore/mlruns/453133224139511400/",
            "36153c248699462fa33acf0b70deae5b/meta.yaml"
        ))
        .unwrap();
        assert_eq!(meta_status(&meta), Some(RunEnd::Finished));
        assert_eq!(status_end("FAILED"), Some(RunEnd::Failed));
        assert_eq!(status_end(" 5"), Some(RunEnd::Killed));
        assert_eq!(status_end("4"), Some(RunEnd::Failed));
        assert_eq!(status_end("RUNNING"), None);
        assert_eq!(status_end("1"), None);
    }
}
