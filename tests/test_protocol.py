"""The names every consumer of a cell shares: script, log directory, done mark, log files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from extensions import protocol
from extensions.epochs import MAX_EPOCHS
from extensions.names import MAX_NAME_LENGTH


def test_paths_of_a_fine_tuned_and_a_base_cell():
    assert protocol.cell_name("cap", 2) == "cap_epoch2"
    assert protocol.cell_name("cap", None) == "cap_base"
    assert protocol.script_path("r8", "cap_epoch2") == "r8/eval/cap_epoch2.slurm"
    assert protocol.log_dir("r8") == "r8/eval/logs"
    assert protocol.done_mark("r8", "cap_epoch2") == "r8/eval/logs/.cap_epoch2.complete"
    assert protocol.failed_mark("r8", "cap_epoch2") == "r8/eval/logs/.cap_epoch2.failed"
    assert protocol.job_record("r8", "cap_epoch2") == "r8/eval/logs/.cap_epoch2.job"
    assert protocol.job_times("r8", "cap_epoch2") == "r8/eval/logs/cap_epoch2.job{job}.time.csv"
    assert protocol.gpu_samples("r8", "cap_epoch2") == "r8/eval/logs/cap_epoch2.job{job}.gpu.csv"


def test_job_names_tell_the_epochs_of_a_run_apart():
    assert protocol.job_name("cap", "r8", 0) == "eval-cap-r8-epoch0"
    assert protocol.job_name("cap", "r8", 1) == "eval-cap-r8-epoch1"
    assert protocol.job_name("cap", "Llama-3.2-1B_base", None) == "eval-cap-Llama-3.2-1B_base"


def test_the_longest_job_name_is_within_slurms_limit():
    """The longest run directory, task name and epoch the parsers accept give a job name
    far under the 1,024 characters Slurm takes."""
    name = protocol.job_name("t" * MAX_NAME_LENGTH, "r" * MAX_NAME_LENGTH + "_base", MAX_EPOCHS - 1)
    assert len(name) == 221 <= protocol.SLURM_JOB_NAME_MAX


@pytest.mark.parametrize("cell", ["cap_epoch0", "cap_6L_epoch1", "word_count_base", "a.b+c-d_epoch10"])
def test_log_cell_inverts_the_file_pattern_inspect_is_given(cell):
    # inspect fills {id} with a short uuid and puts `{timestamp}_` in front.
    name = "2026-11-28T17-39-53+00-00_" + protocol.log_file_pattern(cell).replace("{id}", "Xk3VbQ9") + ".eval"
    assert protocol.log_cell(name) == cell


@pytest.mark.parametrize("file_name", ["notes.txt", "cap_epoch0.eval", ".cap_epoch0.complete", "x_y.json"])
def test_files_that_are_no_cell_log(file_name):
    assert protocol.log_cell(file_name) is None


def test_the_longest_names_fit_every_file_system():
    """Why checks.py checks the length of paths but not of names: with the longest run and
    task names the parser accepts and the highest epoch, every name the template writes fits
    eCryptfs's 143 bytes (the smallest NAME_MAX in common use), and inspect's log fits 255."""
    run_dir = "r" * MAX_NAME_LENGTH + "_base"  # a base run's directory is the longest
    name = protocol.cell_name("t" * MAX_NAME_LENGTH, MAX_EPOCHS - 1)
    written = [protocol.script_path(run_dir, name), protocol.done_mark(run_dir, name),
               protocol.failed_mark(run_dir, name), protocol.job_record(run_dir, name)]
    # A job's own files, with a job id of 10 digits (a 32-bit number has at most 10).
    job = "9" * 10
    written += [protocol.job_times(run_dir, name).replace(protocol.JOB_ID, job),
                protocol.gpu_samples(run_dir, name).replace(protocol.JOB_ID, job)]
    longest = max(len(part) for path in written for part in path.split("/"))
    assert longest == len(name) + len(".job") + len(job) + len(".time.csv") == 133
    assert longest <= 143
    # inspect names a log `{timestamp}_{pattern}.eval`, filling {id} with a 22-character uuid.
    log = "2026-11-28T17-39-53+00-00_" + protocol.log_file_pattern(name).replace("{id}", "x" * 22) + ".eval"
    assert len(log) == 164 <= 255


def test_the_bash_rule_finds_exactly_the_logs_log_cell_gives_the_cell(tmp_path):
    """The rendered scripts find a cell's logs with protocol.FIND_CELL_LOGS_SH: run by real
    bash, it must agree with log_cell. Task names share underscores and prefixes, so a glob
    alone would take `b_a_epoch1`'s log for `a_epoch1`'s."""
    cells = ["a_epoch1", "b_a_epoch1", "a_epoch10", "cap_6L_base", "cap_base", "x.y+z-w_epoch0"]
    names = ["2026-11-28T17-39-53+00-00_" + protocol.log_file_pattern(cell).replace("{id}", f"Xk3Vb{i}") + ".eval"
             for i, cell in enumerate(cells)]
    names += ["notes.eval", "2026-11-28T17-39-53+00-00_a_epoch1_Xk3Vb9.json", "a_epoch1.eval"]
    for name in names:
        (tmp_path / name).write_text("")
    for cell in cells:
        script = f'{protocol.FIND_CELL_LOGS_SH}\nfind_cell_logs "$1" "$2"\nprintf "%s\\n" "${{CELL_LOGS[@]}}"'
        found = subprocess.run(["bash", "-c", script, "bash", str(tmp_path), cell], capture_output=True, text=True, check=True)
        by_bash = sorted(Path(line).name for line in found.stdout.splitlines() if line)
        by_python = sorted(name for name in names if name.endswith(".eval") and protocol.log_cell(name) == cell)
        assert by_bash == by_python and len(by_python) == 1, cell


@pytest.mark.parametrize("cell", ["cap_epoch0", "t" * MAX_NAME_LENGTH + "_epoch9999", "word_count_base"])
def test_the_log_name_checks_py_measures_is_as_long_as_inspects_own(cell, monkeypatch):
    """checks.py refuses a cell whose logs inspect could not create: the name it measures is as
    long as the one inspect's own code gives the cell's log, with a real start time and id."""
    from inspect_ai._util.dateutil import iso_now
    from inspect_ai._util.log_layout import eval_log_name
    from shortuuid import uuid

    monkeypatch.setenv("INSPECT_EVAL_LOG_FILE_PATTERN", protocol.log_file_pattern(cell))
    by_inspect = eval_log_name(task="capitalization", task_id=uuid(), created=iso_now(), model="hf/local") + ".eval"
    assert protocol.log_cell(by_inspect) == protocol.log_cell(protocol.log_file_name(cell)) == cell
    assert len(protocol.log_file_name(cell)) == len(by_inspect)
