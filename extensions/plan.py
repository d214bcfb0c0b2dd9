"""The plan: every evaluation cell of an experiment, with everything its script needs.

`build_plan` reads the input files through their parsers and checks them; it raises
InputError before anything is rendered, and returns warnings instead of printing them.
The plan is recorded as a Copier answer, so the templates only format it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .epochs import LAST, EpochChoice
from .errors import InputError
from .finetune import YAML_LOADER, FinetuneSetup, checkpoint_dir, data_path, read_finetune_setup
from .markdown import normalize
from .notes import Warnings
from .resources import resources_for
from .site import Site, find_site_file, read_site
from .summary import BASE, FINE_TUNED, RunRow, Summary, TaskRow, read_summary

SUMMARY_FILE = "experiment_summary.md"
SETUP_FILE = "setup_finetune.yaml"
CONDA_PLACEHOLDER = "{conda_env}"
DEFAULT_MODULE_LINES = ("module load anaconda3/2025.6",)

# Run and task names become directory names, file names and `#SBATCH --job-name` values.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]*$")
# Accounts and partitions go into `#SBATCH` lines, which sbatch splits on spaces.
_SLURM_WORD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


@dataclass
class Cell:
    task: str
    epoch: int | None  # None for a base-model cell
    name: str  # "{task}_epoch{N}" or "{task}_base": the script's file name without .slurm
    script: str  # the inspect task file
    model_path: str
    data_path: str


@dataclass
class Run:
    name: str
    dir: str
    kind: str
    model: str
    conda_env: str | None
    account: str | None
    partition: str | None
    resources: dict
    prompt: str
    system_prompt: str
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Plan:
    experiment: str
    experiment_dir: str
    runs: list[Run]
    warnings: list[str]

    def to_answer(self) -> dict:
        """The plan as the JSON-able dict Copier records (dataclasses.asdict, hand-rolled:
        asdict deep-copies every value and was a quarter of the loader's time at 1,040 cells)."""
        runs = [{**vars(run), "cells": [vars(cell).copy() for cell in run.cells]} for run in self.runs]
        return {**vars(self), "runs": runs, "warnings": list(self.warnings)}


def default_env_setup(site: Site) -> str:
    """The seed's environment set-up, with the site's module lines when it lists some."""
    return "\n".join((*(site.module_lines or DEFAULT_MODULE_LINES), f"conda activate {CONDA_PLACEHOLDER}"))


def build_plan(experiment_dir: Path, env_setup: str | None = None) -> Plan:
    """The plan of the experiment in `experiment_dir` (an absolute path)."""
    warnings = Warnings()
    summary = read_summary(experiment_dir / SUMMARY_FILE, warnings)
    site = read_site(find_site_file(experiment_dir), warnings)
    builder = _Builder(experiment_dir, summary, site, env_setup, warnings)
    return builder.plan()


class _Builder:
    def __init__(self, experiment_dir: Path, summary: Summary, site: Site, env_setup: str | None,
                 warnings: Warnings):
        self.dir = experiment_dir
        self.summary = summary
        self.site = site
        self.needs_conda = env_setup is None or CONDA_PLACEHOLDER in env_setup
        self.warnings = warnings
        self._check_names()
        self.setups = {
            run.name: _v01_required(read_finetune_setup(experiment_dir / run.name / SETUP_FILE, warnings))
            for run in summary.runs
            if run.kind == FINE_TUNED
        }
        training, evaluation = summary.system_prompt, summary.eval_system_prompt
        if None not in (training, evaluation) and training != evaluation:
            self.warn(
                f"Configuration → Evaluation → System prompt {evaluation!r} differs from "
                f"the Training one {training!r}: the scripts use the Training one"
            )
        self.text_epochs = summary.plan_epochs
        self.text_tasks = list(summary.text_tasks)
        self.matrix = summary.matrix or {}

    def warn(self, message: str) -> None:
        self.warnings.add(message)

    # -- checks of the summary as a whole ---------------------------------------------------

    def _check_names(self) -> None:
        path = self.summary.path
        for kind, names in (
            ("run", [run.name for run in self.summary.runs]),
            ("task", [task.name for task in self.summary.tasks]),
        ):
            for name in names:
                if not _SAFE_NAME.match(name) or name in (".", ".."):
                    raise InputError(
                        path,
                        f"{kind} name {name!r} is not one safe path component",
                        f"rename the {kind} with letters, digits and . _ + - only "
                        "(no '/', no spaces, not starting with '-' or '.')",
                    )
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise InputError(path, f"{kind} {duplicates[0]!r} is listed twice", f"give each {kind} its own name")
        dirs = [_run_dir(run) for run in self.summary.runs]
        clash = sorted({d for d in dirs if dirs.count(d) > 1})
        if clash:
            raise InputError(path, f"two runs would share the directory {clash[0]!r}", "rename one of them")

    # -- runs and cells ------------------------------------------------------------------

    def plan(self) -> Plan:
        runs = []
        for row in self.summary.runs:
            run = self._fine_tuned(row) if row.kind == FINE_TUNED else self._base(row)
            if run.cells:
                runs.append(run)
            else:
                self.warn(f"run {row.name} has no evaluation planned: no scripts for it")
        return Plan(self.summary.title or self.dir.name, str(self.dir), runs, self.warnings.as_list())

    def _choice(self, run: RunRow, task: TaskRow) -> tuple[bool, EpochChoice | None]:
        """Whether this run evaluates this task, and at which epochs (None: the text's)."""
        row = self.matrix.get(run.name)
        if row is not None and task.name in row:
            return row[task.name]
        return task.name in self.text_tasks, None

    def _fine_tuned(self, row: RunRow) -> Run:
        setup = self.setups[row.name]
        if setup.model and setup.model != row.model:
            self.warn(
                f"{setup.path}: torchtune_model_name is {setup.model!r} but All Runs says "
                f"{row.model!r} for {row.name}: the scripts are sized for {row.model!r}"
            )
        for what, own, summarized in (
            ("prompt", setup.prompt, self.summary.prompt),
            ("system_prompt", setup.system_prompt, self.summary.system_prompt),
        ):
            if summarized is not None and own != summarized:
                self.warn(
                    f"{setup.path}: {what} {own!r} differs from the summary's Training "
                    f"{what.replace('_', ' ')} {summarized!r}: {row.name} is evaluated with the run's own"
                )
        epochs = setup.epochs or self.summary.epochs
        if epochs is None:
            raise InputError(
                setup.path,
                f"the number of training epochs of {row.name} is unknown",
                "add `epochs: N` to this file (or Epochs under Configuration → Training)",
            )
        run = self._run(row, setup.prompt, setup.system_prompt, setup.conda_env, setup.account, setup)
        for task in self.summary.tasks:
            evaluated, choice = self._choice(row, task)
            if not evaluated:
                continue
            for epoch in self._epochs(row, task, choice, epochs, setup.path):
                checkpoint = f"{checkpoint_dir(setup.output_dir_base, '', row.name)}/epoch_{epoch}"
                _check_model_arg(setup.path, checkpoint)
                run.cells.append(
                    self._cell(task, epoch, f"{task.name}_epoch{epoch}", checkpoint,
                               task.dataset or data_path(setup, os.environ.get("USER", "")))
                )
        return run

    def _epochs(self, row: RunRow, task: TaskRow, choice: EpochChoice | None, epochs: int, setup_path) -> list[int]:
        if choice is None:
            choice = self.text_epochs
            if choice is None:
                choice = EpochChoice(LAST)
                self._warn_once("the Evaluation Plan names no epochs: evaluating the last epoch of each run")
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
            self.warn(
                f"the plan says 'last epoch' but names epoch {max(chosen)}, while {row.name} "
                f"trains for {epochs} epochs (last is epoch_{epochs - 1}): using {choice.describe()}"
            )
        return chosen

    def _warn_once(self, message: str) -> None:
        self.warn(message)

    def _model_path(self, model: str) -> str | None:
        """The path listed under Resources → Models for a model name.

        The names may differ by an organisation prefix or a remark ("meta-llama/Llama-3.2-1B"
        for "Llama-3.2-1B (base)"): a listed name contained in the other, or the other way
        round, counts when only one does.
        """
        wanted = normalize(model)
        if wanted in self.summary.models:
            return self.summary.models[wanted]
        close = [path for name, path in self.summary.models.items() if name in wanted or wanted in name]
        return close[0] if len(close) == 1 else None

    def _base(self, row: RunRow) -> Run:
        model_path = self._model_path(row.model)
        if not model_path:
            raise InputError(
                self.summary.path,
                f"base run {row.name} uses model {row.model!r}, which has no path under Resources → Models",
                f"add `- **{row.model}**: `/path/to/{row.model}`` under ### Models",
            )
        prompt = self._summary_or_common("prompt", self.summary.prompt, row)
        system_prompt = self.summary.system_prompt
        if system_prompt is None:
            system_prompt = self.summary.eval_system_prompt
        if system_prompt is None:
            system_prompt = self._common(lambda s: s.system_prompt) or ""
        conda_env = self.site.conda_env or self._common(lambda s: s.conda_env)
        account = self.site.account or self._common(lambda s: s.account)
        _check_model_arg(self.summary.path, model_path)
        run = self._run(row, prompt, system_prompt, conda_env, account, None)
        for task in self.summary.tasks:
            evaluated, _ = self._choice(row, task)
            if evaluated:
                data_path = task.dataset or self._summary_or_common("data path", self.summary.dataset_path, row)
                run.cells.append(self._cell(task, None, f"{task.name}_base", model_path, data_path))
        return run

    def _common(self, get):
        """The value every fine-tuned run agrees on, or None."""
        values = {get(setup) for setup in self.setups.values()}
        return values.pop() if len(values) == 1 else None

    def _summary_or_common(self, what: str, value: str | None, row: RunRow) -> str:
        if value is not None:
            return value
        user = os.environ.get("USER", "")
        common = self._common(lambda s: s.prompt if what == "prompt" else data_path(s, user))
        where = "Configuration → Training → Prompt" if what == "prompt" else "Resources → Dataset → Path"
        if common is None:
            raise InputError(
                self.summary.path,
                f"base run {row.name} needs a {what} and the summary has no {where}",
                f"add {where} to experiment_summary.md",
            )
        self._warn_once(f"the summary has no {where}: base runs use the fine-tuned runs' {what} {common!r}")
        return common

    def _run(self, row: RunRow, prompt, system_prompt, conda_env, account, setup: FinetuneSetup | None) -> Run:
        source = setup.path if setup else self.site.path or self.summary.path
        conda_env = conda_env or self.site.conda_env
        account = account or self.site.account
        if self.needs_conda and not conda_env:
            raise InputError(
                source,
                f"run {row.name} has no conda environment",
                "add `conda_env:` to its setup_finetune.yaml or a Default conda environment to "
                "claude.local.md, or answer env_setup without {conda_env}",
            )
        for what, value in (("account", account), ("partition", self.site.partition)):
            if value and not _SLURM_WORD.match(value):
                raise InputError(source, f"{what} {value!r} is not a valid SLURM {what} name", f"fix the {what}")
        if "{input}" not in prompt:
            self._warn_once(
                f"the prompt of {row.name} ({prompt!r}) has no {{input}}: the task's input would never reach the model"
            )
        resources, warning = resources_for(row.model, self.summary.per_eval_minutes)
        if warning:
            self._warn_once(warning)
        return Run(row.name, _run_dir(row), row.kind, row.model, conda_env, account,
                   self.site.partition, resources, prompt, system_prompt)

    def _cell(self, task: TaskRow, epoch: int | None, name: str, model_path: str, data_path: str) -> Cell:
        return Cell(task.name, epoch, name, _resolve(self.dir, task.script), model_path, _resolve(self.dir, data_path))


@lru_cache(maxsize=1024)
def _resolve(experiment_dir: Path, path: str) -> str:
    """Paths in the summary are relative to the experiment; the scripts run elsewhere."""
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(experiment_dir, path))


def _v01_required(setup: FinetuneSetup) -> FinetuneSetup:
    """v0.1's required keys, until the plan takes the fallbacks of issue 11."""
    for key in ("input_dir_base", "dataset_label", "output_dir_base", "prompt"):
        if getattr(setup, key) is None:
            raise InputError(setup.path, f"missing {key}", f"add {key}: to the file")
    return setup


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
