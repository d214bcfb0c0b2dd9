"""Shared fixtures: render the real template with real Copier, run scripts under real bash."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_copie.plugin import Result

from tests.experiment import Experiment

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def render(copie, tmp_path):
    """render(experiment, **answers) -> the rendered experiment directory.

    pytest-copie renders into a fresh directory; a child Copie with a parent_result
    pre-fills that directory with the experiment's input files, as a user's experiment
    directory holds them.
    """
    counter = iter(range(1000))

    def _render(experiment: Experiment | Path, **answers) -> Path:
        source = experiment
        if isinstance(experiment, Experiment):
            source = experiment.write(tmp_path / f"inputs{next(counter)}")
        child = copie(parent_result=Result(project_dir=Path(source)), child_tpl=ROOT)
        result = child.copy(extra_answers=answers)
        if result.exception is not None:
            raise result.exception
        return result.project_dir

    return _render


def scripts(directory: Path) -> list[Path]:
    return sorted(directory.glob("*/eval/*.slurm"))


def run_copier(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real `copier` command line, as a user types it.

    Tests copy from this checkout with `--vcs-ref HEAD`: without it Copier would take the
    newest release tag, not the code under test (uncommitted changes included).
    """
    return subprocess.run(
        [str(Path(sys.executable).parent / "copier"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


_INSPECT_RECORDER = """#!{python}
# Stands in for `inspect` on a machine without a GPU: records what the script passed,
# including the task-config file, which the script deletes when it exits.
import json, os, sys
args = sys.argv[1:]
config = None
if "--task-config" in args:
    with open(args[args.index("--task-config") + 1], encoding="utf-8") as file:
        config = file.read()
record = {{"argv": args, "task_config": config, "cwd": os.getcwd(),
          "hf_hub_offline": os.environ.get("HF_HUB_OFFLINE")}}
with open(os.path.join(os.environ["RECORD_DIR"], "inspect.jsonl"), "a", encoding="utf-8") as log:
    log.write(json.dumps(record) + "\\n")
"""

_SHELL_RECORDER = """#!/bin/bash
printf '%s\\n' "$(basename "$0") $*" >> "$RECORD_DIR/environment.log"
"""


@pytest.fixture
def recorders(tmp_path):
    """A PATH directory where `inspect`, `module` and `conda` only record their arguments."""
    bin_dir = tmp_path / "recorders"
    bin_dir.mkdir()
    record_dir = tmp_path / "records"
    record_dir.mkdir()
    for name, text in (
        ("inspect", _INSPECT_RECORDER.format(python=sys.executable)),
        ("module", _SHELL_RECORDER),
        ("conda", _SHELL_RECORDER),
    ):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return bin_dir, record_dir


def run_script(script: Path, recorders) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """Run a generated script under real bash with the recorders first on PATH."""
    bin_dir, record_dir = recorders
    (record_dir / "inspect.jsonl").unlink(missing_ok=True)
    result = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        cwd=script.parent,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD_DIR": str(record_dir)},
    )
    log = record_dir / "inspect.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, records
