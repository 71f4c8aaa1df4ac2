//! `trainwatch demo`: a simulated training run that writes, through the file system exactly
//! like a real job, a fairseq `simple` log and HF-style `checkpoint-<step>/` folders holding a
//! safetensors position table. The normal TUI then watches those files, so the demo exercises
//! the same ingestion, notify and reload paths as real use.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Positions and width of the simulated learned position table.
pub const POSITIONS: usize = 128;
pub const DIM: usize = 64;
/// fairseq adds `padding_idx + 1` rows to learned tables: rows 0–1 are unused, row 1 zeros.
const OFFSET: usize = 2;

/// The simulated run's knobs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub dir: PathBuf,
    pub steps_per_sec: f64,
    /// A checkpoint every this many steps.
    pub checkpoint_every: u64,
    pub clip: f64,
    pub seed: u64,
    /// Stop after this many steps (`None`: until stopped).
    pub max_steps: Option<u64>,
}

impl SimConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x5eed, |d| d.as_nanos() as u64);
        SimConfig {
            dir: dir.into(),
            steps_per_sec: 20.0,
            checkpoint_every: 100,
            clip: 1.0,
            seed,
            max_steps: None,
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("train.log")
    }

    pub fn checkpoint_dir(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }
}

/// A small, seedable generator (splitmix64): the demo needs noise, not cryptography.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-12);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// The training dynamics: a high, falling gradient norm with noise, a few genuine explosions
/// at unpredictable steps (the loss jumps with them), a falling loss, warm-up then inverse
/// square-root learning rate.
#[derive(Debug, Clone)]
pub struct Dynamics {
    rng: Rng,
    /// Steps left in the current explosion, and its size.
    burst: Option<(u32, f64)>,
    loss_bump: f64,
}

/// One simulated update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Update {
    pub step: u64,
    pub loss: f64,
    pub gnorm: f64,
    pub lr: f64,
}

impl Dynamics {
    pub fn new(seed: u64) -> Self {
        Dynamics {
            rng: Rng::new(seed),
            burst: None,
            loss_bump: 0.0,
        }
    }

    pub fn step(&mut self, step: u64) -> Update {
        let s = step as f64;
        let base = 0.35 + 3.0 * (-s / 120.0).exp() + 0.25 * (-s / 2000.0).exp();
        let noise = (0.12 * self.rng.normal()).exp();
        let mut gnorm = base * noise;
        // Explosions: rare, after warm-up, lasting 1–3 updates, 6–40× the baseline.
        if self.burst.is_none() && step > 150 && self.rng.uniform() < 1.0 / 350.0 {
            let len = 1 + (self.rng.next_u64() % 3) as u32;
            let size = 6.0 + 34.0 * self.rng.uniform();
            self.burst = Some((len, size));
            self.loss_bump += 0.4 + 0.8 * self.rng.uniform();
        }
        if let Some((left, size)) = self.burst {
            gnorm *= size * (0.7 + 0.3 * self.rng.uniform());
            self.burst = (left > 1).then_some((left - 1, size));
        }
        self.loss_bump *= 0.97;
        let loss = 2.1 + 7.5 * (-s / 400.0).exp() + 0.05 * self.rng.normal() + self.loss_bump;
        let warmup = 200.0;
        let lr = 5e-4 * (s / warmup).min((warmup / s.max(1.0)).sqrt());
        Update {
            step,
            loss,
            gnorm,
            lr,
        }
    }
}

/// The learned position table at `step`: it drifts from random initialisation toward a
/// smooth, distance-decaying structure, like real learned positions.
pub fn position_table(step: u64, seed: u64) -> Vec<f32> {
    let rows = POSITIONS + OFFSET;
    let mut rng = Rng::new(seed ^ 0xA5A5_5A5A);
    let a = 1.0 - (-(step as f64) / 1500.0).exp();
    let mut out = vec![0f32; rows * DIM];
    for r in 0..rows {
        for k in 0..DIM {
            let noise = 0.02 * rng.normal();
            if r == 1 {
                continue; // padding row: zeros
            }
            let p = r.saturating_sub(OFFSET) as f64;
            // Smooth features of the position at several wavelengths.
            let wavelength = 6.0 * (1.1f64).powi(k as i32 / 2);
            let phase = if k % 2 == 0 { 0.0 } else { 1.3 };
            let structured = (p / wavelength * std::f64::consts::TAU + phase).sin() * 0.02;
            out[r * DIM + k] = ((1.0 - a) * noise + a * structured) as f32;
        }
    }
    out
}

/// Writes a safetensors file with one F32 tensor, as a training job would: straight to its
/// final name, in pieces (so a reader can see it half-written).
pub fn write_checkpoint(
    path: &Path,
    name: &str,
    rows: usize,
    cols: usize,
    data: &[f32],
    step: u64,
) -> io::Result<()> {
    let bytes = rows * cols * 4;
    let header = format!(
        "{{\"__metadata__\":{{\"format\":\"pt\",\"step\":\"{step}\"}},\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{rows},{cols}],\"data_offsets\":[0,{bytes}]}}}}"
    );
    let mut header = header.into_bytes();
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut f = File::create(path)?;
    f.write_all(&(header.len() as u64).to_le_bytes())?;
    f.write_all(&header)?;
    let mut payload = Vec::with_capacity(bytes);
    for v in data {
        payload.extend_from_slice(&v.to_le_bytes());
    }
    for chunk in payload.chunks(16 << 10) {
        f.write_all(chunk)?;
        f.flush()?;
        std::thread::sleep(Duration::from_millis(2));
    }
    f.sync_all()
}

/// Runs the simulated job until `stop` is set (or `max_steps`).
pub fn simulate(cfg: &SimConfig, stop: &AtomicBool) -> io::Result<()> {
    fs::create_dir_all(cfg.checkpoint_dir())?;
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(cfg.log_path())?;
    let t = |s: &str| format!("2026-11-26 12:00:00 | INFO | {s}");
    writeln!(
        log,
        "{}",
        t("fairseq_cli.train | trainwatch demo: SIMULATED training run (no GPU, no model)")
    )?;
    writeln!(log, "{}", t(&format!("fairseq_cli.train | Namespace(arch='transformer', clip_norm={}, lr=[0.0005], max_source_positions={POSITIONS}, encoder_learned_pos=True, log_format='simple', log_interval=1)", cfg.clip)))?;
    writeln!(log, "{}", t(&format!("fairseq_cli.train | (embed_positions): LearnedPositionalEmbedding({}, {DIM}, padding_idx=1)", POSITIONS + OFFSET)))?;
    log.flush()?;
    let mut dynamics = Dynamics::new(cfg.seed);
    let period = Duration::from_secs_f64(1.0 / cfg.steps_per_sec.max(0.1));
    let steps_per_epoch = 250;
    let mut epoch_gnorm = 0.0;
    let mut step = 0u64;
    while !stop.load(Ordering::Relaxed) {
        step += 1;
        if cfg.max_steps.is_some_and(|m| step > m) {
            break;
        }
        let u = dynamics.step(step);
        let epoch = (step - 1) / steps_per_epoch + 1;
        let in_epoch = (step - 1) % steps_per_epoch + 1;
        let clipped = if u.gnorm > cfg.clip { 100 } else { 0 };
        epoch_gnorm += u.gnorm;
        writeln!(
            log,
            "{}",
            t(&format!(
                "train_inner | epoch {epoch:03}: {in_epoch:>6} / {steps_per_epoch} loss={:.3}, nll_loss={:.3}, ppl={:.2}, wps=52100, ups={:.2}, wpb=4096, bsz=128, num_updates={step}, lr={:.3e}, gnorm={:.3}, clip={clipped}, loss_scale=64, train_wall=1, wall={}",
                u.loss,
                u.loss * 0.9,
                2f64.powf(u.loss * 0.9),
                cfg.steps_per_sec,
                u.lr,
                u.gnorm,
                step / cfg.steps_per_sec.max(0.1) as u64
            ))
        )?;
        if in_epoch == steps_per_epoch {
            writeln!(log, "{}", t(&format!("train | epoch {epoch:03} | loss {:.3} | num_updates {step} | lr {:.3e} | gnorm {:.3} | clip 0 | wall 0", u.loss, u.lr, epoch_gnorm / steps_per_epoch as f64)))?;
            writeln!(log, "{}", t(&format!("valid | epoch {epoch:03} | valid on 'valid' subset | loss {:.3} | num_updates {step}", u.loss + 0.2)))?;
            epoch_gnorm = 0.0;
        }
        log.flush()?;
        if step.is_multiple_of(cfg.checkpoint_every) {
            let dir = cfg.checkpoint_dir().join(format!("checkpoint-{step}"));
            fs::create_dir_all(&dir)?;
            let table = position_table(step, cfg.seed);
            write_checkpoint(
                &dir.join("model.safetensors"),
                "encoder.embed_positions.weight",
                POSITIONS + OFFSET,
                DIM,
                &table,
                step,
            )?;
            writeln!(log, "{}", t(&format!("fairseq.checkpoint_utils | Saved checkpoint {} (epoch {epoch} @ {step} updates)", dir.display())))?;
        }
        std::thread::sleep(period);
    }
    Ok(())
}

/// Starts [`simulate`] on a thread.
pub fn spawn(
    cfg: SimConfig,
    stop: Arc<AtomicBool>,
) -> io::Result<std::thread::JoinHandle<io::Result<()>>> {
    std::thread::Builder::new()
        .name("trainwatch-demo".into())
        .spawn(move || simulate(&cfg, &stop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamics_fall_and_explode_sometimes() {
        let mut d = Dynamics::new(7);
        let ups: Vec<Update> = (1..=5000).map(|s| d.step(s)).collect();
        let early: f64 = ups[..20].iter().map(|u| u.gnorm).sum::<f64>() / 20.0;
        let late_median = {
            let mut v: Vec<f64> = ups[4000..].iter().map(|u| u.gnorm).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        assert!(
            early > 2.0 * late_median,
            "gnorm should start high and fall"
        );
        let spikes = ups
            .iter()
            .filter(|u| u.step > 150 && u.gnorm > 5.0 * late_median)
            .count();
        assert!(spikes >= 3, "a few explosions in 5000 steps, got {spikes}");
        assert!(ups[4999].loss < ups[0].loss);
    }

    #[test]
    fn simulated_log_is_read_as_fairseq_with_its_clip() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = SimConfig::new(dir.path());
        cfg.steps_per_sec = 100_000.0;
        cfg.max_steps = Some(600);
        cfg.checkpoint_every = 300;
        simulate(&cfg, &AtomicBool::new(false)).unwrap();
        let m = crate::run::read_once(&crate::ingest::SourceSpec::new(cfg.log_path())).unwrap();
        assert_eq!(m.format, Some(crate::ingest::LogFormat::FairseqSimple));
        assert_eq!(m.steps.len(), 600);
        assert_eq!(m.clip(), (Some(1.0), crate::run::ClipSource::Log));
        assert_eq!(m.epochs.len(), 2);
        assert!(cfg
            .checkpoint_dir()
            .join("checkpoint-600/model.safetensors")
            .exists());
    }
}

/// What `trainwatch demo` was asked for.
#[cfg(feature = "tui")]
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Keep the files here; `None`: a temporary directory removed on exit.
    pub dir: Option<PathBuf>,
    pub steps_per_sec: f64,
    pub color: crate::tui::ColorChoice,
}

/// Starts the simulated run and watches it in the TUI until the user quits.
#[cfg(feature = "tui")]
pub fn run(opts: DemoOptions) -> anyhow::Result<()> {
    use anyhow::Context;
    let (dir, _temp) = match &opts.dir {
        Some(d) => {
            fs::create_dir_all(d)
                .with_context(|| format!("creating {}", crate::text::printable_path(d)))?;
            (d.clone(), None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("trainwatch-demo-")
                .tempdir()
                .context("creating a temporary directory")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let mut cfg = SimConfig::new(&dir);
    cfg.steps_per_sec = opts.steps_per_sec;
    let stop = Arc::new(AtomicBool::new(false));
    let sim = spawn(cfg.clone(), stop.clone()).context("starting the simulated run")?;
    let kept = if opts.dir.is_some() {
        "kept"
    } else {
        "removed on exit"
    };
    let panels = crate::ingest::formats::panels::DEFAULT_PANELS.map(String::from);
    let mut log = crate::ingest::SourceSpec::new(cfg.log_path()).with_panels(&panels);
    log.format = None;
    let tui = crate::tui::TuiOptions {
        log,
        poll: Duration::from_millis(500),
        color: opts.color,
        banner: Some(format!(
            " SIMULATED DATA · trainwatch demo: a fake training run writes to {} ({kept}) ",
            crate::text::printable_path(&dir)
        )),
        checkpoint: Some(cfg.checkpoint_dir()),
        runs: Vec::new(),
        sweep: None,
        // The follower lists them as the simulated run writes them.
        checkpoints: Vec::new(),
    };
    // A panic (the terminal closed under a print) must still stop the writer and remove the
    // folder: caught here, it takes the same way out as an error.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| crate::tui::run(tui)))
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the live view failed")));
    stop.store(true, Ordering::Relaxed);
    match sim.join() {
        Ok(Err(e)) if result.is_ok() => return Err(e).context("the simulated run failed"),
        _ => {}
    }
    result
}
