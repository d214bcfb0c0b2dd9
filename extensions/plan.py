"""The plan: every evaluation cell of an experiment, with everything its script needs.

`build_plan` reads the input files through their parsers and checks them; it raises
InputError before anything is rendered, and returns warnings instead of printing them.
The plan is recorded as a Copier answer, so the templates only format it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from . import contract, precedence, protocol
from .epochs import EpochChoice
from .errors import InputError
from .experiment import Experiment, load_experiment
from .paths import resolve
from .fingerprint import cell_fingerprint
from .finetune import YAML_LOADER, FinetuneSetup, current_user, saved_epochs
from .markdown import normalize
from .model import BASE, EVAL_ONLY, FINE_TUNED, MARKDOWN, RunRow, Summary, TaskRow
from .summary_yaml import V01 as YAML_V01
from .notes import Warnings
from .placeholders import expand
from .resources import resources_for
from .sbatch import run_header
from .site import Site

CONDA_PLACEHOLDER = "{conda_env}"
DEFAULT_MODULE_LINES = ("module load anaconda3/2025.6",)
YAML_DEFAULT_CONDA_ENV = "cruijff"
RESULTS_DIR = "results"  # collect_results.py's default --out, beside the run directories

@dataclass(kw_only=True)
class Cell:
    name: str  # protocol.cell_name: the script's file name without .slurm
    job_name: str
    task: str  # the task's name in the summary
    function: str  # the registered @task it runs (contract.resolve_function)
    epoch: int | None  # None for a cell evaluated once (base model, eval-only checkpoint)
    task_file: str  # the inspect task file; relative: to the experiment, wherever it is
    task_file_origin: str  # where it was when the plan was read (absolute)
    task_checked: bool  # False: the file did not exist; the job checks its @task first
    model_path: str
    data_path: str
    prompt: str
    system_prompt: str
    task_args: dict  # what the --task-config JSON gives the task (config_path aside)
    config: dict | None  # the per-cell config file (cruijff_kit's eval.yaml form), if the task reads one
    script: str  # these seven: protocol's paths, relative to the experiment directory
    config_file: str | None
    log_dir: str
    done_mark: str
    failed_mark: str
    job_record: str
    attempts_record: str
    job_times: str  # these two: protocol's, with its JOB_ID where the job writes its id
    gpu_samples: str
    fingerprint: str  # fingerprint.cell_fingerprint: in the log's metadata and the done mark
    metadata: dict  # what `inspect eval --metadata` writes into the log's header


@dataclass(kw_only=True)
class Run:
    name: str
    dir: str
    kind: str
    model: str
    factors: dict[str, str]  # what varies between runs (All Runs columns, YAML parameters)
    finetune_job: str | None  # the job name of the run's fine-tuning job
    conda_env: str | None
    prompt: str  # the run's prompt and system prompt; a task may have its own (cell's)
    system_prompt: str
    resources: dict
    sbatch: list[list[str]]  # the run's #SBATCH [option, value] pairs, in order (sbatch.run_header)
    cells: list[Cell] = field(default_factory=list)


# The shape of the recorded plan. Bump it when a template needs a key an older plan lacks:
# copier.yml's plan validator then drops a recorded plan of another format, and the plan
# is read again from the input files (0.1 recorded plans had no format: they are read again).
PLAN_FORMAT = 7


@dataclass(kw_only=True)
class Plan:
    experiment: str
    summary_format: str  # markdown or yaml
    factors: list[str]
    decoding: dict
    max_jobs: int | None
    max_mem: str | None  # claude.local.md's caps of a retry's growth (submit_evals.sh)
    max_time: str | None
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
    """The plan of the experiment in `experiment_dir` (an absolute path): its files read
    once, then planned from what was read."""
    warnings = Warnings()
    return plan_experiment(load_experiment(experiment_dir, warnings), env_setup, warnings)


def plan_experiment(experiment: Experiment, env_setup: str | None, warnings: Warnings) -> Plan:
    summary = experiment.summary
    _check_run_dirs(summary)
    if None not in (summary.system_prompt, summary.eval_system_prompt) and summary.format == MARKDOWN \
            and summary.system_prompt != summary.eval_system_prompt:
        warnings.add(
            f"Configuration → Evaluation → System prompt {summary.eval_system_prompt!r} differs from "
            f"the Training one {summary.system_prompt!r}: the scripts use the Training one"
        )
    selection = _Selection(summary, warnings)
    name = summary.title or experiment.dir.name
    if not summary.title:
        where = "no '# Title' line" if summary.format == MARKDOWN else "no experiment.name"
        warnings.add(f"{summary.path} has {where}: the experiment is named after its directory, {name!r}")
    decoding = precedence.decoding(summary, warnings) if summary.format == MARKDOWN else precedence.yaml_decoding(summary, warnings)
    inputs = _Inputs(experiment, env_setup is None or CONDA_PLACEHOLDER in env_setup, _metadata_label(name, warnings), decoding)
    # Fine-tuned runs first: a base run of a Markdown design without its own prompt or data
    # takes theirs.
    trained = {row.name: _fine_tuned_run(inputs, row, selection, warnings) for row in summary.runs if row.kind == FINE_TUNED}
    runs = []
    for row in summary.runs:
        if row.kind == FINE_TUNED:
            run = trained[row.name].run
        else:
            run = _once_run(inputs, row, selection, list(trained.values()), warnings)
        if run.cells:
            runs.append(run)
        else:
            warnings.add(f"run {row.name} has no evaluation planned: no scripts for it")
    _announce_site_defaults(experiment, env_setup, runs, warnings)
    count = sum(len(run.cells) for run in runs)
    if count > MAX_CELLS:
        raise InputError(
            summary.path,
            f"the plan has {count} evaluation cells, more than the {MAX_CELLS} this template accepts "
            "(MAX_CELLS in extensions/plan.py)",
            "check the epochs and the Evaluation Plan: name the epochs to evaluate instead of every epoch",
        )
    return Plan(
        experiment=name,
        summary_format=summary.format,
        factors=list(summary.factors),
        decoding=decoding,
        max_jobs=experiment.site.max_jobs,
        max_mem=experiment.site.max_mem,
        max_time=experiment.site.max_time,
        runs=runs,
        warnings=warnings.as_list(),
    )


def _announce_site_defaults(experiment: Experiment, env_setup: str | None, runs: list[Run], warnings: Warnings) -> None:
    """No value reaches a script from no input file without a warning: the template's
    module line, and the account Slurm picks when no file names one."""
    site = experiment.site
    # Not a string: an answer this version's copier.yml does not define (a later version's
    # after-update message may still pass it): the default is what the scripts get.
    lines = (env_setup if isinstance(env_setup, str) else default_env_setup(site)).splitlines()
    if not site.module_lines and any(line.strip() in DEFAULT_MODULE_LINES for line in lines):
        where = (f"{site.path} has no code block under ## Module System" if site.path
                 else f"no claude.local.md in {experiment.dir} or its parents")
        warnings.add(
            f"{where}: every script runs `{DEFAULT_MODULE_LINES[0]}`, the template's default (the seed script's); "
            "put your cluster's module lines in a code block under claude.local.md's ## Module System, "
            "or answer env_setup (-d env_setup='…')"
        )
    without = [run.name for run in runs if not any(option == "account" for option, _ in run.sbatch)]
    if without:
        which = ("no run has a" if len(without) == len(runs)
                 else f"run {without[0]} has no" if len(without) == 1 else f"runs {', '.join(without)} have no")
        warnings.add(
            f"{which} Slurm account (`account:` in setup_finetune.yaml, or Account under claude.local.md's "
            "## SLURM Defaults): no --account in those scripts, so Slurm charges your default account"
        )


@dataclass(frozen=True)
class _Inputs:
    experiment: Experiment
    needs_conda: bool
    experiment_label: str  # the experiment's name as each log's metadata carries it
    decoding: dict

    @property
    def summary(self) -> Summary:
        return self.experiment.summary

    @property
    def dir(self) -> Path:
        return self.experiment.dir


def _metadata_label(experiment: str, warnings: Warnings) -> str:
    """The name as `--metadata experiment=…` can deliver it."""
    return _metadata_text("the experiment's name", "experiment", experiment, warnings)


def _metadata_text(what: str, key: str, text: str, warnings: Warnings) -> str:
    """Free text as `--metadata KEY=…` can deliver it: inspect splits every metadata string on
    its commas into a list (render.metadata_options), so they become semicolons, said once.
    Run, task and cell names cannot hold a comma (names.SAFE_NAME)."""
    if "," not in text:
        return text
    label = text.replace(",", ";")
    warnings.add(f"{what} {text!r} holds commas, which inspect's --metadata would split: the logs say {key} {label!r}")
    return label


def _check_run_dirs(summary: Summary) -> None:
    """The summary's parser checked each name; a base run's directory gets `_base` added,
    which can make it another run's."""
    dirs = [_run_dir(run, summary) for run in summary.runs]
    clash = sorted({d for d in dirs if dirs.count(d) > 1})
    if clash:
        raise InputError(summary.path, f"two runs would share the directory {clash[0]!r}", "rename one of them")
    taken = next((d for d in dirs if d.lower() == RESULTS_DIR), None)
    if taken is not None:
        raise InputError(summary.path, f"run directory {taken!r} is where collect_results.py writes the tables and plots",
                         "rename the run")


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

    def epochs(self, row: RunRow, task: TaskRow, choice: EpochChoice | None, epochs: precedence.Sourced | None,
               saved: set[int] | None = None) -> list[int]:
        if choice is None:
            choice = self.text_epochs
            if choice is None:
                choice = EpochChoice.last_epoch()
                self.warnings.add("the Evaluation Plan names no epochs: evaluating the last epoch of each run")
        if epochs is None:  # a YAML design whose training epochs nothing says: its list as written
            return choice.resolve(0)
        trained = epochs.value
        chosen = choice.resolve(trained, saved)
        where = "Evaluation Plan or Matrix" if self.summary.format == MARKDOWN else "evaluation.matrix"
        beyond = choice.excluded_beyond(trained)
        if beyond or not chosen:
            what = (f"skips epoch {', '.join(map(str, beyond))}, which run {row.name} does not have"
                    if beyond else f"leaves no epoch of run {row.name} to evaluate")
            raise InputError(
                self.summary.path,
                f"'{choice.describe()}' (task {task.name}) {what}: "
                f"{Path(epochs.source).name} trains it for {trained} epoch(s), saved as epoch_0..epoch_{trained - 1}",
                f"name in the {where} epochs from 0 to {trained - 1} that leave at least one to evaluate",
            )
        for epoch in chosen:
            if not 0 <= epoch < trained:
                raise InputError(
                    self.summary.path,
                    f"epoch {epoch} of run {row.name} (task {task.name}) is outside 0..{trained - 1}: "
                    f"{Path(epochs.source).name} trains it for {trained} epoch(s), saved as epoch_0..epoch_{trained - 1}",
                    f"epochs are 0-indexed: name epochs from 0 to epochs-1 in the {where}",
                )
        if choice.said_last and max(chosen) != trained - 1:
            self.warnings.add(
                f"the plan says 'last epoch' but names epoch {max(chosen)}, while {row.name} "
                f"trains for {trained} epochs (last is epoch_{trained - 1}): using {choice.describe()}"
            )
        return chosen


@dataclass
class _RunInputs:
    """A run's own inputs, before a task overrides any: what a Markdown base run may share
    with the fine-tuned ones. The training data is worked out only when something needs it."""

    run: Run
    row: RunRow
    prompt: precedence.Sourced
    system_prompt: precedence.Sourced
    read_data: object  # () -> Sourced
    _data: precedence.Sourced | None = None

    def data(self) -> precedence.Sourced:
        if self._data is None:
            self._data = self.read_data()
        return self._data


def _fine_tuned_run(inputs: _Inputs, row: RunRow, selection: _Selection, warnings: Warnings) -> _RunInputs:
    experiment, summary, user = inputs.experiment, inputs.summary, current_user()
    setup, config = experiment.setups.get(row.name), experiment.configs.get(row.name)
    if setup is not None and setup.model and setup.model != row.model:
        warnings.add(
            f"{setup.path}: torchtune_model_name is {setup.model!r} but "
            f"{'All Runs' if summary.format == MARKDOWN else 'runs[].model'} says "
            f"{row.model!r} for {row.name}: the scripts are sized for {row.model!r}"
        )
    if summary.format == MARKDOWN:
        name = precedence.run_name(setup, config, row.name, warnings)
        checkpoints = precedence.checkpoints(setup, config, summary, experiment.site, str(name.value), user, warnings)
        epochs = precedence.epochs(setup, config, summary, warnings)
        prompt = precedence.prompt(setup, summary, warnings)
        system_prompt = precedence.system_prompt(setup, summary, warnings)
        read_data = lambda: precedence.training_data(setup, config, summary, user, warnings)  # noqa: E731
    else:
        # scaffold-torchtune names the run's training job and wandb run after runs[].name.
        name = precedence.Sourced(row.name, summary.path)
        checkpoints = precedence.design_checkpoints(row, setup, config, summary, user, warnings)
        epochs = precedence.design_epochs(setup, config, summary, warnings)
        prompt = precedence.design_prompt(row, setup, summary, warnings)
        system_prompt = precedence.design_system_prompt(row, setup, summary, warnings)
        read_data = lambda: precedence.design_data(row, setup, summary, user, warnings)  # noqa: E731
    saving = precedence.saving(setup, config)
    saved = saved_epochs(saving.value, epochs.value) if epochs is not None and saving.value is not None else None
    finetune_job = precedence.finetune_job(experiment.job_names.get(row.name), name)
    run = _run(inputs, row, setup, prompt.value, system_prompt.value, finetune_job, warnings)
    own = _RunInputs(run, row, prompt, system_prompt, read_data)
    for task in summary.tasks:
        evaluated, choice = selection.choice(row, task)
        if not evaluated:
            continue
        for epoch in selection.epochs(row, task, choice, epochs, saved):
            if saved is not None and epoch not in saved:
                raise InputError(
                    saving.source,
                    f"run {row.name} is to be evaluated at epoch {epoch} (task {task.name}), but its "
                    f"epochs_to_save / save_last_epoch_only save only {_epoch_list(saved)}",
                    "evaluate a saved epoch in the plan, or save this one (epochs_to_save: all)",
                )
            # A relative path is relative to the file that gave it (setup_finetune.py runs in
            # the run's directory), `~` is the home of whoever renders.
            checkpoint = _resolve(Path(checkpoints.source).parent, f"{checkpoints.value}/epoch_{epoch}")
            _check_model_arg(checkpoints.source, checkpoint)
            _add_cell(inputs, own, task, epoch, checkpoint, warnings)
    return own


def _epoch_list(epochs: set[int]) -> str:
    return ", ".join(f"epoch_{epoch}" for epoch in sorted(epochs)) or "no epoch (epochs_to_save: none)"


def _once_run(inputs: _Inputs, row: RunRow, selection: _Selection, trained: list[_RunInputs], warnings: Warnings) -> Run:
    """A run evaluated once per task: a base model (control), or an eval-only checkpoint."""
    summary = inputs.summary
    if row.kind == EVAL_ONLY:
        # Used as written (cruijff_kit: "verbatim"), but a `{factor}` in it is the run's.
        model_path = precedence.Sourced(
            _resolve(inputs.dir, expand(row.checkpoint, row.factors, summary.path, "checkpoint_path", row.name)), summary.path)
    else:
        model_path = precedence.base_model_path(row.name, row.model, summary, lambda model: _model_path(summary, model, row.name, warnings))
        model_path = model_path._replace(value=_resolve(inputs.dir, model_path.value))
    _check_model_arg(summary.path, model_path.value)
    if summary.format == MARKDOWN:
        prompt = precedence.base_text(
            "prompt", row.name, summary.prompt, "Configuration → Training → Prompt", summary,
            precedence.shared([t.prompt for t in trained]), warnings,
        )
        system_prompt = precedence.base_system_prompt(summary, precedence.shared([t.system_prompt for t in trained]), warnings)
        read_data = lambda: precedence.base_text(  # noqa: E731
            "data path", row.name, summary.dataset_path, "Resources → Dataset → Path", summary,
            _shared_training_data(summary, trained), warnings,
        )
    else:
        prompt = precedence.design_prompt(row, None, summary, warnings)
        system_prompt = precedence.design_system_prompt(row, None, summary, warnings)
        read_data = lambda: precedence.design_data(row, None, summary, current_user(), warnings)  # noqa: E731
    run = _run(inputs, row, None, prompt.value, system_prompt.value, None, warnings)
    own = _RunInputs(run, row, prompt, system_prompt, read_data)
    for task in summary.tasks:
        evaluated, _ = selection.choice(row, task)
        if evaluated:
            _add_cell(inputs, own, task, None, model_path.value, warnings)
    return run


def _shared_training_data(summary: Summary, trained: list[_RunInputs]) -> precedence.Sourced | None:
    if summary.dataset_path is not None:  # the summary's wins: no setup file need be read
        return None
    return precedence.shared([t.data() for t in trained])


def _model_path(summary: Summary, model: str, run_name: str, warnings: Warnings) -> str | None:
    """The path listed under Resources → Models (models.base) for a model name.

    In a Markdown summary the names may differ by an organisation prefix or a remark ("meta-llama/Llama-3.2-1B"
    for "Llama-3.2-1B (base)"): a listed name contained in the other, or the other way
    round, counts when only one does.
    """
    if summary.format != MARKDOWN:
        # cruijff_kit v0.3.4: models.base[name == run.model].path, the name exactly as written.
        return summary.models.get(model)
    wanted = normalize(model)
    if wanted in summary.models:
        return summary.models[wanted]
    close = [(name, path) for name, path in summary.models.items() if name in wanted or wanted in name]
    if len(close) != 1:
        return None
    name, path = close[0]
    # "Llama-3.2-1B" for a listed "Llama-3.2-1B-Instruct" is another model as often as a remark.
    warnings.add(f"base run {run_name} uses model {model!r}, which Resources → Models does not list: taking the listed "
                 f"{name!r} ({path}), one name containing the other")
    return path


def _run(inputs: _Inputs, row: RunRow, setup: FinetuneSetup | None, prompt: str, system_prompt: str,
         finetune_job: str | None, warnings: Warnings) -> Run:
    experiment = inputs.experiment
    site, setups, summary = experiment.site, experiment.setups, experiment.summary
    conda_env = precedence.conda_env(setup, site, setups)
    if inputs.needs_conda and not conda_env.value and summary.format != MARKDOWN:
        # cruijff_kit's setup_inspect.py activates this one when nothing names another.
        conda_env = precedence.Sourced(YAML_DEFAULT_CONDA_ENV, "setup_inspect.py's default")
        warnings.add(
            "runs without a conda environment (claude.local.md's Default conda environment, or a run's "
            f"setup_finetune.yaml conda_env) activate {YAML_DEFAULT_CONDA_ENV!r}, cruijff_kit's default"
        )
    if inputs.needs_conda and not conda_env.value:
        raise InputError(
            setup.path if setup else site.path or summary.path,
            f"run {row.name} has no conda environment",
            "add `conda_env:` to its setup_finetune.yaml or a Default conda environment to "
            "claude.local.md, or answer env_setup without {conda_env}",
        )
    resources, warning = resources_for(row.model)
    if warning:
        warnings.add(warning)
    resources.update({key: summary.compute[key] for key in ("mem", "gpus") if key in summary.compute})
    options = precedence.sbatch_options(resources, setup, summary, site, setups, warnings)
    resources["time"] = options["time"].value
    resources["constraint"] = options["constraint"].value or ""
    header = run_header(options)
    return Run(
        name=row.name,
        dir=_run_dir(row, summary),
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


def _add_cell(inputs: _Inputs, own: _RunInputs, task: TaskRow, epoch: int | None, model_path: str,
              warnings: Warnings) -> None:
    """One cell: the task's own values over the run's, placeholders expanded, delivered the
    way the task's signature takes them (extensions/contract.py)."""
    summary, run, row = inputs.summary, own.run, own.row
    factors = row.factors

    def text(value: precedence.Sourced, what: str, keep_input: bool = False) -> str:
        return expand(str(value.value), factors, value.source, what, row.name, keep_input)

    prompt = text(precedence.cell_text(task.prompt, own.prompt, summary), "prompt", keep_input=True)
    system_prompt = text(precedence.cell_text(task.system_prompt, own.system_prompt, summary), "system prompt", keep_input=True)
    if task.eval_condition is not None:
        data = precedence.Sourced(inputs.experiment.generated_data[task.eval_condition], summary.path)
    elif task.dataset is not None:
        data = precedence.Sourced(task.dataset, summary.path)
    else:
        data = own.data()
    # Relative to the file that gave it, as checkpoints are: a setup file's input_dir_base is
    # read by setup_finetune.py and the training in the run's directory.
    data_path = _resolve(Path(data.source).parent if data.source else inputs.dir, text(data, "dataset"))
    if "{input}" not in prompt:
        warnings.add(f"the prompt of {row.name} for {task.name} ({prompt!r}) has no {{input}}: the task's input would never reach the model")
    name = protocol.cell_name(task.name, epoch)
    task_file = inputs.experiment.task_files[task.script]
    function = contract.resolve_function(task.name, task.function, task_file.functions, task_file.path, task.script, warnings)
    signature = task_file.functions[function] if task_file.functions is not None else None
    decoding = inputs.decoding
    label = summary.vis_labels.get((row.name, task.name), row.name)
    chat = None if summary.dataset_type is None else summary.dataset_type == "chat_completion"
    if chat is None and signature is not None and signature.accepts("use_chat_template") and summary.format != MARKDOWN:
        default = signature.parameter("use_chat_template")
        warnings.add(f"{summary.path} has no controls.dataset_type: @task {function} uses its own default use_chat_template"
                     f"={getattr(default, 'default', '?')!r} (chat_completion is true, text_completion false)")
    if chat is False and system_prompt:
        # cruijff_kit's tasks build a system message only for a chat template (spec §1.3, §2.1).
        warnings.add(
            f"{summary.path}: controls.dataset_type is text_completion, so the system prompt {system_prompt!r} is not "
            "used: cruijff_kit's tasks send a system prompt only through the chat template (use_chat_template true)"
        )
    values = {
        "data_path": data_path,
        "prompt": prompt,
        "system_prompt": system_prompt,
        "assistant_prefix": task.assistant_prefix,
        "max_tokens": decoding["max_tokens"],
        "temperature": decoding["temperature"],
    }
    if summary.format != MARKDOWN:
        values.update(vis_label=label, use_chat_template=chat)
    config = _eval_config(summary, decoding, prompt, system_prompt, task, function, model_path, data_path, label, chat, epoch, row)
    fallback = (contract.MARKDOWN_FALLBACK if summary.format == MARKDOWN else
                contract.YAML_V01_FALLBACK if summary.layout == YAML_V01 else contract.YAML_FALLBACK)
    delivery = contract.deliver(signature, function, task_file.path, values, config, fallback)
    contract.check_decoding(signature, function, task_file.path, decoding)
    fingerprint = cell_fingerprint(
        experiment_dir=str(inputs.dir), task_file=_task_file(task.script), function=delivery.function, model_path=model_path,
        device_auto=run.resources["gpus"] > 1, task_args=delivery.arguments, config=delivery.config, decoding=decoding,
    )
    run.cells.append(Cell(
        name=name,
        job_name=protocol.job_name(task.name, run.dir, epoch),
        task=task.name,
        function=delivery.function,
        epoch=epoch,
        task_file=_task_file(task.script),
        task_file_origin=task_file.path,
        task_checked=delivery.checked,
        model_path=model_path,
        data_path=data_path,
        prompt=prompt,
        system_prompt=system_prompt,
        task_args=delivery.arguments,
        config=delivery.config,
        script=protocol.script_path(run.dir, name),
        config_file=protocol.config_file(run.dir, name) if delivery.config is not None else None,
        log_dir=protocol.log_dir(run.dir),
        done_mark=protocol.done_mark(run.dir, name),
        failed_mark=protocol.failed_mark(run.dir, name),
        job_record=protocol.job_record(run.dir, name),
        attempts_record=protocol.attempts_record(run.dir, name),
        job_times=protocol.job_times(run.dir, name),
        gpu_samples=protocol.gpu_samples(run.dir, name),
        fingerprint=fingerprint,
        metadata={
            "experiment": inputs.experiment_label,
            "run": run.name,
            "task": task.name,
            "epoch": protocol.BASE_EPOCH if epoch is None else epoch,
            "kind": run.kind,
            "cell": name,
            "vis_label": _metadata_text(f"the vis_label of {row.name} for {task.name}", "vis_label", label, warnings),
            "is_finetuned": run.kind != BASE,
            "source_model": _metadata_text(f"the model name of {row.name}", "source_model", row.model, warnings),
            "fingerprint": fingerprint,
        },
    ))


def _eval_config(summary: Summary, decoding: dict, prompt: str, system_prompt: str, task: TaskRow, function: str,
                 model_path: str, data_path: str, label: str, chat: bool | None, epoch: int | None, row: RunRow) -> dict:
    """cruijff_kit's eval.yaml for one cell (spec §1.0), for a task that reads config_path:
    what it reads (prompt, system_prompt, scorers) and what its tools record."""
    config = {
        "prompt": prompt,
        "system_prompt": system_prompt,
        "assistant_prefix": task.assistant_prefix,
        "dataset_type": summary.dataset_type,
        "scorers": list(summary.scorers) if summary.scorers else None,
        "temperature": decoding["temperature"],
        "do_sample": decoding["do_sample"],
        "max_tokens": decoding["max_tokens"],
        "max_connections": decoding["max_connections"],
        "seed": decoding["seed"],
        "enable_thinking": decoding["enable_thinking"],
        "task_name": task.name,
        "task_script": f"{task.script}@{function}",
        "model_path": model_path,
        "data_path": data_path,
        "vis_label": label,
        "use_chat_template": chat,
        "epoch": epoch,
        "is_finetuned": row.kind != BASE,
        "source_model": row.model,
    }
    return {key: value for key, value in config.items() if value is not None}


@lru_cache(maxsize=1024)
def _resolve(directory: Path, path: str) -> str:
    """A relative path is relative to `directory` (the experiment, for the summary's paths);
    the scripts run elsewhere."""
    return resolve(directory, path)


def _task_file(script: str) -> str:
    """The task file as the summary writes it: a relative one stays relative to the
    experiment, and each script looks for it where the experiment is when it runs, so a
    moved tree uses its own copy (a reproduced one without a copy uses task_file_origin)."""
    script = os.path.expanduser(script)
    return script if os.path.isabs(script) else os.path.normpath(script)


def _run_dir(run: RunRow, summary: Summary) -> str:
    """A Markdown design's base run lives in `{name}_base` (the seed's layout); a YAML
    design's runs are in directories named runs[].name, as cruijff_kit scaffolds them."""
    if run.kind == BASE and summary.format == MARKDOWN:
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
