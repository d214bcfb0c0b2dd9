"""Where one `copier copy` of the largest bench experiment spends its time, in-process.

    .venv/bin/python bench/profile_copy.py [--top 40]

Profiles `copier.run_copy(..., unsafe=True, defaults=True)` of this template (a tagged
snapshot of the working tree, as `make bench` uses) into the 1,040-script experiment, and
prints the top entries by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
from pathlib import Path

import copier

from run import SHAPES, snapshot_template
from synth import write_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--top", type=int, default=40, help="entries per listing (default 40)")
    args = parser.parse_args()
    shape = SHAPES[-1]
    with tempfile.TemporaryDirectory(prefix="copier-profile-") as scratch:
        scratch = Path(scratch)
        template = snapshot_template(scratch / "template")
        destination = scratch / "experiment"
        write_experiment(destination, shape.runs, shape.tasks, shape.epochs, shape.controls)
        profile = cProfile.Profile()
        profile.runcall(copier.run_copy, str(template), str(destination), unsafe=True, defaults=True, quiet=True)
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
