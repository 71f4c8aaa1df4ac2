//! A resumed W&B run is one run in several files. `wandb.init(id=ID, resume=…)` (a job
//! restarted from a checkpoint) does not append to the killed run's file: it writes a *new*
//! run folder, `wandb/run-<date>_<time>-ID/run-ID.wandb` (`offline-run-…` offline), beside the
//! old one, and repoints `wandb/latest-run` at it (checked with wandb 0.31.0, see
//! `scripts/make_wandb_resume.py`). The run's files ([`segments`]) are its run folders with
//! the same id in the same `wandb/` folder, oldest first by the start time in their names.

use std::path::{Path, PathBuf};

/// Run folders looked at at most in one `wandb/` folder.
const MAX_FOLDERS: usize = 4096;

/// A W&B run folder's name (`run-<date>_<time>-<id>`, `offline-run-…`) split into its start
/// time and its run id; a folder named `run-<id>` has no time.
pub fn folder_parts(name: &str) -> Option<(&str, &str)> {
    let stem = name.strip_prefix("offline-").unwrap_or(name);
    let rest = stem.strip_prefix("run-")?;
    Some(match rest.rsplit_once('-') {
        Some((date, id)) => (date, id),
        None => ("", rest),
    })
    .filter(|(_, id)| !id.is_empty())
}

/// The run `file` is a part of: `(wandb folder, run id)` when `file` is `run-<id>.wandb` in a
/// run folder of that id.
fn run_of(file: &Path) -> Option<(&Path, String)> {
    let folder = file.parent()?;
    let (_, id) = folder_parts(folder.file_name()?.to_str()?)?;
    let named = file.file_name()?.to_str()? == format!("run-{id}.wandb");
    named.then(|| (folder.parent().unwrap_or(Path::new(".")), id.to_string()))
}

/// The files of the run `file` belongs to, oldest first (`file` among them): every run folder
/// of its id in its `wandb/` folder that holds `run-<id>.wandb`. Just `file` when it is not in
/// a run folder, or when the folder cannot be listed.
pub fn segments(file: &Path) -> Vec<PathBuf> {
    listing(file).0
}

/// [`segments`], and the run folders of the id whose `run-<id>.wandb` is not there yet (wandb
/// creates the folder first): the run is listed again when one of them gets it.
pub fn listing(file: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let alone = || (vec![file.to_path_buf()], Vec::new());
    let Some((wandb, id)) = run_of(file) else {
        return alone();
    };
    let Ok(rd) = std::fs::read_dir(wandb) else {
        return alone();
    };
    let own = format!("run-{id}.wandb");
    let mut found: Vec<(String, PathBuf)> = rd
        .filter_map(Result::ok)
        .take(MAX_FOLDERS)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let (date, their) = folder_parts(&name)?;
            (their == id).then(|| (format!("{date}\0{name}"), e.path().join(&own)))
        })
        .collect();
    found.sort();
    let (mut files, awaiting): (Vec<PathBuf>, Vec<PathBuf>) =
        found.into_iter().map(|(_, p)| p).partition(|p| p.is_file());
    if !files.iter().any(|p| p == file) {
        // Not there yet (a followed file not created yet): it is the run's newest.
        files.push(file.to_path_buf());
    }
    let awaiting = awaiting.into_iter().filter(|p| p != file).collect();
    (files, awaiting)
}

/// When the `wandb/` folder `file`'s run folder is in last changed (a new run folder in it
/// changes it): the file's segments are listed again only then.
pub fn listing_stamp(file: &Path) -> Option<std::time::SystemTime> {
    let (wandb, _) = run_of(file)?;
    std::fs::metadata(wandb).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_split_into_time_and_id() {
        assert_eq!(
            folder_parts("offline-run-20261201_150049-resum3id"),
            Some(("20261201_150049", "resum3id"))
        );
        assert_eq!(
            folder_parts("run-20261201_150049-abc"),
            Some(("20261201_150049", "abc"))
        );
        assert_eq!(folder_parts("run-abc"), Some(("", "abc")));
        assert_eq!(folder_parts("latest-run"), None);
        assert_eq!(folder_parts("run-"), None);
    }

    #[test]
    fn a_resumed_run_is_its_folders_oldest_first() {
        let d = tempfile::tempdir().unwrap();
        let mk = |folder: &str, file: &str| {
            let dir = d.path().join(folder);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(file), b":W&B").unwrap();
            dir.join(file)
        };
        let later = mk("offline-run-20261201_150103-abc", "run-abc.wandb");
        let first = mk("offline-run-20261201_150049-abc", "run-abc.wandb");
        mk("offline-run-20261201_150050-other", "run-other.wandb");
        mk("offline-run-20261201_150051-abc", "run-xyz.wandb");
        assert_eq!(segments(&later), [first.clone(), later.clone()]);
        assert_eq!(segments(&first), [first.clone(), later]);
        let loose = d.path().join("killed.wandb");
        assert_eq!(segments(&loose), [loose]);
    }
}
