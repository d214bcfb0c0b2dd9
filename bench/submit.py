"""submit_evals.sh at sweep scale: `python bench/submit.py` (also run by `make bench`).

Renders the 1,040-cell synthetic experiment of bench/synth.py (64 runs x 4 tasks x 4 epochs
plus 4 controls x 4 tasks) with this template and times one plain `./submit_evals.sh` pass
while every one of the 64 runs is still training: 1,024 cells are chained to their run's
fine-tuning job and the 16 base-model cells go out now. `sbatch`, `squeue` and `sacctmgr` are
recorders on PATH (this machine has no cluster): squeue lists the 64 training jobs, as a
real one would, sbatch hands out job ids, sacctmgr says accounting is off (no job limit), and
each logs its calls. The wall time includes the 1,040 sbatch recorder processes (a small
bash script each), so it is an upper bound on the script's own work; a `--dry-run` pass
first (the same pass without sbatch) measures that work alone.

The last line is `squeue calls at 1040 cells: N`; the target is N <= 2.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from results import CELLS, progress, render

# squeue prints the 64 training jobs in the --format it is asked for; no real squeue here.
SQUEUE = """#!{python}
import os, re, sys
state = os.environ["RECORD_DIR"]
with open(os.path.join(state, "calls"), "a") as calls:
    calls.write("squeue\\n")
form = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--format=")][0]
experiment = os.environ["BENCH_EXPERIMENT"]
for number, line in enumerate(open(os.path.join(state, "training"))):
    run = line.strip()
    job = {{"i": 500 + number, "T": "RUNNING", "r": "None", "E": "(null)", "j": run,
            "Z": os.path.join(experiment, run), "o": os.path.join(experiment, run, "finetune.slurm")}}
    print(re.sub(r"%([a-zA-Z])", lambda m: str(job[m.group(1)]), form))
"""

SBATCH = """#!/bin/bash
echo sbatch >>"$RECORD_DIR/calls"
id=$(($(cat "$RECORD_DIR/next_id" 2>/dev/null || echo 1000) + 1))
echo "$id" >"$RECORD_DIR/next_id"
echo "$id"
"""

SACCTMGR = """#!/bin/bash
echo sacctmgr >>"$RECORD_DIR/calls"
echo "sacctmgr: error: You are not running a supported accounting_storage plugin" >&2
exit 1
"""


def recorders(directory: Path) -> Path:
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in (("squeue", SQUEUE.format(python=sys.executable)), ("sbatch", SBATCH), ("sacctmgr", SACCTMGR)):
        path = bin_dir / name
        path.write_text(body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def measure(template: Path, root: Path) -> str:
    """Render, start every run's stand-in training, time one pass; the report's lines."""
    progress(f"submit_evals.sh on {CELLS} cells, every run still training")
    experiment = root / "experiment"
    cells = render(template, experiment)
    state = root / "state"
    state.mkdir()
    runs = sorted({cell["log_dir"].split("/")[0] for cell in cells})
    trained = [run for run in runs if (experiment / run / "setup_finetune.yaml").exists()]
    (state / "training").write_text("".join(f"{run}\n" for run in trained))
    env = {**os.environ, "PATH": f"{recorders(root)}:{os.environ['PATH']}", "RECORD_DIR": str(state),
           "BENCH_EXPERIMENT": str(experiment.resolve())}
    start = time.perf_counter()
    dry = subprocess.run([str(experiment / "submit_evals.sh"), "--dry-run"], env=env, capture_output=True, text=True)
    dry_elapsed = time.perf_counter() - start
    if dry.returncode != 0:
        sys.exit(f"bench: submit_evals.sh --dry-run exited {dry.returncode}:\n{dry.stderr[-2000:]}")
    (state / "calls").unlink()
    start = time.perf_counter()
    done = subprocess.run([str(experiment / "submit_evals.sh")], env=env, capture_output=True, text=True, cwd=root)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench: submit_evals.sh exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    calls = (state / "calls").read_text().split()
    summary = done.stdout.splitlines()[-1]
    chained = sum(line.startswith("chained") for line in done.stdout.splitlines())
    if calls.count("sbatch") != CELLS or chained != CELLS - 16:
        sys.exit(f"bench: {calls.count('sbatch')} sbatch calls and {chained} chained cells, "
                 f"not {CELLS} and {CELLS - 16}:\n{summary}")
    return "\n".join([
        f"submit_evals.sh at {CELLS} cells ({len(trained)} runs training): {elapsed:.2f} s for one pass, "
        f"{calls.count('sbatch')} sbatch calls, {calls.count('sacctmgr')} sacctmgr calls; {summary}",
        f"the same pass as --dry-run (no sbatch, the script's own work): {dry_elapsed:.2f} s",
        f"squeue calls at {CELLS} cells: {calls.count('squeue')}",
    ])


def main() -> None:
    from run import run_alone  # the same snapshot of the working tree as make bench

    run_alone(measure, "submit-bench-")


if __name__ == "__main__":
    main()
