"""What is checked in the destination before Copier writes anything.

Copier renders the template's `_exclude` patterns after the questions are answered and
before it writes the first file, with `_copier_operation` in the context ("copy" for `copier
copy` and `copier recopy`, "update" for the three renders of `copier update`): copier.yml
calls `check_destination` there. It excludes nothing; it raises an InputError naming the
path, so a copy that could not finish stops with nothing written.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import yaml

from .changes import log_dir, script_path
from .errors import InputError
from .finetune import YAML_LOADER

RETRY = "then run the same copier command again"


def check_destination(operation: str, dst_path, answers_file, plan: dict, template_files=(), confirmed=True) -> str:
    """Raise an InputError for anything that would stop Copier halfway; return ''.

    `template_files` are the template's own top-level files (submit_evals.sh, …); the plan
    gives the per-run and per-cell paths.
    """
    destination = Path(dst_path).absolute()
    if not confirmed:
        raise InputError(
            destination,
            "nothing was written: the plan was not confirmed",
            "change the input files the plan comes from, then run the same copier command again",
        )
    if operation == "copy":
        _check_same_plan(destination / str(answers_file), plan)
    _Paths(destination).check(_written_files(str(answers_file), plan, template_files))
    return ""


def _written_files(answers_file: str, plan: dict, template_files) -> list[tuple[str, str]]:
    """(path relative to the experiment, the input value it is named after) of every file."""
    files = [(answers_file, "the answers file"), *((name, "the template") for name in template_files)]
    for run in plan["runs"]:
        named = f"the run name {run['name']!r} in experiment_summary.md"
        log_dirs = {log_dir(run, cell) for cell in run["cells"]}
        files.extend((f"{directory}/.gitkeep", named) for directory in sorted(log_dirs))
        files.extend(
            (script_path(run, cell), f"the task name {cell['task']!r} or the run name {run['name']!r} in experiment_summary.md")
            for cell in run["cells"]
        )
    return files


def _check_same_plan(answers_path: Path, plan: dict) -> None:
    """A copy into a rendered experiment re-renders its recorded plan, and nothing else.

    Copier never removes files on a copy (or a recopy, which is a copy), and it writes files
    in directory order: a copy that changed the plan would leave the scripts of dropped cells
    behind, or stop at a hand-edited script with the answers file perhaps already saying the
    new plan. `copier update` does both right.
    """
    try:
        recorded = yaml.load(answers_path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (FileNotFoundError, NotADirectoryError):
        return
    if not isinstance(recorded, dict) or "plan" not in recorded or recorded["plan"] == plan:
        return
    old = {script_path(run, cell) for run in recorded["plan"].get("runs", ()) for cell in run["cells"]}
    new = {script_path(run, cell) for run in plan["runs"] for cell in run["cells"]}
    if new == old:
        difference = "the same scripts, with other values"
    else:
        difference = f"{len(new - old)} scripts would be added, {len(old - new)} left behind, the others re-rendered"
    raise InputError(
        answers_path,
        f"this experiment was rendered from another plan ({difference}); "
        "a copy or recopy renders the recorded plan and removes nothing",
        "to take in changed input files, commit, then run `copier update --trust --defaults "
        "-d reread_inputs=true` in the experiment: it also removes the scripts of dropped cells",
    )


class _Paths:
    """The destination's file system: the limits on names, and what is already there."""

    def __init__(self, destination: Path):
        self.destination = destination
        self.real = destination.resolve()
        existing = next(p for p in (destination, *destination.parents) if p.exists())
        self.name_max = os.pathconf(existing, "PC_NAME_MAX")
        self.path_max = os.pathconf(existing, "PC_PATH_MAX") - 1  # the limit counts the final NUL
        self.checked_dirs: set[str] = set()

    def check(self, files: list[tuple[str, str]]) -> None:
        for relative, named_after in files:
            self._check_length(relative, named_after)
            parts = PurePosixPath(relative).parts
            for depth in range(1, len(parts)):
                if not self._directory_fits("/".join(parts[:depth])):
                    break  # nothing below a new directory exists yet
            else:
                self._file_fits(relative)

    def _check_length(self, relative: str, named_after: str) -> None:
        for part in PurePosixPath(relative).parts:
            size = len(os.fsencode(part))
            if size > self.name_max:
                raise InputError(
                    self.destination / relative,
                    f"the name {part!r} is {size} bytes long, and this file system allows {self.name_max}",
                    f"shorten {named_after}",
                )
        size = len(os.fsencode(self.destination / relative))
        if size > self.path_max:
            raise InputError(
                self.destination / relative,
                f"the path is {size} bytes long, and this file system allows {self.path_max}",
                f"copy into a directory with a shorter path, or shorten {named_after}",
            )

    def _directory_fits(self, relative: str) -> bool:
        """Check a directory the template writes into; False when it does not exist yet."""
        if relative in self.checked_dirs:
            return True
        path = self.destination / relative
        if not os.path.lexists(path):
            return False
        real = path.resolve()
        if not real.is_relative_to(self.real):
            raise InputError(
                path,
                f"leads to {real}, outside the experiment (a symbolic link), and the template writes into it",
                f"replace the link with a directory inside the experiment, {RETRY}",
            )
        if not path.is_dir():
            raise InputError(
                path,
                "is a file where the template puts a directory",
                f"move it out of the way, {RETRY}",
            )
        self.checked_dirs.add(relative)
        return True

    def _file_fits(self, relative: str) -> None:
        path = self.destination / relative
        if path.is_symlink() or not os.path.lexists(path):
            return  # Copier replaces a link by the file
        if not path.is_file():
            raise InputError(
                path,
                "is a directory or a special file where the template writes a file",
                f"move it out of the way, {RETRY}",
            )
