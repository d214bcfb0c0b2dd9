"""What is checked in the destination before Copier writes anything.

Copier renders the template's `_exclude` patterns after the questions are answered and
before it writes the first file, with `_copier_operation` in the context ("copy" for `copier
copy` and `copier recopy`, "update" for the three renders of `copier update`): copier.yml
calls `check_destination` there. It excludes nothing; it raises an InputError naming the
path, so a copy that could not finish stops with nothing written. A copy also tidies what an
interrupted copy left half written (`_finish_interrupted_writes`), once every check passed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath

import yaml

from . import protocol, sbatch
from .changes import log_dir, script_path
from .errors import InputError
from .finetune import YAML_LOADER
from .names import check_name, check_safe
from .source import refuse_link_loop

RETRY = "then run the same copier command again"


def check_destination(operation: str, dst_path, answers_file, plan: dict, template_files: dict[str, bool],
                      scripts_executable: bool, confirmed=True, pretend=False, src_path: str | None = None) -> str:
    """Raise an InputError for anything that would stop Copier halfway; return ''.

    `template_files` are the template's own top-level files (submit_evals.sh, …), each with
    whether it is executable; the plan gives the per-run and per-cell paths. `src_path` is
    the template as the command gave it, which Copier records.
    """
    destination = Path(dst_path).absolute()
    if not confirmed:
        raise InputError(
            destination,
            "nothing was written: the plan was not confirmed",
            "change the input files the plan comes from, then run the same copier command again",
        )
    if operation == "copy" and src_path is not None and is_relative_template(src_path):
        _refuse_relative_template(src_path, destination / str(answers_file))
    _check_printed_values(experiment_dir(destination) / str(answers_file), plan, operation)
    if operation == "copy":
        _check_same_plan(destination / str(answers_file), plan)
    files = _written_files(str(answers_file), plan, template_files, scripts_executable)
    paths = _Paths(destination)
    paths.check([(relative, named_after) for relative, named_after, _ in files])
    for run in plan["runs"]:
        for cell in run["cells"]:
            paths.check_logs(cell, f"the task name {cell['task']!r} or the run name {run['name']!r} in the experiment summary")
    answers_path = destination / str(answers_file)
    if operation == "update" or not os.path.lexists(answers_path):
        _refuse_files_not_rendered(destination, files, _recorded_scripts(answers_path), operation)
    if operation == "copy" and not pretend:
        _finish_interrupted_writes(destination, files)
    return ""


# Every script, submit_evals.sh and collect_results.py says so near its top.
RENDERED_MARK = b"Rendered by copier-inspect-slurm"


def _refuse_files_not_rendered(destination: Path, files: list[tuple[str, str, bool]], rendered: set[str] | None,
                               operation: str) -> None:
    """A first copy (no answers file yet: Copier writes it last) finds only what an
    interrupted copy of it wrote, or files of the user's; an update, the scripts of the
    recorded plan (`rendered`) and, where it adds a cell, nothing or a file of the user's.
    Copier would take a hand-written script for an edited one: a copy stops at it halfway,
    asking to overwrite it, an update merges the two with conflict markers. Refused here,
    before anything is written (or made executable)."""
    for relative, _, _ in files:
        if not relative.endswith((".slurm", ".sh", ".py")):
            continue
        if rendered is not None and (relative in rendered or not relative.endswith(".slurm")):
            continue  # the template's since the last copy: edits of it are Copier's to merge
        path = destination / relative
        if path.is_symlink() or not path.is_file():
            continue  # a link Copier replaces; a directory _Paths refused
        try:
            with path.open("rb") as file:
                head = file.read(8192)
        except OSError:
            continue  # Copier says what it cannot read
        if head and RENDERED_MARK not in head:
            raise InputError(
                path,
                f"exists and was not rendered by this template (it has no line saying "
                f"{RENDERED_MARK.decode()!r}), and the template writes {relative} here",
                # `copier update` wants a clean work tree: the move is committed first.
                f"move it out of the way (e.g. `git mv {relative} {relative}.mine` and commit), {RETRY}"
                if operation == "update" else f"move it out of the way (e.g. `mv {relative} {relative}.mine`), {RETRY}",
            )


def experiment_dir(destination: Path) -> Path:
    """The experiment Copier was asked to render, to name in messages.

    `copier update` renders the old and the new template version into temporary copies
    (`copier._main.old_copy.…`), each with the experiment's recorded answers: a refusal there
    must name the experiment's own answers file, the one to fix, not a copy that is gone when
    the command ends. Copier passes templates no other trace of it than its Worker: the
    outermost one on the stack is the command's, with the experiment as its destination
    (Copier 9; elsewhere the destination is the experiment).
    """
    frame, outermost = sys._getframe(1), None
    while frame is not None:
        worker = frame.f_locals.get("self")
        if type(worker).__name__ == "Worker" and type(worker).__module__.startswith("copier"):
            outermost = getattr(worker, "dst_path", outermost)
        frame = frame.f_back
    return Path(outermost).absolute() if outermost is not None else destination


def before_copy(dst_path, answers_file) -> str:
    """The message before a copy, which Copier renders before it reads the answers file.

    An empty answers file (a copy stopped while Copier wrote it) ends Copier 9 in an
    AttributeError when it reads it; this is the one template code that runs earlier. Copier
    skips the message under --quiet, and update and recopy read the file to find the
    template: there Copier's error stands (README, troubleshooting).
    """
    experiment = Path(dst_path).resolve()
    path = experiment / str(answers_file)
    try:
        answers = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        answers = {}  # none yet, or one Copier names the problem of itself
    if answers is None or not isinstance(answers, dict):
        raise InputError(
            path,
            "is empty (a copy stopped while Copier wrote it?)" if answers is None
            else f"holds no answers (a YAML {type(answers).__name__}, not a mapping of answers)",
            f"for a first copy, delete it and {RETRY}; in a rendered experiment, restore it from git "
            f"(`git checkout -- {answers_file}`, or from a commit before it was emptied)",
        )
    return f"Reading the input files of {experiment}"


def is_relative_template(src_path: str) -> bool:
    """Whether Copier was given the template as a path relative to where it ran: not
    absolute, not `~/…`, and not a git URL (`https://…`, `file://…`, `git@host:…`, or
    Copier's `gh:`/`gl:` shortcuts)."""
    return not (
        os.path.isabs(src_path)
        or src_path.startswith(("~", "gh:", "gl:", "git@", "git+"))
        or "://" in src_path
    )


def _refuse_relative_template(src_path: str, answers_path: Path) -> None:
    """Copier records the template as given, and `copier update` looks for it there from
    wherever it runs; not finding it, Copier says only "Updating is only supported in
    git-tracked templates"."""
    absolute = os.path.abspath(os.path.expanduser(src_path))
    raise InputError(
        answers_path,
        f"the template was given as the relative path {src_path!r}, which Copier would record here; "
        "a later `copier update` run from any other directory would not find it",
        f"give the template as an absolute path (or a git URL): {absolute}; an experiment whose "
        f"answers file already says `_src_path: {src_path}`: set `_src_path: {absolute}` in it and commit",
    )


def _check_printed_values(answers_path: Path, plan: dict, operation: str) -> None:
    """The values the templates print without quoting them, checked again in the plan
    they are given.

    The loader checked them when it built the plan, but update, recopy and `copier copy
    --data-file` render a plan read back from an answers file, which anyone may have edited:
    a run name like `x$(cmd)` would run in every script.
    """
    try:
        for run in plan["runs"]:
            check_name(answers_path, "run", run["name"])
            check_safe(answers_path, "run directory", run["dir"])
            for option, value in run["sbatch"]:
                sbatch.checked(option, value, answers_path)
            _check_counts(run)
            for cell in run["cells"]:
                check_name(answers_path, "task", cell["task"])
                check_name(answers_path, "@task function", cell["function"])
                check_safe(answers_path, "cell", cell["name"])
                sbatch.checked("job-name", cell["job_name"], answers_path)
                _check_paths(answers_path, run["dir"], cell)
                if cell["epoch"] is not None and type(cell["epoch"]) is not int:
                    raise InputError(answers_path, f"epoch {cell['epoch']!r} is not a whole number", "")
    except (KeyError, TypeError, ValueError) as error:
        problem = f"is not in the shape this template records ({type(error).__name__}: {error})"
    except InputError as error:
        problem = f"holds a value the template would print unquoted: {error.problem}"
    else:
        return
    if operation == "update":
        # `copier update` wants the edit committed, so `git checkout` alone would restore it.
        fix = (f"restore {answers_path.name} as it was before the hand edit (`git log -p -- {answers_path.name}` "
               f"shows it; `git checkout COMMIT -- {answers_path.name}` takes the version of a commit before it), "
               "commit, then run the update again")
    else:
        fix = (f"restore the experiment's answers file from git (`git checkout -- {answers_path.name}`); "
               "without git, delete its `plan:` entry and run `copier recopy --trust --defaults`, "
               "which reads the plan again from the input files")
    raise InputError(
        answers_path,
        f"the recorded plan (this answers file, or the one given with --data-file) {problem}",
        fix,
    )


def _check_counts(run: dict) -> None:
    """The resources the templates compare as numbers (`gpus > 1` picks `-M device=auto`):
    an edited `gpus: '2'` would stop Jinja with a TypeError, and `gpus: true` would pass for 1."""
    for key in ("gpus", "cpus"):
        value = run["resources"][key]
        if type(value) is not int or value < 0:
            raise TypeError(f"run {run['name']}: resources.{key} is {value!r} ({type(value).__name__}), "
                            "not a whole number of at least 0")


def _check_paths(answers_path: Path, run_dir: str, cell: dict) -> None:
    """The paths recorded for a cell are the protocol's: a script removes its marks (`rm -f`),
    so an edited `done_mark: ../../x` would remove a file outside the experiment."""
    name = cell["name"]
    for key, path in (("script", protocol.script_path(run_dir, name)), ("log_dir", protocol.log_dir(run_dir)),
                      ("done_mark", protocol.done_mark(run_dir, name)), ("failed_mark", protocol.failed_mark(run_dir, name)),
                      ("job_record", protocol.job_record(run_dir, name)),
                      ("job_times", protocol.job_times(run_dir, name)),
                      ("gpu_samples", protocol.gpu_samples(run_dir, name)),
                      ("attempts_record", protocol.attempts_record(run_dir, name))):
        if cell[key] != path:
            raise InputError(answers_path, f"cell {name}: {key} {cell[key]!r} is not the protocol's {path!r}", "")
    if cell["config_file"] not in (None, protocol.config_file(run_dir, name)):
        raise InputError(answers_path, f"cell {name}: config_file {cell['config_file']!r} is not the protocol's", "")


def _written_files(answers_file: str, plan: dict, template_files: dict[str, bool],
                   scripts_executable: bool) -> list[tuple[str, str, bool]]:
    """(path relative to the experiment, the input value it is named after, whether it is
    executable) of every file."""
    files = [(answers_file, "the answers file", False),
             *((name, "the template", executable) for name, executable in template_files.items())]
    for run in plan["runs"]:
        named = f"the run name {run['name']!r} in the experiment summary"
        log_dirs = {log_dir(run, cell) for cell in run["cells"]}
        files.extend((f"{directory}/.gitkeep", named, False) for directory in sorted(log_dirs))
        files.append((f"{protocol.eval_dir(run['dir'])}/.gitignore", named, False))
        for cell in run["cells"]:
            named_cell = f"the task name {cell['task']!r} or the run name {run['name']!r} in the experiment summary"
            files.append((script_path(run, cell), named_cell, scripts_executable))
            if cell["config_file"]:
                files.append((cell["config_file"], named_cell, False))
    return files


def _finish_interrupted_writes(destination: Path, files: list[tuple[str, str, bool]]) -> None:
    """Undo what a copy stopped by Ctrl-C leaves half done, so the same command completes it.

    Copier writes a file, then sets its mode. Stopped in between, it leaves a file opened but
    not yet written (empty), or written but not yet executable. Copier would take either for
    a file edited by hand and ask before overwriting it (without a terminal: stop). Neither
    holds anything of the user's: the empty file is removed and the other made executable,
    and Copier then writes the one and finds the other identical. Only in a tree that lacks
    some of its files, as a stopped copy does: a complete tree's modes are the user's.
    """
    if all(os.path.lexists(destination / relative) for relative, _, _ in files):
        return
    for relative, _, executable in files:
        path = destination / relative
        if path.is_symlink() or not path.is_file() or path.name == ".gitkeep":
            continue
        try:
            status = path.stat()
            if status.st_size == 0:
                path.unlink()
            elif executable and not status.st_mode & 0o111:
                # Copier compares the executable bits alone with the template file's (0o111).
                path.chmod(status.st_mode | 0o111)
        except OSError:
            continue  # not the user's to change here: Copier asks about it, as it would have


def _recorded_scripts(answers_path: Path) -> set[str] | None:
    """The scripts of the plan the answers file records, or None without one."""
    try:
        recorded = yaml.load(answers_path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        return {script_path(run, cell) for run in recorded["plan"]["runs"] for cell in run["cells"]}
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None  # no recorded plan here (or none readable: _check_printed_values says so)


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
        if recorded["plan"].get("format") != plan.get("format"):
            return  # recorded by another template version: read again, as copier.yml's validator says
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
    """The destination's file system: its path limit, and what is already there."""

    def __init__(self, destination: Path):
        self.destination = destination
        self.real = destination.resolve()
        existing = next(p for p in (destination, *destination.parents) if p.exists())
        self.path_max = os.pathconf(existing, "PC_PATH_MAX") - 1  # the limit counts the final NUL
        # The longest name of a cell is its inspect log's: names.MAX_NAME_LENGTH keeps it
        # under 255 bytes (test_protocol.py), not under eCryptfs's 143.
        self.name_max = os.pathconf(existing, "PC_NAME_MAX")
        self.checked_dirs: set[str] = set()
        self.writable_dirs: set[str] = set()

    def check(self, files: list[tuple[str, str]]) -> None:
        for relative, named_after in files:
            self._check_length(relative, named_after)
            path = PurePosixPath(relative)
            for directory in reversed(path.parents[:-1]):  # the outermost first, "." left out
                if not self._directory_fits(str(directory)):
                    self._writable(str(directory.parent))  # it makes the new directory there
                    break
            else:
                self._file_fits(relative)

    def check_logs(self, cell: dict, named_after: str) -> None:
        """A cell's logs, which inspect writes later: their names are the longest of the cell,
        and their paths the longest in the experiment. A log inspect cannot create fails the
        job after the evaluation ran."""
        log = self.destination / cell["log_dir"] / protocol.log_file_name(cell["name"])
        name, size = len(os.fsencode(log.name)), len(os.fsencode(log))
        if name > self.name_max:
            problem = f"would be named {name} bytes long ({log.name}), over the {self.name_max} bytes " \
                      "this file system takes in a name"
            elsewhere = "copy onto a file system that takes longer names"
        elif size > self.path_max:
            problem = f"would have paths {size} bytes long ({log.name} in this directory), over the " \
                      f"{self.path_max} this file system takes"
            elsewhere = "copy into a directory with a shorter path"
        else:
            return
        raise InputError(log.parent, f"cell {cell['name']}: the logs inspect writes for it {problem}",
                         f"{elsewhere}, or shorten {named_after}")

    def _check_length(self, relative: str, named_after: str) -> None:
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
        refuse_link_loop(path)
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
            # Copier creates the file, or replaces the link by it: both need the directory.
            self._writable(str(PurePosixPath(relative).parent))
            return
        if not path.is_file():
            raise InputError(
                path,
                "is a directory or a special file where the template writes a file",
                f"move it out of the way, {RETRY}",
            )

    def _writable(self, relative: str) -> None:
        """A directory the template adds an entry to: Copier would stop there with a traceback."""
        if relative in self.writable_dirs:
            return
        # A directory not there yet is made in the nearest one that is (the destination's
        # parent, for a copy into a new directory).
        path = next(p for p in (self.destination / relative, *(self.destination / relative).parents) if p.exists())
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(
                path,
                "is not writable by you, and the template adds files there",
                f"make it writable (`chmod u+w` as its owner), or run copier as the user who owns the experiment, {RETRY}",
            )
        self.writable_dirs.add(relative)
