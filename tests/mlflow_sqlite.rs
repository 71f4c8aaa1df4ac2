//! MLflow's SQLite store: `tests/fixtures/mlflow/mlflow.db`, written by the real mlflow-skinny
//! 3.17.2 (with sqlalchemy and alembic) with `tests/fixtures/mlflow/make_fixtures.py`: run
//! "clipped", params `max_grad_norm=0.5`, grad_norm every 2nd step of 20 with a NaN at step 10,
//! loss every step. Live rows and a locked database are tested on a copy, with rows written
//! the way MLflow writes them (one INSERT per point).

use rusqlite::{params, Connection};
use std::path::PathBuf;
use trainwatch::core::Record;
use trainwatch::discovery::trackers::mlflow_runs;
use trainwatch::ingest::mlflow::sqlite::SqliteSource;
use trainwatch::ingest::source::{kind_of, Source, SourceKind, Update};
use trainwatch::ingest::{MetricSpec, SourceSpec};
use trainwatch::run::read_once;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mlflow/mlflow.db")
}

fn poll(src: &mut SqliteSource, records: &mut Vec<Record>, clip: &mut Option<f64>) {
    let exists = src
        .poll_each(&mut |u| {
            if let Update::Batch(b) = u {
                records.extend(b.steps.iter());
                if b.clip_declared.is_some() {
                    *clip = b.clip_declared;
                }
            }
        })
        .unwrap();
    assert!(exists);
}

#[test]
fn the_real_store_read_only() {
    assert_eq!(kind_of(&fixture(), None), SourceKind::Mlflow);
    let before = std::fs::read(fixture()).unwrap();
    let mut src = SqliteSource::new(&fixture(), &MetricSpec::gnorm());
    let (mut r, mut clip) = (Vec::new(), None);
    poll(&mut src, &mut r, &mut clip);
    let steps: Vec<_> = r.iter().map(|x| x.step.unwrap()).collect();
    assert_eq!(steps, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    assert!(r[4].value().is_nan());
    assert_eq!(r[9].value(), 2.0);
    assert_eq!(r[0].values[1], Some(1.5));
    assert_eq!(clip, Some(0.5));
    assert_eq!(src.run().unwrap().1.as_deref(), Some("clipped"));
    assert_eq!(src.error(), None);
    // Nothing new: nothing more; the file untouched.
    poll(&mut src, &mut r, &mut clip);
    assert_eq!(r.len(), 10);
    assert_eq!(std::fs::read(fixture()).unwrap(), before);
    let run = read_once(&SourceSpec::new(fixture())).unwrap();
    assert_eq!(run.primary().len(), 10);
    // Found in its folder.
    let dir = fixture().parent().unwrap().to_path_buf();
    let found = mlflow_runs(&dir);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].source, fixture());
}

#[test]
fn new_rows_are_followed_and_a_lock_is_waited_out() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("mlflow.db");
    std::fs::copy(fixture(), &db).unwrap();
    let mut src = SqliteSource::new(&db, &MetricSpec::gnorm());
    let (mut r, mut clip) = (Vec::new(), None);
    poll(&mut src, &mut r, &mut clip);
    assert_eq!(r.len(), 10);
    let id = src.run().unwrap().0.clone();
    let w = Connection::open(&db).unwrap();
    let insert = |w: &Connection, key: &str, v: f64, step: i64| {
        w.execute(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) \
             VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            params![key, v, 1_796_121_700_000i64 + step, id, step],
        )
        .unwrap();
    };
    insert(&w, "loss", 0.125, 22);
    insert(&w, "grad_norm", 2.2, 22);
    poll(&mut src, &mut r, &mut clip);
    assert_eq!(r.len(), 11);
    assert_eq!(
        (r[10].step, r[10].value(), r[10].values[1]),
        (Some(22), 2.2, Some(0.125))
    );
    // The writer holds an exclusive lock: try again, not an error.
    w.execute_batch("BEGIN EXCLUSIVE").unwrap();
    insert(&w, "grad_norm", 2.4, 24);
    poll(&mut src, &mut r, &mut clip);
    assert_eq!(src.error(), None);
    assert_eq!(r.len(), 11);
    w.execute_batch("COMMIT").unwrap();
    poll(&mut src, &mut r, &mut clip);
    assert_eq!(r.len(), 12);
    // WAL mode (a reader never blocks the writer): rows still seen.
    w.execute_batch("PRAGMA journal_mode=WAL").unwrap();
    insert(&w, "grad_norm", 2.6, 26);
    poll(&mut src, &mut r, &mut clip);
    assert_eq!(r.last().map(|x| x.step), Some(Some(26)));
}
