"""Times W&B's terminal UI (LEET) reading a run, for the README's comparison.

usage: python scripts/time_leet.py RUN_DIR [SECONDS] [LOG]
Starts `wandb leet RUN_DIR` in a pseudo-terminal (160x48) and records every screen update with
its time since the start (LOG, default leet.log: lines `t=<s> <printable text>`), for SECONDS
(default 300). LEET redraws its charts as it reads; their x-axis labels (`1 91k 183k 366k`)
grow with the steps read, so the time the last label reaches the run's last step is when it
had read the whole run (its `State:` stays `Running` meanwhile).
"""
import os, pty, re, select, signal, struct, sys, time, fcntl, termios

run_dir = sys.argv[1]
limit = float(sys.argv[2]) if len(sys.argv) > 2 else 300.0
log = sys.argv[3] if len(sys.argv) > 3 else "leet.log"
wandb = os.path.join(os.path.dirname(sys.executable), "wandb")
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm-256color"
    os.execv(wandb, [wandb, "leet", run_dir])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 48, 160, 0, 0))
t0 = time.time()
ansi = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07")
with open(log, "w") as out:
    while time.time() - t0 < limit:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            break
        if not data:
            break
        text = ansi.sub(b" ", data).decode("utf-8", "replace")
        text = "".join(c if c.isprintable() else " " for c in text)
        text = re.sub(r" +", " ", text).strip()
        if text:
            out.write(f"t={time.time() - t0:.2f} {text}\n")
            out.flush()
os.kill(pid, signal.SIGTERM)
