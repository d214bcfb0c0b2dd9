"""submit_evals.sh on a real single-node SLURM: evaluations chained to fine-tuning jobs.

Stand-in fine-tuning jobs sleep, then write the tiny model as their checkpoint (or fail);
submit_evals.sh must find them in squeue by the job name in each run's finetune.slurm.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from tests.e2e.test_scripts_on_slurm import ENV_SETUP, TASK_FILE, dataset
from tests.experiment import SITE, Experiment, Run, Task

pytestmark = pytest.mark.e2e

FINETUNE = """#!/bin/bash
#SBATCH --job-name=ft-{run}
#SBATCH --output=finetune-%j.out
#SBATCH --time=0:10:00
#SBATCH --mem=1G
# A stand-in for torchtune: a few seconds of "training", then the checkpoint (or a failure).
sleep 4
{finish}
"""


def finetune_script(run_dir: Path, run: str, checkpoint: Path, model: Path, succeeds: bool) -> Path:
    finish = (
        f"mkdir -p {shlex.quote(str(checkpoint.parent))} && cp -r {shlex.quote(str(model))} {shlex.quote(str(checkpoint))}"
        if succeeds
        else 'echo "out of memory" >&2; exit 1'
    )
    path = run_dir / "finetune.slurm"
    path.write_text(FINETUNE.format(run=run, finish=finish))
    return path


def submit_evals(cluster, directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(directory / "submit_evals.sh"), *args], env=cluster.env, capture_output=True, text=True
    )


def job_ids(output: str) -> dict[str, str]:
    """script -> job id, from submit_evals.sh's lines ("submitted  a/eval/x.slurm: job 12")."""
    return dict(re.findall(r"^(?:submitted|chained)\s+(\S+): job (\d+)", output, re.MULTILINE))


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_evaluations_wait_for_training_and_die_with_it(render, cluster, tiny_model, tmp_path):
    data = dataset(tmp_path / "data")
    checkpoints = tmp_path / "ck-outputs"
    experiment = Experiment(
        max_tokens="4",  # a random tiny model would fill inspect's default 2048 tokens
        runs=[
            Run(name, input_dir_base=str(data.parent), dataset_label=data.stem, output_dir_base=str(checkpoints))
            for name in ("good", "bad")
        ]
        + [Run("Llama-3.2-1B-Instruct_base", kind="Control")],
        models={"Llama-3.2-1B-Instruct": str(tiny_model)},
        tasks=[Task("capitalization", script=str(TASK_FILE))],
        dataset_path=str(data),
        site=SITE,
    )
    directory = render(experiment, env_setup=ENV_SETUP)
    training = {}
    for run, succeeds in (("good", True), ("bad", False)):
        script = finetune_script(directory / run, run, checkpoints / f"ck-out-{run}" / "epoch_0", tiny_model, succeeds)
        rc, training[run] = cluster.sbatch(script)
        assert rc == 0, training[run]

    result = submit_evals(cluster, directory)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = job_ids(result.stdout)
    assert f"after fine-tuning job {training['good']}" in result.stdout
    assert f"after fine-tuning job {training['bad']}" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "1 submitted now, 2 chained to fine-tuning, 0 already queued, 0 already done, 0 skipped,"
        " 0 waiting for a slot, 0 failed, 0 refused"
    )

    trained = cluster.wait_for_job(training["good"])
    good = cluster.wait_for_job(jobs["good/eval/capitalization_epoch0.slurm"], timeout=600)
    assert (good["JobState"], good["ExitCode"]) == ("COMPLETED", "0:0")
    assert good["Dependency"] in ("(null)", f"afterok:{training['good']}(unfulfilled)")
    assert when(good["StartTime"]) >= when(trained["EndTime"])
    base = cluster.wait_for_job(jobs["Llama-3.2-1B-Instruct_base/eval/capitalization_base.slurm"], timeout=600)
    assert (base["JobState"], base["ExitCode"]) == ("COMPLETED", "0:0")
    for run_dir in ("good", "Llama-3.2-1B-Instruct_base"):
        (log,) = (directory / run_dir / "eval" / "logs").glob("*.eval")
        assert read_eval_log(str(log), header_only=True).status == "success"

    assert cluster.wait_for_job(training["bad"])["JobState"] == "FAILED"
    orphan = cluster.wait_for_job(jobs["bad/eval/capitalization_epoch0.slurm"], timeout=120)
    assert orphan["JobState"] == "CANCELLED"
    assert not list((directory / "bad" / "eval" / "logs").glob("*.eval"))

    # Rerunning after the failure: nothing that finished is submitted again.
    again = submit_evals(cluster, directory, "--only-missing")
    assert job_ids(again.stdout) == {}
    assert "done       good/eval/capitalization_epoch0.slurm: already has a successful inspect log" in again.stdout
    # The orphan was cancelled before it ran: no checkpoint, no training job to wait for.
    assert again.stdout.splitlines()[-1] == (
        "0 submitted now, 0 chained to fine-tuning, 0 already queued, 2 already done, 1 skipped,"
        " 0 waiting for a slot, 0 failed, 0 refused"
    )

    (log,) = (directory / "good" / "eval" / "logs").glob("*.eval")
    log.unlink()
    once_more = submit_evals(cluster, directory, "--only-missing")
    assert list(job_ids(once_more.stdout)) == ["good/eval/capitalization_epoch0.slurm"]
    rerun = cluster.wait_for_job(job_ids(once_more.stdout)["good/eval/capitalization_epoch0.slurm"], timeout=600)
    assert rerun["JobState"] == "COMPLETED"
