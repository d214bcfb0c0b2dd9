"""The reader of experiment_summary.yaml, every release v0.1.0..v0.3.4 (CRUIJFF_KIT_YAML.md §1, §6.2).

Every expected value below was read by hand from tests/fixtures/yaml/<release>/experiment_summary.yaml.
The refusals and warnings use small variants of those fixtures, written to tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from extensions.epochs import EpochChoice, MatrixCell
from extensions.errors import InputError
from extensions.model import BASE, EVAL_ONLY, FINE_TUNED, YAML
from extensions.notes import Warnings
from extensions.summary_yaml import EARLIER, V01, V034, read_summary_yaml
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "yaml"
RELEASES = ("v0.1.0", "v0.2.0", "v0.2.2", "v0.3.0", "v0.3.2", "v0.3.4")


def fixture(release: str) -> Path:
    return FIXTURES / release / "experiment_summary.yaml"


def read(path: Path):
    warnings = Warnings()
    return read_summary_yaml(path, warnings), warnings.as_list()


def variant(tmp_path: Path, release: str, mutate) -> Path:
    """The release's fixture, changed by `mutate(data)`, written as tmp_path/experiment_summary.yaml."""
    data = yaml.safe_load(fixture(release).read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "experiment_summary.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def refusal(tmp_path: Path, release: str, mutate) -> str:
    path = variant(tmp_path, release, mutate)
    with pytest.raises(InputError) as caught:
        read_summary_yaml(path, Warnings())
    assert caught.value.file == str(path)
    return str(caught.value)


def epochs(*numbers: int) -> MatrixCell:
    return MatrixCell(True, EpochChoice.numbers(numbers))


ONCE = MatrixCell(True, None)

# -- what each fixture says, by hand ---------------------------------------------------------

RUNS = {
    "v0.1.0": [("Llama-3.2-1B-Instruct_lr1e-5", FINE_TUNED), ("Llama-3.2-1B-Instruct_lr5e-5", FINE_TUNED),
               ("Llama-3.2-1B-Instruct_base", BASE)],
    "v0.2.0": [("Llama-3.2-3B-Instruct_rank8", FINE_TUNED), ("Llama-3.2-3B-Instruct_rank16", FINE_TUNED),
               ("Llama-3.2-3B-Instruct_control", BASE)],
    "v0.2.2": [("8B_income_dict", FINE_TUNED), ("8B_income_narrative", FINE_TUNED), ("8B_control", BASE)],
    "v0.3.0": [("1B_rank4", FINE_TUNED), ("1B_rank8", FINE_TUNED), ("1B_control", BASE), ("70B_control", BASE)],
    "v0.3.2": [("3B_lr1e-5", FINE_TUNED), ("3B_lr1e-4", FINE_TUNED), ("3B_control", BASE)],
    "v0.3.4": [("rank4", FINE_TUNED), ("rank8_wordcolon", FINE_TUNED), ("base_1B", BASE), ("rank16_8B_prior", EVAL_ONLY)],
}

_CAP_V01 = "/scratch/gpfs/MSALGANIK/mjs3/cruijff_kit/experiments/capitalization/inspect_task_capitalization.py"
_CAP_V02 = "/scratch/gpfs/MSALGANIK/niznik/cruijff_kit/experiments/capitalization/inspect_task_capitalization.py"
_ACS_V022 = "/scratch/gpfs/MSALGANIK/niznik/cruijff_kit/experiments/folktexts/inspect_task_acs.py"
_ACS_V032 = "/scratch/gpfs/MSALGANIK/niznik/cruijff_kit/blueprints/folktexts/inspect_task.py"
_WORDS_MJS3 = "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_5L_80P_1000.json"

# (name, script, function, dataset, prompt, system_prompt, assistant_prefix)
TASKS = {
    "v0.1.0": [("capitalization", _CAP_V01, None, None, None, None, None)],
    "v0.2.0": [("capitalization", _CAP_V02, None,
                "/scratch/gpfs/MSALGANIK/niznik/ck-data/capitalization/words_5L_80P_2000.json", None, None, None)],
    "v0.2.2": [
        ("acs_income", _ACS_V022, None,
         "/scratch/gpfs/MSALGANIK/niznik/ck-data/generated/income_dict_test_5c1e09a2.json", None, None, None),
        ("acs_employment", _ACS_V022, None,
         "/scratch/gpfs/MSALGANIK/shared/ck-data/folktexts/acs_employment_condensed_10000_test.json", None, None, None),
    ],
    "v0.3.0": [("capitalization", "/scratch/gpfs/MSALGANIK/sarahep/cruijff_kit/blueprints/capitalization/inspect_task.py",
                None, "/scratch/gpfs/MSALGANIK/sarahep/ck-data/capitalization/words_5L_80P_1000.json", None, None, None)],
    "v0.3.2": [
        ("acs_income", _ACS_V032, None,
         "/scratch/gpfs/MSALGANIK/niznik/ck-data/folktexts/acs_income_condensed_50000_80P.json", None, None, "Answer: "),
        ("acs_employment", _ACS_V032, None,
         "/scratch/gpfs/MSALGANIK/niznik/ck-data/folktexts/acs_employment_condensed_50000_80P.json", None, "", None),
    ],
    "v0.3.4": [
        ("capitalization", "tasks/config_task.py", None, None, None, None, None),
        ("capitalization_terse", "tasks/config_task.py", None, _WORDS_MJS3, "{input} ->",
         "Output the input word with an uppercase first letter.", None),
    ],
}

MATRIX = {
    "v0.1.0": {
        "Llama-3.2-1B-Instruct_lr1e-5": {"capitalization": epochs(0, 1)},
        "Llama-3.2-1B-Instruct_lr5e-5": {"capitalization": epochs(0, 1)},
        "Llama-3.2-1B-Instruct_base": {"capitalization": ONCE},
    },
    "v0.2.0": {
        "Llama-3.2-3B-Instruct_rank8": {"capitalization": epochs(0, 2)},
        "Llama-3.2-3B-Instruct_rank16": {"capitalization": epochs(0, 1, 2)},
        "Llama-3.2-3B-Instruct_control": {"capitalization": ONCE},
    },
    "v0.2.2": {
        "8B_income_dict": {"acs_income": epochs(0, 1), "acs_employment": epochs(0, 1)},
        "8B_income_narrative": {"acs_income": epochs(1), "acs_employment": epochs(1)},
        "8B_control": {"acs_income": ONCE, "acs_employment": ONCE},
    },
    "v0.3.0": {
        "1B_rank4": {"capitalization": epochs(0, 1)},
        "1B_rank8": {"capitalization": epochs(0, 1)},
        "1B_control": {"capitalization": ONCE},
        "70B_control": {"capitalization": ONCE},
    },
    "v0.3.2": {
        "3B_lr1e-5": {"acs_income": epochs(0), "acs_employment": epochs(0)},
        "3B_lr1e-4": {"acs_income": epochs(0), "acs_employment": epochs(0)},
        "3B_control": {"acs_income": ONCE, "acs_employment": ONCE},
    },
    "v0.3.4": {
        "rank4": {"capitalization": epochs(0, 1), "capitalization_terse": epochs(0, 1)},
        "rank8_wordcolon": {"capitalization": epochs(1)},
        "base_1B": {"capitalization": ONCE, "capitalization_terse": ONCE},
        "rank16_8B_prior": {"capitalization": ONCE},
    },
}

# The matrix vis_label, else the run name; "label (task)" when the entry lists several tasks.
VIS_LABELS = {
    "v0.1.0": {
        ("Llama-3.2-1B-Instruct_lr1e-5", "capitalization"): "Llama-3.2-1B-Instruct_lr1e-5",
        ("Llama-3.2-1B-Instruct_lr5e-5", "capitalization"): "Llama-3.2-1B-Instruct_lr5e-5",
        ("Llama-3.2-1B-Instruct_base", "capitalization"): "Llama-3.2-1B-Instruct_base",
    },
    "v0.2.0": {
        ("Llama-3.2-3B-Instruct_rank8", "capitalization"): "rank8",
        ("Llama-3.2-3B-Instruct_rank16", "capitalization"): "rank16",
        ("Llama-3.2-3B-Instruct_control", "capitalization"): "3B_control",
    },
    "v0.2.2": {
        ("8B_income_dict", "acs_income"): "dict (acs_income)",
        ("8B_income_dict", "acs_employment"): "dict (acs_employment)",
        ("8B_income_narrative", "acs_income"): "narrative (acs_income)",
        ("8B_income_narrative", "acs_employment"): "narrative (acs_employment)",
        ("8B_control", "acs_income"): "8B_base (acs_income)",
        ("8B_control", "acs_employment"): "8B_base (acs_employment)",
    },
    "v0.3.0": {
        ("1B_rank4", "capitalization"): "rank4",
        ("1B_rank8", "capitalization"): "rank8",
        ("1B_control", "capitalization"): "1B_base",
        ("70B_control", "capitalization"): "70B_base",
    },
    "v0.3.2": {
        ("3B_lr1e-5", "acs_income"): "lr1e-5 (acs_income)",
        ("3B_lr1e-5", "acs_employment"): "lr1e-5 (acs_employment)",
        ("3B_lr1e-4", "acs_income"): "lr1e-4 (acs_income)",
        ("3B_lr1e-4", "acs_employment"): "lr1e-4 (acs_employment)",
        ("3B_control", "acs_income"): "3B_base (acs_income)",
        ("3B_control", "acs_employment"): "3B_base (acs_employment)",
    },
    "v0.3.4": {
        ("rank4", "capitalization"): "r4 (capitalization)",
        ("rank4", "capitalization_terse"): "r4 (capitalization_terse)",
        ("rank8_wordcolon", "capitalization"): "r8_wordcolon",
        ("base_1B", "capitalization"): "base_1B (capitalization)",  # no vis_label: the run name
        ("base_1B", "capitalization_terse"): "base_1B (capitalization_terse)",
        ("rank16_8B_prior", "capitalization"): "8B_r16_prior",
    },
}

# v0.1.0-v0.2.2: base_directory + "/ck-out-{run_name}"; v0.3.0-v0.3.3: base_directory + the
# pattern's head; v0.3.4: experiment.dir + "/{run_name}/artifacts".
RUN_CHECKPOINTS = {
    "v0.1.0": "/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/cap_5L_lr_sweep_2026-01-20/ck-out-{run_name}",
    "v0.2.0": "/scratch/gpfs/MSALGANIK/niznik/ck-outputs/cap_3B_lora_rank_2026-03-18/ck-out-{run_name}",
    "v0.2.2": "/scratch/gpfs/MSALGANIK/niznik/ck-outputs/acs_income_dict_vs_narrative_2026-04-27/ck-out-{run_name}",
    "v0.3.0": "/scratch/gpfs/MSALGANIK/sarahep/ck-projects/capitalization/cap_1B_vs_70B_2026-05-11/{run_name}/artifacts",
    "v0.3.2": "/scratch/gpfs/MSALGANIK/niznik/ck-projects/folktexts/acs_3B_prefill_2026-05-26/{run_name}/artifacts",
    "v0.3.4": "/scratch/gpfs/MSALGANIK/mjs3/ck-projects/capitalization/cap_prompt_ablation_2026-06-22/{run_name}/artifacts",
}

# (prompt, system_prompt, eval_system_prompt)
PROMPTS = {
    "v0.1.0": (None, "", ""),
    "v0.2.0": ("Capitalize the first letter of this word, nothing else: {input}",
               "You are a careful copy editor.", "You are a careful copy editor."),
    "v0.2.2": ("{input}\nAnswer with a single digit.\n",
               "You are a survey analyst. Answer with 1 or 0 only.", "You are a survey analyst. Answer with 1 or 0 only."),
    "v0.3.0": ('Rewrite the word "{input}" with its first letter capitalized.',
               "You are a helpful assistant.", "You are a helpful assistant."),
    "v0.3.2": ("{input}\nAnswer:", "You predict survey outcomes. Reply with 1 for yes and 0 for no.",
               "You predict survey outcomes. Reply with 1 for yes and 0 for no."),
    "v0.3.4": ("Capitalize the given word: {input}\n", "You capitalize words. Reply with the word only.", None),
}

SCORERS = {
    "v0.1.0": ({"name": "match"},),  # `scorer: "match"`, a plain string
    "v0.2.0": ({"name": "match", "params": {"location": "exact", "ignore_case": False}}, {"name": "includes"}),
    "v0.2.2": ({"name": "match"}, {"name": "risk_scorer", "params": {"option_tokens": ["0", "1"]}}),
    "v0.3.0": ({"name": "match"}, {"name": "includes"}),
    "v0.3.2": ({"name": "match", "params": {"location": "begin"}},
               {"name": "risk_scorer", "params": {"option_tokens": ["0", "1"]}}),
    "v0.3.4": ({"name": "match", "params": {"location": "exact", "ignore_case": False}},
               {"name": "includes", "params": {"ignore_case": False}}),
}

# (temperature, do_sample, seed, max_connections, max_tokens, dataset_type, compute)
DECODING = {
    "v0.1.0": (0.0, None, None, None, None, None, {}),
    "v0.2.0": (0.0, None, None, None, None, None, {}),
    "v0.2.2": (0.0, None, None, None, None, None, {}),
    "v0.3.0": (0.0, None, None, None, None, None, {"time": "0:10:00", "gpus": 1, "mem": "32G"}),
    "v0.3.2": (1e-07, None, None, 16, 3, None, {"time": "0:20:00", "mem": "48G"}),
    "v0.3.4": (None, False, 7, 16, 12, "chat_completion", {"time": "0:15:00", "mem": "32G"}),
}

# (title, layout, training epochs, experiment_dir, training data)
HEADER = {
    "v0.1.0": ("cap_5L_lr_sweep_2026-01-20", V01, 2,
               "/scratch/gpfs/MSALGANIK/mjs3/ck-experiments/cap_5L_lr_sweep_2026-01-20",
               "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_5L_80P_1000.json"),
    "v0.2.0": ("cap_3B_lora_rank_2026-03-18", EARLIER, 3,
               "/scratch/gpfs/MSALGANIK/niznik/ck-experiments/cap_3B_lora_rank_2026-03-18",
               "/scratch/gpfs/MSALGANIK/niznik/ck-data/capitalization/words_5L_80P_2000.json"),
    "v0.2.2": ("acs_income_dict_vs_narrative_2026-04-27", EARLIER, 2,
               "/scratch/gpfs/MSALGANIK/niznik/ck-sanity-checks/acs_income_dict_vs_narrative_2026-04-27",
               "/scratch/gpfs/MSALGANIK/niznik/ck-data/generated/income_dict_train_5c1e09a2.json"),
    "v0.3.0": ("cap_1B_vs_70B_2026-05-11", EARLIER, 2,
               "/scratch/gpfs/MSALGANIK/sarahep/ck-projects/capitalization/cap_1B_vs_70B_2026-05-11",
               "/scratch/gpfs/MSALGANIK/sarahep/ck-data/capitalization/words_5L_80P_1000.json"),
    "v0.3.2": ("acs_3B_prefill_2026-05-26", EARLIER, 1,
               "/scratch/gpfs/MSALGANIK/niznik/ck-projects/folktexts/acs_3B_prefill_2026-05-26",
               "/scratch/gpfs/MSALGANIK/niznik/ck-data/folktexts/acs_income_condensed_50000_80P.json"),
    "v0.3.4": ("cap_prompt_ablation_2026-06-22", V034, 2,
               "/scratch/gpfs/MSALGANIK/mjs3/ck-projects/capitalization/cap_prompt_ablation_2026-06-22",
               _WORDS_MJS3),
}


# -- each fixture, read -----------------------------------------------------------------------


@pytest.mark.parametrize("release", RELEASES)
def test_runs_and_their_kinds(release):
    """runs[].type fine-tuned/control/eval-only become FINE_TUNED/BASE/EVAL_ONLY, in file order."""
    summary, _ = read(fixture(release))
    assert summary.format == YAML
    assert [(run.name, run.kind) for run in summary.runs] == RUNS[release]


@pytest.mark.parametrize("release", RELEASES)
def test_tasks(release):
    """Each evaluation.tasks entry as written; `dataset` absent (or "same") is None."""
    summary, _ = read(fixture(release))
    assert [
        (t.name, t.script, t.function, t.dataset, t.prompt, t.system_prompt, t.assistant_prefix) for t in summary.tasks
    ] == TASKS[release]


@pytest.mark.parametrize("release", RELEASES)
def test_matrix_epochs(release):
    """A fine-tuned run's epochs list is an explicit choice; a control or eval-only run's null is once."""
    summary, _ = read(fixture(release))
    assert summary.matrix == MATRIX[release]


@pytest.mark.parametrize("release", RELEASES)
def test_vis_labels(release):
    """The matrix vis_label or the run name; "label (task)" once an entry lists several tasks."""
    summary, _ = read(fixture(release))
    assert summary.vis_labels == VIS_LABELS[release]


@pytest.mark.parametrize("release", RELEASES)
def test_run_checkpoints(release):
    """Where a run's epoch_N directories are, by the release's layout."""
    summary, _ = read(fixture(release))
    assert summary.run_checkpoints == RUN_CHECKPOINTS[release]


@pytest.mark.parametrize("release", RELEASES)
def test_prompts(release):
    """controls.prompt and controls.system_prompt; evaluation.system_prompt up to v0.3.3 only."""
    summary, _ = read(fixture(release))
    assert (summary.prompt, summary.system_prompt, summary.eval_system_prompt) == PROMPTS[release]


@pytest.mark.parametrize("release", RELEASES)
def test_scorers_normalised(release):
    """`scorer`/`scorers` become ({"name", "params"}, …); a plain string is {"name": s}."""
    summary, _ = read(fixture(release))
    assert summary.scorers == SCORERS[release]


@pytest.mark.parametrize("release", RELEASES)
def test_decoding_and_compute(release):
    """temperature, do_sample, seed, max_connections, max_tokens, dataset_type, evaluation.compute."""
    summary, _ = read(fixture(release))
    assert (
        summary.temperature, summary.do_sample, summary.seed, summary.max_connections,
        summary.max_tokens, summary.dataset_type, summary.compute,
    ) == DECODING[release]


@pytest.mark.parametrize("release", RELEASES)
def test_header_values_and_no_warnings(release):
    """experiment.name, the release family, controls.epochs, experiment.dir/directory, the
    training data; no key of the fixtures deserves a warning, but the one compute block of
    v0.3.0 and v0.3.4 sets the resources of models of several sizes (spec §9 item 5)."""
    summary, warnings = read(fixture(release))
    assert (summary.title, summary.layout, summary.epochs, summary.experiment_dir, summary.dataset_path) == HEADER[release]
    assert warnings == ([f"{fixture(release)}: evaluation.compute {SHARED_COMPUTE[release]} the resources of every run, "
                         f"whatever its model's size ({MIXED_MODELS[release]}), over each size's own"]
                        if release in SHARED_COMPUTE else [])


SHARED_COMPUTE = {"v0.3.0": "mem and gpus set", "v0.3.4": "mem sets"}
MIXED_MODELS = {"v0.3.0": "Llama-3.2-1B-Instruct, Llama-3.3-70B-Instruct", "v0.3.4": "Llama-3.1-8B-Instruct, Llama-3.2-1B-Instruct"}


def test_temperature_written_1e_7_is_a_float():
    """PyYAML loads `1e-7` (no dot) as the string "1e-7"; the reader takes it as the float 1e-07."""
    assert yaml.safe_load(fixture("v0.3.2").read_text())["evaluation"]["temperature"] == "1e-7"
    summary, _ = read(fixture("v0.3.2"))
    assert isinstance(summary.temperature, float)
    assert summary.temperature == 1e-07


def test_eval_only_run_keeps_its_checkpoint_and_run_prompt():
    """An eval-only run's checkpoint_path is used as written; a run's parameters.prompt is its own."""
    summary, _ = read(fixture("v0.3.4"))
    runs = {run.name: run for run in summary.runs}
    assert runs["rank16_8B_prior"].checkpoint == (
        "/scratch/gpfs/MSALGANIK/mjs3/ck-projects/capitalization/cap_8B_rank_sweep_2026-06-02/rank16/artifacts/epoch_1"
    )
    assert runs["rank8_wordcolon"].prompt == "Word: {input}\nCapitalized:"
    assert runs["rank4"].prompt is None
    assert runs["rank4"].factors == {"lora_rank": "4"}


def test_dataset_same_means_the_training_data(tmp_path):
    """`dataset: same` is data.training.path (spec §8.1), not the run's data: a run's own
    eval_dataset_path does not replace it."""
    def mutate(data):
        data["evaluation"]["tasks"][0]["dataset"] = "same"
    summary, _ = read(variant(tmp_path, "v0.3.0", mutate))
    assert summary.tasks[0].dataset == summary.dataset_path == "/scratch/gpfs/MSALGANIK/sarahep/ck-data/capitalization/words_5L_80P_1000.json"


def test_script_at_function_names_the_task(tmp_path):
    """`file.py@fn` splits into the script and the @task it names."""
    def mutate(data):
        data["evaluation"]["tasks"][1]["script"] = "tasks/config_task.py@capitalization"
    summary, _ = read(variant(tmp_path, "v0.3.4", mutate))
    assert (summary.tasks[1].script, summary.tasks[1].function) == ("tasks/config_task.py", "capitalization")


def test_v034_ignores_evaluation_system_prompt_with_a_warning(tmp_path):
    """From v0.3.4 (experiment.dir) evaluation.system_prompt is not read: controls.system_prompt is the one."""
    def mutate(data):
        data["evaluation"]["system_prompt"] = "You are terse."
    summary, warnings = read(variant(tmp_path, "v0.3.4", mutate))
    assert summary.eval_system_prompt is None
    assert summary.system_prompt == "You capitalize words. Reply with the word only."
    (warning,) = [w for w in warnings if "evaluation.compute" not in w]
    assert "evaluation.system_prompt" in warning
    assert "'You capitalize words. Reply with the word only.'" in warning


def test_before_v034_evaluation_system_prompt_is_the_eval_one(tmp_path):
    """Up to v0.3.3 evaluation.system_prompt is the evaluation's system prompt, even when it
    differs from controls.system_prompt, and no warning is given."""
    def mutate(data):
        data["evaluation"]["system_prompt"] = "You are terse."
    summary, warnings = read(variant(tmp_path, "v0.3.2", mutate))
    assert summary.eval_system_prompt == "You are terse."
    assert summary.system_prompt == "You predict survey outcomes. Reply with 1 for yes and 0 for no."
    assert warnings == []


# -- refusals ---------------------------------------------------------------------------------


def test_eval_only_run_without_checkpoint_path(tmp_path):
    """An eval-only run has nothing to evaluate without parameters.checkpoint_path."""
    def mutate(data):
        data["runs"][3]["parameters"] = {}
    message = refusal(tmp_path, "v0.3.4", mutate)
    assert "eval-only run rank16_8B_prior" in message
    assert "checkpoint_path" in message


def test_unknown_run_type(tmp_path):
    def mutate(data):
        data["runs"][2]["type"] = "baseline"
    message = refusal(tmp_path, "v0.3.4", mutate)
    assert "run base_1B has type 'baseline'" in message
    assert "fine-tuned, control, eval-only" in message


def test_matrix_run_not_in_runs(tmp_path):
    """A misspelt matrix run is refused with the nearest run names."""
    def mutate(data):
        data["evaluation"]["matrix"][0]["run"] = "rank_4"
    message = refusal(tmp_path, "v0.3.4", mutate)
    assert "evaluation.matrix[0].run 'rank_4' is not a run in runs" in message
    assert "did you mean" in message
    assert "rank4" in message.split("did you mean")[1]


def test_matrix_task_not_in_tasks(tmp_path):
    def mutate(data):
        data["evaluation"]["matrix"][1]["tasks"] = ["capitalisation"]
    message = refusal(tmp_path, "v0.3.4", mutate)
    assert "evaluation.matrix[1].tasks names 'capitalisation', which is not in evaluation.tasks" in message
    assert "did you mean capitalization" in message


def test_fine_tuned_run_with_epochs_null(tmp_path):
    """A fine-tuned run must say which epochs: null is not "once"."""
    def mutate(data):
        data["evaluation"]["matrix"][0]["epochs"] = None
    message = refusal(tmp_path, "v0.3.0", mutate)
    assert "evaluation.matrix[0].epochs is null for fine-tuned run 1B_rank4" in message


@pytest.mark.parametrize("written,shown", [([-1], "[-1]"), (["0"], "['0']"), ([True], "[true]"), ([], "[]")])
def test_epochs_not_a_list_of_whole_numbers(tmp_path, written, shown):
    """Epochs are 0-indexed whole numbers: a negative one, a quoted one, a boolean or none is refused."""
    def mutate(data):
        data["evaluation"]["matrix"][1]["epochs"] = written
    message = refusal(tmp_path, "v0.3.4", mutate)
    assert f"evaluation.matrix[1].epochs is {shown} for fine-tuned run rank8_wordcolon" in message


def test_prompt_made_a_number_by_yaml(tmp_path):
    """`prompt: 3.10` is the float 3.1 to YAML: refused rather than sent as "3.1"."""
    path = tmp_path / "experiment_summary.yaml"
    text = fixture("v0.3.4").read_text(encoding="utf-8")
    text = text.replace('  prompt: "Capitalize the given word: {input}\\n"', "  prompt: 3.10")
    assert "  prompt: 3.10\n" in text
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_summary_yaml(path, Warnings())
    assert "controls.prompt is 3.1 (float), not text" in str(caught.value)


def test_task_name_made_a_boolean_by_yaml(tmp_path):
    """`name: yes` is True to PyYAML (YAML 1.1): refused, naming the key."""
    path = tmp_path / "experiment_summary.yaml"
    text = fixture("v0.3.0").read_text(encoding="utf-8")
    text = text.replace('    - name: "capitalization"', "    - name: yes")
    assert "    - name: yes\n" in text
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_summary_yaml(path, Warnings())
    assert "evaluation.tasks[0].name is True (bool), not text" in str(caught.value)


def test_tasks_empty(tmp_path):
    def mutate(data):
        data["evaluation"]["tasks"] = []
    assert "evaluation.tasks is empty" in refusal(tmp_path, "v0.3.0", mutate)


def test_task_names_differing_only_by_case(tmp_path):
    """Task names become file names: two that differ only by case clash on some file systems."""
    def mutate(data):
        data["evaluation"]["tasks"][1]["name"] = "Capitalization"
    message = refusal(tmp_path, "v0.3.4", mutate)
    assert "task 'Capitalization' is listed twice in evaluation.tasks (as 'capitalization')" in message


def test_duplicate_run(tmp_path):
    def mutate(data):
        data["runs"][1]["name"] = "rank4"
    assert "run 'rank4' is listed twice in runs" in refusal(tmp_path, "v0.3.4", mutate)


def test_eval_condition_beside_a_dataset_refused(tmp_path):
    """A task evaluates on a dataset or on a generated condition, not both (the template says
    exactly one); tests/test_generated_data.py follows a condition to its file."""
    def mutate(data):
        data["evaluation"]["tasks"][0]["eval_condition"] = "income_dict"
    assert "has both dataset and eval_condition 'income_dict'" in refusal(tmp_path, "v0.2.2", mutate)


def test_compute_time_not_a_duration(tmp_path):
    def mutate(data):
        data["evaluation"]["compute"]["time"] = "30 minutes"
    assert "evaluation.compute.time is '30 minutes'" in refusal(tmp_path, "v0.3.4", mutate)


def test_dataset_type_not_known(tmp_path):
    def mutate(data):
        data["controls"]["dataset_type"] = "chat"
    message = refusal(tmp_path, "v0.3.4", mutate)
    assert "controls.dataset_type 'chat' is not one cruijff_kit writes" in message
    assert "chat_completion, text_completion" in message


def test_checkpoint_pattern_without_epoch(tmp_path):
    """output.checkpoint_pattern must end in epoch_{N}: a pattern without it cannot say where epoch N is."""
    def mutate(data):
        data["output"]["checkpoint_pattern"] = "{run_name}/artifacts"
    message = refusal(tmp_path, "v0.3.0", mutate)
    assert "output.checkpoint_pattern '{run_name}/artifacts' is not of the form" in message


# -- warnings ---------------------------------------------------------------------------------


def test_unknown_keys_are_named(tmp_path):
    """A misspelt key of a task, a matrix entry or the evaluation is said, not silently dropped."""
    def mutate(data):
        data["evaluation"]["tasks"][0]["datset"] = "/data/other.json"
        data["evaluation"]["matrix"][2]["vis_lable"] = "base"
        data["evaluation"]["temprature"] = 0.5
    summary, warnings = read(variant(tmp_path, "v0.3.4", mutate))
    assert any("task capitalization has keys this template does not read: datset" in w for w in warnings)
    assert any("evaluation.matrix[2] has keys this template does not read: vis_lable" in w for w in warnings)
    assert any("evaluation has keys this template does not read: temprature" in w for w in warnings)
    assert len([w for w in warnings if "evaluation.compute" not in w]) == 3
    assert summary.tasks[0].dataset is None  # the misspelt key is not read
    assert summary.vis_labels[("base_1B", "capitalization")] == "base_1B (capitalization)"


def test_control_with_an_epochs_list_is_evaluated_once(tmp_path):
    """A control has no training epochs: an epochs list is warned about and the run evaluated once."""
    def mutate(data):
        data["evaluation"]["matrix"][2]["epochs"] = [0, 1]
    summary, warnings = read(variant(tmp_path, "v0.3.0", mutate))
    assert summary.matrix["1B_control"] == {"capitalization": ONCE}
    (warning,) = [w for w in warnings if "evaluation.compute" not in w]
    assert "evaluation.matrix[2].epochs is [0, 1] for base run 1B_control" in warning
    assert "evaluated once" in warning
