"""A cell's job continues its newest unfinished log, and stops inspect cleanly when Slurm
warns of the time limit (issue 19, item 2).

Real bash runs the rendered script; `inspect` is a stand-in that records its arguments and,
like inspect, writes a log made by inspect's own write_eval_log. tests/e2e runs the real
`inspect eval-retry` on Slurm, a job that really reaches its time limit included.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from inspect_ai.log import EvalConfig, EvalDataset, EvalLog, EvalSpec, write_eval_log

from tests.conftest import run_script
from tests.test_outcome import script  # noqa: F401 (the fixture: a fine-tuned cell whose checkpoint exists)


def fingerprint_of(script: Path) -> str:
    plan = yaml.safe_load((script.parents[2] / ".copier-answers.yml").read_text())["plan"]
    (cell,) = plan["runs"][0]["cells"]
    return cell["fingerprint"]


def unfinished_log(script: Path, status: str, fingerprint: str | None = None) -> Path:
    """A log of the cell as a killed job leaves it: the model and task arguments its script
    gives, and in its metadata the cell's fingerprint (or `fingerprint`: another plan's)."""
    text = script.read_text()
    model_path = re.search(r"^MODEL_PATH='?([^'\n]+)'?$", text, re.M).group(1)
    task_args = json.loads(re.search(r"<<'TASK_ARGS'\n(.*?)\nTASK_ARGS\n", text, re.S).group(1))
    spec = EvalSpec(created="2026-11-28T13:02:44+00:00", task="capitalization", dataset=EvalDataset(),
                    model="hf/local", config=EvalConfig(), model_args={"model_path": model_path},
                    task_args={**task_args, "split": "test"}, task_args_passed=task_args,  # with the task's defaults
                    metadata={"cell": script.stem, "fingerprint": fingerprint or fingerprint_of(script)})
    path = script.parent / "logs" / f"2026-11-28T13-02-44-00-00_{script.stem}_aaaaaaaaaaaaaaaaaaaaaa.eval"
    path.parent.mkdir(exist_ok=True)
    write_eval_log(EvalLog(eval=spec, status=status), str(path))
    return path


@pytest.mark.parametrize("status", ["started", "cancelled"])
def test_an_unfinished_newest_log_is_continued_with_eval_retry(script, recorders, status):
    log = unfinished_log(script, status)
    result, records = run_script(script, recorders)
    (record,) = records
    assert record["argv"] == ["eval-retry", str(log), "--log-dir", str(script.parent / "logs"), "--log-level", "info"]
    # Every option is one of the real eval-retry's (it has no --log-format: a recorder took it).
    from inspect_ai._cli.eval import eval_retry_command

    options = {option for parameter in eval_retry_command.params for option in parameter.opts}
    assert {arg for arg in record["argv"] if arg.startswith("-")} <= options
    assert f"continuing {log} (status {status}): its finished samples are kept" in result.stdout


def test_a_log_of_other_inputs_is_not_continued(script, recorders):
    """eval-retry would run the log's own model, task arguments and decoding: a log made
    before the plan changed (another fingerprint) is not continued."""
    log = unfinished_log(script, "cancelled", fingerprint="0123456789abcdef")
    result, records = run_script(script, recorders)
    (record,) = records
    assert record["argv"][0] == "eval"
    assert f"{log} did not finish, but was made with other inputs than this script's: starting afresh" in result.stdout


# Like inspect: says it started, and on SIGINT (Ctrl-C) writes its log as cancelled, with the
# samples it finished, and exits 0. SIGTERM would kill it at once.
_SLOW_INSPECT = """#!{python}
import os, shutil, signal, sys, time
args = sys.argv[1:]
def cancelled(*_):
    log_dir = args[args.index("--log-dir") + 1]
    name = os.environ["INSPECT_EVAL_LOG_FILE_PATTERN"].replace("{{id}}", "bbbbbbbbbbbbbbbbbbbbbb")
    shutil.copy(os.environ["INSPECT_LOG"], os.path.join(log_dir, "2026-11-28T13-05-00-00-00_" + name + ".eval"))
    sys.exit(0)
signal.signal(signal.SIGINT, cancelled)
open(os.environ["STARTED"], "w").close()
while True:
    time.sleep(1)
"""


def wait_for(condition, what: str, timeout: float = 60, output: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}: {output.read_text() if output else ''}"
        time.sleep(0.05)


@pytest.mark.parametrize("signal_name", ["USR1", "TERM"])
def test_slurms_signal_stops_inspect_with_its_samples_and_leaves_the_reason(script, tmp_path, signal_name):
    bin_dir = tmp_path / "slow-bin"
    bin_dir.mkdir()
    (bin_dir / "inspect").write_text(_SLOW_INSPECT.format(python=sys.executable))
    (bin_dir / "inspect").chmod(0o755)
    for name in ("module", "conda"):
        (bin_dir / name).write_text("#!/bin/bash\n")
        (bin_dir / name).chmod(0o755)
    cancelled = tmp_path / "cancelled.eval"
    write_eval_log(EvalLog(eval=EvalSpec(created="2026-11-28T13:02:44+00:00", task="t", dataset=EvalDataset(),
                                         model="hf/local", config=EvalConfig()), status="cancelled"), str(cancelled))
    started = tmp_path / "started"
    env = {**os.environ, "PATH": f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}",
           "INSPECT_LOG": str(cancelled), "STARTED": str(started)}
    output = tmp_path / "job.out"
    # A session of its own: whatever is left of it is killed at the end, as Slurm would.
    job = subprocess.Popen(["bash", str(script)], cwd=script.parent, env=env, stdout=output.open("w"),
                           stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(started.exists, "inspect to start", output=output)
        job.send_signal(getattr(signal, f"SIG{signal_name}"))
        failed = script.parent / "logs" / f".{script.stem}.failed"
        wait_for(failed.exists, "the failed mark", output=output)
        log = script.parent / "logs" / f"2026-11-28T13-05-00-00-00_{script.stem}_bbbbbbbbbbbbbbbbbbbbbb.eval"
        reason = ("Slurm warned that the time limit is 120 s away (SIGUSR1)" if signal_name == "USR1"
                  else "Slurm is ending the job (SIGTERM: preemption, scancel, or its time limit)")
        assert failed.read_text() == f"{reason}: {log} keeps the finished samples; submit_evals.sh --only-missing continues it\n"
        if signal_name == "USR1":
            # It then waits for Slurm to end it at the limit, so that sacct says TIMEOUT.
            assert job.poll() is None
            job.send_signal(signal.SIGTERM)
        assert job.wait(timeout=60) == 1, output.read_text()
    finally:
        try:
            os.killpg(job.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        job.wait()
    assert not (script.parent / "logs" / f".{script.stem}.complete").exists()
