#!/bin/bash
# Submits the evaluations of "Capitalization LoRA Rank Sweep (Llama-3.2-1B)" at the right time, within
# the cluster's job limit, and tells where each one stands.
#
# Usage: ./submit_evals.sh [OPTIONS]
#   --dry-run          print the sbatch commands, submit nothing
#   --only-missing     submit only the cells that failed, never ran, or are stale (done
#                      with other inputs than the plan's now); skip done, pending and
#                      running ones
#   --max-jobs N       keep at most N of your jobs pending or running (default: the limit sacctmgr reports for you, else none)
#   --watch [SECONDS]  keep going until every selected cell is out, looking again every
#                      SECONDS (default 60) while cells wait for a slot; Ctrl-C stops it.
#                      With --only-missing, until every cell is done or held back: a job
#                      that ends without success is submitted again (retried with more)
#   --status           one line per selected cell and the counts (and the attempts of a
#                      cell submitted more than once); submits nothing
#   --max-attempts N   with --only-missing, submit a cell that did not succeed again only
#                      while it has had fewer than N failed jobs (default 3): jobs that ran
#                      with its inputs now and did not end COMPLETED
#   --retry-errors     with --only-missing, submit again a cell whose log says its task
#                      raised (held back otherwise: it would raise again)
#   --run RUN, --task TASK, --epoch N|base
#                      select cells (each may be repeated)
#   --after RUN=JOBID  chain RUN's cells to this fine-tuning job
#   -h, --help         show this help
#
# A cell whose checkpoint exists is submitted now; a base-model cell too. A cell whose
# checkpoint does not exist yet is chained to its run's fine-tuning job (found in squeue by
# the job name of the run's finetune.slurm and the directory it was submitted from, or
# given with --after): it starts when training succeeds and is cancelled if training fails.
# A cell already pending or running is never submitted again.
#
# With --only-missing, a cell whose last job ended OUT_OF_MEMORY goes again with twice the
# memory that job had, one that ended TIMEOUT with twice its time: as sbatch options
# (--mem=, --time=), the script unchanged. Growth stops at what the cluster allows (the
# partition's MaxMemPerNode or its largest node's memory, its MaxTime, the QOS's MaxWall), else at
# SUBMIT_EVALS_MAX_MEM / SUBMIT_EVALS_MAX_TIME (default 1T and 7-00:00:00, said when used).
# Every job of a cell is recorded beside its logs (.CELL.attempts): job, state, memory, time,
# fingerprint.
#
# Exit status (when several apply, the lowest non-zero one):
#   0  every selected cell was submitted, chained, or is queued already (--status: all done)
#   1  sbatch failed for a cell (--status: a cell failed)
#   2  bad usage: an unknown option, or a --run, --task or --epoch value that matches no cell
#   3  a script holds merge-conflict markers (left by copier update): not submitted
#   4  cells skipped: no checkpoint yet and no fine-tuning job to wait for, or a task
#      file that did not exist at render time is missing or does not take its arguments
#   5  the job limit was reached: cells are waiting for a slot (run again, or use --watch)
#   6  --status: not every cell is done yet, none failed
#   7  another submit_evals.sh is submitting in this experiment: nothing was submitted
#   8  cells held back: at the attempt limit, at the cluster's ceiling, or their task raised
#   130  stopped by Ctrl-C
#
# Rendered by copier-inspect-slurm; needs only bash, coreutils' timeout, util-linux's flock
# and Slurm's sbatch, squeue, sacct, sacctmgr, scontrol and sinfo. One squeue call per pass,
# whatever the number of cells. A Slurm command that does not answer within
# SUBMIT_EVALS_SLURM_TIMEOUT seconds (default 120) is an error naming it.

set -uo pipefail

EXPERIMENT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
USER_NAME=${USER:-$(id -un)}
PLAN_MAX_JOBS=''
# claude.local.md's caps of a retry's memory and time (SLURM Defaults → Max memory, Max
# time), for a cluster whose Slurm states none (find_ceiling).
PLAN_MAX_MEM=''
PLAN_MAX_TIME=''
SLURM_TIMEOUT=${SUBMIT_EVALS_SLURM_TIMEOUT:-120}
# Held (flock) while cells are submitted: two passes at once (a --watch in tmux and one by
# hand) would each find a cell unqueued and both submit it. The script itself is the lock:
# no file to create, commit or clean up.
LOCK_FILE=${BASH_SOURCE[0]}

# The plan: a line per run (directory, name, the job name its fine-tuning job has unless
# finetune.slurm says otherwise), then a line per cell of that run (task, epoch or base,
# name, checkpoint, then its script, log directory, done mark, failed mark and job record,
# relative to the experiment directory, and the fingerprint of its inputs).
# A cell whose task file did not exist when the tree was rendered is followed by the file,
# where the tree was rendered from, its @task and the arguments its script gives it: it is
# checked again before it is submitted (check_task).
load_plan() {
  run r8_lr1e-5 r8_lr1e-5 r8_lr1e-5
  cell capitalization 0 capitalization_epoch0 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r8_lr1e-5/epoch_0 r8_lr1e-5/eval/capitalization_epoch0.slurm r8_lr1e-5/eval/logs r8_lr1e-5/eval/logs/.capitalization_epoch0.complete r8_lr1e-5/eval/logs/.capitalization_epoch0.failed r8_lr1e-5/eval/logs/.capitalization_epoch0.job a85094193005e045
  attempts r8_lr1e-5/eval/logs/.capitalization_epoch0.attempts 'r8_lr1e-5/eval/logs/capitalization_epoch0.job{job}.time.csv'
  cell capitalization 1 capitalization_epoch1 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r8_lr1e-5/epoch_1 r8_lr1e-5/eval/capitalization_epoch1.slurm r8_lr1e-5/eval/logs r8_lr1e-5/eval/logs/.capitalization_epoch1.complete r8_lr1e-5/eval/logs/.capitalization_epoch1.failed r8_lr1e-5/eval/logs/.capitalization_epoch1.job 8d83c2f00a5c883d
  attempts r8_lr1e-5/eval/logs/.capitalization_epoch1.attempts 'r8_lr1e-5/eval/logs/capitalization_epoch1.job{job}.time.csv'
  cell capitalization_6L 1 capitalization_6L_epoch1 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r8_lr1e-5/epoch_1 r8_lr1e-5/eval/capitalization_6L_epoch1.slurm r8_lr1e-5/eval/logs r8_lr1e-5/eval/logs/.capitalization_6L_epoch1.complete r8_lr1e-5/eval/logs/.capitalization_6L_epoch1.failed r8_lr1e-5/eval/logs/.capitalization_6L_epoch1.job a343d4dcbba1ae08
  attempts r8_lr1e-5/eval/logs/.capitalization_6L_epoch1.attempts 'r8_lr1e-5/eval/logs/capitalization_6L_epoch1.job{job}.time.csv'
  run r16_lr1e-5 r16_lr1e-5 r16_lr1e-5
  cell capitalization 0 capitalization_epoch0 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r16_lr1e-5/epoch_0 r16_lr1e-5/eval/capitalization_epoch0.slurm r16_lr1e-5/eval/logs r16_lr1e-5/eval/logs/.capitalization_epoch0.complete r16_lr1e-5/eval/logs/.capitalization_epoch0.failed r16_lr1e-5/eval/logs/.capitalization_epoch0.job db94bd340e8967ac
  attempts r16_lr1e-5/eval/logs/.capitalization_epoch0.attempts 'r16_lr1e-5/eval/logs/capitalization_epoch0.job{job}.time.csv'
  cell capitalization 1 capitalization_epoch1 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r16_lr1e-5/epoch_1 r16_lr1e-5/eval/capitalization_epoch1.slurm r16_lr1e-5/eval/logs r16_lr1e-5/eval/logs/.capitalization_epoch1.complete r16_lr1e-5/eval/logs/.capitalization_epoch1.failed r16_lr1e-5/eval/logs/.capitalization_epoch1.job bbdae5624fa9e3dc
  attempts r16_lr1e-5/eval/logs/.capitalization_epoch1.attempts 'r16_lr1e-5/eval/logs/capitalization_epoch1.job{job}.time.csv'
  cell capitalization_6L 1 capitalization_6L_epoch1 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r16_lr1e-5/epoch_1 r16_lr1e-5/eval/capitalization_6L_epoch1.slurm r16_lr1e-5/eval/logs r16_lr1e-5/eval/logs/.capitalization_6L_epoch1.complete r16_lr1e-5/eval/logs/.capitalization_6L_epoch1.failed r16_lr1e-5/eval/logs/.capitalization_6L_epoch1.job fe2a919aba487c73
  attempts r16_lr1e-5/eval/logs/.capitalization_6L_epoch1.attempts 'r16_lr1e-5/eval/logs/capitalization_6L_epoch1.job{job}.time.csv'
  run Llama-3.2-1B-Instruct_base Llama-3.2-1B-Instruct_base ''
  cell capitalization base capitalization_base /scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B-Instruct Llama-3.2-1B-Instruct_base/eval/capitalization_base.slurm Llama-3.2-1B-Instruct_base/eval/logs Llama-3.2-1B-Instruct_base/eval/logs/.capitalization_base.complete Llama-3.2-1B-Instruct_base/eval/logs/.capitalization_base.failed Llama-3.2-1B-Instruct_base/eval/logs/.capitalization_base.job dfccd72b93755478
  attempts Llama-3.2-1B-Instruct_base/eval/logs/.capitalization_base.attempts 'Llama-3.2-1B-Instruct_base/eval/logs/capitalization_base.job{job}.time.csv'
  cell capitalization_6L base capitalization_6L_base /scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B-Instruct Llama-3.2-1B-Instruct_base/eval/capitalization_6L_base.slurm Llama-3.2-1B-Instruct_base/eval/logs Llama-3.2-1B-Instruct_base/eval/logs/.capitalization_6L_base.complete Llama-3.2-1B-Instruct_base/eval/logs/.capitalization_6L_base.failed Llama-3.2-1B-Instruct_base/eval/logs/.capitalization_6L_base.job 82b4ce6f208986cd
  attempts Llama-3.2-1B-Instruct_base/eval/logs/.capitalization_6L_base.attempts 'Llama-3.2-1B-Instruct_base/eval/logs/capitalization_6L_base.job{job}.time.csv'
}

declare -a cell_run_dir=() cell_run=() cell_task=() cell_epoch=() cell_name=() cell_checkpoint=()
declare -a cell_script=() cell_logs=() cell_done=() cell_failed=() cell_job=() cell_fingerprint=()
# known["run:NAME"], known["task:NAME"], known["epoch:N"]: the values filters may take.
declare -A known=() run_dir_of=() finetune_default=()
current_run_dir='' current_run=''

run() {
  current_run_dir=$1 current_run=$2
  run_dir_of[$2]=$1 finetune_default[$1]=$3 known[run:$1]=1 known[run:$2]=1
}

cell() {
  local index=${#cell_name[@]}
  cell_run_dir[index]=$current_run_dir cell_run[index]=$current_run
  cell_task[index]=$1 cell_epoch[index]=$2 cell_name[index]=$3 cell_checkpoint[index]=$4
  cell_script[index]=$5 cell_logs[index]=$EXPERIMENT_DIR/$6 cell_done[index]=$EXPERIMENT_DIR/$7
  cell_failed[index]=$EXPERIMENT_DIR/$8 cell_job[index]=$EXPERIMENT_DIR/$9 cell_fingerprint[index]=${10}
  known[task:$1]=1 known[epoch:$2]=1
}

declare -A task_file_of=() task_origin_of=() task_function_of=() task_arguments_of=()
unchecked_task() {
  local index=$((${#cell_name[@]} - 1))
  task_file_of[$index]=$1 task_origin_of[$index]=$2 task_function_of[$index]=$3 task_arguments_of[$index]=$4
}
declare -a cell_attempts=() cell_job_times=()
attempts() {
  cell_attempts[${#cell_name[@]} - 1]=$EXPERIMENT_DIR/$1 cell_job_times[${#cell_name[@]} - 1]=$EXPERIMENT_DIR/$2
}
load_plan

# -- options ----------------------------------------------------------------------------------

usage() {
  sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

usage_error() {
  echo "error: $1" >&2
  exit 2
}

# Options that take a value: a usage error when it is missing.
needs_value() {
  [ $# -ge 2 ] || usage_error "$1 needs a value"
}

dry_run=0
only_missing=0
show_status=0
watch=0
poll=60
max_jobs=''
limit_source=''
max_attempts=3
retry_errors=0
runs=()
tasks=()
epochs=()
declare -A after=()

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --only-missing) only_missing=1 ;;
    --status) show_status=1 ;;
    --watch)
      watch=1
      if [[ ${2:-} =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
        # 0 would ask squeue again and again without a pause, a load on the scheduler.
        [[ $2 =~ [1-9] ]] || usage_error "--watch takes the seconds between looks, more than 0, got '$2'"
        poll=$2
        shift
      fi ;;
    --max-jobs)
      needs_value "$@"
      # Nine digits at most: bash's arithmetic overflows far beyond any queue's limit.
      [[ $2 =~ ^[1-9][0-9]{0,8}$ ]] || usage_error "--max-jobs takes a number of jobs from 1 to 999999999, got '$2'"
      max_jobs=$2 limit_source="--max-jobs"
      shift ;;
    --max-attempts)
      needs_value "$@"
      [[ $2 =~ ^[1-9][0-9]{0,3}$ ]] || usage_error "--max-attempts takes a number of jobs per cell from 1 to 9999, got '$2'"
      max_attempts=$2
      shift ;;
    --retry-errors) retry_errors=1 ;;
    --run) needs_value "$@"; runs+=("$2"); shift ;;
    --task) needs_value "$@"; tasks+=("$2"); shift ;;
    --epoch) needs_value "$@"; epochs+=("$2"); shift ;;
    --after)
      needs_value "$@"
      [[ $2 =~ ^[^=]+=[0-9]+$ ]] || usage_error "--after takes RUN=JOBID (a numeric job id), got '$2'"
      after["${2%%=*}"]="${2#*=}"
      shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# A value that matches nothing is a typo, not an empty selection.
check_known() {
  local option=$1 kind=$2 value key values=()
  shift 2
  for value in "$@"; do
    [ -z "${known[$kind:$value]:-}" ] || continue
    for key in "${!known[@]}"; do
      [[ $key != "$kind:"* ]] || values+=("${key#*:}")
    done
    usage_error "$option '$value' matches no $kind of this experiment (it has: $(printf '%s\n' "${values[@]}" | sort | paste -sd ' '))"
  done
}
check_known --run run "${runs[@]}"
check_known --task task "${tasks[@]}"
check_known --epoch epoch "${epochs[@]}"
check_known --after run "${!after[@]}"

# True when the filter list is empty or holds the value.
selected() {
  local value=$1 wanted
  shift
  [ $# -eq 0 ] && return 0
  for wanted in "$@"; do
    [ "$wanted" = "$value" ] && return 0
  done
  return 1
}

chosen=()
for ((i = 0; i < ${#cell_name[@]}; i++)); do
  { selected "${cell_run[i]}" "${runs[@]}" || selected "${cell_run_dir[i]}" "${runs[@]}"; } || continue
  selected "${cell_task[i]}" "${tasks[@]}" || continue
  selected "${cell_epoch[i]}" "${epochs[@]}" || continue
  chosen+=("$i")
done
[ ${#chosen[@]} -gt 0 ] || usage_error "no cell has all of the --run, --task and --epoch values given"

# -- what Slurm knows -------------------------------------------------------------------------

# Fields of the one squeue call, split on the ASCII unit separator, which no job name or
# path holds: job id, state, reason, dependency, name, working directory, script path.
SEP=$'\x1f'
QUEUE_FORMAT="%i$SEP%T$SEP%r$SEP%E$SEP%j$SEP%Z$SEP%o"
queue_jobs=0
declare -A queued_id=() queued_state=() queued_reason=() queued_dependency=()
declare -A jobs_named=() job_state=() job_command=() job_workdir=()

# Read every job of the user in one squeue call: the cells already queued (by their
# absolute script path), the candidate fine-tuning jobs (by name), and how many jobs count
# against a limit (array tasks one by one, as Slurm counts them).
read_queue() {
  local out id state reason dependency name workdir command
  queue_jobs=0
  queued_id=() queued_state=() queued_reason=() queued_dependency=()
  jobs_named=() job_state=() job_command=() job_workdir=()
  out=$(timeout "$SLURM_TIMEOUT" squeue --noheader --array --user="$USER_NAME" --format="$QUEUE_FORMAT")
  case $? in
    0) ;;
    124) echo "error: squeue did not answer within $SLURM_TIMEOUT s (SUBMIT_EVALS_SLURM_TIMEOUT)" >&2; return 1 ;;
    *) return 1 ;;
  esac
  while IFS=$SEP read -r id state reason dependency name workdir command; do
    # squeue can print an error on stdout and exit 0: only lines with a job id are jobs.
    [[ $id =~ ^[0-9]+(_[0-9]+)?$ ]] || continue
    queue_jobs=$((queue_jobs + 1))
    [[ $id =~ ^[0-9]+$ ]] || continue
    if [ -z "${queued_id[$command]:-}" ] || [ "$id" -gt "${queued_id[$command]}" ]; then
      queued_id[$command]=$id queued_state[$command]=$state
      queued_reason[$command]=$reason queued_dependency[$command]=$dependency
    fi
    jobs_named[$name]+="$id "
    job_state[$id]=$state job_command[$id]=$command job_workdir[$id]=$workdir
  done <<<"$out"
}

declare -A finetune_name_of=()

# The job name the run's finetune.slurm gives its job (the plan's when it says none), read
# once per run into finetune_name_of.
read_finetune_name() {
  local run_dir=$1 line
  [ -z "${finetune_name_of[$run_dir]:-}" ] || return 0
  line=$(grep -m1 -E '^#SBATCH[[:space:]]+(--job-name[=[:space:]]|-J[[:space:]]*)' \
    "$EXPERIMENT_DIR/$run_dir/finetune.slurm" 2>/dev/null)
  line=${line#*--job-name}
  line=${line#*-J}
  line=${line#=}
  line=$(echo "$line" | tr -d "\"'" | awk '{print $1}')
  finetune_name_of[$run_dir]=${line:-${finetune_default[$run_dir]}}
}

declare -A training_of=() training_problem_of=()

# Sets `training` to the run's fine-tuning job id, or to nothing with the reason in
# `training_problem`. A job of the run's job name that was submitted from the run's
# directory or from its finetune.slurm is the run's. Failing that, a job of that name is
# taken only when no other run of the experiment gives its job the same name.
find_training() {
  local run_dir=$1 run_name=$2 name id ids=() own=() other shared=()
  if [ -n "${after[$run_name]:-}${after[$run_dir]:-}" ]; then
    training=${after[$run_name]:-${after[$run_dir]}} training_problem=''
    return
  fi
  if [ -n "${training_of[$run_dir]+set}" ]; then
    training=${training_of[$run_dir]} training_problem=${training_problem_of[$run_dir]}
    return
  fi
  read_finetune_name "$run_dir"
  name=${finetune_name_of[$run_dir]}
  read -r -a ids <<<"${jobs_named[$name]:-}"
  for id in "${ids[@]}"; do
    if [ "${job_command[$id]}" = "$EXPERIMENT_DIR/$run_dir/finetune.slurm" ] ||
       [ "${job_workdir[$id]}" = "$EXPERIMENT_DIR/$run_dir" ]; then
      own+=("$id")
    fi
  done
  training='' training_problem=''
  if [ ${#own[@]} -eq 0 ] && [ ${#ids[@]} -gt 0 ]; then
    for other in "${!run_dir_of[@]}"; do
      [ "${run_dir_of[$other]}" != "$run_dir" ] || continue
      read_finetune_name "${run_dir_of[$other]}"
      [ "${finetune_name_of[${run_dir_of[$other]}]}" != "$name" ] || shared+=("$other")
    done
    if [ ${#shared[@]} -eq 0 ]; then
      own=("${ids[@]}")
    else
      training_problem="jobs named $name are queued (${ids[*]}), but none was submitted from $run_dir/, and runs ${shared[*]} give their jobs the same name: not guessing which one is $run_name's (use --after $run_name=JOBID)"
    fi
  fi
  for id in "${own[@]}"; do
    [ -n "$training" ] && [ "$training" -gt "$id" ] || training=$id
  done
  if [ -z "$training" ] && [ -z "$training_problem" ]; then
    training_problem="no pending or running fine-tuning job named $name was found (use --after $run_name=JOBID)"
  fi
  training_of[$run_dir]=$training training_problem_of[$run_dir]=$training_problem
}

# The job limit, from --max-jobs, claude.local.md, or Slurm's accounting (the user's
# association, else its QOS): MaxSubmitJobs counts pending and running jobs, array tasks
# one by one.
find_job_limit() {
  local out limit default_qos qos_list qos=() wanted=() name value
  if [ -n "$max_jobs" ]; then return; fi
  if [ -n "$PLAN_MAX_JOBS" ]; then
    if ! [[ $PLAN_MAX_JOBS =~ ^[1-9][0-9]{0,8}$ ]]; then
      echo "error: the recorded Max jobs '$PLAN_MAX_JOBS' is not a number of jobs from 1 to 999999999: fix claude.local.md and run copier update, or give --max-jobs" >&2
      exit 2
    fi
    max_jobs=$PLAN_MAX_JOBS limit_source="claude.local.md"
    return
  fi
  out=$(timeout "$SLURM_TIMEOUT" sacctmgr --noheader --parsable2 show association where user="$USER_NAME" \
    format=MaxSubmitJobs,DefaultQOS,QOS 2>/dev/null) || return
  while IFS='|' read -r limit default_qos qos_list; do
    if [[ $limit =~ ^[0-9]+$ ]] && { [ -z "$max_jobs" ] || [ "$limit" -lt "$max_jobs" ]; }; then
      max_jobs=$limit limit_source="sacctmgr, your association"
    fi
    # A job runs under the association's default QOS, or its only one.
    if [ -n "$default_qos" ]; then
      wanted+=("$default_qos")
    else
      IFS=',' read -r -a qos <<<"$qos_list"
      wanted+=("${qos[@]}")
    fi
  done <<<"$out"
  [ -z "$max_jobs" ] || return
  [ ${#wanted[@]} -gt 0 ] || return
  out=$(timeout "$SLURM_TIMEOUT" sacctmgr --noheader --parsable2 show qos format=Name,MaxSubmitJobsPerUser 2>/dev/null) || return
  while IFS='|' read -r name value; do
    selected "$name" "${wanted[@]}" || continue
    if [[ $value =~ ^[0-9]+$ ]] && { [ -z "$max_jobs" ] || [ "$value" -lt "$max_jobs" ]; }; then
      max_jobs=$value limit_source="sacctmgr, QOS $name"
    fi
  done <<<"$out"
}

# -- the outcome protocol ---------------------------------------------------------------------

# CELL_LOGS: the logs of a cell (protocol.py's rule), oldest first.
find_cell_logs() {
  local log stem
  CELL_LOGS=()
  for log in "$1"/*_"$2"_*.eval; do
    [ -e "$log" ] || continue
    stem=${log##*/}
    stem=${stem%.eval}
    stem=${stem#*_}
    [ "${stem%_*}" != "$2" ] || CELL_LOGS+=("$log")
  done
}

# Sets `mark` to the fingerprint the cell's done mark holds (empty when it has none), and
# `mark_log` to the file name of the log it stands for (empty in an older script's mark).
read_done_mark() {
  mark='' mark_log=''
  read -r mark mark_log <"${cell_done[$1]}" 2>/dev/null
}

# True when the cell's script left its done mark with the fingerprint of the plan's inputs,
# and the successful log the mark names is still there (delete it to have its cell run
# again; an earlier error or cancelled log of the cell does not make it done). A mark of an
# older script names no log: then any log of the cell will do, as it did.
finished() {
  local mark mark_log
  [ -e "${cell_done[$1]}" ] || return 1
  read_done_mark "$1"
  [ "$mark" = "${cell_fingerprint[$1]}" ] || return 1
  if [ -n "$mark_log" ]; then
    [ -e "${cell_logs[$1]}/$mark_log" ]
    return
  fi
  find_cell_logs "${cell_logs[$1]}" "${cell_name[$1]}"
  [ ${#CELL_LOGS[@]} -gt 0 ]
}

# True when the cell was done with other inputs than the plan's now (a prompt fixed, then
# copier update): its done mark holds another fingerprint, or none (an older template's).
# Sets `stale_reason`.
stale() {
  local mark mark_log
  [ -e "${cell_done[$1]}" ] || return 1
  read_done_mark "$1"
  [ "$mark" != "${cell_fingerprint[$1]}" ] || return 1
  if [ -z "$mark" ]; then
    stale_reason="its done mark records no fingerprint (left by an older template's script), so its inputs are unknown"
  else
    stale_reason="done with other inputs (fingerprint $mark; the plan's is ${cell_fingerprint[$1]})"
  fi
}

# -- one submission pass ----------------------------------------------------------------------

submitted=0 chained=0 already_queued=0 already_done=0 skipped=0 failed=0 refused=0 waiting=0 dry_runs=0 held=0
stale_reason=''
full=0 sleeper=''
declare -A handled=() conflicted=()
# --watch --only-missing follows each cell's job to its end (the cells in `following`), and
# submits again the cells that did not succeed.
follow=0
[ "$watch" -eq 0 ] || [ "$only_missing" -eq 0 ] || [ "$dry_run" -eq 1 ] || follow=1
declare -A following=()

report() {
  printf '%-10s %s\n' "$1" "$2"
}

# Scripts that `copier update` left with conflict markers are never submitted.
find_conflicts() {
  local paths=() index path
  for index in "${chosen[@]}"; do paths+=("$EXPERIMENT_DIR/${cell_script[index]}"); done
  while IFS= read -r path; do
    [ -z "$path" ] || conflicted[$path]=1
  done < <(grep -lE '^(<{7}|>{7})( |$)|^={7}$' -- "${paths[@]}" 2>/dev/null)
}

# True when sbatch's message says a submit limit refused the job (QOSMaxSubmitJobPerUserLimit,
# AssocMaxSubmitJobLimit, QOSGrpSubmitJobsLimit and the other limits on submitted jobs).
limit_refusal() {
  [[ $1 == *Submit*Limit* || $1 == *"job submit limit"* ]]
}

# A task file that did not exist at render time must exist now and take the arguments the
# script gives it: inspect would drop one it does not take and evaluate with the task's
# default. The file is parsed, not imported (python3 where there is one; the job itself
# checks it again before evaluating).
check_task() {
  local file=${task_file_of[$1]}
  [ "${file:0:1}" = / ] || file=$EXPERIMENT_DIR/$file
  [ -f "$file" ] || file=${task_origin_of[$1]}
  if [ ! -f "$file" ]; then
    echo "task file ${task_file_of[$1]} does not exist yet: write it, then submit again"
    return 1
  fi
  command -v python3 >/dev/null 2>&1 || return 0
  python3 - "$file" "${task_function_of[$1]}" "${task_arguments_of[$1]}" <<'TASK_CHECK'
import sys

def signature_problems(source: str | bytes, function: str, arguments: list[str]) -> list[str]:
    """Why calling @task `function` of this source with exactly these keyword arguments would not
    deliver them all: the function is missing (list the @task names the file has), an argument is
    not a parameter (and there is no **kwargs), or a required parameter is not given. [] when fine.

    Copied alone into the job scripts, so it imports what it needs and calls nothing else of
    this module; it reads the file as read_task_functions does, which the tests check. The jobs
    give the file's bytes, decoded here as source.read_source decodes them at render time: a
    UTF-8 BOM is no content (Python imports such a file; ast.parse refuses U+FEFF), and bytes
    that are not UTF-8 are a problem to name, not a traceback."""
    import ast

    if isinstance(source, bytes):
        bom = 3 if source.startswith(b"\xef\xbb\xbf") else 0
        try:
            source = source[bom:].decode("utf-8")
        except UnicodeDecodeError as error:
            offset = bom + error.start
            line = source.count(b"\n", 0, offset) + 1
            return [f"is not UTF-8 text: byte 0x{source[offset]:02x} at byte offset {offset} (line {line}) cannot be "
                    "decoded; save the file as UTF-8 (for example `iconv -f cp1252 -t utf-8 FILE > NEW`)"]
    try:
        module = ast.parse(source)
    except SyntaxError as error:
        return [f"Python syntax error at line {error.lineno}: {error.msg}"]
    except ValueError as error:
        return [f"not Python source: {error}"]
    names, modules = {"task"}, {"inspect_ai"}
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module == "inspect_ai" and node.level == 0:
            names.update(alias.asname or alias.name for alias in node.names if alias.name == "task")
        elif isinstance(node, ast.Import):
            modules.update(alias.asname for alias in node.names if alias.name == "inspect_ai" and alias.asname)
    tasks = {}  # registered name -> def
    for node in module.body:
        for decorator in node.decorator_list if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else ():
            called = decorator.func if isinstance(decorator, ast.Call) else decorator
            if not (isinstance(called, ast.Name) and called.id in names) and not (
                isinstance(called, ast.Attribute) and called.attr == "task"
                and isinstance(called.value, ast.Name) and called.value.id in modules
            ):
                continue
            name = node.name
            for keyword in decorator.keywords if isinstance(decorator, ast.Call) else ():
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                    name = keyword.value.value
                elif keyword.arg == "name":
                    return [f"@task {node.name} at line {node.lineno} is registered as name={ast.unparse(keyword.value)}, "
                            "not a literal string: the name cannot be read without importing the file"]
            if name in tasks:
                return [f"@task {name!r} is registered twice, by {tasks[name].name} at line {tasks[name].lineno} "
                        f"and by {node.name} at line {node.lineno}"]
            tasks[name] = node
            break
    if function not in tasks:
        return [f"has no @task named {function!r}; its @task functions: {', '.join(tasks) or 'none'}"]
    signature = tasks[function].args
    positional = signature.posonlyargs + signature.args
    first_default = len(positional) - len(signature.defaults)
    required = {a.arg: i < first_default for i, a in enumerate(positional)}  # name -> no default
    required.update((a.arg, d is None) for a, d in zip(signature.kwonlyargs, signature.kw_defaults))
    positional_only = [a.arg for a in signature.posonlyargs]
    keywords = [name for name in required if name not in positional_only]
    problems = []
    for name in arguments:
        if signature.kwarg is not None or name in keywords:
            continue
        if name in positional_only:
            problems.append(f"@task {function}'s parameter {name!r} is positional-only: no task argument can reach it")
        else:
            problems.append(
                f"@task {function} has no parameter {name!r} (it takes {', '.join(keywords) or 'no arguments'}) "
                "and no **kwargs: inspect would drop the argument and evaluate with the task's own default"
            )
    for name, needed in required.items():
        if needed and name in positional_only:
            problems.append(f"@task {function} requires {name!r}, which is positional-only: no task argument can fill it")
        elif needed and name not in arguments:
            problems.append(f"@task {function} requires {name!r}, which is not given")
    return problems


with open(sys.argv[1], "rb") as file:  # decoded by signature_problems, as at render time
    problems = signature_problems(file.read(), sys.argv[2], [a for a in sys.argv[3].split(",") if a])
if problems:
    print(f"{sys.argv[1]}: " + "; ".join(problems))
    sys.exit(1)
TASK_CHECK
}

# -- retry with more --------------------------------------------------------------------------

# Sets `mib` to a memory amount in MiB per node, or to nothing when it says none: sbatch's
# --mem (MiB unless K, M, G or T follows) and sacct's ReqMem ("4000M", "32G", "1.50G"; before
# Slurm 21.08 "4000Mn" per node, "2000Mc" per CPU, times the CPUs in $2).
mem_mib() {
  local whole fraction=0 digits=1 unit factor
  mib=''
  [[ $1 =~ ^([0-9]+)(\.([0-9]+))?([KMGT]?)([nc]?)$ ]] || return 0
  whole=$((10#${BASH_REMATCH[1]})) unit=${BASH_REMATCH[4]:-M}
  if [ -n "${BASH_REMATCH[3]}" ]; then
    fraction=$((10#${BASH_REMATCH[3]})) digits=$((10 ** ${#BASH_REMATCH[3]}))
  fi
  case $unit in K) factor=1 ;; M) factor=1024 ;; G) factor=$((1024 ** 2)) ;; T) factor=$((1024 ** 3)) ;; esac
  mib=$(( (whole * digits + fraction) * factor / digits / 1024 ))
  if [ "${BASH_REMATCH[5]}" = c ] && [[ ${2:-} =~ ^[1-9][0-9]*$ ]]; then mib=$((mib * $2)); fi
  [ "$mib" -gt 0 ] || mib=''  # --mem=0: the whole node, nothing to double
}

# Sets `seconds` to a time limit in seconds, or to nothing for none: sbatch's --time
# (minutes, M:S, H:M:S, D-H, D-H:M, D-H:M:S) and sacct's Timelimit ("01:00:00",
# "1-00:00:00"; "UNLIMITED", "Partition_Limit": none).
time_seconds() {
  local days=0 rest=$1 parts=()
  seconds=''
  [[ $1 =~ ^([0-9]+-)?[0-9]+(:[0-9]+){0,2}$ ]] || return 0
  if [[ $rest == *-* ]]; then days=$((10#${rest%%-*})) rest=${rest#*-}; fi
  IFS=: read -r -a parts <<<"$rest"
  local a=$((10#${parts[0]})) b=$((10#${parts[1]:-0})) c=$((10#${parts[2]:-0}))
  if [[ $1 == *-* ]]; then
    # After days: hours, then minutes, then seconds.
    seconds=$((days * 86400 + a * 3600 + b * 60 + c))
  else
    case ${#parts[@]} in
      1) seconds=$((a * 60)) ;;
      2) seconds=$((a * 60 + b)) ;;
      3) seconds=$((a * 3600 + b * 60 + c)) ;;
    esac
  fi
  [ "$seconds" -gt 0 ] || seconds=''
}

# As sbatch takes them back: whole gibibytes as G, else M; times as D-HH:MM:SS.
mem_text() {
  if [ $(($1 % 1024)) -eq 0 ]; then echo "$(($1 / 1024))G"; else echo "${1}M"; fi
}
time_text() {
  printf '%d-%02d:%02d:%02d\n' $(($1 / 86400)) $(($1 % 86400 / 3600)) $(($1 % 3600 / 60)) $(($1 % 60))
}

# The value of an `#SBATCH --OPTION=VALUE` line of a script, or nothing.
script_option() {
  local line
  line=$(grep -m1 -E "^#SBATCH[[:space:]]+--$2=" "$1" 2>/dev/null)
  line=${line#*--"$2"=}
  echo "${line%%[[:space:]]*}"
}

declare -A ceiling_mem=() ceiling_time=() ceiling_mem_source=() ceiling_time_source=()
DEFAULT_MAX_MEM=${SUBMIT_EVALS_MAX_MEM:-1T}
DEFAULT_MAX_TIME=${SUBMIT_EVALS_MAX_TIME:-7-00:00:00}

# What the cluster lets one job of PARTITION (nothing: the default partition) under QOS
# have, read once per pair: memory from the partition's MaxMemPerNode and its largest node's memory
# (sinfo), time from its MaxTime and the QOS's MaxWall; where Slurm says nothing,
# claude.local.md's Max memory and Max time, else the stated defaults.
find_ceiling() {
  local key="$1|$2" out field value
  [ -z "${ceiling_mem[$key]:-}" ] || return 0
  local mem='' time='' mem_source='' time_source=''
  out=$(timeout "$SLURM_TIMEOUT" scontrol --oneliner show partition ${1:+"$1"} 2>/dev/null)
  # Without a name, every partition: the default one is the one a job without --partition gets.
  [ -n "$1" ] || out=$(grep -m1 'Default=YES' <<<"$out")
  for field in $out; do
    value=${field#*=}
    case $field in
      MaxTime=*)
        time_seconds "$value"
        [ -z "$seconds" ] || time=$seconds time_source="partition ${1:-(default)} MaxTime" ;;
      MaxMemPerNode=*)
        mem_mib "$value"
        [ -z "$mib" ] || mem=$mib mem_source="partition ${1:-(default)} MaxMemPerNode" ;;
    esac
  done
  # A line per kind of node: one job may have the largest node's memory (a partition of 96G
  # and 1T nodes runs a 200G job), still capped by MaxMemPerNode.
  out=$(timeout "$SLURM_TIMEOUT" sinfo --noheader ${1:+--partition="$1"} --format=%m 2>/dev/null)
  local largest=''
  while read -r value; do
    mem_mib "${value%+}"
    if [ -n "$mib" ] && { [ -z "$largest" ] || [ "$mib" -gt "$largest" ]; }; then largest=$mib; fi
  done <<<"$out"
  if [ -n "$largest" ] && { [ -z "$mem" ] || [ "$largest" -lt "$mem" ]; }; then
    mem=$largest mem_source="the memory of partition ${1:-(default)}'s largest node (sinfo)"
  fi
  if [ -n "$2" ]; then
    out=$(timeout "$SLURM_TIMEOUT" sacctmgr --noheader --parsable2 show qos where name="$2" format=MaxWall 2>/dev/null)
    time_seconds "${out%%$'\n'*}"
    if [ -n "$seconds" ] && { [ -z "$time" ] || [ "$seconds" -lt "$time" ]; }; then
      time=$seconds time_source="QOS $2 MaxWall"
    fi
  fi
  if [ -z "$mem" ] && [ -n "$PLAN_MAX_MEM" ]; then
    mem_mib "$PLAN_MAX_MEM"
    [ -z "$mib" ] || mem=$mib mem_source="no limit found in Slurm: claude.local.md's Max memory $PLAN_MAX_MEM"
  fi
  if [ -z "$time" ] && [ -n "$PLAN_MAX_TIME" ]; then
    time_seconds "$PLAN_MAX_TIME"
    [ -z "$seconds" ] || time=$seconds time_source="no limit found in Slurm: claude.local.md's Max time $PLAN_MAX_TIME"
  fi
  if [ -z "$mem" ]; then
    mem_mib "$DEFAULT_MAX_MEM"
    mem=${mib:-1048576} mem_source="no limit found in Slurm: the default SUBMIT_EVALS_MAX_MEM=$DEFAULT_MAX_MEM"
  fi
  if [ -z "$time" ]; then
    time_seconds "$DEFAULT_MAX_TIME"
    time=${seconds:-604800} time_source="no limit found in Slurm: the default SUBMIT_EVALS_MAX_TIME=$DEFAULT_MAX_TIME"
  fi
  ceiling_mem[$key]=$mem ceiling_time[$key]=$time
  ceiling_mem_source[$key]=$mem_source ceiling_time_source[$key]=$time_source
}

# True when job $2 of cell $1 counts against the attempt limit: it ran and did not succeed.
# Not counted: a job that ended COMPLETED (its cell is done, or stale after a plan change),
# and one CANCELLED before it started (its training job failed): a job that started wrote
# its time file (protocol.job_times) first thing. $3: its state as recorded ('-': unknown).
failed_attempt() {
  local state=$3
  [ "$state" != - ] || state=${sacct_state[$2]:-}
  case $state in
    COMPLETED) return 1 ;;
    CANCELLED) [ -e "${cell_job_times[$1]//\{job\}/$2}" ] ;;
  esac
}

# Sets `jobs_recorded` to the number of jobs the cell had, `attempts_made` to those that count
# against the attempt limit (failed_attempt, with the plan's fingerprint now: an attempt at
# other inputs is another evaluation's), and `last_mem`/`last_time` to what its newest one
# asked for beyond its script (nothing when it asked for the script's).
read_attempts() {
  local index=$1 id state mem time fingerprint
  attempts_made=0 jobs_recorded=0 last_mem='' last_time=''
  if [ -f "${cell_attempts[index]}" ]; then
    while read -r id state mem time fingerprint _; do
      [[ $id =~ ^[0-9]+$ ]] || continue
      jobs_recorded=$((jobs_recorded + 1)) last_mem=$mem last_time=$time
      # A line without one was written before attempts recorded their fingerprint.
      [ -z "$fingerprint" ] || [ "$fingerprint" = "${cell_fingerprint[index]}" ] || continue
      ! failed_attempt "$index" "$id" "$state" || attempts_made=$((attempts_made + 1))
    done <"${cell_attempts[index]}"
  fi
  # Submitted by a submit_evals.sh that kept no attempts: its job record is one.
  if [ "$jobs_recorded" -eq 0 ]; then
    recorded_job "$index"
    [ -z "$job" ] || jobs_recorded=1
    [ -z "$job" ] || ! failed_attempt "$index" "$job" - || attempts_made=1
  fi
  [ "$last_mem" != - ] || last_mem=''
  [ "$last_time" != - ] || last_time=''
}

# Decides how a cell that did not succeed goes again (--only-missing). Sets `grow` to the
# sbatch options (empty: as its script says) and `retry_note` to why; returns 1 when it is
# held back, with the reason in `retry_note`.
plan_retry() {
  local index=$1 path=$2 state='' had_mem had_time key mark='' new job
  grow=() retry_note=''
  read_attempts "$index"
  [ "$jobs_recorded" -gt 0 ] || return 0
  recorded_job "$index"
  [ -z "$job" ] || state=${sacct_state[$job]:-}
  [ ! -f "${cell_failed[index]}" ] || read -r mark <"${cell_failed[index]}"
  # The script wrote the log's status into the failed mark: a task that raised raises again.
  # A job Slurm killed leaves no such mark (or one saying it was killed).
  if [[ $mark == *": status error: "* ]] && [ "$retry_errors" -eq 0 ]; then
    case $state in TIMEOUT|OUT_OF_MEMORY|PREEMPTED|NODE_FAIL|BOOT_FAIL|DEADLINE|CANCELLED) ;; *)
      retry_note="its task raised (${mark}): it would raise again; fix it, or give --retry-errors"
      return 1 ;;
    esac
  fi
  if [ "$attempts_made" -ge "$max_attempts" ]; then
    retry_note="$attempts_made failed jobs already${state:+, the last $state} (--max-attempts $max_attempts)"
    return 1
  fi
  # What the last job had: sacct's account of it, else what it was asked to have.
  had_mem=${sacct_mem[$job]:-} had_time=${sacct_time[$job]:-}
  if [ -z "$had_mem" ]; then mem_mib "${last_mem:-$(script_option "$path" mem)}"; had_mem=$mib; fi
  if [ -z "$had_time" ]; then time_seconds "${last_time:-$(script_option "$path" time)}"; had_time=$seconds; fi
  [ -z "$last_mem" ] || grow+=(--mem="$last_mem")
  [ -z "$last_time" ] || grow+=(--time="$last_time")
  case $state in
    OUT_OF_MEMORY)
      if [ -z "$had_mem" ]; then
        retry_note="job $job ended OUT_OF_MEMORY, but neither sacct nor the script says how much memory it had: going again as it was"
        return 0
      fi
      key="${sacct_partition[$job]:-$(script_option "$path" partition)}|${sacct_qos[$job]:-}"
      find_ceiling "${key%|*}" "${key##*|}"
      if [ "$had_mem" -ge "${ceiling_mem[$key]}" ]; then
        retry_note="job $job ended OUT_OF_MEMORY with $(mem_text "$had_mem"), already the most a job may have (${ceiling_mem_source[$key]})"
        return 1
      fi
      new=$((had_mem * 2))
      retry_note="job $job ended OUT_OF_MEMORY with $(mem_text "$had_mem")"
      if [ "$new" -ge "${ceiling_mem[$key]}" ]; then
        new=${ceiling_mem[$key]} retry_note+=", twice that is more than the ceiling $(mem_text "$new") (${ceiling_mem_source[$key]})"
      fi
      grow=("${grow[@]/#--mem=*/}")
      grow=(--mem="$(mem_text "$new")" ${grow[@]+"${grow[@]}"}) ;;
    TIMEOUT)
      if [ -z "$had_time" ]; then
        retry_note="job $job ended TIMEOUT, but neither sacct nor the script says its time limit: going again as it was"
        return 0
      fi
      key="${sacct_partition[$job]:-$(script_option "$path" partition)}|${sacct_qos[$job]:-}"
      find_ceiling "${key%|*}" "${key##*|}"
      if [ "$had_time" -ge "${ceiling_time[$key]}" ]; then
        retry_note="job $job ended TIMEOUT after $(time_text "$had_time"), already the longest a job may run (${ceiling_time_source[$key]})"
        return 1
      fi
      new=$((had_time * 2))
      retry_note="job $job ended TIMEOUT after $(time_text "$had_time")"
      if [ "$new" -ge "${ceiling_time[$key]}" ]; then
        new=${ceiling_time[$key]} retry_note+=", twice that is more than the ceiling $(time_text "$new") (${ceiling_time_source[$key]})"
      fi
      grow=("${grow[@]/#--time=*/}")
      grow=(--time="$(time_text "$new")" ${grow[@]+"${grow[@]}"}) ;;
    '') retry_note="job ${job:-?} left no state in sacct" ;;
    *) retry_note="job $job ended $state" ;;
  esac
  local kept=() option
  for option in ${grow[@]+"${grow[@]}"}; do [ -z "$option" ] || kept+=("$option"); done
  grow=(${kept[@]+"${kept[@]}"})
  retry_note+=": attempt $((attempts_made + 1)) of $max_attempts${grow[*]:+ with ${grow[*]}}"
}

# Appends the cell's new job to its attempts, with the memory and time it asked for beyond
# its script ('-': the script's), after writing the previous job's final state into its line.
record_attempt() {
  local index=$1 new_job=$2 file=${cell_attempts[$1]} mem=- time=- option lines=() id state rest job
  for option in ${grow[@]+"${grow[@]}"}; do
    case $option in --mem=*) mem=${option#*=} ;; --time=*) time=${option#*=} ;; esac
  done
  if [ -f "$file" ]; then
    while read -r id state rest; do
      [ "$state" != - ] || [ -z "${sacct_state[$id]:-}" ] || state=${sacct_state[$id]}
      lines+=("$id $state $rest")
    done <"$file"
  else
    # The job a submit_evals.sh without attempts recorded is the first.
    recorded_job "$index"
    [ -z "$job" ] || [ "$job" = "$new_job" ] || lines+=("$job ${sacct_state[$job]:--} - -")
  fi
  lines+=("$new_job - $mem $time ${cell_fingerprint[index]}")
  printf '%s\n' "${lines[@]}" 2>/dev/null >"$file" ||
    echo "warning: could not record job $new_job in $file: its attempts will be undercounted" >&2
}

submit_cell() {
  local index=$1 script=${cell_script[$1]} path eval_dir dependency=() out rc job='' line task_problem again grow=() retry_note=''
  path="$EXPERIMENT_DIR/$script"
  eval_dir=${path%/*}

  if [ -n "${conflicted[$path]:-}" ]; then
    report REFUSED "$script: holds merge-conflict markers (left by copier update?): resolve them, then submit it"
    refused=$((refused + 1)) handled[$index]=1
    return
  fi
  if [ -n "${queued_id[$path]:-}" ]; then
    report queued "$script: job ${queued_id[$path]} is ${queued_state[$path],,} already"
    already_queued=$((already_queued + 1)) handled[$index]=1
    [ "$follow" -eq 0 ] || following[$index]=1
    return
  fi
  if [ "$only_missing" -eq 1 ] && finished "$index"; then
    report 'done' "$script: already has a successful inspect log"
    already_done=$((already_done + 1)) handled[$index]=1
    return
  fi
  again=''
  if [ "$only_missing" -eq 1 ] && stale "$index"; then
    again="stale: $stale_reason"
  fi
  if [ -n "${task_function_of[$index]:-}" ] && ! task_problem=$(check_task "$index"); then
    report skipped "$script: $task_problem"
    skipped=$((skipped + 1)) handled[$index]=1
    return
  fi
  if [ "${cell_epoch[index]}" != base ] && [ ! -d "${cell_checkpoint[index]}" ]; then
    find_training "${cell_run_dir[index]}" "${cell_run[index]}"
    if [ -z "$training" ]; then
      report skipped "$script: checkpoint ${cell_checkpoint[index]} does not exist, and $training_problem"
      skipped=$((skipped + 1)) handled[$index]=1
      return
    fi
    dependency=(--dependency="afterok:$training" --kill-on-invalid-dep=yes)
  fi
  if [ "$only_missing" -eq 1 ] && ! plan_retry "$index" "$path"; then
    report HELD "$script: $retry_note"
    held=$((held + 1)) handled[$index]=1
    return
  fi
  if [ -n "$max_jobs" ] && [ "$queue_jobs" -ge "$max_jobs" ]; then
    full=1
  fi
  if [ "$full" -eq 1 ]; then
    waiting=$((waiting + 1))
    return
  fi

  [ -z "$retry_note" ] || report retry "$script: $retry_note"
  if [ "$dry_run" -eq 1 ]; then
    printf -v out %q "$eval_dir"
    report dry-run "cd $out && sbatch ${dependency[*]:+${dependency[*]} }${grow[*]:+${grow[*]} }${path##*/}${again:+  # $again}"
    queue_jobs=$((queue_jobs + 1)) handled[$index]=1 dry_runs=$((dry_runs + 1))
    return
  fi
  # From the eval directory: the script finds its experiment through $SLURM_SUBMIT_DIR.
  out=$(cd "$eval_dir" && timeout "$SLURM_TIMEOUT" sbatch --parsable "${dependency[@]}" "${grow[@]}" "${path##*/}" 2>&1)
  rc=$?
  # --parsable prints "ID" or "ID;CLUSTER"; warnings may come first. A site's sbatch wrapper
  # may print sbatch's plain "Submitted batch job ID" instead.
  while IFS= read -r line; do
    if [[ $line =~ ^([0-9]+)(;.*)?$ ]] || [[ $line =~ ^Submitted\ batch\ job\ ([0-9]+) ]]; then
      job=${BASH_REMATCH[1]}
      break
    fi
  done <<<"$out"
  if [ "$rc" -eq 124 ]; then
    report FAILED "$script: sbatch did not answer within $SLURM_TIMEOUT s: the job may have been submitted all the same; look with squeue before submitting this cell again"
    failed=$((failed + 1)) handled[$index]=1
  elif [ "$rc" -eq 0 ] && [ -n "$job" ]; then
    record_attempt "$index" "$job"
    [ "$follow" -eq 0 ] || following[$index]=1
    printf '%s\n' "$job" 2>/dev/null >"${cell_job[index]}" ||
      echo "warning: could not record job $job in ${cell_job[index]}: --status will not ask sacct about it" >&2
    queue_jobs=$((queue_jobs + 1)) handled[$index]=1
    if [ ${#dependency[@]} -gt 0 ]; then
      report chained "$script: job $job, after fine-tuning job $training${again:+ ($again)}"
      chained=$((chained + 1))
    else
      report submitted "$script: job $job${again:+ ($again)}"
      submitted=$((submitted + 1))
    fi
  elif limit_refusal "$out"; then
    echo "sbatch refused $script for a job limit: ${out//$'\n'/ }" >&2
    full=1 waiting=$((waiting + 1))
  else
    report FAILED "$script: sbatch failed: ${out//$'\n'/ }"
    failed=$((failed + 1)) handled[$index]=1
  fi
}

# Returns 1 when squeue failed: then nothing can be submitted safely.
submission_pass() {
  local index
  full=0 waiting=0
  # The states of the cells' last jobs, for what a retry gets: one sacct call per pass.
  [ "$only_missing" -eq 0 ] || read_sacct
  if ! read_queue; then
    if [ "$dry_run" -eq 1 ]; then
      echo "warning: squeue failed: this dry run shows the commands as if nothing were queued" >&2
    else
      echo "error: squeue failed: without knowing your queued jobs nothing is submitted (a cell could go twice)" >&2
      return 1
    fi
  fi
  for index in "${chosen[@]}"; do
    if [ -n "${following[$index]:-}" ]; then
      [ -z "${queued_id[$EXPERIMENT_DIR/${cell_script[index]}]:-}" ] || continue
      # Out of the queue, but accounting may not have its end yet: look again next time.
      recorded_job "$index"
      if [ -n "$sacct_answered" ] && [ -n "$job" ]; then
        case ${sacct_state[$job]:-} in ''|PENDING|RUNNING|COMPLETING|REQUEUED|RESIZING|SUSPENDED) continue ;; esac
      fi
      unset "following[$index]" "handled[$index]"
    fi
    [ -z "${handled[$index]:-}" ] || continue
    submit_cell "$index"
  done
}

summary() {
  [ "$dry_run" -eq 0 ] || echo "dry run: $dry_runs sbatch commands shown, none run"
  echo "$submitted submitted now, $chained chained to fine-tuning, $already_queued already queued," \
    "$already_done already done, $skipped skipped, $waiting waiting for a slot, $failed failed, $refused refused$(
    [ "$held" -eq 0 ] || echo ", $held held back")"
}

limit_line() {
  if [ -n "$max_jobs" ]; then
    echo "$queue_jobs of your jobs are queued; the limit is $max_jobs ($limit_source)"
  else
    echo "$queue_jobs of your jobs are queued; no job limit is known"
  fi
}

exit_status() {
  if [ "$failed" -gt 0 ]; then return 1; fi
  if [ "$refused" -gt 0 ]; then return 3; fi
  if [ "$skipped" -gt 0 ]; then return 4; fi
  if [ "$waiting" -gt 0 ]; then return 5; fi
  if [ "$held" -gt 0 ]; then return 8; fi
  return 0
}

stop_watching() {
  [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null
  echo
  echo "stopped: $waiting cells were still waiting for a slot; run the same command again to go on"
  summary
  exit 130
}

submit_all() {
  local before
  find_job_limit
  find_conflicts
  submission_pass || exit 1
  if [ "$waiting" -gt 0 ]; then
    echo "job limit reached: $waiting cells are waiting for a slot ($(limit_line))"
  fi
  # A dry run changes nothing a later look could see: it is one pass, --watch or not.
  if [ "$watch" -eq 1 ] && [ "$dry_run" -eq 0 ] && { [ "$waiting" -gt 0 ] || [ ${#following[@]} -gt 0 ]; }; then
    trap stop_watching INT TERM
    if [ "$follow" -eq 1 ]; then
      echo "watching: looking again every $poll s until every cell is done or held back (Ctrl-C stops)"
    else
      echo "watching: looking again every $poll s until every cell is out (Ctrl-C stops)"
    fi
    while [ "$waiting" -gt 0 ] || [ ${#following[@]} -gt 0 ]; do
      sleep "$poll" &
      sleeper=$!
      wait "$sleeper"
      sleeper=''
      before=$waiting
      if ! submission_pass; then
        waiting=$before
        continue
      fi
      if [ "$waiting" -ne "$before" ] && [ "$waiting" -gt 0 ]; then
        echo "$(date +%H:%M:%S) $waiting cells are waiting for a slot ($(limit_line))"
      fi
    done
  fi
  summary
  exit_status
}

# -- status -----------------------------------------------------------------------------------

declare -A sacct_state=() sacct_mem=() sacct_time=() sacct_partition=() sacct_qos=()
sacct_answered=

# Sets `job` to the id of the cell's newest submission, as submit_evals.sh recorded it.
recorded_job() {
  job=''
  [ ! -f "${cell_job[$1]}" ] || read -r job <"${cell_job[$1]}"
  [[ $job =~ ^[0-9]+$ ]] || job=''
}

# One sacct call for every job the submissions recorded (each cell's newest, and the
# earlier attempts --status shows), when accounting is there. Per job: its state, the
# memory (MiB per node) and time (seconds) it had, its partition and QOS.
read_sacct() {
  local index job ids=() out id state mem time partition qos cpus
  sacct_state=() sacct_mem=() sacct_time=() sacct_partition=() sacct_qos=() sacct_answered=
  for index in "${chosen[@]}"; do
    recorded_job "$index"
    [ -z "$job" ] || ids+=("$job")
    [ "$show_status" -eq 0 ] || [ ! -f "${cell_attempts[index]}" ] ||
      while read -r id _; do [[ ! $id =~ ^[0-9]+$ ]] || [ "$id" = "$job" ] || ids+=("$id"); done <"${cell_attempts[index]}"
  done
  [ ${#ids[@]} -gt 0 ] || return 0
  out=$(IFS=,; timeout "$SLURM_TIMEOUT" sacct --noheader --parsable2 --allocations --jobs="${ids[*]}" \
    --format=JobIDRaw,State,ReqMem,Timelimit,Partition,QOS,ReqCPUS 2>/dev/null) ||
    return 0
  while IFS='|' read -r id state mem time partition qos cpus; do
    [[ $id =~ ^[0-9]+$ ]] || continue
    sacct_state[$id]=${state%% *} sacct_partition[$id]=$partition sacct_qos[$id]=$qos sacct_answered=1
    mem_mib "$mem" "$cpus"
    time_seconds "$time"
    sacct_mem[$id]=$mib sacct_time[$id]=$seconds
  done <<<"$out"
}

# Sets `cell_state` and `detail` for one cell from the queue snapshot, sacct's states and
# the marks the scripts leave beside their logs.
cell_status() {
  local index=$1 path job reason mark state
  path="$EXPERIMENT_DIR/${cell_script[$1]}"
  detail=''
  if [ -n "${queued_id[$path]:-}" ]; then
    job=${queued_id[$path]}
    case "${queued_state[$path]}" in
      PENDING)
        cell_state=pending reason=${queued_reason[$path]}
        if [ "$reason" = Dependency ] && [[ ${queued_dependency[$path]} =~ ([0-9]+) ]]; then
          detail="job $job, waiting for training job ${BASH_REMATCH[1]}"
        else
          detail="job $job ($reason)"
        fi ;;
      *) cell_state=running detail="job $job (${queued_state[$path],,})" ;;
    esac
    return
  fi
  if finished "$index"; then
    cell_state='done'
    return
  fi
  if stale "$index"; then
    cell_state=stale detail="$stale_reason: --only-missing evaluates it again"
    return
  fi
  recorded_job "$index"
  state=''
  [ -z "$job" ] || state=${sacct_state[$job]:-}
  if [ -f "${cell_failed[index]}" ]; then
    read -r mark <"${cell_failed[index]}"
    cell_state=failed detail="${job:+job $job${state:+ $state}: }$mark"
    return
  fi
  case "$state" in
    FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|BOOT_FAIL|DEADLINE|PREEMPTED)
      cell_state=failed detail="job $job $state (sacct)"
      return ;;
    COMPLETED)
      cell_state=failed detail="job $job COMPLETED but left no done mark"
      return ;;
  esac
  find_cell_logs "${cell_logs[$index]}" "${cell_name[$index]}"
  if [ ${#CELL_LOGS[@]} -gt 0 ]; then
    cell_state=failed detail="${CELL_LOGS[-1]} has no done mark: the job ended before judging it"
    return
  fi
  if [ "${cell_epoch[index]}" != base ] && [ ! -d "${cell_checkpoint[index]}" ]; then
    find_training "${cell_run_dir[index]}" "${cell_run[index]}"
    state=${job_state[${training:-none}]:-}
    cell_state="checkpoint missing"
    detail="${cell_checkpoint[index]}${training:+ (fine-tuning job $training${state:+ is ${state,,}})}"
    return
  fi
  cell_state="not submitted"
}

# Under a cell submitted more than once, a line per job: its state and what it asked for.
show_attempts() {
  local file=${cell_attempts[$1]} id state mem time number=0 lines=() options line
  [ -f "$file" ] || return 0
  while read -r id state mem time _; do
    [[ $id =~ ^[0-9]+$ ]] || continue
    number=$((number + 1)) options=()
    [ "$state" != - ] || state=${sacct_state[$id]:-${job_state[$id]:-unknown}}
    [ "$mem" = - ] || options+=(--mem="$mem")
    [ "$time" = - ] || options+=(--time="$time")
    printf -v line '%-18s attempt %d: job %s %s, %s' '' "$number" "$id" "$state" "${options[*]:-as its script asks}"
    lines+=("$line")
  done <"$file"
  [ "$number" -gt 1 ] || return 0
  printf '%s\n' "${lines[@]}"
}

show_status() {
  local index state
  declare -A counts=()
  read_queue || echo "warning: squeue failed: pending and running cells are not shown as such" >&2
  read_sacct
  for index in "${chosen[@]}"; do
    cell_status "$index"
    counts[$cell_state]=$((${counts[$cell_state]:-0} + 1))
    printf '%-18s %s\n' "$cell_state" "${cell_script[index]}${detail:+: $detail}"
    show_attempts "$index"
  done
  printf '%s cells:' "${#chosen[@]}"
  for state in 'done' stale failed running pending "not submitted" "checkpoint missing"; do
    printf ' %s %s,' "${counts[$state]:-0}" "$state"
  done | sed 's/,$//'
  echo
  if [ "${counts[done]:-0}" -eq ${#chosen[@]} ]; then return 0; fi
  if [ "${counts[failed]:-0}" -gt 0 ]; then return 1; fi
  return 6
}

if [ "$show_status" -eq 1 ]; then
  show_status
  exit
fi
# A dry run submits nothing, so it needs no lock.
if [ "$dry_run" -eq 0 ]; then
  if ! command -v flock >/dev/null 2>&1; then
    echo "warning: flock not found: a second submit_evals.sh running at the same time could submit a cell twice" >&2
  elif ! exec {lock_fd}<"$LOCK_FILE"; then
    echo "error: cannot read $LOCK_FILE to lock it" >&2
    exit 1
  elif ! flock --nonblock "$lock_fd"; then
    echo "error: another submit_evals.sh is submitting in this experiment (a --watch in another terminal?): nothing was submitted; run this again once it has stopped" >&2
    exit 7
  fi
fi
submit_all
