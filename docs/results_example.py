"""Regenerate the README's results example: `make results-example`.

Renders examples/cap_1B_lora into build/results-example with this template (as `make demo`
does), gives each of its 8 cells a real inspect log, runs the tree's own collect_results.py,
prints its Markdown and copies the capitalization plot to docs/results_example.png.

The logs are real `inspect eval` logs, named and tagged as the cells' scripts name and tag
them, but not of a trained model: they come from the stand-in task of tests/inspect_logs.py
(`--model none`, a solver that answers a chosen number of the 100 samples right, the rest
wrong). SCORES below chooses those numbers to look like a LoRA sweep; they show what the
script makes of a finished sweep, not a finding.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.inspect_logs import LogSpec, make_logs  # noqa: E402

EXAMPLE = REPO / "examples/cap_1B_lora"
BUILD = REPO / "build/results-example"
IMAGE = REPO / "docs/results_example.png"
SAMPLES = 100
# (run, cell) -> (samples answered exactly, samples with the answer inside a sentence)
SCORES = {
    ("r8_lr1e-5", "capitalization_epoch0"): (58, 6),
    ("r8_lr1e-5", "capitalization_epoch1"): (79, 4),
    ("r8_lr1e-5", "capitalization_6L_epoch1"): (57, 6),
    ("r16_lr1e-5", "capitalization_epoch0"): (66, 5),
    ("r16_lr1e-5", "capitalization_epoch1"): (86, 3),
    ("r16_lr1e-5", "capitalization_6L_epoch1"): (64, 5),
    ("Llama-3.2-1B-Instruct_base", "capitalization_base"): (12, 19),
    ("Llama-3.2-1B-Instruct_base", "capitalization_6L_base"): (9, 17),
}


def render(destination: Path) -> dict:
    """The example rendered in `destination` by this checkout; the recorded plan."""
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(EXAMPLE, destination)
    copier = Path(sys.executable).parent / "copier"
    done = subprocess.run([str(copier), "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD",
                           str(REPO), str(destination)], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"copier copy exited {done.returncode}:\n{done.stderr}")
    return yaml.safe_load((destination / ".copier-answers.yml").read_text(encoding="utf-8"))["plan"]


def generate(destination: Path) -> tuple[str, Path]:
    """Render, log every cell, collect; the Markdown collect_results.py wrote and its plot."""
    plan = render(destination)
    specs = []
    for run in plan["runs"]:
        for cell in run["cells"]:
            right, partial = SCORES[(run["name"], cell["name"])]
            specs.append(LogSpec(log_dir=str(destination / cell["log_dir"]), cell=cell["name"],
                                 metadata=cell["metadata"], right=right, partial=partial, samples=SAMPLES))
    make_logs(specs, destination.parent / (destination.name + "-work"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "MPLBACKEND": "Agg"}
    done = subprocess.run([str(destination / "collect_results.py")], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"collect_results.py exited {done.returncode}:\n{done.stderr}")
    results = destination / "results"
    return (results / "results.md").read_text(encoding="utf-8"), results / "capitalization_includes-accuracy.png"


def main() -> None:
    markdown, plot = generate(BUILD)
    shutil.copyfile(plot, IMAGE)
    print(markdown)
    print(f"Plot copied to {IMAGE.relative_to(REPO)}; the tree is in {BUILD.relative_to(REPO)}")


if __name__ == "__main__":
    main()
