"""submit_evals.sh: what it submits, when, with which dependency, within which job limit, and
how it reports where each cell stands.

`sbatch`, `squeue`, `sacct` and `sacctmgr` are recorders here (this machine has no cluster)
that share one queue file: a job sbatch accepts is listed by the next squeue, as on a real
cluster, and every call is logged so that the number of squeue calls is checked. `make e2e`
runs the same script against a real single-node Slurm with accounting (slurmdbd, a QOS
limit).
"""

from __future__ import annotations

import codecs
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.experiment import SITE, Experiment, Run, Task

_PRELUDE = """#!{python}
import json, os, re, sys
STATE = os.environ["RECORD_DIR"]
JOBS = os.path.join(STATE, "jobs.json")
def load():
    return json.load(open(JOBS)) if os.path.exists(JOBS) else []
def save(jobs):
    json.dump(jobs, open(JOBS, "w"))
with open(os.path.join(STATE, "calls.jsonl"), "a") as calls:
    calls.write(json.dumps({{"cmd": os.path.basename(sys.argv[0]), "argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
args = sys.argv[1:]
"""

_SBATCH = """
if os.environ.get("SBATCH_HANGS"):
    import time
    time.sleep(3600)
jobs = load()
if os.environ.get("SBATCH_FAILS"):
    sys.exit("sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified")
limit = os.environ.get("SBATCH_LIMIT")
if limit and len(jobs) >= int(limit):
    print("sbatch: error: QOSMaxSubmitJobPerUserLimit", file=sys.stderr)
    sys.exit("sbatch: error: Batch job submission failed: Job violates accounting/QOS policy"
             " (job submit limit, user's size and/or time limits)")
counter = os.path.join(STATE, "next_id")
job_id = int(open(counter).read()) if os.path.exists(counter) else 1001
open(counter, "w").write(str(job_id + 1))
script = args[-1]
name = re.search(r"^#SBATCH --job-name=(\\S+)", open(script).read(), re.M)
dependency = [a.split("=", 1)[1] for a in args if a.startswith("--dependency=")]
jobs.append({"id": job_id, "name": name.group(1) if name else script, "state": "PENDING",
             "reason": "Dependency" if dependency else "Priority",
             "dependency": dependency[0] + "(unfulfilled)" if dependency else "(null)",
             "workdir": os.getcwd(), "command": os.path.join(os.getcwd(), script)})
save(jobs)
print(f"Submitted batch job {job_id}" if os.environ.get("SBATCH_PLAIN") else job_id)
"""

# Prints the jobs in the --format asked for. With SQUEUE_DRAIN=N, every look but the first
# finds the N oldest jobs finished since the last one.
_SQUEUE = """
if os.environ.get("SQUEUE_HANGS"):
    import time
    time.sleep(3600)
if os.environ.get("SQUEUE_STDOUT_ERROR"):
    print("squeue: error: Invalid user: nobody")
    sys.exit(0)
fields = {"i": "id", "T": "state", "r": "reason", "E": "dependency", "j": "name", "Z": "workdir", "o": "command"}
form = [a.split("=", 1)[1] for a in args if a.startswith("--format=")][0]
jobs = load()
looked = os.path.join(STATE, "looked")
if os.path.exists(looked):
    jobs = jobs[int(os.environ.get("SQUEUE_DRAIN", 0)):]
    save(jobs)
open(looked, "w").close()
for job in jobs:
    print(re.sub(r"%([a-zA-Z])", lambda m: str(job.get(fields[m.group(1)], "")), form))
"""

# SACCT: job id -> its state, or the fields sacct gives for it; what a test leaves out is
# what Slurm 22.05 gives a job submitted without --mem or --time (tests/e2e checks this
# stand-in's lines against real sacct's, SACCT_LINE).
_SACCT = """
if "SACCT" not in os.environ:
    sys.exit("sacct: error: Problem talking to the database: Connection refused")
jobs = json.loads(os.environ["SACCT"])
ids = [a.split("=", 1)[1] for a in args if a.startswith("--jobs=")][0].split(",")
fields = [a.split("=", 1)[1] for a in args if a.startswith("--format=")][0].split(",")
for job_id in ids:
    if job_id in jobs:
        job = jobs[job_id] if isinstance(jobs[job_id], dict) else {"State": jobs[job_id]}
        job = {"JobIDRaw": job_id, "ReqMem": "1G", "Timelimit": "UNLIMITED", "Partition": "e2e", "QOS": "normal",
               "ReqCPUS": "1", **job}
        print("|".join(job[field] for field in fields))
"""

# A line of `sacct --parsable2 --format=JobIDRaw,State,ReqMem,Timelimit,Partition,QOS,ReqCPUS`
# as Slurm 22.05 prints it (a state may be followed by " by UID": "CANCELLED by 0").
SACCT_LINE = (r"[0-9]+\|[A-Z_]+( by [0-9]+)?\|[0-9]+(\.[0-9]+)?[KMGT]\|"
              r"(UNLIMITED|Partition_Limit|([0-9]+-)?[0-9]{2}:[0-9]{2}:[0-9]{2})\|[^|]*\|[^|]*\|[0-9]+")

# SCONTROL_PARTITION: what `scontrol --oneliner show partition` prints; SINFO_MEM: the
# nodes' memory as `sinfo --format=%m` prints it. Unset: Slurm does not answer.
_SCONTROL = """
if "SCONTROL_PARTITION" not in os.environ:
    sys.exit("slurm_load_partitions: Unable to contact slurm controller (connect failure)")
print(os.environ["SCONTROL_PARTITION"])
"""

_SINFO = """
if "SINFO_MEM" not in os.environ:
    sys.exit("slurm_load_partitions: Unable to contact slurm controller (connect failure)")
print(os.environ["SINFO_MEM"])
"""

_SACCTMGR = """
entity = args[args.index("show") + 1]
text = os.environ.get("SACCTMGR_ASSOC" if entity == "association" else "SACCTMGR_QOS")
if text is None:
    sys.exit("sacctmgr: error: You are not running a supported accounting_storage plugin")
print(text)
"""


@dataclass
class Slurm:
    """The recorders' directory and shared state."""

    bin_dir: Path
    state: Path

    def seed(self, *jobs: dict) -> None:
        (self.state / "jobs.json").write_text(json.dumps(list(jobs)))

    def jobs(self) -> list[dict]:
        path = self.state / "jobs.json"
        return json.loads(path.read_text()) if path.exists() else []

    def calls(self, command: str) -> list[dict]:
        path = self.state / "calls.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [call for call in map(json.loads, lines) if call["cmd"] == command]

    def reset_calls(self) -> None:
        (self.state / "calls.jsonl").unlink(missing_ok=True)
        (self.state / "looked").unlink(missing_ok=True)


@pytest.fixture
def slurm(tmp_path) -> Slurm:
    bin_dir = tmp_path / "slurm-bin"
    bin_dir.mkdir()
    state = tmp_path / "slurm-state"
    state.mkdir()
    for name, body in (("sbatch", _SBATCH), ("squeue", _SQUEUE), ("sacct", _SACCT), ("sacctmgr", _SACCTMGR),
                       ("scontrol", _SCONTROL), ("sinfo", _SINFO)):
        path = bin_dir / name
        path.write_text(_PRELUDE.format(python=sys.executable) + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return Slurm(bin_dir, state)


@pytest.fixture
def experiment_dir(render, tmp_path) -> Path:
    """Run a has its checkpoints; b is still training (job name b-train); c has neither."""
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


def training_job(directory: Path, run: str, job_id: int, name: str | None = None, **fields) -> dict:
    """A fine-tuning job as squeue lists it, submitted from the run's directory."""
    return {"id": job_id, "name": name or run, "state": "RUNNING", "reason": "None", "dependency": "(null)",
            "workdir": str(directory / run), "command": str(directory / run / "finetune.slurm"), **fields}


def submit(directory: Path, slurm: Slurm, *args: str, **env: str) -> subprocess.CompletedProcess:
    slurm.reset_calls()
    return subprocess.run(
        [str(directory / "submit_evals.sh"), *args],
        capture_output=True,
        text=True,
        cwd="/",
        env={**os.environ, "PATH": f"{slurm.bin_dir}:{os.environ['PATH']}", "RECORD_DIR": str(slurm.state), **env},
    )


def submitted(slurm: Slurm, directory: Path) -> list[tuple[str, list[str]]]:
    """(script relative to the experiment, sbatch options) of every sbatch call, in order."""
    return [
        (f"{Path(call['cwd']).relative_to(directory)}/{call['argv'][-1]}", call["argv"][:-1])
        for call in slurm.calls("sbatch")
    ]


def lines_starting(output: str, word: str) -> list[str]:
    return [line for line in output.splitlines() if line.split(" ", 1)[0] == word]


NOW = ["--parsable"]
A_CELLS = ["a/eval/t1_epoch0.slurm", "a/eval/t1_epoch1.slurm", "a/eval/t2_epoch0.slurm", "a/eval/t2_epoch1.slurm"]


def test_submits_ready_cells_chains_training_ones_and_skips_the_rest(experiment_dir, slurm):
    slurm.seed(training_job(experiment_dir, "b", 77, "b-train"), training_job(experiment_dir, "b", 78, "b-train"))
    result = submit(experiment_dir, slurm)
    assert result.returncode == 4, result.stderr  # skipped cells: c has no checkpoint and no job
    chain = ["--parsable", "--dependency=afterok:78", "--kill-on-invalid-dep=yes"]
    assert submitted(slurm, experiment_dir) == [
        *((cell, NOW) for cell in A_CELLS),
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
    assert len(lines_starting(result.stdout, "skipped")) == 4
    assert "no pending or running fine-tuning job named c was found (use --after c=JOBID)" in result.stdout
    assert lines[-1] == (
        "6 submitted now, 4 chained to fine-tuning, 0 already queued, 0 already done, 4 skipped,"
        " 0 waiting for a slot, 0 failed, 0 refused"
    )
    assert len(slurm.calls("squeue")) == 1
    # Each submission is recorded beside the cell's logs, for --status to ask sacct about.
    assert (experiment_dir / "a/eval/logs/.t1_epoch0.job").read_text() == "1001\n"


def test_one_squeue_call_per_pass_whatever_the_number_of_cells(render, slurm, tmp_path):
    runs = [Run(f"r{i}", epochs=2) for i in range(8)]
    directory = render(Experiment(runs=runs, tasks=[Task("t1"), Task("t2")], plan_text="Evaluate every epoch.", site=SITE))
    slurm.seed(*(training_job(directory, f"r{i}", 500 + i) for i in range(8)))
    result = submit(directory, slurm)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(slurm.calls("sbatch")) == 8 * 2 * 2
    assert len(slurm.calls("squeue")) == 1
    assert {tuple(argv) for _, argv in submitted(slurm, directory) if "r5" in _} == {
        ("--parsable", "--dependency=afterok:505", "--kill-on-invalid-dep=yes")
    }


def test_a_second_call_while_jobs_are_queued_submits_nothing(experiment_dir, slurm):
    slurm.seed(training_job(experiment_dir, "b", 78, "b-train"))
    first = submit(experiment_dir, slurm, "--run", "a", "--run", "b")
    assert first.returncode == 0, first.stdout
    assert len(slurm.calls("sbatch")) == 8
    again = submit(experiment_dir, slurm, "--run", "a", "--run", "b")
    assert again.returncode == 0
    assert slurm.calls("sbatch") == []
    assert "queued     a/eval/t1_epoch0.slurm: job 1001 is pending already" in again.stdout
    assert again.stdout.splitlines()[-1].startswith("0 submitted now, 0 chained to fine-tuning, 8 already queued")
    only_missing = submit(experiment_dir, slurm, "--only-missing", "--run", "a")
    assert slurm.calls("sbatch") == []
    assert only_missing.returncode == 0


def test_a_job_id_on_the_command_line_chains_a_run(experiment_dir, slurm):
    result = submit(experiment_dir, slurm, "--run", "c", "--after", "c=555")
    assert result.returncode == 0
    assert {tuple(argv) for _, argv in submitted(slurm, experiment_dir)} == {
        ("--parsable", "--dependency=afterok:555", "--kill-on-invalid-dep=yes")
    }
    assert len(slurm.calls("sbatch")) == 4


def test_dry_run_submits_nothing(experiment_dir, slurm):
    slurm.seed(training_job(experiment_dir, "b", 78, "b-train"))
    result = submit(experiment_dir, slurm, "--dry-run")
    assert result.returncode == 4
    assert slurm.calls("sbatch") == []
    assert f"dry-run    cd {experiment_dir}/b/eval && sbatch --dependency=afterok:78 --kill-on-invalid-dep=yes t1_epoch0.slurm" in result.stdout
    assert f"dry-run    cd {experiment_dir}/a/eval && sbatch t1_epoch0.slurm" in result.stdout


def test_filters_by_run_task_and_epoch_never_submit_a_cell_twice(experiment_dir, slurm):
    result = submit(experiment_dir, slurm, "--run", "a", "--run", "a", "--task", "t2", "--epoch", "1", "--epoch", "base")
    assert result.returncode == 0
    assert submitted(slurm, experiment_dir) == [("a/eval/t2_epoch1.slurm", NOW)]
    submit(experiment_dir, slurm, "--epoch", "base")
    assert [name for name, _ in submitted(slurm, experiment_dir)] == ["m_base/eval/t1_base.slurm", "m_base/eval/t2_base.slurm"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "z"], "--run 'z' matches no run of this experiment (it has: a b c m_base)"),
        (["--task", "t1", "--task", "capitalisation"], "--task 'capitalisation' matches no task"),
        (["--epoch", "2"], "--epoch '2' matches no epoch of this experiment (it has: 0 1 base)"),
        (["--after", "zz=12"], "--after 'zz' matches no run"),
        (["--after", "c=squeue: error"], "--after takes RUN=JOBID (a numeric job id)"),
        (["--run", "m_base", "--epoch", "0"], "no cell has all of the --run, --task and --epoch values given"),
        (["--max-jobs", "0"], "--max-jobs takes a number of jobs from 1 to 999999999, got '0'"),
        (["--max-jobs", "99999999999999999999"], "--max-jobs takes a number of jobs from 1 to 999999999, got '99999999999999999999'"),
        (["--watch", "0"], "--watch takes the seconds between looks, more than 0, got '0'"),
        (["--watch", "0.0"], "--watch takes the seconds between looks, more than 0, got '0.0'"),
        (["--bogus"], "unknown option '--bogus'"),
        (["--run"], "--run needs a value"),
    ],
)
def test_bad_options_and_unknown_values_exit_2_naming_them(experiment_dir, slurm, args, message):
    result = submit(experiment_dir, slurm, *args)
    assert result.returncode == 2
    assert f"error: {message}" in result.stderr
    assert slurm.calls("sbatch") == [] and slurm.calls("squeue") == []


def fingerprint_of(directory: Path, script: str) -> str:
    """The fingerprint the recorded plan gives the cell of `script`."""
    return next(cell["fingerprint"] for run in recorded_plan(directory)["runs"] for cell in run["cells"]
                if cell["script"] == script)


def finish(directory: Path, script: str, log_name: str | None = None, mark: str | None = None) -> None:
    """What a successful job leaves: its log and the done mark, which holds the fingerprint
    of the cell's inputs (`mark`: what an earlier plan's script, or an older template's, left)."""
    logs = directory / Path(script).parent / "logs"
    cell = Path(script).stem
    (logs / f"2026-11-28T13-02-44-00-00_{log_name or cell}_mhfs6WepoxGqhXmaGWDxgi.eval").write_bytes(b"PK")
    (logs / f".{cell}.complete").write_text(fingerprint_of(directory, script) + "\n" if mark is None else mark)


def test_only_missing_submits_failed_and_never_run_cells(experiment_dir, slurm):
    finish(experiment_dir, "a/eval/t1_epoch0.slurm")
    # A log of another cell whose name ends the same way does not count.
    finish(experiment_dir, "a/eval/t1_epoch1.slurm", log_name="xt1_epoch1")
    (experiment_dir / "a/eval/logs/.t2_epoch0.failed").write_text("status error: boom\n")
    slurm.seed({"id": 900, "name": "eval", "state": "RUNNING", "reason": "None", "dependency": "(null)",
                "workdir": str(experiment_dir / "a/eval"), "command": str(experiment_dir / "a/eval/t2_epoch1.slurm")})
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a")
    assert result.returncode == 0
    assert [name for name, _ in submitted(slurm, experiment_dir)] == ["a/eval/t1_epoch1.slurm", "a/eval/t2_epoch0.slurm"]
    assert "done       a/eval/t1_epoch0.slurm: already has a successful inspect log" in result.stdout
    assert "queued     a/eval/t2_epoch1.slurm: job 900 is running already" in result.stdout
    # A deleted log has its cell run again.
    next((experiment_dir / "a/eval/logs").glob("*_t1_epoch0_*.eval")).unlink()
    slurm.seed()
    submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0")
    assert len(slurm.calls("sbatch")) == 1


def test_a_failed_sbatch_fails_the_whole_call(experiment_dir, slurm):
    result = submit(experiment_dir, slurm, "--run", "m_base", SBATCH_FAILS="1")
    assert result.returncode == 1
    assert len(slurm.calls("sbatch")) == 2
    assert "FAILED     m_base/eval/t1_base.slurm: sbatch failed: sbatch: error: Batch job submission failed: Invalid account" in result.stdout
    assert result.stdout.splitlines()[-1].endswith("2 failed, 0 refused")


def test_squeue_failing_stops_the_pass_before_any_submission(experiment_dir, slurm):
    (slurm.bin_dir / "squeue").write_text("#!/bin/bash\necho 'squeue: error: slurm_load_jobs error: Unable to contact slurm controller' >&2\nexit 1\n")
    result = submit(experiment_dir, slurm)
    assert result.returncode == 1
    assert slurm.calls("sbatch") == []
    assert "squeue failed: without knowing your queued jobs nothing is submitted" in result.stderr
    # A dry run (on a laptop, say) still shows what would go out.
    result = submit(experiment_dir, slurm, "--dry-run", "--run", "a")
    assert result.returncode == 0
    assert len(lines_starting(result.stdout, "dry-run")) == 4


def test_an_error_printed_by_squeue_on_stdout_is_never_a_job_id(experiment_dir, slurm):
    slurm.seed(training_job(experiment_dir, "b", 78, "b-train"))
    result = submit(experiment_dir, slurm, "--run", "b", SQUEUE_STDOUT_ERROR="1")
    assert slurm.calls("sbatch") == []
    assert "afterok:squeue" not in result.stdout + result.stderr
    assert len(lines_starting(result.stdout, "skipped")) == 4
    assert result.returncode == 4


def test_runs_sharing_a_fine_tuning_job_name_each_wait_for_their_own(render, slurm, tmp_path):
    experiment = Experiment(runs=[Run("r1"), Run("r2")], site=SITE)
    directory = render(experiment)
    for run in ("r1", "r2"):
        (directory / run / "finetune.slurm").write_text("#!/bin/bash\n#SBATCH --job-name=finetune\n")
    # r1 was submitted from its directory; r2 as `sbatch r2/finetune.slurm` from the experiment.
    slurm.seed(
        training_job(directory, "r1", 11, "finetune"),
        training_job(directory, "r2", 12, "finetune", workdir=str(directory)),
        training_job(directory, "r1", 13, "finetune", workdir="/elsewhere", command="/elsewhere/finetune.slurm"),
    )
    result = submit(directory, slurm)
    assert result.returncode == 0, result.stdout
    assert {name: argv[1] for name, argv in submitted(slurm, directory)} == {
        "r1/eval/capitalization_epoch0.slurm": "--dependency=afterok:11",
        "r2/eval/capitalization_epoch0.slurm": "--dependency=afterok:12",
    }


def test_a_shared_job_name_from_elsewhere_is_not_guessed(render, slurm):
    directory = render(Experiment(runs=[Run("r1"), Run("r2")], site=SITE))
    for run in ("r1", "r2"):
        (directory / run / "finetune.slurm").write_text("#!/bin/bash\n#SBATCH --job-name=finetune\n")
    slurm.seed(training_job(directory, "r1", 13, "finetune", workdir="/tmp", command="/tmp/ft.slurm"))
    result = submit(directory, slurm)
    assert result.returncode == 4
    assert slurm.calls("sbatch") == []
    assert (
        "jobs named finetune are queued (13), but none was submitted from r1/, and runs r2 give their jobs the"
        " same name: not guessing which one is r1's (use --after r1=JOBID)"
    ) in result.stdout
    # A name no other run shares is taken wherever the job was submitted from (a wrapper).
    (directory / "r2" / "finetune.slurm").write_text("#!/bin/bash\n#SBATCH --job-name=other\n")
    result = submit(directory, slurm, "--run", "r1")
    assert result.returncode == 0
    assert submitted(slurm, directory)[0][1][1] == "--dependency=afterok:13"


def test_a_script_with_merge_conflict_markers_is_never_submitted(experiment_dir, slurm):
    script = experiment_dir / "a/eval/t1_epoch1.slurm"
    text = script.read_text().replace("--log-level info", "<<<<<<< before updating\n  --log-level info\n=======\n  --log-level debug\n>>>>>>> after updating")
    script.write_text(text)
    result = submit(experiment_dir, slurm, "--run", "a")
    assert result.returncode == 3
    assert [name for name, _ in submitted(slurm, experiment_dir)] == [c for c in A_CELLS if c != "a/eval/t1_epoch1.slurm"]
    assert "REFUSED    a/eval/t1_epoch1.slurm: holds merge-conflict markers (left by copier update?)" in result.stdout


def test_max_jobs_counts_the_users_queued_jobs_and_stops_at_the_limit(experiment_dir, slurm):
    slurm.seed(training_job(experiment_dir, "b", 78, "b-train"), training_job(experiment_dir, "x", 79))
    result = submit(experiment_dir, slurm, "--max-jobs", "5", "--run", "a", "--run", "b")
    assert result.returncode == 5
    assert len(slurm.calls("sbatch")) == 3
    assert len(slurm.jobs()) == 5
    assert "job limit reached: 5 cells are waiting for a slot (5 of your jobs are queued; the limit is 5 (--max-jobs))" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "3 submitted now, 0 chained to fine-tuning, 0 already queued, 0 already done, 0 skipped,"
        " 5 waiting for a slot, 0 failed, 0 refused"
    )
    # No sacctmgr when the limit is given.
    assert slurm.calls("sacctmgr") == []


def test_a_limit_refusal_by_sbatch_stops_the_pass(experiment_dir, slurm):
    result = submit(experiment_dir, slurm, "--run", "a", "--run", "m_base", SBATCH_LIMIT="3")
    assert result.returncode == 5
    # The fourth was refused, and nothing was tried after it.
    assert len(slurm.calls("sbatch")) == 4
    assert lines_starting(result.stdout, "FAILED") == []
    assert "sbatch refused a/eval/t2_epoch1.slurm for a job limit: sbatch: error: QOSMaxSubmitJobPerUserLimit" in result.stderr
    assert "job limit reached: 3 cells are waiting for a slot" in result.stdout


@pytest.mark.parametrize(
    ("assoc", "qos", "limit", "source"),
    [
        ("7||normal\n4||normal,high", None, "4", "sacctmgr, your association"),
        ("||normal,high", "normal|3\nhigh|9\nother|1", "3", "sacctmgr, QOS normal"),
        ("|high|normal,high", "normal|3\nhigh|9", "9", "sacctmgr, QOS high"),
        ("||normal", "normal|", None, None),
        (None, None, None, None),
    ],
)
def test_the_default_limit_is_what_slurms_accounting_says(experiment_dir, slurm, assoc, qos, limit, source):
    env = {key: value for key, value in (("SACCTMGR_ASSOC", assoc), ("SACCTMGR_QOS", qos)) if value is not None}
    result = submit(experiment_dir, slurm, "--dry-run", "--run", "a", **env)
    expected = f"the limit is {limit} ({source})" if limit else "no job limit is known"
    if limit and int(limit) < 4:
        assert expected in result.stdout
        assert result.returncode == 5
    else:
        assert result.returncode == 0
        assert len(lines_starting(result.stdout, "dry-run")) == 4


def recorded_plan(directory: Path) -> dict:
    return yaml.safe_load((directory / ".copier-answers.yml").read_text())["plan"]


def test_the_default_limit_from_claude_local_md_goes_before_sacctmgr(render, slurm):
    # Rendered with `- **Max jobs**: 2` under SLURM Defaults in claude.local.md.
    site = SITE.replace("- **Account**", "- **Max jobs**: 2\n- **Account**")
    directory = render(Experiment(runs=[Run(f"r{i}") for i in range(4)], site=site))
    result = submit(directory, slurm, "--after", "r0=5", "--after", "r1=5", "--after", "r2=5", "--after", "r3=5",
                    SACCTMGR_ASSOC="1||normal")
    assert result.returncode == 5
    assert len(slurm.calls("sbatch")) == 2
    assert "the limit is 2 (claude.local.md)" in result.stdout
    assert slurm.calls("sacctmgr") == []
    assert "--max-jobs N       keep at most N of your jobs pending or running (default: 2, from claude.local.md)" in (
        submit(directory, slurm, "--help").stdout
    )


def test_watch_gets_every_cell_through_as_slots_free_up(experiment_dir, slurm):
    # Each look at the queue finds the two oldest jobs finished.
    result = submit(experiment_dir, slurm, "--watch", "0.1", "--run", "a", "--run", "m_base",
                    SBATCH_LIMIT="2", SQUEUE_DRAIN="2")
    assert result.returncode == 0, result.stdout + result.stderr
    # Every cell went out exactly once; each look after a refusal tried again.
    accepted = [line.split()[1].rstrip(":") for line in lines_starting(result.stdout, "submitted")]
    assert sorted(accepted) == sorted([*A_CELLS, "m_base/eval/t1_base.slurm", "m_base/eval/t2_base.slurm"])
    refusals = len(slurm.calls("sbatch")) - len(accepted)
    assert refusals == len(slurm.calls("squeue")) - 1 == 2
    assert "watching: looking again every 0.1 s until every cell is out (Ctrl-C stops)" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("6 submitted now")


def test_watch_with_a_known_limit_polls_without_being_refused(experiment_dir, slurm):
    result = submit(experiment_dir, slurm, "--watch", "0.1", "--max-jobs", "2", "--run", "a", SQUEUE_DRAIN="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(slurm.calls("sbatch")) == 4
    # One squeue per look: the first pass, then one per poll until the last cell went out.
    assert len(slurm.calls("squeue")) == 3


def test_a_dry_run_is_one_pass_even_with_watch(experiment_dir, slurm):
    result = submit(experiment_dir, slurm, "--dry-run", "--watch", "0.1", "--max-jobs", "2", "--run", "a")
    assert result.returncode == 5
    assert len(lines_starting(result.stdout, "dry-run")) == 2
    assert len(slurm.calls("squeue")) == 1


def test_ctrl_c_stops_watching_cleanly(experiment_dir, slurm):
    env = {**os.environ, "PATH": f"{slurm.bin_dir}:{os.environ['PATH']}", "RECORD_DIR": str(slurm.state)}
    process = subprocess.Popen(
        [str(experiment_dir / "submit_evals.sh"), "--watch", "--max-jobs", "1", "--run", "a"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
    )  # fmt: skip
    # Ctrl-C once it says it is watching (its Ctrl-C handler is set by then): an event, not a
    # guess at how long the first pass takes on a loaded machine.
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("watching:"):
            break
    os.killpg(process.pid, signal.SIGINT)
    rest, err = process.communicate(timeout=300)
    out = "".join(seen) + rest
    assert process.returncode == 130, out + err
    assert "stopped: 3 cells were still waiting for a slot; run the same command again to go on" in out
    assert len(slurm.calls("sbatch")) == 1


def mark_failed(directory: Path, script: str, text: str) -> None:
    (directory / Path(script).parent / "logs" / f".{Path(script).stem}.failed").write_text(text + "\n")


def record_job(directory: Path, script: str, job_id: int) -> None:
    (directory / Path(script).parent / "logs" / f".{Path(script).stem}.job").write_text(f"{job_id}\n")


def test_status_names_each_cells_state_with_one_squeue_and_one_sacct(experiment_dir, slurm, tmp_path):
    finish(experiment_dir, "a/eval/t1_epoch0.slurm")
    record_job(experiment_dir, "a/eval/t1_epoch1.slurm", 31)
    mark_failed(experiment_dir, "a/eval/t1_epoch1.slurm", "/x/logs/l.eval: status error: RuntimeError('boom')")
    record_job(experiment_dir, "a/eval/t2_epoch0.slurm", 32)
    (experiment_dir / "a/eval/logs/2026-11-28T13-02-44-00-00_t2_epoch1_abc.eval").write_bytes(b"PK")
    queued = lambda script, job_id, state, reason, dependency="(null)": {  # noqa: E731
        "id": job_id, "name": "eval", "state": state, "reason": reason, "dependency": dependency,
        "workdir": str(experiment_dir / Path(script).parent), "command": str(experiment_dir / script)}
    slurm.seed(
        training_job(experiment_dir, "b", 78, "b-train"),
        queued("b/eval/t1_epoch0.slurm", 41, "PENDING", "Dependency", "afterok:78(unfulfilled)"),
        queued("m_base/eval/t1_base.slurm", 42, "RUNNING", "None"),
        queued("m_base/eval/t2_base.slurm", 43, "PENDING", "Priority"),
    )
    result = submit(experiment_dir, slurm, "--status", SACCT=json.dumps({"31": "FAILED", "32": "TIMEOUT"}))
    assert result.returncode == 1, result.stderr
    ck = tmp_path / "ck"
    assert result.stdout.splitlines() == [
        "done               a/eval/t1_epoch0.slurm",
        "failed             a/eval/t1_epoch1.slurm: job 31 FAILED: /x/logs/l.eval: status error: RuntimeError('boom')",
        "failed             a/eval/t2_epoch0.slurm: job 32 TIMEOUT (sacct)",
        f"failed             a/eval/t2_epoch1.slurm: {experiment_dir}/a/eval/logs/2026-11-28T13-02-44-00-00_t2_epoch1_abc.eval"
        " has no done mark: the job ended before judging it",
        "pending            b/eval/t1_epoch0.slurm: job 41, waiting for training job 78",
        f"checkpoint missing b/eval/t1_epoch1.slurm: {ck}/ck-out-b/epoch_1 (fine-tuning job 78 is running)",
        f"checkpoint missing b/eval/t2_epoch0.slurm: {ck}/ck-out-b/epoch_0 (fine-tuning job 78 is running)",
        f"checkpoint missing b/eval/t2_epoch1.slurm: {ck}/ck-out-b/epoch_1 (fine-tuning job 78 is running)",
        f"checkpoint missing c/eval/t1_epoch0.slurm: {ck}/ck-out-c/epoch_0",
        f"checkpoint missing c/eval/t1_epoch1.slurm: {ck}/ck-out-c/epoch_1",
        f"checkpoint missing c/eval/t2_epoch0.slurm: {ck}/ck-out-c/epoch_0",
        f"checkpoint missing c/eval/t2_epoch1.slurm: {ck}/ck-out-c/epoch_1",
        "running            m_base/eval/t1_base.slurm: job 42 (running)",
        "pending            m_base/eval/t2_base.slurm: job 43 (Priority)",
        "14 cells: 1 done, 0 stale, 3 failed, 1 running, 2 pending, 0 not submitted, 7 checkpoint missing",
    ]
    assert len(slurm.calls("squeue")) == 1
    (sacct,) = slurm.calls("sacct")
    assert "--jobs=31,32" in sacct["argv"]
    assert slurm.calls("sbatch") == []


def test_status_exits_0_only_when_every_cell_is_done(experiment_dir, slurm):
    for script in A_CELLS:
        finish(experiment_dir, script)
    result = submit(experiment_dir, slurm, "--status", "--run", "a")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "4 cells: 4 done, 0 stale, 0 failed, 0 running, 0 pending, 0 not submitted, 0 checkpoint missing"
    result = submit(experiment_dir, slurm, "--status", "--run", "a", "--run", "m_base")
    assert result.returncode == 6
    assert "not submitted      m_base/eval/t1_base.slurm" in result.stdout
    # Without accounting, a cell that was submitted but left no trace is shown as it is.
    assert slurm.calls("sacct") == []


def test_a_cell_done_with_other_inputs_is_stale_and_evaluated_again(experiment_dir, slurm):
    # t1_epoch0 was done before its prompt was fixed; t1_epoch1 by a script of 0.2, whose done
    # mark was empty; t2_epoch0 with the plan's inputs now.
    finish(experiment_dir, "a/eval/t1_epoch0.slurm", mark="0123456789abcdef\n")
    finish(experiment_dir, "a/eval/t1_epoch1.slurm", mark="")
    finish(experiment_dir, "a/eval/t2_epoch0.slurm")
    fingerprint = fingerprint_of(experiment_dir, "a/eval/t1_epoch0.slurm")
    result = submit(experiment_dir, slurm, "--status", "--run", "a")
    assert result.returncode == 6, result.stderr
    assert result.stdout.splitlines() == [
        f"stale              a/eval/t1_epoch0.slurm: done with other inputs (fingerprint 0123456789abcdef; the plan's is"
        f" {fingerprint}): --only-missing evaluates it again",
        "stale              a/eval/t1_epoch1.slurm: its done mark records no fingerprint (left by an older template's"
        " script), so its inputs are unknown: --only-missing evaluates it again",
        "done               a/eval/t2_epoch0.slurm",
        "not submitted      a/eval/t2_epoch1.slurm",
        "4 cells: 1 done, 2 stale, 0 failed, 0 running, 0 pending, 1 not submitted, 0 checkpoint missing",
    ]
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a")
    assert result.returncode == 0, result.stderr
    assert [name for name, _ in submitted(slurm, experiment_dir)] == [
        "a/eval/t1_epoch0.slurm", "a/eval/t1_epoch1.slurm", "a/eval/t2_epoch1.slurm"]
    assert lines_starting(result.stdout, "submitted")[0] == (
        f"submitted  a/eval/t1_epoch0.slurm: job 1001 (stale: done with other inputs (fingerprint 0123456789abcdef;"
        f" the plan's is {fingerprint}))")
    assert lines_starting(result.stdout, "submitted")[2] == "submitted  a/eval/t2_epoch1.slurm: job 1003"


def test_the_experiment_name_never_becomes_a_command(render, slurm, tmp_path):
    plan = recorded_plan(render(Experiment(runs=[Run("r1")], site=SITE)))
    plan["experiment"] = 'Sweep\ntouch PWNED\n"; touch PWNED; echo "'
    again = render(Experiment(runs=[Run("r1")], site=SITE), plan=plan)
    result = submit(again, slurm, "--help")
    assert result.returncode == 0
    assert 'Submits the evaluations of "Sweep\\ntouch PWNED\\n\\"; touch PWNED; echo \\"" at the right time' in result.stdout
    submit(again, slurm, "--dry-run")
    assert not list(Path("/").glob("PWNED")) and not list(again.rglob("PWNED"))


def test_a_task_file_missing_at_render_time_is_checked_before_it_is_submitted(render, slurm, tmp_path):
    """Rendered before its task file exists, a cell is sent what the era's tasks took; it is
    submitted only once a task file exists that takes exactly those arguments."""
    task_file = tmp_path / "written later" / "task.py"
    experiment = Experiment(runs=[Run("m_base", kind="Base")], tasks=[Task("capitalization", script=str(task_file))], site=SITE)
    directory = render(experiment)
    fixtures = Path(__file__).resolve().parent / "fixtures" / "tasks"

    result = submit(directory, slurm)
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"skipped    m_base/eval/capitalization_base.slurm: task file {task_file} does not exist yet" in result.stdout
    assert submitted(slurm, directory) == []

    task_file.parent.mkdir()
    task_file.write_text((fixtures / "data_only_task.py").read_text())
    result = submit(directory, slurm)
    assert result.returncode == 4, result.stdout + result.stderr
    (line,) = lines_starting(result.stdout, "skipped")
    assert f"{task_file}: @task capitalization has no parameter 'prompt' (it takes data_path, split)" in line
    assert submitted(slurm, directory) == []

    task_file.write_text((fixtures / "args_task.py").read_text())
    result = submit(directory, slurm)
    assert result.returncode == 0, result.stdout + result.stderr
    assert submitted(slurm, directory) == [("m_base/eval/capitalization_base.slurm", NOW)]


def test_a_task_file_written_later_is_read_as_at_render_time(render, slurm, tmp_path):
    """The check before submitting decodes the file as the render does: a UTF-8 BOM is no
    content, and bytes that are not UTF-8 are named with the fix, not a traceback."""
    task_file = tmp_path / "written later" / "task.py"
    experiment = Experiment(runs=[Run("m_base", kind="Base")], tasks=[Task("capitalization", script=str(task_file))], site=SITE)
    directory = render(experiment)
    args_task = (Path(__file__).resolve().parent / "fixtures" / "tasks" / "args_task.py").read_bytes()
    task_file.parent.mkdir()

    task_file.write_bytes("# Capitalisé\n".encode("cp1252") + args_task)
    result = submit(directory, slurm)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert lines_starting(result.stdout, "skipped") == [
        f"skipped    m_base/eval/capitalization_base.slurm: {task_file}: is not UTF-8 text: byte 0xe9 at byte offset "
        "11 (line 1) cannot be decoded; save the file as UTF-8 (for example `iconv -f cp1252 -t utf-8 FILE > NEW`)"]

    task_file.write_bytes(codecs.BOM_UTF8 + args_task)
    result = submit(directory, slurm)
    assert result.returncode == 0, result.stdout + result.stderr
    assert submitted(slurm, directory) == [("m_base/eval/capitalization_base.slurm", NOW)]


def test_a_second_submitter_in_the_same_experiment_submits_nothing(experiment_dir, slurm):
    """One submitter at a time: while another pass holds the lock (a --watch in tmux), a pass
    by hand stops before its first squeue, naming the reason; --status and --dry-run still run."""
    with open(experiment_dir / "submit_evals.sh") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = submit(experiment_dir, slurm, "--run", "a")
        assert result.returncode == 7, result.stdout + result.stderr
        assert "another submit_evals.sh is submitting in this experiment" in result.stderr
        assert slurm.calls("sbatch") == [] and slurm.calls("squeue") == []
        assert submit(experiment_dir, slurm, "--status").returncode == 6
        assert submit(experiment_dir, slurm, "--dry-run", "--run", "a").returncode == 0
    result = submit(experiment_dir, slurm, "--run", "a")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(slurm.calls("sbatch")) == 4


def test_a_slurm_command_that_hangs_is_an_error_naming_it(experiment_dir, slurm):
    result = submit(experiment_dir, slurm, "--run", "a", SQUEUE_HANGS="1", SUBMIT_EVALS_SLURM_TIMEOUT="1")
    assert result.returncode == 1
    assert "error: squeue did not answer within 1 s (SUBMIT_EVALS_SLURM_TIMEOUT)" in result.stderr
    assert slurm.calls("sbatch") == []
    result = submit(experiment_dir, slurm, "--run", "m_base", SBATCH_HANGS="1", SUBMIT_EVALS_SLURM_TIMEOUT="1")
    assert result.returncode == 1
    (line, *_) = lines_starting(result.stdout, "FAILED")
    assert "sbatch did not answer within 1 s: the job may have been submitted all the same" in line


def test_sbatchs_plain_answer_is_read_as_the_job_id(experiment_dir, slurm):
    result = submit(experiment_dir, slurm, "--run", "m_base", SBATCH_PLAIN="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "submitted  m_base/eval/t1_base.slurm: job 1001" in result.stdout.splitlines()
    assert (experiment_dir / "m_base/eval/logs/.t1_base.job").read_text() == "1001\n"


def test_a_dry_run_counts_the_commands_it_shows(experiment_dir, slurm):
    result = submit(experiment_dir, slurm, "--dry-run", "--run", "a")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(lines_starting(result.stdout, "dry-run")) == 4
    assert result.stdout.splitlines()[-2] == "dry run: 4 sbatch commands shown, none run"


def test_a_recorded_job_limit_that_is_no_number_stops_with_its_value(experiment_dir, slurm):
    """A hand-edited answers file can put anything in the plan's max_jobs; bash arithmetic
    on it would fail in the middle of a pass."""
    script = experiment_dir / "submit_evals.sh"
    text = script.read_text()
    assert "PLAN_MAX_JOBS=''\n" in text
    script.write_text(text.replace("PLAN_MAX_JOBS=''\n", "PLAN_MAX_JOBS=123456789012345\n"))
    result = submit(experiment_dir, slurm, "--run", "a")
    assert result.returncode == 2
    assert "the recorded Max jobs '123456789012345' is not a number of jobs from 1 to 999999999" in result.stderr
    assert slurm.calls("sbatch") == []


def test_a_done_mark_stands_for_the_log_it_names(experiment_dir, slurm):
    """The mark names its successful log: once that log is deleted, the cell runs again, even
    beside an older error or cancelled log of it. A mark of an older script names no log:
    any log of the cell still makes it done."""
    cell, logs = "a/eval/t1_epoch0.slurm", experiment_dir / "a/eval/logs"
    earlier = logs / "2026-11-28T10-00-00-00-00_t1_epoch0_OLDERerrorLogXXXXXXXXX.eval"
    earlier.write_bytes(b"PK")
    success = logs / "2026-11-28T13-02-44-00-00_t1_epoch0_mhfs6WepoxGqhXmaGWDxgi.eval"
    success.write_bytes(b"PK")
    (logs / ".t1_epoch0.complete").write_text(f"{fingerprint_of(experiment_dir, cell)} {success.name}\n")
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0")
    assert "done       a/eval/t1_epoch0.slurm: already has a successful inspect log" in result.stdout
    assert slurm.calls("sbatch") == []
    success.unlink()
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0")
    assert [name for name, _ in submitted(slurm, experiment_dir)] == [cell]
    # An older script's mark (the fingerprint alone): the error log left is taken as before.
    slurm.seed()
    (logs / ".t1_epoch0.complete").write_text(f"{fingerprint_of(experiment_dir, cell)}\n")
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0")
    assert slurm.calls("sbatch") == [], result.stdout
