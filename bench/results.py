"""collect_results.py at sweep scale: `python bench/results.py` (also run by `make bench`).

Renders the 1,040-cell synthetic experiment of bench/synth.py (64 runs x 4 tasks x 4 epochs
plus 4 controls x 4 tasks) with this template, and gives every cell a log: one real inspect
log (inspect's eval() with --model none on the stand-in task of tests/inspect_logs.py,
100 samples like the example's test split, about 170 KB) copied under each cell's name into
its run's eval/logs. The copies carry no per-cell header metadata (rewriting each with
inspect's write_eval_log would take about 3 minutes); checking it is a dictionary lookup per
log.

Measured: the wall time of full `collect_results.py` processes (Python start, importing
inspect-ai and matplotlib, reading the 1,040 log headers with read_eval_log(header_only=True),
writing the CSV, the Markdown and 8 plots), median of 3; and, in this process, the time of
reading the headers alone (the script's collect()). The page cache is warm: the logs were
just written, as they are on a cluster's file system after the jobs.

The last line is `results at 1040 cells: S s` (the full-process median).
"""

from __future__ import annotations

import importlib.util
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from synth import write_experiment

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.inspect_logs import LogSpec, make_logs  # noqa: E402

SHAPE = {"runs": 64, "tasks": 4, "epochs": 4, "controls": 4}
CELLS = 1040
SAMPLES = 100


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def render(template: Path, destination: Path) -> list[dict]:
    """The synthetic experiment rendered in `destination`; its planned cells."""
    write_experiment(destination, SHAPE["runs"], SHAPE["tasks"], SHAPE["epochs"], SHAPE["controls"])
    done = subprocess.run([sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet",
                           str(template), str(destination)], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"bench: copier copy exited {done.returncode}:\n{done.stderr}")
    answers = yaml.load((destination / ".copier-answers.yml").read_text(encoding="utf-8"),
                        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    cells = [cell for run in answers["plan"]["runs"] for cell in run["cells"]]
    if len(cells) != CELLS:
        sys.exit(f"bench: the synthetic experiment has {len(cells)} cells, not {CELLS}")
    return cells


def give_every_cell_a_log(experiment: Path, cells: list[dict], work: Path) -> None:
    [log] = make_logs([LogSpec(log_dir=str(work / "logs"), cell="stand_in", metadata={},
                               right=70, partial=5, samples=SAMPLES)], work)
    timestamp = log.name.split("_", 1)[0]
    for index, cell in enumerate(cells):
        target = experiment / cell["log_dir"] / f"{timestamp}_{cell['name']}_bench{index}.eval"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, target)


def full_runs(experiment: Path, out: Path, repeats: int) -> list[float]:
    times = []
    for attempt in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(experiment / "collect_results.py"), "--out", str(out)],
                              capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"bench: collect_results.py exited {done.returncode}:\n{done.stderr}")
        progress(f"  collect_results.py {attempt + 1}/{repeats}: {times[-1]:.2f} s")
    rows = (out / "results.csv").read_text(encoding="utf-8").count("\n") - 1
    plots = len(list(out.glob("*.png")))
    if rows != CELLS or plots != 8:
        sys.exit(f"bench: collect_results.py wrote {rows} rows and {plots} plots, not {CELLS} and 8")
    return times


def headers_only(experiment: Path) -> float:
    """Seconds the script's collect() takes in this process: the header reads alone."""
    from inspect_ai.log import read_eval_log

    spec = importlib.util.spec_from_file_location("bench_collect_results", experiment / "collect_results.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    start = time.perf_counter()
    rows = module.collect(lambda path: read_eval_log(str(path), header_only=True))
    elapsed = time.perf_counter() - start
    if sum(row.outcome.status == "success" for row in rows) != CELLS:
        sys.exit("bench: not every cell read its log")
    return elapsed


def measure(template: Path, root: Path, repeats: int = 3) -> str:
    """Render, give every cell a log, time the script; the report's lines."""
    progress(f"collect_results.py on {CELLS} cells")
    experiment = root / "experiment"
    cells = render(template, experiment)
    give_every_cell_a_log(experiment, cells, root / "work")
    times = full_runs(experiment, root / "out", repeats)
    reading = headers_only(experiment)
    median = statistics.median(times)
    return "\n".join([
        f"collect_results.py at {CELLS} cells: {median:.2f} s per full process (median of {repeats}: "
        + ", ".join(f"{t:.2f}" for t in times) + f"), of which reading the {CELLS} log headers {reading:.2f} s",
        f"results at {CELLS} cells: {median:.1f} s",
    ])


def main() -> None:
    from run import run_alone  # the same snapshot of the working tree as make bench

    run_alone(measure, "results-bench-")


if __name__ == "__main__":
    main()
