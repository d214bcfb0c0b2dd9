"""What a cruijff_kit v0.3.4 design's values become in the rendered cells, through the real
`copier` command line, for the readings a sweep found wrong (issue 18: nothing silent).

Each case edits a copy of examples/cap_1B_yaml with yaml (as a person editing the file
would), renders it with `copier copy`, and reads what each cell was given from the cell's
config file `{run}/eval/{cell}.eval.yaml` (what the task reads) and its script.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.conftest import ROOT, run_copier
from tests.test_errors import snapshot

EXAMPLE = ROOT / "examples/cap_1B_yaml"
COPY = ("copy", "--trust", "--defaults", "--vcs-ref", "HEAD")
EXPERIMENT_DIR = "/scratch/gpfs/MSALGANIK/mjs3/ck-projects/capitalization/cap_1B_rank_sweep"
TRAINING = "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_5L_80P_1000.json"
MODEL = "/scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B-Instruct"


def design(tmp_path: Path, mutate) -> Path:
    directory = tmp_path / "experiment"
    shutil.copytree(EXAMPLE, directory)
    path = directory / "experiment_summary.yaml"
    summary = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(summary)
    path.write_text(yaml.safe_dump(summary, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return directory


def render(directory: Path, **env: str):
    result = run_copier(*COPY, str(ROOT), str(directory), env=env or None)
    assert result.returncode == 0, result.stderr
    return result


def refused(directory: Path, **env: str) -> str:
    before = snapshot(directory)
    result = run_copier(*COPY, str(ROOT), str(directory), env=env or None)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(directory) == before
    return result.stderr


def config(directory: Path, run: str, cell: str) -> dict:
    return yaml.safe_load((directory / run / "eval" / f"{cell}.eval.yaml").read_text(encoding="utf-8"))


# -- item 1: `dataset: same` --------------------------------------------------------------------


def test_dataset_same_is_the_training_data_not_the_runs_eval_data(tmp_path):
    """cruijff_kit's `same` is data.training.path (spec §8.1): a run's own eval_dataset_path,
    which a task without a dataset would use, does not replace it."""
    def mutate(s):
        s["runs"][0]["parameters"]["eval_dataset_path"] = "/scratch/gpfs/MSALGANIK/mjs3/ck-data/r8_held_out.json"
        s["evaluation"]["tasks"][1]["dataset"] = "same"
        s["evaluation"]["matrix"][0]["tasks"] = ["capitalization", "capitalization_6L"]
    directory = design(tmp_path, mutate)
    render(directory)
    assert config(directory, "r8", "capitalization_6L_epoch0")["data_path"] == TRAINING
    # The task without a dataset keeps the run's own evaluation data.
    assert config(directory, "r8", "capitalization_epoch0")["data_path"] == "/scratch/gpfs/MSALGANIK/mjs3/ck-data/r8_held_out.json"


def test_dataset_same_without_training_data_is_refused(tmp_path):
    def mutate(s):
        del s["data"]["training"]["path"]
        s["evaluation"]["tasks"][1]["dataset"] = "same"
    stderr = refused(design(tmp_path, mutate))
    assert "task capitalization_6L has dataset 'same' (the training data), but data.training.path is missing" in stderr
    assert "fix: write data.training.path, or the path of the data to evaluate on as the task's dataset" in stderr


# -- item 2: checkpoints of a v0.3.4 file with output.base_directory left in ----------------------


def test_v034_leftover_base_directory_is_ignored_with_a_warning(tmp_path):
    def mutate(s):
        s["output"]["base_directory"] = "/scratch/gpfs/MSALGANIK/mjs3/old_outputs"
    directory = design(tmp_path, mutate)
    result = render(directory)
    assert config(directory, "r8", "capitalization_epoch1")["model_path"] == f"{EXPERIMENT_DIR}/r8/artifacts/epoch_1"
    assert ("output.base_directory is not read since cruijff_kit v0.3.4 (experiment.dir): "
            f"checkpoints are {{experiment.dir}}/{{run}}/artifacts/epoch_N, in {EXPERIMENT_DIR}") in result.stderr


def test_v034_leftover_checkpoint_pattern_is_ignored_with_a_warning(tmp_path):
    def mutate(s):
        s["output"]["base_directory"] = "/scratch/gpfs/MSALGANIK/mjs3/old_outputs"
        s["output"]["checkpoint_pattern"] = "ck-out-{run_name}/epoch_{N}"
    directory = design(tmp_path, mutate)
    result = render(directory)
    assert config(directory, "r16", "capitalization_epoch0")["model_path"] == f"{EXPERIMENT_DIR}/r16/artifacts/epoch_0"
    assert "output.base_directory, output.checkpoint_pattern are not read since cruijff_kit v0.3.4" in result.stderr


# -- item 3: a control's model path is models.base[name == run.model].path -----------------------


def test_control_takes_the_path_of_its_own_model_among_similar_names(tmp_path):
    def mutate(s):
        s["models"]["base"].insert(0, {"name": "Llama-3.2-1B", "path": "/scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B"})
    directory = design(tmp_path, mutate)
    render(directory)
    assert config(directory, "Llama-3.2-1B-Instruct_base", "capitalization_base")["model_path"] == MODEL


def test_control_whose_model_is_listed_only_under_a_longer_name_is_refused(tmp_path):
    """A listed Llama-3.2-1B-Instruct is not the path of a control of Llama-3.2-1B."""
    def mutate(s):
        s["runs"][2]["model"] = "Llama-3.2-1B"
    stderr = refused(design(tmp_path, mutate))
    assert "base run Llama-3.2-1B-Instruct_base uses model 'Llama-3.2-1B', which has no path under models.base" in stderr
    assert "models.base names 'Llama-3.2-1B-Instruct' (runs[].model must be one of them exactly)" in stderr


def test_control_whose_model_is_listed_only_under_a_shorter_name_is_refused(tmp_path):
    def mutate(s):
        s["models"]["base"][0]["name"] = "Llama-3.2-1B"
    stderr = refused(design(tmp_path, mutate))
    assert "base run Llama-3.2-1B-Instruct_base uses model 'Llama-3.2-1B-Instruct', which has no path under models.base" in stderr
    assert "models.base names 'Llama-3.2-1B'" in stderr


# -- item 4: $USER in every path field is the name of whoever renders ----------------------------


def test_user_in_every_path_field_is_expanded_when_rendering(tmp_path):
    def mutate(s):
        s["experiment"]["dir"] = "/scratch/gpfs/MSALGANIK/$USER/ck-projects/cap"
        s["data"]["training"]["path"] = "/scratch/gpfs/MSALGANIK/$USER/ck-data/words.json"
        s["models"]["base"][0]["path"] = "/scratch/gpfs/MSALGANIK/${USER}/models/Llama-3.2-1B-Instruct"
        s["evaluation"]["tasks"][1]["dataset"] = "/scratch/gpfs/MSALGANIK/$USER/ck-data/six.json"
        s["runs"][1]["parameters"]["eval_dataset_path"] = "/scratch/gpfs/MSALGANIK/$USER/ck-data/r16.json"
        s["runs"].append({"name": "elsewhere", "type": "eval-only", "model": "Llama-3.2-1B-Instruct",
                          "parameters": {"checkpoint_path": "/scratch/gpfs/MSALGANIK/$USER/old/epoch_0"}})
        s["evaluation"]["matrix"].append({"run": "elsewhere", "tasks": ["capitalization"], "epochs": None})
    directory = design(tmp_path, mutate)
    result = render(directory, USER="ada")
    root = "/scratch/gpfs/MSALGANIK/ada"
    assert config(directory, "r8", "capitalization_epoch0")["model_path"] == f"{root}/ck-projects/cap/r8/artifacts/epoch_0"
    assert config(directory, "r8", "capitalization_epoch0")["data_path"] == f"{root}/ck-data/words.json"
    assert config(directory, "r16", "capitalization_epoch0")["data_path"] == f"{root}/ck-data/r16.json"
    base = config(directory, "Llama-3.2-1B-Instruct_base", "capitalization_6L_base")
    assert (base["model_path"], base["data_path"]) == (f"{root}/models/Llama-3.2-1B-Instruct", f"{root}/ck-data/six.json")
    assert config(directory, "elsewhere", "capitalization_base")["model_path"] == f"{root}/old/epoch_0"
    for written in sorted(directory.glob("*/eval/*.*")):
        assert "USER" not in written.read_text(encoding="utf-8"), written
    assert ("$USER in experiment_summary.yaml is the name of whoever renders, 'ada': in data.training.path, "
            "experiment.dir, models.base[0].path, run elsewhere: parameters.checkpoint_path, "
            "run r16: parameters.eval_dataset_path, task capitalization_6L: dataset") in result.stderr


# -- item 6: readings that were silent ------------------------------------------------------------


def test_legacy_scorer_in_a_v034_file_is_ignored_with_a_warning(tmp_path):
    """v0.3.4's propagate.py copies evaluation.scorers alone: a `scorer` left in is not read."""
    def mutate(s):
        s["evaluation"]["scorer"] = s["evaluation"].pop("scorers")
    directory = design(tmp_path, mutate)
    result = render(directory)
    assert "scorers" not in config(directory, "r8", "capitalization_epoch0")
    assert ("evaluation.scorer is not read since cruijff_kit v0.3.4 (experiment.dir), which reads evaluation.scorers: "
            "no scorers are written to the cells' config files (rename it scorers)") in result.stderr


def test_scorer_beside_scorers_is_named_as_not_read(tmp_path):
    def mutate(s):
        s["evaluation"]["scorer"] = [{"name": "includes"}]
    directory = design(tmp_path, mutate)
    result = render(directory)
    assert config(directory, "r8", "capitalization_epoch0")["scorers"] == [{"name": "match"}]
    assert "evaluation.scorer is not read beside evaluation.scorers: the scorers are evaluation.scorers'" in result.stderr


def test_dataset_type_under_data_training_is_named_as_not_read(tmp_path):
    """It sat there only in an unreleased commit; v0.3.4 reads controls.dataset_type alone."""
    def mutate(s):
        del s["controls"]["dataset_type"]
        s["data"]["training"]["dataset_type"] = "text_completion"
    directory = design(tmp_path, mutate)
    result = render(directory)
    assert "use_chat_template" not in config(directory, "r8", "capitalization_epoch0")
    assert ("data.training.dataset_type 'text_completion' is not read (cruijff_kit v0.3.4 reads controls.dataset_type "
            "only): move it to controls.dataset_type") in result.stderr


def test_an_empty_vis_label_is_the_run_name_with_a_warning(tmp_path):
    def mutate(s):
        s["evaluation"]["matrix"][0]["vis_label"] = ""
    directory = design(tmp_path, mutate)
    result = render(directory)
    assert config(directory, "r8", "capitalization_epoch0")["vis_label"] == "r8"
    assert "evaluation.matrix[0].vis_label is empty: run r8's cells are labelled 'r8'" in result.stderr


def test_a_run_parameter_system_prompt_is_said_to_be_only_a_factor(tmp_path):
    def mutate(s):
        s["runs"][0]["parameters"]["system_prompt"] = "Answer in capitals."
    directory = design(tmp_path, mutate)
    result = render(directory)
    assert config(directory, "r8", "capitalization_epoch0")["system_prompt"] == ""
    assert ("run r8: parameters.system_prompt is not the run's system prompt (cruijff_kit evaluates with "
            "controls.system_prompt, or a task's system_prompt): it is only a factor of the run") in result.stderr


def test_unknown_compute_keys_are_named(tmp_path):
    def mutate(s):
        s["evaluation"]["compute"]["partition"] = "gpu"
    result = render(design(tmp_path, mutate))
    assert "evaluation.compute has keys this template does not read: partition: ignored" in result.stderr


def test_one_compute_block_over_models_of_different_sizes_is_said(tmp_path):
    """A shared --mem under-provisions the larger model's cells (spec §9 item 5)."""
    def mutate(s):
        s["models"]["base"].append({"name": "Llama-3.3-70B-Instruct", "path": "/scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.3-70B-Instruct"})
        s["runs"].append({"name": "big_base", "type": "control", "model": "Llama-3.3-70B-Instruct", "parameters": {}})
        s["evaluation"]["matrix"].append({"run": "big_base", "tasks": ["capitalization"], "epochs": None})
        s["evaluation"]["compute"]["mem"] = "80G"
    directory = design(tmp_path, mutate)
    result = render(directory)
    assert ("evaluation.compute mem sets the resources of every run, whatever its model's size "
            "(Llama-3.2-1B-Instruct, Llama-3.3-70B-Instruct), over each size's own") in result.stderr
    assert "#SBATCH --mem=80G" in (directory / "big_base/eval/capitalization_base.slurm").read_text()


# -- item 7: a v0.1.x design whose task file does not exist yet ---------------------------------


def task_arguments(script: Path) -> dict:
    """The task arguments a script hands inspect (its --task-config file, written by a heredoc)."""
    text = script.read_text(encoding="utf-8")
    return json.loads(text.split("<<'TASK_ARGS'\n", 1)[1].split("\nTASK_ARGS\n", 1)[0])


def test_a_v01_design_sends_its_eras_arguments_to_a_task_file_not_yet_written(tmp_path):
    """cruijff_kit v0.1.x's scripts passed -T data_path, prompt and system_prompt; config_path,
    vis_label and use_chat_template came with v0.2.0's setup_inspect.py (spec §6.2)."""
    directory = tmp_path / "experiment"
    shutil.copytree(ROOT / "tests/fixtures/yaml/v0.1.0", directory)
    result = render(directory)
    assert "does not exist yet" in result.stderr
    for run in ("Llama-3.2-1B-Instruct_lr1e-5", "Llama-3.2-1B-Instruct_base"):
        for script in sorted((directory / run / "eval").glob("*.slurm")):
            assert task_arguments(script) == {
                "data_path": "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_5L_80P_1000.json",
                "prompt": "{input}",
                "system_prompt": "",
            }, script
            assert not script.with_name(f"{script.stem}.eval.yaml").exists()


def test_a_v02_design_keeps_the_config_file_form(tmp_path):
    directory = tmp_path / "experiment"
    shutil.copytree(ROOT / "tests/fixtures/yaml/v0.2.0", directory)
    render(directory)
    script = sorted(directory.glob("*/eval/*.slurm"))[0]
    assert set(task_arguments(script)) == {"data_path", "vis_label"}
    assert script.with_name(f"{script.stem}.eval.yaml").is_file()  # the task's config_path
