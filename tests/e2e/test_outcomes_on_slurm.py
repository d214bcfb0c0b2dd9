"""Issue 9 on a real SLURM with accounting and real inspect: an erroring task is FAILED (in
sacct too) and resubmitted alone, a second pass while jobs are pending submits nothing, and
a QOS limit of 3 jobs per user, met as Slurm's own refusal and read with sacctmgr, holds
cells back until --watch gets all 8 through."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.cluster import PARTITION
from tests.e2e.test_scripts_on_slurm import ENV_SETUP, TASK_FILE, dataset
from tests.e2e.test_submit_on_slurm import finetune_script, job_ids, submit_evals
from tests.experiment import SITE, Experiment, Run, Task

pytestmark = pytest.mark.e2e

BROKEN_TASK = '''
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import exact
from inspect_ai.solver import solver


@solver
def explode():
    async def solve(state, generate):
        raise RuntimeError("the broken solver raised on purpose")

    return solve


@task
def broken(data_path: str, prompt: str = "{input}", system_prompt: str = "", split: str = "test") -> Task:
    return Task(dataset=MemoryDataset([Sample(input="x", target="X")]), solver=explode(), scorer=exact())
'''

BASE = "Llama-3.2-1B-Instruct_base"


def test_an_erroring_task_fails_and_only_it_is_resubmitted(render, cluster, tiny_model, tmp_path):
    broken = tmp_path / "broken_task.py"
    broken.write_text(BROKEN_TASK)
    # A plain path: with only a base run, the summary's Resources -> Dataset -> Path is read.
    data = tmp_path / "data" / "words.json"
    data.parent.mkdir()
    data.write_bytes(dataset(tmp_path / "odd").read_bytes())
    experiment = Experiment(
        max_tokens="4",  # a random tiny model would fill inspect's default 2048 tokens
        runs=[Run(BASE, kind="Control")],
        models={"Llama-3.2-1B-Instruct": str(tiny_model)},
        tasks=[Task("capitalization", script=str(TASK_FILE)), Task("broken", script=str(broken))],
        dataset_path=str(data),
        site=SITE,
    )
    directory = render(experiment, env_setup=ENV_SETUP)
    first = submit_evals(cluster, directory)
    assert first.returncode == 0, first.stdout + first.stderr
    jobs = job_ids(first.stdout)
    assert set(jobs) == {f"{BASE}/eval/capitalization_base.slurm", f"{BASE}/eval/broken_base.slurm"}

    good = cluster.wait_for_job(jobs[f"{BASE}/eval/capitalization_base.slurm"], timeout=600)
    bad = cluster.wait_for_job(jobs[f"{BASE}/eval/broken_base.slurm"], timeout=600)
    assert good["JobState"] == "COMPLETED"
    assert (bad["JobState"], bad["ExitCode"]) == ("FAILED", "1:0")
    logs = directory / BASE / "eval" / "logs"
    assert (logs / ".capitalization_base.complete").exists()
    assert not (logs / ".broken_base.complete").exists()
    assert "the broken solver raised on purpose" in (logs / ".broken_base.failed").read_text()
    bad_job = jobs[f"{BASE}/eval/broken_base.slurm"]
    assert accounted(cluster, bad_job) == "FAILED"

    status = submit_evals(cluster, directory, "--status")
    assert status.returncode == 1, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    (failed,) = [line for line in lines if line.startswith("failed ")]
    assert f"{BASE}/eval/broken_base.slurm: job {bad_job} FAILED: {logs}/" in failed
    assert "status error: RuntimeError('the broken solver raised on purpose')" in failed
    (done,) = [line for line in lines if line.startswith("done ")]
    assert f"{BASE}/eval/capitalization_base.slurm" in done

    # The task raised: it would raise again, so it is held back unless asked (issue 19).
    held = submit_evals(cluster, directory, "--only-missing")
    assert held.returncode == 8, held.stdout + held.stderr
    assert job_ids(held.stdout) == {}, held.stdout
    assert f"HELD       {BASE}/eval/broken_base.slurm: its task raised" in held.stdout
    again = submit_evals(cluster, directory, "--only-missing", "--retry-errors")
    assert list(job_ids(again.stdout)) == [f"{BASE}/eval/broken_base.slurm"], again.stdout + again.stderr
    cluster.wait_for_job(job_ids(again.stdout)[f"{BASE}/eval/broken_base.slurm"], timeout=600)


def accounted(cluster, job: str, timeout: float = 30) -> str:
    """The job's final state in sacct: slurmctld reports a job's end to slurmdbd a moment later."""
    deadline = time.monotonic() + timeout
    while (state := cluster.sacct_state(job)) in ("", "PENDING", "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.5)
    return state


def eight_cells(render, tiny_model, tmp_path, checkpoints: Path, trained: bool) -> Path:
    """4 runs x 2 tasks: 8 cells, their checkpoints written now (trained) or by training."""
    data = dataset(tmp_path / "data")
    runs = [f"r{i}" for i in range(4)]
    experiment = Experiment(
        max_tokens="4",  # a random tiny model would fill inspect's default 2048 tokens
        runs=[
            Run(name, input_dir_base=str(data.parent), dataset_label=data.stem, output_dir_base=str(checkpoints))
            for name in runs
        ],
        models={"Llama-3.2-1B-Instruct": str(tiny_model)},
        tasks=[Task("capitalization", script=str(TASK_FILE)), Task("capitalization_6L", script=str(TASK_FILE))],
        dataset_path=str(data),
        site=SITE,
    )
    directory = render(experiment, env_setup=ENV_SETUP)
    if trained:
        for run in runs:
            target = checkpoints / f"ck-out-{run}" / "epoch_0"
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-r", str(tiny_model), str(target)], check=True)
    return directory


def test_a_second_pass_while_jobs_are_pending_submits_nothing(render, cluster, tiny_model, tmp_path):
    checkpoints = tmp_path / "ck-outputs"
    directory = eight_cells(render, tiny_model, tmp_path, checkpoints, trained=False)
    training = []
    for i in range(4):
        script = finetune_script(directory / f"r{i}", f"r{i}", checkpoints / f"ck-out-r{i}" / "epoch_0", tiny_model, True)
        # Held: the cells stay pending on their dependency for as long as the test needs.
        rc, job = cluster.sbatch(script, "--hold")
        assert rc == 0, job
        training.append(job)
    try:
        first = submit_evals(cluster, directory)
        assert first.returncode == 0, first.stdout + first.stderr
        assert len(job_ids(first.stdout)) == 8
        second = submit_evals(cluster, directory)
        assert second.returncode == 0, second.stdout + second.stderr
        assert job_ids(second.stdout) == {}, second.stdout
        assert second.stdout.splitlines()[-1].startswith("0 submitted now, 0 chained to fine-tuning, 8 already queued")
        missing = submit_evals(cluster, directory, "--only-missing")
        assert job_ids(missing.stdout) == {}, missing.stdout
    finally:
        cluster.command("scancel", *training, *job_ids(first.stdout).values())


def test_slurms_own_job_limit_is_met_and_watch_gets_all_8_cells_through(render, cluster, tiny_model, tmp_path):
    directory = eight_cells(render, tiny_model, tmp_path, tmp_path / "ck-outputs", trained=True)
    cluster.set_qos_limit(3)
    # While the partition is down, jobs queue but do not start: the queue holds still.
    cluster.command("scontrol", "update", f"partitionname={PARTITION}", "state=down")
    try:
        # A pass told it may queue 8 meets Slurm's refusal of the fourth, and stops there.
        first = submit_evals(cluster, directory, "--max-jobs", "8")
        assert first.returncode == 5, first.stdout + first.stderr
        assert len(job_ids(first.stdout)) == 3
        assert "for a job limit: sbatch: error: QOSMaxSubmitJobPerUserLimit" in first.stderr
        assert not [line for line in first.stdout.splitlines() if line.startswith("FAILED")]
        assert "job limit reached: 5 cells are waiting for a slot" in first.stdout

        # A plain pass reads the limit with sacctmgr, and submits nothing twice.
        plain = submit_evals(cluster, directory)
        assert plain.returncode == 5, plain.stdout + plain.stderr
        assert job_ids(plain.stdout) == {}
        assert "(3 of your jobs are queued; the limit is 3 (sacctmgr, QOS normal))" in plain.stdout
        assert plain.stdout.splitlines()[-1].startswith("0 submitted now, 0 chained to fine-tuning, 3 already queued")
        status = submit_evals(cluster, directory, "--status")
        assert status.returncode == 6, status.stdout
        assert status.stdout.splitlines()[-1] == (
            "8 cells: 0 done, 0 stale, 0 failed, 0 running, 3 pending, 5 not submitted, 0 checkpoint missing")
    finally:
        cluster.command("scontrol", "update", f"partitionname={PARTITION}", "state=up")
    try:
        watch = subprocess.run(
            [str(directory / "submit_evals.sh"), "--watch", "2"],
            env=cluster.env, capture_output=True, text=True, timeout=900,
        )
    finally:
        cluster.set_qos_limit(None)
    assert watch.returncode == 0, watch.stdout + watch.stderr
    assert len(job_ids(watch.stdout)) == 5
    assert not set(job_ids(watch.stdout)) & set(job_ids(first.stdout))
    for job in [*job_ids(first.stdout).values(), *job_ids(watch.stdout).values()]:
        assert cluster.wait_for_job(job, timeout=600)["JobState"] == "COMPLETED"
        assert accounted(cluster, job) == "COMPLETED"
    status = submit_evals(cluster, directory, "--status")
    assert status.returncode == 0, status.stdout
    assert sum(line.startswith("done ") for line in status.stdout.splitlines()) == 8
