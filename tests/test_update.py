"""Reproducible, updatable trees: copier update, template versions, changes to a plan."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from extensions.versions import pyproject_version, template_version
from tests.conftest import ROOT, run_copier, run_script, scripts
from tests.experiment import SITE, TASK_FILE, Experiment, Run, Task
from tests.test_submit import slurm, submit  # noqa: F401 (slurm: the recorders' fixture)
from tests.repos import (
    ANSWERS, SCRIPT, answers, commit_all, contents, copied, copy_files, git, release, template, update, working_tree_files,
)

__all__ = ["template"]  # the fixture


def experiment() -> Experiment:
    return Experiment(
        runs=[
            Run("r8", epochs=2, prompt="Q: {input}, answer: yes/no\n\x85next\u2028", system_prompt='Say "ok" $HOME'),
            Run("r16", epochs=2),
            Run("Llama-3.2-1B-Instruct_base", kind="Control"),
        ],
        tasks=[Task("capitalization"), Task("reverse")],
        plan_text="Evaluate every epoch.",
        site=SITE,
    )


def test_rendering_from_the_answers_file_alone_is_byte_identical(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    elsewhere = tmp_path / "no-inputs-here"
    result = run_copier(
        "copy", "--trust", "--defaults", "--quiet", "--data-file", str(project / ANSWERS),
        "--vcs-ref", answers(project)["_commit"], str(template), str(elsewhere),
    )
    assert result.returncode == 0, result.stderr
    assert not (elsewhere / "experiment_summary.md").exists()
    assert len(contents(project)) == 2 * 2 * 2 + 2
    # Every file the template wrote, the answers file included, not only the scripts.
    rendered = {path.relative_to(elsewhere): path.read_bytes() for path in elsewhere.rglob("*") if path.is_file()}
    assert {path: (project / path).read_bytes() for path in rendered} == rendered
    assert {"submit_evals.sh", "collect_results.py", ANSWERS} <= {str(path) for path in rendered}


def test_update_right_after_copy_changes_nothing(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    update(project)
    assert git(project, "status", "--porcelain") == ""


def test_what_jobs_write_never_blocks_an_update(template, tmp_path):
    """Logs, marks, job records and Slurm's output are what every submission leaves: each
    run's eval/.gitignore keeps them out of git, so the tree stays clean for `copier update`."""
    project = copied(template, experiment(), tmp_path / "exp")
    logs = project / "r8" / "eval" / "logs"
    for name in ("2026-12-01T10-00-00-00-00_capitalization_epoch0_abc.eval", ".capitalization_epoch0.complete",
                 ".capitalization_epoch1.failed", ".capitalization_epoch1.job"):
        (logs / name).write_text("written by a job\n")
    (project / "r8" / "eval" / "slurm-1234.out").write_text("Evaluation complete\n")
    assert git(project, "status", "--porcelain") == ""
    update(project)
    assert git(project, "status", "--porcelain") == ""
    assert (logs / ".capitalization_epoch0.complete").exists()


def test_a_new_template_version_updates_scripts_and_keeps_hand_edits(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    edited = project / "r8" / "eval" / "capitalization_epoch1.slurm"
    edited.write_text(edited.read_text().replace('echo "Evaluation complete"', 'echo "Evaluation complete"\nnotify-me done'))
    commit_all(project, "hand edit")
    release(template, "2.0.0", {
        SCRIPT: [("{{ run.sbatch | sbatch_header(cell.job_name) }}\n", "{{ run.sbatch | sbatch_header(cell.job_name) }}\n#SBATCH --mail-type={{ mail_type }}\n")],
        "copier.yml": [("env_setup:\n", "mail_type:\n  type: str\n  help: When SLURM mails you\n  default: FAIL\n\nenv_setup:\n")],
    })
    update(project)
    assert answers(project)["mail_type"] == "FAIL"
    assert answers(project)["_commit"] == "v2.0.0"
    for name, text in contents(project).items():
        assert "#SBATCH --mail-type=FAIL\n" in text, name
    assert edited.read_text().endswith('echo "Evaluation complete"\nnotify-me done\n')
    assert not list(project.rglob("*.rej"))


def test_changing_the_plan_takes_one_command(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    edited = project / "r16" / "eval" / "reverse_epoch1.slurm"
    edited.write_text(edited.read_text() + "notify-me done\n")
    commit_all(project, "hand edit")
    before = contents(project)
    changed = experiment()
    changed.runs = [changed.runs[0], Run("r32", epochs=3), changed.runs[2]]  # r16 dropped, r32 added
    changed.runs[0].epochs = 3  # r8 gains an epoch
    changed.tasks.append(Task("spelling"))
    changed.write(project)  # r16's directory and setup file stay: only the summary drops it
    commit_all(project, "new plan")
    # Without asking for it, the recorded plan wins: nothing changes.
    message = update(project)
    assert git(project, "status", "--porcelain") == ""
    assert "Scripts: none added, none removed." in message
    assert "The input files now give another plan (15 scripts more, 4 fewer, the others may differ)" in message
    assert "run `copier update --trust --defaults -d reread_inputs=true`" in message
    message = update(project, "-d", "reread_inputs=true")
    assert "The input files now give another plan" not in message
    after = contents(project)
    # The after-update message says what changed, and names the hand-edited script that went.
    assert "Scripts: 15 added, 4 removed.\n" in message
    assert "  added in r8/eval: 5 scripts\n" in message
    assert "  added in r32/eval: 9 scripts\n" in message
    assert "  added in Llama-3.2-1B-Instruct_base/eval: spelling_base\n" in message
    assert "  removed in r16/eval: capitalization_epoch0, capitalization_epoch1, reverse_epoch0, reverse_epoch1\n" in message
    hand_edited = message.split("Edited by hand, and removed with their cells")[1].split("\n\n")[0]
    assert hand_edited.splitlines()[1:] == ["  r16/eval/reverse_epoch1.slurm"]
    assert "21 scripts in 3 runs" in message
    # ... and the plan's warnings (r8's setup file has its own prompt), after the table.
    warnings = message.split("21 scripts in 3 runs")[1].split("Warnings:\n")[1]
    assert f"- {project}/r8/setup_finetune.yaml: prompt 'Q: {{input}}, answer: yes/no" in warnings
    assert "differs from the summary's Training prompt" in warnings
    assert not any(name.startswith("r16/") for name in after)
    assert not (project / "r16" / "eval").exists()
    assert sorted(n for n in after if n.startswith("r32/")) == [
        f"r32/eval/{task}_epoch{e}.slurm" for task in ("capitalization", "reverse", "spelling") for e in range(3)
    ]
    assert "r8/eval/capitalization_epoch2.slurm" in after and "r8/eval/spelling_epoch0.slurm" in after
    assert "Llama-3.2-1B-Instruct_base/eval/spelling_base.slurm" in after
    for name in ("r8/eval/capitalization_epoch0.slurm", "Llama-3.2-1B-Instruct_base/eval/reverse_base.slurm"):
        assert after[name] == before[name]
    recorded = answers(project)["plan"]
    assert [run["dir"] for run in recorded["runs"]] == ["r8", "r32", "Llama-3.2-1B-Instruct_base"]
    assert "reread_inputs" not in answers(project)
    # And it is reproducible again: a plain update now changes nothing.
    commit_all(project, "re-rendered")
    message = update(project)
    assert git(project, "status", "--porcelain") == ""
    assert "The input files now give another plan" not in message


def test_after_a_prompt_fix_and_update_the_cells_done_with_the_old_prompt_are_stale(template, tmp_path, slurm):
    """What a finished job leaves is its log and a done mark holding its cell's fingerprint:
    once the plan gives the cell other inputs, the mark no longer counts as done."""
    project = copied(template, experiment(), tmp_path / "exp")
    plan = answers(project)["plan"]
    fingerprints = {cell["script"]: cell["fingerprint"] for run in plan["runs"] for cell in run["cells"]}
    for script in ("r8/eval/capitalization_epoch0.slurm", "r16/eval/capitalization_epoch0.slurm"):
        logs = project / Path(script).parent / "logs"
        cell = Path(script).stem
        (logs / f"2026-12-01T10-00-00-00-00_{cell}_abc.eval").write_bytes(b"PK")
        (logs / f".{cell}.complete").write_text(fingerprints[script] + "\n")
    fixed = experiment()
    fixed.runs[0].prompt = "Q: {input}? Answer yes or no."
    fixed.write(project)
    commit_all(project, "fix r8's prompt")
    update(project, "-d", "reread_inputs=true")

    plan = answers(project)["plan"]
    now = {cell["script"]: cell["fingerprint"] for run in plan["runs"] for cell in run["cells"]}
    assert now["r8/eval/capitalization_epoch0.slurm"] != fingerprints["r8/eval/capitalization_epoch0.slurm"]
    assert now["r16/eval/capitalization_epoch0.slurm"] == fingerprints["r16/eval/capitalization_epoch0.slurm"]
    result = submit(project, slurm, "--status", "--task", "capitalization", "--epoch", "0", "--run", "r8", "--run", "r16")
    assert result.stdout.splitlines() == [
        "stale              r8/eval/capitalization_epoch0.slurm: done with other inputs (fingerprint "
        f"{fingerprints['r8/eval/capitalization_epoch0.slurm']}; the plan's is {now['r8/eval/capitalization_epoch0.slurm']}):"
        " --only-missing evaluates it again",
        "done               r16/eval/capitalization_epoch0.slurm",
        "2 cells: 1 done, 1 stale, 0 failed, 0 running, 0 pending, 0 not submitted, 0 checkpoint missing",
    ]
    assert "--metadata 'fingerprint=\"" + now["r8/eval/capitalization_epoch0.slurm"] + "\"'" in \
        (project / "r8/eval/capitalization_epoch0.slurm").read_text()


def test_an_update_after_git_rm_of_a_run_says_what_is_missing_and_what_to_do(template, tmp_path):
    """Copier does not bring back files git says were deleted: the update keeps the recorded
    plan, whose run r16 has no scripts now, and says so, with both ways out."""
    project = copied(template, experiment(), tmp_path / "exp")
    git(project, "rm", "-rq", "r16")
    commit_all(project, "r16 removed")
    message = update(project)
    assert not (project / "r16").exists()
    assert ("Missing: 4 scripts of the recorded plan are not in the experiment (deleted by hand; an update does "
            "not bring back what git says was deleted):\n"
            "  missing in r16/eval: capitalization_epoch0, capitalization_epoch1, reverse_epoch0, reverse_epoch1\n"
            "To drop their cells, take them out of the experiment summary (the run's row, or its matrix cells), commit, "
            "and run `copier update --trust --defaults -d reread_inputs=true`. To keep them, restore them from git") in message
    assert "or render them again with `copier recopy --trust --defaults`." in message
    assert (f"The input files give no plan now ({project}/r16/setup_finetune.yaml: setup_finetune.yaml not found for "
            "this fine-tuned run); this update rendered the recorded one.") in message
    assert "Traceback" not in message
    # The first way out: r16 out of the summary, and the plan read again.
    changed = experiment()
    del changed.runs[1]
    changed.write(project)
    commit_all(project, "r16 out of the summary")
    message = update(project, "-d", "reread_inputs=true")
    assert "Scripts: 0 added, 4 removed." in message and "Missing" not in message
    assert [run["dir"] for run in answers(project)["plan"]["runs"]] == ["r8", "Llama-3.2-1B-Instruct_base"]
    # The other: the recorded plan's scripts rendered again.
    project = copied(template, experiment(), tmp_path / "exp2")
    git(project, "rm", "-rq", "r16")
    commit_all(project, "r16 removed")
    assert run_copier("recopy", "--trust", "--defaults", "--quiet", str(project)).returncode == 0
    assert sorted(p.name for p in (project / "r16" / "eval").glob("*.slurm")) == [
        "capitalization_epoch0.slurm", "capitalization_epoch1.slurm", "reverse_epoch0.slurm", "reverse_epoch1.slurm"]
    commit_all(project, "r16's scripts back")
    assert "Missing" not in update(project)


def test_an_update_refuses_a_hand_written_script_where_it_adds_one(template, tmp_path):
    """Copier would merge the user's file and the new script with conflict markers; refused
    before anything is written, and done as the fix says, the update goes through."""
    project = copied(template, experiment(), tmp_path / "exp")
    mine = project / "r8" / "eval" / "reverse_epoch2.slurm"
    mine.write_text("#!/bin/bash\n#SBATCH --job-name=mine\necho mine\n")
    changed = experiment()
    changed.runs[0].epochs = 3
    changed.write(project)
    commit_all(project, "my own script; r8 trains 3 epochs")
    result = run_copier("update", "--trust", "--defaults", "-d", "reread_inputs=true", cwd=project)
    assert result.returncode == 1, result.stderr
    assert (f"{mine}: exists and was not rendered by this template (it has no line saying 'Rendered by "
            "copier-inspect-slurm'), and the template writes r8/eval/reverse_epoch2.slurm here") in result.stderr
    assert ("fix: move it out of the way (e.g. `git mv r8/eval/reverse_epoch2.slurm r8/eval/reverse_epoch2.slurm.mine` "
            "and commit), then run the same copier command again") in result.stderr
    assert "Traceback" not in result.stderr
    assert git(project, "status", "--porcelain") == ""
    assert not (project / "r8" / "eval" / "capitalization_epoch2.slurm").exists()

    git(project, "mv", "r8/eval/reverse_epoch2.slurm", "r8/eval/reverse_epoch2.slurm.mine")
    commit_all(project, "mine moved")
    message = update(project, "-d", "reread_inputs=true")
    assert "Scripts: 2 added, 0 removed." in message
    assert "Rendered by copier-inspect-slurm" in mine.read_text() and os.access(mine, os.X_OK)


@pytest.mark.parametrize("where", ["in the experiment", "from elsewhere"])
def test_a_hand_damaged_plan_on_update_names_the_experiments_answers_file(template, tmp_path, where):
    """`copier update` renders the recorded plan into temporary copies first: the refusal
    names the experiment's answers file, the one to fix, and says how to undo a committed edit."""
    project = copied(template, experiment(), tmp_path / "exp")
    text = (project / ANSWERS).read_text()
    assert text.count("gpus: 1\n") == 3
    (project / ANSWERS).write_text(text.replace("gpus: 1\n", "gpus: '2'\n", 1))
    commit_all(project, "hand edit of the plan")
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file() and ".git" not in path.parts}
    if where == "in the experiment":
        result = run_copier("update", "--trust", "--defaults", cwd=project)
    else:
        result = run_copier("update", "--trust", "--defaults", str(project), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert (f"{project / ANSWERS}: the recorded plan (this answers file, or the one given with --data-file) is not "
            "in the shape this template records (TypeError: run r8: resources.gpus is '2' (str), not a whole number") in result.stderr
    assert (f"fix: restore {ANSWERS} as it was before the hand edit (`git log -p -- {ANSWERS}` shows it; "
            f"`git checkout COMMIT -- {ANSWERS}` takes the version of a commit before it), commit, then run the update again") in result.stderr
    assert "copier._main" not in result.stderr and "Traceback" not in result.stderr
    assert git(project, "status", "--porcelain") == ""
    assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file() and ".git" not in path.parts} == before


def test_a_renamed_answer_carries_over_through_a_migration(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    custom = "source /opt/site/venv/bin/activate"
    update(project, "-d", f"env_setup={custom}")
    commit_all(project, "custom environment")
    script = project / "r16" / "eval" / "reverse_epoch0.slurm"
    assert custom in script.read_text()
    plan_before = answers(project)["plan"]
    # 2.0.0 renames env_setup to environment_setup, with a migration for recorded answers.
    migration = (
        "_migrations:\n"
        "  - version: v2.0.0\n"
        "    when: \"{{ _stage == 'before' }}\"\n"
        "    command: [\"{{ _copier_python }}\", \"{{ _copier_conf.src_path }}/extensions/migrate.py\",\n"
        "              rename, env_setup, environment_setup, \"{{ _copier_conf.answers_file }}\"]\n"
    )
    release(template, "2.0.0", {
        "copier.yml": [
            ("_message_after_copy: |\n", migration + "\n_message_after_copy: |\n"),
            ("env_setup:\n", "environment_setup:\n"),
            ("_copier_conf.dst_path, env_setup)", "_copier_conf.dst_path, environment_setup)"),
        ],
        SCRIPT: [("{{ env_setup |", "{{ environment_setup |")],
    })
    update(project)
    recorded = answers(project)
    assert recorded["environment_setup"] == custom
    assert "env_setup" not in recorded
    assert custom in script.read_text()
    # r8's prompt holds NEL and LS: the migration rewrote the answers file without losing them.
    assert "\x85" in plan_before["runs"][0]["prompt"] and "\u2028" in plan_before["runs"][0]["prompt"]
    assert recorded["plan"] == plan_before
    assert git(project, "status", "--porcelain", "--", "r8", "r16", "Llama-3.2-1B-Instruct_base") == ""


def test_a_reproduced_or_moved_tree_works_where_it_is(template, tmp_path, recorders):
    """docs/REFERENCE.md: "Reproduce the tree" into NEW_DIR gives scripts that run, and log, in NEW_DIR;
    so does an experiment moved elsewhere. The original directory is gone when they run."""
    checkpoints = tmp_path / "checkpoints"
    base_model = tmp_path / "models" / "Llama-3.2-1B-Instruct"
    base_model.mkdir(parents=True)
    for epoch in (0, 1):
        (checkpoints / "ck-out-r8" / f"epoch_{epoch}").mkdir(parents=True)
    original = copied(template, Experiment(
        runs=[Run("r8", epochs=2, output_dir_base=str(checkpoints)), Run("Llama-3.2-1B-Instruct_base", kind="Control")],
        tasks=[Task("capitalization", script="tasks/cap_task.py")],  # in the experiment
        models={"Llama-3.2-1B-Instruct": str(base_model)},
        plan_text="Evaluate every epoch.",
        site=SITE,
    ), tmp_path / "exp")
    (original / "tasks").mkdir()
    (original / "tasks" / "cap_task.py").write_text(TASK_FILE.read_text())  # written after rendering
    origin = original / "tasks" / "cap_task.py"
    reproduced = tmp_path / "reproduced"
    result = run_copier(
        "copy", "--trust", "--defaults", "--data-file", str(original / ANSWERS),
        "--vcs-ref", answers(original)["_commit"], str(template), str(reproduced),
    )
    assert result.returncode == 0, result.stderr
    moved = tmp_path / "moved"
    original.rename(moved)
    # The file the reproduced tree falls back to is there (each job checks its task file
    # before evaluating); nothing else of the original experiment is.
    origin.parent.mkdir(parents=True)
    origin.write_text(TASK_FILE.read_text())
    for tree in (reproduced, moved):
        ran = scripts(tree)
        assert len(ran) == 3
        for script in ran:
            # The recorder writes no log, so the eval fails: its failed mark must land here too.
            process, records = run_script(script, recorders)
            assert (script.parent / "logs" / f".{script.stem}.failed").exists(), process.stderr
            (record,) = records
            log_dir = Path(record["cwd"], record["argv"][record["argv"].index("--log-dir") + 1]).resolve()
            assert log_dir == (script.parent / "logs").resolve(), (script, record["cwd"])
            # The moved tree runs its own task file; the reproduced one has none and runs the
            # file it was rendered from.
            task = record["argv"][record["argv"].index("eval") + 1]
            own = f"{moved.resolve()}/tasks/cap_task.py"
            assert task == f"{own if tree == moved else origin}@capitalization"


# main when v0.1 had landed, before 0.2 changed the plan's shape (there is no v0.1.0 tag).
V0_1 = "8ec649f"


def _rendered_by_0_1(tmp_path: Path, tagged: bool) -> tuple[Path, Path]:
    """An experiment rendered by 0.1, and its template repository moved on to this version:
    tagged v0.1.0 and v0.2.0, or untagged as on main (the answers file then records a
    commit, and Copier versions both as 0.0.0.postN)."""
    repo = tmp_path / "template"
    repo.mkdir()
    archive = subprocess.run(["git", "archive", V0_1, "copier.yml", "template", "extensions"],
                             cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)
    git(repo, "init", "-q")
    commit_all(repo, "0.1.0")
    if tagged:
        git(repo, "tag", "v0.1.0")
    project = copied(repo, experiment(), tmp_path / "exp")
    assert "task_file" not in answers(project)["plan"]["runs"][0]["cells"][0]
    for name in ("copier.yml", "template", "extensions"):
        shutil.rmtree(repo / name) if (repo / name).is_dir() else (repo / name).unlink()
    copy_files(working_tree_files("copier.yml", "template", "extensions"), repo)
    commit_all(repo, "0.2.0")
    if tagged:
        git(repo, "tag", "v0.2.0")
    return repo, project


def _has_this_versions_plan(project: Path) -> None:
    plan = answers(project)["plan"]
    assert plan["runs"][0]["cells"][0]["script"] == "r8/eval/capitalization_epoch0.slurm"
    assert len(contents(project)) == 2 * 2 * 2 + 2
    assert not list(project.rglob("*.rej"))


@pytest.mark.parametrize("tagged", [True, False], ids=["tagged", "untagged"])
def test_a_tree_rendered_by_0_1_updates_with_its_plan_read_again(tmp_path, tagged):
    _, project = _rendered_by_0_1(tmp_path, tagged)
    rendered_from = answers(project)["_commit"]
    message = update(project)
    assert answers(project)["_commit"] == "v0.2.0" if tagged else answers(project)["_commit"] != rendered_from
    assert "Scripts: none added, none removed." in message
    _has_this_versions_plan(project)


def test_a_tree_rendered_by_0_1_recopies_with_its_plan_read_again(tmp_path):
    """Recopy runs no migrations: the plan question's validator drops the old plan."""
    _, project = _rendered_by_0_1(tmp_path, tagged=False)
    result = run_copier("recopy", "--trust", "--defaults", "--overwrite", cwd=project)
    assert result.returncode == 0, result.stderr
    _has_this_versions_plan(project)


def test_an_untagged_template_is_said_once_and_by_its_pyproject_version(tmp_path):
    """Copier warns about a template without release tags each time it looks for the newest
    tag: three times in an update. The template's extension drops the repeats, and the
    messages name the version pyproject.toml gives, with the commit."""
    repo = tmp_path / "template"
    copy_files(working_tree_files("copier.yml", "template", "extensions", "pyproject.toml"), repo)
    git(repo, "init", "-q")
    commit_all(repo, "untagged")
    in_git_experiment = tmp_path / "exp"
    experiment().write(in_git_experiment)
    git(in_git_experiment, "init", "-q")
    commit_all(in_git_experiment, "inputs")
    copy = run_copier("copy", "--trust", "--defaults", str(repo), str(in_git_experiment))
    assert copy.returncode == 0, copy.stderr
    assert copy.stderr.count("No git tags found in template; using HEAD as ref") == 1
    head = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert (f"with copier-inspect-slurm {version()}, unreleased: commit {head} of a repository with no release tag "
            "(Copier calls that 0.0.0.postN)") in copy.stderr
    commit_all(in_git_experiment, "rendered")
    (repo / "README.md").write_text("a later commit\n")
    commit_all(repo, "later")
    result = run_copier("update", "--trust", "--defaults", cwd=in_git_experiment)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("No git tags found in template; using HEAD as ref") == 1
    later = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert f"to copier-inspect-slurm {version()}, unreleased: commit {later} of" in result.stderr


def version() -> str:
    return pyproject_version(ROOT / "pyproject.toml")


def test_the_version_said_for_a_release_a_later_commit_and_an_untagged_one():
    assert template_version("v0.2.0", "0.2.0") == "copier-inspect-slurm 0.2.0"
    assert template_version("v0.2.0-3-g1a2b3c4", "0.3.0") == (
        "copier-inspect-slurm 0.3.0, unreleased: commit 1a2b3c4, 3 after the release v0.2.0")
    assert template_version("2966d28", "0.1.0").startswith("copier-inspect-slurm 0.1.0, unreleased: commit 2966d28 of")
    assert template_version(None, "0.1.0") == "copier-inspect-slurm 0.1.0"


def test_an_update_that_changes_what_reaches_inspect_says_which_scripts_are_now_stale(template, tmp_path):
    """A prompt fix adds and removes no script, yet every result of the runs it reaches is
    stale: the after-update message counts them, by run, instead of "none added, none removed"
    alone."""
    project = copied(template, experiment(), tmp_path / "exp")
    fixed = experiment()
    fixed.runs[1] = Run("r16", epochs=2, prompt="Capitalize this word: {input}\n")
    fixed.write(project)
    commit_all(project, "r16's prompt fixed")
    message = update(project, "-d", "reread_inputs=true")
    assert "Scripts: none added, none removed.\n" in message
    assert ("Inputs changed: 4 of the other scripts now give inspect other inputs (task, model, data, prompt, system "
            "prompt or decoding); their results so far are stale, and `./submit_evals.sh --only-missing` runs them "
            "again:\n  changed in r16/eval: capitalization_epoch0, capitalization_epoch1, reverse_epoch0, reverse_epoch1\n"
            ) in message
    commit_all(project, "r16 rendered with the fixed prompt")
    # An update that reaches nothing says nothing of it.
    assert "Inputs changed" not in update(project)
