"""Where each cell's files live and how its inspect log is named: the one definition.

The cell scripts, submit_evals.sh and collect_results.py all take these names from the plan,
never rebuild them: a log is the cell's when inspect named it after the cell, and the done
mark exists only after the script read that log's status as `success`.
"""

from __future__ import annotations

import re

BASE_EPOCH = "base"  # what a base-model cell says where a fine-tuned one names its epoch


def cell_name(task: str, epoch: int | None) -> str:
    """The script's file name without .slurm: `{task}_epoch{N}` or `{task}_base`."""
    return f"{task}_base" if epoch is None else f"{task}_epoch{epoch}"


# Slurm refuses a job name longer than this ("Pathname ... too long"; measured on Slurm 22.05:
# 1,024 characters pass, 1,025 do not). Names here are far shorter: see test_protocol.py.
SLURM_JOB_NAME_MAX = 1024


def job_name(task: str, run_dir: str, epoch: int | None) -> str:
    """The seed's `eval-{task}-{run}`, then the epoch (`-epoch1`): squeue shows it, so people
    recognise their jobs, and the epochs of one run look different there. A cell evaluated
    once (a base model, an eval-only checkpoint) has no epoch to add."""
    prefix = f"eval-{task}-{run_dir}"
    return prefix if epoch is None else f"{prefix}-epoch{epoch}"


def eval_dir(run_dir: str) -> str:
    return f"{run_dir}/eval"


def script_path(run_dir: str, name: str) -> str:
    """Relative to the experiment directory, like every path this module gives."""
    return f"{eval_dir(run_dir)}/{name}.slurm"


def config_file(run_dir: str, name: str) -> str:
    """The cell's config file, in cruijff_kit's eval.yaml form, for a task that reads its
    prompt from one: beside the script, named after the cell."""
    return f"{eval_dir(run_dir)}/{name}.eval.yaml"


def log_dir(run_dir: str) -> str:
    # All epochs of a run share one log directory: the file name says which cell a log is.
    return f"{eval_dir(run_dir)}/logs"


def done_mark(run_dir: str, name: str) -> str:
    return f"{log_dir(run_dir)}/.{name}.complete"


def failed_mark(run_dir: str, name: str) -> str:
    """Left instead of the done mark, holding why the cell failed (the log and inspect's
    error, or the missing checkpoint): submit_evals.sh --status shows it."""
    return f"{log_dir(run_dir)}/.{name}.failed"


def job_record(run_dir: str, name: str) -> str:
    """The id of the cell's newest job, written by submit_evals.sh, so --status asks sacct."""
    return f"{log_dir(run_dir)}/.{name}.job"


# What a cost file's name holds where its job fills in its id: a cell's jobs each write their
# own, so a rerun never overwrites what an earlier attempt measured.
JOB_ID = "{job}"


def job_times(run_dir: str, name: str) -> str:
    """When one job of the cell started and ended (epoch seconds and ISO), a CSV the cell
    script writes beside its logs: collect_results.py's compute.csv reads it."""
    return f"{log_dir(run_dir)}/{name}.job{JOB_ID}.time.csv"


def gpu_samples(run_dir: str, name: str) -> str:
    """nvidia-smi's samples during one job of the cell (GPU_QUERY, every GPU_INTERVAL s)."""
    return f"{log_dir(run_dir)}/{name}.job{JOB_ID}.gpu.csv"


# What the cell scripts ask nvidia-smi, and how often (seconds): collect_results.py reads
# the columns by these names from the header nvidia-smi writes.
GPU_QUERY = "timestamp,index,utilization.gpu,memory.used,memory.total"
GPU_INTERVAL = 5


def job_of(pattern: str, file_name: str) -> str | None:
    """The job id in `file_name` when it is named by `pattern`'s file name (job_times,
    gpu_samples), else None. A job id is letters, digits and `-` (a Slurm job id, or
    `local-PID` for a script run with bash): never a dot, so cells never share a file."""
    prefix, _, suffix = pattern.rpartition("/")[2].partition("{job}")
    if not (file_name.startswith(prefix) and file_name.endswith(suffix)):
        return None
    job = file_name[len(prefix):len(file_name) - len(suffix)]
    return job if re.fullmatch(r"[0-9A-Za-z-]+", job) else None


def attempts_record(run_dir: str, name: str) -> str:
    """Every job submit_evals.sh submitted for the cell, a line each: job id, its final state
    once known (`-` before), the memory and time it asked for, and the cell's fingerprint
    then (absent in older lines). It holds the attempt limit (failed jobs of the current
    fingerprint) and what a retry doubles; --status shows it."""
    return f"{log_dir(run_dir)}/.{name}.attempts"


# The warning a cell's job asks Slurm for before its time limit (`#SBATCH --signal=B:USR1@120`,
# to the batch shell only): the script then stops inspect with SIGINT, which writes every
# finished sample to the log, and the next job continues that log (inspect eval-retry).
# Slurm may send it up to a minute early; 120 s leaves a large model time to stop.
WARNING_SIGNAL = "USR1"
WARNING_SECONDS = 120


def warning_signal_option() -> str:
    """The `--signal` value of every cell's header."""
    return f"B:{WARNING_SIGNAL}@{WARNING_SECONDS}"


def log_file_pattern(name: str) -> str:
    """inspect's INSPECT_EVAL_LOG_FILE_PATTERN for the cell: logs become
    `{timestamp}_{name}_{id}.eval`, and neither the timestamp nor the id holds a `_`."""
    return f"{name}_{{id}}"


# inspect names a log `{created}_{pattern}.eval` (inspect_ai/_util/log_layout.py): `created`
# is the start to the second, 25 characters once cleaned (2026-11-28T17-39-53-00-00), and
# {id} the task's id, a 22-character shortuuid.
INSPECT_CREATED = "2026-11-28T17-39-53-00-00"
INSPECT_ID_LENGTH = 22


def log_file_name(name: str) -> str:
    """A log file name as inspect gives the cell's logs, and as long as each of them."""
    return f"{INSPECT_CREATED}_{log_file_pattern(name).replace('{id}', 'x' * INSPECT_ID_LENGTH)}.eval"


def log_cell(file_name: str) -> str | None:
    """The cell a log file is named after (the inverse of log_file_pattern), or None."""
    stem, dot, extension = file_name.rpartition(".")
    if not dot or extension not in ("eval", "json"):
        return None
    parts = stem.split("_")
    if len(parts) < 3:
        return None
    return "_".join(parts[1:-1])


# log_cell's rule in bash, for the cell scripts and submit_evals.sh (bash cannot import this
# module): `find_cell_logs DIR CELL` sets the array CELL_LOGS to the .eval logs in DIR that
# are CELL's, oldest first (their names start with their time). An array, not printed
# lines, so submit_evals.sh asks for a thousand cells without a subshell each.
FIND_CELL_LOGS_SH = r"""find_cell_logs() {
  local log stem
  CELL_LOGS=()
  for log in "$1"/*_"$2"_*.eval; do
    [ -e "$log" ] || continue
    stem=${log##*/}
    stem=${stem%.eval}
    stem=${stem#*_}
    [ "${stem%_*}" != "$2" ] || CELL_LOGS+=("$log")
  done
}"""


# `inspect eval` options that change which samples run, how often, or how far each goes:
# inspect reads each from an INSPECT_EVAL_<OPTION> variable, in the environment or in a .env
# file it finds from the job's directory upward. A job refuses to start with one set (a limit
# and a sample subset also show in the log, which the job checks afterwards).
EVALUATION_CHANGING_OPTIONS = (
    "limit", "sample_id", "sample_shuffle", "epochs", "epochs_reducer",
    "message_limit", "token_limit", "turn_limit", "time_limit", "working_limit", "cost_limit",
)

# The generation settings (and what replaces the solver or the scoring) that an INSPECT_EVAL_*
# variable would impose over the task's own: a log records them merged with the task's
# GenerateConfig, so they are checked before inspect runs, except those the script passes.
GENERATION_OPTIONS = (
    "system_message", "max_tokens", "top_p", "temperature", "stop_seqs", "best_of", "frequency_penalty",
    "presence_penalty", "logit_bias", "seed", "top_k", "num_choices", "reasoning_effort", "reasoning_tokens",
    "effort", "response_schema", "generate_config", "solver", "no_score",
)
