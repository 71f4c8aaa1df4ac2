"""Writes the resumed-run W&B fixture of tests/fault_wandb.rs with the real wandb package.

usage: python scripts/make_wandb_resume.py OUT_DIR     (wandb 0.31.0 made the committed files)
  python3 -m venv VENV && VENV/bin/pip install wandb==0.31.0
First process: `wandb.init(id="resum3id", mode="offline")`, logs train/grad_norm and train/loss
at steps 1..100, then is killed (os._exit: no exit record). Second process: the same id with
`resume="allow"` — as a job restarted from its step-80 checkpoint does — logs steps 81..150 and
finishes. wandb writes the second into a *new* folder, `wandb/offline-run-<date>-resum3id/`,
and repoints `wandb/latest-run` at it. Copies both run folders' `.wandb` files, under their
folder names, into OUT_DIR/fixture/ (what tests/fixtures/wandb/resume/ holds).
"""
import os, shutil, subprocess, sys, glob, time

out = sys.argv[1]
RUN_ID = "resum3id"

def child(kind):
    os.environ["WANDB_SILENT"] = "true"
    import wandb
    args = dict(project="trainwatch-fixtures", id=RUN_ID, name="resumed-run", mode="offline",
                dir=out, config=dict(max_grad_norm=1.0, learning_rate=1e-3))
    if kind == "first":
        wandb.init(**args)
        for step in range(1, 101):
            wandb.log({"train/grad_norm": 0.5 + step / 100, "train/loss": 1.0 / step}, step=step)
        time.sleep(3)  # the writer is another process: let it write, then die
        os._exit(9)
    run = wandb.init(resume="allow", **args)
    for step in range(81, 151):
        wandb.log({"train/grad_norm": 2.0 + step / 100, "train/loss": 1.0 / step}, step=step)
    run.finish()

if len(sys.argv) > 2:
    child(sys.argv[2])
    sys.exit(0)
shutil.rmtree(os.path.join(out, "wandb"), ignore_errors=True)
os.makedirs(out, exist_ok=True)
subprocess.run([sys.executable, __file__, out, "first"])
time.sleep(1.5)  # the folder names carry the start time to the second
subprocess.run([sys.executable, __file__, out, "resumed"])
fixture = os.path.join(out, "fixture")
shutil.rmtree(fixture, ignore_errors=True)
for f in sorted(glob.glob(os.path.join(out, "wandb", "offline-run-*", f"run-{RUN_ID}.wandb"))):
    folder = os.path.basename(os.path.dirname(f))
    os.makedirs(os.path.join(fixture, folder))
    shutil.copy(f, os.path.join(fixture, folder))
    print(folder, os.path.getsize(f))
print("latest-run ->", os.readlink(os.path.join(out, "wandb", "latest-run")))
