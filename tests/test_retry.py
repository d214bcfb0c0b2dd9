"""submit_evals.sh --only-missing retries with more (issue 19, item 1): a cell whose last job
ran out of memory goes again with twice the memory, one that ran out of time with twice the
time, up to the cluster's ceiling and an attempt limit; a task that raised is held back.

The recorders of test_submit.py stand in for sbatch, squeue, sacct, sacctmgr, scontrol and
sinfo; what the sacct stand-in prints is checked against real sacct's lines in tests/e2e.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess

import pytest

from tests.experiment import SITE, Experiment, Run
from tests.test_submit import (  # noqa: F401  (slurm, experiment_dir: fixtures)
    fingerprint_of,
    training_job,
    SACCT_LINE,
    _SACCT,
    experiment_dir,
    finish,
    mark_failed,
    record_job,
    slurm,
    submit,
    submitted,
)

# As `scontrol --oneliner show partition e2e` prints it on Slurm 22.05 (tests/e2e), with the
# limits of a partition that has them.
PARTITION = ("PartitionName=e2e AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL Default=YES QoS=N/A "
             "DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO MaxNodes=UNLIMITED "
             "MaxTime={max_time} MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED Nodes=e2e-node State=UP TotalCPUs=16 "
             "TotalNodes=1 SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED "
             "MaxMemPerNode={max_mem} TRES=cpu=16,mem=1000000M,node=1,billing=16")
CLUSTER = {"SCONTROL_PARTITION": PARTITION.format(max_time="2-00:00:00", max_mem="UNLIMITED"), "SINFO_MEM": "1000000"}
CELL = "a/eval/t1_epoch0.slurm"
ATTEMPTS = "a/eval/logs/.t1_epoch0.attempts"


def sacct(**jobs: dict | str) -> str:
    """The SACCT stand-in's answers: job id (after a `j`) -> its state or its fields."""
    return json.dumps({name.removeprefix("j"): value for name, value in jobs.items()})


def options_of(slurm, directory, script: str) -> list[str]:
    return [options for path, options in submitted(slurm, directory) if path == script][0]


def test_out_of_memory_doubles_the_memory_and_timeout_the_time(experiment_dir, slurm):
    record_job(experiment_dir, CELL, 31)
    record_job(experiment_dir, "a/eval/t1_epoch1.slurm", 32)
    record_job(experiment_dir, "a/eval/t2_epoch0.slurm", 33)
    answers = sacct(j31={"State": "OUT_OF_MEMORY", "ReqMem": "32G", "Timelimit": "00:40:00"},
                    j32={"State": "TIMEOUT", "ReqMem": "32G", "Timelimit": "00:40:00"},
                    j33={"State": "NODE_FAIL", "ReqMem": "32G", "Timelimit": "00:40:00"})
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", SACCT=answers, **CLUSTER)
    assert result.returncode == 0, result.stdout + result.stderr
    assert submitted(slurm, experiment_dir) == [
        (CELL, ["--parsable", "--mem=64G"]),
        ("a/eval/t1_epoch1.slurm", ["--parsable", "--time=0-01:20:00"]),
        ("a/eval/t2_epoch0.slurm", ["--parsable"]),  # not a lack of memory or time: as it was
        ("a/eval/t2_epoch1.slurm", ["--parsable"]),  # never submitted
    ]
    lines = result.stdout.splitlines()
    assert "retry      a/eval/t1_epoch0.slurm: job 31 ended OUT_OF_MEMORY with 32G: attempt 2 of 3 with --mem=64G" in lines
    assert "retry      a/eval/t1_epoch1.slurm: job 32 ended TIMEOUT after 0-00:40:00: attempt 2 of 3 with --time=0-01:20:00" in lines
    assert "retry      a/eval/t2_epoch0.slurm: job 33 ended NODE_FAIL: attempt 2 of 3" in lines
    assert "submitted  a/eval/t1_epoch0.slurm: job 1001" in lines
    # The earlier job gets its final state, the new one what it asked for beyond its script.
    # Each new line ends with the fingerprint of the inputs it was made with.
    fingerprint = fingerprint_of(experiment_dir, CELL)
    assert (experiment_dir / ATTEMPTS).read_text() == f"31 OUT_OF_MEMORY - -\n1001 - 64G - {fingerprint}\n"
    assert (experiment_dir / "a/eval/logs/.t1_epoch1.attempts").read_text() == (
        f"32 TIMEOUT - -\n1002 - - 0-01:20:00 {fingerprint_of(experiment_dir, 'a/eval/t1_epoch1.slurm')}\n")
    assert (experiment_dir / "a/eval/logs/.t2_epoch1.attempts").read_text() == (
        f"1004 - - - {fingerprint_of(experiment_dir, 'a/eval/t2_epoch1.slurm')}\n")
    # One sacct call for the pass, asking for every cell's last job.
    (call,) = slurm.calls("sacct")
    assert "--jobs=31,32,33" in call["argv"]
    # The partition is asked once for the two ceilings it gives.
    assert len(slurm.calls("scontrol")) == 1


@pytest.mark.parametrize(("req_mem", "cpus", "option"), [
    ("32G", "1", "--mem=64G"),
    ("4000M", "2", "--mem=8000M"),  # 22.05 gives --mem-per-cpu=2000 -c 2 as the node's 4000M
    ("1.50G", "1", "--mem=3G"),
    ("4000Mn", "1", "--mem=8000M"),  # before Slurm 21.08: per node
    ("2000Mc", "4", "--mem=16000M"),  # before Slurm 21.08: per CPU
])
def test_the_memory_sacct_gives_in_each_of_its_forms(experiment_dir, slurm, req_mem, cpus, option):
    record_job(experiment_dir, CELL, 31)
    answers = sacct(j31={"State": "OUT_OF_MEMORY", "ReqMem": req_mem, "ReqCPUS": cpus})
    submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0", SACCT=answers, **CLUSTER)
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable", option]


@pytest.mark.parametrize(("timelimit", "option"), [
    ("01:00:00", "--time=0-02:00:00"),
    ("1-00:00:00", "--time=1-12:00:00"),  # twice is more than MaxTime: the ceiling
    ("00:00:45", "--time=0-00:01:30"),
    ("UNLIMITED", "--time=0-01:00:00"),  # sacct says none: the script's 0:30:00, doubled
])
def test_the_time_sacct_gives_in_each_of_its_forms(experiment_dir, slurm, timelimit, option):
    record_job(experiment_dir, CELL, 31)
    answers = sacct(j31={"State": "TIMEOUT", "Timelimit": timelimit})
    cluster = {**CLUSTER, "SCONTROL_PARTITION": PARTITION.format(max_time="1-12:00:00", max_mem="UNLIMITED")}
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0",
                    SACCT=answers, **cluster)
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable", option]
    if timelimit == "1-00:00:00":
        assert "twice that is more than the ceiling 1-12:00:00 (partition e2e MaxTime)" in result.stdout


def test_growth_stops_at_the_ceiling_slurm_gives_and_says_so(experiment_dir, slurm):
    record_job(experiment_dir, CELL, 31)
    record_job(experiment_dir, "a/eval/t1_epoch1.slurm", 32)
    answers = sacct(j31={"State": "OUT_OF_MEMORY", "ReqMem": "1000000M"}, j32={"State": "OUT_OF_MEMORY", "ReqMem": "600G"})
    cluster = {**CLUSTER, "SCONTROL_PARTITION": PARTITION.format(max_time="UNLIMITED", max_mem="768000")}
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", SACCT=answers, **cluster)
    assert result.returncode == 8, result.stdout + result.stderr
    assert ("HELD       a/eval/t1_epoch0.slurm: job 31 ended OUT_OF_MEMORY with 1000000M, already the most a job may have"
            " (partition e2e MaxMemPerNode)") in result.stdout.splitlines()
    assert options_of(slurm, experiment_dir, "a/eval/t1_epoch1.slurm") == ["--parsable", "--mem=750G"]
    assert result.stdout.splitlines()[-1].endswith("0 failed, 0 refused, 1 held back")


def test_where_slurm_says_no_ceiling_the_stated_default_is_used_and_named(experiment_dir, slurm):
    record_job(experiment_dir, CELL, 31)
    answers = sacct(j31={"State": "TIMEOUT", "Timelimit": "5-00:00:00"})
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0", SACCT=answers)
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable", "--time=7-00:00:00"]
    assert ("twice that is more than the ceiling 7-00:00:00 (no limit found in Slurm: the default"
            " SUBMIT_EVALS_MAX_TIME=7-00:00:00)") in result.stdout
    slurm.seed()  # job 1001 left the queue
    submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0",
           SACCT=sacct(j1001={"State": "TIMEOUT", "Timelimit": "7-00:00:00"}), SUBMIT_EVALS_MAX_TIME="10-00:00:00")
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable", "--time=10-00:00:00"]


def test_where_slurm_says_no_ceiling_claude_local_mds_caps_hold(render, slurm, tmp_path):
    checkpoints = tmp_path / "ck"
    for run in ("a", "b"):
        (checkpoints / f"ck-out-{run}" / "epoch_0").mkdir(parents=True)
    site = SITE.replace("- **Account**", "- **Max time**: 1-00:00:00\n- **Max memory**: 256G\n- **Account**")
    assert site != SITE
    directory = render(Experiment(runs=[Run(run, output_dir_base=str(checkpoints)) for run in ("a", "b")], site=site))
    record_job(directory, "a/eval/capitalization_epoch0.slurm", 31)
    record_job(directory, "b/eval/capitalization_epoch0.slurm", 32)
    answers = sacct(j31={"State": "TIMEOUT", "Timelimit": "16:00:00"}, j32={"State": "OUT_OF_MEMORY", "ReqMem": "200G"})
    result = submit(directory, slurm, "--only-missing", SACCT=answers)
    assert result.returncode == 0, result.stdout + result.stderr
    assert options_of(slurm, directory, "a/eval/capitalization_epoch0.slurm") == ["--parsable", "--time=1-00:00:00"]
    assert options_of(slurm, directory, "b/eval/capitalization_epoch0.slurm") == ["--parsable", "--mem=256G"]
    assert ("twice that is more than the ceiling 1-00:00:00 (no limit found in Slurm: claude.local.md's Max time"
            " 1-00:00:00)") in result.stdout
    assert ("twice that is more than the ceiling 256G (no limit found in Slurm: claude.local.md's Max memory"
            " 256G)") in result.stdout


def test_the_qos_max_wall_is_a_ceiling_too(experiment_dir, slurm):
    record_job(experiment_dir, CELL, 31)
    answers = sacct(j31={"State": "TIMEOUT", "Timelimit": "1-00:00:00", "QOS": "short"})
    submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0",
           SACCT=answers, SACCTMGR_QOS="1-06:00:00", **CLUSTER)
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable", "--time=1-06:00:00"]
    (call,) = [call for call in slurm.calls("sacctmgr") if "qos" in call["argv"]]
    assert call["argv"][-2:] == ["name=short", "format=MaxWall"]


def test_grown_resources_are_kept_and_the_attempt_limit_holds_a_cell_back(experiment_dir, slurm):
    record_job(experiment_dir, CELL, 31)
    first = sacct(j31={"State": "OUT_OF_MEMORY", "ReqMem": "32G"})
    submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0", SACCT=first, **CLUSTER)
    slurm.seed()  # job 1001 left the queue
    # It then ran out of time, with the memory it was given: both grow.
    second = sacct(j1001={"State": "TIMEOUT", "ReqMem": "64G", "Timelimit": "00:40:00"})
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0",
                    SACCT=second, **CLUSTER)
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable", "--time=0-01:20:00", "--mem=64G"]
    assert "attempt 3 of 3 with --time=0-01:20:00 --mem=64G" in result.stdout
    slurm.seed()
    third = sacct(j1002="FAILED")
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0",
                    SACCT=third, **CLUSTER)
    assert result.returncode == 8
    assert slurm.calls("sbatch") == []
    assert "HELD       a/eval/t1_epoch0.slurm: 3 failed jobs already, the last FAILED (--max-attempts 3)" in result.stdout
    result = submit(experiment_dir, slurm, "--only-missing", "--max-attempts", "4", "--run", "a", "--task", "t1",
                    "--epoch", "0", SACCT=third, **CLUSTER)
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable", "--mem=64G", "--time=0-01:20:00"]
    # --status shows the history of a cell submitted more than once.
    slurm.seed()
    status = submit(experiment_dir, slurm, "--status", "--run", "a", "--task", "t1", "--epoch", "0",
                    SACCT=sacct(j31="OUT_OF_MEMORY", j1001="TIMEOUT", j1002="FAILED", j1003="OUT_OF_MEMORY"))
    assert status.stdout.splitlines()[:5] == [
        "failed             a/eval/t1_epoch0.slurm: job 1003 OUT_OF_MEMORY (sacct)",
        "                   attempt 1: job 31 OUT_OF_MEMORY, as its script asks",
        "                   attempt 2: job 1001 TIMEOUT, --mem=64G",
        "                   attempt 3: job 1002 FAILED, --mem=64G --time=0-01:20:00",
        "                   attempt 4: job 1003 OUT_OF_MEMORY, --mem=64G --time=0-01:20:00",
    ]
    (call,) = slurm.calls("sacct")
    assert "--jobs=1003,31,1001,1002" in call["argv"]


def test_a_task_that_raised_is_held_back_unless_asked(experiment_dir, slurm):
    record_job(experiment_dir, CELL, 31)
    mark_failed(experiment_dir, CELL, "/x/logs/l.eval: status error: RuntimeError('boom')")
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0",
                    SACCT=sacct(j31="FAILED"), **CLUSTER)
    assert result.returncode == 8
    assert slurm.calls("sbatch") == []
    assert ("HELD       a/eval/t1_epoch0.slurm: its task raised (/x/logs/l.eval: status error: RuntimeError('boom')):"
            " it would raise again; fix it, or give --retry-errors") in result.stdout
    result = submit(experiment_dir, slurm, "--only-missing", "--retry-errors", "--run", "a", "--task", "t1", "--epoch", "0",
                    SACCT=sacct(j31="FAILED"), **CLUSTER)
    assert result.returncode == 0
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable"]


def test_dry_run_shows_the_options_a_retry_gets(experiment_dir, slurm):
    record_job(experiment_dir, CELL, 31)
    result = submit(experiment_dir, slurm, "--only-missing", "--dry-run", "--run", "a", "--task", "t1", "--epoch", "0",
                    SACCT=sacct(j31={"State": "OUT_OF_MEMORY", "ReqMem": "32G"}), **CLUSTER)
    assert f"dry-run    cd {experiment_dir}/a/eval && sbatch --mem=64G t1_epoch0.slurm" in result.stdout.splitlines()
    assert slurm.calls("sbatch") == []
    assert not (experiment_dir / ATTEMPTS).exists()


def test_the_sacct_stand_in_prints_what_real_sacct_prints(tmp_path):
    """The lines the stand-in gives match the form of real sacct's, which tests/e2e checks
    against Slurm 22.05's own output with the same pattern."""
    stand_in = tmp_path / "sacct"
    stand_in.write_text("import json, os, sys\nargs = sys.argv[1:]\n" + _SACCT)
    answers = sacct(j7="TIMEOUT", j8={"State": "OUT_OF_MEMORY", "ReqMem": "4000M", "Timelimit": "1-00:00:00"})
    out = subprocess.run(
        ["python3", str(stand_in), "--noheader", "--parsable2", "--jobs=7,8",
         "--format=JobIDRaw,State,ReqMem,Timelimit,Partition,QOS,ReqCPUS"],
        capture_output=True, text=True, env={"SACCT": answers, "PATH": "/usr/bin:/bin"}, check=True).stdout
    lines = out.splitlines()
    assert lines == ["7|TIMEOUT|1G|UNLIMITED|e2e|normal|1", "8|OUT_OF_MEMORY|4000M|1-00:00:00|e2e|normal|1"]
    assert all(re.fullmatch(SACCT_LINE, line) for line in lines)


def test_watch_with_only_missing_follows_each_job_to_its_end_and_retries_it(experiment_dir, slurm):
    """Every look but the first finds the oldest job gone (SQUEUE_DRAIN=1); sacct says how each ended."""
    answers = sacct(j1001={"State": "TIMEOUT", "Timelimit": "00:30:00"},
                    j1002={"State": "TIMEOUT", "Timelimit": "01:00:00"})
    result = submit(experiment_dir, slurm, "--watch", "0.1", "--only-missing", "--max-attempts", "2",
                    "--run", "a", "--task", "t1", "--epoch", "0", SACCT=answers, SQUEUE_DRAIN="1", **CLUSTER)
    assert result.returncode == 8, result.stdout + result.stderr
    assert submitted(slurm, experiment_dir) == [(CELL, ["--parsable"]), (CELL, ["--parsable", "--time=0-01:00:00"])]
    lines = result.stdout.splitlines()
    assert "watching: looking again every 0.1 s until every cell is done or held back (Ctrl-C stops)" in lines
    assert "retry      a/eval/t1_epoch0.slurm: job 1001 ended TIMEOUT after 0-00:30:00: attempt 2 of 2 with --time=0-01:00:00" in lines
    assert "HELD       a/eval/t1_epoch0.slurm: 2 failed jobs already, the last TIMEOUT (--max-attempts 2)" in lines
    # One squeue call per look, and one sacct call once there is a job to ask about.
    assert len(slurm.calls("squeue")) == 3
    assert len(slurm.calls("sacct")) == 2


def test_watch_waits_for_accounting_to_have_the_end_of_a_job(experiment_dir, slurm):
    """A job out of the queue that sacct still shows RUNNING is looked at again, not retried blind."""
    answers = sacct(j1001={"State": "RUNNING"})
    job = subprocess.Popen(
        [str(experiment_dir / "submit_evals.sh"), "--watch", "0.1", "--only-missing", "--run", "a", "--task", "t1",
         "--epoch", "0"],
        stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PATH": f"{slurm.bin_dir}:{os.environ['PATH']}",
             "RECORD_DIR": str(slurm.state), "SACCT": answers, "SQUEUE_DRAIN": "1", **CLUSTER})
    try:
        # It keeps looking: wait for the fifth sacct call, then stop it as a user does.
        while len(slurm.calls("sacct")) < 5:
            assert job.poll() is None, job.stdout.read()
        assert len(slurm.calls("sbatch")) == 1
    finally:
        job.send_signal(signal.SIGINT)
        job.communicate(timeout=60)


def test_the_memory_ceiling_is_the_largest_nodes_not_the_smallest(experiment_dir, slurm):
    # A partition of small and large nodes lets one job have a large node's memory: a 200G
    # job that ran out goes again with more, up to the largest node (sinfo, a line per kind).
    record_job(experiment_dir, CELL, 31)
    answers = sacct(j31={"State": "OUT_OF_MEMORY", "ReqMem": "200G"})
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0",
                    SACCT=answers, **{**CLUSTER, "SINFO_MEM": "96000\n1031000+\n512000"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable", "--mem=400G"]
    # MaxMemPerNode still caps it.
    slurm.seed()
    cluster = {"SCONTROL_PARTITION": PARTITION.format(max_time="UNLIMITED", max_mem="300G"),
               "SINFO_MEM": "96000\n1031000"}
    result = submit(experiment_dir, slurm, "--only-missing", "--run", "a", "--task", "t1", "--epoch", "0",
                    SACCT=sacct(j1001={"State": "OUT_OF_MEMORY", "ReqMem": "200G"}), **cluster)
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable", "--mem=300G"]
    assert "(partition e2e MaxMemPerNode)" in result.stdout


def test_jobs_that_succeeded_or_were_made_with_other_inputs_do_not_count_against_the_limit(experiment_dir, slurm):
    """A cell done twice, then made stale by a prompt fix, goes again: its COMPLETED jobs, and
    a failed one made with other inputs (another fingerprint), are no failed attempts of it."""
    finish(experiment_dir, CELL, mark="0123456789abcdef\n")
    (experiment_dir / ATTEMPTS).write_text("30 FAILED - - 0123456789abcdef\n31 COMPLETED - -\n32 - - - 0123456789abcdef\n")
    record_job(experiment_dir, CELL, 32)
    result = submit(experiment_dir, slurm, "--only-missing", "--max-attempts", "1", "--run", "a", "--task", "t1",
                    "--epoch", "0", SACCT=sacct(j32="COMPLETED"), **CLUSTER)
    assert result.returncode == 0, result.stdout + result.stderr
    assert options_of(slurm, experiment_dir, CELL) == ["--parsable"]
    fingerprint = fingerprint_of(experiment_dir, CELL)
    assert (experiment_dir / ATTEMPTS).read_text().splitlines()[-2:] == [
        "32 COMPLETED - - 0123456789abcdef", f"1001 - - - {fingerprint}"]


def test_jobs_cancelled_before_they_started_do_not_count_against_the_limit(experiment_dir, slurm):
    """A chained cell whose training job failed: Slurm cancelled its jobs before they started
    (no time file). A new training job is queued: the cell is chained again, not held."""
    script, attempts = "b/eval/t1_epoch0.slurm", experiment_dir / "b/eval/logs/.t1_epoch0.attempts"
    attempts.write_text("41 CANCELLED - -\n42 - - -\n")
    record_job(experiment_dir, script, 42)
    slurm.seed(training_job(experiment_dir, "b", 500, name="b-train"))
    answers = sacct(j42={"State": "CANCELLED by 0", "Timelimit": "00:40:00"})
    result = submit(experiment_dir, slurm, "--only-missing", "--max-attempts", "1", "--run", "b", "--task", "t1",
                    "--epoch", "0", SACCT=answers)
    assert result.returncode == 0, result.stdout + result.stderr
    assert options_of(slurm, experiment_dir, script)[:2] == ["--parsable", "--dependency=afterok:500"]
    # A cancelled job that started (it wrote its time file) did run, and counts.
    (experiment_dir / "b/eval/logs/t1_epoch0.job1001.time.csv").write_text("event,epoch_seconds\n")
    slurm.seed(training_job(experiment_dir, "b", 501, name="b-train"))
    result = submit(experiment_dir, slurm, "--only-missing", "--max-attempts", "1", "--run", "b", "--task", "t1",
                    "--epoch", "0", SACCT=sacct(j1001="CANCELLED by 0"))
    assert result.returncode == 8, result.stdout + result.stderr
    assert "HELD       b/eval/t1_epoch0.slurm: 1 failed jobs already, the last CANCELLED (--max-attempts 1)" in result.stdout
