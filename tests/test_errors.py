"""Bad input: `copier copy` exits non-zero with one message naming the file, the value and
the fix, and writes nothing at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_copier

EXAMPLE = ROOT / "examples/cap_1B_lora"


def snapshot(directory: Path) -> dict:
    return {
        str(p.relative_to(directory)): (p.read_bytes() if p.is_file() else None, p.stat().st_mode)
        for p in sorted(directory.rglob("*"))
    }


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def rename_run(directory: Path, new: str) -> None:
    edit(directory / "experiment_summary.md", "| r8_lr1e-5 | Llama", f"| {new} | Llama")


CASES = {
    "no-summary": (lambda d: (d / "experiment_summary.md").unlink(), ["experiment_summary.md not found"]),
    "no-all-runs": (
        lambda d: edit(d / "experiment_summary.md", "## All Runs", "## The runs"),
        ["experiment_summary.md", "no 'All Runs' table", "fix:"],
    ),
    "no-type-column": (
        lambda d: edit(d / "experiment_summary.md", "| Type | Est. Time |", "| Kind | Est. Time |"),
        ["no 'Type' column", "fix: add a 'Type' column"],
    ),
    "no-evaluation-tasks": (
        lambda d: edit(d / "experiment_summary.md", "### Evaluation Tasks", "### Tasks"),
        ["no 'Evaluation Tasks' table"],
    ),
    "no-script-column": (
        lambda d: edit(d / "experiment_summary.md", "| Task Name | Script |", "| Task Name | Source |"),
        ["no 'Script' column"],
    ),
    "task-without-script": (
        lambda d: edit(d / "experiment_summary.md", "| capitalization | `cap_task.py` |", "| capitalization |  |"),
        ["task 'capitalization' has no script path"],
    ),
    "run-name-dotdot": (lambda d: rename_run(d, "../x"), ["'../x' is not one safe path component"]),
    "run-name-slash": (lambda d: rename_run(d, "a/b"), ["'a/b' is not one safe path component"]),
    "run-name-dash": (lambda d: rename_run(d, "-x"), ["'-x' is not one safe path component"]),
    "run-name-empty": (lambda d: rename_run(d, " "), ["'' is not one safe path component"]),
    "epoch-outside": (
        lambda d: edit(d / "experiment_summary.md", "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ epoch 0,2 |"),
        ["epoch 2 of run r8_lr1e-5", "outside 0..1", "0-indexed"],
    ),
    "no-setup": (
        lambda d: (d / "r16_lr1e-5" / "setup_finetune.yaml").unlink(),
        ["r16_lr1e-5/setup_finetune.yaml", "not found"],
    ),
    "bad-yaml": (
        lambda d: edit(d / "r8_lr1e-5" / "setup_finetune.yaml", "lora_rank: 8", "lora_rank: [8"),
        ["r8_lr1e-5/setup_finetune.yaml", "not valid YAML at line"],
    ),
    "base-model-without-path": (
        lambda d: edit(d / "experiment_summary.md", "- **Llama-3.2-1B-Instruct**:", "- **Llama-3.2-3B-Instruct**:"),
        ["base run Llama-3.2-1B-Instruct_base", "no path under Resources → Models"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_fails_before_writing_anything(tmp_path, case):
    break_it, expected = CASES[case]
    destination = tmp_path / "experiment"
    shutil.copytree(EXAMPLE, destination)
    break_it(destination)
    before = snapshot(destination)
    result = run_copier("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 1
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(destination) == before


def test_a_missing_destination_is_not_created(tmp_path):
    result = run_copier("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", str(ROOT), str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "experiment_summary.md not found" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_without_trust_copier_refuses_the_extensions(tmp_path):
    destination = tmp_path / "experiment"
    shutil.copytree(EXAMPLE, destination)
    result = run_copier("copy", "--defaults", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 4
    assert "jinja_extensions" in result.stderr


def test_warnings_go_to_stderr(tmp_path):
    destination = tmp_path / "experiment"
    shutil.copytree(EXAMPLE, destination)
    edit(destination / "experiment_summary.md", '- **System prompt**: "" (must match training)', '- **System prompt**: "Be brief."')
    result = run_copier("copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 0
    assert "warning: Configuration → Evaluation → System prompt 'Be brief.' differs" in result.stderr
    assert "warning" not in result.stdout
