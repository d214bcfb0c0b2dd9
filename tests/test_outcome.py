"""A cell's outcome is the status of the log inspect wrote for it in this run, not an exit code.

The `inspect` recorder puts a copy of a log made by inspect's own `write_eval_log` (success,
error or cancelled) where inspect would write it, named as inspect names it; the script judges
it with inspect's own `read_eval_log`, through the python on PATH, as it does on the cluster.
tests/e2e runs the same scripts with the real `inspect eval` on Slurm.
"""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import pytest
import yaml
from inspect_ai.log import EvalConfig, EvalDataset, EvalError, EvalLog, EvalSpec, write_eval_log

from extensions import protocol
from tests.conftest import run_script, scripts
from tests.experiment import SITE, TASK_FILE, Experiment, Run, Task

ERROR = "RuntimeError('the solver raised')"


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> dict[str, Path]:
    """Real logs, one per status, written by inspect."""
    directory = tmp_path_factory.mktemp("logs")
    spec = EvalSpec(
        created="2026-11-28T13:02:44+00:00", task="capitalization", dataset=EvalDataset(),
        model="hf/local", config=EvalConfig(),
    )  # fmt: skip
    made = {}
    for status in ("success", "error", "cancelled"):
        error = EvalError(message=ERROR, traceback="Traceback ...", traceback_ansi="") if status == "error" else None
        made[status] = directory / f"{status}.eval"
        write_eval_log(EvalLog(eval=spec, status=status, error=error), str(made[status]))
    return made


@pytest.fixture
def script(render, tmp_path) -> Path:
    """The script of a fine-tuned cell whose checkpoint exists."""
    checkpoints = tmp_path / "ck"
    (checkpoints / "ck-out-r1" / "epoch_0").mkdir(parents=True)
    directory = render(Experiment(runs=[Run("r1", output_dir_base=str(checkpoints))], site=SITE))
    (path,) = scripts(directory)
    return path


def marks(script: Path) -> tuple[bool, str | None]:
    """(done mark exists, failed mark's text)."""
    logs = script.parent / "logs"
    failed = logs / f".{script.stem}.failed"
    return (logs / f".{script.stem}.complete").exists(), failed.read_text() if failed.exists() else None


def cell_logs(script: Path) -> list[Path]:
    return sorted((script.parent / "logs").glob(f"*_{script.stem}_*.eval"))


def test_a_successful_log_leaves_the_done_mark(script, recorders, logs):
    result, _ = run_script(script, recorders, INSPECT_LOG=str(logs["success"]))
    assert result.returncode == 0, result.stderr
    (log,) = cell_logs(script)
    assert result.stdout.splitlines()[-2:] == [f"Log: {log}", "Evaluation complete"]
    assert marks(script) == (True, None)
    # The mark holds the fingerprint of the cell's inputs, as the recorded plan gives it.
    plan = yaml.safe_load((script.parents[2] / ".copier-answers.yml").read_text())["plan"]
    (cell,) = plan["runs"][0]["cells"]
    # Then the name of the log it stands for: deleting that log undoes it (test_submit.py).
    assert (script.parent / "logs" / f".{script.stem}.complete").read_text() == f"{cell['fingerprint']} {log.name}\n"


@pytest.mark.parametrize("status", ["error", "cancelled"])
def test_an_unsuccessful_log_fails_the_job_naming_the_log_and_inspects_error(script, recorders, logs, status):
    run_script(script, recorders, INSPECT_LOG=str(logs["success"]))
    assert marks(script) == (True, None)
    # Rerun: the earlier success counts for nothing, and its done mark goes.
    result, records = run_script(script, recorders, INSPECT_LOG=str(logs[status]))
    assert len(records) == 1
    assert result.returncode == 1
    newest = cell_logs(script)[-1]
    message = f"{newest}: status {status}: " + (ERROR if status == "error" else "inspect recorded no error message")
    assert f"error: {message}" in result.stderr
    assert "Evaluation complete" not in result.stdout
    assert marks(script) == (False, message + "\n")


def test_no_log_from_this_run_fails_even_beside_an_older_success(script, recorders, logs):
    run_script(script, recorders, INSPECT_LOG=str(logs["success"]))
    result, records = run_script(script, recorders)
    assert len(records) == 1
    assert result.returncode == 1
    expected = f"inspect eval exited with status 0 and wrote no log for {script.stem} in {script.parent}/logs"
    assert f"error: {expected}" in result.stderr
    assert marks(script) == (False, expected + "\n")


def test_the_tree_works_where_it_is_moved(script, recorders, logs, tmp_path):
    experiment = script.parent.parent.parent
    moved = tmp_path / "moved here" / "experiment"
    moved.parent.mkdir()
    shutil.move(experiment, moved)
    for path in [*scripts(moved), moved / "submit_evals.sh"]:
        assert str(experiment) not in path.read_text()
    (moved_script,) = scripts(moved)
    # Run with bash from anywhere: the script's own directory is its eval directory.
    result, records = run_script(moved_script, recorders, cwd=Path("/"), INSPECT_LOG=str(logs["success"]))
    assert result.returncode == 0, result.stderr
    assert records[0]["cwd"] == str(moved_script.parent)
    assert marks(moved_script) == (True, None)


def test_under_slurm_the_eval_directory_is_where_sbatch_was_called(script, recorders, logs, tmp_path):
    # Slurm runs a copy of the script from its spool directory, in the submission directory.
    spool = tmp_path / "spool" / "job00042"
    spool.mkdir(parents=True)
    copy = spool / "slurm_script"
    shutil.copy(script, copy)
    result, records = run_script(
        copy, recorders, cwd=script.parent, SLURM_JOB_ID="42", SLURM_SUBMIT_DIR=str(script.parent),
        INSPECT_LOG=str(logs["success"]),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert records[0]["cwd"] == str(script.parent)
    assert marks(script) == (True, None)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result, records = run_script(copy, recorders, cwd=elsewhere, SLURM_JOB_ID="43", SLURM_SUBMIT_DIR=str(elsewhere))
    assert result.returncode == 1
    assert records == []
    assert f"error: {script.name} is not in {elsewhere}" in result.stderr
    assert f"cd r1/eval && sbatch {script.name}" in result.stderr


@pytest.mark.parametrize("tmpdir", ["missing", "a-file"])
def test_a_failing_mktemp_fails_the_cell_naming_tmpdir(script, recorders, logs, tmp_path, tmpdir):
    """The task config goes to a temporary file: where TMPDIR cannot hold one (a directory
    that does not exist, or a file; a read-only directory stops no root), the job stops before
    inspect, saying which directory and what to do, in its stderr and failed mark."""
    directory = tmp_path / tmpdir
    if tmpdir == "a-file":
        directory.write_text("")
    result, records = run_script(script, recorders, TMPDIR=str(directory), INSPECT_LOG=str(logs["success"]))
    assert result.returncode == 1
    assert records == []
    message = (f"mktemp could not create the task config file in TMPDIR={directory}: set TMPDIR to a "
               "writable directory (or unset it for /tmp), then resubmit")
    assert f"error: {message}" in result.stderr
    assert marks(script) == (False, message + "\n")


@pytest.fixture
def bom_script(render, tmp_path) -> tuple[Path, Path]:
    """The script fixture's cell, with a task file that starts with a UTF-8 BOM, as some Windows
    editors save it."""
    task = tmp_path / "tasks" / "task.py"
    task.parent.mkdir()
    task.write_bytes(codecs.BOM_UTF8 + TASK_FILE.read_bytes())
    checkpoints = tmp_path / "ck"
    (checkpoints / "ck-out-r1" / "epoch_0").mkdir(parents=True)
    directory = render(Experiment(runs=[Run("r1", output_dir_base=str(checkpoints))],
                                  tasks=[Task("capitalization", script=str(task))], site=SITE))
    (path,) = scripts(directory)
    return path, task


def test_the_job_reads_its_task_file_as_the_render_did(bom_script, recorders, logs):
    """A BOM is no content at render time, for Python's import, and for the job's own check of
    the file; bytes that are not UTF-8, written since, stop the job naming them, no traceback."""
    script, task = bom_script
    result, records = run_script(script, recorders, INSPECT_LOG=str(logs["success"]))
    assert result.returncode == 0, result.stderr
    assert len(records) == 1 and marks(script) == (True, None)

    task.write_bytes(codecs.BOM_UTF8 + "# Capitalisé\n".encode("cp1252") + TASK_FILE.read_bytes())
    result, records = run_script(script, recorders, INSPECT_LOG=str(logs["success"]))
    assert result.returncode == 1 and records == []
    assert "Traceback" not in result.stderr
    message = (f"{task}: is not UTF-8 text: byte 0xe9 at byte offset 14 (line 1) cannot be decoded; save the file "
               "as UTF-8 (for example `iconv -f cp1252 -t utf-8 FILE > NEW`)")
    assert marks(script) == (False, message + "\n")


def test_the_log_format_is_pinned_whatever_inspect_log_format_says(script, recorders, logs):
    """INSPECT_LOG_FORMAT=json (the environment or a .env file) would have inspect write a
    .json log, which no tool here reads: the command says --log-format eval."""
    result, records = run_script(script, recorders, INSPECT_LOG_FORMAT="json", INSPECT_LOG=str(logs["success"]))
    assert result.returncode == 0, result.stderr
    argv = records[0]["argv"]
    assert argv[argv.index("--log-format") + 1] == "eval"


@pytest.mark.parametrize(("config", "said", "variable"), [
    ({"limit": 1}, "limit=1", "INSPECT_EVAL_LIMIT"),
    ({"sample_id": ["3"]}, "sample_id=['3']", "INSPECT_EVAL_SAMPLE_ID"),
    ({"limit": 1, "epochs": 1, "fail_on_error": True}, "limit=1", "INSPECT_EVAL_LIMIT"),  # as real inspect records it
])
def test_a_successful_log_of_an_evaluation_the_plan_did_not_ask_for_fails(script, recorders, tmp_path, config, said,
                                                                           variable):
    """A .env file with INSPECT_EVAL_LIMIT=1 gives a "successful" log of one sample: the
    job reads the options in the log's header and refuses those it did not give."""
    spec = EvalSpec(created="2026-11-28T13:02:44+00:00", task="capitalization", dataset=EvalDataset(),
                    model="hf/local", config=EvalConfig(**config))
    path = tmp_path / "limited.eval"
    write_eval_log(EvalLog(eval=spec, status="success"), str(path))
    result, _ = run_script(script, recorders, INSPECT_LOG=str(path))
    assert result.returncode == 1
    (log,) = cell_logs(script)
    message = (f"{log}: inspect ran with {said}, which this script does not ask for: likely set by {variable} in the "
               "environment or in a .env file in the job's directory or above it; remove it, then resubmit")
    assert marks(script) == (False, message + "\n")


def test_a_tasks_own_generation_settings_in_the_log_do_not_fail_the_cell(script, recorders, tmp_path):
    """inspect records the task's own GenerateConfig (max_tokens, a system message) in the log's
    model_generate_config, merged with the command line's: they are the task's, not a variable's."""
    from inspect_ai.model import GenerateConfig

    spec = EvalSpec(created="2026-11-28T13:02:44+00:00", task="capitalization", dataset=EvalDataset(),
                    model="hf/local", config=EvalConfig(),
                    model_generate_config=GenerateConfig(system_message="Be terse.", max_tokens=20))
    path = tmp_path / "own.eval"
    write_eval_log(EvalLog(eval=spec, status="success"), str(path))
    result, _ = run_script(script, recorders, INSPECT_LOG=str(path))
    assert result.returncode == 0, result.stderr
    assert marks(script)[0]


def test_a_generation_setting_from_a_variable_stops_the_job_unless_the_script_passes_it(render, recorders, logs,
                                                                                         tmp_path):
    """INSPECT_EVAL_SYSTEM_MESSAGE would override the task's own; INSPECT_EVAL_MAX_TOKENS loses to
    the --max-tokens the script passes when the summary states Max tokens, and is not refused."""
    checkpoints = tmp_path / "ck"
    (checkpoints / "ck-out-r1" / "epoch_0").mkdir(parents=True)
    directory = render(Experiment(runs=[Run("r1", output_dir_base=str(checkpoints))], site=SITE, max_tokens="32"))
    (script,) = scripts(directory)
    result, records = run_script(script, recorders, INSPECT_LOG=str(logs["success"]), INSPECT_EVAL_MAX_TOKENS="5")
    assert result.returncode == 0, result.stderr
    argv = records[0]["argv"]
    assert argv[argv.index("--max-tokens") + 1] == "32"
    result, records = run_script(script, recorders, INSPECT_LOG=str(logs["success"]),
                                 INSPECT_EVAL_SYSTEM_MESSAGE="Be terse.")
    assert result.returncode == 1 and records == []
    assert "INSPECT_EVAL_SYSTEM_MESSAGE=Be terse. (in the environment)" in marks(script)[1]


@pytest.mark.parametrize("where", ["environment", ".env"])
def test_an_inspect_setting_that_changes_the_evaluation_stops_the_job_before_inspect_runs(script, recorders, logs,
                                                                                       where):
    """INSPECT_EVAL_EPOCHS=3 would run every sample three times, and the log could not tell it
    from the task's own epochs: the job stops before inspect, naming the variable and where."""
    env = {"INSPECT_LOG": str(logs["success"])}
    dotenv = script.parent.parent.parent / ".env"  # the experiment's: inspect looks upward
    if where == "environment":
        env["INSPECT_EVAL_EPOCHS"] = "3"
        said = "INSPECT_EVAL_EPOCHS=3 (in the environment)"
    else:
        dotenv.write_text("INSPECT_EVAL_TOKEN_LIMIT=50\n")
        said = f"INSPECT_EVAL_TOKEN_LIMIT=50 (in {dotenv})"
    try:
        result, records = run_script(script, recorders, **env)
    finally:
        dotenv.unlink(missing_ok=True)
    assert result.returncode == 1
    assert records == []  # inspect never ran
    assert marks(script) == (False, f"inspect would evaluate otherwise than this script says: {said}; unset or "
                                    "remove it, then resubmit\n")


def test_the_settings_checked_before_inspect_runs_are_options_of_inspect_eval():
    """Each is an option of this inspect's `eval` command, so INSPECT_EVAL_<OPTION> is read."""
    from inspect_ai._cli.eval import eval_command

    checked = set(protocol.EVALUATION_CHANGING_OPTIONS + protocol.GENERATION_OPTIONS)
    assert checked <= {parameter.name for parameter in eval_command.params}
