//! Fault matrix, W&B, on the real binary: a run killed mid-write (its `.wandb` file ends in a
//! torn record), then resumed. wandb does not append to the killed run's file: `resume=` writes
//! a new run folder of the same id and repoints `wandb/latest-run` at it. The fixture
//! (`tests/fixtures/wandb/resume/`, both run folders under the names wandb gave them) was
//! written by wandb 0.31.0 with `scripts/make_wandb_resume.py`: steps 1–100, killed; resumed
//! from step 81 to 150, finished. The torn tail is made here by cutting the first file at a
//! byte offset ([`CUT`] bytes before its end, inside its last history record).
//!
//! Expected: one run (not two), its history in order — the first file's points, a restart at
//! the resume, the resumed file's points — and the torn record counted as skipped, not read as
//! data; following `wandb/latest-run` picks the resumed file up.

#[path = "common/follow.rs"]
mod follow;
use follow::Follow;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const ID: &str = "resum3id";
const FIRST: &str = "offline-run-20261201_150049-resum3id";
const RESUMED: &str = "offline-run-20261201_150103-resum3id";
/// Bytes cut off the first file's end.
const CUT: usize = 40;
/// The first file's history steps left whole by the cut.
const KEPT: u64 = 98;

fn fixture(folder: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wandb/resume")
        .join(folder)
        .join(format!("run-{ID}.wandb"));
    std::fs::read(p).unwrap()
}

/// `project/wandb/` holding the killed run's folder (its file torn), and the resumed one when
/// `resumed`; `latest-run` points at the newest.
fn project(dir: &Path, resumed: bool) -> PathBuf {
    let wandb = dir.join("wandb");
    put_run(&wandb, FIRST, &torn_first());
    if resumed {
        put_run(&wandb, RESUMED, &fixture(RESUMED));
    }
    point_latest(&wandb, if resumed { RESUMED } else { FIRST });
    wandb
}

fn torn_first() -> Vec<u8> {
    let full = fixture(FIRST);
    full[..full.len() - CUT].to_vec()
}

fn put_run(wandb: &Path, folder: &str, bytes: &[u8]) {
    std::fs::create_dir_all(wandb.join(folder)).unwrap();
    std::fs::write(wandb.join(folder).join(format!("run-{ID}.wandb")), bytes).unwrap();
}

/// Repoints `latest-run` the way wandb does: a new link, renamed over the old.
fn point_latest(wandb: &Path, folder: &str) {
    let tmp = wandb.join(".latest-run.tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(folder, &tmp).unwrap();
    std::fs::rename(&tmp, wandb.join("latest-run")).unwrap();
}

fn gnorm_json(path: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_trainwatch"))
        .arg("gnorm")
        .arg(path)
        .arg("--json")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {err}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn steps(run: &Value) -> Vec<u64> {
    run["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["step"].as_u64().unwrap())
        .collect()
}

fn expected_steps() -> Vec<u64> {
    (1..=KEPT).chain(81..=150).collect()
}

#[test]
fn killed_then_resumed_run_is_one_run_with_a_restart_at_the_resume() {
    let d = tempfile::tempdir().unwrap();
    let wandb = project(d.path(), true);
    // However the run is named: the project, `wandb/`, `latest-run`, or either file.
    for named in [
        d.path().to_path_buf(),
        wandb.clone(),
        wandb.join("latest-run"),
        wandb.join(FIRST).join(format!("run-{ID}.wandb")),
        wandb.join(RESUMED).join(format!("run-{ID}.wandb")),
    ] {
        let runs = gnorm_json(&named);
        assert_eq!(runs.len(), 1, "{}: one run, not two", named.display());
        let r = &runs[0];
        assert_eq!(steps(r), expected_steps(), "{}", named.display());
        assert_eq!(r["restarts"], 1, "{}", named.display());
        assert_eq!(
            r["skipped_lines"],
            1,
            "the torn record, {}",
            named.display()
        );
        // The resumed run finished (its exit record).
        assert_eq!(r["finished"], true);
    }
    // The killed file alone: its points, its torn tail skipped.
    let alone = d.path().join("killed.wandb");
    std::fs::write(&alone, torn_first()).unwrap();
    let r = &gnorm_json(&alone)[0];
    assert_eq!(steps(r), (1..=KEPT).collect::<Vec<_>>());
    assert_eq!(
        (r["skipped_lines"].clone(), r["restarts"].clone()),
        (1.into(), 0.into())
    );
}

#[test]
fn resumed_run_beside_another_is_one_of_two_runs() {
    let d = tempfile::tempdir().unwrap();
    let wandb = project(d.path(), true);
    let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wandb/sparse.wandb");
    let folder = wandb.join("offline-run-20261201_140000-sparse01");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(other, folder.join("run-sparse01.wandb")).unwrap();
    let runs = gnorm_json(&wandb);
    assert_eq!(runs.len(), 2, "{runs:?}");
    let resumed = runs
        .iter()
        .find(|r| r["points"].as_array().unwrap().len() > 20)
        .unwrap();
    assert_eq!(steps(resumed), expected_steps());
    assert_eq!(resumed["restarts"], 1);
}

#[test]
fn following_latest_run_picks_up_the_resumed_file() {
    let d = tempfile::tempdir().unwrap();
    let wandb = project(d.path(), false);
    let mut f = Follow::start(&wandb.join("latest-run"), &[]);
    f.until_lines(KEPT as usize);
    // The job restarts: wandb creates the new folder, then writes its file (here in two
    // pieces, the second a moment later), and repoints latest-run.
    let resumed = fixture(RESUMED);
    std::fs::create_dir_all(wandb.join(RESUMED)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let half = resumed.len() / 2;
    put_run(&wandb, RESUMED, &resumed[..half]);
    point_latest(&wandb, RESUMED);
    std::thread::sleep(Duration::from_millis(300));
    std::fs::OpenOptions::new()
        .append(true)
        .open(wandb.join(RESUMED).join(format!("run-{ID}.wandb")))
        .and_then(|mut h| std::io::Write::write_all(&mut h, &resumed[half..]))
        .unwrap();
    // Polls back off while a run is silent (at most 15 s): within that.
    f.until_lines(KEPT as usize + 1 + 70);
    let restart = &f.seen[KEPT as usize];
    assert_eq!(restart["event"], "restart", "{restart}");
    let all: Vec<u64> = f.seen.iter().filter_map(|v| v["step"].as_u64()).collect();
    assert_eq!(all, expected_steps());
    // Another run's folder appearing beside them changes nothing for this run.
    let other = wandb.join("offline-run-20261201_160000-other01");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("run-other01.wandb"), fixture(RESUMED)).unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert!(f.lines.try_recv().is_err(), "nothing more for this run");
}
