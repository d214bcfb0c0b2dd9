"""Copy, copy again, recopy, an interrupted copy, and what is checked before anything is written.

Everything runs through the real `copier` command line, from a tagged template repository,
into experiments in git, as the README tells a user to work.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from extensions.checks import _Paths, is_relative_template
from extensions.errors import InputError
from tests.conftest import ROOT, run_copier, scripts
from tests.experiment import SITE, Experiment, Run, Task
from tests.repos import ANSWERS, answers, commit_all, copied, copy_files, git, template, working_tree_files

INTERRUPT = Path(__file__).resolve().parent / "interrupt"

__all__ = ["template"]  # the fixture


def experiment() -> Experiment:
    return Experiment(
        runs=[Run("r8", epochs=2), Run("r16", epochs=2), Run("Llama-3.2-1B-Instruct_base", kind="Control")],
        tasks=[Task("capitalization"), Task("reverse")],
        plan_text="Evaluate every epoch.",
        site=SITE,
    )


def copy(template: Path, directory: Path, *args: str) -> subprocess.CompletedProcess:
    return run_copier("copy", "--trust", "--defaults", *args, str(template), str(directory))


def nothing_rendered(directory: Path) -> bool:
    """No answers file, and no script the template renders (a user's own may be there)."""
    written = [directory / "submit_evals.sh", *scripts(directory)]
    return not (directory / ANSWERS).exists() and not any(
        path.is_file() and b"Rendered by copier-inspect-slurm" in path.read_bytes() for path in written)


def plain(text: str) -> str:
    """Copier's output without its colours (it colours even under NO_COLOR)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# -- a second copy, and recopy ---------------------------------------------------------------


def test_a_second_copy_renders_the_recorded_plan_and_changes_nothing(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    result = copy(template, project)
    assert result.returncode == 0, result.stderr
    assert git(project, "status", "--porcelain") == ""


def test_a_copy_that_would_change_the_plan_is_refused_before_anything_changes(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    changed = experiment()
    del changed.runs[1]  # r16 dropped from the summary
    changed.write(project)
    commit_all(project, "r16 dropped")
    result = copy(template, project, "-d", "reread_inputs=true")
    assert result.returncode == 1
    assert f"{project / ANSWERS}: this experiment was rendered from another plan" in result.stderr
    assert "0 scripts would be added, 4 left behind" in result.stderr
    assert "copier update --trust --defaults -d reread_inputs=true" in result.stderr
    assert "Traceback" not in result.stderr
    assert git(project, "status", "--porcelain") == ""


def test_recopy_re_renders_and_stops_at_a_hand_edited_script(template, tmp_path):
    """Copier's recopy is a copy with the recorded answers: a missing script comes back, and a
    hand-edited one is a conflict that Copier asks about (and, with no terminal, stops at)."""
    project = copied(template, experiment(), tmp_path / "exp")
    edited = project / "r8" / "eval" / "capitalization_epoch1.slurm"
    edited.write_text(edited.read_text() + "notify-me done\n")
    commit_all(project, "hand edit")
    hand_edit = edited.read_text()
    lost = project / "r16" / "eval" / "reverse_epoch0.slurm"
    lost.unlink()

    result = run_copier("recopy", "--trust", "--defaults", str(project))
    assert result.returncode == 1
    assert "conflict  r8/eval/capitalization_epoch1.slurm" in plain(result.stderr)
    assert "Interactive session required: Consider using `--overwrite`" in result.stderr
    assert edited.read_text() == hand_edit

    # --skip keeps the hand edit and re-renders the rest.
    result = run_copier("recopy", "--trust", "--defaults", "--skip", "r8/eval/capitalization_epoch1.slurm", str(project))
    assert result.returncode == 0, result.stderr
    assert edited.read_text() == hand_edit
    assert git(project, "status", "--porcelain") == ""  # the lost script is back, as committed

    # --overwrite re-renders the hand-edited script too; git still has the edit.
    result = run_copier("recopy", "--trust", "--defaults", "--overwrite", str(project))
    assert result.returncode == 0, result.stderr
    assert git(project, "status", "--porcelain") == " M r8/eval/capitalization_epoch1.slurm\n"
    assert "notify-me" not in edited.read_text()


def test_recopy_after_a_matrix_edit_renders_the_recorded_plan_and_says_how_to_take_the_edit_in(template, tmp_path):
    """A recopy renders the recorded plan on purpose; an edit of the summary since (a matrix
    cell) is not passed over in silence: the message says the inputs give another plan, and
    the command that takes it in."""
    def matrix_experiment(r8_capitalization: str) -> Experiment:
        return Experiment(runs=[Run("r8", epochs=2), Run("r16", epochs=2)], tasks=[Task("capitalization"), Task("reverse")],
                          plan_text="Evaluate every epoch.", site=SITE,
                          matrix=[["r8", r8_capitalization, "✓ all", ""], ["r16", "✓ all", "✓ all", ""]])

    project = copied(template, matrix_experiment("✓ all"), tmp_path / "exp")
    matrix_experiment("✓ epoch 1").write(project)
    commit_all(project, "r8: capitalization at epoch 1 only")
    result = run_copier("recopy", "--trust", "--defaults", str(project))
    assert result.returncode == 0, result.stderr
    assert git(project, "status", "--porcelain") == ""  # the recorded plan, rendered again
    assert ("The input files now give another plan (0 scripts more, 1 fewer, the others may differ) than the recorded "
            "one, which this copy or recopy kept: to take it in, commit, then run "
            "`copier update --trust --defaults -d reread_inputs=true`.") in plain(result.stderr)
    # Done as said, the edit is in.
    result = run_copier("update", "--trust", "--defaults", "-d", "reread_inputs=true", cwd=project)
    assert result.returncode == 0, result.stderr
    assert not (project / "r8" / "eval" / "capitalization_epoch0.slurm").exists()
    assert "Scripts: 0 added, 1 removed." in result.stderr and "another plan" not in result.stderr


def test_an_update_that_meets_a_hand_edit_names_the_conflict(template, tmp_path):
    """Copier leaves both versions in a conflicted file and ends its output as if nothing
    happened; the after-update message names the file and what to do."""
    project = copied(template, experiment(), tmp_path / "exp")
    edited = project / "r8" / "eval" / "capitalization_epoch1.slurm"
    hand_edit = re.sub(r"(?m)^#SBATCH --time=.*$", "#SBATCH --time=0:45:00", edited.read_text(), count=1)
    assert hand_edit != edited.read_text()
    edited.write_text(hand_edit)
    commit_all(project, "more time for one cell, by hand")
    longer = experiment()
    longer.per_eval_time = "~30 minutes"
    longer.write(project)
    commit_all(project, "longer evaluations")

    result = run_copier("update", "--trust", "--defaults", "-d", "reread_inputs=true", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "<<<<<<<" in edited.read_text()
    assert ("Conflicts: the update met your own edits in 1 file:\n"
            "  r8/eval/capitalization_epoch1.slurm  (both versions are in the file, between <<<<<<< and >>>>>>>)"
            ) in plain(result.stderr)
    other = project / "r16" / "eval" / "capitalization_epoch1.slurm"
    assert "#SBATCH --time=1:00:00" in other.read_text()


def test_recopy_takes_the_newest_template_version_with_the_recorded_plan(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    before = answers(project)
    (template / "template" / "NEWS.md").write_text("2.0.0\n")
    commit_all(template, "template 2.0.0")
    git(template, "tag", "v2.0.0")
    result = run_copier("recopy", "--trust", "--defaults", str(project))
    assert result.returncode == 0, result.stderr
    assert (project / "NEWS.md").read_text() == "2.0.0\n"
    after = answers(project)
    assert after["_commit"] == "v2.0.0"
    assert after["plan"] == before["plan"]


# -- an interrupted copy ---------------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "# emptied\n", "- a list\n"])
def test_an_empty_answers_file_is_refused_by_name_on_a_copy(template, tmp_path, content):
    """Copier reads the answers file before any question; an empty one would end in its
    AttributeError. The message before a copy, which Copier renders first, refuses it."""
    directory = experiment().write(tmp_path / "exp")
    (directory / ANSWERS).write_text(content)
    result = copy(template, directory)  # without --quiet: Copier then skips the message
    assert result.returncode == 1, result.stderr
    what = "is empty (a copy stopped while Copier wrote it?)" if content != "- a list\n" else \
        "holds no answers (a YAML list, not a mapping of answers)"
    assert f"{directory / ANSWERS}: {what}" in result.stderr
    assert "fix: for a first copy, delete it and then run the same copier command again" in result.stderr
    assert "AttributeError" not in result.stderr and "Traceback" not in result.stderr
    assert not (directory / "submit_evals.sh").exists() and scripts(directory) == []
    (directory / ANSWERS).unlink()
    result = copy(template, directory)
    assert result.returncode == 0, result.stderr
    assert f"Reading the input files of {directory}" in result.stderr


def test_an_interrupted_copy_is_completed_by_running_it_again(template, tmp_path):
    """Ctrl-C during a 1,040-script copy, then the same command again (docs/REFERENCE.md: "If a copy
    stops halfway")."""
    project = tmp_path / "sweep"
    synth = subprocess.run(
        [sys.executable, str(ROOT / "bench/synth.py"), str(project), "--runs", "64", "--tasks", "4", "--epochs", "4", "--controls", "4"],
        check=True, capture_output=True, text=True,
    )
    assert synth.stdout.strip().endswith("1040 scripts")
    command = [str(Path(sys.executable).parent / "copier"), "copy", "--trust", "--defaults", "--quiet", str(template), str(project)]
    # Ctrl-C once the 100th script is written: an event, not a guess at how long copying takes
    # on a loaded machine (tests/interrupt/sitecustomize.py sends the SIGINT from inside).
    copying = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(INTERRUPT), "INTERRUPT_AFTER_SCRIPTS": "100"})
    stderr = copying.communicate(timeout=600)[1]
    assert copying.returncode != 0, "the copy finished before it was interrupted"
    interrupted = len(scripts(project))
    assert 100 <= interrupted < 1040, stderr

    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    plan = answers(project)["plan"]
    expected = sorted(cell["script"] for run in plan["runs"] for cell in run["cells"])
    assert len(expected) == 1040
    assert sorted(str(path.relative_to(project)) for path in scripts(project)) == expected
    assert all(path.read_text().startswith("#!/bin/bash\n") for path in scripts(project))


def test_what_an_interrupted_copy_left_half_written_is_completed_by_running_it_again(template, tmp_path):
    """Copier writes a file, then makes it executable: Ctrl-C can stop it with a file opened
    but empty, or written but not executable. The same command, without a terminal to ask
    "overwrite?", completes both (test_an_interrupted_copy_... above meets this by chance)."""
    project = copied(template, experiment(), tmp_path / "exp")
    # (An empty answers file is not among them: Copier itself fails on one, before any of the
    # template's code runs. Copier writes it last, so only a Ctrl-C in the copy's last
    # moment leaves it so; the README and docs/REFERENCE.md say to delete it.)
    empty, not_executable = project / "r8/eval/reverse_epoch1.slurm", project / "r16/eval/capitalization_epoch0.slurm"
    not_written = project / "r16/eval/reverse_epoch1.slurm"
    rendered = {path: path.read_bytes() for path in (empty, not_executable, not_written)}
    not_executable.chmod(0o600)  # as a umask of 077 leaves it
    # In a complete tree a script without its executable bit is the user's doing: left as it
    # is, and Copier asks about it (without a terminal: stops).
    refused = copy(template, project)
    assert refused.returncode != 0 and "capitalization_epoch0.slurm" in refused.stderr
    assert not_executable.stat().st_mode & 0o777 == 0o600
    # A stopped copy leaves files unwritten too.
    empty.write_bytes(b"")
    not_written.unlink()
    copy(template, project, "--pretend")  # it shows the conflicts, and changes nothing
    assert empty.read_bytes() == b"" and not_executable.stat().st_mode & 0o777 == 0o600

    result = copy(template, project)
    assert result.returncode == 0, result.stderr
    assert {path: path.read_bytes() for path in rendered} == rendered
    assert all(os.access(path, os.X_OK) for path in rendered)
    assert git(project, "status", "--porcelain") == ""


# -- checked before anything is written --------------------------------------------------------


def _long_task(tmp_path: Path) -> tuple[Path, str]:
    """The issue's 250-character task name: the summary's parser refuses it (names.py)."""
    directory = tmp_path / "exp"
    Experiment(tasks=[Task("t" * 250)], site=SITE).write(directory)
    return directory, f"{directory}/experiment_summary.md: task name '{'t' * 40}'… is 250 characters long"


def _long_path(tmp_path: Path) -> tuple[Path, str]:
    """Names the parser accepts (100 characters) in a deep directory: the scripts' paths
    would pass the system's limit, while the input files' paths still fit."""
    directory = tmp_path
    while len(os.fsencode(directory)) < 3700:
        directory = directory / ("d" * 200)
    directory = directory / ("d" * (3900 - len(os.fsencode(directory)) - 1))  # 3,900 bytes in all
    experiment = Experiment(runs=[Run("r" * 100)], tasks=[Task("t" * 100)], site=SITE)
    experiment.write(directory)
    script = f"{directory}/{'r' * 100}/eval/{'t' * 100}_epoch0.slurm"
    return directory, f"{script}: the path is {len(os.fsencode(script))} bytes long, and this file system allows 4095"


def _log_path_too_long(tmp_path: Path) -> tuple[Path, str]:
    """Every file the template writes fits, 30 bytes under the system's limit; the logs inspect
    would write later, beside them with longer names, would not: refused now, naming the cell."""
    script = "/r8_lr1e-5/eval/capitalization_epoch0.slurm"
    directory = tmp_path
    while len(os.fsencode(directory)) < 3700:
        directory = directory / ("d" * 200)
    directory = directory / ("d" * (4095 - 30 - len(script) - len(os.fsencode(directory)) - 1))
    Experiment(site=SITE).write(directory)
    assert len(os.fsencode(f"{directory}{script}")) == 4065
    return directory, (f"{directory}/r8_lr1e-5/eval/logs: cell capitalization_epoch0: the logs inspect writes for it would "
                       "have paths 4118 bytes long (2026-11-28T17-39-53-00-00_capitalization_epoch0_xxxxxxxxxxxxxxxxxxxxxx.eval "
                       "in this directory), over the 4095 this file system takes")


def _run_dir_links_outside(tmp_path: Path) -> tuple[Path, str]:
    directory = Experiment(site=SITE).write(tmp_path / "exp")
    outside = tmp_path / "elsewhere"
    (directory / "r8_lr1e-5").rename(outside)
    (directory / "r8_lr1e-5").symlink_to(outside)
    return directory, f"{directory}/r8_lr1e-5: leads to {outside}, outside the experiment (a symbolic link)"


def _eval_is_a_file(tmp_path: Path) -> tuple[Path, str]:
    directory = Experiment(site=SITE).write(tmp_path / "exp")
    (directory / "r8_lr1e-5" / "eval").write_text("notes\n")
    return directory, f"{directory}/r8_lr1e-5/eval: is a file where the template puts a directory"


def _logs_is_a_file(tmp_path: Path) -> tuple[Path, str]:
    directory = Experiment(site=SITE).write(tmp_path / "exp")
    (directory / "r8_lr1e-5" / "eval").mkdir()
    (directory / "r8_lr1e-5" / "eval" / "logs").write_text("notes\n")
    return directory, f"{directory}/r8_lr1e-5/eval/logs: is a file where the template puts a directory"


def _script_is_a_directory(tmp_path: Path) -> tuple[Path, str]:
    directory = Experiment(site=SITE).write(tmp_path / "exp")
    (directory / "r8_lr1e-5" / "eval" / "capitalization_epoch0.slurm").mkdir(parents=True)
    return directory, (
        f"{directory}/r8_lr1e-5/eval/capitalization_epoch0.slurm: is a directory or a special file "
        "where the template writes a file"
    )


LOOP = "is a symbolic link in a loop (it leads back to itself): nothing under it can be reached"


def _run_dir_link_loop(tmp_path: Path) -> tuple[Path, str]:
    """A run directory that is a link to itself: its setup file is not "not found", the link is named."""
    directory = Experiment(site=SITE).write(tmp_path / "exp")
    (directory / "r8_lr1e-5" / "setup_finetune.yaml").unlink()
    (directory / "r8_lr1e-5").rmdir()
    (directory / "r8_lr1e-5").symlink_to("r8_lr1e-5")
    return directory, f"{directory}/r8_lr1e-5: {LOOP}"


def _eval_dir_link_loop(tmp_path: Path) -> tuple[Path, str]:
    directory = Experiment(site=SITE).write(tmp_path / "exp")
    (directory / "r8_lr1e-5" / "eval").symlink_to("eval")
    return directory, f"{directory}/r8_lr1e-5/eval: is a symbolic link in a loop (it leads back to itself)"


def _logs_links_to_each_other(tmp_path: Path) -> tuple[Path, str]:
    directory = Experiment(site=SITE).write(tmp_path / "exp")
    (directory / "r8_lr1e-5" / "eval").mkdir()
    (directory / "r8_lr1e-5" / "eval" / "logs").symlink_to("old-logs")
    (directory / "r8_lr1e-5" / "eval" / "old-logs").symlink_to("logs")
    return directory, f"{directory}/r8_lr1e-5/eval/logs: {LOOP}"


def _hand_written_script(tmp_path: Path) -> tuple[Path, str]:
    """A script of the user's where the template puts one, on a first copy: Copier would take
    it for an edited one and stop there halfway; refused before anything is written."""
    directory = Experiment(site=SITE).write(tmp_path / "exp")
    script = directory / "r8_lr1e-5" / "eval" / "capitalization_epoch0.slurm"
    script.parent.mkdir()
    script.write_text("#!/bin/bash\n#SBATCH --job-name=mine\ninspect eval cap_task.py\n")
    script.chmod(0o644)
    return directory, (f"{script}: exists and was not rendered by this template (it has no line saying "
                       "'Rendered by copier-inspect-slurm'), and the template writes r8_lr1e-5/eval/capitalization_epoch0.slurm here")


NOT_FITTING = [_hand_written_script, _long_task, _long_path, _log_path_too_long, _run_dir_links_outside, _eval_is_a_file, _logs_is_a_file, _script_is_a_directory,
               _run_dir_link_loop, _eval_dir_link_loop, _logs_links_to_each_other]


@pytest.mark.parametrize("setup", NOT_FITTING, ids=lambda setup: setup.__name__.strip("_"))
def test_a_tree_that_would_not_fit_is_refused_before_anything_is_written(template, tmp_path, setup):
    directory, message = setup(tmp_path)
    before = sorted(p.relative_to(directory) for p in directory.rglob("*"))
    result = copy(template, directory)
    assert result.returncode == 1
    assert message in result.stderr
    assert "fix: " in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.relative_to(directory) for p in directory.rglob("*")) == before
    assert nothing_rendered(directory)
    assert not any(os.access(path, os.X_OK) for path in directory.rglob("*.slurm") if path.is_file())


def test_a_log_name_longer_than_the_file_system_takes_is_refused(tmp_path):
    """No file system this suite can mount takes fewer than 255 bytes in a name, and inspect's
    log names stay under 165 (test_protocol.py); eCryptfs takes 143. The check, with that limit."""
    paths = _Paths(tmp_path)
    paths.name_max = 143
    cell = {"name": "t" * 100 + "_epoch0", "log_dir": "r8/eval/logs"}
    paths.check_logs({**cell, "name": "t" * 82 + "_epoch0"}, "the task name")  # 143 bytes: fits
    with pytest.raises(InputError) as refused:
        paths.check_logs(cell, "the task name")
    assert refused.value.file == f"{tmp_path}/r8/eval/logs"
    assert refused.value.problem == (f"cell {cell['name']}: the logs inspect writes for it would be named 161 bytes long "
                                     f"(2026-11-28T17-39-53-00-00_{cell['name']}_{'x' * 22}.eval), "
                                     "over the 143 bytes this file system takes in a name")
    assert refused.value.fix == "copy onto a file system that takes longer names, or shorten the task name"


def test_a_template_given_as_a_relative_path_is_refused_with_its_absolute_path(template, tmp_path):
    """Copier records the template path as typed; `copier update` from another directory
    would then fail with "Updating is only supported in git-tracked templates"."""
    directory = tmp_path / "exp"
    experiment().write(directory)
    before = sorted(p.relative_to(directory) for p in directory.rglob("*"))
    result = run_copier("copy", "--trust", "--defaults", "template", "exp", cwd=tmp_path)
    assert result.returncode == 1
    assert (f"{directory / ANSWERS}: the template was given as the relative path 'template', "
            "which Copier would record here") in result.stderr
    assert f"fix: give the template as an absolute path (or a git URL): {template};" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.relative_to(directory) for p in directory.rglob("*")) == before
    assert copy(template, directory).returncode == 0  # the same, by its absolute path


@pytest.mark.parametrize("src_path, relative", [
    ("template", True), ("./template", True), ("../copier-inspect-slurm", True), (".", True),
    ("/home/me/copier-inspect-slurm", False), ("~/copier-inspect-slurm", False),
    ("https://github.com/org/copier-inspect-slurm.git", False), ("file:///srv/git/t.git", False),
    ("git@github.com:org/copier-inspect-slurm.git", False), ("gh:org/copier-inspect-slurm", False),
    ("git+https://example.org/t.git", False),
])
def test_which_template_paths_are_relative(src_path, relative):
    assert is_relative_template(src_path) is relative


# -- releases --------------------------------------------------------------------------------


def make_release(repo: Path, version: str | None) -> subprocess.CompletedProcess:
    args = ["make", "--no-print-directory", "release"] + ([f"VERSION={version}"] if version else [])
    # An annotated tag needs an identity, which a maintainer has and a CI user may not.
    identity = {"GIT_COMMITTER_NAME": "A Maintainer", "GIT_COMMITTER_EMAIL": "maintainer@example.com"}
    return subprocess.run(args, cwd=repo, capture_output=True, text=True, env={**os.environ, **identity})


def test_make_release_tags_only_a_committed_tree_that_says_its_version(tmp_path):
    repo = tmp_path / "repo"
    copy_files(working_tree_files(), repo)
    git(repo, "init", "-q")
    commit_all(repo, "the template")

    assert "usage: make release VERSION=x.y.z" in make_release(repo, None).stderr
    assert "usage: make release VERSION=x.y.z (got 'v1.2')" in make_release(repo, "v1.2").stderr
    assert "CHANGELOG.md has no '## 9.9.9' section" in make_release(repo, "9.9.9").stderr
    changelog = repo / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace("## Unreleased\n", "## 9.9.9\n", 1))
    assert "uncommitted changes" in make_release(repo, "9.9.9").stderr
    commit_all(repo, "changelog")
    assert "pyproject.toml's version is not 9.9.9" in make_release(repo, "9.9.9").stderr
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(re.sub(r'(?m)^version = ".*"$', 'version = "9.9.9"', pyproject.read_text(), count=1))
    commit_all(repo, "version 9.9.9")
    assert git(repo, "tag") == ""

    result = make_release(repo, "9.9.9")
    assert result.returncode == 0, result.stderr
    assert "git push origin HEAD v9.9.9" in result.stdout
    assert git(repo, "tag") == "v9.9.9\n"
    assert git(repo, "cat-file", "-t", "v9.9.9") == "tag\n"  # annotated
    assert git(repo, "rev-parse", "v9.9.9^{commit}") == git(repo, "rev-parse", "HEAD")
    assert "the tag v9.9.9 exists already" in make_release(repo, "9.9.9").stderr
