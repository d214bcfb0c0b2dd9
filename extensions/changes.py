"""What `copier update` changed in the plan: the scripts added and removed, by run, and the
removed scripts that had been edited by hand.

Copier gives the after-update message only the new answers. The old ones are in git: an
update needs a clean work tree and commits nothing, so HEAD's answers file is the one the
update started from. Copier deletes the scripts of dropped cells, edited or not; a removed
script counts as hand-edited when its text at HEAD differs from what the recorded template
version renders for it, which Copier's public `run_copy` recomputes in a temporary
directory for the removed cells alone.

An update without `-d reread_inputs=true` keeps the recorded plan even when the input files
changed; the message then says so, with the command that takes the change in.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import yaml

from . import protocol
from .errors import InputError
from .experiment import summary_path
from .finetune import YAML_LOADER
from .plan import build_plan
from .render import comment

MAX_LINES = 12  # runs listed under "added" or "removed" before the rest are counted


REREAD = "copier update --trust --defaults -d reread_inputs=true"


def plan_changes(dst_path, answers_file, plan: dict, env_setup: str, reread_inputs: bool) -> str:
    """The lines of the after-update message about the plan."""
    lines = [conflicts(Path(dst_path)), _recorded_changes(Path(dst_path), str(answers_file), plan),
             missing_scripts(Path(dst_path), plan)]
    if not reread_inputs:
        lines.append(inputs_differ(Path(dst_path), plan, env_setup, "update"))
    return "\n".join(line for line in lines if line)


def inputs_differ(project: Path, plan: dict, env_setup: str, operation: str) -> str:
    """A word when the input files now give another plan than the recorded one, or none:
    an update without `-d reread_inputs=true`, a copy into a rendered experiment and a
    recopy all render the recorded plan on purpose, and would otherwise pass over an edit
    of the summary (a matrix cell, a run dropped) in silence."""
    project = Path(project).resolve()
    take_in = f"commit, then run `{REREAD}`" if operation == "copy" else f"run `{REREAD}`"
    operation = "copy or recopy" if operation == "copy" else operation  # Copier says copy for both
    try:
        summary_path(project)
    except InputError:
        return ""  # no input files: a tree reproduced from its answers file
    try:
        fresh = build_plan(project, env_setup).to_answer()
    except InputError as error:
        return (f"The input files give no plan now ({error.file}: {error.problem}); this {operation} rendered "
                f"the recorded one. If they are to change the plan, fix them, {take_in}; if not, restore them from git.")
    if fresh == plan:
        return ""
    old, new = _cells(plan), _cells(fresh)
    return (
        f"The input files now give another plan ({len(new.keys() - old.keys())} scripts more, "
        f"{len(old.keys() - new.keys())} fewer, the others may differ) than the recorded one, "
        f"which this {operation} kept: to take it in, {take_in}."
    )


def conflicts(project: Path) -> str:
    """The files where the update met a hand edit of the same lines. Copier leaves both
    versions in the file and marks it unmerged in git's index (or, with `--conflict rej`,
    writes a .rej file beside it), and says nothing of it at the end of its output."""
    def git_paths(*args: str) -> list[str]:
        listed = subprocess.run(["git", *args, "-z"], cwd=project, capture_output=True, text=True)
        return sorted(set(filter(None, listed.stdout.split("\0")))) if listed.returncode == 0 else []

    unmerged = [entry.split("\t", 1)[1] for entry in git_paths("ls-files", "--unmerged")]
    rejected = git_paths("ls-files", "--others", "--exclude-standard", "*.rej")
    if not unmerged and not rejected:
        return ""
    count = len(set(unmerged)) + len(rejected)
    lines = [f"Conflicts: the update met your own edits in {count} {'file' if count == 1 else 'files'}:"]
    lines += [f"  {path}  (both versions are in the file, between <<<<<<< and >>>>>>>)" for path in sorted(set(unmerged))]
    lines += [f"  {path}  (the template's change that did not apply)" for path in rejected]
    lines.append("Resolve each by hand and `git add` it, then commit; submit_evals.sh refuses a script that still "
                 "holds conflict markers.")
    return "\n".join(lines)


def missing_scripts(project: Path, plan: dict) -> str:
    """The recorded plan's scripts that are not in the experiment: deleted by hand (`git rm -r`
    of a run), which `copier update` does not bring back, since git says they were deleted on
    purpose. submit_evals.sh cannot submit them; the plan still lists them."""
    missing = [cell for cell in _cells(plan).values() if not (project / script_path(*cell)).is_file()]
    if not missing:
        return ""
    return "\n".join([
        f"Missing: {len(missing)} scripts of the recorded plan are not in the experiment (deleted by hand; "
        "an update does not bring back what git says was deleted):",
        *_by_run("missing", missing),
        "To drop their cells, take them out of the experiment summary (the run's row, or its matrix cells), "
        f"commit, and run `{REREAD}`. To keep them, restore them from git (`git checkout COMMIT -- PATH`, "
        "with a commit from before the deletion), or render them again with `copier recopy --trust --defaults`.",
    ])


def _recorded_changes(project: Path, answers_file: str, plan: dict) -> str:
    try:
        recorded = _at_head(project, [answers_file])[0]
    except (OSError, subprocess.CalledProcessError) as error:
        return f"(the plan before this update could not be read from git: {comment(error)})"
    old_answers = yaml.load(recorded, Loader=YAML_LOADER) if recorded is not None else None
    if not isinstance(old_answers, dict) or not isinstance(old_answers.get("plan"), dict):
        return "(the plan before this update is not in git's HEAD: nothing to compare)"
    old, new = _cells(old_answers["plan"]), _cells(plan)
    added = [new[script] for script in new if script not in old]
    removed = [old[script] for script in old if script not in new]
    lines = [f"Scripts: {len(added)} added, {len(removed)} removed." if added or removed
             else "Scripts: none added, none removed."]
    lines += _by_run("added", added) + _by_run("removed", removed)
    if removed:
        lines += _hand_edited(project, old_answers, removed)
    # A kept script whose fingerprint changed hands inspect other inputs: its results so far
    # are stale, which "none added, none removed" alone would hide.
    changed = [new[script] for script in new if script in old
               and old[script][1].get("fingerprint") != new[script][1].get("fingerprint")]
    if changed:
        lines.append(f"Inputs changed: {len(changed)} of the other scripts now give inspect other inputs (task, model, "
                     "data, prompt, system prompt or decoding); their results so far are stale, and "
                     "`./submit_evals.sh --only-missing` runs them again:")
        lines += _by_run("changed", changed)
    return "\n".join(lines)


def _cells(plan: dict) -> dict[str, tuple[dict, dict]]:
    """script path -> (run, cell), in the plan's order."""
    return {script_path(run, cell): (run, cell) for run in plan.get("runs", ()) for cell in run["cells"]}


# v0.1 plans named the inspect task file `script` and recorded no log directory: their
# paths are protocol's, which kept v0.1's layout.


def script_path(run: dict, cell: dict) -> str:
    """The cell's script, relative to the experiment, in a plan of this version or v0.1."""
    return cell["script"] if "log_dir" in cell else protocol.script_path(run["dir"], cell["name"])


def log_dir(run: dict, cell: dict) -> str:
    """The cell's log directory, relative to the experiment, in a plan of this version or v0.1."""
    return cell["log_dir"] if "log_dir" in cell else protocol.log_dir(run["dir"])


def _by_run(what: str, cells: list[tuple[dict, dict]]) -> list[str]:
    runs: dict[str, list[str]] = {}
    for run, cell in cells:
        runs.setdefault(run["dir"], []).append(cell["name"])
    lines = []
    for run_dir, names in list(runs.items())[:MAX_LINES]:
        listed = ", ".join(names) if len(names) <= 4 else f"{len(names)} scripts"
        lines.append(f"  {what} in {comment(run_dir)}/eval: {comment(listed)}")
    if len(runs) > MAX_LINES:
        rest = list(runs.values())[MAX_LINES:]
        lines.append(f"  {what}: {sum(map(len, rest))} more scripts in {len(rest)} more runs")
    return lines


def _hand_edited(project: Path, old_answers: dict, removed: list[tuple[dict, dict]]) -> list[str]:
    scripts = [script_path(run, cell) for run, cell in removed]
    try:
        committed = _at_head(project, scripts)
        rendered = _rendered(old_answers, removed)
    except Exception as error:  # the update is done: say what is unknown, never fail it now
        return [f"(could not tell which removed scripts were edited by hand: {comment(error)})"]
    # A script absent at HEAD was deleted by the person, not by this update.
    at_head = [(script, text) for script, text in zip(scripts, committed) if text is not None]
    edited = [script for script, text in at_head if text != rendered[script]]
    if not at_head:
        return []
    if not edited:
        return ["None of the removed scripts had been edited by hand."]
    return [
        "Edited by hand, and removed with their cells (git keeps them: `git show HEAD:./PATH`):",
        *(f"  {comment(script)}" for script in edited),
    ]


def _at_head(project: Path, paths: list[str]) -> list[bytes | None]:
    """The committed text of each path (relative to the project) at HEAD, None if absent."""
    prefix = subprocess.run(
        ["git", "rev-parse", "--show-prefix"], cwd=project, check=True, capture_output=True, text=True
    ).stdout.strip()
    request = "".join(f"HEAD:{prefix}{path}\n" for path in paths).encode()
    out = subprocess.run(["git", "cat-file", "--batch"], cwd=project, input=request, check=True, capture_output=True).stdout
    texts, at = [], 0
    for _ in paths:
        header_end = out.index(b"\n", at)
        header = out[at:header_end].split()
        if header[-1] == b"missing":
            texts.append(None)
            at = header_end + 1
            continue
        size = int(header[2])
        texts.append(out[header_end + 1 : header_end + 1 + size])
        at = header_end + 1 + size + 1
    return texts


def _rendered(old_answers: dict, removed: list[tuple[dict, dict]]) -> dict[str, bytes]:
    """What the recorded template version renders for the removed cells, by script path."""
    from copier import run_copy  # Copier's public API; imported here, where it is needed

    runs: dict[str, dict] = {}
    for run, cell in removed:
        runs.setdefault(run["dir"], {**run, "cells": []})["cells"].append(cell)
    answers = {key: value for key, value in old_answers.items() if not key.startswith("_")}
    answers["plan"] = {**old_answers["plan"], "runs": list(runs.values())}
    with tempfile.TemporaryDirectory(prefix="copier-inspect-slurm.") as directory:
        run_copy(
            old_answers["_src_path"], directory, data=answers, vcs_ref=old_answers.get("_commit"),
            defaults=True, overwrite=True, unsafe=True, quiet=True, skip_tasks=True,
        )
        return {script_path(run, cell): (Path(directory) / script_path(run, cell)).read_bytes() for run, cell in removed}
