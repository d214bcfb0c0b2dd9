"""Parser of experiment_summary.yaml, the design file cruijff_kit has written since v0.1.0.

Every release from v0.1.0 to v0.3.4 is read (docs/INPUTS.md, "The YAML summary"; the keys of
each release are in ../shared/spec/CRUIJFF_KIT_YAML.md §6.2). Where cruijff_kit's prose and
its code disagree, this follows the code, which is what its users got:
- `evaluation.system_prompt` is the evaluation's system prompt up to v0.3.3; from v0.3.4
  (the release that renamed `experiment.directory` to `experiment.dir`) it is ignored with a
  warning, and `controls.system_prompt` is the one source (propagate.py:109-116);
- `evaluation.assistant_prefix` is named in the template's comments but never propagated;
- `dataset: same` means `data.training.path` (the only reading its own fixture allows), never
  a run's own eval_dataset_path;
- a v0.3.4 file (`experiment.dir`) puts checkpoints in `{dir}/{run}/artifacts/epoch_N`,
  whatever `output.base_directory` / `checkpoint_pattern` an older file left in (layout.py);
- `$USER` (or `${USER}`) in a path is the name of whoever renders (docs/INPUTS.md), in
  every path field, said once in a warning.
The reader returns values as written; what they mean for a run (checkpoints, data, prompts)
is decided in extensions/precedence.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .epochs import MAX_EPOCHS, EpochChoice, MatrixCell
from .errors import InputError
from .finetune import current_user, expand_user, load_yaml_mapping
from .model import BASE, EVAL_ONLY, FINE_TUNED, YAML, RunRow, Summary, TaskRow, split_script
from .names import check_name, nearest
from .notes import Warnings
from .resources import tier_for

SUMMARY_YAML = "experiment_summary.yaml"
# Release families: what decides how a key is read.
V034 = "yaml v0.3.4"  # experiment.dir, scorers, controls.dataset_type, eval-only runs
EARLIER = "yaml v0.2.0-v0.3.3"  # experiment.directory, output.base_directory, scorer
V01 = "yaml v0.1.x"  # as EARLIER, a string scorer; its tasks took -T prompt and -T system_prompt
RUN_TYPES = {"fine-tuned": FINE_TUNED, "control": BASE, "eval-only": EVAL_ONLY}
DATASET_TYPES = ("chat_completion", "text_completion")
# A task's dataset that means "the training data".
_SAME = ("same", "same as training", "training")
# Run parameters that are not factors of the run: they say where its inputs are.
_RUN_INPUTS = ("prompt", "checkpoint_path", "dataset_path", "eval_dataset_path")
_YAML12_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_DURATION = re.compile(r"(\d+-)?\d{1,3}:\d{2}:\d{2}")
_MEMORY = re.compile(r"\d+[KMGT]?", re.IGNORECASE)
# The keys each part may hold that matter to evaluation, so a misspelt one is said.
_TASK_KEYS = {"name", "script", "dataset", "eval_condition", "prompt", "system_prompt", "assistant_prefix", "description"}
_MATRIX_KEYS = {"run", "tasks", "epochs", "vis_label"}
_EVALUATION_KEYS = {
    "temperature", "do_sample", "seed", "max_tokens", "max_connections", "scorers", "scorer", "system_prompt",
    "assistant_prefix", "tasks", "matrix", "compute", "enable_thinking",
}
_RUN_KEYS = {"name", "type", "model", "parameters", "training_condition", "compute", "slurm_overrides", "dataset_path"}


def read_summary_yaml(path: Path, warnings: Warnings) -> Summary:
    return _Reader(path, load_yaml_mapping(path, warnings), warnings).summary()


class _Reader:
    def __init__(self, path: Path, data: dict, warnings: Warnings) -> None:
        self.path = path
        self.data = data
        self.warnings = warnings
        experiment = self._mapping(data, "experiment", required=True)
        output, evaluation = data.get("output"), data.get("evaluation")
        earlier = ("directory" in experiment
                   or isinstance(output, dict) and ("base_directory" in output or "checkpoint_pattern" in output)
                   or isinstance(evaluation, dict) and "scorer" in evaluation)
        self.v034 = "dir" in experiment or not earlier
        # v0.2.0 made the scorer a list (and brought config_path); a string one is v0.1.x's.
        self.v01 = not self.v034 and isinstance(evaluation, dict) and isinstance(evaluation.get("scorer"), str)
        self.user_fields: list[str] = []  # the path fields whose `$USER` was expanded

    # -- typed access, every refusal naming the key and the fix ---------------------------

    def _error(self, problem: str, fix: str) -> InputError:
        return InputError(self.path, problem, fix)

    def _mapping(self, parent: dict, key: str, where: str = "", required: bool = False) -> dict:
        value = parent.get(key)
        if value is None:
            if required:
                raise self._error(f"has no `{where}{key}:` section", f"add `{where}{key}:` (see docs/INPUTS.md)")
            return {}
        if not isinstance(value, dict):
            raise self._error(f"{where}{key} is {value!r}, not a mapping of keys", f"write `{key}:` with indented `key: value` lines")
        return value

    def _list(self, parent: dict, key: str, where: str, required: bool = False) -> list:
        value = parent.get(key)
        if value is None:
            if required:
                raise self._error(f"has no {where}{key} list", f"add a `{key}:` list of items {_under(where)}")
            return []
        if not isinstance(value, list):
            raise self._error(f"{where}{key} is {value!r}, not a list", f"write {key} as a list of `- ` items")
        return value

    def _text(self, parent: dict, key: str, where: str, required: bool = False) -> str | None:
        """A text value exactly as written. YAML turns `3.10`, `yes` and `0123` into numbers or
        booleans: refused, since what was meant is unclear."""
        if key not in parent or parent[key] is None:
            if required:
                raise self._error(f"{where}{key} is missing, and is required", f"write `{key}: ...` {_under(where)}")
            return None
        value = parent[key]
        if not isinstance(value, str):
            raise self._error(
                f"{where}{key} is {value!r} ({type(value).__name__}), not text: YAML read what was written as a "
                f"{type(value).__name__}",
                f"put the value in quotes exactly as you mean it: {key}: \"...\"",
            )
        return value

    def _path(self, parent: dict, key: str, where: str, required: bool = False) -> str | None:
        """A path as written, `$USER` in it the name of whoever renders (docs/INPUTS.md), as
        setup_finetune.py expands it on the same cluster for the same person."""
        value = self._text(parent, key, where, required)
        if value is None:
            return None
        expanded = expand_user(value, current_user())
        if expanded != value:
            self.user_fields.append(f"{where}{key}")
        return expanded

    def _number(self, parent: dict, key: str, where: str, kind: type, minimum: float) -> float | int | None:
        value = parent.get(key)
        if value is None:
            return None
        if kind is float and isinstance(value, str) and _YAML12_FLOAT.fullmatch(value.strip()):
            value = float(value)  # `1e-7`: a float to YAML 1.2 and to people, text to PyYAML
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int) or value < minimum:
            wanted = "a whole number" if kind is int else "a number"
            raise self._error(f"{where}{key} is {value!r}", f"write {wanted} of at least {minimum:g}")
        return kind(value)

    def _flag(self, parent: dict, key: str, where: str) -> bool | None:
        value = parent.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self._error(f"{where}{key} is {value!r}, not true or false", f"write {key}: true or {key}: false")

    def _unknown(self, item: dict, known: set[str], where: str) -> None:
        unknown = sorted(str(key) for key in item if key not in known)
        if unknown:
            self.warnings.add(f"{self.path}: {where} has keys this template does not read: {', '.join(unknown)}: ignored")

    # -- the summary -----------------------------------------------------------------------

    def summary(self) -> Summary:
        experiment = self._mapping(self.data, "experiment")
        controls = self._mapping(self.data, "controls")
        evaluation = self._mapping(self.data, "evaluation", required=True)
        self._unknown(evaluation, _EVALUATION_KEYS, "evaluation")
        runs, factors = self._runs()
        training = self._mapping(self._mapping(self.data, "data"), "training", "data.")
        training_path = self._path(training, "path", "data.training.")
        tasks = self._tasks(evaluation, training_path)
        matrix, vis_labels = self._matrix(evaluation, runs, tasks)
        summary = Summary(
            path=self.path,
            layout=V034 if self.v034 else V01 if self.v01 else EARLIER,
            format=YAML,
            title=self._text(experiment, "name", "experiment."),
            runs=runs,
            factors=factors,
            models=self._models(),
            models_dir=None,
            dataset_path=training_path,
            tasks=tasks,
            plan_text="",
            plan_epochs=None,
            text_tasks=(),
            matrix=matrix,
            epochs=self._training_epochs(controls),
            prompt=self._text(controls, "prompt", "controls."),
            system_prompt=self._text(controls, "system_prompt", "controls."),
            eval_system_prompt=self._eval_system_prompt(evaluation, controls),
            temperature=self._number(evaluation, "temperature", "evaluation.", float, 0),
            max_tokens=self._number(evaluation, "max_tokens", "evaluation.", int, 1),
            checkpoint_dir=None,
            per_eval_minutes=None,
            run_checkpoints=self._run_checkpoints(experiment),
            vis_labels=vis_labels,
            do_sample=self._flag(evaluation, "do_sample", "evaluation."),
            seed=self._number(evaluation, "seed", "evaluation.", int, 0),
            max_connections=self._number(evaluation, "max_connections", "evaluation.", int, 1),
            enable_thinking=self._flag(evaluation, "enable_thinking", "evaluation."),
            scorers=self._scorers(evaluation),
            dataset_type=self._dataset_type(controls, training),
            compute=self._compute(evaluation, runs),
            experiment_dir=self._experiment_dir(experiment),
            data_generation=self._mapping(self._mapping(self.data, "data"), "data_generation", "data.") or None,
        )
        if self.user_fields:
            self.warnings.add(
                f"{self.path}: $USER in {self.path.name} is the name of whoever renders, {current_user()!r}: "
                f"in {', '.join(sorted(set(self.user_fields)))}"
            )
        return summary

    def _experiment_dir(self, experiment: dict) -> str | None:
        written = self._path(experiment, "dir", "experiment.")
        older = self._path(experiment, "directory", "experiment.")
        if written and older and written != older:
            self.warnings.add(
                f"{self.path}: experiment.dir {written!r} and experiment.directory {older!r} differ: "
                "using experiment.dir (cruijff_kit v0.3.4 renamed directory to dir)"
            )
        return written or older

    def _run_checkpoints(self, experiment: dict) -> str | None:
        """A run's checkpoint directory with `{run_name}` in it; epoch N is `epoch_N/` inside.

        Up to v0.3.3 `output.checkpoint_pattern` (relative to `output.base_directory`) says
        it: `ck-out-{run_name}/epoch_{N}` until v0.2.2, `{run_name}/artifacts/epoch_{N}` from
        v0.3.0. From v0.3.4 it is `{experiment.dir}/{run_name}/artifacts` (layout.py).
        """
        output = self._mapping(self.data, "output")
        if self.v034:
            directory = self._experiment_dir(experiment)
            leftover = [f"output.{key}" for key in ("base_directory", "checkpoint_pattern") if output.get(key) is not None]
            if leftover:
                self.warnings.add(
                    f"{self.path}: {', '.join(leftover)} {'is' if len(leftover) == 1 else 'are'} not read since "
                    "cruijff_kit v0.3.4 (experiment.dir): checkpoints are {experiment.dir}/{run}/artifacts/epoch_N, "
                    f"in {directory}"
                )
            return None if directory is None else directory.rstrip("/") + "/{run_name}/artifacts"
        pattern = self._path(output, "checkpoint_pattern", "output.")
        base = self._path(output, "base_directory", "output.")
        if pattern is None:
            if base is not None:
                return base.rstrip("/") + "/ck-out-{run_name}"
            directory = self._experiment_dir(experiment)
            return None if directory is None else directory.rstrip("/") + "/{run_name}/artifacts"
        head, _, last = pattern.rstrip("/").rpartition("/")
        if last != "epoch_{N}" or "{run_name}" not in head:
            raise self._error(
                f"output.checkpoint_pattern {pattern!r} is not of the form '…{{run_name}}…/epoch_{{N}}'",
                "write the pattern cruijff_kit's training writes, e.g. 'ck-out-{run_name}/epoch_{N}'",
            )
        if base is None and not head.startswith("/"):
            raise self._error(
                f"output.checkpoint_pattern {pattern!r} is relative, and output.base_directory is missing",
                "add output.base_directory: the directory the pattern is relative to",
            )
        return head if base is None or head.startswith("/") else f"{base.rstrip('/')}/{head}"

    def _training_epochs(self, controls: dict) -> int | None:
        epochs = self._number(controls, "epochs", "controls.", int, 1)
        if epochs is not None and epochs > MAX_EPOCHS:
            raise self._error(f"controls.epochs {epochs} exceeds the limit of {MAX_EPOCHS}",
                              "write how many epochs the runs train (the limit is MAX_EPOCHS in extensions/epochs.py)")
        return epochs

    def _eval_system_prompt(self, evaluation: dict, controls: dict) -> str | None:
        value = self._text(evaluation, "system_prompt", "evaluation.")
        if value is None or not self.v034:
            return value
        self.warnings.add(
            f"{self.path}: evaluation.system_prompt is not read since cruijff_kit v0.3.4 (experiment.dir): "
            f"the evaluation uses controls.system_prompt {controls.get('system_prompt')!r}"
        )
        return None

    def _dataset_type(self, controls: dict, training: dict) -> str | None:
        value = self._text(controls, "dataset_type", "controls.")
        if value is not None and value not in DATASET_TYPES:
            raise self._error(f"controls.dataset_type {value!r} is not one cruijff_kit writes",
                              f"write one of {', '.join(DATASET_TYPES)}")
        if training.get("dataset_type") is not None:
            # It sat there only in an unreleased commit (bb3b00b); v0.3.4's propagate.py reads
            # controls.dataset_type alone.
            self.warnings.add(
                f"{self.path}: data.training.dataset_type {training['dataset_type']!r} is not read (cruijff_kit v0.3.4 "
                f"reads controls.dataset_type only{', which says ' + repr(value) if value is not None else ''}): "
                "move it to controls.dataset_type"
            )
        return value

    def _models(self) -> dict[str, str]:
        models = {}
        for number, item in enumerate(self._list(self._mapping(self.data, "models"), "base", "models.")):
            where = f"models.base[{number}]."
            if not isinstance(item, dict):
                raise self._error(f"{where.rstrip('.')} is {item!r}", "write each model as `- name: …` with `path: …`")
            name = self._text(item, "name", where, required=True)
            path = self._path(item, "path", where)
            if path:
                # As written: cruijff_kit looks a control's model up as models.base[name == run.model].
                models[name] = path
        return models

    def _scorers(self, evaluation: dict) -> tuple | None:
        """`scorers` (v0.3.4) or `scorer` (before): a list of {name, params}, or one name."""
        key = "scorers" if "scorers" in evaluation else "scorer"
        if "scorer" in evaluation and (key == "scorers" or self.v034):
            # v0.3.4's propagate.py copies evaluation.scorers alone (EVAL_FIELDS).
            self.warnings.add(
                f"{self.path}: evaluation.scorer is not read "
                + ("beside evaluation.scorers: the scorers are evaluation.scorers'" if key == "scorers" else
                   "since cruijff_kit v0.3.4 (experiment.dir), which reads evaluation.scorers: no scorers are written "
                   "to the cells' config files (rename it scorers)")
            )
            if key == "scorer":
                return None
        value = evaluation.get(key)
        if value is None:
            return None
        items = [value] if isinstance(value, (str, dict)) else value
        if not isinstance(items, list):
            raise self._error(f"evaluation.{key} is {value!r}", "write a list of `- name: …` items")
        scorers = []
        for item in items:
            if isinstance(item, str):
                item = {"name": item}  # the pre-v0.2.0 form, as scaffold-inspect.md reads it
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise self._error(f"evaluation.{key} has the item {item!r}", "give each scorer a `name:` (and optional `params:`)")
            params = item.get("params") or {}
            if not isinstance(params, dict):
                raise self._error(f"scorer {item['name']!r} has params {params!r}", "write params as a mapping")
            scorers.append({"name": item["name"], **({"params": params} if params else {})})
        return tuple(scorers)

    def _compute(self, evaluation: dict, runs: list[RunRow]) -> dict:
        compute = self._mapping(evaluation, "compute", "evaluation.")
        self._unknown(compute, {"time", "mem", "gpus"}, "evaluation.compute")
        models = sorted({run.model for run in runs})
        shared = [key for key in ("mem", "gpus") if compute.get(key) is not None]
        if shared and len({tier_for(model)[0] for model in models}) > 1:
            # cruijff_kit passes one --mem to every cell too (spec §9 item 5).
            self.warnings.add(
                f"{self.path}: evaluation.compute {' and '.join(shared)} set{'s' if len(shared) == 1 else ''} the "
                f"resources of every run, whatever its model's size ({', '.join(models)}), over each size's own"
            )
        values = {}
        time = compute.get("time")
        if time is not None:
            if not isinstance(time, str) or not _DURATION.fullmatch(time.strip()):
                # An unquoted 12:30 is YAML 1.1's base-60 number 750, 1:00:00 is 3600.
                read_as = "" if isinstance(time, str) else \
                    f" ({type(time).__name__}): YAML read what was written as a {type(time).__name__}, not as text"
                raise self._error(f"evaluation.compute.time is {time!r}{read_as}",
                                  "write it as 'HH:MM:SS' in quotes, e.g. time: '0:30:00'")
            values["time"] = time.strip()
        mem = compute.get("mem")
        if mem is not None:
            if not isinstance(mem, str) or not _MEMORY.fullmatch(mem.strip()):
                raise self._error(f"evaluation.compute.mem is {mem!r}", "write it as sbatch takes it, e.g. mem: '80G'")
            values["mem"] = mem.strip().upper()
        gpus = self._number(compute, "gpus", "evaluation.compute.", int, 1)
        if gpus is not None:
            values["gpus"] = gpus
        return values

    # -- runs, tasks, matrix --------------------------------------------------------------

    def _runs(self) -> tuple[list[RunRow], list[str]]:
        items = self._list(self.data, "runs", "", required=True)
        if not items:
            raise self._error("the runs list is empty", "list every run under `runs:`")
        factors = [str(name) for name in self._mapping(self.data, "variables")]
        runs, seen = [], {}
        for number, item in enumerate(items):
            where = f"runs[{number}]."
            if not isinstance(item, dict):
                raise self._error(f"{where.rstrip('.')} is {item!r}", "write each run as `- name: …` with type, model, parameters")
            name = self._text(item, "name", where, required=True)
            check_name(self.path, "run", name)
            if name.lower() in seen:
                # Two directories that differ only by case are one on a case-insensitive file system.
                raise self._error(f"run {name!r} is listed twice in runs (as {seen[name.lower()]!r})",
                                  "give each run its own name")
            seen[name.lower()] = name
            self._unknown(item, _RUN_KEYS, f"run {name}")
            written = self._text(item, "type", where, required=True)
            kind = RUN_TYPES.get(written.strip().lower())
            if kind is None:
                raise self._error(f"run {name} has type {written!r}", f"write one of {', '.join(RUN_TYPES)}")
            parameters = self._mapping(item, "parameters", where)
            if "training_condition" in item and "training_condition" not in factors:
                factors.append("training_condition")  # the run's data condition varies like a parameter
            for key in parameters:
                if key not in _RUN_INPUTS and str(key) not in factors:
                    factors.append(str(key))
            if "system_prompt" in parameters:
                self.warnings.add(
                    f"{self.path}: run {name}: parameters.system_prompt is not the run's system prompt (cruijff_kit "
                    "evaluates with controls.system_prompt, or a task's system_prompt): it is only a factor of the "
                    "run, a column of the results"
                )
            runs.append(self._run(name, kind, self._text(item, "model", where, required=True), parameters, item, factors))
        return runs, factors

    def _run(self, name: str, kind: str, model: str, parameters: dict, item: dict, variables: list[str]) -> RunRow:
        where = f"run {name}: parameters."
        checkpoint = self._path(parameters, "checkpoint_path", where)
        if kind == EVAL_ONLY and not checkpoint:
            raise self._error(f"eval-only run {name} has no parameters.checkpoint_path",
                              "add parameters: checkpoint_path: /path/to/the/checkpoint (its epoch_N directory)")
        if kind != EVAL_ONLY and checkpoint:
            self.warnings.add(f"{self.path}: run {name} is {kind}, so its checkpoint_path is not read (only eval-only runs use one)")
            checkpoint = None
        dataset = self._path(parameters, "eval_dataset_path", where) or self._path(parameters, "dataset_path", where)
        factors = {str(key): _as_text(value) for key, value in parameters.items() if key not in _RUN_INPUTS}
        # A variable may be set beside the parameters (v0.2.2's runs[].training_condition).
        factors.update({key: _as_text(item[key]) for key in variables if key in item and key not in factors})
        return RunRow(name, model, kind, factors, prompt=self._text(parameters, "prompt", where),
                      dataset=dataset, checkpoint=checkpoint)

    def _tasks(self, evaluation: dict, training_path: str | None) -> list[TaskRow]:
        items = self._list(evaluation, "tasks", "evaluation.", required=True)
        if not items:
            raise self._error("evaluation.tasks is empty", "list the tasks to evaluate")
        tasks, seen = [], {}
        for number, item in enumerate(items):
            where = f"evaluation.tasks[{number}]."
            if not isinstance(item, dict):
                raise self._error(f"{where.rstrip('.')} is {item!r}", "write each task as `- name: …` with `script: …`")
            name = self._text(item, "name", where, required=True)
            check_name(self.path, "task", name)
            if name.lower() in seen:
                raise self._error(f"task {name!r} is listed twice in evaluation.tasks (as {seen[name.lower()]!r})",
                                  "give each task its own name")
            seen[name.lower()] = name
            self._unknown(item, _TASK_KEYS, f"task {name}")
            where = f"task {name}: "
            script, function = split_script(self._text(item, "script", where, required=True))
            condition = self._text(item, "eval_condition", where)
            dataset = self._path(item, "dataset", where)
            if condition is not None and dataset is not None:
                raise self._error(f"task {name} has both dataset and eval_condition {condition!r}",
                                  "keep one: a dataset path, or the generated condition to evaluate on")
            if dataset is not None and dataset.strip().lower() in _SAME:
                if training_path is None:
                    raise self._error(
                        f"task {name} has dataset {dataset!r} (the training data), but data.training.path is missing",
                        "write data.training.path, or the path of the data to evaluate on as the task's dataset",
                    )
                dataset = training_path
            tasks.append(TaskRow(
                name, script, dataset, function,
                prompt=self._text(item, "prompt", where),
                system_prompt=self._text(item, "system_prompt", where),
                assistant_prefix=self._text(item, "assistant_prefix", where),
                eval_condition=condition,
            ))
        if self._text(evaluation, "assistant_prefix", "evaluation.") is not None:
            self.warnings.add(
                f"{self.path}: evaluation.assistant_prefix is not read (cruijff_kit never propagated it): "
                "set assistant_prefix on each task that needs it"
            )
        return tasks

    def _matrix(self, evaluation: dict, runs: list[RunRow], tasks: list[TaskRow]):
        kinds = {run.name: run.kind for run in runs}
        task_names = {task.name for task in tasks}
        matrix: dict[str, dict[str, MatrixCell]] = {}
        labels: dict[tuple[str, str], str] = {}
        for number, item in enumerate(self._list(evaluation, "matrix", "evaluation.", required=True)):
            where = f"evaluation.matrix[{number}]."
            if not isinstance(item, dict):
                raise self._error(f"{where.rstrip('.')} is {item!r}", "write each entry as `- run: …` with tasks and epochs")
            self._unknown(item, _MATRIX_KEYS, where.rstrip("."))
            run = self._text(item, "run", where, required=True)
            if run not in kinds:
                raise self._error(f"{where}run {run!r} is not a run in runs{nearest(run, kinds)}",
                                  "name a run of the runs list")
            named = item.get("tasks")
            if isinstance(named, str):
                named = [named]
            if not isinstance(named, list) or not named or not all(isinstance(t, str) for t in named):
                raise self._error(f"{where}tasks is {named!r}", "write the task names as a list, e.g. tasks: [capitalization]")
            choice = self._epochs(item, run, kinds[run], where)
            label = self._text(item, "vis_label", where)
            if label is not None and not label.strip():
                self.warnings.add(f"{self.path}: {where}vis_label is empty: run {run}'s cells are labelled {run!r} "
                                  "(cruijff_kit: `vis_label or run`)")
            label = label if label and label.strip() else run
            for task in named:
                if task not in task_names:
                    raise self._error(f"{where}tasks names {task!r}, which is not in evaluation.tasks{nearest(task, task_names)}",
                                      "name a task of evaluation.tasks")
                cells = matrix.setdefault(run, {})
                if task in cells:
                    raise self._error(f"evaluation.matrix lists run {run} with task {task} twice",
                                      "list each run and task once (put all its epochs in one entry)")
                cells[task] = MatrixCell(True, choice)
                # cruijff_kit's rule: a label per task once an entry lists several.
                labels[(run, task)] = label if len(named) == 1 else f"{label} ({task})"
        return matrix, labels

    def _epochs(self, item: dict, run: str, kind: str, where: str) -> EpochChoice | None:
        epochs = item.get("epochs")
        if kind != FINE_TUNED:
            if epochs is not None:
                self.warnings.add(
                    f"{self.path}: {where}epochs is {epochs!r} for {kind} run {run}, which has no training epochs: "
                    "evaluated once (write epochs: null)"
                )
            return None
        if isinstance(epochs, int) and not isinstance(epochs, bool):
            epochs = [epochs]
        if not isinstance(epochs, list) or not epochs or not all(
            isinstance(e, int) and not isinstance(e, bool) and 0 <= e < MAX_EPOCHS for e in epochs
        ):
            raise self._error(
                f"{where}epochs is {yaml.safe_dump(item.get('epochs'), default_flow_style=True).strip().removesuffix('...').strip()} "
                f"for fine-tuned run {run}",
                "write the 0-indexed epochs to evaluate as a list, e.g. epochs: [0, 1]",
            )
        return EpochChoice.numbers(epochs)


def _under(where: str) -> str:
    """Where a key goes, for a fix: `under evaluation`, or `at the top level`."""
    parent = where.rstrip(".").rstrip(": ")
    return f"under {parent}" if parent else "at the top level"


def _as_text(value: object) -> str:
    """A run parameter as the Markdown summary would show it: `1e-05`, `8`, `true`."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return "" if value is None else str(value)
