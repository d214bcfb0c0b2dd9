"""submit_evals.sh: what it submits, when, with which dependency, and what it skips.

`sbatch` and `squeue` are recorders here (this machine has no cluster); `make e2e` runs the
same script against a real single-node Slurm.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.experiment import SITE, Experiment, Run, Task

_SBATCH = """#!/usr/bin/env python3
import json, os, sys
state = os.environ["RECORD_DIR"]
with open(os.path.join(state, "sbatch.jsonl"), "a") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}) + "\\n")
if os.environ.get("SBATCH_FAILS"):
    sys.exit("sbatch: error: Batch job submission failed")
count = sum(1 for _ in open(os.path.join(state, "sbatch.jsonl")))
print(1000 + count)
"""
_SQUEUE = """#!/usr/bin/env python3
# Answers `squeue -n NAME -o %i` from the JOBS environment variable: {"name": [ids]}.
import json, os, sys
name = sys.argv[sys.argv.index("-n") + 1]
for job in json.loads(os.environ.get("JOBS", "{}")).get(name, []):
    print(job)
"""


@pytest.fixture
def slurm(tmp_path):
    bin_dir = tmp_path / "slurm-bin"
    bin_dir.mkdir()
    for name, text in (("sbatch", _SBATCH), ("squeue", _SQUEUE)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return bin_dir


@pytest.fixture
def experiment_dir(render, tmp_path) -> Path:
    """Run a has its checkpoints; b is still training (job named b-train); c has neither."""
    checkpoints = tmp_path / "ck"
    experiment = Experiment(
        runs=[Run(name, epochs=2, output_dir_base=str(checkpoints)) for name in ("a", "b", "c")]
        + [Run("m_base", kind="Base")],
        tasks=[Task("t1"), Task("t2")],
        plan_text="Evaluate every epoch.",
        site=SITE,
    )
    for epoch in (0, 1):
        (checkpoints / "ck-out-a" / f"epoch_{epoch}").mkdir(parents=True)
    directory = render(experiment)
    (directory / "b" / "finetune.slurm").write_text("#!/bin/bash\n#SBATCH --job-name=b-train\n#SBATCH --time=1:00:00\n")
    return directory


def submit(directory: Path, slurm: Path, *args: str, jobs: dict | None = None, fail: bool = False):
    records = directory.parent / "records"
    records.mkdir(exist_ok=True)
    (records / "sbatch.jsonl").write_text("")
    env = {
        **os.environ,
        "PATH": f"{slurm}:{os.environ['PATH']}",
        "RECORD_DIR": str(records),
        "JOBS": json.dumps(jobs or {}),
    }
    if fail:
        env["SBATCH_FAILS"] = "1"
    result = subprocess.run(
        [str(directory / "submit_evals.sh"), *args], capture_output=True, text=True, env=env, cwd="/"
    )
    calls = [json.loads(line) for line in (records / "sbatch.jsonl").read_text().splitlines()]
    return result, calls


def submitted(calls: list[dict], directory: Path) -> list[tuple[str, list[str]]]:
    return [
        (f"{Path(call['cwd']).relative_to(directory)}/{call['argv'][-1]}", call["argv"][:-1])
        for call in calls
    ]


NOW = ["--parsable"]


def test_submits_ready_cells_chains_training_ones_and_skips_the_rest(experiment_dir, slurm):
    result, calls = submit(experiment_dir, slurm, jobs={"b-train": [77, 78]})
    assert result.returncode == 0, result.stderr
    chain = ["--parsable", "--dependency=afterok:78", "--kill-on-invalid-dep=yes"]
    assert submitted(calls, experiment_dir) == [
        ("a/eval/t1_epoch0.slurm", NOW),
        ("a/eval/t1_epoch1.slurm", NOW),
        ("a/eval/t2_epoch0.slurm", NOW),
        ("a/eval/t2_epoch1.slurm", NOW),
        ("b/eval/t1_epoch0.slurm", chain),
        ("b/eval/t1_epoch1.slurm", chain),
        ("b/eval/t2_epoch0.slurm", chain),
        ("b/eval/t2_epoch1.slurm", chain),
        ("m_base/eval/t1_base.slurm", NOW),
        ("m_base/eval/t2_base.slurm", NOW),
    ]
    lines = result.stdout.splitlines()
    assert "submitted  a/eval/t1_epoch0.slurm: job 1001" in lines
    assert "chained    b/eval/t1_epoch0.slurm: job 1005, after fine-tuning job 78" in lines
    assert sum(line.startswith("skipped    c/eval/") for line in lines) == 4
    assert "no pending or running fine-tuning job named c was found (use --after c=JOBID)" in result.stdout
    assert lines[-1] == "6 submitted now, 4 chained to fine-tuning, 4 skipped, 0 failed"


def test_a_job_id_on_the_command_line_chains_a_run(experiment_dir, slurm):
    result, calls = submit(experiment_dir, slurm, "--run", "c", "--after", "c=555")
    assert result.returncode == 0
    assert {tuple(argv) for _, argv in submitted(calls, experiment_dir)} == {
        ("--parsable", "--dependency=afterok:555", "--kill-on-invalid-dep=yes")
    }
    assert len(calls) == 4


def test_dry_run_submits_nothing(experiment_dir, slurm):
    result, calls = submit(experiment_dir, slurm, "--dry-run", jobs={"b-train": [78]})
    assert result.returncode == 0
    assert calls == []
    assert f"dry-run    cd {experiment_dir}/b/eval && sbatch --dependency=afterok:78 --kill-on-invalid-dep=yes t1_epoch0.slurm" in result.stdout
    assert f"dry-run    cd {experiment_dir}/a/eval && sbatch t1_epoch0.slurm" in result.stdout


def test_filters_by_run_task_and_epoch_never_submit_a_cell_twice(experiment_dir, slurm):
    result, calls = submit(experiment_dir, slurm, "--run", "a", "--run", "a", "--task", "t2", "--epoch", "1", "--epoch", "base")
    assert result.returncode == 0
    assert submitted(calls, experiment_dir) == [("a/eval/t2_epoch1.slurm", NOW)]
    result, calls = submit(experiment_dir, slurm, "--epoch", "base")
    assert [name for name, _ in submitted(calls, experiment_dir)] == ["m_base/eval/t1_base.slurm", "m_base/eval/t2_base.slurm"]


def test_only_missing_skips_cells_with_a_finished_log(experiment_dir, slurm):
    logs = experiment_dir / "a" / "eval" / "logs"
    (logs / ".t1_epoch0.complete").touch()
    log = logs / "2026-11-28T13-02-44-00-00_t1_epoch0_mhfs6WepoxGqhXmaGWDxgi.eval"
    log.write_bytes(b"PK")
    # Another cell whose name ends the same way must not count.
    (logs / ".t1_epoch1.complete").touch()
    (logs / "2026-11-28T13-02-44-00-00_xt1_epoch1_abc.eval").write_bytes(b"PK")
    result, calls = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1")
    assert [name for name, _ in submitted(calls, experiment_dir)] == ["a/eval/t1_epoch1.slurm"]
    assert "skipped    a/eval/t1_epoch0.slurm: already has a finished inspect log" in result.stdout
    log.unlink()
    result, calls = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1")
    assert len(calls) == 2


def test_a_failed_sbatch_fails_the_whole_call(experiment_dir, slurm):
    result, calls = submit(experiment_dir, slurm, "--run", "m_base", fail=True)
    assert result.returncode == 1
    assert len(calls) == 2
    assert "FAILED     m_base/eval/t1_base.slurm: sbatch failed" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 submitted now, 0 chained to fine-tuning, 0 skipped, 2 failed"


@pytest.mark.parametrize("args", [["--bogus"], ["--after", "c"], ["--run"]])
def test_bad_options_exit_2(experiment_dir, slurm, args):
    result, calls = submit(experiment_dir, slurm, *args)
    assert result.returncode == 2
    assert calls == []
