"""Git repositories as users have them: the template, tagged, and an experiment in git.

The template is used as users use it: from a git repository with version tags, by absolute
path, into an experiment directory that is itself a git repository.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_copier, scripts
from tests.experiment import Experiment

ANSWERS = ".copier-answers.yml"
SCRIPT = (
    "template/{% yield run from plan.runs %}{{ run.dir }}{% endyield %}/eval/"
    "{% yield cell from run.cells %}{{ cell.name }}.slurm{% endyield %}.jinja"
)


def git(directory: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=directory, check=True, capture_output=True, text=True,
    ).stdout


def commit_all(directory: Path, message: str) -> None:
    git(directory, "add", "-A")
    git(directory, "commit", "-qm", message, "--allow-empty")


def working_tree_files(*paths: str) -> list[str]:
    """This checkout's files under `paths`, committed or not (deleted ones left out)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", *paths],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    return [name for name in listed if (ROOT / name).is_file()]


def copy_files(names: list[str], destination: Path) -> None:
    for name in names:
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination / name)


@pytest.fixture
def template(tmp_path) -> Path:
    """This working tree's template, committed and tagged 1.0.0 in a repository of its own."""
    repo = tmp_path / "template"
    copy_files(working_tree_files("copier.yml", "template", "extensions"), repo)
    git(repo, "init", "-q")
    commit_all(repo, "template 1.0.0")
    git(repo, "tag", "v1.0.0")
    return repo


def release(template: Path, version: str, edits: dict[str, list[tuple[str, str]]]) -> None:
    """Commit and tag a later template version made of text replacements."""
    for name, replacements in edits.items():
        path = template / name
        text = path.read_text()
        for old, new in replacements:
            assert old in text, (name, old)
            text = text.replace(old, new)
        path.write_text(text)
    commit_all(template, f"template {version}")
    git(template, "tag", f"v{version}")


def in_git(experiment: Experiment, directory: Path) -> Path:
    """The experiment's input files, committed in a repository of their own."""
    experiment.write(directory)
    git(directory, "init", "-q")
    commit_all(directory, "inputs")
    return directory


def copied(template: Path, experiment: Experiment, directory: Path) -> Path:
    in_git(experiment, directory)
    result = run_copier("copy", "--trust", "--defaults", "--quiet", str(template), str(directory))
    assert result.returncode == 0, result.stderr
    commit_all(directory, "rendered")
    return directory


def update(directory: Path, *args: str) -> str:
    """`copier update` as documented; returns what Copier printed (its after-update message)."""
    result = run_copier("update", "--trust", "--defaults", *args, cwd=directory)
    assert result.returncode == 0, result.stderr
    return result.stderr


def contents(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): p.read_text() for p in scripts(directory)}


def answers(directory: Path) -> dict:
    return yaml.safe_load((directory / ANSWERS).read_text())
