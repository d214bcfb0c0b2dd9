"""The plan: every evaluation cell of an experiment, with everything its script needs.

`build_plan` reads the input files through their parsers and checks them; it raises
InputError before anything is rendered, and returns warnings instead of printing them.
The plan is recorded as a Copier answer, so the templates only format it.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from . import precedence, protocol
from .epochs import LAST, EpochChoice
from .errors import InputError
from .finetune import YAML_LOADER, FinetuneSetup, read_finetune_setup, saved_epochs
from .finetune_config import read_finetune_config
from .finetune_job import read_finetune_job_name
from .markdown import normalize
from .notes import Warnings
from .resources import resources_for
from .sbatch import run_header
from .site import Site, find_site_file, read_site
from .summary import BASE, FINE_TUNED, RunRow, Summary, TaskRow, read_summary

SUMMARY_FILE = "experiment_summary.md"
SETUP_FILE = "setup_finetune.yaml"
CONFIG_FILE = "finetune.yaml"  # what setup_finetune.py wrote for the training to read
JOB_FILE = "finetune.slurm"
CONDA_PLACEHOLDER = "{conda_env}"
DEFAULT_MODULE_LINES = ("module load anaconda3/2025.6",)

@dataclass(kw_only=True)
class Cell:
    name: str  # protocol.cell_name: the script's file name without .slurm
    job_name: str
    task: str
    epoch: int | None  # None for a base-model cell
    task_file: str  # the inspect task file; relative: to the experiment, wherever it is
    task_file_origin: str  # where it was when the plan was read (absolute)
    model_path: str
    data_path: str
    script: str  # these five: protocol's paths, relative to the experiment directory
    log_dir: str
    done_mark: str
    failed_mark: str
    job_record: str
    metadata: dict  # what `inspect eval --metadata` writes into the log's header


@dataclass(kw_only=True)
class Run:
    name: str
    dir: str
    kind: str
    model: str
    factors: dict[str, str]  # the All Runs columns between Model and Type
    finetune_job: str | None  # the job name of the run's fine-tuning job
    conda_env: str | None
    prompt: str
    system_prompt: str
    resources: dict
    sbatch: list[list[str]]  # the run's #SBATCH [option, value] pairs, in order (sbatch.run_header)
    cells: list[Cell] = field(default_factory=list)


# The shape of the recorded plan. Bump it when a template needs a key an older plan lacks:
# copier.yml's plan validator then drops a recorded plan of another format, and the plan
# is read again from the input files (0.1 recorded plans had no format: they are read again).
PLAN_FORMAT = 2


@dataclass(kw_only=True)
class Plan:
    experiment: str
    factors: list[str]
    decoding: dict
    max_jobs: int | None
    runs: list[Run]
    warnings: list[str]
    format: int = PLAN_FORMAT

    def to_answer(self) -> dict:
        """The plan as the JSON-able dict Copier records (dataclasses.asdict, hand-rolled:
        asdict deep-copies every value and was a quarter of the loader's time at 1,040 cells)."""
        runs = [{**vars(run), "cells": [vars(cell).copy() for cell in run.cells]} for run in self.runs]
        return {**vars(self), "runs": runs, "warnings": list(self.warnings)}


def default_env_setup(site: Site) -> str:
    """The seed's environment set-up, with the site's module lines when it lists some."""
    return "\n".join((*(site.module_lines or DEFAULT_MODULE_LINES), f"conda activate {CONDA_PLACEHOLDER}"))


# Past this many cells a plan is more likely a typo (`epochs: 100000`, "every epoch") than a
# sweep: 1,040 cells is the largest benchmarked; Della queues 25 jobs per user at a time.
MAX_CELLS = 5000


def build_plan(experiment_dir: Path, env_setup: str | None = None) -> Plan:
    """The plan of the experiment in `experiment_dir` (an absolute path)."""
    warnings = Warnings()
    summary = read_summary(experiment_dir / SUMMARY_FILE, warnings)
    site = read_site(find_site_file(experiment_dir), warnings)
    _check_run_dirs(summary)
    setups = {
        row.name: read_finetune_setup(experiment_dir / row.name / SETUP_FILE, warnings)
        for row in summary.runs
        if row.kind == FINE_TUNED
    }
    if None not in (summary.system_prompt, summary.eval_system_prompt) and summary.system_prompt != summary.eval_system_prompt:
        warnings.add(
            f"Configuration → Evaluation → System prompt {summary.eval_system_prompt!r} differs from "
            f"the Training one {summary.system_prompt!r}: the scripts use the Training one"
        )
    selection = _Selection(summary, warnings)
    experiment = summary.title or experiment_dir.name
    if not summary.title:
        warnings.add(f"{summary.path} has no '# Title' line: the experiment is named after its directory, {experiment!r}")
    inputs = _Inputs(experiment_dir, summary, site, setups, env_setup is None or CONDA_PLACEHOLDER in env_setup,
                     _metadata_label(experiment, warnings))
    # Fine-tuned runs first: a base run without its own prompt or data takes theirs.
    trained = {row.name: _fine_tuned_run(inputs, row, selection, warnings) for row in summary.runs if row.kind == FINE_TUNED}
    runs = []
    for row in summary.runs:
        run = trained[row.name].run if row.kind == FINE_TUNED else _base_run(inputs, row, selection, list(trained.values()), warnings)
        if run.cells:
            runs.append(run)
        else:
            warnings.add(f"run {row.name} has no evaluation planned: no scripts for it")
    count = sum(len(run.cells) for run in runs)
    if count > MAX_CELLS:
        raise InputError(
            summary.path,
            f"the plan has {count} evaluation cells, more than the {MAX_CELLS} this template accepts "
            "(MAX_CELLS in extensions/plan.py)",
            "check the epochs and the Evaluation Plan: name the epochs to evaluate instead of every epoch",
        )
    return Plan(
        experiment=experiment,
        factors=list(summary.factors),
        decoding=precedence.decoding(summary, warnings),
        max_jobs=site.max_jobs,
        runs=runs,
        warnings=warnings.as_list(),
    )


@dataclass(frozen=True)
class _Inputs:
    dir: Path
    summary: Summary
    site: Site
    setups: dict[str, FinetuneSetup]
    needs_conda: bool
    experiment_label: str  # the experiment's name as each log's metadata carries it


def _metadata_label(experiment: str, warnings: Warnings) -> str:
    """The name as `--metadata experiment=…` can deliver it: inspect splits every metadata
    string on its commas (render.metadata_options), so they become semicolons, said once."""
    if "," not in experiment:
        return experiment
    label = experiment.replace(",", ";")
    warnings.add(
        f"the experiment's name {experiment!r} holds commas, which inspect's --metadata would split: "
        f"the logs say experiment {label!r}"
    )
    return label


def _check_run_dirs(summary: Summary) -> None:
    """The summary's parser checked each name; a base run's directory gets `_base` added,
    which can make it another run's."""
    dirs = [_run_dir(run) for run in summary.runs]
    clash = sorted({d for d in dirs if dirs.count(d) > 1})
    if clash:
        raise InputError(summary.path, f"two runs would share the directory {clash[0]!r}", "rename one of them")


class _Selection:
    """Which run evaluates which task at which epochs: the Evaluation Plan text and Matrix."""

    def __init__(self, summary: Summary, warnings: Warnings):
        self.summary = summary
        self.warnings = warnings
        self.text_epochs = summary.plan_epochs
        self.text_tasks = summary.text_tasks
        self.matrix = summary.matrix or {}

    def choice(self, run: RunRow, task: TaskRow) -> tuple[bool, EpochChoice | None]:
        """Whether this run evaluates this task, and at which epochs (None: the text's)."""
        row = self.matrix.get(run.name)
        if row is not None and task.name in row:
            return row[task.name]
        return task.name in self.text_tasks, None

    def epochs(self, row: RunRow, task: TaskRow, choice: EpochChoice | None, epochs: int, setup_path: Path) -> list[int]:
        if choice is None:
            choice = self.text_epochs
            if choice is None:
                choice = EpochChoice(LAST)
                self.warnings.add("the Evaluation Plan names no epochs: evaluating the last epoch of each run")
        chosen = choice.resolve(epochs)
        for epoch in chosen:
            if not 0 <= epoch < epochs:
                raise InputError(
                    self.summary.path,
                    f"epoch {epoch} of run {row.name} (task {task.name}) is outside 0..{epochs - 1}: "
                    f"{setup_path.name} trains it for {epochs} epoch(s), saved as epoch_0..epoch_{epochs - 1}",
                    "epochs are 0-indexed: name epochs from 0 to epochs-1 in the Evaluation Plan or Matrix",
                )
        if choice.said_last and max(chosen) != epochs - 1:
            self.warnings.add(
                f"the plan says 'last epoch' but names epoch {max(chosen)}, while {row.name} "
                f"trains for {epochs} epochs (last is epoch_{epochs - 1}): using {choice.describe()}"
            )
        return chosen


@dataclass
class _Trained:
    """A fine-tuned run as planned, with what a base run may share: the inputs it is
    evaluated with. The training data is read only when something evaluates on it."""

    run: Run
    prompt: precedence.Sourced
    system_prompt: precedence.Sourced
    read_training_data: object  # () -> Sourced
    _training_data: precedence.Sourced | None = None

    def training_data(self) -> precedence.Sourced:
        if self._training_data is None:
            self._training_data = self.read_training_data()
        return self._training_data


def _fine_tuned_run(inputs: _Inputs, row: RunRow, selection: _Selection, warnings: Warnings) -> _Trained:
    setup, summary = inputs.setups[row.name], inputs.summary
    run_dir = inputs.dir / row.name
    config = read_finetune_config(run_dir / CONFIG_FILE)
    if setup.model and setup.model != row.model:
        warnings.add(
            f"{setup.path}: torchtune_model_name is {setup.model!r} but All Runs says "
            f"{row.model!r} for {row.name}: the scripts are sized for {row.model!r}"
        )
    name = precedence.run_name(setup, config, row.name, warnings)
    checkpoints = precedence.checkpoints(setup, config, summary, inputs.site, str(name.value), _user(), warnings)
    epochs = precedence.epochs(setup, config, summary, warnings)
    saving = precedence.saving(setup, config)
    saved = saved_epochs(saving.value, epochs.value)
    prompt = precedence.prompt(setup, summary, warnings)
    system_prompt = precedence.system_prompt(setup, summary, warnings)
    finetune_job = precedence.finetune_job(read_finetune_job_name(run_dir / JOB_FILE), name)
    run = _run(inputs, row, setup, prompt.value, system_prompt.value, finetune_job, warnings)
    trained = _Trained(run, prompt, system_prompt,
                       lambda: precedence.training_data(setup, config, summary, _user(), warnings))
    for task in summary.tasks:
        evaluated, choice = selection.choice(row, task)
        if not evaluated:
            continue
        for epoch in selection.epochs(row, task, choice, epochs.value, epochs.source):
            if epoch not in saved:
                raise InputError(
                    saving.source,
                    f"run {row.name} is to be evaluated at epoch {epoch} (task {task.name}), but its "
                    f"epochs_to_save / save_last_epoch_only save only {_epoch_list(saved)}",
                    "evaluate a saved epoch in the Evaluation Plan, or save this one (epochs_to_save: all)",
                )
            # A relative path is relative to the file that gave it (setup_finetune.py runs in
            # the run's directory), `~` is the home of whoever renders.
            checkpoint = _resolve(Path(checkpoints.source).parent, f"{checkpoints.value}/epoch_{epoch}")
            _check_model_arg(checkpoints.source, checkpoint)
            _add_cell(inputs, run, task, epoch, checkpoint, task.dataset or trained.training_data().value)
    return trained


def _epoch_list(epochs: set[int]) -> str:
    return ", ".join(f"epoch_{epoch}" for epoch in sorted(epochs)) or "no epoch (epochs_to_save: none)"


def _base_run(inputs: _Inputs, row: RunRow, selection: _Selection, trained: list[_Trained], warnings: Warnings) -> Run:
    summary = inputs.summary
    model_path = precedence.base_model_path(row.name, row.model, summary, lambda model: _model_path(summary, model))
    model_path = model_path._replace(value=_resolve(inputs.dir, model_path.value))
    _check_model_arg(summary.path, model_path.value)
    prompt = precedence.base_text(
        "prompt", row.name, summary.prompt, "Configuration → Training → Prompt", summary,
        precedence.shared([t.prompt for t in trained]), warnings,
    )
    system_prompt = precedence.base_system_prompt(summary, precedence.shared([t.system_prompt for t in trained]), warnings)
    run = _run(inputs, row, None, prompt.value, system_prompt.value, None, warnings)
    for task in summary.tasks:
        evaluated, _ = selection.choice(row, task)
        if evaluated:
            data_path = task.dataset or precedence.base_text(
                "data path", row.name, summary.dataset_path, "Resources → Dataset → Path", summary,
                _shared_training_data(summary, trained), warnings,
            ).value
            _add_cell(inputs, run, task, None, model_path.value, data_path)
    return run


def _shared_training_data(summary: Summary, trained: list[_Trained]) -> precedence.Sourced | None:
    if summary.dataset_path is not None:  # the summary's wins: no setup file need be read
        return None
    return precedence.shared([t.training_data() for t in trained])


def _model_path(summary: Summary, model: str) -> str | None:
    """The path listed under Resources → Models for a model name.

    The names may differ by an organisation prefix or a remark ("meta-llama/Llama-3.2-1B"
    for "Llama-3.2-1B (base)"): a listed name contained in the other, or the other way
    round, counts when only one does.
    """
    wanted = normalize(model)
    if wanted in summary.models:
        return summary.models[wanted]
    close = [path for name, path in summary.models.items() if name in wanted or wanted in name]
    return close[0] if len(close) == 1 else None


def _run(inputs: _Inputs, row: RunRow, setup: FinetuneSetup | None, prompt: str, system_prompt: str,
         finetune_job: str | None, warnings: Warnings) -> Run:
    site, setups = inputs.site, inputs.setups
    conda_env = precedence.conda_env(setup, site, setups)
    if inputs.needs_conda and not conda_env.value:
        raise InputError(
            setup.path if setup else site.path or inputs.summary.path,
            f"run {row.name} has no conda environment",
            "add `conda_env:` to its setup_finetune.yaml or a Default conda environment to "
            "claude.local.md, or answer env_setup without {conda_env}",
        )
    if "{input}" not in prompt:
        warnings.add(
            f"the prompt of {row.name} ({prompt!r}) has no {{input}}: the task's input would never reach the model"
        )
    resources, warning = resources_for(row.model)
    if warning:
        warnings.add(warning)
    options = precedence.sbatch_options(resources, setup, inputs.summary, site, setups, warnings)
    resources["time"] = options["time"].value
    header = run_header(options)
    return Run(
        name=row.name,
        dir=_run_dir(row),
        kind=row.kind,
        model=row.model,
        factors=dict(row.factors),
        finetune_job=finetune_job,
        conda_env=conda_env.value,
        prompt=prompt,
        system_prompt=system_prompt,
        resources=resources,
        sbatch=header,
    )


def _add_cell(inputs: _Inputs, run: Run, task: TaskRow, epoch: int | None, model_path: str, data_path: str) -> None:
    name = protocol.cell_name(task.name, epoch)
    run.cells.append(Cell(
        name=name,
        job_name=protocol.job_name(task.name, run.dir),
        task=task.name,
        epoch=epoch,
        task_file=_task_file(task.script),
        task_file_origin=_resolve(inputs.dir, task.script),
        model_path=model_path,
        data_path=_resolve(inputs.dir, data_path),
        script=protocol.script_path(run.dir, name),
        log_dir=protocol.log_dir(run.dir),
        done_mark=protocol.done_mark(run.dir, name),
        failed_mark=protocol.failed_mark(run.dir, name),
        job_record=protocol.job_record(run.dir, name),
        metadata={
            "experiment": inputs.experiment_label,
            "run": run.name,
            "task": task.name,
            "epoch": protocol.BASE_EPOCH if epoch is None else epoch,
            "kind": run.kind,
            "cell": name,
        },
    ))


@lru_cache(maxsize=1024)
def _resolve(directory: Path, path: str) -> str:
    """A relative path is relative to `directory` (the experiment, for the summary's paths);
    the scripts run elsewhere."""
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(directory, path))


def _task_file(script: str) -> str:
    """The task file as the summary writes it: a relative one stays relative to the
    experiment, and each script looks for it where the experiment is when it runs, so a
    moved tree uses its own copy (a reproduced one without a copy uses task_file_origin)."""
    script = os.path.expanduser(script)
    return script if os.path.isabs(script) else os.path.normpath(script)


def _user() -> str:
    """Whom `$USER` in the setup files' paths stands for: whoever renders (setup_finetune.py
    expands it for whoever runs it, the same person on the same cluster)."""
    return os.environ.get("USER") or getpass.getuser()


def _run_dir(run: RunRow) -> str:
    if run.kind == BASE:
        return run.name.removesuffix("_base") + "_base"
    return run.name


def _check_model_arg(source: Path, model_path: str) -> None:
    """Refuse a model path that `inspect eval -M model_path=...` would not deliver as written.

    inspect parses each -M value as YAML and splits the resulting string on commas, so a
    path with a comma becomes a list and one with YAML syntax (": ", " #") is cut short.
    """
    if not _reaches_inspect_intact(model_path):
        raise InputError(
            source,
            f"model path {model_path!r} would reach inspect's -M model_path altered "
            "(inspect reads -M values as YAML and splits them on commas)",
            "move the checkpoints or model to a path without commas, ': ' or ' #'",
        )


@lru_cache(maxsize=None)
def _reaches_inspect_intact(value: str) -> bool:
    try:
        delivered = yaml.load(value, Loader=YAML_LOADER)
    except yaml.YAMLError:
        return False
    return delivered == value and "," not in value
