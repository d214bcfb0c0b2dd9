"""The loader's own time: `python bench/loader.py EXPERIMENT_DIR REPEATS` prints the median ms.

It runs in a fresh process that has imported Copier, as the process that calls the loader
during `copier copy` has: the cost of Python's garbage collector during the loader's
allocations depends on every object the process holds, so a long-lived benchmark process
would measure its own heap rather than the loader.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import copier  # noqa: F401  (the heap the loader meets in a real copy)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extensions.plan import build_plan  # noqa: E402


def median_ms(experiment: Path, repeats: int) -> float:
    directory = experiment.resolve()
    build_plan(directory).to_answer()  # the first call also pays for lazy imports and regex compiles
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        build_plan(directory).to_answer()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    print(f"{median_ms(Path(sys.argv[1]), int(sys.argv[2])):.3f}")
