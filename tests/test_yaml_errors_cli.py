"""Every refusal of a YAML design (experiment_summary.yaml, as cruijff_kit v0.3.4 writes it),
through the real `copier` command line: exit 1, one message naming the file, the value and
the fix, nothing written, no traceback.

Each case breaks a copy of examples/cap_1B_yaml: the summary edited with a plain string
replace, or its task file replaced by one of tests/fixtures/tasks. test_every_error_cli.py
checks that each raise site in extensions/ has its case here or in the other CLI tables.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_copier
from tests.test_errors import assert_refused, edit, snapshot

EXAMPLE = ROOT / "examples/cap_1B_yaml"
TASKS = ROOT / "tests/fixtures/tasks"
SETUP = ROOT / "examples/cap_1B_lora/r8_lr1e-5/setup_finetune.yaml"
COPY = ("copy", "--trust", "--defaults", "--vcs-ref", "HEAD")


def summary(d: Path, old: str, new: str) -> None:
    edit(d / "experiment_summary.yaml", old, new)


def task_file(d: Path, fixture: str) -> None:
    """The example's task file replaced by a fixture task file of another kind."""
    shutil.copy(TASKS / fixture, d / "tasks/cap_task.py")


def setup_file(d: Path, old: str, new: str) -> None:
    """A setup_finetune.yaml in r8's directory (the LoRA example's), with one line changed: a
    YAML design reads a run's setup file when one has been written."""
    (d / "r8").mkdir(exist_ok=True)
    shutil.copy(SETUP, d / "r8/setup_finetune.yaml")
    edit(d / "r8/setup_finetune.yaml", old, new)


EXPERIMENT_DIR = '  dir: "/scratch/gpfs/MSALGANIK/mjs3/ck-projects/capitalization/cap_1B_rank_sweep"\n'
R8_ENTRY = '    - run: "r8"\n      vis_label: "rank 8"\n      tasks: ["capitalization"]\n      epochs: [0, 1]\n'


def older(d: Path) -> None:
    """The example as a v0.3.0-v0.3.3 file: `experiment.directory` (v0.3.4 reads no output.* checkpoint keys)."""
    summary(d, EXPERIMENT_DIR, EXPERIMENT_DIR.replace("  dir:", "  directory:"))


CAP_TASK = '    - name: "capitalization"\n      script: "tasks/cap_task.py"\n'

CONDITIONS = "    conditions:\n      words_5L: {features: [A]}\n"


def generating(d: Path, condition: str = "words_5L", scratch: bool = True, source: bool = True, schema: bool = True) -> None:
    """The example with a task evaluating on a condition cruijff_kit's generator made."""
    summary(d, CAP_TASK, CAP_TASK + f'      eval_condition: "{condition}"\n')
    block = ("data:\n  data_generation:\n    tool: \"tabular_to_text_gen\"\n    source: \"acs.parquet\"\n"
             + ('    schema: "acs_schema.yaml"\n' if schema else "") + "    conditions:\n      words_5L: {features: [A]}\n")
    summary(d, "data:\n", block)
    if source:
        (d / "acs.parquet").write_bytes(b"a table")
    (d / "acs_schema.yaml").write_text("columns: [A]\n")
    if not scratch:
        edit(d / "claude.local.md", "- **Scratch**: `/scratch/gpfs/MSALGANIK/mjs3`\n", "")


CASES = {
    # The file itself and its sections.
    "no-summary": (
        lambda d: (d / "experiment_summary.yaml").unlink(),
        ["experiment_summary.yaml: neither experiment_summary.yaml nor experiment_summary.md is in this directory",
         "fix: run copier in the experiment directory that cruijff_kit's design step wrote"],
    ),
    "experiment-missing": (
        lambda d: summary(d, "experiment:\n  name:", "experimnt:\n  name:"),
        ["experiment_summary.yaml: has no `experiment:` section", "fix: add `experiment:`"],
    ),
    "output-not-a-mapping": (
        lambda d: summary(d, 'output:\n  wandb_project: "capitalization"\n', 'output: "capitalization"\n'),
        ["experiment_summary.yaml: output is 'capitalization', not a mapping of keys",
         "fix: write `output:` with indented `key: value` lines"],
    ),
    "runs-missing": (
        lambda d: summary(d, "\nruns:\n", "\nrun:\n"),
        ["experiment_summary.yaml: has no runs list", "fix: add a `runs:` list of items at the top level"],
    ),
    "runs-not-a-list": (
        lambda d: summary(d, "\nruns:\n", "\nruns: r8\nold_runs:\n"),
        ["experiment_summary.yaml: runs is 'r8', not a list", "fix: write runs as a list of `- ` items"],
    ),
    "runs-empty": (
        lambda d: summary(d, "\nruns:\n", "\nruns: []\nold_runs:\n"),
        ["experiment_summary.yaml: the runs list is empty", "fix: list every run under `runs:`"],
    ),
    # runs
    "run-not-a-mapping": (
        lambda d: summary(d, '\n  - name: "r8"\n', '\n  - "r4"\n  - name: "r8"\n'),
        ["experiment_summary.yaml: runs[0] is 'r4'", "fix: write each run as `- name: …` with type, model, parameters"],
    ),
    "control-model-without-path": (
        lambda d: summary(d, '    type: "control"\n    model: "Llama-3.2-1B-Instruct"\n', '    type: "control"\n    model: "Llama-3.2-3B-Instruct"\n'),
        ["experiment_summary.yaml: base run Llama-3.2-1B-Instruct_base uses model 'Llama-3.2-3B-Instruct', which has no "
         "path under models.base", 'fix: add `- {name: "Llama-3.2-3B-Instruct", path: /path/to/Llama-3.2-3B-Instruct}` under models: base:'],
    ),
    "run-model-missing": (
        lambda d: summary(d, '    type: "fine-tuned"\n    model: "Llama-3.2-1B-Instruct"\n', '    type: "fine-tuned"\n'),
        ["experiment_summary.yaml: runs[0].model is missing, and is required", "fix: write `model: ...` under runs[0]"],
    ),
    "run-listed-twice": (
        lambda d: summary(d, '- name: "r16"', '- name: "r8"'),
        ["experiment_summary.yaml: run 'r8' is listed twice in runs", "fix: give each run its own name"],
    ),
    "run-type-finetuned": (
        lambda d: summary(d, 'type: "fine-tuned"', 'type: "finetuned"'),
        ["experiment_summary.yaml: run r8 has type 'finetuned'", "fix: write one of fine-tuned, control, eval-only"],
    ),
    "eval-only-without-checkpoint": (
        lambda d: summary(d, 'type: "control"', 'type: "eval-only"'),
        ["experiment_summary.yaml: eval-only run Llama-3.2-1B-Instruct_base has no parameters.checkpoint_path",
         "fix: add parameters: checkpoint_path: /path/to/the/checkpoint"],
    ),
    "dataset-same-without-training-data": (
        lambda d: (summary(d, '    path: "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_5L_80P_1000.json"\n', ""),
                   summary(d, 'dataset: "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_6L_80P_1000.json"', 'dataset: "same"')),
        ["experiment_summary.yaml: task capitalization_6L has dataset 'same' (the training data), but data.training.path is missing",
         "fix: write data.training.path, or the path of the data to evaluate on as the task's dataset"],
    ),
    # controls
    "prompt-a-number": (
        lambda d: summary(d, '  prompt: "Capitalize the given word: {input}\\n"', "  prompt: 3.10"),
        ["experiment_summary.yaml: controls.prompt is 3.1 (float), not text: YAML read what was written as a float",
         'fix: put the value in quotes exactly as you mean it: prompt: "..."'],
    ),
    "epochs-not-a-number": (
        lambda d: summary(d, "  epochs: 2\n", "  epochs: two\n"),
        ["experiment_summary.yaml: controls.epochs is 'two'", "fix: write a whole number of at least 1"],
    ),
    "epochs-absurd": (
        lambda d: summary(d, "  epochs: 2\n", "  epochs: 100000\n"),
        ["experiment_summary.yaml: controls.epochs 100000 exceeds the limit of 10000",
         "fix: write how many epochs the runs train (the limit is MAX_EPOCHS in extensions/epochs.py)"],
    ),
    "dataset-type-chat": (
        lambda d: summary(d, 'dataset_type: "chat_completion"', 'dataset_type: "chat"'),
        ["experiment_summary.yaml: controls.dataset_type 'chat' is not one cruijff_kit writes", "fix: write one of chat_completion, text_completion"],
    ),
    # models, output
    "model-not-a-mapping": (
        lambda d: summary(d, "  base:\n", '  base:\n    - "Llama-3.2-3B-Instruct"\n'),
        ["experiment_summary.yaml: models.base[0] is 'Llama-3.2-3B-Instruct'", "fix: write each model as `- name: …` with `path: …`"],
    ),
    "checkpoint-pattern-without-epoch": (
        lambda d: (older(d), summary(d, 'output:\n', 'output:\n  base_directory: "/scratch/ck"\n  checkpoint_pattern: "ck-out-{run_name}"\n')),
        ["experiment_summary.yaml: output.checkpoint_pattern 'ck-out-{run_name}' is not of the form '…{run_name}…/epoch_{N}'",
         "fix: write the pattern cruijff_kit's training writes, e.g. 'ck-out-{run_name}/epoch_{N}'"],
    ),
    "checkpoint-pattern-relative": (
        lambda d: (older(d), summary(d, 'output:\n', 'output:\n  checkpoint_pattern: "ck-out-{run_name}/epoch_{N}"\n')),
        ["experiment_summary.yaml: output.checkpoint_pattern 'ck-out-{run_name}/epoch_{N}' is relative, and output.base_directory is missing",
         "fix: add output.base_directory: the directory the pattern is relative to"],
    ),
    "checkpoints-nowhere": (
        lambda d: summary(d, EXPERIMENT_DIR, ""),
        ["experiment_summary.yaml: says nowhere where run r8's checkpoints are: no experiment.dir, and no output.base_directory",
         "fix: add experiment.dir"],
    ),
    "data-nowhere": (
        lambda d: summary(d, '    path: "/scratch/gpfs/MSALGANIK/mjs3/ck-data/capitalization/words_5L_80P_1000.json"\n', ""),
        ["experiment_summary.yaml: gives run r8 no data to evaluate on: no data.training.path, no parameters.eval_dataset_path",
         "fix: add data: training: path: /path/to/data.json (or a dataset: to each task)"],
    ),
    # evaluation
    "do-sample-yes": (
        lambda d: summary(d, "do_sample: false", 'do_sample: "yes"'),
        ["experiment_summary.yaml: evaluation.do_sample is 'yes', not true or false", "fix: write do_sample: true or do_sample: false"],
    ),
    "do-sample-without-temperature": (
        lambda d: summary(d, "do_sample: false", "do_sample: true"),
        ["experiment_summary.yaml: evaluation.do_sample is true but temperature is missing or 0",
         "fix: write evaluation.temperature above 0"],
    ),
    "seed-negative": (
        lambda d: summary(d, "seed: 14", "seed: -1"),
        ["experiment_summary.yaml: evaluation.seed is -1", "fix: write a whole number of at least 0"],
    ),
    "scorers-a-number": (
        lambda d: summary(d, '  scorers:\n    - name: "match"\n', "  scorers: 3\n"),
        ["experiment_summary.yaml: evaluation.scorers is 3", "fix: write a list of `- name: …` items"],
    ),
    "scorer-without-name": (
        lambda d: summary(d, '    - name: "match"\n', '    - params: {}\n'),
        ["experiment_summary.yaml: evaluation.scorers has the item {'params': {}}",
         "fix: give each scorer a `name:` (and optional `params:`)"],
    ),
    "scorer-params-a-list": (
        lambda d: summary(d, '    - name: "match"\n', '    - name: "match"\n      params: [exact]\n'),
        ["experiment_summary.yaml: scorer 'match' has params ['exact']", "fix: write params as a mapping"],
    ),
    "compute-time-in-words": (
        lambda d: summary(d, 'time: "0:30:00"', 'time: "30 minutes"'),
        ["experiment_summary.yaml: evaluation.compute.time is '30 minutes'", "fix: write it as 'HH:MM:SS' in quotes"],
    ),
    "compute-time-sexagesimal": (  # unquoted, YAML 1.1 reads 12:30 as 12 * 60 + 30
        lambda d: summary(d, 'time: "0:30:00"', "time: 12:30"),
        ["experiment_summary.yaml: evaluation.compute.time is 750 (int): YAML read what was written as a int, not as text",
         "fix: write it as 'HH:MM:SS' in quotes"],
    ),
    "compute-mem-lots": (
        lambda d: summary(d, 'time: "0:30:00"', 'time: "0:30:00"\n    mem: "lots"'),
        ["experiment_summary.yaml: evaluation.compute.mem is 'lots'", "fix: write it as sbatch takes it, e.g. mem: '80G'"],
    ),
    # evaluation.tasks
    "tasks-empty": (
        lambda d: summary(d, "  tasks:\n", "  tasks: []\n  old_tasks:\n"),
        ["experiment_summary.yaml: evaluation.tasks is empty", "fix: list the tasks to evaluate"],
    ),
    "task-not-a-mapping": (
        lambda d: summary(d, CAP_TASK, '    - "capitalization_7L"\n' + CAP_TASK),
        ["experiment_summary.yaml: evaluation.tasks[0] is 'capitalization_7L'", "fix: write each task as `- name: …` with `script: …`"],
    ),
    "task-listed-twice": (
        lambda d: summary(d, '- name: "capitalization_6L"', '- name: "Capitalization"'),
        ["experiment_summary.yaml: task 'Capitalization' is listed twice in evaluation.tasks (as 'capitalization')",
         "fix: give each task its own name"],
    ),
    "task-dataset-and-eval-condition": (
        lambda d: summary(d, CAP_TASK, CAP_TASK + '      eval_condition: "words_5L"\n      dataset: "/data/x.json"\n'),
        ["experiment_summary.yaml: task capitalization has both dataset and eval_condition 'words_5L'",
         "fix: keep one: a dataset path, or the generated condition to evaluate on"],
    ),
    "eval-condition-without-data-generation": (
        lambda d: summary(d, CAP_TASK, CAP_TASK + '      eval_condition: "words_5L"\n'),
        ["experiment_summary.yaml: tasks evaluate on eval_condition 'words_5L', but there is no data.data_generation",
         "fix: add the data_generation section the data was generated with"],
    ),
    "eval-condition-without-scratch": (
        lambda d: generating(d, scratch=False),
        ["claude.local.md: tasks evaluate on eval_condition 'words_5L', whose file cruijff_kit writes under the "
         "scratch directory, and claude.local.md gives none",
         "fix: add `- **Scratch directory**: `/scratch/...`` under ## HPC Environment in claude.local.md"],
    ),
    "eval-condition-unknown": (
        lambda d: generating(d, condition="words_6L"),
        ["experiment_summary.yaml: eval_condition 'words_6L' is not a condition of data.data_generation "
         "(its conditions: words_5L)", "fix: name one of data.data_generation.conditions"],
    ),
    "generation-conditions-a-list": (
        lambda d: (generating(d), summary(d, CONDITIONS, "    conditions:\n      - words_5L\n")),
        ["experiment_summary.yaml: data.data_generation.conditions is ['words_5L'], not a mapping of condition names",
         "fix: write each condition as a key under conditions:"],
    ),
    "generation-condition-a-list": (
        lambda d: (generating(d), summary(d, CONDITIONS, "    conditions:\n      words_5L: [A]\n")),
        ["experiment_summary.yaml: data.data_generation.conditions.words_5L is ['A'], not a mapping of its settings",
         "fix: write the condition's settings under words_5L:, e.g. `words_5L: {features: [A, B], template: dictionary}`"],
    ),
    "generation-condition-a-word": (
        lambda d: (generating(d), summary(d, CONDITIONS, "    conditions:\n      words_5L: dictionary\n")),
        ["experiment_summary.yaml: data.data_generation.conditions.words_5L is 'dictionary', not a mapping of its settings"],
    ),
    "generation-features-a-string": (
        lambda d: (generating(d), summary(d, CONDITIONS, '    conditions:\n      words_5L: {features: "A,B"}\n')),
        ["experiment_summary.yaml: data.data_generation.conditions.words_5L.features is 'A,B', not a YAML list",
         "fix: write features as a list, e.g. features: [A, B]"],
    ),
    "generation-target-a-word": (
        lambda d: (generating(d), summary(d, CONDITIONS, "    target: income\n" + CONDITIONS)),
        ["experiment_summary.yaml: data.data_generation.target is 'income', not a mapping",
         "fix: write target: with its column: (and threshold: or mapping:)"],
    ),
    "generation-threshold-in-words": (
        lambda d: (generating(d), summary(d, CONDITIONS, "    target: {column: income, threshold: fifty}\n" + CONDITIONS)),
        ["experiment_summary.yaml: data.data_generation.target.threshold is 'fifty', not a number",
         "fix: write the number the generator splits the target at, e.g. threshold: 50000"],
    ),
    "generation-source-unreadable": (
        lambda d: generating(d, source=False),
        ["experiment_summary.yaml: data.data_generation's source acs.parquet cannot be read (No such file or directory)",
         "fix: render where the generator's input files are readable (the cluster), or write the test file's path"],
    ),
    "generation-without-schema": (
        lambda d: generating(d, schema=False),
        ["experiment_summary.yaml: data.data_generation has no schema path, which names the generated files",
         "fix: write data.data_generation.schema: /path/to/the/file, as the data was generated"],
    ),
    "dataset-placeholder-not-a-factor": (
        lambda d: summary(d, CAP_TASK, CAP_TASK + '      dataset: "/scratch/data/{scenario}.json"\n'),
        ["experiment_summary.yaml: dataset '/scratch/data/{scenario}.json' of run r8 has the placeholder {scenario}, "
         "which is not a factor of the run (its factors: {lora_rank})",
         "fix: write the value itself, or a placeholder named after something the run sets"],
    ),
    # evaluation.matrix
    "matrix-entry-not-a-mapping": (
        lambda d: summary(d, R8_ENTRY, '    - "r8"\n' + R8_ENTRY),
        ["experiment_summary.yaml: evaluation.matrix[0] is 'r8'", "fix: write each entry as `- run: …` with tasks and epochs"],
    ),
    "matrix-run-typo": (
        lambda d: summary(d, '- run: "r16"', '- run: "r61"'),
        ["experiment_summary.yaml: evaluation.matrix[1].run 'r61' is not a run in runs (did you mean r16",
         "fix: name a run of the runs list"],
    ),
    "matrix-tasks-a-number": (
        lambda d: summary(d, R8_ENTRY, R8_ENTRY.replace('["capitalization"]', "3")),
        ["experiment_summary.yaml: evaluation.matrix[0].tasks is 3", "fix: write the task names as a list"],
    ),
    "matrix-task-unknown": (
        lambda d: summary(d, R8_ENTRY, R8_ENTRY.replace('["capitalization"]', '["capitalisation"]')),
        ["experiment_summary.yaml: evaluation.matrix[0].tasks names 'capitalisation', which is not in evaluation.tasks "
         "(did you mean capitalization", "fix: name a task of evaluation.tasks"],
    ),
    "matrix-run-task-twice": (
        lambda d: summary(d, '- run: "r16"', '- run: "r8"'),
        ["experiment_summary.yaml: evaluation.matrix lists run r8 with task capitalization twice",
         "fix: list each run and task once (put all its epochs in one entry)"],
    ),
    "matrix-fine-tuned-epochs-null": (
        lambda d: summary(d, R8_ENTRY, R8_ENTRY.replace("[0, 1]", "null")),
        ["experiment_summary.yaml: evaluation.matrix[0].epochs is null for fine-tuned run r8",
         "fix: write the 0-indexed epochs to evaluate as a list, e.g. epochs: [0, 1]"],
    ),
    "matrix-epoch-outside": (
        lambda d: summary(d, R8_ENTRY, R8_ENTRY.replace("[0, 1]", "[1, 2]")),
        ["experiment_summary.yaml: epoch 2 of run r8 (task capitalization) is outside 0..1: "
         "experiment_summary.yaml trains it for 2 epoch(s)",
         "fix: epochs are 0-indexed: name epochs from 0 to epochs-1 in the evaluation.matrix"],
    ),
    # A run's setup_finetune.yaml, when scaffold-torchtune has written it.
    "setup-epochs-absurd": (
        lambda d: setup_file(d, "epochs: 2", "epochs: 100000"),
        ["r8/setup_finetune.yaml: epochs is 100000, more than the limit of 10000",
         "fix: write the number of training epochs (the limit is MAX_EPOCHS in extensions/epochs.py)"],
    ),
    # The task file and its @task functions (parsed, never imported).
    "task-file-syntax-error": (
        lambda d: edit(d / "tasks/cap_task.py", "def capitalization(", "def capitalization(("),
        ["tasks/cap_task.py: cannot be read as an inspect task file: ", "fix: fix the Python file (it is parsed, not imported)"],
    ),
    "task-function-unknown": (
        lambda d: task_file(d, "acs_task.py"),
        ["tasks/cap_task.py: has no @task named 'capitalization' for task capitalization; "
         "its @task functions: acs_income, acs_employment",
         "fix: name one in the summary's script as `"],
    ),
    "task-script-a-directory": (
        lambda d: summary(d, '      script: "tasks/cap_task.py"\n', '      script: "tasks"\n'),
        ["experiment/tasks: is a directory, but the summary's task script 'tasks' must be an inspect task file",
         "fix: write the task's .py file in its script"],
    ),
    "task-script-empty-name": (
        lambda d: summary(d, '      script: "tasks/cap_task.py"\n', '      script: "tasks/cap_task.py@"\n'),
        ["experiment/tasks/cap_task.py@: does not exist, and the summary's task script 'tasks/cap_task.py@' is not "
         "FILE.py@NAME", "fix: write the task file's path, with `@` and one registered @task name after it"],
    ),
    "task-script-two-names": (
        lambda d: summary(d, '      script: "tasks/cap_task.py"\n', '      script: "tasks/cap_task.py@a@b"\n'),
        ["the summary's task script 'tasks/cap_task.py@a@b' is not FILE.py@NAME: inspect takes the text after the "
         "last `@` as the @task's name"],
    ),
    "scorers-to-a-task-without-config-path": (
        lambda d: task_file(d, "args_task.py"),
        ["tasks/cap_task.py: @task capitalization(data_path, prompt=…, system_prompt=…, split=…) cannot receive the planned "
         "scorers (match, the summary's evaluation.scorers): only a task with a config_path parameter reads them",
         "fix: add a config_path parameter to capitalization that reads scorers from the config file (as "
         "cruijff_kit's tasks do), or remove evaluation.scorers from experiment_summary.yaml"],
    ),
    "task-hard-codes-the-temperature": (
        lambda d: (summary(d, "  do_sample: false\n", "  do_sample: true\n  temperature: 0.7\n  max_tokens: 20\n"),
                   edit(d / "tasks/cap_task.py", "generate(temperature=temperature, max_tokens=max_tokens)",
                        "generate(temperature=1e-7, max_tokens=20)")),
        ["tasks/cap_task.py: @task capitalization hard-codes temperature=1e-07 at line 85, which overrides the "
         "planned temperature 0.7: a task's own generate config wins over inspect's option",
         "fix: take temperature as a parameter of capitalization and pass it on (`generate(temperature=temperature)`"],
    ),
    "task-requires-a-parameter": (
        lambda d: task_file(d, "required_param_task.py"),
        ["tasks/cap_task.py: @task capitalization(data_path, prompt, system_prompt, shots) requires shots, "
         "which the plan does not fill",
         "fix: give the parameter a default in the task file, or evaluate with a task that needs only these values"],
    ),
    "task-reads-config-dir": (
        lambda d: task_file(d, "config_dir_task.py"),
        ["tasks/cap_task.py: @task capitalization(config_dir) cannot receive the planned data_path",
         "fix: add the parameter `data_path` to capitalization"],
    ),
    "task-prompt-fixed-in-code": (
        lambda d: task_file(d, "data_only_task.py"),
        ["tasks/cap_task.py: @task capitalization(data_path, split=…) cannot receive the planned prompt "
         "'Capitalize the given word: {input}\\n'",
         "fix: add the parameter `prompt` to capitalization (or a config_path one that reads it from the config file)"],
    ),
    "task-without-assistant-prefix": (
        lambda d: summary(d, CAP_TASK, CAP_TASK + '      assistant_prefix: "The word is"\n'),
        ["tasks/cap_task.py: @task capitalization(", "cannot receive the planned assistant_prefix 'The word is'",
         "fix: add the parameter `assistant_prefix` to capitalization"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_broken_yaml_design_fails_before_writing_anything(tmp_path, case):
    assert_refused(tmp_path, *CASES[case], example=EXAMPLE)


def test_the_example_itself_is_accepted(tmp_path):
    destination = tmp_path / "experiment"
    shutil.copytree(EXAMPLE, destination)
    result = run_copier(*COPY, str(ROOT), str(destination))
    assert result.returncode == 0, result.stderr


def test_a_tampered_config_file_path_is_refused_before_anything_is_written(tmp_path):
    """A recorded plan's per-cell config file path is checked like its scripts' paths: the
    job writes and removes it."""
    project = tmp_path / "experiment"
    shutil.copytree(EXAMPLE, project)
    assert run_copier(*COPY, str(ROOT), str(project)).returncode == 0
    answers_file = project / ".copier-answers.yml"
    answers = yaml.safe_load(answers_file.read_text())
    cell = answers["plan"]["runs"][0]["cells"][0]
    assert cell["config_file"] == "r8/eval/capitalization_epoch0.eval.yaml"
    cell["config_file"] = "../../x.eval.yaml"
    answers_file.write_text(yaml.safe_dump(answers))
    before = snapshot(project)
    result = run_copier("recopy", "--trust", "--defaults", "--overwrite", "--vcs-ref", "HEAD", str(project))
    assert result.returncode == 1, result.stderr
    assert (f"{answers_file}: the recorded plan (this answers file, or the one given with --data-file) holds a value "
            "the template would print unquoted: cell capitalization_epoch0: config_file '../../x.eval.yaml' "
            "is not the protocol's") in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(project) == before


def test_a_task_registered_under_a_name_that_is_no_identifier_is_run_by_that_name(tmp_path):
    """`@task(name="cap-5L")` registers "cap-5L", as `inspect list tasks` prints it; the
    summary's `FILE.py@cap-5L` runs it. A refusal listing such names advises `@NAME`."""
    project = tmp_path / "experiment"
    shutil.copytree(EXAMPLE, project)
    edit(project / "tasks/cap_task.py", "\n@task\ndef capitalization(", '\n@task(name="cap-5L")\ndef capitalization(')
    summary(project, '      script: "tasks/cap_task.py@capitalization"\n', '      script: "tasks/cap_task.py@cap-5L"\n')
    edit(project / "experiment_summary.yaml", '      script: "tasks/cap_task.py"\n', '      script: "tasks/cap_task.py@cap-5L"\n')
    result = run_copier(*COPY, str(ROOT), str(project))
    assert result.returncode == 0, result.stderr
    assert "task file" not in result.stderr  # read and checked, not "does not exist yet"
    script = (project / "r8/eval/capitalization_epoch0.slurm").read_text()
    assert 'TASK_FILE="$EXPERIMENT_DIR"/tasks/cap_task.py\n' in script
    assert 'run_inspect eval "$TASK_FILE"@cap-5L \\\n' in script

    refused = tmp_path / "refused"
    shutil.copytree(EXAMPLE, refused)
    edit(refused / "tasks/cap_task.py", "\n@task\ndef capitalization(", '\n@task(name="cap-5L")\ndef capitalization(')
    result = run_copier(*COPY, str(ROOT), str(refused))
    assert result.returncode == 1
    assert "tasks/cap_task.py: has no @task named 'capitalization' for task capitalization" in result.stderr
    assert ("its @task functions: cap-5L\n  fix: name one in the summary's script as `tasks/cap_task.py@NAME`, with "
            "NAME as listed (the name inspect registers)") in result.stderr
