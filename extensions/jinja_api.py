"""What the templates and copier.yml may call: loader entry points and formatting filters."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from .errors import InputError
from .plan import SETUP_FILE, SUMMARY_FILE, build_plan, default_env_setup
from .render import answers_yaml, comment, log_file_pattern, plan_table, sbatch_header, shell_quote, task_config, with_conda_env
from .site import find_site_file, read_site


def _input_files(experiment_dir: Path) -> tuple:
    """(path, mtime, size) of every input file, so a changed file means a fresh plan."""
    files = [experiment_dir / SUMMARY_FILE, *sorted(experiment_dir.glob(f"*/{SETUP_FILE}"))]
    site = find_site_file(experiment_dir)
    if site:
        files.append(site)
    stats = ((f, f.stat()) for f in files if f.exists())
    return tuple((str(f), stat.st_mtime_ns, stat.st_size) for f, stat in stats)


@lru_cache(maxsize=8)
def _plan(experiment_dir: Path, env_setup: str | None, _inputs: tuple) -> dict:
    plan = build_plan(experiment_dir, env_setup)
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return plan.to_answer()


def load_plan(dst_path, env_setup: str | None = None) -> dict:
    """The plan of the experiment Copier renders into, read from its input files."""
    experiment_dir = Path(dst_path).resolve()
    return _plan(experiment_dir, env_setup, _input_files(experiment_dir))


def env_setup_default(dst_path) -> str:
    return default_env_setup(read_site(find_site_file(Path(dst_path).resolve())))


def refuse_second_copy(dst_path, answers_file) -> str:
    """Stop `copier copy` into an experiment that was rendered before.

    A second copy would keep the recorded answers (changed inputs silently ignored), or with
    new answers leave the scripts of dropped cells behind: `copier update` does it right.
    """
    answers = Path(dst_path) / str(answers_file)
    if answers.exists() and _copier_operation() == "copy":
        raise InputError(
            answers,
            "this experiment was rendered before (it already has an answers file)",
            "from the experiment directory, run `copier update --trust --defaults` to re-render, "
            "adding `-d reread_inputs=true` to take in changed input files",
        )
    return ""


def _copier_operation() -> str | None:
    # Copier records the running operation ("copy", "update") in a context variable that it
    # passes to tasks but not to questions; an update renders into the real destination with
    # run_copy(), so the destination's state alone cannot tell the two apart.
    try:
        from copier._main import _operation
    except ImportError:  # a Copier without it: no guard rather than a false alarm
        return None
    return _operation.get(None)


GLOBALS = {
    "load_plan": load_plan,
    "env_setup_default": env_setup_default,
    "refuse_second_copy": refuse_second_copy,
}
FILTERS = {
    "answers_yaml": answers_yaml,
    "comment": comment,
    "shell_quote": shell_quote,
    "task_config": task_config,
    "with_conda_env": with_conda_env,
    "plan_table": plan_table,
    "sbatch_header": sbatch_header,
    "log_file_pattern": log_file_pattern,
}
