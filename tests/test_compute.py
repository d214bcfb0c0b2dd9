"""What each evaluation cost: the cell script's start/end record and nvidia-smi samples, and
collect_results.py's compute.csv, compute.md and elapsed plot made from them (issue 19, item 3);
each job's own Hugging Face datasets cache (item 4).

The scripts run under real bash with a stand-in nvidia-smi on PATH that answers the script's
query as the real one does with `--format=csv` (a header with units in brackets, then one line
per GPU: `2026/12/04 05:10:00.123, 0, 87 %, 15360 MiB, 81920 MiB`). collect_results.py then
reads the files those runs wrote.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from inspect_ai.log import EvalConfig, EvalDataset, EvalError, EvalLog, EvalSpec, write_eval_log

from extensions import protocol
from tests.conftest import run_script, scripts
from tests.experiment import SITE, Experiment, Run

# What the real nvidia-smi prints for GPU_QUERY with --format=csv (units in the header and the
# values; [N/A] where a MIG slice has no utilisation), once as a header, then per sample one
# line per GPU.
HEADER = "timestamp, index, utilization.gpu [%], memory.used [MiB], memory.total [MiB]"
SAMPLES = [
    "2026/12/04 05:10:00.123, 0, 40 %, 10240 MiB, 81920 MiB",
    "2026/12/04 05:10:00.125, 1, [N/A], 2048 MiB, 81920 MiB",
    "2026/12/04 05:10:05.130, 0, 90 %, 15360 MiB, 81920 MiB",
    "2026/12/04 05:10:05.131, 1, 50 %, 4096 MiB, 81920 MiB",
]

# Refuses any query but the one the real nvidia-smi was checked to answer in this format;
# prints the samples, says it is running, then waits to be killed, as `-l` does.
NVIDIA_SMI = f"""#!/bin/bash
[ "$1" = --query-gpu={protocol.GPU_QUERY} ] && [ "$2" = --format=csv ] && [ "$3" = -l ] && [ "$4" = {protocol.GPU_INTERVAL} ] && [ $# = 4 ] || {{
  echo "stand-in nvidia-smi: unexpected arguments: $*" >&2; exit 2; }}
echo '{HEADER}'
cat "$GPU_LINES"
echo $$ > "$RECORD_DIR/nvidia-smi.pid"
exec sleep 600
"""

# In front of the inspect recorder: waits (for an event, bounded) until the sampler has
# written its samples, records the datasets cache it was given, and with BLOCK_INSPECT stays
# running until it is signalled, as a long eval does.
INSPECT = """#!/bin/bash
if [ -n "${GPU_LINES:-}" ]; then
  for _ in $(seq 600); do [ -s "$RECORD_DIR/nvidia-smi.pid" ] && break; sleep 0.05; done
fi
{ echo "$HF_DATASETS_CACHE"; [ -d "$HF_DATASETS_CACHE" ] && echo exists; } > "$RECORD_DIR/datasets-cache"
if [ -n "${BLOCK_INSPECT:-}" ]; then
  echo $$ > "$RECORD_DIR/inspect.pid"
  exec sleep 600
fi
exec "$RECORDER" "$@"
"""


@pytest.fixture
def experiment(render, tmp_path) -> Path:
    checkpoints = tmp_path / "ck"
    (checkpoints / "ck-out-r1" / "epoch_0").mkdir(parents=True)
    return render(Experiment(runs=[Run("r1", output_dir_base=str(checkpoints))], site=SITE))


@pytest.fixture
def logs(experiment, tmp_path) -> dict[str, Path]:
    """A successful and a failed log of the experiment's one cell, written by inspect, with
    the header metadata its script gives them (collect_results.py takes no other)."""
    directory = tmp_path / "logs"
    directory.mkdir()
    plan = yaml.safe_load((experiment / ".copier-answers.yml").read_text(encoding="utf-8"))["plan"]
    ((cell,),) = [run["cells"] for run in plan["runs"]]
    spec = EvalSpec(created="2026-12-04T05:10:00+00:00", task="capitalization", dataset=EvalDataset(),
                    model="hf/local", config=EvalConfig(), metadata=cell["metadata"])
    made = {}
    for status in ("success", "error"):
        error = EvalError(message="boom", traceback="Traceback ...", traceback_ansi="") if status == "error" else None
        made[status] = directory / f"{status}.eval"
        write_eval_log(EvalLog(eval=spec, status=status, error=error), str(made[status]))
    return made


@pytest.fixture
def gpu_path(tmp_path, recorders) -> tuple:
    """recorders with the stand-in nvidia-smi and the waiting inspect in front."""
    bin_dir, record_dir = recorders
    front = tmp_path / "front"
    front.mkdir()
    for name, text in (("nvidia-smi", NVIDIA_SMI), ("inspect", INSPECT)):
        (front / name).write_text(text)
        (front / name).chmod((front / name).stat().st_mode | stat.S_IXUSR)
    for name in ("module", "conda"):  # run_script puts one directory first on PATH: this one
        (front / name).symlink_to(bin_dir / name)
    lines = tmp_path / "gpu-lines"
    lines.write_text("\n".join(SAMPLES) + "\n")
    return front, bin_dir, record_dir, lines


def run_cell(script: Path, gpu_path, job: str, log: Path, with_gpu: bool = True):
    front, bin_dir, record_dir, lines = gpu_path
    (record_dir / "nvidia-smi.pid").unlink(missing_ok=True)
    env = {"SLURM_JOB_ID": job, "INSPECT_LOG": str(log), "RECORDER": str(bin_dir / "inspect")}
    if with_gpu:
        env["GPU_LINES"] = str(lines)
    else:  # nvidia-smi must then be nowhere on PATH
        assert subprocess.run(["bash", "-c", "command -v nvidia-smi"], capture_output=True).returncode != 0
        (front / "nvidia-smi").unlink(missing_ok=True)
    started = int(time.time())
    result, _ = run_script(script, (front, record_dir), **env)
    return result, started, int(time.time())


def cell_file(script: Path, experiment: Path, key: str, job: str) -> Path:
    run_dir = script.parent.parent.name
    path = getattr(protocol, key)(run_dir, script.stem)
    return experiment / path.replace(protocol.JOB_ID, job)


def times(path: Path) -> list[dict]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_job_records_its_start_and_end_and_nvidia_smis_samples(experiment, gpu_path, logs):
    (script,) = scripts(experiment)
    result, before, after = run_cell(script, gpu_path, "4242", logs["success"])
    assert result.returncode == 0, result.stderr
    record_dir = gpu_path[2]

    lines = times(cell_file(script, experiment, "job_times", "4242"))
    assert [line["event"] for line in lines] == ["start", "end"]
    start, end = (int(line["epoch_seconds"]) for line in lines)
    # The start is the script's own (SECONDS), the end after inspect: both within the run.
    assert before - 1 <= start <= end <= after
    for line in lines:
        assert datetime.fromisoformat(line["iso_utc"]).timestamp() == int(line["epoch_seconds"])
        assert line["job"] == "4242" and line["host"]
    assert [line["outcome"] for line in lines] == ["", "success"]

    samples = cell_file(script, experiment, "gpu_samples", "4242").read_text()
    assert samples == HEADER + "\n" + "\n".join(SAMPLES) + "\n"
    # The trap stopped the sampler when the job ended.
    assert gone(int((record_dir / "nvidia-smi.pid").read_text()))

    # The exit trap set before, which removes the task config, still ran after this one.
    (record,) = [json.loads(line) for line in (record_dir / "inspect.jsonl").read_text().splitlines()]
    assert not Path(record["argv"][record["argv"].index("--task-config") + 1]).exists()

    # inspect ran with the job's own datasets cache, which is gone now.
    cache, exists = (record_dir / "datasets-cache").read_text().splitlines()
    assert exists == "exists" and not Path(cache).exists()
    assert Path(cache).parent == Path(os.environ.get("TMPDIR", "/tmp"))


def test_without_nvidia_smi_the_times_are_still_recorded(experiment, gpu_path, logs):
    (script,) = scripts(experiment)
    result, _, _ = run_cell(script, gpu_path, "7", logs["error"], with_gpu=False)
    assert result.returncode == 1
    assert [line["outcome"] for line in times(cell_file(script, experiment, "job_times", "7"))] == ["", "failed"]
    assert not cell_file(script, experiment, "gpu_samples", "7").exists()


def signalled_job(script: Path, gpu_path, job_id: str, signum: int) -> int:
    """Runs the cell's job until its eval runs, then signals every process of it, as Slurm
    does at a time limit (SIGTERM, and SIGKILL after its grace time); the job's exit status."""
    front, bin_dir, record_dir, lines = gpu_path
    env = {**os.environ, "PATH": f"{front}:{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}",
           "RECORD_DIR": str(record_dir), "SLURM_JOB_ID": job_id, "GPU_LINES": str(lines), "BLOCK_INSPECT": "1",
           "RECORDER": str(bin_dir / "inspect")}
    job = subprocess.Popen(["bash", str(script)], cwd=script.parent, env=env, start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):  # the event: the eval is running
            if (record_dir / "inspect.pid").exists() and (record_dir / "inspect.pid").read_text().strip():
                break
            assert job.poll() is None, job.communicate()
            time.sleep(0.05)
        # Slurm signals every process of the job (its cgroup), inspect's process group too.
        os.killpg(job.pid, signum)
        try:
            os.kill(int((record_dir / "inspect.pid").read_text()), signum)
        except ProcessLookupError:
            pass
        job.communicate(timeout=60)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    return job.returncode


def test_a_job_signalled_as_slurm_does_records_its_end(experiment, gpu_path, logs):
    """At its time limit Slurm signals every process of the job: the exit trap still writes
    the end (failed) and stops the sampler."""
    (script,) = scripts(experiment)
    assert signalled_job(script, gpu_path, "99", signal.SIGTERM) != 0
    recorded = times(cell_file(script, experiment, "job_times", "99"))
    assert [(line["event"], line["outcome"]) for line in recorded] == [("start", ""), ("end", "failed")]
    assert gone(int((gpu_path[2] / "nvidia-smi.pid").read_text()))


def test_a_job_killed_outright_counts_as_an_attempt_without_an_end(experiment, gpu_path, logs):
    """SIGKILL leaves no trap to run: the start alone. compute.csv says so, and the job is
    not a measurement the recommendation may use."""
    (script,) = scripts(experiment)
    assert signalled_job(script, gpu_path, "98", signal.SIGKILL) == -signal.SIGKILL
    assert [line["event"] for line in times(cell_file(script, experiment, "job_times", "98"))] == ["start"]

    assert collect(experiment).returncode == 1
    row = compute_csv(experiment)[script.stem]
    assert (row["attempts"], row["job"], row["outcome"], row["elapsed_s"]) == ("1", "98", "no end recorded", "")
    assert row["gpu_samples"] == "4"  # what the sampler wrote before it was killed with the job
    text = (experiment / "results" / "compute.md").read_text()
    assert "no job succeeded yet (1 recorded): nothing measured to recommend from." in text


def collect(experiment: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(experiment / "collect_results.py")], capture_output=True, text=True,
                          cwd=experiment)


def compute_csv(experiment: Path) -> dict[str, dict]:
    with (experiment / "results" / "compute.csv").open(newline="") as file:
        return {line["cell"]: line for line in csv.DictReader(file)}


def test_compute_csv_and_the_recommendation_come_from_the_jobs_files(experiment, gpu_path, logs):
    (script,) = scripts(experiment)
    assert run_cell(script, gpu_path, "501", logs["error"])[0].returncode == 1
    assert run_cell(script, gpu_path, "502", logs["success"])[0].returncode == 0
    # The second job took 1,000 s longer than this machine needs: its end moved on in the file
    # the real script wrote, so the margin's rounding shows.
    path = cell_file(script, experiment, "job_times", "502")
    lines = times(path)
    lines[1]["epoch_seconds"] = str(int(lines[1]["epoch_seconds"]) + 1000)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(lines[0]))
        writer.writeheader()
        writer.writerows(lines)
    elapsed = int(lines[1]["epoch_seconds"]) - int(lines[0]["epoch_seconds"])
    assert 1000 <= elapsed < 1200

    result = collect(experiment)
    assert result.returncode == 0, result.stderr
    assert "compute.csv" in result.stdout
    row = compute_csv(experiment)[script.stem]
    assert row["attempts"] == "2" and row["job"] == "502" and row["outcome"] == "success"
    assert row["elapsed_s"] == str(elapsed)
    first = times(cell_file(script, experiment, "job_times", "501"))
    first_elapsed = int(first[1]["epoch_seconds"]) - int(first[0]["epoch_seconds"])
    assert row["elapsed_all_attempts_s"] == str(elapsed + first_elapsed)
    # Over the samples' lines: utilisation 40, 90, 50 (one [N/A]); memory per GPU.
    assert (row["gpus"], row["gpu_samples"]) == ("2", "4")
    assert float(row["gpu_util_mean"]) == 60.0 and float(row["gpu_util_max"]) == 90.0
    assert float(row["gpu_memory_peak_mib"]) == 15360 and float(row["gpu_memory_total_mib"]) == 81920
    assert row["tier"] == "1B"

    text = (experiment / "results" / "compute.md").read_text()
    # 1,000-1,199 s x 1.5 is 1,500-1,799 s: rounded up to 5 minutes, 0:30:00; 15 GiB x 1.2.
    # The first job's task raised: the evaluation that succeeded took it and the second.
    assert "time **0:30:00**, from 1 successful evaluation" in text
    assert "GPU memory **18.0 GiB** per GPU, from 1 job sampled by nvidia-smi (peak 15.0 GiB of 80.0 GiB)" in text
    assert "x 1.5, rounded up to 5 minutes" in text and "peak x 1.2" in text
    assert (experiment / "results" / "elapsed.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_measurement_means_no_recommendation(experiment):
    result = collect(experiment)
    assert result.returncode == 1  # the cell has not run
    (row,) = compute_csv(experiment).values()
    assert row["attempts"] == "0" and row["elapsed_s"] == "" and row["gpu_memory_peak_mib"] == ""
    text = (experiment / "results" / "compute.md").read_text()
    assert "no job has recorded its time yet: nothing measured to recommend from." in text
    assert not re.search(r"time \*\*\d", text)
    assert not (experiment / "results" / "elapsed.png").exists()


@pytest.mark.parametrize("name,job", [
    ("cap_epoch0.job123.time.csv", "123"), ("cap_epoch0.joblocal-77.time.csv", "local-77"),
    ("cap_epoch0.job.time.csv", None), ("cap_epoch0.job1.job2.time.csv", None), ("cap_epoch0.job1.gpu.csv", None),
    ("x_cap_epoch0.job1.time.csv", None),
])
def test_job_of_reads_the_job_from_a_per_job_file_name(name, job):
    assert protocol.job_of(protocol.job_times("r8", "cap_epoch0"), name) == job


def test_the_elapsed_plot_has_a_bar_per_cell_then_a_histogram_per_model_size(experiment):
    """Bars up to MAX_ELAPSED_BARS cells, so each is named; past that a histogram per model
    size, which stays readable at a thousand cells."""
    from tests.test_results import load

    module = load(experiment)
    (run,) = module.RUNS
    (cell,) = module.CELLS

    def measured(count: int) -> list:
        return [(module.Row(run, {**cell, "name": f"c{i}"}, module.Outcome()),
                 [module.Attempt(job=str(i), start=0, end=60 * (i % 7 + 1), outcome="success")]) for i in range(count)]

    bars = module.elapsed_figure(measured(module.MAX_ELAPSED_BARS)).axes[0]
    assert len(bars.patches) == module.MAX_ELAPSED_BARS
    assert [label.get_text() for label in bars.get_yticklabels()][:2] == ["r1 c0", "r1 c1"]
    assert sorted({patch.get_width() for patch in bars.patches}) == [1, 2, 3, 4, 5, 6, 7]

    histogram = module.elapsed_figure(measured(1000)).axes[0]
    assert [text.get_text() for text in histogram.get_legend().get_texts()] == ["1B (1000 cells)"]
    assert histogram.get_ylabel() == "cells"


def test_the_recommendation_is_per_model_size_and_counts_only_successful_evaluations(experiment):
    from tests.test_results import load

    module = load(experiment)
    (run,) = module.RUNS
    (cell,) = module.CELLS
    big = {**run, "name": "r70", "model": "Llama-3.3-70B-Instruct",
           "resources": {**run["resources"], "tier": "70B", "time": "2:00:00", "gpus": 4}}
    measured = [
        (module.Row(run, cell, module.Outcome()), [
            module.Attempt(job="1", start=0, end=601, outcome="success")]),
        (module.Row(run, {**cell, "name": "other"}, module.Outcome()), [
            module.Attempt(job="3", start=0, end=299, outcome="success"),
            module.Attempt(job="5", start=400, end=500, outcome="failed")]),  # not (yet) part of a success
        (module.Row(big, cell, module.Outcome()), [module.Attempt(job="4", start=0, end=None)]),
    ]
    small, large = module.recommendations(measured)
    # 601 s x 1.5 = 901.5 s, rounded up to 5 minutes: 20 minutes.
    assert small.startswith("- **1B** (Llama-3.2-1B-Instruct; planned time 0:30:00, mem 32G, 1 GPU): "
                            "time **0:20:00**, from 2 successful evaluations (longest 0:10:01, median 0:07:30)")
    assert small.endswith("; GPU memory not measured (no job had nvidia-smi samples).")
    assert large == ("- **70B** (Llama-3.3-70B-Instruct; planned time 2:00:00, mem 32G, 4 GPUs): "
                     "no job succeeded yet (1 recorded): nothing measured to recommend from.")


def test_a_resumed_evaluation_counts_every_job_and_never_less_than_a_limit_run_out_of(experiment):
    """Each cell's first job ran out of its 0:40:00 (TIMEOUT, 2,400 s) and the next one, an
    eval-retry of the samples left, succeeded in 900 s: the evaluation took 3,300 s, not 900."""
    from tests.test_results import load

    module = load(experiment)
    (run,) = module.RUNS
    (cell,) = module.CELLS
    run = {**run, "resources": {**run["resources"], "time": "0:40:00"}}
    resumed = [module.Attempt(job="114", start=0, end=2400, outcome="failed"),
               module.Attempt(job="115", start=3000, end=3900, outcome="success")]
    (line,) = module.recommendations([(module.Row(run, cell, module.Outcome()), resumed)])
    # 3,300 s x 1.5 = 4,950 s: 1:25:00
    assert ("time **1:25:00**, from 1 successful evaluation (longest 0:55:00, median 0:55:00; 1 resumed after a job "
            "stopped, each counted with all its jobs)") in line

    # The cell that ran out of its time never succeeded; another, quick, did. submit_evals.sh
    # recorded the time-out, at the planned limit ('-': the script's own time) and at a grown one.
    record = experiment / cell["attempts_record"]
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("114 TIMEOUT - -\n116 TIMEOUT - 1:20:00\n117 - - 2:40:00\n")
    measured = [(module.Row(run, cell, module.Outcome()), [module.Attempt(job="114", start=0, end=2400, outcome="failed")]),
                (module.Row(run, {**cell, "name": "other", "attempts_record": "nowhere"}, module.Outcome()),
                 [module.Attempt(job="120", start=0, end=300, outcome="success")])]
    (line,) = module.recommendations(measured)
    # 300 s x 1.5 is 0:10:00, but job 116 ran out of 1:20:00: x 1.5, 2:00:00
    assert "time **2:00:00**, from 1 successful evaluation (longest 0:05:00, median 0:05:00)" in line
    assert ", at least the 1:20:00 job 116 ran out of x 1.5" in line
    record.write_text("114 TIMEOUT - -\n")
    (line,) = module.recommendations(measured)
    assert "time **1:00:00**" in line and ", at least the 0:40:00 job 114 ran out of x 1.5" in line


@pytest.mark.parametrize("text,seconds", [("0:40:00", 2400), ("40", 2400), ("5:30", 330), ("1-02:00:00", 93600),
                                          ("2-3", 183600), ("1-0:30", 88200), ("UNLIMITED", None), ("0", None)])
def test_slurm_times_read_as_sbatch_reads_them(experiment, text, seconds):
    from tests.test_results import load

    assert load(experiment).slurm_seconds(text) == seconds
