"""The plan of experiments as cruijff_kit's own tools left them (tests/fixtures): where the
checkpoints really land, which data and prompt each run was trained on, and that every
value the loader falls back on is said."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from extensions.errors import InputError
from extensions.plan import build_plan
from tests.conftest import ROOT

FIXTURES = ROOT / "tests/fixtures"


@pytest.fixture
def experiment(tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "mjs3")

    def copy(name: str) -> Path:
        directory = tmp_path / name
        shutil.copytree(FIXTURES / name, directory)
        return directory

    return copy


def by_dir(plan) -> dict:
    return {run.dir: run for run in plan.runs}


def said(plan, *parts: str) -> bool:
    return any(all(part in warning for part in parts) for warning in plan.warnings)


def test_november_layout(experiment):
    directory = experiment("nov2025")
    plan = build_plan(directory)
    runs = by_dir(plan)
    r8, r16 = runs["cap_r8_lr1e-5"], runs["cap_r16_lr1e-5"]
    # finetune.yaml (written by setup_finetune.py with its default output_dir_base) wins.
    assert r8.cells[0].model_path == "/scratch/gpfs/MSALGANIK/mjs3/cap_rank_sweep_2025-11-12/ck-out-r8_lr1e-5/epoch_0"
    # No finetune.yaml: the summary's Checkpoint directory, then experiment_name, then
    # ck-out-{my_wandb_run_name} (not the directory's name), as setup_finetune.py builds it.
    assert r16.cells[0].model_path == "/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/cap_rank_sweep_2025-11-12/ck-out-r16_lr1e-5/epoch_0"
    assert said(plan, "cap_r16_lr1e-5/setup_finetune.yaml has no output_dir_base", "Checkpoint directory")
    # epochs_to_save '0,2' of a 3-epoch run: epoch_1 never exists and is never planned.
    assert [c.epoch for c in r16.cells if c.task == "capitalization"] == [0, 2]
    # $USER in input_dir_base is the name of whoever renders.
    assert r8.cells[0].data_path == "/scratch/gpfs/MSALGANIK/mjs3/GitHub/cruijff_kit/data/green/capitalization/words_5L_80P_1000.json"
    assert (r8.finetune_job, r16.finetune_job) == ("r8_lr1e-5", "r16_lr1e-5")
    assert plan.max_jobs == 25
    assert said(plan, "has no prompt", "'{input}'")


def test_october_layout(experiment):
    plan = build_plan(experiment("oct2025"))
    runs = by_dir(plan)
    prompt1, prompt2 = runs["prompt1_bs4"], runs["prompt2_bs4"]
    # No output_dir_base, no Checkpoint directory in the October summary: claude.local.md's
    # Outputs; the run name is my_wandb_run_name, not the directory's.
    assert prompt1.cells[0].model_path == "/scratch/gpfs/MSALGANIK/niznik/ck-outputs/ck-out-oct1-prompt-1/epoch_0"
    assert said(plan, "prompt1_bs4/setup_finetune.yaml has no output_dir_base", "Common Paths → Outputs")
    # input_formatting 'raw' is a directory of the data path.
    assert prompt1.cells[0].data_path.endswith("/capitalization/raw/words_5L_80P_1000.json")
    # A parquet dataset is a folder; save_last_epoch_only keeps epoch_1 alone.
    assert [(c.epoch, c.data_path.rsplit("/", 1)[1]) for c in prompt2.cells] == [(1, "words_5L_80P_1000_parquet")]
    assert prompt2.finetune_job == "oct1-prompt-2"  # finetune.slurm's own line
    assert prompt2.system_prompt == "Capitalize the given word"
    assert said(plan, "prompt2_bs4/setup_finetune.yaml has no system_prompt", "summary's Training system prompt")
    assert said(plan, "no Temperature", "greedily")


def edit_setup(directory: Path, run: str, **changes) -> Path:
    path = directory / run / "setup_finetune.yaml"
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_finetune_yaml_wins_over_a_setup_file_that_says_otherwise(experiment):
    directory = experiment("nov2025")
    edit_setup(directory, "cap_r8_lr1e-5", output_dir_base="/elsewhere/$USER/")
    plan = build_plan(directory)
    assert by_dir(plan)["cap_r8_lr1e-5"].cells[0].model_path.startswith("/scratch/gpfs/MSALGANIK/mjs3/cap_rank_sweep")
    assert said(plan, "puts the checkpoints in /elsewhere/mjs3/cap_rank_sweep_2025-11-12/ck-out-r8_lr1e-5",
                "finetune.yaml (what the training reads)")


def test_without_a_run_name_or_finetune_yaml_the_directory_name_is_used_and_said(experiment):
    directory = experiment("nov2025")
    setup = edit_setup(directory, "cap_r16_lr1e-5", my_wandb_run_name=None, output_dir_base="/ck/")
    plan = build_plan(directory)
    run = by_dir(plan)["cap_r16_lr1e-5"]
    assert run.cells[0].model_path == "/ck/cap_rank_sweep_2025-11-12/ck-out-cap_r16_lr1e-5/epoch_0"
    assert run.finetune_job == "cap_r16_lr1e-5"
    assert said(plan, f"{setup} has no my_wandb_run_name", "random name", "'cap_r16_lr1e-5'")


def test_an_epoch_training_does_not_save_is_refused_naming_run_epoch_and_setting(experiment):
    directory = experiment("nov2025")
    summary = directory / "experiment_summary.md"
    summary.write_text(summary.read_text().replace("| cap_r16_lr1e-5 | ✓ epoch 0,2 |", "| cap_r16_lr1e-5 | ✓ epoch 0,1 |"))
    with pytest.raises(InputError) as error:
        build_plan(directory)
    message = str(error.value)
    assert "is to be evaluated at epoch 1" in message and "save only epoch_0, epoch_2" in message
    assert "epochs_to_save" in message


def test_no_checkpoint_directory_anywhere_names_all_three_places(experiment):
    directory = experiment("oct2025")
    site = directory / "claude.local.md"
    site.write_text("\n".join(line for line in site.read_text().splitlines() if "Output base directory" not in line))
    with pytest.raises(InputError, match="prompt1_bs4/setup_finetune.yaml: no output_dir_base") as error:
        build_plan(directory)
    assert "Checkpoint directory" in str(error.value) and "Common Paths → Outputs" in str(error.value)


@pytest.mark.parametrize("dataset_type,system_prompt,warned", [
    ("text_completion", "You capitalize words.", True),
    ("text_completion", "", False),
    ("chat_completion", "You capitalize words.", False),
])
def test_a_system_prompt_with_text_completion_is_said_to_be_unused(tmp_path, dataset_type, system_prompt, warned):
    """The plan prints the system prompt of every script, but cruijff_kit's tasks send one only
    through the chat template (the example's `if chat:`): without one it is not used."""
    directory = tmp_path / "experiment"
    shutil.copytree(ROOT / "examples/cap_1B_yaml", directory)
    path = directory / "experiment_summary.yaml"
    path.write_text(path.read_text().replace('  system_prompt: ""\n', f'  system_prompt: "{system_prompt}"\n', 1)
                    .replace('dataset_type: "chat_completion"', f'dataset_type: "{dataset_type}"', 1))
    warning = (f"{path}: controls.dataset_type is text_completion, so the system prompt {system_prompt!r} is not used: "
               "cruijff_kit's tasks send a system prompt only through the chat template (use_chat_template true)")
    warnings = build_plan(directory).warnings
    assert (warning in warnings) is warned, warnings
    assert not [w for w in warnings if "text_completion, so the system prompt" in w and w != warning]
