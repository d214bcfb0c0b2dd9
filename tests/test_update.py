"""Reproducible, updatable trees: copier update, template versions, changes to a plan.

The template is used as users use it: from a git repository with version tags, by absolute
path, into an experiment directory that is itself a git repository.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_copier, scripts
from tests.experiment import SITE, Experiment, Run, Task

ANSWERS = ".copier-answers.yml"


def git(directory: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=directory, check=True, capture_output=True, text=True,
    ).stdout


def commit_all(directory: Path, message: str) -> None:
    git(directory, "add", "-A")
    git(directory, "commit", "-qm", message, "--allow-empty")


def template_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "copier.yml", "template", "extensions"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    return [name for name in listed if (ROOT / name).exists()]


@pytest.fixture
def template(tmp_path) -> Path:
    """This working tree's template, committed and tagged 1.0.0 in a repository of its own."""
    repo = tmp_path / "template"
    for name in template_files():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    git(repo, "init", "-q")
    commit_all(repo, "template 1.0.0")
    git(repo, "tag", "v1.0.0")
    return repo


SCRIPT = (
    "template/{% yield run from plan.runs %}{{ run.dir }}{% endyield %}/eval/"
    "{% yield cell from run.cells %}{{ cell.name }}.slurm{% endyield %}.jinja"
)


def release(template: Path, version: str, edits: dict[str, list[tuple[str, str]]]) -> None:
    """Commit and tag a later template version made of text replacements."""
    for name, replacements in edits.items():
        path = template / name
        text = path.read_text()
        for old, new in replacements:
            assert old in text, (name, old)
            text = text.replace(old, new)
        path.write_text(text)
    commit_all(template, f"template {version}")
    git(template, "tag", f"v{version}")


def copied(template: Path, experiment: Experiment, directory: Path) -> Path:
    experiment.write(directory)
    git(directory, "init", "-q")
    commit_all(directory, "inputs")
    result = run_copier("copy", "--trust", "--defaults", "--quiet", str(template), str(directory))
    assert result.returncode == 0, result.stderr
    commit_all(directory, "rendered")
    return directory


def update(directory: Path, *args: str) -> subprocess.CompletedProcess:
    result = run_copier("update", "--trust", "--defaults", "--quiet", *args, cwd=directory)
    assert result.returncode == 0, result.stderr
    return result


def contents(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): p.read_text() for p in scripts(directory)}


def answers(directory: Path) -> dict:
    return yaml.safe_load((directory / ANSWERS).read_text())


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
    assert contents(elsewhere) == contents(project)
    assert len(contents(project)) == 2 * 2 * 2 + 2
    assert (elsewhere / ANSWERS).read_text() == (project / ANSWERS).read_text()


def test_update_right_after_copy_changes_nothing(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    update(project)
    assert git(project, "status", "--porcelain") == ""


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
    before = contents(project)
    changed = experiment()
    changed.runs = [changed.runs[0], Run("r32", epochs=3), changed.runs[2]]  # r16 dropped, r32 added
    changed.runs[0].epochs = 3  # r8 gains an epoch
    changed.tasks.append(Task("spelling"))
    shutil.rmtree(project / "r16")
    changed.write(project)
    commit_all(project, "new plan")
    # Without asking for it, the recorded plan wins: nothing changes.
    update(project)
    assert git(project, "status", "--porcelain") == ""
    update(project, "-d", "reread_inputs=true")
    after = contents(project)
    assert not any(name.startswith("r16/") for name in after)
    assert not (project / "r16").exists()
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
    update(project)
    assert git(project, "status", "--porcelain") == ""


def test_a_second_copy_fails_before_changing_anything(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    result = run_copier("copy", "--trust", "--defaults", "-d", "reread_inputs=true", str(template), str(project))
    assert result.returncode == 1
    assert "already has an answers file" in result.stderr
    assert "copier update --trust --defaults" in result.stderr
    assert git(project, "status", "--porcelain") == ""


def test_a_renamed_answer_carries_over_through_a_migration(template, tmp_path):
    project = copied(template, experiment(), tmp_path / "exp")
    custom = "source /opt/site/venv/bin/activate"
    update(project, "-d", f"env_setup={custom}")
    commit_all(project, "custom environment")
    script = project / "r16" / "eval" / "reverse_epoch0.slurm"
    assert custom in script.read_text()
    # 2.0.0 renames env_setup to environment_setup, with a migration for recorded answers.
    migration = (
        "_migrations:\n"
        "  - version: v2.0.0\n"
        "    when: \"{{ _stage == 'before' }}\"\n"
        "    command: [\"{{ _copier_python }}\", \"{{ _copier_conf.src_path }}/extensions/migrate.py\",\n"
        "              rename, env_setup, environment_setup, \"{{ _copier_conf.answers_file }}\"]\n\n"
    )
    release(template, "2.0.0", {
        "copier.yml": [
            ("env_setup:\n", migration + "environment_setup:\n"),
            ("_copier_conf.dst_path, env_setup)", "_copier_conf.dst_path, environment_setup)"),
        ],
        SCRIPT: [("{{ env_setup |", "{{ environment_setup |")],
    })
    update(project)
    recorded = answers(project)
    assert recorded["environment_setup"] == custom
    assert "env_setup" not in recorded
    assert custom in script.read_text()
    assert git(project, "status", "--porcelain", "--", "r16") == ""
