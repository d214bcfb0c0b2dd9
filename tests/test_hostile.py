"""Hostile values: what an attacker or a careless directory name could put into the inputs.

Every value that reaches a rendered file goes through one quoting or sanitizing filter
(extensions/render.py): `shell_quote` for bash words, `comment` for text in a `#` comment or
on the terminal, `task_config` for the heredoc, `answers_yaml` for the answers file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import jinja2
import jinja2.nodes
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from extensions.render import comment
from tests.conftest import ROOT, run_copier, scripts
from tests.experiment import SITE, Experiment, Run

_TEXT = st.text(st.characters(exclude_categories=("Cs",)))


@given(value=_TEXT)
def test_a_comment_is_one_line_of_printable_text(value):
    text = comment(value)
    assert text.isprintable()
    assert len(text.splitlines()) <= 1
    if value.isprintable():  # readable values are left as they are
        assert text == value


def test_a_comment_escapes_line_breaks_and_terminal_controls():
    value = "exp\n$(touch pwned)\r\x1b[2J\x85\u2028\u2029\u202e\tend ü"
    assert comment(value) == "exp\\n$(touch pwned)\\r\\x1b[2J\\x85\\u2028\\u2029\\u202e\\tend ü"
    assert all(unicodedata.category(c)[0] != "C" for c in comment(value))


# -- a directory name that holds a command ---------------------------------------------------

# The experiment's name falls back to its directory's name when the summary has no title.
HOSTILE = "exp\n$(touch pwned)\n`touch pwned`; touch pwned #"

_RECORDER = """#!/bin/bash
printf '%s\\n' "$(basename "$0") $*" >> "$RECORD_DIR/slurm.log"
if [ "$(basename "$0")" = sbatch ]; then echo 4242; fi
"""


@pytest.fixture
def slurm_recorders(tmp_path) -> Path:
    """sbatch answers a job id, squeue/sacct/sacctmgr answer nothing: no cluster here."""
    bin_dir = tmp_path / "slurm-bin"
    bin_dir.mkdir()
    for name in ("sbatch", "squeue", "sacct", "sacctmgr", "scontrol"):
        path = bin_dir / name
        path.write_text(_RECORDER)
        path.chmod(0o755)
    return bin_dir


def untitled(experiment: Experiment) -> str:
    lines = experiment.summary().splitlines(keepends=True)
    assert lines[0].startswith("# ")
    return "".join(lines[1:])


def run_bash(script: Path, cwd: Path, path: str, record_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": path, "RECORD_DIR": str(record_dir)}
    return subprocess.run(["bash", str(script), *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_canary_catches_a_name_written_raw_into_a_comment(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    raw = tmp_path / "raw.sh"
    raw.write_text(f'#!/bin/bash\n# Submits every evaluation of "{HOSTILE}" at the right time.\n')
    assert subprocess.run(["bash", "-n", str(raw)]).returncode == 0  # bash -n does not see it
    subprocess.run(["bash", str(raw)], cwd=work, capture_output=True)
    assert (work / "pwned").exists()


def test_a_directory_name_holding_commands_puts_none_into_the_rendered_files(tmp_path, recorders, slurm_recorders):
    work = tmp_path / "work"
    work.mkdir()
    experiment = Experiment(runs=[Run("r8", epochs=2), Run("Llama-3.2-1B-Instruct_base", kind="Control")], site=SITE)
    experiment.summary_override = untitled(experiment)
    directory = experiment.write(tmp_path / HOSTILE)
    result = run_copier("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", str(ROOT), str(directory), cwd=work)
    assert result.returncode == 0, result.stderr
    assert "pwned" not in "".join(p.name for p in work.iterdir())
    plan = yaml.safe_load((directory / ".copier-answers.yml").read_text())["plan"]
    assert plan["experiment"] == HOSTILE  # the fallback this test is about did happen

    submit = directory / "submit_evals.sh"
    rendered = [submit, *scripts(directory)]
    assert len(rendered) == 1 + 2
    for path in rendered:
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0, path
    # At severity warning: the info SC2016 ("expressions don't expand in single quotes") fires
    # on every `$(` kept literal in single quotes, which is what quoting this value means.
    checked = subprocess.run(
        [str(Path(sys.executable).parent / "shellcheck"), "--shell=bash", "--severity=warning", *map(str, rendered)],
        capture_output=True, text=True,
    )
    assert checked.returncode == 0, checked.stdout

    inspect_bin, record_dir = recorders
    path = f"{slurm_recorders}:{inspect_bin}:{os.environ['PATH']}"
    for args in (["--help"], ["--dry-run"], []):
        run_bash(submit, work, path, record_dir, *args)
    for script in scripts(directory):
        run_bash(script, script.parent, path, record_dir)
    assert (record_dir / "slurm.log").exists()  # submit_evals.sh did reach sbatch
    assert [p for p in tmp_path.rglob("*pwned*") if p.name == "pwned"] == []


# -- one quoting point for every value ---------------------------------------------------------

# The filters a value may leave a template through, each the one place that makes it safe
# where it lands. `with_conda_env` prints the env_setup answer, shell lines the user wrote
# on purpose, with the conda environment quoted.
QUOTING_FILTERS = {
    "shell_quote", "comment", "task_config", "sbatch_header", "with_conda_env", "answers_yaml", "python_json",
    "metadata_options", "double_quoted", "eval_yaml", "with_job_id",
}
# Calls that print this template's own code, not a value: protocol_source gives the source
# of a protocol.py function to a rendered script that runs without the package, and
# protocol_shell the same rule in bash; task_check_source the task contract's check.
CODE = {"protocol_source", "protocol_shell", "task_check_source"}
# Values the plan made safe where it built them: run and task names are checked to be one
# safe path component (letters, digits, . _ + -, names.check_name), and so are the names
# made of them and the @task function (a Python identifier, checked again with them); an
# epoch is a number. A plan read back from an answers file is checked again
# before anything is written (checks._check_printed_values, tested below).
CHECKED_NAMES = {"run.name", "run.dir", "cell.name", "cell.task", "cell.function", "cell.job_name", "cell.epoch"}
# The template's own constants (protocol.WARNING_SIGNAL, a signal name, and WARNING_SECONDS, a
# number): no input file reaches them.
CHECKED_NAMES |= {"warning_signal", "warning_seconds"}


def _dotted(node: jinja2.nodes.Node) -> str | None:
    if isinstance(node, jinja2.nodes.Name):
        return node.name
    if isinstance(node, jinja2.nodes.Getattr) and (parent := _dotted(node.node)):
        return f"{parent}.{node.attr}"
    return None


def unquoted_outputs(source: str) -> list[str]:
    """The `{{ … }}` expressions of a template that neither end in a quoting filter nor print a
    checked name."""
    environment = jinja2.Environment(keep_trailing_newline=True)
    found = []
    for output in environment.parse(source).find_all(jinja2.nodes.Output):
        for node in output.nodes:
            if isinstance(node, jinja2.nodes.TemplateData):
                continue
            if isinstance(node, jinja2.nodes.Filter) and node.name in QUOTING_FILTERS:
                continue
            if _dotted(node) in CHECKED_NAMES:
                continue
            if isinstance(node, jinja2.nodes.Call) and _dotted(node.node) in CODE:
                continue
            found.append(f"line {node.lineno}: {source.splitlines()[node.lineno - 1].strip()}")
    return found


def test_the_check_finds_a_value_left_raw():
    source = (
        "# {{ plan.experiment }}\n"
        "echo {{ x | shell_quote }} {{ y | upper }}\n"
        "touch logs/.{{ cell.name }}.complete {{ cell.model_path }}\n"
    )
    assert unquoted_outputs(source) == [
        "line 1: # {{ plan.experiment }}",
        "line 2: echo {{ x | shell_quote }} {{ y | upper }}",
        "line 3: touch logs/.{{ cell.name }}.complete {{ cell.model_path }}",
    ]


def test_every_value_in_a_rendered_file_goes_through_a_quoting_filter():
    offenders = {
        str(path.relative_to(ROOT / "template")): found
        for path in sorted((ROOT / "template").rglob("*.jinja"))
        if (found := unquoted_outputs(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


# The values above are printed unquoted because the loader checked them. A plan read back
# from an answers file (update, recopy, `copier copy --data-file`) is checked again.
TAMPERED = {
    "run-name": (lambda plan: plan["runs"][0].update(name="x$(touch PWNED)"),
                 ["holds a value the template would print unquoted: run name 'x$(touch PWNED)' is not one safe path component"]),
    "qos": (lambda plan: plan["runs"][0]["sbatch"].append(["qos", "normal\n/bin/touch PWNED"]),
            ["the sbatch qos value 'normal\\n/bin/touch PWNED' is not one plain word"]),
    "epoch": (lambda plan: plan["runs"][0]["cells"][0].update(epoch="0; touch PWNED"),
              ["epoch '0; touch PWNED' is not a whole number"]),
    "done-mark": (lambda plan: plan["runs"][0]["cells"][0].update(done_mark="../../x"),
                  ["done_mark '../../x' is not the protocol's 'r8_lr1e-5/eval/logs/.capitalization_epoch0.complete'"]),
    # The job writes its times there: an edited path would write outside the experiment.
    "job-times": (lambda plan: plan["runs"][0]["cells"][0].update(job_times="../../x{job}"),
                  ["job_times '../../x{job}' is not the protocol's "
                   "'r8_lr1e-5/eval/logs/capitalization_epoch0.job{job}.time.csv'"]),
    "shape": (lambda plan: plan["runs"][0].pop("sbatch"), ["is not in the shape this template records (KeyError: 'sbatch')"]),
    # A count the templates compare (`gpus > 1`): Jinja would stop with a TypeError, and true would pass for 1.
    "gpus-a-string": (lambda plan: plan["runs"][0]["resources"].update(gpus="2"),
                      ["is not in the shape this template records (TypeError: run r8_lr1e-5: resources.gpus is '2' (str), "
                       "not a whole number of at least 0)"]),
    "gpus-true": (lambda plan: plan["runs"][0]["resources"].update(gpus=True),
                  ["run r8_lr1e-5: resources.gpus is True (bool), not a whole number"]),
}


@pytest.mark.parametrize("tamper", TAMPERED)
def test_a_tampered_recorded_plan_is_refused_before_anything_is_written(tmp_path, tamper):
    project = tmp_path / "experiment"
    Experiment(site=SITE).write(project)
    copy = ("copy", "--trust", "--defaults", "--vcs-ref", "HEAD")
    assert run_copier(*copy, str(ROOT), str(project)).returncode == 0
    answers_file = project / ".copier-answers.yml"
    answers = yaml.safe_load(answers_file.read_text())
    change, expected = TAMPERED[tamper]
    change(answers["plan"])
    answers_file.write_text(yaml.safe_dump(answers))
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}

    reproduced = tmp_path / "reproduced"
    for command, named in (
        ([*copy, "--data-file", str(answers_file), str(ROOT), str(reproduced)], reproduced / ".copier-answers.yml"),
        (["recopy", "--trust", "--defaults", "--overwrite", "--vcs-ref", "HEAD", str(project)], answers_file),
    ):
        result = run_copier(*command)
        assert result.returncode == 1, result.stderr
        assert f"{named}: the recorded plan (this answers file, or the one given with --data-file) " in result.stderr
        assert all(text in result.stderr for text in expected), result.stderr
        assert "Traceback" not in result.stderr
    assert not reproduced.exists()
    assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file()} == before
    assert not list(tmp_path.rglob("PWNED")) and not Path("PWNED").exists()
