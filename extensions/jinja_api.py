"""What the templates and copier.yml may call: loader entry points and formatting filters."""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

from . import checks, protocol
from .changes import inputs_differ, plan_changes
from .experiment import CONFIG_FILE, JOB_FILE, SETUP_FILE, SUMMARY_MD
from .plan import PLAN_FORMAT, build_plan, default_env_setup
from .summary_yaml import SUMMARY_YAML
from .render import (
    answers_yaml,
    comment,
    double_quoted,
    eval_yaml,
    log_file_pattern,
    metadata_options,
    unpassed_options,
    protocol_shell,
    protocol_source,
    python_json,
    sbatch_header,
    shell_quote,
    task_check_source,
    task_config,
    with_conda_env,
    with_job_id,
)
from .report import plan_overview, warnings_text
from .site import find_site_file, read_site
from .sources import sources_text
from .versions import say_no_tags_once, template_version  # noqa: F401 (context.py calls say_no_tags_once)


def _input_files(experiment_dir: Path) -> tuple:
    """(path, mtime, size) of every input file, so a changed file means a fresh plan."""
    files = [experiment_dir / SUMMARY_YAML, experiment_dir / SUMMARY_MD]
    for name in (SETUP_FILE, CONFIG_FILE, JOB_FILE):
        files.extend(sorted(experiment_dir.glob(f"*/{name}")))
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


# The template's own top-level files (submit_evals.sh, …): the paths the plan does not give.
_TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "template"


def check_destination(operation: str, dst_path, answers_file, plan: dict, confirmed: bool = True,
                      pretend: bool = False, src_path: str | None = None) -> str:
    """Raise an InputError before anything is written when the destination cannot take the
    tree (called from copier.yml's `_exclude`, see extensions/checks.py); return ''."""
    # name -> whether Copier makes it executable (it gives each file its template file's bits)
    top_level = {
        path.name.removesuffix(".jinja"): os.access(path, os.X_OK)
        for path in sorted(_TEMPLATE_DIR.iterdir())
        if path.is_file() and "{" not in path.name
    }
    script = next(_TEMPLATE_DIR.glob("*/eval/*.slurm*"))
    return checks.check_destination(operation, dst_path, answers_file, plan, top_level,
                                    os.access(script, os.X_OK), confirmed, pretend, src_path)


GLOBALS = {
    "load_plan": load_plan,
    "env_setup_default": env_setup_default,
    "check_destination": check_destination,
    "before_copy": checks.before_copy,
    "plan_changes": plan_changes,
    "protocol_source": protocol_source,
    "protocol_shell": protocol_shell,
    "task_check_source": task_check_source,
    "plan_format": PLAN_FORMAT,
    "gpu_query": protocol.GPU_QUERY,
    "gpu_interval": protocol.GPU_INTERVAL,
    "warning_signal": protocol.WARNING_SIGNAL,
    "warning_seconds": protocol.WARNING_SECONDS,
    "template_version": template_version,
    "sources_text": sources_text,
    "inputs_differ": inputs_differ,
}
FILTERS = {
    "answers_yaml": answers_yaml,
    "comment": comment,
    "shell_quote": shell_quote,
    "task_config": task_config,
    "eval_yaml": eval_yaml,
    "with_conda_env": with_conda_env,
    "plan_overview": plan_overview,
    "warnings_text": warnings_text,
    "sbatch_header": sbatch_header,
    "log_file_pattern": log_file_pattern,
    "python_json": python_json,
    "unpassed_options": unpassed_options,
    "double_quoted": double_quoted,
    "metadata_options": metadata_options,
    "with_job_id": with_job_id,
}
