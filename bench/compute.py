"""compute.csv at sweep scale: `python bench/compute.py`.

Renders bench/synth.py's 1,040-cell experiment (as bench/results.py does) and gives every cell
two jobs' files as the cell script writes them: a time file (start and end) and an hour of
nvidia-smi samples every 5 s in `--format=csv` (720 samples, one line per GPU: 4 GPUs for a
70B run, else 1). Then times collect_results.py's write_compute alone (reading every file,
compute.csv, compute.md, elapsed.png), median of 3, in this process.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

from results import render

REPO = Path(__file__).resolve().parent.parent
SAMPLES = 720  # an hour every 5 s
HEADER = "timestamp, index, utilization.gpu [%], memory.used [MiB], memory.total [MiB]\n"


def gpu_lines(gpus: int) -> str:
    return HEADER + "".join(f"2026/12/04 05:{i // 12 % 60:02d}:{i % 12 * 5:02d}.000, {gpu}, {i % 100} %, "
                            f"{20000 + i} MiB, 81920 MiB\n" for i in range(SAMPLES) for gpu in range(gpus))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-compute-") as scratch:
        experiment = Path(scratch) / "experiment"
        cells = render(REPO, experiment)
        one, four = gpu_lines(1), gpu_lines(4)
        for index, cell in enumerate(cells):
            for attempt, job in enumerate((str(1000 + 2 * index), str(1001 + 2 * index))):
                start = 1_796_000_000 + attempt * 4000
                times = experiment / cell["job_times"].replace("{job}", job)
                times.write_text("event,epoch_seconds,iso_utc,job,host,outcome\n"
                                 f"start,{start},x,{job},n,\nend,{start + 3600},x,{job},n,"
                                 f"{'failed' if attempt == 0 else 'success'}\n")
                gpus = four if "70B" in cell["log_dir"] else one
                (experiment / cell["gpu_samples"].replace("{job}", job)).write_text(gpus)
        spec = importlib.util.spec_from_file_location("collect_results_bench", experiment / "collect_results.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        runs = {run["name"]: run for run in module.RUNS}
        rows = [module.Row(runs[cell["run"]], cell, module.Outcome()) for cell in module.CELLS]
        out = Path(scratch) / "out"
        out.mkdir()
        took = []
        for _ in range(3):
            started = time.perf_counter()
            module.write_compute(out, rows)
            took.append(time.perf_counter() - started)
        print(f"compute.csv, compute.md and elapsed.png at {len(rows)} cells, 2 jobs each with {SAMPLES} samples: "
              f"{statistics.median(took):.2f} s (median of 3, {min(took):.2f}-{max(took):.2f})")


if __name__ == "__main__":
    main()
