"""A cell's fingerprint changes with every input that reaches inspect, and with nothing else."""

from __future__ import annotations

import shutil

import pytest

from extensions.fingerprint import cell_fingerprint
from extensions.plan import build_plan
from tests.conftest import ROOT
from tests.experiment import SITE, Experiment, Run

INPUTS = dict(
    experiment_dir="/scratch/exp",
    task_file="tasks/capitalization.py",
    function="capitalization",
    model_path="/scratch/ck-out-r8/epoch_0",
    device_auto=False,
    task_args={"data_path": "/data/words.json", "prompt": "Capitalize: {input}", "system_prompt": ""},
    config=None,
    decoding={"do_sample": False, "temperature": None, "max_tokens": 64, "seed": None, "max_connections": 4,
              "enable_thinking": None},
)


@pytest.mark.parametrize("key,value", [
    ("task_file", "tasks/other.py"),
    ("function", "capitalization_v2"),
    ("model_path", "/scratch/ck-out-r8/epoch_1"),
    ("device_auto", True),
    ("task_args", {**INPUTS["task_args"], "prompt": "Capitalize the word: {input}"}),
    ("task_args", {**INPUTS["task_args"], "system_prompt": "You are terse."}),
    ("task_args", {**INPUTS["task_args"], "data_path": "/data/words_6L.json"}),
    ("config", {"prompt": "Capitalize: {input}", "system_prompt": "", "scorers": ["match"]}),
    ("decoding", {**INPUTS["decoding"], "temperature": 0.7, "do_sample": True}),
    ("decoding", {**INPUTS["decoding"], "max_tokens": 128}),
    ("decoding", {**INPUTS["decoding"], "seed": 1}),
])
def test_every_input_that_reaches_inspect_changes_it(key, value):
    assert cell_fingerprint(**{**INPUTS, key: value}) != cell_fingerprint(**INPUTS)


def test_a_moved_tree_keeps_the_fingerprints_of_what_lies_inside_it():
    """The dataset and checkpoint kept in the tree are the same inputs after a move; a path
    outside the tree, or one that only begins with the tree's name, is not."""
    def moved(where: str, args: dict) -> str:
        return cell_fingerprint(**{**INPUTS, "experiment_dir": where, "model_path": f"{where}/r8/artifacts/epoch_0",
                                   "task_args": args(where)})
    inside = lambda where: {**INPUTS["task_args"], "data_path": f"{where}/data/words.json"}  # noqa: E731
    assert moved("/scratch/exp", inside) == moved("/home/me/exp", inside)
    outside = lambda where: {**INPUTS["task_args"], "data_path": f"{where}-data/words.json"}  # noqa: E731
    assert moved("/scratch/exp", outside) != moved("/home/me/exp", outside)


def test_how_many_samples_run_at_once_does_not():
    decoding = {**INPUTS["decoding"], "max_connections": 32}
    assert cell_fingerprint(**{**INPUTS, "decoding": decoding}) == cell_fingerprint(**INPUTS)


def fingerprints(plan) -> dict[str, str]:
    return {f"{run.dir}/{cell.name}": cell.fingerprint for run in plan.runs for cell in run.cells}


def test_the_same_inputs_give_the_same_fingerprints_and_each_cell_its_own(tmp_path):
    experiment = tmp_path / "cap"
    shutil.copytree(ROOT / "examples/cap_1B_lora", experiment)
    first, second = fingerprints(build_plan(experiment)), fingerprints(build_plan(experiment))
    assert first == second
    assert len(set(first.values())) == len(first)


def test_a_prompt_fix_changes_the_cells_it_reaches_and_more_time_changes_none(tmp_path):
    runs = [Run("a", prompt="Capitalise {input}"), Run("b", prompt="Capitalise {input}")]
    before = fingerprints(build_plan(Experiment(runs=runs, site=SITE).write(tmp_path / "before")))
    runs[0].prompt = "Capitalize the word: {input}"
    fixed = fingerprints(build_plan(Experiment(runs=runs, site=SITE).write(tmp_path / "fixed")))
    assert fixed["a/capitalization_epoch0"] != before["a/capitalization_epoch0"]
    assert fixed["b/capitalization_epoch0"] == before["b/capitalization_epoch0"]
    # The Slurm resources decide where and how fast a cell runs, not its result.
    longer_plan = build_plan(Experiment(runs=runs, site=SITE, per_eval_time="~3 hours").write(tmp_path / "longer"))
    fixed_plan = build_plan(tmp_path / "fixed")
    assert longer_plan.runs[0].resources != fixed_plan.runs[0].resources
    assert fingerprints(longer_plan) == fixed
