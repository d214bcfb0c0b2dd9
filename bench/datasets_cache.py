"""What a per-job Hugging Face datasets cache costs a cell job (issue 19, item 4).

Each cell script gives its job a fresh HF_DATASETS_CACHE (cruijff_kit issue 320: jobs of one
dataset that start together raced on a shared one). The price: every job builds the dataset's
Arrow cache again, where a warm shared cache would only have read it. This measures that,
with the call cruijff_kit's tasks make through inspect's hf_dataset:
`datasets.load_dataset("json", data_files=PATH, field=SPLIT, split="train")`, on a JSON file
shaped like theirs ({"train": [...], "validation": [...], "test": [...]}, input/output rows).

Each load runs in its own Python process, as a job does; the time is the load alone (the
import of `datasets` is the same either way and is left out). "fresh" loads into a new empty
cache each time; "warm" loads again into a cache that already holds the dataset.

Usage: python bench/datasets_cache.py [ROWS ...]   (default: 5000 50000; needs `datasets`,
which inspect-ai does not install: run it with a Python that has it)
"""

from __future__ import annotations

import json
import random
import statistics
import string
import subprocess
import sys
import tempfile
from pathlib import Path

REPEATS = 7

LOAD = """
import sys, time
import datasets
datasets.disable_progress_bars()
started = time.perf_counter()
rows = datasets.load_dataset("json", data_files=sys.argv[1], field="test", split="train")
elapsed = time.perf_counter() - started
assert len(rows) == int(sys.argv[2]), len(rows)
print(elapsed)
"""


def write_dataset(path: Path, rows: int) -> None:
    """cruijff_kit's capitalization shape: a word or short phrase in, capitalised out."""
    random.seed(0)

    def phrase() -> str:
        return " ".join("".join(random.choices(string.ascii_lowercase, k=random.randint(3, 10)))
                        for _ in range(random.randint(1, 6)))

    def split(count: int) -> list[dict]:
        return [{"input": text, "output": text.title()} for text in (phrase() for _ in range(count))]

    path.write_text(json.dumps({"train": split(rows), "validation": split(rows // 10), "test": split(rows)}))


def load(data: Path, rows: int, cache: Path) -> float:
    result = subprocess.run([sys.executable, "-c", LOAD, str(data), str(rows)], capture_output=True, text=True,
                            env={"HF_DATASETS_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
                            check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    import datasets

    print(f"datasets {datasets.__version__}, Python {sys.version.split()[0]}, {REPEATS} loads each, median (min-max)")
    for rows in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            data = Path(scratch) / "data.json"
            write_dataset(data, rows)
            fresh = [load(data, rows, Path(tempfile.mkdtemp(dir=scratch))) for _ in range(REPEATS)]
            warm_cache = Path(tempfile.mkdtemp(dir=scratch))
            load(data, rows, warm_cache)
            warm = [load(data, rows, warm_cache) for _ in range(REPEATS)]
            size = data.stat().st_size / 1e6
        print(f"{rows} test rows ({size:.1f} MB file): fresh cache {statistics.median(fresh):.2f} s "
              f"({min(fresh):.2f}-{max(fresh):.2f}), warm cache {statistics.median(warm):.2f} s "
              f"({min(warm):.2f}-{max(warm):.2f}), cost of a per-job cache "
              f"{statistics.median(fresh) - statistics.median(warm):+.2f} s per job")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [5000, 50000])
