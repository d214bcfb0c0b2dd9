"""The parsers on the two fixture experiments, one per summary layout (tests/fixtures)."""

from __future__ import annotations

from extensions.epochs import EpochChoice, MatrixCell
from extensions.finetune import checkpoint_dir, data_path, expand_user, read_finetune_setup, saved_epochs
from extensions.finetune_config import read_finetune_config
from extensions.notes import Warnings
from extensions.summary import BASE, FINE_TUNED, NOVEMBER, OCTOBER, read_summary
from tests.conftest import ROOT

FIXTURES = ROOT / "tests/fixtures"
CAP = "/scratch/gpfs/MSALGANIK/niznik/GitHub/cruijff_kit/data/green/capitalization"


def test_october_layout():
    warnings = Warnings()
    summary = read_summary(FIXTURES / "oct2025/experiment_summary.md", warnings)
    assert list(warnings) == []
    assert summary.layout == OCTOBER
    assert summary.title == "cap_prompt_oct2025"  # without "Experiment:"
    assert [(r.name, r.kind, r.factors) for r in summary.runs] == [
        ("prompt1_bs4", FINE_TUNED, {"Prompt Style": "prompt1", "Batch Size": "4"}),
        ("prompt2_bs4", FINE_TUNED, {"Prompt Style": "prompt2", "Batch Size": "4"}),
        ("Llama-3.2-1B_base", BASE, {"Prompt Style": "-", "Batch Size": "-"}),  # "Base (not fine-tuned)"
    ]
    # Models Used, with the check mark after the code span left out; Location kept.
    assert summary.models == {"llama-3.2-1b-instruct": "/scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B-Instruct"}
    assert summary.models_dir == "/scratch/gpfs/MSALGANIK/pretrained-llms"
    assert summary.dataset_path == f"{CAP}/raw/words_5L_80P_1000.json"
    assert [(t.name, t.script, t.dataset) for t in summary.tasks] == [
        ("capitalization", "/scratch/gpfs/MSALGANIK/niznik/GitHub/cruijff_kit/experiments/capitalization/inspect_task_capitalization.py", None),
    ]
    # "Epochs to evaluate: all (epoch_0 and epoch_1)"; the Status tables are not the plan.
    assert summary.plan_epochs == EpochChoice.every()
    assert summary.matrix == {
        "prompt1_bs4": {"capitalization": MatrixCell(True, EpochChoice.every())},
        "prompt2_bs4": {"capitalization": MatrixCell(True, EpochChoice.numbers((1,)))},
        "Llama-3.2-1B_base": {"capitalization": MatrixCell(True, None)},
    }
    # Configuration without sub-sections.
    assert (summary.epochs, summary.prompt, summary.system_prompt, summary.eval_system_prompt) == (
        2, None, "Capitalize the given word", None,
    )
    assert (summary.temperature, summary.max_tokens, summary.checkpoint_dir) == (None, None, None)
    assert summary.per_eval_minutes == 3  # "Per evaluation: ~3 minutes"


def test_november_layout():
    warnings = Warnings()
    summary = read_summary(FIXTURES / "nov2025/experiment_summary.md", warnings)
    assert list(warnings) == []
    assert summary.layout == NOVEMBER
    assert summary.title == "Capitalization: LoRA rank sweep on Llama-3.2-1B-Instruct"
    assert summary.factors == ["LoRA Rank", "Learning Rate"]
    # "at epochs 0 and 2 ..., and we compare the final accuracy": the numbers stand.
    assert summary.plan_epochs == EpochChoice.numbers((0, 2))
    assert summary.text_tasks == ("capitalization",)
    assert summary.matrix["cap_r16_lr1e-5"]["capitalization_6L"] == MatrixCell(False, None)  # "✗ (not needed)"
    assert (summary.epochs, summary.system_prompt, summary.eval_system_prompt) == (3, "", "")
    assert (summary.temperature, summary.max_tokens) == (0.0, 16)
    assert summary.checkpoint_dir == "/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/"
    assert summary.per_eval_minutes == 5


def test_november_setup_and_what_the_tool_made_of_it():
    run = FIXTURES / "nov2025/cap_r8_lr1e-5"
    warnings = Warnings()
    setup = read_finetune_setup(run / "setup_finetune.yaml", warnings)
    assert list(warnings) == []
    assert (setup.run_name, setup.experiment_name, setup.output_dir_base) == (
        "r8_lr1e-5", "cap_rank_sweep_2025-11-12", None,
    )
    assert (setup.epochs, setup.epochs_to_save, saved_epochs(setup, setup.epochs)) == (3, (0, 2), {0, 2})
    config = read_finetune_config(run / "finetune.yaml")
    # The paths computed from the setup file equal what setup_finetune.py wrote, given the
    # output_dir_base it defaulted to.
    assert expand_user(checkpoint_dir("/scratch/gpfs/MSALGANIK/$USER/", setup.experiment_name, setup.run_name), "mjs3") == config.output_dir
    assert data_path(setup, "mjs3") == config.dataset_path
    assert saved_epochs(config, config.epochs) == saved_epochs(setup, setup.epochs)


def test_october_setups_and_what_the_tool_made_of_them():
    warnings = Warnings()
    json_run = read_finetune_setup(FIXTURES / "oct2025/prompt1_bs4/setup_finetune.yaml", warnings)
    parquet_run = read_finetune_setup(FIXTURES / "oct2025/prompt2_bs4/setup_finetune.yaml", warnings)
    assert list(warnings) == []  # 'true' quoted, as setup_finetune.py needs it
    assert (json_run.run_name, json_run.input_formatting) == ("oct1-prompt-1", "raw")
    assert data_path(json_run, "niznik") == f"{CAP}/raw/words_5L_80P_1000.json"
    assert (parquet_run.prompt, parquet_run.system_prompt) == ("{input}", None)
    assert saved_epochs(parquet_run, parquet_run.epochs) == {1}
    config = read_finetune_config(FIXTURES / "oct2025/prompt2_bs4/finetune.yaml")
    assert data_path(parquet_run, "niznik") == config.dataset_path == f"{CAP}/words_5L_80P_1000_parquet"
    assert expand_user(checkpoint_dir("/scratch/gpfs/MSALGANIK/$USER/", "", parquet_run.run_name), "niznik") == config.output_dir
    assert saved_epochs(config, config.epochs) == {1}
