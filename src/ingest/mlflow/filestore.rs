//! An MLflow file-store run folder as one source: the metric's file (and the loss's, for the
//! column beside it) followed line by line; `params/` for the clip threshold. A metric file
//! rewritten (shorter, or replaced) is a restart: every file is read again from the start.

use super::points::{MetricFile, Point};
use crate::core::{Batch, Record, RunEnd, RunLabel, MAX_COLUMNS};
use crate::ingest::follow::RestartReason;
use crate::ingest::formats::syntax::parse_number;
use crate::ingest::formats::MetricSpec;
use crate::ingest::source::{Source, Update};
use crate::ingest::wandb::records::CLIP_KEYS;
use crate::ingest::LogFormat;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Metric keys listed at most (for the "no metric" message and the search for the metric).
const MAX_KEYS: usize = 256;

#[derive(Debug)]
pub struct FileStoreSource {
    dir: PathBuf,
    metric: MetricSpec,
    loss_column: bool,
    keys: Vec<String>,
    main: Option<MetricFile>,
    loss: Option<MetricFile>,
    /// Loss values by step not yet joined to a point of the metric.
    losses: BTreeMap<u64, f64>,
    /// The panels' metrics: record column, file (once found), values by step not yet joined.
    extras: Vec<(usize, Option<MetricFile>, BTreeMap<u64, f64>)>,
    clip_sent: bool,
    /// `meta.yaml`'s modification time and length when last read, and the end it recorded.
    meta_seen: Option<(std::time::SystemTime, u64)>,
    /// The end last handed over (sent once per change, so an ended run's looks stay empty).
    end_sent: Option<RunEnd>,
    buf: Vec<u8>,
}

/// The metric keys under `metrics/` (nested folders joined with `/`), sorted.
pub fn metric_keys(dir: &Path) -> Vec<String> {
    let root = dir.join("metrics");
    let walk = crate::fswalk::Walk {
        follow_links: false,
        max_depth: 8,
        max_entries: 4096,
        ..crate::fswalk::Walk::listing()
    };
    let mut keys: Vec<String> = walk
        .entries(&root)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.kind == crate::fswalk::EntryKind::File)
        .filter_map(|e| {
            let rel = e.path.strip_prefix(&root).ok()?;
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            Some(parts.join("/"))
        })
        .take(MAX_KEYS)
        .collect();
    keys.sort();
    keys
}

fn last_part(k: &str) -> &str {
    k.rsplit('/').next().unwrap_or(k)
}

/// The key among `keys` that names the metric: an alias whole (in alias order), else (the
/// gradient norm) an alias as the key's last part.
pub fn key_of<'a>(keys: &'a [String], metric: &MetricSpec) -> Option<&'a String> {
    let aliases: Vec<String> = metric
        .aliases
        .iter()
        .map(|a| String::from_utf8_lossy(a.bytes()).into_owned())
        .collect();
    aliases
        .iter()
        .find_map(|a| keys.iter().find(|k| *k == a))
        .or_else(|| {
            metric.is_gnorm().then(|| {
                keys.iter()
                    .find(|k| aliases.iter().any(|a| a == last_part(k)))
            })?
        })
}

fn loss_key(keys: &[String]) -> Option<&String> {
    ["loss", "train/loss"]
        .iter()
        .find_map(|a| keys.iter().find(|k| k == a))
        .or_else(|| keys.iter().find(|k| last_part(k) == "loss"))
}

/// The clip threshold the run's params declare (`max_grad_norm`, `clip_norm`, …).
pub fn clip_param(dir: &Path) -> Option<f64> {
    let params = dir.join("params");
    CLIP_KEYS.iter().find_map(|k| {
        let v = super::small_file(&params.join(k))?;
        parse_number(v.trim().as_bytes()).filter(|x| x.is_finite() && *x >= 0.0)
    })
}

impl FileStoreSource {
    pub fn new(dir: &Path, metric: &MetricSpec) -> Self {
        FileStoreSource {
            dir: dir.to_path_buf(),
            metric: metric.clone(),
            loss_column: metric.has_loss_column(),
            keys: Vec::new(),
            main: None,
            loss: None,
            losses: BTreeMap::new(),
            extras: metric
                .companions()
                .iter()
                .map(|c| (c.column, None, BTreeMap::new()))
                .collect(),
            clip_sent: false,
            meta_seen: None,
            end_sent: None,
            buf: Vec::new(),
        }
    }

    /// The run's status from `meta.yaml`, read again only when the file changed; `Some` when
    /// it changed since the last look (`Some(None)`: running again).
    fn status_change(&mut self) -> Option<Option<RunEnd>> {
        let path = self.dir.join("meta.yaml");
        let m = std::fs::metadata(&path).ok()?;
        let stamp = (m.modified().ok()?, m.len());
        if self.meta_seen == Some(stamp) {
            return None;
        }
        self.meta_seen = Some(stamp);
        let end = super::small_file(&path).and_then(|t| super::meta_status(&t));
        (end != self.end_sent).then(|| {
            self.end_sent = end;
            end
        })
    }

    fn find_files(&mut self) {
        self.keys = metric_keys(&self.dir);
        let file = |k: &String| MetricFile::new(self.dir.join("metrics").join(k));
        if self.main.is_none() {
            self.main = key_of(&self.keys, &self.metric).map(file);
        }
        if self.loss.is_none() && self.loss_column {
            self.loss = loss_key(&self.keys).map(file);
        }
        for (col, f, _) in &mut self.extras {
            if f.is_none() {
                let key = self
                    .keys
                    .iter()
                    .find(|k| self.metric.companion_column(k.as_bytes()) == Some(*col));
                *f = key.map(file);
            }
        }
    }

    fn look(&mut self, out: &mut dyn FnMut(Update)) -> io::Result<bool> {
        if !self.dir.join("metrics").is_dir() {
            return Ok(false);
        }
        let extra_missing = self.extras.iter().any(|e| e.1.is_none());
        if self.main.is_none() || (self.loss.is_none() && self.loss_column) || extra_missing {
            self.find_files();
        }
        let mut batch = Batch {
            detected: Some(LogFormat::Mlflow),
            ..Batch::with_columns(self.metric.columns())
        };
        if !self.clip_sent {
            batch.clip_declared = clip_param(&self.dir);
            self.clip_sent = true;
            // MLflow's UI names a run by its run name; the id (a UUID) only when it has none.
            let info = super::run_info(&self.dir);
            batch.label = Some(Box::new(RunLabel {
                id: info.id.filter(|_| info.name.is_none()),
                name: info.name,
            }));
        }
        // The loss first: a step's loss is then there when its metric point is read.
        let mut restarted = false;
        if let Some(f) = &mut self.loss {
            let r = f.look(&mut self.buf)?;
            restarted |= r.restarted;
            for p in r.points {
                self.losses.insert(p.step, p.value);
            }
        }
        for (_, f, values) in &mut self.extras {
            if let Some(f) = f {
                let r = f.look(&mut self.buf)?;
                restarted |= r.restarted;
                values.extend(r.points.iter().map(|p| (p.step, p.value)));
            }
        }
        let Some(main) = &mut self.main else {
            out(Update::Batch(batch));
            return Ok(true);
        };
        let r = main.look(&mut self.buf)?;
        if restarted || r.restarted {
            out(Update::Restart(RestartReason::Truncated));
            main.reset();
            if let Some(f) = &mut self.loss {
                f.reset();
            }
            self.losses.clear();
            for (_, f, values) in &mut self.extras {
                if let Some(f) = f {
                    f.reset();
                }
                values.clear();
            }
            self.clip_sent = false;
            self.meta_seen = None;
            self.end_sent = None;
            return self.look(out);
        }
        batch.skipped += r.skipped;
        batch.lines += r.points.len() as u64 + r.skipped;
        self.push_points(&mut batch, &r.points);
        // The status after the points: the last points of a finished run end it.
        if let Some(end) = self.status_change() {
            batch.ended = end;
        }
        out(Update::Batch(batch));
        Ok(true)
    }

    fn push_points(&mut self, batch: &mut Batch, points: &[Point]) {
        for p in points {
            let mut values = [None; MAX_COLUMNS];
            values[0] = Some(p.value);
            if self.loss_column {
                values[1] = self.losses.get(&p.step).copied();
            }
            for (col, _, by_step) in &self.extras {
                values[*col] = by_step.get(&p.step).copied();
            }
            batch.steps.push(Record {
                step: Some(p.step),
                frame: None,
                values,
            });
        }
        if let Some(last) = points.last() {
            // Losses at or before the last point are not needed again.
            self.losses = self.losses.split_off(&(last.step + 1));
            for (_, _, by_step) in &mut self.extras {
                *by_step = by_step.split_off(&(last.step + 1));
            }
        }
    }
}

impl Source for FileStoreSource {
    fn poll_each(&mut self, each: &mut dyn FnMut(Update)) -> io::Result<bool> {
        self.look(each)
    }

    fn names(&self) -> Vec<String> {
        if self.keys.is_empty() {
            metric_keys(&self.dir)
        } else {
            self.keys.clone()
        }
    }

    fn pending(&self) -> usize {
        self.main.as_ref().map_or(0, |m| m.pending())
    }

    fn finish(&mut self) -> Option<Batch> {
        let p = self.main.as_mut()?.finish()?;
        let mut b = Batch::with_columns(self.metric.columns());
        b.lines = 1;
        self.push_points(&mut b, &[p]);
        Some(b)
    }
}
