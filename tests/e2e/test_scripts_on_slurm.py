"""The rendered scripts on a real single-node SLURM, running the real `inspect eval`.

The template is rendered with real Copier, with `env_setup` answered by the activation of
this virtual environment (as a site without modules or conda answers it). The scripts run
unchanged: real sbatch, real bash, real inspect, a tiny offline model.
"""

from __future__ import annotations

import csv
import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from tests.conftest import ROOT, scripts
from tests.experiment import SITE, Experiment, Run, Task

pytestmark = pytest.mark.e2e

TASK_FILE = ROOT / "examples/cap_1B_lora/cap_task.py"
# The task formats the prompt with str.format(input=...): its only braces are {input}.
PROMPT = 'Capitalize, then answer: "{input}"\n$HOME stays text'
SYSTEM_PROMPT = 'You are terse, exact: {{escaped braces}} "quoted" $PATH `ticks`\nsecond line'
ENV_SETUP = "\n".join([
    f"source {shlex.quote(str(Path(sys.executable).parent / 'activate'))}",
    # Max tokens comes from each summary (4: a random tiny model would fill inspect's default
    # 2048 tokens, slowly); an INSPECT_EVAL_MAX_TOKENS here would stop every job, as it should.
    "export INSPECT_DISPLAY=plain",
])
TIERS = {
    "Llama-3.2-1B-Instruct": "1B",
    "Llama-3.2-3B-Instruct": "3B",
    "Llama-3.1-8B-Instruct": "8B",
    "Llama-3.3-70B-Instruct": "70B",
}


def dataset(directory: Path) -> Path:
    """A small capitalization dataset, at a path with a comma, a colon, parentheses, quotes and $
    (a `{name}` in a path is a placeholder: docs/INPUTS.md)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / 'words, 5L: (v1) "q" $HOME.json'
    words = ["hello", "world", "sweep"]
    path.write_text(json.dumps({"test": [{"input": w, "output": w.upper()} for w in words]}))
    return path


def seconds(duration: str) -> int:
    """Seconds in a Slurm duration, [D-]HH:MM:SS."""
    days, _, clock = duration.rpartition("-")
    hours, minutes, secs = (int(part) for part in clock.split(":"))
    return int(days or 0) * 86400 + hours * 3600 + minutes * 60 + secs


def test_every_tier_and_account_passes_sbatch_test_only(render, cluster, tmp_path):
    experiment = Experiment(
        max_tokens="4",  # a random tiny model would fill inspect's default 2048 tokens
        runs=[
            Run(f"r_{tier}", model=model, account="lab" if tier in ("3B", "70B") else None)
            for model, tier in TIERS.items()
        ]
        + [Run("Llama-3.3-70B-Instruct_base", model="Llama-3.3-70B-Instruct", kind="Base")],
        models={model: f"/models/{model}" for model in TIERS},
    )
    paths = scripts(render(experiment)) + scripts(render(ROOT / "examples/cap_1B_lora"))
    assert len(paths) == 5 + 8
    headers = "".join(p.read_text().split("\n# Rendered")[0] for p in paths)
    for expected in ("--gres=gpu:4", "--mem=256G", "--constraint=gpu80", "--account=lab", "--cpus-per-task=8"):
        assert expected in headers
    for path in paths:
        result = cluster.test_only(path)
        assert result.returncode == 0, (path, result.stderr)


def test_sbatch_test_only_can_fail(render, cluster, tmp_path):
    (script,) = scripts(render(Experiment(max_tokens="4")))
    greedy = script.with_name("greedy.slurm")
    greedy.write_text(script.read_text().replace("--gres=gpu:1", "--gres=gpu:5"))
    result = cluster.test_only(greedy)
    assert result.returncode != 0
    assert "Requested node configuration is not available" in result.stderr


def sbatch_wait(cluster, script: Path) -> subprocess.Popen:
    """`sbatch --wait` from the script's directory, as a user submits it."""
    return subprocess.Popen(
        ["sbatch", "--parsable", "--wait", script.name],
        cwd=script.parent, env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_fine_tuned_base_and_70b_cells_run_the_real_inspect_eval(render, cluster, tiny_model, tmp_path):
    data = dataset(tmp_path / "data")
    checkpoints = tmp_path / "ck-outputs"
    experiment = Experiment(
        max_tokens="4",  # a random tiny model would fill inspect's default 2048 tokens
        runs=[
            Run("r8", prompt=PROMPT, system_prompt=SYSTEM_PROMPT, input_dir_base=str(data.parent),
                dataset_label=data.stem, output_dir_base=str(checkpoints)),
            Run("r70", model="Llama-3.3-70B-Instruct", prompt=PROMPT, system_prompt="",
                input_dir_base=str(data.parent), dataset_label=data.stem, output_dir_base=str(checkpoints)),
            Run("Llama-3.2-1B-Instruct_base", kind="Control"),
        ],
        models={"Llama-3.2-1B-Instruct": str(tiny_model), "Llama-3.3-70B-Instruct": "/unused/70B"},
        tasks=[Task("capitalization", script=str(TASK_FILE))],
        dataset_path=str(data),
        training_prompt=PROMPT,
        training_system_prompt=SYSTEM_PROMPT,
        eval_system_prompt=SYSTEM_PROMPT,
        site=SITE,
    )
    for run in ("r8", "r70"):
        shutil.copytree(tiny_model, checkpoints / f"ck-out-{run}" / "epoch_0")
    directory = render(experiment, env_setup=ENV_SETUP)
    cells = {
        "r8": (directory / "r8/eval/capitalization_epoch0.slurm", SYSTEM_PROMPT, checkpoints / "ck-out-r8/epoch_0"),
        "r70": (directory / "r70/eval/capitalization_epoch0.slurm", "", checkpoints / "ck-out-r70/epoch_0"),
        "base": (directory / "Llama-3.2-1B-Instruct_base/eval/capitalization_base.slurm", SYSTEM_PROMPT, tiny_model),
    }
    assert "-M device=auto" in cells["r70"][0].read_text()
    submitted = {name: sbatch_wait(cluster, script) for name, (script, _, _) in cells.items()}
    job_ids = {}
    for name, process in submitted.items():
        out, err = process.communicate(timeout=600)
        script, system_prompt, model_path = cells[name]
        job_id = out.strip().split(";")[0]
        job_ids[name] = job_id
        assert process.returncode == 0, (name, err, (script.parent / f"slurm-{job_id}.out").read_text())
        record = cluster.show_job(job_id)
        assert (record["JobState"], record["ExitCode"]) == ("COMPLETED", "0:0"), record
        output = script.parent / f"slurm-{job_id}.out"
        assert output.read_text().rstrip().endswith("Evaluation complete")
        (log_path,) = (script.parent / "logs").glob("*.eval")
        assert f"_{script.stem}_" in log_path.name
        log = read_eval_log(str(log_path))
        assert log.status == "success"
        assert log.eval.task_args_passed == {"data_path": str(data), "prompt": PROMPT, "system_prompt": system_prompt}
        assert log.eval.model_args["model_path"] == str(model_path)
        assert len(log.samples) == 3
    assert read_eval_log(str(next((directory / "r70/eval/logs").glob("*.eval")))).eval.model_args["device"] == "auto"

    # The tree's own collect_results.py reads what the jobs logged (this venv has inspect-ai).
    collected = subprocess.run(
        [str(directory / "collect_results.py")], capture_output=True, text=True,
        env={**cluster.env, "PATH": f"{Path(sys.executable).parent}:{cluster.env['PATH']}"},
    )
    assert collected.returncode == 0, collected.stderr  # every cell succeeded
    with (directory / "results/results.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(row["run"], row["epoch"], row["status"]) for row in rows] == [
        ("r8", "0", "success"), ("r70", "0", "success"), ("Llama-3.2-1B-Instruct_base", "", "success")]
    for row in rows:
        header = read_eval_log(str(directory / row["log"]), header_only=True)
        assert float(row["exact/mean"]) == header.results.scores[0].metrics["mean"].value
        assert int(row["samples"]) == 3

    # What each job cost, as the jobs recorded it on the real Slurm: one attempt each, under
    # its Slurm job id, that succeeded; the recommendation rests on those jobs.
    with (directory / "results/compute.csv").open(newline="") as file:
        compute = {row["run"]: row for row in csv.DictReader(file)}
    runs = {"r8": "r8", "r70": "r70", "base": "Llama-3.2-1B-Instruct_base"}
    for name, run in runs.items():
        row = compute[run]
        assert (row["attempts"], row["job"], row["outcome"]) == ("1", job_ids[name], "success"), row
        assert 0 <= int(row["elapsed_s"]) < 600, row
    text = (directory / "results/compute.md").read_text()
    assert "from 2 successful evaluations" in text and "from 1 successful evaluation " in text, text


def test_a_script_submitted_before_its_checkpoint_exists_stops_at_once(render, cluster, tmp_path):
    experiment = Experiment(runs=[Run("r1", output_dir_base=str(tmp_path / "not-trained-yet"))], site=SITE, max_tokens="4")
    (script,) = scripts(render(experiment, env_setup=ENV_SETUP))
    start = time.monotonic()
    process = sbatch_wait(cluster, script)
    out, err = process.communicate(timeout=300)
    job_id = out.strip().split(";")[0]
    assert process.returncode == 1
    record = cluster.show_job(job_id)
    assert (record["JobState"], record["ExitCode"]) == ("FAILED", "1:0")
    assert seconds(record["RunTime"]) < 10  # no inspect start-up, no model load
    output = (script.parent / f"slurm-{job_id}.out").read_text()
    assert f"{tmp_path}/not-trained-yet/ck-out-r1/epoch_0 does not exist" in output
    assert not list((script.parent / "logs").glob("*.eval"))
    assert time.monotonic() - start < 120
