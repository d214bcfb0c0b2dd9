"""`{name}` in an input value: a factor of the run, expanded, or refused; never passed on as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from extensions.errors import InputError
from extensions.placeholders import expand
from extensions.plan import build_plan
from tests.experiment import SITE, Experiment, Run, Task

SUMMARY = Path("/scratch/exp/experiment_summary.md")
# A fine-tuned run's All Runs factors, and a base run's ("-": no value), as in examples/cap_1B_lora.
R8 = {"LoRA Rank": "8", "Learning Rate": "1e-5"}
BASE = {"LoRA Rank": "-", "Learning Rate": "-"}


def refused(value: str, factors: dict, **options) -> str:
    with pytest.raises(InputError) as caught:
        expand(value, factors, SUMMARY, "dataset", "r8_lr1e-5", **options)
    assert caught.value.file == str(SUMMARY)
    return str(caught.value)


# -- expand ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["{lora_rank}", "{LoRA Rank}", "{lora-rank}", "{LORA_RANK}"])
def test_factor_names_are_normalised(written):
    """`{lora_rank}` means the factor "LoRA Rank": case, spaces, `-` and `_` do not matter."""
    assert expand(f"/data/rank{written}.json", R8, SUMMARY, "dataset", "r8_lr1e-5") == "/data/rank8.json"


def test_several_factors_in_one_value():
    value = "/ck-outputs/r{lora_rank}_lr{learning_rate}/epoch_1"
    assert expand(value, R8, SUMMARY, "checkpoint_path", "r8_lr1e-5") == "/ck-outputs/r8_lr1e-5/epoch_1"


def test_input_stays_when_kept():
    """A prompt's `{input}` is the task's to fill, per sample."""
    prompt = "Rank {lora_rank} model, capitalize: {input}\n"
    assert expand(prompt, R8, SUMMARY, "prompt", "r8_lr1e-5", keep_input=True) == "Rank 8 model, capitalize: {input}\n"


def test_input_is_refused_where_not_kept():
    """In a dataset path `{input}` is no factor: refused like any other unknown name."""
    assert "has the placeholder {input}, which is not a factor of the run" in refused("/data/{input}.json", R8)


def test_escaped_braces_stay():
    """`{{` and `}}` are str.format's escaped braces: the task turns them into `{` and `}`."""
    prompt = 'Answer as JSON {{"word": ...}} for {input} (rank {lora_rank})'
    expanded = expand(prompt, R8, SUMMARY, "prompt", "r8_lr1e-5", keep_input=True)
    assert expanded == 'Answer as JSON {{"word": ...}} for {input} (rank 8)'


def test_value_without_braces_is_unchanged():
    assert expand("/data/words_5L_80P_1000.json", {}, SUMMARY, "dataset", "r8_lr1e-5") == "/data/words_5L_80P_1000.json"


def test_unknown_name_is_refused_listing_the_factors():
    message = refused("/data/{scenario}.json", R8)
    assert "dataset '/data/{scenario}.json' of run r8_lr1e-5 has the placeholder {scenario}" in message
    assert "which is not a factor of the run (its factors: {learning_rate}, {lora_rank})" in message


def test_unknown_name_of_a_run_without_factors():
    assert "(it has no factors)" in refused("/data/{scenario}.json", {})


def test_factor_a_base_run_leaves_blank_is_refused():
    """A base run's "-" in All Runs is no value: a path built from it would be `/data/rank-.json`."""
    message = refused("/data/rank{lora_rank}.json", BASE)
    assert "has the placeholder {lora_rank}, which the run gives no value" in message
    assert "(it has no factors)" in message  # "-" everywhere: no factor to offer instead


# -- through the plan ---------------------------------------------------------------------------


def with_scenario(experiment: Experiment, scenarios: dict[str, str]) -> Experiment:
    """The helper's summary with a "Scenario" factor column in All Runs ("-" for a base run)."""
    text = experiment.summary()
    rows = "\n".join(
        f"| {run.name} | {run.model} | {'8' if run.kind == 'Fine-tuned' else '-'} | {scenarios.get(run.name, '-')} "
        f"| {run.kind} | ~10 min |"
        for run in experiment.runs
    )
    table = (
        "| Run Name | Model | LoRA Rank | Scenario | Type | Est. Time |\n"
        "|----------|-------|-----------|----------|------|-----------|\n" + rows + "\n"
    )
    text, count = re.subn(r"(## All Runs\n\n)\|.*?\n\n", lambda m: m.group(1) + table + "\n", text, flags=re.DOTALL)
    assert count == 1
    experiment.summary_override = text
    return experiment


def scenario_experiment(dataset: str, runs: list[Run] | None = None) -> Experiment:
    return with_scenario(
        Experiment(runs=runs or [Run("r8_easy"), Run("r8_hard")], tasks=[Task("capitalization", dataset=dataset)], site=SITE),
        {"r8_easy": "easy", "r8_hard": "hard"},
    )


def test_each_run_gets_its_own_dataset(tmp_path):
    """A Dataset cell `/data/{scenario}.json` gives each run the file of its Scenario."""
    plan = build_plan(scenario_experiment("`/data/{scenario}.json`").write(tmp_path / "exp"))
    assert plan.factors == ["LoRA Rank", "Scenario"]
    assert [(run.name, [cell.data_path for cell in run.cells]) for run in plan.runs] == [
        ("r8_easy", ["/data/easy.json"]),
        ("r8_hard", ["/data/hard.json"]),
    ]
    # args_task.py takes data_path: the expanded path is what the task gets.
    assert plan.runs[1].cells[0].task_args["data_path"] == "/data/hard.json"


def test_dataset_placeholder_that_is_no_factor_is_refused(tmp_path):
    directory = scenario_experiment("`/data/{condition}.json`").write(tmp_path / "exp")
    with pytest.raises(InputError) as caught:
        build_plan(directory)
    message = str(caught.value)
    assert caught.value.file == str(directory / "experiment_summary.md")
    assert "dataset '/data/{condition}.json' of run r8_easy has the placeholder {condition}" in message
    assert "(its factors: {lora_rank}, {scenario})" in message


def test_dataset_placeholder_of_a_base_run_is_refused(tmp_path):
    """A base run has "-" for Scenario: it has no file of its own to evaluate."""
    runs = [Run("r8_easy"), Run("Llama-3.2-1B-Instruct_base", kind="Control")]
    directory = scenario_experiment("`/data/{scenario}.json`", runs).write(tmp_path / "exp")
    with pytest.raises(InputError) as caught:
        build_plan(directory)
    assert "of run Llama-3.2-1B-Instruct_base has the placeholder {scenario}, which the run gives no value" in str(caught.value)
