"""Bad input: `copier copy` exits non-zero with one message naming the file, the value and
the fix, and writes nothing at all."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_copier

EXAMPLE = ROOT / "examples/cap_1B_lora"


def snapshot(directory: Path) -> dict:
    return {str(p.relative_to(directory)): (content(p), p.stat().st_mode) for p in sorted(directory.rglob("*"))}


def content(path: Path) -> bytes | None:
    """A file's bytes; one this user may not read (a test made it so) is compared by its mode."""
    if not path.is_file() or not os.access(path, os.R_OK):
        return None
    return path.read_bytes()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def rename_run(directory: Path, new: str) -> None:
    edit(directory / "experiment_summary.md", "| r8_lr1e-5 | Llama", f"| {new} | Llama")


CASES = {
    "no-summary": (
        lambda d: (d / "experiment_summary.md").unlink(),
        ["neither experiment_summary.yaml nor experiment_summary.md is in this directory"],
    ),
    "no-all-runs": (
        lambda d: edit(d / "experiment_summary.md", "## All Runs", "## The runs"),
        ["experiment_summary.md", "no 'All Runs' table", "fix:"],
    ),
    "no-type-column": (
        lambda d: edit(d / "experiment_summary.md", "| Type | Est. Time |", "| Kind | Est. Time |"),
        ["experiment_summary.md: the 'All Runs' table has no 'Type' column (its columns: Run Name, Model, LoRA Rank, Learning Rate, Kind,",
         "fix: add a 'Type' column"],
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
        ["task 'capitalization' has no script path in Evaluation Tasks"],
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
        ["r16_lr1e-5/setup_finetune.yaml: setup_finetune.yaml not found for this fine-tuned run", "write Base or Control"],
    ),
    "bad-yaml": (
        lambda d: edit(d / "r8_lr1e-5" / "setup_finetune.yaml", "lora_rank: 8", "lora_rank: [8"),
        ["r8_lr1e-5/setup_finetune.yaml: not valid YAML at line 11, column 3", "fix: fix the YAML syntax there"],
    ),
    "run-listed-twice": (
        lambda d: edit(d / "experiment_summary.md", "| r16_lr1e-5 | Llama", "| r8_lr1e-5 | Llama"),
        ["experiment_summary.md: run 'r8_lr1e-5' is listed twice in All Runs", "fix: give each run its own name"],
    ),
    "runs-sharing-a-directory": (
        lambda d: (edit(d / "experiment_summary.md", "| r16_lr1e-5 | Llama-3.2-1B-Instruct | 16 | 1e-5 | Fine-tuned |",
                        "| Llama-3.2-1B-Instruct | Llama-3.2-1B-Instruct | 16 | 1e-5 | Control |"),
                   edit(d / "experiment_summary.md", "| r16_lr1e-5 | ✓ epoch 0,1 | ✓ epoch 1 | |\n", "")),
        ["two runs would share the directory 'Llama-3.2-1B-Instruct_base'", "fix: rename one of them"],
    ),
    "run-named-results": (
        lambda d: (edit(d / "experiment_summary.md", "| r16_lr1e-5 | Llama", "| results | Llama"),
                   edit(d / "experiment_summary.md", "| r16_lr1e-5 | ✓", "| results | ✓"),
                   (d / "r16_lr1e-5").rename(d / "results")),
        ["run directory 'results' is where collect_results.py writes the tables and plots", "fix: rename the run"],
    ),
    "matrix-without-run-name": (
        lambda d: edit(d / "experiment_summary.md", "| Run Name | capitalization | capitalization_6L | Notes |",
                       "| Who | capitalization | capitalization_6L | Notes |"),
        ["the Evaluation Matrix has no 'Run Name' column"],
    ),
    "checkpoints-nowhere": (
        lambda d: (edit(d / "r8_lr1e-5" / "setup_finetune.yaml", "output_dir_base: /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/\n", ""),
                   edit(d / "experiment_summary.md", "- **Checkpoint directory**: `/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/`\n", "")),
        ["r8_lr1e-5/setup_finetune.yaml: no output_dir_base, and neither experiment_summary.md", "Configuration → Output → Checkpoint directory",
         "Common Paths → Outputs", "fix: add `output_dir_base:"],
    ),
    "epoch-not-saved": (
        lambda d: edit(d / "r8_lr1e-5" / "setup_finetune.yaml", "epochs: 2\n", "epochs: 2\nepochs_to_save: '1'\n"),
        ["r8_lr1e-5/setup_finetune.yaml", "run r8_lr1e-5 is to be evaluated at epoch 0", "save only epoch_1",
         "epochs_to_save"],
    ),
    "base-run-without-prompt": (
        lambda d: (edit(d / "experiment_summary.md", '- **Prompt**: "Capitalize the given word: {input}\\n"\n', ""),
                   edit(d / "r16_lr1e-5" / "setup_finetune.yaml", "prompt: \"Capitalize", "prompt: \"Please capitalize")),
        ["base run Llama-3.2-1B-Instruct_base needs a prompt", "Configuration → Training → Prompt"],
    ),
    "bad-account-in-setup": (
        lambda d: edit(d / "r8_lr1e-5" / "setup_finetune.yaml", "account: msalganik", "account: my lab"),
        ["r8_lr1e-5/setup_finetune.yaml", "the sbatch account value 'my lab' is not one plain word"],
    ),
    "no-conda-env": (
        lambda d: (edit(d / "r8_lr1e-5" / "setup_finetune.yaml", "conda_env: cruijff\n", ""),
                   edit(d / "claude.local.md", "- **Default conda environment**: `cruijff`\n", "")),
        ["r8_lr1e-5/setup_finetune.yaml", "run r8_lr1e-5 has no conda environment"],
    ),
    "model-path-with-comma": (
        lambda d: edit(d / "r8_lr1e-5" / "setup_finetune.yaml", "ck-outputs/", "ck,outputs/"),
        ["r8_lr1e-5/setup_finetune.yaml", "would reach inspect's -M model_path altered"],
    ),
    "too-many-cells": (
        lambda d: (edit(d / "r8_lr1e-5" / "setup_finetune.yaml", "epochs: 2", "epochs: 6000"),
                   edit(d / "experiment_summary.md", "| r8_lr1e-5 | ✓ epoch 0,1 |", "| r8_lr1e-5 | ✓ all |")),
        ["the plan has 6006 evaluation cells, more than the 5000 this template accepts", "MAX_CELLS in extensions/plan.py"],
    ),
    "temperature-not-a-number": (
        lambda d: edit(d / "experiment_summary.md", "- **Temperature**: 0", "- **Temperature**: cold"),
        ["Configuration → Evaluation → Temperature 'cold' is not a number"],
    ),
    "base-model-without-path": (
        lambda d: edit(d / "experiment_summary.md", "- **Llama-3.2-1B-Instruct**:", "- **Llama-3.2-3B-Instruct**:"),
        ["base run Llama-3.2-1B-Instruct_base uses model 'Llama-3.2-1B-Instruct', which has no path under Resources → Models"],
    ),
}


def assert_refused(tmp_path: Path, break_it, expected: list[str], run=run_copier, example: Path = EXAMPLE) -> None:
    """Copy the example, break it, and check `copier copy` refuses it: exit 1, each expected
    text in the one message, no traceback, nothing written."""
    destination = tmp_path / "experiment"
    shutil.copytree(example, destination)
    break_it(destination)
    before = snapshot(destination)
    result = run("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 1, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(destination) == before


@pytest.mark.parametrize("case", CASES)
def test_bad_input_fails_before_writing_anything(tmp_path, case):
    assert_refused(tmp_path, *CASES[case])


def test_a_missing_destination_is_not_created(tmp_path):
    result = run_copier("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", str(ROOT), str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "neither experiment_summary.yaml nor experiment_summary.md is in this directory" in result.stderr
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


def test_a_relative_task_file_not_there_yet_is_a_warning_at_render_time(tmp_path):
    """A relative task file may be written later, or exist only on the cluster: the copy goes
    on, and says on stderr (--quiet too) which file it could not check, and who checks it."""
    destination = tmp_path / "experiment"
    shutil.copytree(EXAMPLE, destination)
    edit(destination / "experiment_summary.md", "| capitalization | `cap_task.py` |", "| capitalization | `tasks/later.py` |")
    result = run_copier("copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 0, result.stderr
    assert (f"warning: task file {destination}/tasks/later.py does not exist yet: its @task parameters cannot be "
            "checked now; submit_evals.sh and each job check them before evaluating") in result.stderr
    assert "Traceback" not in result.stderr
    script = (destination / "r8_lr1e-5/eval/capitalization_epoch0.slurm").read_text()
    assert 'TASK_FILE="$EXPERIMENT_DIR"/tasks/later.py\n' in script


def test_the_input_files_are_named_after_the_copy_a_parent_directorys_site_file_by_its_path(tmp_path):
    """claude.local.md in a parent directory sets the account, modules and conda environment of
    every script: under --defaults no question shows the plan, so the after-copy message names it."""
    lab = tmp_path / "lab"
    destination = lab / "experiment"
    shutil.copytree(EXAMPLE, destination)
    (destination / "claude.local.md").rename(lab / "claude.local.md")
    result = run_copier("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 0, result.stderr
    assert (f"Input files: experiment_summary.md, setup_finetune.yaml of 2 runs, {lab}/claude.local.md, from a parent "
            "directory: its settings apply to this experiment\n") in result.stderr
    assert "#SBATCH --account=msalganik" in (destination / "r8_lr1e-5/eval/capitalization_epoch0.slurm").read_text()

    (lab / "claude.local.md").unlink()
    shutil.rmtree(destination)
    shutil.copytree(EXAMPLE, destination)
    (destination / "claude.local.md").unlink()
    result = run_copier("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 0, result.stderr
    assert ("Input files: experiment_summary.md, setup_finetune.yaml of 2 runs, no claude.local.md "
            "(none here or in a parent directory)\n") in result.stderr
    # A tree reproduced from its answers file alone has no input files to name.
    elsewhere = tmp_path / "reproduced"
    result = run_copier("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", "--data-file",
                        str(destination / ".copier-answers.yml"), str(ROOT), str(elsewhere))
    assert result.returncode == 0, result.stderr
    assert "Input files: none in this directory; the plan is the one recorded in the answers file.\n" in result.stderr
