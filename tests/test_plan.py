"""The plan: which cells exist, with which values, and every refusal of bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from extensions.errors import InputError
from extensions.plan import build_plan
from tests.conftest import ROOT
from tests.experiment import SITE, Experiment, Run, Task


def plan_of(tmp_path: Path, experiment: Experiment, env_setup: str | None = None):
    return build_plan(experiment.write(tmp_path / "exp"), env_setup)


def cells(plan) -> list[str]:
    return [f"{run.dir}/{cell.name}.slurm" for run in plan.runs for cell in run.cells]


def test_example_plan(tmp_path):
    experiment = tmp_path / "cap"
    shutil.copytree(ROOT / "examples/cap_1B_lora", experiment)
    plan = build_plan(experiment)
    assert cells(plan) == [
        "r8_lr1e-5/capitalization_epoch0.slurm",
        "r8_lr1e-5/capitalization_epoch1.slurm",
        "r8_lr1e-5/capitalization_6L_epoch1.slurm",
        "r16_lr1e-5/capitalization_epoch0.slurm",
        "r16_lr1e-5/capitalization_epoch1.slurm",
        "r16_lr1e-5/capitalization_6L_epoch1.slurm",
        "Llama-3.2-1B-Instruct_base/capitalization_base.slurm",
        "Llama-3.2-1B-Instruct_base/capitalization_6L_base.slurm",
    ]
    r8, _, base = plan.runs
    assert r8.cells[1].model_path == "/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r8_lr1e-5/epoch_1"
    assert r8.cells[2].data_path.endswith("/words_6L_80P_1000.json")  # the task's own dataset
    assert r8.cells[0].task_file == "cap_task.py"  # relative to the experiment, wherever it is
    assert (r8.cells[0].script, r8.cells[0].log_dir, r8.cells[0].done_mark) == (
        "r8_lr1e-5/eval/capitalization_epoch0.slurm",
        "r8_lr1e-5/eval/logs",
        "r8_lr1e-5/eval/logs/.capitalization_epoch0.complete",
    )
    assert base.cells[1].metadata == {
        "experiment": "Capitalization LoRA Rank Sweep (Llama-3.2-1B)",
        "run": "Llama-3.2-1B-Instruct_base",
        "task": "capitalization_6L",
        "epoch": "base",
        "kind": "base",
        "cell": "capitalization_6L_base",
        "vis_label": "Llama-3.2-1B-Instruct_base",
        "is_finetuned": False,
        "source_model": "Llama-3.2-1B-Instruct",
        "fingerprint": base.cells[1].fingerprint,  # tests/test_fingerprint.py
    }
    # cap_task.py's @task takes data_path, prompt and system_prompt: all three as arguments.
    assert (base.cells[1].function, base.cells[1].config, base.cells[1].task_checked) == ("capitalization_6L", None, True)
    assert base.cells[1].task_args == {
        "data_path": "/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_6L_80P_1000.json",
        "prompt": "Capitalize the given word: {input}\n",
        "system_prompt": "",
    }
    assert plan.factors == ["LoRA Rank", "Learning Rate"]
    assert r8.factors == {"LoRA Rank": "8", "Learning Rate": "1e-5"}
    assert base.factors == {"LoRA Rank": "-", "Learning Rate": "-"}
    assert base.cells[0].model_path == "/scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B-Instruct"
    assert base.cells[0].data_path.endswith("/words_5L_80P_1000.json")
    assert (base.prompt, base.system_prompt) == ("Capitalize the given word: {input}\n", "")
    # claude.local.md's Constraint (gpu80) names the site's GPUs for every tier.
    assert r8.resources == {"tier": "1B", "mem": "32G", "gpus": 1, "constraint": "gpu80", "cpus": 4, "time": "0:40:00"}
    assert r8.conda_env == "cruijff"
    assert r8.sbatch == [["nodes", "1"], ["ntasks", "1"], ["cpus-per-task", "4"], ["mem", "32G"],
                         ["time", "0:40:00"], ["gres", "gpu:1"], ["account", "msalganik"], ["constraint", "gpu80"]]
    assert plan.warnings == []


@pytest.mark.parametrize(
    "name,directory",
    [("Llama-3.2-1B-Instruct_base", "Llama-3.2-1B-Instruct_base"), ("Llama-3.2-1B-Instruct", "Llama-3.2-1B-Instruct_base")],
)
def test_base_run_directory_never_doubles_the_suffix(tmp_path, name, directory):
    plan = plan_of(tmp_path, Experiment(runs=[Run(name, kind="Control")], site=SITE))
    assert cells(plan) == [f"{directory}/capitalization_base.slurm"]


def test_text_plan_epochs_apply_to_every_run_by_its_own_epoch_count(tmp_path):
    experiment = Experiment(
        runs=[Run("a", epochs=1), Run("b", epochs=3)], plan_text="Evaluate every epoch of each run."
    )
    assert cells(plan_of(tmp_path, experiment)) == [
        "a/capitalization_epoch0.slurm",
        "b/capitalization_epoch0.slurm",
        "b/capitalization_epoch1.slurm",
        "b/capitalization_epoch2.slurm",
    ]


def test_matrix_overrides_the_text_per_run(tmp_path):
    experiment = Experiment(
        runs=[Run("a", epochs=3), Run("b", epochs=3), Run("c", epochs=3), Run("m_base", kind="Base")],
        tasks=[Task("t1"), Task("t2")],
        plan_text="Evaluate the last epoch.",
        matrix=[
            ["a", "✓ epoch 0,2", "-"],
            ["b", "✓", "✗"],
            ["c", "", "✓ epochs 0-1"],
            ["m_base", "✓", ""],
        ],
    )
    experiment.matrix = [row + [""] for row in experiment.matrix]
    assert cells(plan_of(tmp_path, experiment)) == [
        "a/t1_epoch0.slurm",
        "a/t1_epoch2.slurm",
        "b/t1_epoch2.slurm",
        "c/t2_epoch0.slurm",
        "c/t2_epoch1.slurm",
        "m_base/t1_base.slurm",
    ]


def test_generalization_dataset_is_used_for_every_run(tmp_path):
    experiment = Experiment(
        runs=[Run("a"), Run("x_base", kind="Base")],
        tasks=[Task("t1"), Task("t2", dataset="`/data/other/words_6L.json`")],
    )
    plan = plan_of(tmp_path, experiment)
    data = {f"{run.dir}/{c.task}": c.data_path for run in plan.runs for c in run.cells}
    assert data == {
        "a/t1": "/scratch/data/capitalization/words_5L_80P_1000.json",
        "a/t2": "/data/other/words_6L.json",
        "x_base/t1": "/scratch/data/capitalization/words_5L_80P_1000.json",
        "x_base/t2": "/data/other/words_6L.json",
    }


def test_70b_runs_get_four_gpus(tmp_path):
    model = "Llama-3.3-70B-Instruct"
    experiment = Experiment(runs=[Run("big", model=model)], models={model: "/m/70b"}, per_eval_time="~45 minutes")
    (run,) = plan_of(tmp_path, experiment).runs
    assert run.resources == {"tier": "70B", "mem": "256G", "gpus": 4, "constraint": "gpu80", "cpus": 8, "time": "1:30:00"}


def test_account_and_conda_env_precedence(tmp_path):
    site = SITE.replace("`msalganik`", "`sitelab`").replace("`cruijff`", "`siteenv`")
    experiment = Experiment(
        runs=[Run("own", account="runlab", conda_env="runenv"), Run("none", account=None, conda_env=None), Run("b_base", kind="Base")],
        site=site,
    )
    plan = plan_of(tmp_path, experiment)
    assert [(r.dir, dict(r.sbatch).get("account"), r.conda_env) for r in plan.runs] == [
        ("own", "runlab", "runenv"),
        ("none", "sitelab", "siteenv"),
        ("b_base", "sitelab", "siteenv"),
    ]


def test_no_site_file_base_runs_share_what_the_fine_tuned_runs_agree_on(tmp_path):
    experiment = Experiment(runs=[Run("a", account="lab"), Run("b", account="lab"), Run("b_base", kind="Base")])
    plan = plan_of(tmp_path, experiment)
    assert [(dict(r.sbatch)["account"], r.conda_env) for r in plan.runs] == [("lab", "cruijff")] * 3


def test_no_account_anywhere_means_none(tmp_path):
    (run,) = plan_of(tmp_path, Experiment()).runs
    assert "account" not in dict(run.sbatch)


@pytest.mark.parametrize("name", ["../x", "a/b", "-rf", ".hidden", "a b", "."])
def test_unsafe_run_names_are_refused(tmp_path, name):
    with pytest.raises(InputError, match="not one safe path component") as error:
        plan_of(tmp_path, Experiment(runs=[Run(name, write_setup=False)]))
    assert repr(name) in str(error.value)


def test_empty_run_name_is_refused(tmp_path):
    with pytest.raises(InputError, match="''"):
        plan_of(tmp_path, Experiment(runs=[Run("", write_setup=False)]))


def test_epoch_outside_the_training_is_refused(tmp_path):
    experiment = Experiment(runs=[Run("a", epochs=2)], plan_text="Evaluate epochs 0 and 2.")
    with pytest.raises(InputError, match=r"epoch 2 of run a .* outside 0..1") as error:
        plan_of(tmp_path, experiment)
    assert "0-indexed" in str(error.value)


def test_fine_tuned_run_without_setup_file(tmp_path):
    with pytest.raises(InputError, match=r"a/setup_finetune.yaml: setup_finetune.yaml not found"):
        plan_of(tmp_path, Experiment(runs=[Run("a", write_setup=False)]))


def test_base_model_without_a_path(tmp_path):
    experiment = Experiment(runs=[Run("q_base", kind="Base", model="Qwen2.5-0.5B")])
    with pytest.raises(InputError, match=r"'Qwen2.5-0.5B', which has no path under Resources → Models"):
        plan_of(tmp_path, experiment)


def test_missing_conda_env_is_refused_only_when_the_setup_uses_it(tmp_path):
    experiment = Experiment(runs=[Run("a", conda_env=None)])
    with pytest.raises(InputError, match="run a has no conda environment"):
        plan_of(tmp_path, experiment)
    plan = build_plan(tmp_path / "exp", "source /opt/venv/bin/activate")
    assert plan.runs[0].conda_env is None


@pytest.mark.parametrize("output_dir_base", ["/ck,outputs/", "/ck: out/", "/ck #1/"])
def test_model_paths_that_inspect_would_alter_are_refused(tmp_path, output_dir_base):
    with pytest.raises(InputError, match=r"a/setup_finetune.yaml: model path .* would reach inspect's -M model_path altered"):
        plan_of(tmp_path, Experiment(runs=[Run("a", output_dir_base=output_dir_base)]))


def test_warnings(tmp_path):
    experiment = Experiment(
        runs=[Run("a", prompt="Answer: {input}"), Run("b", prompt="no placeholder")],
        eval_system_prompt="You are helpful.",
    )
    warnings = "\n".join(plan_of(tmp_path, experiment).warnings)
    assert "Evaluation → System prompt 'You are helpful.' differs from the Training one ''" in warnings
    assert "the prompt of b for capitalization ('no placeholder') has no {input}" in warnings
    assert "a/setup_finetune.yaml: prompt 'Answer: {input}' differs from the summary's Training prompt" in warnings


def test_system_prompt_disagreement_warns(tmp_path):
    experiment = Experiment(runs=[Run("a", system_prompt="Be brief.")])
    warnings = plan_of(tmp_path, experiment).warnings
    assert any("a/setup_finetune.yaml: system_prompt 'Be brief.' differs from the summary's Training system prompt ''" in w for w in warnings)


def test_model_disagreement_warns(tmp_path):
    experiment = Experiment(runs=[Run("a")])
    directory = experiment.write(tmp_path / "exp")
    setup = directory / "a" / "setup_finetune.yaml"
    setup.write_text(setup.read_text().replace("torchtune_model_name: Llama-3.2-1B-Instruct", "torchtune_model_name: Llama-3.1-8B-Instruct"))
    warnings = build_plan(directory).warnings
    assert any("torchtune_model_name is 'Llama-3.1-8B-Instruct' but All Runs says 'Llama-3.2-1B-Instruct'" in w for w in warnings)


def test_tasks_left_out_of_the_plan_text_are_not_evaluated_with_a_warning(tmp_path):
    experiment = Experiment(tasks=[Task("t1"), Task("t2")], plan_text="Evaluate t1 on the last epoch.")
    plan = plan_of(tmp_path, experiment)
    assert cells(plan) == ["r8_lr1e-5/t1_epoch0.slurm"]
    assert any("names t1 but not t2" in w for w in plan.warnings)


def test_base_model_found_under_a_prefixed_name(tmp_path):
    experiment = Experiment(
        runs=[Run("m_base", kind="Base", model="Llama-3.2-1B-Instruct")],
        models={"meta-llama/Llama-3.2-1B-Instruct": "/models/meta-llama/Llama-3.2-1B-Instruct"},
        site=SITE,
    )
    (run,) = plan_of(tmp_path, experiment).runs
    assert run.cells[0].model_path == "/models/meta-llama/Llama-3.2-1B-Instruct"


# A Markdown summary says nothing of these: inspect's defaults apply, and no option is given.
MARKDOWN_EXTRAS = {"seed": None, "max_connections": None, "enable_thinking": None}


@pytest.mark.parametrize(
    "temperature,decoding,warned",
    [
        ("0", {"do_sample": False, "temperature": None, "max_tokens": None, **MARKDOWN_EXTRAS}, False),
        ("0.0 (deterministic)", {"do_sample": False, "temperature": None, "max_tokens": None, **MARKDOWN_EXTRAS}, False),
        ("0.7", {"do_sample": True, "temperature": 0.7, "max_tokens": None, **MARKDOWN_EXTRAS}, False),
        (None, {"do_sample": False, "temperature": None, "max_tokens": None, **MARKDOWN_EXTRAS}, True),
    ],
)
def test_decoding_follows_the_summary_and_greedy_is_said_when_assumed(tmp_path, temperature, decoding, warned):
    plan = plan_of(tmp_path, Experiment(temperature=temperature))
    assert plan.decoding == decoding
    assert any("no Temperature" in w and "greedily" in w for w in plan.warnings) == warned


def test_a_temperature_that_is_no_number_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"Temperature 'warm' is not a number"):
        plan_of(tmp_path, Experiment(temperature="warm"))


def test_relative_and_home_checkpoint_and_model_paths_are_resolved_like_the_data_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", "/home/me")
    experiment = Experiment(
        runs=[Run("a", output_dir_base="../ck/"), Run("b", output_dir_base="~/ck/"), Run("m_base", kind="Base")],
        models={"Llama-3.2-1B-Instruct": "models/llama"},
        site=SITE,
    )
    plan = plan_of(tmp_path, experiment)
    paths = [run.cells[0].model_path for run in plan.runs]
    # setup_finetune.py runs in the run's directory: its relative paths are relative to it.
    assert paths == [f"{tmp_path}/exp/ck/ck-out-a/epoch_0", "/home/me/ck/ck-out-b/epoch_0", f"{tmp_path}/exp/models/llama"]


def test_a_yaml_design_without_a_conda_env_activates_cruijff_kits_default_and_says_so(tmp_path):
    """cruijff_kit's setup_inspect.py activates `cruijff` when nothing names another; a
    Markdown design without one is still refused (its setup files always named one)."""
    directory = tmp_path / "exp"
    shutil.copytree(ROOT / "examples/cap_1B_yaml", directory)
    (directory / "claude.local.md").unlink()
    plan = build_plan(directory)
    assert {run.conda_env for run in plan.runs} == {"cruijff"}
    assert ("runs without a conda environment (claude.local.md's Default conda environment, or a run's "
            "setup_finetune.yaml conda_env) activate 'cruijff', cruijff_kit's default") in plan.warnings


def test_a_yaml_run_whose_setup_file_puts_checkpoints_elsewhere_is_said(tmp_path):
    """v0.1-v0.2 designs: ck-out-{run} under output.base_directory; a setup file written for
    another output_dir_base is a warning, and the summary's directory is used."""
    directory = tmp_path / "exp"
    shutil.copytree(ROOT / "tests/fixtures/yaml/v0.2.0", directory)
    run = next(run["name"] for run in yaml.safe_load((directory / "experiment_summary.yaml").read_text())["runs"]
               if run["type"] == "fine-tuned")
    (directory / run).mkdir()
    (directory / run / "setup_finetune.yaml").write_text(f"my_wandb_run_name: {run}\noutput_dir_base: /elsewhere/\n")
    plan = build_plan(directory)
    (said,) = [w for w in plan.warnings if "sets" in w and "checkpoints" in w]
    assert f"sets {run} up to write its checkpoints in /elsewhere/ck-out-{run}, but experiment_summary.yaml says" in said
    (cell, *_) = next(r for r in plan.runs if r.name == run).cells
    assert not cell.model_path.startswith("/elsewhere/")


# -- no silent default: a value from no input file is a warning naming the file that sets it --


def test_without_claude_local_md_the_template_module_line_and_no_account_are_announced(tmp_path):
    plan = plan_of(tmp_path, Experiment(runs=[Run("r8"), Run("Llama-3.2-1B-Instruct_base", kind="Control")]))
    assert (f"no claude.local.md in {tmp_path / 'exp'} or its parents: every script runs `module load anaconda3/2025.6`, "
            "the template's default (the seed script's); put your cluster's module lines in a code block under "
            "claude.local.md's ## Module System, or answer env_setup (-d env_setup='…')") in plan.warnings
    assert ("no run has a Slurm account (`account:` in setup_finetune.yaml, or Account under claude.local.md's "
            "## SLURM Defaults): no --account in those scripts, so Slurm charges your default account") in plan.warnings


def test_a_site_file_without_module_lines_is_named_and_an_answered_env_setup_is_not_a_default(tmp_path):
    site = SITE.replace("## Module System\n```bash\nmodule load anaconda3/2025.6\n```\n", "")
    assert site != SITE
    plan = plan_of(tmp_path, Experiment(site=site))
    assert any(w.startswith(f"{tmp_path / 'exp' / 'claude.local.md'} has no code block under ## Module System: every script runs")
               for w in plan.warnings)
    answered = build_plan(tmp_path / "exp", "source /opt/venv/bin/activate")
    assert not any("module load" in w for w in answered.warnings)


def test_the_site_module_lines_and_account_raise_no_warning(tmp_path):
    plan = plan_of(tmp_path, Experiment(site=SITE))
    assert not any("module load" in w or "account" in w for w in plan.warnings)


def test_runs_without_an_account_are_named_when_others_have_one(tmp_path):
    plan = plan_of(tmp_path, Experiment(runs=[Run("r8", account="lab"), Run("r16")]))
    assert any(w.startswith("run r16 has no Slurm account") for w in plan.warnings)


def test_no_per_eval_time_is_the_template_default_said_with_its_bullet(tmp_path):
    plan = plan_of(tmp_path, Experiment(per_eval_time=None, site=SITE))
    assert (f"{tmp_path / 'exp' / 'experiment_summary.md'} gives no Per-eval time under Compute Estimates → Evaluation: "
            "every script gets --time=0:30:00, the template's default") in plan.warnings


def test_all_saved_epochs_are_the_epochs_the_setup_saves(tmp_path):
    # (issue 18, item 6) It was refused saying epoch 1 is not saved.
    directory = Experiment(runs=[Run("a", epochs=3)], plan_text="Evaluate all saved epochs.").write(tmp_path / "exp")
    setup = directory / "a" / "setup_finetune.yaml"
    setup.write_text(setup.read_text() + "epochs_to_save: '0,2'\n")
    assert cells(build_plan(directory)) == ["a/capitalization_epoch0.slurm", "a/capitalization_epoch2.slurm"]


def test_a_control_prompt_other_than_the_fine_tuned_runs_is_warned_about(tmp_path):
    # (issue 18, item 9) The control silently got another prompt than the runs it controls.
    experiment = Experiment(runs=[Run("a"), Run("m_base", kind="Base")], training_prompt="Capitalize: {input}")
    plan = plan_of(tmp_path, experiment)
    assert [run.prompt for run in plan.runs] == ["Capitalize the given word: {input}\n", "Capitalize: {input}"]
    assert ("base run m_base uses the summary's Configuration → Training → Prompt 'Capitalize: {input}', while every "
            "fine-tuned run is evaluated with 'Capitalize the given word: {input}\\n' (setup_finetune.yaml)") in "\n".join(plan.warnings)


def test_a_base_model_found_by_a_name_containing_it_is_warned_about(tmp_path):
    # (issue 18, item 10) Llama-3.2-1B got Llama-3.2-1B-Instruct's path without a word.
    experiment = Experiment(runs=[Run("a"), Run("m_base", kind="Base", model="Llama-3.2-1B")])
    plan = plan_of(tmp_path, experiment)
    assert plan.runs[1].cells[0].model_path == "/scratch/models/Llama-3.2-1B-Instruct"
    assert ("base run m_base uses model 'Llama-3.2-1B', which Resources → Models does not list: taking the listed "
            "'llama-3.2-1b-instruct' (/scratch/models/Llama-3.2-1B-Instruct), one name containing the other") in plan.warnings


def test_a_relative_input_dir_base_is_relative_to_the_run_directory_like_output_dir_base(tmp_path):
    # (issue 18, item 11) input_dir_base resolved against the experiment, output_dir_base
    # against the run: setup_finetune.py and the training run in the run's directory.
    experiment = Experiment(runs=[Run("a", input_dir_base="data/capitalization/", output_dir_base="ck-outputs/")])
    plan = plan_of(tmp_path, experiment)
    run_dir = (tmp_path / "exp" / "a").resolve()
    cell = plan.runs[0].cells[0]
    assert cell.model_path == f"{run_dir}/ck-outputs/ck-out-a/epoch_0"
    assert plan.runs[0].cells[0].data_path == f"{run_dir}/data/capitalization/words_5L_80P_1000.json"


def test_a_dataset_missing_where_it_can_be_looked_for_is_warned_about(tmp_path):
    # (issue 18, item 12) A bare file name became {experiment}/words_5L_80P_1000.json, which
    # does not exist, without a word.
    experiment = Experiment(tasks=[Task("capitalization", dataset="`words_5L_80P_1000.json` ✓")])
    plan = plan_of(tmp_path, experiment)
    missing = f"{(tmp_path / 'exp').resolve()}/words_5L_80P_1000.json"
    assert plan.runs[0].cells[0].data_path == missing
    assert (f"experiment_summary.md: Evaluation Tasks → capitalization → Dataset 'words_5L_80P_1000.json' is {missing}, "
            "which does not exist") in "\n".join(plan.warnings)
    assert not any("does not exist" in warning for warning in plan_of(tmp_path / "2", Experiment()).warnings)  # /scratch: not here


def test_a_run_s_training_data_missing_in_its_directory_is_warned_about(tmp_path):
    # (issue 18, item 12) A relative input_dir_base that is not there fails every evaluation.
    experiment = Experiment(runs=[Run("a", input_dir_base="data/")])
    (tmp_path / "exp" / "a" / "data").mkdir(parents=True)
    warnings = "\n".join(plan_of(tmp_path, experiment).warnings)
    assert (f"a/setup_finetune.yaml: the training data 'data/words_5L_80P_1000.json' (input_dir_base, input_formatting, "
            f"dataset_label, dataset_ext) is {tmp_path}/exp/a/data/words_5L_80P_1000.json, which does not exist") in warnings
    (tmp_path / "exp" / "a" / "data" / "words_5L_80P_1000.json").write_text("[]")
    assert "does not exist" not in "\n".join(plan_of(tmp_path, experiment).warnings)


def test_training_data_relative_to_the_experiment_instead_of_the_run_is_warned_about(tmp_path):
    experiment = Experiment(runs=[Run("a", input_dir_base="data/")])
    (tmp_path / "exp" / "data").mkdir(parents=True)
    (tmp_path / "exp" / "data" / "words_5L_80P_1000.json").write_text("[]")
    plan = plan_of(tmp_path, experiment)
    assert plan.runs[0].cells[0].data_path == f"{tmp_path}/exp/a/data/words_5L_80P_1000.json"
    assert (f"the training data 'data/words_5L_80P_1000.json' is {tmp_path}/exp/a/data/words_5L_80P_1000.json, relative to "
            f"the run's directory as setup_finetune.py reads it, which does not exist; {tmp_path}/exp/data/words_5L_80P_1000.json "
            "does: write that path") in "\n".join(plan.warnings)
