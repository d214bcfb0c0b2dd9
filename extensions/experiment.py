"""Every input file of an experiment, read once: the model the plan is built from.

The walk goes down through one reader per file kind and ends here. After `load_experiment`
nothing opens a file: precedence and the plan work on the returned `Experiment` alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .finetune import FinetuneSetup, read_finetune_setup
from .finetune_config import FinetuneConfig, read_finetune_config
from .finetune_job import read_finetune_job_name
from .model import FINE_TUNED, MARKDOWN, Summary
from .notes import Warnings
from .paths import resolve
from .generated_data import generated_test_file
from .site import SITE_FILE, Site, find_site_file, read_site
from .source import read_source, refuse_link_loop
from .summary import read_summary
from .summary_yaml import SUMMARY_YAML, V034, read_summary_yaml
from .task_file import TaskFileError, TaskFunction, read_task_functions

SUMMARY_MD = "experiment_summary.md"
SETUP_FILE = "setup_finetune.yaml"
CONFIG_FILE = "finetune.yaml"  # what setup_finetune.py wrote for the training to read
JOB_FILE = "finetune.slurm"


@dataclass(frozen=True)
class TaskFile:
    path: str  # absolute, as the plan resolved the summary's path
    functions: dict[str, TaskFunction] | None  # None: the file does not exist yet


@dataclass(frozen=True)
class Experiment:
    dir: Path
    summary: Summary
    site: Site
    setups: dict[str, FinetuneSetup]  # by run name; fine-tuned runs with a setup file
    configs: dict[str, FinetuneConfig]  # by run name; runs whose finetune.yaml exists
    job_names: dict[str, str]  # by run name; the job name finetune.slurm gives
    task_files: dict[str, TaskFile]  # by the task file path as the summary writes it
    generated_data: dict[str, str]  # eval_condition -> the generator's test file for it


def summary_path(experiment_dir: Path) -> Path:
    """The design file: the YAML when there is one (cruijff_kit's tools read only it)."""
    yaml_path, md_path = experiment_dir / SUMMARY_YAML, experiment_dir / SUMMARY_MD
    if yaml_path.is_file():
        return yaml_path
    if md_path.is_file():
        return md_path
    raise InputError(
        experiment_dir / SUMMARY_YAML,
        f"neither {SUMMARY_YAML} nor {SUMMARY_MD} is in this directory",
        "run copier in the experiment directory that cruijff_kit's design step wrote "
        "(it holds experiment_summary.yaml, or experiment_summary.md for experiments of 2025)",
    )


def load_experiment(experiment_dir: Path, warnings: Warnings) -> Experiment:
    path = summary_path(experiment_dir)
    if path.suffix == ".yaml":
        if (experiment_dir / SUMMARY_MD).is_file():
            warnings.add(
                f"{experiment_dir} has both {SUMMARY_YAML} and {SUMMARY_MD}: the YAML is the design "
                f"(cruijff_kit's tools read only it), {SUMMARY_MD} is not read"
            )
        summary = read_summary_yaml(path, warnings)
        _check_experiment_dir(experiment_dir, summary, warnings)
    else:
        summary = read_summary(path, warnings)
    fine_tuned = [run.name for run in summary.runs if run.kind == FINE_TUNED]
    # A Markdown design leaves each run's inputs to its setup file; a YAML design says them
    # itself, and its setup files (written by scaffold-torchtune, maybe not yet) only confirm.
    setups = {
        name: read_finetune_setup(experiment_dir / name / SETUP_FILE, warnings)
        for name in fine_tuned
        if summary.format == MARKDOWN or (experiment_dir / name / SETUP_FILE).is_file()
    }
    configs = {name: read_finetune_config(experiment_dir / name / CONFIG_FILE) for name in fine_tuned}
    job_names = {name: read_finetune_job_name(experiment_dir / name / JOB_FILE) for name in fine_tuned}
    site = read_site(find_site_file(experiment_dir), warnings)
    return Experiment(
        dir=experiment_dir,
        summary=summary,
        site=site,
        setups=setups,
        configs={name: config for name, config in configs.items() if config is not None},
        job_names={name: job for name, job in job_names.items() if job is not None},
        task_files={task.script: _task_file(experiment_dir, task.script, warnings) for task in summary.tasks},
        generated_data=_generated_data(experiment_dir, summary, site),
    )


def _check_experiment_dir(experiment_dir: Path, summary: Summary, warnings: Warnings) -> None:
    """Checkpoints are under experiment.dir as written: say so when it is not this directory
    (a copy of the experiment, or a design moved since)."""
    written = summary.experiment_dir
    if written and os.path.realpath(resolve(experiment_dir, written)) != os.path.realpath(experiment_dir):
        # Up to v0.3.3 the key was experiment.directory (summary_yaml reads either).
        key = "experiment.dir" if summary.layout == V034 else "experiment.directory"
        warnings.add(
            f"{summary.path}: {key} is {written}, not this directory ({experiment_dir}): "
            f"checkpoints placed under {key} are looked for there, where cruijff_kit's training writes them"
        )


def _generated_data(experiment_dir: Path, summary: Summary, site: Site) -> dict[str, str]:
    """Each eval_condition's test file: named after a hash of files that are read here."""
    conditions = sorted({task.eval_condition for task in summary.tasks if task.eval_condition})
    if not conditions:
        return {}
    if not summary.data_generation:
        raise InputError(summary.path, f"tasks evaluate on eval_condition {conditions[0]!r}, but there is no "
                         "data.data_generation", "add the data_generation section the data was generated with")
    if not site.scratch_dir:
        raise InputError(
            site.path or experiment_dir / SITE_FILE,
            f"tasks evaluate on eval_condition {conditions[0]!r}, whose file cruijff_kit writes under the scratch "
            "directory, and claude.local.md gives none",
            "add `- **Scratch directory**: `/scratch/...`` under ## HPC Environment in claude.local.md",
        )
    return {condition: generated_test_file(summary.data_generation, condition, site.scratch_dir, experiment_dir, summary.path)
            for condition in conditions}


def _task_file(experiment_dir: Path, script: str, warnings: Warnings) -> TaskFile:
    path = resolve(experiment_dir, script)
    refuse_link_loop(Path(path))
    if os.path.isdir(path):
        raise InputError(path, f"is a directory, but the summary's task script {script!r} must be an inspect task file",
                         "write the task's .py file in its script (`tasks/cap_task.py`, or `tasks/cap_task.py@NAME` "
                         "for one @task of it)")
    if not os.path.isfile(path) and "@" in script:
        raise InputError(
            path,
            f"does not exist, and the summary's task script {script!r} is not FILE.py@NAME: inspect takes the text "
            "after the last `@` as the @task's name, and the text before it as a .py file",
            "write the task file's path, with `@` and one registered @task name after it if the file has several "
            "(as `inspect list tasks FILE` prints them)",
        )
    if not os.path.isfile(path):
        warnings.add(
            f"task file {path} does not exist yet: its @task parameters cannot be checked now; "
            "submit_evals.sh and each job check them before evaluating"
        )
        return TaskFile(path, None)
    try:
        return TaskFile(path, read_task_functions(read_source(path), path))
    except TaskFileError as error:
        raise InputError(path, f"cannot be read as an inspect task file: {error}",
                         "fix the Python file (it is parsed, not imported)") from None
