//! MLflow's SQLite store (`mlflow.db`, MLflow 3's default): opened read-only (never a write
//! lock: the training job's writes are never blocked), the run's rows of the `metrics` table
//! followed by polling for rows past the highest `rowid` seen. A busy or locked database is
//! "try again at the next look", not an error. The run read is the newest (by `start_time`)
//! active run that logged the metric; its name is `runs.name`, its clip threshold a `params`
//! row (`max_grad_norm`, `clip_norm`, …).

use super::filestore::key_of;
use crate::core::{Batch, Record, RunEnd, RunLabel, MAX_COLUMNS};
use crate::ingest::follow::RestartReason;
use crate::ingest::formats::syntax::parse_number;
use crate::ingest::formats::MetricSpec;
use crate::ingest::source::{Source, Update};
use crate::ingest::wandb::records::CLIP_KEYS;
use crate::ingest::LogFormat;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// SQLite's file header.
pub const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// Rows read per look at most (the rest at the next).
const ROWS_PER_LOOK: i64 = 1 << 20;

/// Whether a file is an SQLite database (read as an MLflow store).
pub fn looks_like(_name: &str, head: &[u8]) -> bool {
    head.starts_with(SQLITE_MAGIC)
}

/// One run's metric in an `mlflow.db`.
#[derive(Debug)]
pub struct SqliteSource {
    path: PathBuf,
    metric: MetricSpec,
    loss_column: bool,
    conn: Option<Connection>,
    /// The run read: (`run_uuid`, `name`), and the metric's and the loss's keys in it.
    run: Option<(String, Option<String>)>,
    key: Option<String>,
    loss_key: Option<String>,
    last_rowid: i64,
    losses: BTreeMap<u64, f64>,
    keys: Vec<String>,
    last_error: Option<String>,
    /// The run's end last handed over (`runs.status`), sent once per change.
    end_sent: Option<RunEnd>,
}

fn busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == ErrorCode::DatabaseBusy || f.code == ErrorCode::DatabaseLocked)
}

impl SqliteSource {
    pub fn new(path: &Path, metric: &MetricSpec) -> Self {
        SqliteSource {
            path: path.to_path_buf(),
            metric: metric.clone(),
            loss_column: metric.has_loss_column(),
            conn: None,
            run: None,
            key: None,
            loss_key: None,
            last_rowid: 0,
            losses: BTreeMap::new(),
            keys: Vec::new(),
            last_error: None,
            end_sent: None,
        }
    }

    /// The run read (`run_uuid`, `runs.name`), once chosen.
    pub fn run(&self) -> Option<&(String, Option<String>)> {
        self.run.as_ref()
    }

    /// Runs `f` on the connection (opened read-only on first use; kept while it works).
    fn with_conn<T>(
        &mut self,
        f: impl FnOnce(&mut Self, &Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let conn = match self.conn.take() {
            Some(c) => c,
            None => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let c = Connection::open_with_flags(&self.path, flags)?;
                c.busy_timeout(std::time::Duration::from_millis(20))?;
                c
            }
        };
        let out = f(self, &conn);
        self.conn = Some(conn);
        out
    }

    /// Chooses the newest active run that logged the metric.
    fn choose_run(&mut self, conn: &Connection) -> rusqlite::Result<Option<f64>> {
        let metric = self.metric.clone();
        let mut runs = conn.prepare_cached(
            "SELECT run_uuid, name FROM runs WHERE lifecycle_stage IS NOT 'deleted' \
             ORDER BY start_time DESC LIMIT 1000",
        )?;
        let runs: Vec<(String, Option<String>)> = runs
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut keys_stmt =
            conn.prepare_cached("SELECT DISTINCT key FROM metrics WHERE run_uuid = ?1 LIMIT 256")?;
        let mut first_keys = None;
        for (id, name) in runs {
            let keys: Vec<String> = keys_stmt
                .query_map([&id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if let Some(k) = key_of(&keys, &metric).cloned() {
                self.loss_key = ["loss", "train/loss"]
                    .iter()
                    .find_map(|a| keys.iter().find(|k| k == a))
                    .cloned()
                    .filter(|_| self.loss_column);
                let clip = clip_of(conn, &id)?;
                self.keys = keys;
                self.key = Some(k);
                self.run = Some((id, name.map(|n| crate::text::printable(&n).into_owned())));
                return Ok(clip);
            }
            first_keys.get_or_insert(keys);
        }
        self.keys = first_keys.unwrap_or_default();
        Ok(None)
    }

    fn look(&mut self, out: &mut dyn FnMut(Update)) -> rusqlite::Result<()> {
        let mut batch = Batch {
            detected: Some(LogFormat::Mlflow),
            ..Batch::with_columns(self.metric.columns())
        };
        if self.run.is_none() {
            batch.clip_declared = self.with_conn(|s, c| s.choose_run(c))?;
            if let Some((id, name)) = &self.run {
                // The run name; the id (a UUID) only when it has none.
                batch.label = Some(Box::new(RunLabel {
                    name: name.clone(),
                    id: name
                        .is_none()
                        .then(|| crate::text::printable(id).into_owned()),
                }));
            }
        }
        let (Some((id, _)), Some(key)) = (self.run.clone(), self.key.clone()) else {
            out(Update::Batch(batch));
            return Ok(());
        };
        let loss = self.loss_key.clone().unwrap_or_default();
        self.with_conn(|s, conn| s.rows(conn, &id, &key, &loss, &mut batch, out))?;
        // The status after the rows: the last rows of a finished run end it.
        let status: Option<String> = self.with_conn(|_, conn| {
            conn.prepare_cached("SELECT status FROM runs WHERE run_uuid = ?1")?
                .query_row([&id], |r| r.get(0))
        })?;
        let end = status.as_deref().and_then(super::status_end);
        if end != self.end_sent {
            self.end_sent = end;
            batch.ended = end;
        }
        out(Update::Batch(batch));
        Ok(())
    }

    fn rows(
        &mut self,
        conn: &Connection,
        id: &str,
        key: &str,
        loss: &str,
        batch: &mut Batch,
        out: &mut dyn FnMut(Update),
    ) -> rusqlite::Result<()> {
        let max: i64 = conn.query_row("SELECT COALESCE(MAX(rowid), 0) FROM metrics", [], |r| {
            r.get(0)
        })?;
        if max < self.last_rowid {
            // Fewer rows than were read: another database now.
            self.last_rowid = 0;
            self.losses.clear();
            self.end_sent = None;
            out(Update::Restart(RestartReason::Replaced));
        }
        let mut stmt = conn.prepare_cached(
            "SELECT rowid, key, value, step, is_nan FROM metrics \
             WHERE run_uuid = ?1 AND rowid > ?2 AND (key = ?3 OR key = ?4) \
             ORDER BY rowid LIMIT ?5",
        )?;
        let mut rows = stmt.query(rusqlite::params![
            id,
            self.last_rowid,
            key,
            loss,
            ROWS_PER_LOOK
        ])?;
        while let Some(r) = rows.next()? {
            let rowid: i64 = r.get(0)?;
            let k: String = r.get(1)?;
            let value: f64 = match r.get::<_, Option<f64>>(2)? {
                Some(v) => v,
                None => r
                    .get::<_, Option<String>>(2)
                    .ok()
                    .flatten()
                    .and_then(|s| parse_number(s.as_bytes()))
                    .unwrap_or(f64::NAN),
            };
            let is_nan: bool = r.get::<_, Option<bool>>(4)?.unwrap_or(false);
            let value = if is_nan { f64::NAN } else { value };
            let step = u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0);
            self.last_rowid = rowid;
            batch.lines += 1;
            if k == key {
                let mut values = [None; MAX_COLUMNS];
                values[0] = Some(value);
                if self.loss_column {
                    values[1] = self.losses.get(&step).copied();
                }
                batch.steps.push(Record {
                    step: Some(step),
                    frame: None,
                    values,
                });
                self.losses = self.losses.split_off(&(step + 1));
            } else {
                self.losses.insert(step, value);
            }
        }
        Ok(())
    }
}

fn clip_of(conn: &Connection, run: &str) -> rusqlite::Result<Option<f64>> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM params WHERE run_uuid = ?1")?;
    let params: Vec<(String, String)> = stmt
        .query_map([run], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(CLIP_KEYS.iter().find_map(|c| {
        let (_, v) = params.iter().find(|(k, _)| k == c)?;
        parse_number(v.trim().as_bytes()).filter(|x| x.is_finite() && *x >= 0.0)
    }))
}

impl Source for SqliteSource {
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool> {
        if !self.path.is_file() {
            return Ok(false);
        }
        match self.look(each) {
            Ok(()) => self.last_error = None,
            // The writer holds the lock: look again next time.
            Err(e) if busy(&e) => {}
            Err(e) => {
                self.last_error = Some(format!("not an MLflow database ({e})"));
                self.conn = None;
            }
        }
        Ok(true)
    }

    fn names(&self) -> Vec<String> {
        self.keys.clone()
    }

    fn error(&self) -> Option<String> {
        self.last_error.clone()
    }
}
