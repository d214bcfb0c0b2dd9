"""Issue 19 on a real Slurm with accounting and real inspect: a cell that really exceeds its
time limit ends TIMEOUT, `submit_evals.sh --only-missing` resubmits it with twice the time,
and the new job continues the first job's log, keeping its samples; sacct's lines have the
form the tests' sacct stand-in gives (an OUT_OF_MEMORY this Slurm cannot produce)."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from tests.e2e.test_scripts_on_slurm import ENV_SETUP, dataset
from tests.e2e.test_submit_on_slurm import job_ids, submit_evals
from tests.experiment import SITE, Experiment, Run, Task
from tests.test_submit import SACCT_LINE

pytestmark = pytest.mark.e2e

SAMPLES = 120
# Each sample takes a second, one after the other (a blocking sleep holds inspect's event
# loop): in all longer than the first job's time, shorter than the second's.
SLOW_TASK = f'''
import time

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ModelOutput
from inspect_ai.scorer import exact
from inspect_ai.solver import solver


@solver
def slowly():
    async def solve(state, generate):
        time.sleep(1)
        state.output = ModelOutput.from_content("hf/local", state.input_text.upper())
        return state

    return solve


@task
def slow(data_path: str, prompt: str = "{{input}}", system_prompt: str = "", split: str = "test") -> Task:
    samples = [Sample(input=f"w{{i}}", target=f"W{{i}}", id=i) for i in range({SAMPLES})]
    return Task(dataset=MemoryDataset(samples), solver=slowly(), scorer=exact())
'''

BASE = "Llama-3.2-1B-Instruct_base"
FIRST_TIME = "0:04:00"  # Slurm's warning (120 s ahead, up to 60 s early) comes 60 to 120 s in


def accounted(cluster, job: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while (state := cluster.sacct_state(job)) in ("", "PENDING", "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.5)
    return state


def test_a_cell_over_its_time_ends_timeout_and_goes_again_with_twice_the_time_keeping_its_samples(
        render, cluster, tiny_model, tmp_path):
    task_file = tmp_path / "slow_task.py"
    task_file.write_text(SLOW_TASK)
    data = tmp_path / "data" / "words.json"
    data.parent.mkdir()
    data.write_bytes(dataset(tmp_path / "odd").read_bytes())
    experiment = Experiment(
        max_tokens="4",  # a random tiny model would fill inspect's default 2048 tokens
        runs=[Run(BASE, kind="Control")],
        models={"Llama-3.2-1B-Instruct": str(tiny_model)},
        tasks=[Task("slow", script=str(task_file))],
        dataset_path=str(data),
        site=SITE,
    )
    directory = render(experiment, env_setup=ENV_SETUP)
    script = directory / BASE / "eval" / "slow_base.slurm"
    # Rendered times are 30 minutes at least: this cell is given too little, as an estimate
    # that was too short gives it.
    text = script.read_text()
    assert re.search(r"^#SBATCH --time=\S+$", text, re.M)
    script.write_text(re.sub(r"^#SBATCH --time=\S+$", f"#SBATCH --time={FIRST_TIME}", text, flags=re.M))
    cell = f"{BASE}/eval/slow_base.slurm"
    logs = directory / BASE / "eval" / "logs"

    first = submit_evals(cluster, directory)
    assert first.returncode == 0, first.stdout + first.stderr
    first_job = job_ids(first.stdout)[cell]
    record = cluster.wait_for_job(first_job, timeout=600)
    assert record["JobState"] == "TIMEOUT", (record, (script.parent / f"slurm-{first_job}.out").read_text())
    assert accounted(cluster, first_job) == "TIMEOUT"
    failed = (logs / ".slow_base.failed").read_text()
    assert failed.startswith("Slurm warned that the time limit is 120 s away (SIGUSR1): ")
    (first_log,) = sorted(logs.glob("*_slow_base_*.eval"))
    kept = read_eval_log(str(first_log))
    assert kept.status == "cancelled"
    assert 0 < len(kept.samples) < SAMPLES, len(kept.samples)

    # Real sacct's lines have the form the stand-in of tests/test_submit.py gives.
    out = subprocess.run(
        ["sacct", "--noheader", "--parsable2", "--allocations", f"--jobs={first_job}",
         "--format=JobIDRaw,State,ReqMem,Timelimit,Partition,QOS,ReqCPUS"],
        env=cluster.env, capture_output=True, text=True, check=True).stdout
    (line,) = out.splitlines()
    assert re.fullmatch(SACCT_LINE, line), line
    assert line.split("|")[1:4] == ["TIMEOUT", "32G", "00:04:00"]

    dry = submit_evals(cluster, directory, "--only-missing", "--dry-run")
    assert "sbatch --time=0-00:08:00 slow_base.slurm" in dry.stdout, dry.stdout + dry.stderr
    again = submit_evals(cluster, directory, "--only-missing")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"retry      {cell}: job {first_job} ended TIMEOUT after 0-00:04:00: attempt 2 of 3 with --time=0-00:08:00" \
        in again.stdout.splitlines()
    second_job = job_ids(again.stdout)[cell]
    assert cluster.show_job(second_job)["TimeLimit"] == "00:08:00"
    record = cluster.wait_for_job(second_job, timeout=600)
    assert record["JobState"] == "COMPLETED", (record, (script.parent / f"slurm-{second_job}.out").read_text())
    assert (logs / ".slow_base.complete").exists()
    output = (script.parent / f"slurm-{second_job}.out").read_text()
    assert f"continuing {first_log} (status cancelled): its finished samples are kept" in output

    # The resumed log holds every sample; those the first job finished are the first job's,
    # not run again (the few it interrupted, logged as such, are run again).
    final_log = sorted(logs.glob("*_slow_base_*.eval"))[-1]
    final = read_eval_log(str(final_log))
    assert final.status == "success"
    assert len(final.samples) == SAMPLES
    assert all(sample.error is None and sample.scores for sample in final.samples)
    finished = [sample for sample in kept.samples if sample.error is None and sample.scores]
    assert len(finished) > len(kept.samples) / 2, (len(finished), len(kept.samples))
    first_samples = {sample.id: (sample.uuid, sample.started_at) for sample in finished}
    final_samples = {sample.id: (sample.uuid, sample.started_at) for sample in final.samples}
    assert {sample_id: final_samples[sample_id] for sample_id in first_samples} == first_samples
    assert final.eval.metadata["cell"] == "slow_base"
    print(f"first job: {len(finished)} of {SAMPLES} samples finished, {len(kept.samples) - len(finished)} interrupted;"
          f" the resumed job ran {SAMPLES - len(finished)}")

    assert accounted(cluster, second_job) == "COMPLETED"
    status = submit_evals(cluster, directory, "--status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.splitlines()[:3] == [
        f"done               {cell}",
        f"                   attempt 1: job {first_job} TIMEOUT, as its script asks",
        f"                   attempt 2: job {second_job} COMPLETED, --time=0-00:08:00",
    ]
