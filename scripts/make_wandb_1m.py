"""Writes a large W&B run with the real wandb package (offline mode), for `bench_wandb --file`.

usage: python scripts/make_wandb_1m.py OUT_DIR [STEPS]     (default 1 000 000 steps)
  python3 -m venv VENV && VENV/bin/pip install wandb==0.31.0   (0.31.0 made the measured file)
Logs like HF Trainer with wandb installed: every step one `wandb.log` of `train/grad_norm`,
`train/loss`, `train/learning_rate` (and `train/epoch`), with `step=`. A few minutes; prints the
`.wandb` path at the end. Keep the result out of the repository (it is ~500 MB), e.g. in
/work/cache/wandb-1m/.
"""
import math, os, sys, time, glob

out = sys.argv[1]
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
os.makedirs(out, exist_ok=True)
os.environ["WANDB_SILENT"] = "true"
import wandb

run = wandb.init(project="trainwatch-bench", name=f"hf-like-{steps}", mode="offline", dir=out,
                 config=dict(max_grad_norm=1.0, learning_rate=5e-5, num_train_epochs=1,
                             logging_steps=1, per_device_train_batch_size=8))
t0 = time.time()
warmup = max(1, steps // 100)
for step in range(1, steps + 1):
    lr = 5e-5 * min(1.0, step / warmup) * (1 - step / (steps + 1))
    loss = 2.0 / (1.0 + step / 1000.0) + 0.05 * math.sin(step * 0.7)
    gnorm = 1.0 + 0.5 * math.sin(step * 0.37) + (30.0 if step % 50_000 == 0 else 0.0)
    if step == steps // 2:
        gnorm = math.nan
    wandb.log({"train/loss": loss, "train/grad_norm": gnorm, "train/learning_rate": lr,
               "train/epoch": step / steps}, step=step)
    if step % 100_000 == 0:
        print(f"step {step} {time.time() - t0:.0f} s", flush=True)
run.finish()
print(glob.glob(os.path.join(out, "wandb", "offline-run-*", "run-*.wandb")))
