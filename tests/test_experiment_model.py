"""The one-way flow: load_experiment reads every input file once; the plan is built from what it
returned and opens nothing. Which design file is read when a directory holds both, or neither.
"""

from __future__ import annotations

import builtins
import io
import os
import pathlib
import shutil
from contextlib import contextmanager

import pytest

from extensions.errors import InputError
from extensions.experiment import Experiment, load_experiment
from extensions.model import MARKDOWN, YAML
from extensions.notes import Warnings
from extensions.plan import build_plan, plan_experiment
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"

# (run, task, epoch) of every cell, counted by hand from each example's summary:
# cap_1B_lora's Evaluation Matrix: r8 and r16 capitalization at epochs 0,1 and capitalization_6L
# at epoch 1, the base run both tasks once (3 + 3 + 2 = 8);
# cap_1B_yaml's evaluation.matrix: r8 and r16 capitalization [0, 1], the base both tasks (2 + 2 + 2 = 6).
CELLS = {
    "cap_1B_lora": [
        ("r8_lr1e-5", "capitalization", 0), ("r8_lr1e-5", "capitalization", 1), ("r8_lr1e-5", "capitalization_6L", 1),
        ("r16_lr1e-5", "capitalization", 0), ("r16_lr1e-5", "capitalization", 1), ("r16_lr1e-5", "capitalization_6L", 1),
        ("Llama-3.2-1B-Instruct_base", "capitalization", None), ("Llama-3.2-1B-Instruct_base", "capitalization_6L", None),
    ],
    "cap_1B_yaml": [
        ("r8", "capitalization", 0), ("r8", "capitalization", 1),
        ("r16", "capitalization", 0), ("r16", "capitalization", 1),
        ("Llama-3.2-1B-Instruct_base", "capitalization", None), ("Llama-3.2-1B-Instruct_base", "capitalization_6L", None),
    ],
}


def cells(plan) -> list[tuple]:
    return [(run.name, cell.task, cell.epoch) for run in plan.runs for cell in run.cells]


@contextmanager
def no_file_access(monkeypatch):
    """Every way the loader could open, read or stat a file raises AssertionError, and is recorded
    (in case something catches the error)."""
    attempts: list[str] = []

    def forbid(name):
        def refuse(*args, **kwargs):
            attempts.append(f"{name}{args!r}")
            raise AssertionError(f"{name} called while planning: {args!r}")
        return refuse

    targets = [
        (builtins, "open"), (io, "open"), (os, "open"), (os, "stat"), (os, "lstat"), (os, "listdir"), (os, "scandir"),
        (os.path, "isfile"), (os.path, "exists"), (os.path, "isdir"), (os.path, "getmtime"),
        (pathlib.Path, "open"), (pathlib.Path, "read_text"), (pathlib.Path, "read_bytes"), (pathlib.Path, "is_file"),
        (pathlib.Path, "exists"), (pathlib.Path, "is_dir"), (pathlib.Path, "stat"), (pathlib.Path, "iterdir"),
        (pathlib.Path, "glob"), (pathlib.Path, "resolve"),
    ]
    with monkeypatch.context() as patch:
        for owner, name in targets:
            patch.setattr(owner, name, forbid(f"{getattr(owner, '__name__', owner)}.{name}"))
        yield attempts


@pytest.mark.parametrize("example,summary_format", [("cap_1B_lora", MARKDOWN), ("cap_1B_yaml", YAML)])
def test_plan_opens_no_file(monkeypatch, example, summary_format):
    """After load_experiment, plan_experiment works on the Experiment alone."""
    warnings = Warnings()
    experiment = load_experiment(EXAMPLES / example, warnings)
    assert isinstance(experiment, Experiment)
    assert experiment.summary.format == summary_format
    with no_file_access(monkeypatch) as attempts:
        plan = plan_experiment(experiment, None, warnings)
    assert attempts == []
    assert cells(plan) == CELLS[example]
    assert sum(len(run.cells) for run in plan.runs) == len(CELLS[example])


def test_the_guard_catches_a_read(monkeypatch):
    """The guard itself works: a read during it fails (so the test above can fail)."""
    with no_file_access(monkeypatch) as attempts:
        with pytest.raises(AssertionError):
            (EXAMPLES / "cap_1B_yaml" / "experiment_summary.yaml").read_text()
        with pytest.raises(AssertionError):
            os.path.isfile(EXAMPLES / "cap_1B_yaml" / "experiment_summary.yaml")
    assert len(attempts) == 2


def test_load_experiment_reads_each_input():
    """What the plan needs is in the Experiment: the setup files of a Markdown design's fine-tuned
    runs, the site file, and each task file's @task functions."""
    lora = load_experiment(EXAMPLES / "cap_1B_lora", Warnings())
    assert sorted(lora.setups) == ["r16_lr1e-5", "r8_lr1e-5"]
    assert lora.site.path == EXAMPLES / "cap_1B_lora" / "claude.local.md"
    assert list(lora.task_files) == ["cap_task.py"]
    assert list(lora.task_files["cap_task.py"].functions) == ["capitalization", "capitalization_6L"]

    designed = load_experiment(EXAMPLES / "cap_1B_yaml", Warnings())
    assert designed.setups == {}  # a YAML design says each run's inputs itself; no setup file exists
    assert list(designed.task_files) == ["tasks/cap_task.py"]  # `@capitalization` is not part of the file
    assert designed.task_files["tasks/cap_task.py"].path == str(EXAMPLES / "cap_1B_yaml" / "tasks" / "cap_task.py")
    assert list(designed.task_files["tasks/cap_task.py"].functions) == ["capitalization"]


def test_yaml_wins_over_markdown_with_a_warning(tmp_path):
    """A directory with both design files plans from the YAML (cruijff_kit's tools read only it),
    and says the Markdown one is not read."""
    directory = tmp_path / "cap"
    shutil.copytree(EXAMPLES / "cap_1B_yaml", directory)
    shutil.copy(EXAMPLES / "cap_1B_lora" / "experiment_summary.md", directory / "experiment_summary.md")
    plan = build_plan(directory)
    assert plan.summary_format == YAML
    assert cells(plan) == CELLS["cap_1B_yaml"]
    both = [w for w in plan.warnings if "experiment_summary.yaml" in w and "experiment_summary.md" in w]
    assert len(both) == 1
    assert str(directory) in both[0]
    assert "experiment_summary.md is not read" in both[0]


def test_markdown_alone_is_read(tmp_path):
    """Without the YAML, experiment_summary.md is the design, and nothing warns about two files."""
    directory = tmp_path / "cap"
    shutil.copytree(EXAMPLES / "cap_1B_lora", directory)
    plan = build_plan(directory)
    assert plan.summary_format == MARKDOWN
    assert not [w for w in plan.warnings if "experiment_summary.yaml" in w]


def test_neither_design_file(tmp_path):
    """A directory without a design file is refused, naming both file names."""
    directory = tmp_path / "empty"
    directory.mkdir()
    (directory / "claude.local.md").write_text((EXAMPLES / "cap_1B_yaml" / "claude.local.md").read_text())
    with pytest.raises(InputError) as caught:
        load_experiment(directory, Warnings())
    message = str(caught.value)
    assert "neither experiment_summary.yaml nor experiment_summary.md is in this directory" in message
    assert caught.value.file == str(directory / "experiment_summary.yaml")


def test_an_experiment_dir_elsewhere_is_said_and_this_one_is_not(tmp_path):
    """Checkpoints are under experiment.dir as written (cruijff_kit's training writes there):
    a design copied or moved away from it gets a warning naming both directories."""
    copy = tmp_path / "copy"
    shutil.copytree(EXAMPLES / "cap_1B_yaml", copy)
    warnings = Warnings()
    load_experiment(copy, warnings)
    (said,) = [w for w in warnings if "experiment.dir" in w]
    assert f"experiment.dir is /scratch/gpfs/MSALGANIK/mjs3/ck-projects/capitalization/cap_1B_rank_sweep, not this directory ({copy})" in said

    summary = copy / "experiment_summary.yaml"
    summary.write_text(summary.read_text().replace(
        '"/scratch/gpfs/MSALGANIK/mjs3/ck-projects/capitalization/cap_1B_rank_sweep"', f'"{copy}/"'))
    warnings = Warnings()
    load_experiment(copy, warnings)
    assert [w for w in warnings if "experiment.dir" in w] == []
