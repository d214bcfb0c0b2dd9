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


def run_copier(*args: str, cwd: Path | None = None, prefix: tuple[str, ...] = (),
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real `copier` command line, as a user types it (after `prefix`, e.g. setpriv).

    Tests copy from this checkout with `--vcs-ref HEAD`: without it Copier would take the
    newest release tag, not the code under test (uncommitted changes included).
    """
    return subprocess.run(
        [*prefix, str(Path(sys.executable).parent / "copier"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


_INSPECT_RECORDER = """#!{python}
# Stands in for `inspect` on a machine without a GPU: records what the script passed,
# including the task-config file, which the script deletes when it exits. It evaluates
# nothing; given INSPECT_LOG (a log written by inspect's own write_eval_log), it puts a copy
# where inspect would write its log, named as inspect names it.
import json, os, random, shutil, string, sys, time
args = sys.argv[1:]
if os.environ.get("INSPECT_LOG"):
    created = time.strftime("%Y-%m-%dT%H-%M-%S+00-00", time.gmtime()).replace("+", "-")
    eval_id = "".join(random.choices(string.ascii_letters + string.digits, k=22))
    pattern = os.environ.get("INSPECT_EVAL_LOG_FILE_PATTERN", "{{task}}_{{id}}").replace("{{id}}", eval_id)
    log_dir = args[args.index("--log-dir") + 1]
    os.makedirs(log_dir, exist_ok=True)
    shutil.copy(os.environ["INSPECT_LOG"], os.path.join(log_dir, f"{{created}}_{{pattern}}.eval"))
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


def run_script(
    script: Path, recorders, cwd: Path | None = None, **env: str
) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """Run a generated script under real bash with the recorders first on PATH.

    This environment's python comes next: the script judges inspect's log with it, as a
    script on the cluster does with its environment's python. `env` adds variables.
    """
    bin_dir, record_dir = recorders
    (record_dir / "inspect.jsonl").unlink(missing_ok=True)
    path = f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}"
    result = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        cwd=cwd or script.parent,
        env={**os.environ, "PATH": path, "RECORD_DIR": str(record_dir), **env},
    )
    log = record_dir / "inspect.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, records
