"""collect_results.py at sweep scale: `python bench/results.py` (also run by `make bench`).

Renders the 1,040-cell synthetic experiment of bench/synth.py (64 runs x 4 tasks x 4 epochs
plus 4 controls x 4 tasks) with this template, and gives every cell a log: one of 13 real
inspect logs (inspect's eval() with --model none on the stand-in task of tests/inspect_logs.py,
100 samples like the example's test split, about 170 KB each) copied under each cell's name
into its run's eval/logs, its header's metadata the cell's (experiment, cell, fingerprint: set
with inspect's header-only write_eval_log, which collect_results.py checks). The 13 get
different samples right, picked so that accuracy grows with the epoch, the LoRA rank and the
learning rate, and the base models score lowest: the intervals, the paired tests and the
figures have something to show.

Measured: the wall time of full `collect_results.py` processes (Python start, importing
inspect-ai and matplotlib, reading the 1,040 log headers with read_eval_log(header_only=True)
and their 104,000 samples with read_eval_log_sample_summaries, the statistics, writing
results.csv, samples.csv (and samples.parquet with pyarrow), the Markdown and 8 plots),
median of 3; and, once in this process, each of those steps alone. The page cache is warm:
the logs were just written, as they are on a cluster's file system after the jobs.

The last line is `results with samples at 1040 cells: S s` (the full-process median).
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from synth import write_experiment

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.inspect_logs import LogSpec, copy_log_for, make_logs  # noqa: E402

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


# Samples answered right by each log (out of SAMPLES); the last is the base models'.
RIGHT = (30, 40, 50, 58, 65, 71, 76, 80, 84, 88, 91, 94, 25)


def variant(cell: dict, runs: list[str]) -> int:
    """Which of the logs a cell gets: better with the epoch and the run's place in the grid
    (rank and learning rate both rise along the plan's run order), the base models worst."""
    if cell["epoch"] is None:
        return len(RIGHT) - 1
    index = runs.index(cell["metadata"]["run"])
    rank, rate = divmod(index, 8)
    return min(len(RIGHT) - 2, cell["epoch"] + rank // 2 + rate // 2 + (index % 3 == 0))


def give_every_cell_a_log(experiment: Path, cells: list[dict], work: Path) -> None:
    # each log's right answers are a fixed random subset, so two logs disagree both ways
    specs = [LogSpec(log_dir=str(work / "logs"), cell=f"stand_in{index}", metadata={},
                     exact_ids=sorted(random.Random(index).sample(range(1, SAMPLES + 1), right)), partial_ids=[],
                     samples=SAMPLES)
             for index, right in enumerate(RIGHT)]
    logs = make_logs(specs, work)
    runs = list(dict.fromkeys(cell["metadata"]["run"] for cell in cells))
    for index, cell in enumerate(cells):
        log = logs[variant(cell, runs)]
        timestamp = log.name.split("_", 1)[0]
        target = experiment / cell["log_dir"] / f"{timestamp}_{cell['name']}_bench{index}.eval"
        copy_log_for(log, target, cell["metadata"])


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


def steps(experiment: Path, out: Path) -> dict[str, float]:
    """Seconds each step of the script takes, run one after the other in this process."""
    from inspect_ai.log import read_eval_log, read_eval_log_sample_summaries

    spec = importlib.util.spec_from_file_location("bench_collect_results", experiment / "collect_results.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    times = {}

    def step(name, work):
        start = time.perf_counter()
        result = work()
        times[name] = time.perf_counter() - start
        return result

    rows = step("headers", lambda: module.collect(lambda path: read_eval_log(str(path), header_only=True)))
    if sum(row.outcome.status == "success" for row in rows) != CELLS:
        sys.exit("bench: not every cell read its log")
    metrics = {task: module.choose_metric(task_rows, None) for task, task_rows in module.tasks_of(rows).items()}
    records = step("samples", lambda: module.read_samples(
        rows, metrics, lambda path: read_eval_log_sample_summaries(str(path))))
    if len(records) != CELLS * SAMPLES:
        sys.exit(f"bench: {len(records)} samples read, not {CELLS * SAMPLES}")
    step("statistics", lambda: module.analyse(rows, metrics))
    out.mkdir(parents=True, exist_ok=True)
    step("writing the samples", lambda: (
        module.write_csv([module.SAMPLE_COLUMNS, *([module.cell_number(v) for v in r] for r in records)],
                         out / "samples.csv"),
        module.write_parquet(records, out / "samples.parquet")))

    def plots():
        for name, figure in module.figures(rows, metrics).items():
            module.save(figure, out / name)
    step("plots", plots)
    return times


def measure(template: Path, root: Path, repeats: int = 3) -> str:
    """Render, give every cell a log, time the script; the report's lines."""
    progress(f"collect_results.py on {CELLS} cells")
    experiment = root / "experiment"
    cells = render(template, experiment)
    give_every_cell_a_log(experiment, cells, root / "work")
    times = full_runs(experiment, root / "out", repeats)
    parts = steps(experiment, root / "steps")
    median = statistics.median(times)
    return "\n".join([
        f"collect_results.py at {CELLS} cells of {SAMPLES} samples: {median:.2f} s per full process "
        f"(median of {repeats}: " + ", ".join(f"{t:.2f}" for t in times) + ")",
        "  its steps alone: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in parts.items()),
        f"results with samples at {CELLS} cells: {median:.1f} s",
    ])


def main() -> None:
    from run import run_alone  # the same snapshot of the working tree as make bench

    run_alone(measure, "results-bench-")


if __name__ == "__main__":
    main()
